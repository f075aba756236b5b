//! How far a running plan has got, read from its scans' metrics while it runs.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::metrics::MetricValue;
use datafusion::physical_plan::{
    ExecutionPlan, ExecutionPlanProperties, SendableRecordBatchStream, execute_stream,
};

use super::{Engine, EngineError};
use crate::spec::JobSpec;

/// A physical plan ready to run, kept so that its metrics can be read while it runs.
pub struct Prepared {
    pub plan: Arc<dyn ExecutionPlan>,
    task: Arc<TaskContext>,
}

impl Prepared {
    pub fn stream(&self) -> Result<SendableRecordBatchStream, EngineError> {
        Ok(execute_stream(self.plan.clone(), self.task.clone())?)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanProgress {
    pub partitions_done: u64,
    pub partitions_total: u64,
    pub rows_read: u64,
    /// Bytes of the input files (or file ranges) of finished scan partitions.
    pub bytes_read: u64,
}

impl Engine {
    /// Plans a spec for running. The first try runs on every partition without spilling; a
    /// job that does not fit in memory then fails fast with `ResourcesExhausted`. `frugal`
    /// is for the second try: one partition (so one operator of each kind shares the pool),
    /// spilling, small batches, a third of the pool kept for merging sorted spill files, and
    /// sort-merge joins, which spill, instead of hash joins, whose build side must fit.
    pub async fn prepare(
        &self,
        spec: &JobSpec,
        tenant: &str,
        frugal: bool,
    ) -> Result<Prepared, EngineError> {
        let scope = self.scope(tenant)?;
        let ctx = if frugal {
            let ctx = self.session_with_partitions(1);
            {
                let state = ctx.state_ref();
                let mut state = state.write();
                let options = state.config_mut().options_mut();
                options.optimizer.prefer_hash_join = false;
                options.set("datafusion.execution.batch_size", "1024")?;
                let merge_reserve = (self.memory_limit / 3).to_string();
                options.set(
                    "datafusion.execution.sort_spill_reservation_bytes",
                    &merge_reserve,
                )?;
            }
            ctx
        } else {
            self.unspilled_session()
        };
        let frame = self.plan_in(&ctx, spec, &scope).await?;
        let task = Arc::new(frame.task_ctx());
        let plan = frame.create_physical_plan().await?;
        Ok(Prepared { plan, task })
    }
}

/// Sums the scans (the plan's leaves): their partitions, those that finished, and what they
/// read.
pub fn scan_progress(plan: &Arc<dyn ExecutionPlan>) -> ScanProgress {
    let children = plan.children();
    if !children.is_empty() {
        return children
            .into_iter()
            .map(scan_progress)
            .fold(ScanProgress::default(), |a, b| ScanProgress {
                partitions_done: a.partitions_done + b.partitions_done,
                partitions_total: a.partitions_total + b.partitions_total,
                rows_read: a.rows_read + b.rows_read,
                bytes_read: a.bytes_read + b.bytes_read,
            });
    }
    let mut progress = ScanProgress {
        partitions_total: plan.output_partitioning().partition_count() as u64,
        ..ScanProgress::default()
    };
    let Some(metrics) = plan.metrics() else {
        return progress;
    };
    progress.rows_read = metrics.output_rows().unwrap_or(0) as u64;
    let finished: BTreeSet<usize> = metrics
        .iter()
        .filter(|m| matches!(m.value(), MetricValue::EndTimestamp(t) if t.value().is_some()))
        .filter_map(|m| m.partition())
        .collect();
    progress.partitions_done = finished.len() as u64;
    progress.bytes_read = finished.iter().map(|&p| partition_bytes(plan, p)).sum();
    progress
}

fn partition_bytes(plan: &Arc<dyn ExecutionPlan>, partition: usize) -> u64 {
    let Some(source) = plan.downcast_ref::<DataSourceExec>() else {
        return 0;
    };
    let Some(config) = source.data_source().downcast_ref::<FileScanConfig>() else {
        return 0;
    };
    config.file_groups.get(partition).map_or(0, |group| {
        group
            .files()
            .iter()
            .map(|f| match &f.range {
                Some(range) => (range.end - range.start).max(0) as u64,
                None => f.object_meta.size,
            })
            .sum()
    })
}

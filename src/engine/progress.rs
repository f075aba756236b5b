//! How far a running plan has got, read from its scans' metrics while it runs.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfig};
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::metrics::MetricValue;
use datafusion::physical_plan::{
    ExecutionPlan, ExecutionPlanProperties, SendableRecordBatchStream, execute_stream,
};

use super::distributed::{RemoteJob, Stages};
use super::{Engine, EngineError};
use crate::spec::JobSpec;

/// A physical plan ready to run, kept so that its metrics can be read while it runs.
pub struct Prepared {
    pub plan: Arc<dyn ExecutionPlan>,
    task: Arc<TaskContext>,
    /// The job on a Ballista cluster that the plan stands for, if it is distributed.
    remote: Option<RemoteJob>,
}

impl Prepared {
    pub(super) fn local(plan: Arc<dyn ExecutionPlan>, task: Arc<TaskContext>) -> Prepared {
        Prepared {
            plan,
            task,
            remote: None,
        }
    }

    pub(super) fn remote(
        plan: Arc<dyn ExecutionPlan>,
        task: Arc<TaskContext>,
        job: RemoteJob,
    ) -> Prepared {
        Prepared {
            plan,
            task,
            remote: Some(job),
        }
    }

    pub fn stream(&self) -> Result<SendableRecordBatchStream, EngineError> {
        let batches = execute_stream(self.plan.clone(), self.task.clone())?;
        Ok(match &self.remote {
            Some(job) => job.stream(batches),
            None => batches,
        })
    }

    /// The stages of the job on a Ballista cluster, where the plan is distributed.
    pub fn stages(&self) -> Option<Arc<Stages>> {
        self.remote.as_ref().map(|job| job.stages.clone())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanProgress {
    pub partitions_done: u64,
    pub partitions_total: u64,
    /// Files (or file ranges) the scans have finished, of all they read.
    pub files_done: u64,
    pub files_total: u64,
    pub rows_read: u64,
    /// Bytes of the input files (or file ranges) of finished scan partitions.
    pub bytes_read: u64,
}

impl Engine {
    /// Plans a spec for running. The first try runs on every partition without spilling; a
    /// job that does not fit in memory then fails fast with `ResourcesExhausted`. `frugal`
    /// is for the second try: one partition (so one operator of each kind shares the pool),
    /// spilling, small batches, a third of the pool kept for merging sorted spill files, and
    /// sort-merge joins, which spill, instead of hash joins, whose build side must fit. A job
    /// on a Ballista cluster is planned for the cluster, which has no frugal second try.
    pub async fn prepare(
        &self,
        spec: &JobSpec,
        tenant: &str,
        frugal: bool,
    ) -> Result<Prepared, EngineError> {
        let scope = self.scope(tenant)?;
        if let Some(cluster) = self.cluster_for(spec)? {
            let frame = self.plan_in(&self.cluster_session(), spec, &scope).await?;
            return cluster.prepare(frame).await;
        }
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
        let plan = self.on_device(spec, plan, task.session_config().options())?;
        Ok(Prepared::local(plan, task))
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
                files_done: a.files_done + b.files_done,
                files_total: a.files_total + b.files_total,
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
    // A scan opens a stream per file, each registering its own start and end: a partition is
    // finished once every stream it opened has ended.
    let mut open: BTreeMap<usize, i64> = BTreeMap::new();
    let mut files_done: BTreeMap<usize, usize> = BTreeMap::new();
    for m in metrics.iter() {
        let Some(partition) = m.partition() else {
            continue;
        };
        match m.value() {
            MetricValue::Count { name, count } if name == "files_processed" => {
                *files_done.entry(partition).or_default() += count.value()
            }
            MetricValue::StartTimestamp(_) => *open.entry(partition).or_default() += 1,
            MetricValue::EndTimestamp(t) if t.value().is_some() => {
                *open.entry(partition).or_default() -= 1
            }
            _ => {}
        }
    }
    let finished: BTreeSet<usize> = open
        .into_iter()
        .filter(|&(_, still_open)| still_open <= 0)
        .map(|(partition, _)| partition)
        .collect();
    progress.partitions_done = finished.len() as u64;
    let Some(groups) = file_groups(plan) else {
        return progress;
    };
    for (partition, group) in groups.iter().enumerate() {
        let files = group.files();
        // Finished partitions count whole; running ones the files they finished, in order.
        let done = if finished.contains(&partition) {
            files.len()
        } else {
            files_done
                .get(&partition)
                .copied()
                .unwrap_or(0)
                .min(files.len())
        };
        progress.files_total += files.len() as u64;
        progress.files_done += done as u64;
        progress.bytes_read += files[..done].iter().map(file_bytes).sum::<u64>();
    }
    progress
}

fn file_groups(plan: &Arc<dyn ExecutionPlan>) -> Option<&[FileGroup]> {
    let source = plan.downcast_ref::<DataSourceExec>()?;
    let config = source.data_source().downcast_ref::<FileScanConfig>()?;
    Some(&config.file_groups)
}

fn file_bytes(file: &PartitionedFile) -> u64 {
    match &file.range {
        Some(range) => (range.end - range.start).max(0) as u64,
        None => file.object_meta.size,
    }
}

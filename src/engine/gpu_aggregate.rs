//! Partial group-by aggregation on a GPU. On a worker with a device, for a job that wants one
//! (`resources.gpu`), the rule replaces each partial `AggregateExec` whose keys are integers
//! and whose aggregates are `count`, `sum`, `avg` (numbers) or `min`/`max` (integers) with
//! `GpuAggregateExec`. That node gathers its input into chunks as large as the device's memory
//! limit allows, aggregates each chunk on the device, and emits exactly the partial
//! aggregation's state (the same schema), so the final aggregation after it is unchanged.
//! A chunk the device cannot take (nulls, keys too wide for a 63-bit group code, a driver
//! error such as running out of memory) runs through DataFusion's own partial aggregation
//! instead: the answer never depends on where a chunk ran.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch, UInt64Array};
use arrow::compute::{cast, concat_batches};
use arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, Result};
use datafusion::config::ConfigOptions;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties,
    ReplaceChildrenOptions, SendableRecordBatchStream, collect,
};
use futures::StreamExt;

use super::dense_groupby::DenseGroupByExec;
use crate::gpu::{self, Accelerator, GroupInput, KeyColumn, Reduce, State, Values};

/// Rows per chunk at most, however much memory the device has: a chunk's slots are 32-bit.
const MAX_CHUNK_ROWS: usize = 1 << 26;

/// Puts covered partial aggregations on `device`.
#[derive(Debug)]
pub struct GpuAggregates {
    device: Arc<dyn Accelerator>,
}

impl GpuAggregates {
    pub fn new(device: Arc<dyn Accelerator>) -> GpuAggregates {
        GpuAggregates { device }
    }
}

impl PhysicalOptimizerRule for GpuAggregates {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let aggregate = match node.downcast_ref::<DenseGroupByExec>() {
                Some(dense) => Some(dense.aggregate()),
                None => node.downcast_ref::<AggregateExec>(),
            };
            match aggregate.and_then(|a| Aggregation::of(a).map(|how| (a, how))) {
                Some((aggregate, how)) => Ok(Transformed::yes(Arc::new(GpuAggregateExec {
                    inner: Arc::new(aggregate.clone()),
                    how,
                    device: self.device.clone(),
                    metrics: ExecutionPlanMetricsSet::new(),
                })
                    as Arc<dyn ExecutionPlan>)),
                None => Ok(Transformed::no(node)),
            }
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "gpu_aggregates"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// What the device computes for one aggregate, and the state columns it becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    Count,
    Sum,
    Min,
    Max,
    /// State: (count, sum).
    Avg,
}

/// A partial aggregation the device covers: its key columns' and aggregates' shapes.
#[derive(Debug, Clone)]
struct Aggregation {
    functions: Vec<Function>,
}

impl Aggregation {
    /// `None` where the device does not cover the aggregation (it then stays on the CPU).
    fn of(aggregate: &AggregateExec) -> Option<Aggregation> {
        let group_by = aggregate.group_expr();
        let input = aggregate.input().schema();
        let covered = *aggregate.mode() == AggregateMode::Partial
            && !group_by.expr().is_empty()
            && group_by.is_single()
            && aggregate.limit_options().is_none()
            && aggregate.filter_expr().iter().all(Option::is_none)
            && group_by
                .expr()
                .iter()
                .all(|(key, _)| key.data_type(&input).is_ok_and(|t| is_key_type(&t)));
        if !covered {
            return None;
        }
        let functions = aggregate
            .aggr_expr()
            .iter()
            .map(|a| {
                if a.is_distinct() || !a.order_bys().is_empty() || a.expressions().len() != 1 {
                    return None;
                }
                let argument = a.expressions()[0].data_type(&input).ok()?;
                let states = a.state_fields().ok()?.len();
                let function = match (a.fun().name(), states) {
                    ("count", 1) => Function::Count,
                    ("sum", 1) if is_number(&argument) => Function::Sum,
                    ("avg", 2) if is_number(&argument) => Function::Avg,
                    ("min", 1) if is_key_type(&argument) => Function::Min,
                    ("max", 1) if is_key_type(&argument) => Function::Max,
                    _ => return None,
                };
                Some(function)
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Aggregation { functions })
    }
}

/// Integers that widen to `i64` without loss.
fn is_key_type(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
    )
}

fn is_number(t: &DataType) -> bool {
    is_key_type(t) || matches!(t, DataType::Float32 | DataType::Float64)
}

/// A partial aggregation run on a device, chunk by chunk.
#[derive(Debug)]
pub struct GpuAggregateExec {
    /// The aggregation replaced: its expressions and schema, and what a chunk the device
    /// cannot take runs through.
    inner: Arc<AggregateExec>,
    how: Aggregation,
    device: Arc<dyn Accelerator>,
    metrics: ExecutionPlanMetricsSet,
}

impl GpuAggregateExec {
    /// The device it runs on, as task spans and plans show it.
    pub fn device(&self) -> String {
        self.device.info().to_string()
    }

    /// Rows a chunk may have so that its columns, codes, slots, hash table and states fit in
    /// the device's memory limit.
    fn chunk_rows(&self) -> usize {
        let keys = self.inner.group_expr().expr().len();
        let aggregates = self.how.functions.len();
        let per_row = 8 * (keys + aggregates) + 8 + 4 + 2 * 8 * (2 + aggregates);
        let rows = self.device.memory_limit() as usize / per_row;
        rows.clamp(1, MAX_CHUNK_ROWS)
    }
}

impl DisplayAs for GpuAggregateExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let keys: Vec<&str> = self
            .inner
            .group_expr()
            .expr()
            .iter()
            .map(|(_, name)| name.as_str())
            .collect();
        let aggregates: Vec<&str> = self.inner.aggr_expr().iter().map(|a| a.name()).collect();
        match t {
            DisplayFormatType::TreeRender => write!(f, "device={}", self.device()),
            _ => write!(
                f,
                "GpuAggregateExec: device={}, mode=Partial, gby=[{}], aggr=[{}]",
                self.device(),
                keys.join(", "),
                aggregates.join(", ")
            ),
        }
    }
}

impl ExecutionPlan for GpuAggregateExec {
    fn name(&self) -> &str {
        "GpuAggregateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.inner.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![self.inner.input()]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.inner.apply_expressions(f)
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let inner = self.inner.clone().replace_children(children, options)?;
        match inner.downcast_ref::<AggregateExec>() {
            Some(aggregate) => Ok(Arc::new(GpuAggregateExec {
                inner: Arc::new(aggregate.clone()),
                how: self.how.clone(),
                device: self.device.clone(),
                metrics: ExecutionPlanMetricsSet::new(),
            })),
            None => Ok(inner),
        }
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.inner.input().execute(partition, context.clone())?;
        let chunk = Chunk {
            inner: self.inner.clone(),
            how: self.how.clone(),
            device: self.device.clone(),
            context,
            baseline: BaselineMetrics::new(&self.metrics, partition),
            device_rows: MetricBuilder::new(&self.metrics).counter("gpu_rows", partition),
            cpu_rows: MetricBuilder::new(&self.metrics).counter("cpu_rows", partition),
        };
        let schema = self.schema();
        let rows = self.chunk_rows();
        let gathering = Gathering {
            input,
            rows,
            leftover: None,
            ended: false,
        };
        let output =
            futures::stream::unfold((gathering, chunk), |(mut gathering, chunk)| async move {
                match gathering.next_chunk().await {
                    Ok(batches) if batches.is_empty() => {
                        chunk.baseline.done();
                        None
                    }
                    Ok(batches) => {
                        let out = chunk.aggregate(batches).await;
                        Some((out, (gathering, chunk)))
                    }
                    Err(error) => {
                        gathering.ended = true;
                        Some((Err(error), (gathering, chunk)))
                    }
                }
            });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, output)))
    }
}

/// A partition's input cut into chunks of `rows` rows (the last may have fewer).
struct Gathering {
    input: SendableRecordBatchStream,
    rows: usize,
    /// What the last batch had beyond the previous chunk.
    leftover: Option<RecordBatch>,
    ended: bool,
}

impl Gathering {
    /// The next chunk's batches; none at the end of the input.
    async fn next_chunk(&mut self) -> Result<Vec<RecordBatch>> {
        let mut batches = Vec::new();
        let mut gathered = 0;
        while gathered < self.rows {
            let batch = match self.leftover.take() {
                Some(batch) => batch,
                None if self.ended => break,
                None => match self.input.next().await {
                    Some(batch) => batch?,
                    None => {
                        self.ended = true;
                        break;
                    }
                },
            };
            let take = batch.num_rows().min(self.rows - gathered);
            if take < batch.num_rows() {
                self.leftover = Some(batch.slice(take, batch.num_rows() - take));
            }
            gathered += take;
            batches.push(batch.slice(0, take));
        }
        Ok(batches)
    }
}

/// What one partition's stream needs to aggregate a chunk.
struct Chunk {
    inner: Arc<AggregateExec>,
    how: Aggregation,
    device: Arc<dyn Accelerator>,
    context: Arc<TaskContext>,
    baseline: BaselineMetrics,
    device_rows: Count,
    cpu_rows: Count,
}

impl Chunk {
    async fn aggregate(&self, batches: Vec<RecordBatch>) -> Result<RecordBatch> {
        let batch = concat_batches(&self.inner.input().schema(), &batches)?;
        let rows = batch.num_rows();
        if rows == 0 {
            return Ok(RecordBatch::new_empty(self.inner.schema()));
        }
        let on_device = {
            let _timer = self.baseline.elapsed_compute().timer();
            self.on_device(&batch)
        };
        let out = match on_device {
            Ok(Some(out)) => {
                self.device_rows.add(rows);
                out
            }
            Ok(None) => self.on_cpu(batch).await?,
            Err(error) => {
                tracing::warn!(%error, device = %self.device.info(),
                    "a chunk ran on the CPU instead of the GPU");
                self.on_cpu(batch).await?
            }
        };
        self.baseline.record_output(out.num_rows());
        Ok(out)
    }

    /// DataFusion's own partial aggregation over the chunk.
    async fn on_cpu(&self, batch: RecordBatch) -> Result<RecordBatch> {
        self.cpu_rows.add(batch.num_rows());
        let schema = batch.schema();
        let source = MemorySourceConfig::try_new_exec(&[vec![batch]], schema, None)?;
        let plan = self.inner.clone().replace_children(
            vec![source],
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )?;
        let batches = collect(plan, self.context.clone()).await?;
        Ok(concat_batches(&self.inner.schema(), &batches)?)
    }

    /// The chunk's partial aggregates from the device; `None` where it cannot take them.
    fn on_device(&self, batch: &RecordBatch) -> Result<Option<RecordBatch>, gpu::GpuError> {
        let Some(columns) = Columns::of(&self.inner, batch).map_err(unsupported)? else {
            return Ok(None);
        };
        let Some(input) = columns.input(&self.how) else {
            return Ok(None);
        };
        let groups = self.device.group_aggregate(&input)?;
        columns
            .output(&self.inner.schema(), &self.how, &input, groups)
            .map(Some)
            .map_err(unsupported)
    }
}

fn unsupported(error: DataFusionError) -> gpu::GpuError {
    gpu::GpuError::Unsupported(error.to_string())
}

/// A chunk's key and argument columns, widened for the device.
struct Columns {
    keys: Vec<(Vec<i64>, DataType)>,
    arguments: Vec<Argument>,
}

enum Argument {
    I64(Vec<i64>),
    F64(Vec<f64>),
}

impl Columns {
    /// `None` where a key or an argument has nulls (the CPU counts and skips them).
    fn of(aggregate: &AggregateExec, batch: &RecordBatch) -> Result<Option<Columns>> {
        let rows = batch.num_rows();
        let evaluate = |e: &Arc<dyn PhysicalExpr>| e.evaluate(batch)?.into_array(rows);
        let mut keys = Vec::new();
        for (expr, _) in aggregate.group_expr().expr() {
            let array = evaluate(expr)?;
            if array.null_count() > 0 {
                return Ok(None);
            }
            keys.push((widen_ints(&array)?, array.data_type().clone()));
        }
        let mut arguments = Vec::new();
        for a in aggregate.aggr_expr() {
            let array = evaluate(&a.expressions()[0])?;
            if array.null_count() > 0 {
                return Ok(None);
            }
            arguments.push(match array.data_type() {
                DataType::Float32 | DataType::Float64 => Argument::F64(widen_floats(&array)?),
                _ => Argument::I64(widen_ints(&array)?),
            });
        }
        Ok(Some(Columns { keys, arguments }))
    }

    /// The device's input: keys packed by their ranges in this chunk; `None` where the codes
    /// would need more than 63 bits.
    fn input(&self, how: &Aggregation) -> Option<GroupInput<'_>> {
        let mut shift = 0u32;
        let mut keys = Vec::new();
        for (values, _) in &self.keys {
            let min = values.iter().copied().min().unwrap_or(0);
            let max = values.iter().copied().max().unwrap_or(0);
            let span = u64::try_from(i128::from(max) - i128::from(min)).ok()?;
            keys.push(KeyColumn { values, min, shift });
            shift += gpu::bits_for(span);
            if shift > 63 {
                return None;
            }
        }
        let values: Vec<Values<'_>> = self
            .arguments
            .iter()
            .map(|a| match a {
                Argument::I64(v) => Values::I64(v),
                Argument::F64(v) => Values::F64(v),
            })
            .collect();
        let mut aggregates = Vec::new();
        for (column, function) in how.functions.iter().enumerate() {
            let reduce = |reduce| gpu::Aggregate { reduce, column };
            match function {
                Function::Count => aggregates.push(reduce(Reduce::Count)),
                Function::Sum => aggregates.push(reduce(Reduce::Sum)),
                Function::Min => aggregates.push(reduce(Reduce::Min)),
                Function::Max => aggregates.push(reduce(Reduce::Max)),
                Function::Avg => {
                    aggregates.push(reduce(Reduce::Count));
                    aggregates.push(reduce(Reduce::Sum));
                }
            }
        }
        Some(GroupInput {
            rows: self.keys.first().map_or(0, |(k, _)| k.len()),
            keys,
            code_bits: shift,
            values,
            aggregates,
        })
    }

    /// The device's groups as the partial aggregation's batch: keys decoded from the codes,
    /// then each aggregate's state columns, cast to the schema's types.
    fn output(
        &self,
        schema: &SchemaRef,
        how: &Aggregation,
        input: &GroupInput<'_>,
        groups: gpu::Groups,
    ) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (i, (key, (_, data_type))) in input.keys.iter().zip(&self.keys).enumerate() {
            let next_shift = input.keys.get(i + 1).map_or(input.code_bits, |k| k.shift);
            let mask = (1u64 << (next_shift - key.shift)) - 1;
            let values: Int64Array = groups
                .codes
                .iter()
                .map(|code| key.min.wrapping_add(((code >> key.shift) & mask) as i64))
                .collect();
            columns.push(cast(&values, data_type)?);
        }
        let mut states = groups.states.into_iter();
        for function in &how.functions {
            let count = matches!(function, Function::Avg).then(|| states.next());
            if let Some(Some(State::Count(counts))) = count {
                columns.push(Arc::new(UInt64Array::from(counts)));
            }
            let Some(state) = states.next() else {
                return Err(DataFusionError::Internal(
                    "too few states from the device".into(),
                ));
            };
            columns.push(match state {
                State::Count(counts) => Arc::new(Int64Array::from(
                    counts.into_iter().map(|c| c as i64).collect::<Vec<_>>(),
                )),
                State::I64(values) => Arc::new(Int64Array::from(values)),
                State::F64(values) => Arc::new(Float64Array::from(values)),
            });
        }
        let columns = columns
            .iter()
            .zip(schema.fields())
            .map(|(column, field)| cast(column, field.data_type()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RecordBatch::try_new(schema.clone(), columns)?)
    }
}

fn widen_ints(array: &ArrayRef) -> Result<Vec<i64>> {
    let wide = cast(array, &DataType::Int64)?;
    let wide = wide
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| DataFusionError::Internal("an integer column did not widen".into()))?;
    Ok(wide.values().to_vec())
}

fn widen_floats(array: &ArrayRef) -> Result<Vec<f64>> {
    let wide = cast(array, &DataType::Float64)?;
    let wide = wide
        .as_any()
        .downcast_ref::<Float64Array>()
        .ok_or_else(|| DataFusionError::Internal("a float column did not widen".into()))?;
    Ok(wide.values().to_vec())
}

#[cfg(test)]
mod tests {
    use arrow::array::{Float64Array, Int32Array, StringArray};
    use arrow::datatypes::{Field, Schema};
    use arrow::util::pretty::pretty_format_batches;
    use datafusion::datasource::MemTable;
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::{SessionConfig, SessionContext};

    use super::*;
    use crate::gpu::reference::CpuStub;

    /// 2,000 rows: two integer keys (one negative), float and integer values, a string.
    fn rows(nulls: bool) -> RecordBatch {
        let n = 2000;
        let schema = Arc::new(Schema::new(vec![
            Field::new("k1", DataType::Int32, false),
            Field::new("k2", DataType::Int64, false),
            Field::new("v", DataType::Float64, false),
            Field::new("n", DataType::Int64, true),
            Field::new("s", DataType::Utf8, false),
        ]));
        let k1: Int32Array = (0..n).map(|i| i % 7).collect();
        let k2: Int64Array = (0..n).map(|i| i64::from((i * 13) % 11) - 5).collect();
        let v: Float64Array = (0..n).map(|i| f64::from(i % 17) * 0.25).collect();
        let values: Int64Array = (0..n)
            .map(|i| (!nulls || i % 97 != 0).then_some(i64::from((i * 7919) % 1000) - 500))
            .collect();
        let s: StringArray = (0..n).map(|i| Some(format!("s{}", i % 3))).collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(k1),
            Arc::new(k2),
            Arc::new(v),
            Arc::new(values),
            Arc::new(s),
        ];
        RecordBatch::try_new(schema, columns).unwrap()
    }

    /// The query's plan (with a device: after the rule) and its answer, as text.
    async fn run(
        sql: &str,
        batch: RecordBatch,
        device: Option<Arc<dyn Accelerator>>,
    ) -> (Arc<dyn ExecutionPlan>, String) {
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
        let parts: Vec<Vec<RecordBatch>> = (0..2)
            .map(|p| {
                (0..2)
                    .map(|b| batch.slice((p * 2 + b) * 500, 500))
                    .collect()
            })
            .collect();
        let table = MemTable::try_new(batch.schema(), parts).unwrap();
        ctx.register_table("t", Arc::new(table)).unwrap();
        let mut plan = ctx
            .sql(sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        if let Some(device) = device {
            plan = GpuAggregates::new(device)
                .optimize(plan, ctx.state().config_options())
                .unwrap();
        }
        let batches = collect(plan.clone(), ctx.task_ctx()).await.unwrap();
        (plan, pretty_format_batches(&batches).unwrap().to_string())
    }

    fn stub(memory_limit: u64) -> Arc<dyn Accelerator> {
        Arc::new(CpuStub::new(Some(memory_limit)))
    }

    fn shown(plan: &Arc<dyn ExecutionPlan>) -> String {
        displayable(plan.as_ref()).indent(true).to_string()
    }

    /// The GPU node's rows on the device and on the CPU.
    fn rows_where(plan: &Arc<dyn ExecutionPlan>) -> (usize, usize) {
        let mut found = (0, 0);
        plan.apply(|node| {
            if let Some(gpu) = node.downcast_ref::<GpuAggregateExec>() {
                let metrics = gpu.metrics().unwrap();
                found.0 += metrics.sum_by_name("gpu_rows").map_or(0, |m| m.as_usize());
                found.1 += metrics.sum_by_name("cpu_rows").map_or(0, |m| m.as_usize());
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .unwrap();
        found
    }

    const COVERED: &str = "SELECT k1, k2, count(*) AS c, count(n) AS cn, sum(v) AS sv, \
        sum(n) AS sn, avg(v) AS av, avg(n) AS an, min(n) AS mn, max(n) AS mx \
        FROM t GROUP BY k1, k2 ORDER BY k1, k2";

    #[tokio::test]
    async fn covered_aggregations_run_on_the_device_with_the_cpu_answer() {
        let (_, expected) = run(COVERED, rows(false), None).await;
        // A few kB of device memory: chunks of a few rows, many partial rows per group.
        let (plan, answer) = run(COVERED, rows(false), Some(stub(4 << 10))).await;
        assert!(
            shown(&plan).contains("GpuAggregateExec: device=stub:0"),
            "{}",
            shown(&plan)
        );
        assert_eq!(answer, expected);
        assert_eq!(rows_where(&plan), (2000, 0));
        // One chunk per partition.
        let (plan, answer) = run(COVERED, rows(false), Some(stub(1 << 30))).await;
        assert_eq!(answer, expected);
        assert_eq!(rows_where(&plan), (2000, 0));
    }

    #[tokio::test]
    async fn chunks_with_nulls_run_on_the_cpu_with_the_same_answer() {
        let (_, expected) = run(COVERED, rows(true), None).await;
        let (plan, answer) = run(COVERED, rows(true), Some(stub(16 << 10))).await;
        assert_eq!(answer, expected);
        let (gpu, cpu) = rows_where(&plan);
        assert_eq!(gpu + cpu, 2000);
        assert!(gpu > 0 && cpu > 0, "gpu {gpu}, cpu {cpu}");
    }

    #[tokio::test]
    async fn uncovered_aggregations_stay_on_the_cpu() {
        for sql in [
            "SELECT s, sum(v) FROM t GROUP BY s ORDER BY s",
            "SELECT k1, bit_and(n) FROM t GROUP BY k1 ORDER BY k1",
            "SELECT k1, min(v) FROM t GROUP BY k1 ORDER BY k1",
            "SELECT k1, median(v) FROM t GROUP BY k1 ORDER BY k1",
            "SELECT sum(v) FROM t",
        ] {
            let (_, expected) = run(sql, rows(false), None).await;
            let (plan, answer) = run(sql, rows(false), Some(stub(1 << 20))).await;
            assert!(
                !shown(&plan).contains("GpuAggregateExec"),
                "{sql}: {}",
                shown(&plan)
            );
            assert_eq!(answer, expected, "{sql}");
        }
    }
}

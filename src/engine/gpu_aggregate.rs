//! Partial group-by aggregation on a GPU. On a worker with a device, for a job that wants one
//! (`resources.gpu`), the rule replaces each partial `AggregateExec` whose keys are integers or
//! strings (grouped by dictionary codes) and whose aggregates are `count`, `sum`, `avg`
//! (numbers) or `min`/`max` (integers) with `GpuAggregateExec`. That node gathers its input
//! into chunks as large as the device's memory limit allows, aggregates each chunk on the
//! device, and emits exactly the partial aggregation's state (the same schema), so the final
//! aggregation after it is unchanged. A chunk the device cannot take (nulls, keys too wide for
//! a 63-bit group code, a driver error such as running out of memory) runs through
//! DataFusion's own partial aggregation instead: the answer does not depend on where a chunk
//! ran (except, for float sums and means, in the last bits: the device adds in whatever order
//! its atomics land).

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, UInt64Array};
use arrow::compute::{cast, concat_batches, take};
use arrow::datatypes::{ArrowPrimitiveType, DataType, Float64Type, Int64Type, SchemaRef};
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, Result};
use datafusion::config::ConfigOptions;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{BinaryExpr, CastExpr, Column, Literal};
use datafusion::physical_expr::utils::split_conjunction;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::InputOrderMode;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::filter::FilterExec;
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
use crate::gpu::{self, Accelerator, Comparison, GroupInput, KeyColumn, Reduce, State, Values};

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
                    fused: Fused::below(aggregate),
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
    /// Value columns sent to the device (a count reads none).
    fn values(&self) -> usize {
        self.functions
            .iter()
            .filter(|f| **f != Function::Count)
            .count()
    }

    /// States the device computes (a mean is a count and a sum).
    fn device_states(&self) -> usize {
        self.functions
            .iter()
            .map(|f| if *f == Function::Avg { 2 } else { 1 })
            .sum()
    }

    /// `None` where the device does not cover the aggregation (it then stays on the CPU).
    fn of(aggregate: &AggregateExec) -> Option<Aggregation> {
        let group_by = aggregate.group_expr();
        let input = aggregate.input().schema();
        // A sorted input lets the CPU's aggregation stream its groups in key order, and the
        // plan above may rely on that order; the device's groups come in no order.
        let covered = *aggregate.mode() == AggregateMode::Partial
            && *aggregate.input_order_mode() == InputOrderMode::Linear
            && !group_by.expr().is_empty()
            && group_by.is_single()
            && aggregate.limit_options().is_none()
            && aggregate.filter_expr().iter().all(Option::is_none)
            && group_by.expr().iter().all(|(key, _)| {
                key.data_type(&input)
                    .is_ok_and(|t| is_key_type(&t) || is_string(&t))
            });
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

/// Strings group by dictionary codes: a dictionary column's own, or codes given on the host.
fn is_string(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(key, value) => key.is_integer() && is_string(value),
        _ => false,
    }
}

fn is_number(t: &DataType) -> bool {
    is_key_type(t) || matches!(t, DataType::Float32 | DataType::Float64)
}

/// A filter right below the aggregation whose conditions the device checks itself, so the
/// rows it drops are never gathered apart: a conjunction of `column op literal`, the column
/// an integer, a float or (for `=` and `!=`) a string.
#[derive(Debug, Clone)]
struct Fused {
    filter: Arc<FilterExec>,
    conditions: Vec<Comparing>,
    /// The columns the filter passes on (its projection), where it drops some.
    projection: Option<Vec<usize>>,
}

/// One condition: the column's index in the filter's input, the comparison, the literal.
#[derive(Debug, Clone)]
struct Comparing {
    column: usize,
    op: Comparison,
    literal: ScalarValue,
}

impl Fused {
    fn below(aggregate: &AggregateExec) -> Option<Fused> {
        let filter = aggregate.input().downcast_ref::<FilterExec>()?;
        // Keys and arguments are then evaluated on the rows the filter drops too: only where
        // that cannot fail (a division by a zero the filter would have dropped).
        let safe = aggregate
            .group_expr()
            .expr()
            .iter()
            .map(|(key, _)| key)
            .chain(
                aggregate
                    .aggr_expr()
                    .iter()
                    .flat_map(|a| a.expressions())
                    .collect::<Vec<_>>()
                    .iter(),
            )
            .all(|e| infallible(e, &filter.schema()));
        if filter.fetch().is_some() || !safe {
            return None;
        }
        let schema = filter.input().schema();
        let conditions = split_conjunction(filter.predicate())
            .into_iter()
            .map(|term| Comparing::of(term, &schema))
            .collect::<Option<Vec<_>>>()?;
        Some(Fused {
            filter: Arc::new(filter.clone()),
            conditions,
            projection: filter.projection().as_ref().map(|p| p.to_vec()),
        })
    }

    /// The chunk's columns as the aggregation sees them (the filter's projection).
    fn passed_on(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        match &self.projection {
            Some(columns) => Ok(batch.project(columns)?),
            None => Ok(batch.clone()),
        }
    }

    /// The same filter over another input.
    fn over(&self, input: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
        self.filter.clone().replace_children(
            vec![input],
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }
}

impl Comparing {
    fn of(term: &Arc<dyn PhysicalExpr>, schema: &SchemaRef) -> Option<Comparing> {
        let binary = term.downcast_ref::<BinaryExpr>()?;
        let (column, literal, op) = match (
            binary.left().downcast_ref::<Column>(),
            binary.right().downcast_ref::<Literal>(),
        ) {
            (Some(column), Some(literal)) => (column, literal, *binary.op()),
            _ => (
                binary.right().downcast_ref::<Column>()?,
                binary.left().downcast_ref::<Literal>()?,
                binary.op().swap()?,
            ),
        };
        let op = match op {
            Operator::Eq => Comparison::Eq,
            Operator::NotEq => Comparison::NotEq,
            Operator::Lt => Comparison::Lt,
            Operator::LtEq => Comparison::LtEq,
            Operator::Gt => Comparison::Gt,
            Operator::GtEq => Comparison::GtEq,
            _ => return None,
        };
        let data_type = schema.field(column.index()).data_type();
        let literal = literal.value();
        let fits = match data_type {
            t if is_key_type(t) => literal.data_type().is_integer(),
            DataType::Float32 | DataType::Float64 => literal.data_type().is_floating(),
            t if is_string(t) => {
                matches!(op, Comparison::Eq | Comparison::NotEq) && is_string(&literal.data_type())
            }
            _ => false,
        };
        (fits && !literal.is_null()).then(|| Comparing {
            column: column.index(),
            op,
            literal: literal.clone(),
        })
    }

    /// The condition over a chunk's column as the device takes it: integers (floats by their
    /// order, strings by dictionary codes), and where the column has nulls, a second
    /// condition on its validity (a null never meets a condition).
    fn widen(&self, batch: &RecordBatch) -> Result<Option<Vec<Widened>>> {
        let array = batch.column(self.column);
        let (column, literal) = match array.data_type() {
            t if is_key_type(t) => (widen_ints(array)?, scalar_i64(&self.literal)?),
            DataType::Float32 | DataType::Float64 => {
                let (floats, literal) = (widen_floats(array)?, scalar_f64(&self.literal)?);
                // A NaN with its sign bit set: whether it equals NaN is the CPU's to say.
                let signed_nan = |v: &f64| v.is_nan() && v.is_sign_negative();
                if signed_nan(&literal) || floats.iter().any(signed_nan) {
                    return Ok(None);
                }
                let column = floats.into_iter().map(gpu::ordered_bits).collect();
                (column, gpu::ordered_bits(literal))
            }
            _ => {
                // Strings by codes of a dictionary without repeats (a cast builds one), so one
                // string has one code; a literal absent from it gets -1, which no row has.
                let strings = cast(array, &DataType::Utf8)?;
                let as_dictionary =
                    DataType::Dictionary(Box::new(DataType::Int64), Box::new(DataType::Utf8));
                let encoded = cast(&strings, &as_dictionary)?;
                let dictionary = encoded.as_any_dictionary();
                let values = dictionary.values().as_string::<i32>();
                let wanted = self.literal.to_string();
                let code = values
                    .iter()
                    .position(|v| v == Some(wanted.as_str()))
                    .map_or(-1, |c| c as i64);
                (widen_ints(dictionary.keys())?, code)
            }
        };
        let mut widened = vec![Widened {
            column,
            op: self.op,
            literal,
        }];
        if array.logical_null_count() > 0 {
            let valid = array.logical_nulls().map_or_else(
                || vec![1; array.len()],
                |nulls| nulls.iter().map(i64::from).collect(),
            );
            widened.push(Widened {
                column: valid,
                op: Comparison::Eq,
                literal: 1,
            });
        }
        Ok(Some(widened))
    }
}

/// Whether evaluating `expr` over `schema` cannot fail: a column, a literal, or a column
/// widened by a cast (an integer to `Int64` or `Float64`, a float to `Float64`).
fn infallible(expr: &Arc<dyn PhysicalExpr>, schema: &SchemaRef) -> bool {
    if expr.downcast_ref::<Column>().is_some() || expr.downcast_ref::<Literal>().is_some() {
        return true;
    }
    let Some(cast) = expr.downcast_ref::<CastExpr>() else {
        return false;
    };
    let Some(column) = cast.expr().downcast_ref::<Column>() else {
        return false;
    };
    let Ok(source) = column.data_type(schema) else {
        return false;
    };
    match cast.cast_type() {
        DataType::Int64 => is_key_type(&source),
        DataType::Float64 => is_number(&source),
        _ => false,
    }
}

/// A condition's column and literal as the device takes them.
struct Widened {
    column: Vec<i64>,
    op: Comparison,
    literal: i64,
}

fn scalar_i64(value: &ScalarValue) -> Result<i64> {
    match value.cast_to(&DataType::Int64)? {
        ScalarValue::Int64(Some(v)) => Ok(v),
        other => Err(DataFusionError::Internal(format!(
            "{other} is not an integer"
        ))),
    }
}

fn scalar_f64(value: &ScalarValue) -> Result<f64> {
    match value.cast_to(&DataType::Float64)? {
        ScalarValue::Float64(Some(v)) => Ok(v),
        other => Err(DataFusionError::Internal(format!("{other} is not a float"))),
    }
}

/// A partial aggregation run on a device, chunk by chunk.
#[derive(Debug)]
pub struct GpuAggregateExec {
    /// The aggregation replaced: its expressions and schema, and what a chunk the device
    /// cannot take runs through.
    inner: Arc<AggregateExec>,
    /// The filter below `inner` the device applies itself (then this node's child is the
    /// filter's input).
    fused: Option<Fused>,
    how: Aggregation,
    device: Arc<dyn Accelerator>,
    metrics: ExecutionPlanMetricsSet,
}

impl GpuAggregateExec {
    /// What the node reads: the filter's input where the filter is fused, else the
    /// aggregation's.
    fn input(&self) -> &Arc<dyn ExecutionPlan> {
        match &self.fused {
            Some(fused) => fused.filter.input(),
            None => self.inner.input(),
        }
    }

    /// The device it runs on, as task spans and plans show it.
    pub fn device(&self) -> String {
        self.device.info().to_string()
    }

    /// Rows a chunk may have so that every partition's chunk at once fits in the device's
    /// memory limit: the columns (8 bytes a key and a value), codes and slots (12), and a hash
    /// table, counts and compacted slots (up to 4 entries a row: 80) and 32 bytes a state.
    fn chunk_rows(&self) -> usize {
        let keys = self.inner.group_expr().expr().len();
        let values = self.how.values();
        let states = self.how.device_states();
        let conditions = self.fused.as_ref().map_or(0, |f| f.conditions.len());
        let per_row = 8 * (keys + values + conditions) + 1 + 12 + 80 + 32 * states;
        let partitions = self
            .properties()
            .output_partitioning()
            .partition_count()
            .max(1);
        let rows = self.device.memory_limit() as usize / partitions / per_row;
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
        let filter = match &self.fused {
            Some(fused) => format!(", filter={}", fused.filter.predicate()),
            None => String::new(),
        };
        match t {
            DisplayFormatType::TreeRender => write!(f, "device={}", self.device()),
            _ => write!(
                f,
                "GpuAggregateExec: device={}, mode=Partial, gby=[{}], aggr=[{}]{filter}",
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
        vec![self.input()]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        if let Some(fused) = &self.fused
            && f(fused.filter.predicate())? == TreeNodeRecursion::Stop
        {
            return Ok(TreeNodeRecursion::Stop);
        }
        self.inner.apply_expressions(f)
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let below = match &self.fused {
            Some(fused) => {
                let input = children.into_iter().next().ok_or_else(|| {
                    DataFusionError::Internal("GpuAggregateExec has one child".into())
                })?;
                vec![fused.over(input)?]
            }
            None => children,
        };
        let inner = self.inner.clone().replace_children(below, options)?;
        let Some(aggregate) = inner.downcast_ref::<AggregateExec>() else {
            return Ok(inner);
        };
        Ok(Arc::new(GpuAggregateExec {
            inner: Arc::new(aggregate.clone()),
            fused: Fused::below(aggregate),
            how: self.how.clone(),
            device: self.device.clone(),
            metrics: ExecutionPlanMetricsSet::new(),
        }))
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
        let input = self.input().execute(partition, context.clone())?;
        let reservation = MemoryConsumer::new(format!("GpuAggregateExec[{partition}]"))
            .register(context.memory_pool());
        let chunk = Chunk {
            inner: self.inner.clone(),
            fused: self.fused.clone(),
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
            reservation,
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

/// A partition's input cut into chunks of `rows` rows (the last may have fewer), or fewer
/// where the host's memory pool cannot hold more: a chunk is held three times over (its
/// batches, their concatenation, the widened columns).
struct Gathering {
    input: SendableRecordBatchStream,
    rows: usize,
    /// What the last batch had beyond the previous chunk.
    leftover: Option<RecordBatch>,
    ended: bool,
    reservation: MemoryReservation,
}

impl Gathering {
    /// The next chunk's batches; none at the end of the input.
    async fn next_chunk(&mut self) -> Result<Vec<RecordBatch>> {
        // The previous chunk has been aggregated and its memory let go.
        self.reservation.free();
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
            let bytes = 3 * batch.get_array_memory_size();
            if self.reservation.try_grow(bytes).is_err() {
                if gathered > 0 {
                    self.leftover = Some(batch);
                    break;
                }
                // A chunk has at least one batch, as the CPU's aggregation would hold it.
                self.reservation.grow(bytes);
            }
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
    fused: Option<Fused>,
    how: Aggregation,
    device: Arc<dyn Accelerator>,
    context: Arc<TaskContext>,
    baseline: BaselineMetrics,
    device_rows: Count,
    cpu_rows: Count,
}

impl Chunk {
    async fn aggregate(&self, batches: Vec<RecordBatch>) -> Result<RecordBatch> {
        let Some(first) = batches.first() else {
            return Ok(RecordBatch::new_empty(self.inner.schema()));
        };
        let batch = concat_batches(&first.schema(), &batches)?;
        let rows = batch.num_rows();
        if rows == 0 {
            return Ok(RecordBatch::new_empty(self.inner.schema()));
        }
        let on_device = {
            let _timer = self.baseline.elapsed_compute().timer();
            // The device call blocks (copies, kernels, synchronisation): off the async threads.
            let (inner, how, device) = (self.inner.clone(), self.how.clone(), self.device.clone());
            let (fused, chunk) = (self.fused.clone(), batch.clone());
            tokio::task::spawn_blocking(move || {
                on_device(&inner, fused.as_ref(), &how, device.as_ref(), &chunk)
            })
            .await
            .map_err(|e| DataFusionError::ExecutionJoin(Box::new(e)))?
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

    /// DataFusion's own partial aggregation over the chunk (after the fused filter).
    async fn on_cpu(&self, batch: RecordBatch) -> Result<RecordBatch> {
        self.cpu_rows.add(batch.num_rows());
        let schema = batch.schema();
        let mut source: Arc<dyn ExecutionPlan> =
            MemorySourceConfig::try_new_exec(&[vec![batch]], schema, None)?;
        if let Some(fused) = &self.fused {
            source = fused.over(source)?;
        }
        let plan = self.inner.clone().replace_children(
            vec![source],
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )?;
        let batches = collect(plan, self.context.clone()).await?;
        Ok(concat_batches(&self.inner.schema(), &batches)?)
    }
}

/// The chunk's partial aggregates from the device; `None` where it cannot take them.
fn on_device(
    inner: &AggregateExec,
    fused: Option<&Fused>,
    how: &Aggregation,
    device: &dyn Accelerator,
    batch: &RecordBatch,
) -> Result<Option<RecordBatch>, gpu::GpuError> {
    let Some(columns) = Columns::of(inner, fused, how, batch).map_err(unsupported)? else {
        return Ok(None);
    };
    let Some(input) = columns.input(how) else {
        return Ok(None);
    };
    let groups = device.group_aggregate(&input)?;
    columns
        .output(&inner.schema(), how, &input, groups)
        .map(Some)
        .map_err(unsupported)
}

fn unsupported(error: DataFusionError) -> gpu::GpuError {
    gpu::GpuError::Unsupported(error.to_string())
}

/// A chunk's key and argument columns, widened for the device (`None`: a count's, which
/// the device does not read).
struct Columns {
    keys: Vec<Key>,
    arguments: Vec<Option<Argument>>,
    /// The fused filter's conditions.
    conditions: Vec<Widened>,
}

/// A key column as integers, and what turns them back into the column.
struct Key {
    codes: Vec<i64>,
    data_type: DataType,
    /// For strings: the values the codes index.
    dictionary: Option<ArrayRef>,
}

impl Key {
    fn of(array: &ArrayRef) -> Result<Key> {
        let data_type = array.data_type().clone();
        if !is_string(&data_type) {
            return Ok(Key {
                codes: widen_ints(array)?,
                data_type,
                dictionary: None,
            });
        }
        // A dictionary column's codes are its keys. Equal strings may have two codes (a
        // chunk's batches may bring dictionaries of their own): then one group becomes two
        // partial rows, which the final aggregation merges by value.
        let encoded;
        let dictionary = match array.as_any_dictionary_opt() {
            Some(dictionary) => dictionary,
            None => {
                let strings = cast(array, &DataType::Utf8)?;
                let as_dictionary =
                    DataType::Dictionary(Box::new(DataType::Int64), Box::new(DataType::Utf8));
                encoded = cast(&strings, &as_dictionary)?;
                encoded.as_any_dictionary()
            }
        };
        Ok(Key {
            codes: widen_ints(dictionary.keys())?,
            data_type,
            dictionary: Some(dictionary.values().clone()),
        })
    }

    /// The column for the groups' codes.
    fn decode(&self, codes: Int64Array) -> Result<ArrayRef> {
        let column: ArrayRef = match &self.dictionary {
            None => Arc::new(codes),
            Some(values) => take(values.as_ref(), &codes, None)?,
        };
        Ok(cast(&column, &self.data_type)?)
    }
}

enum Argument {
    I64(Vec<i64>),
    F64(Vec<f64>),
}

impl Columns {
    /// `None` where a key or an argument has nulls (the CPU counts and skips them).
    fn of(
        aggregate: &AggregateExec,
        fused: Option<&Fused>,
        how: &Aggregation,
        batch: &RecordBatch,
    ) -> Result<Option<Columns>> {
        let projected = fused.map(|f| f.passed_on(batch)).transpose()?;
        let full = batch;
        let batch = projected.as_ref().unwrap_or(full);
        let rows = batch.num_rows();
        let evaluate = |e: &Arc<dyn PhysicalExpr>| e.evaluate(batch)?.into_array(rows);
        let mut keys = Vec::new();
        for (expr, _) in aggregate.group_expr().expr() {
            let array = evaluate(expr)?;
            if array.logical_null_count() > 0 {
                return Ok(None);
            }
            keys.push(Key::of(&array)?);
        }
        let mut arguments = Vec::new();
        for (a, function) in aggregate.aggr_expr().iter().zip(&how.functions) {
            let array = evaluate(&a.expressions()[0])?;
            if array.logical_null_count() > 0 {
                return Ok(None);
            }
            arguments.push(match (function, array.data_type()) {
                (Function::Count, _) => None,
                (_, DataType::Float32 | DataType::Float64) => {
                    Some(Argument::F64(widen_floats(&array)?))
                }
                _ => Some(Argument::I64(widen_ints(&array)?)),
            });
        }
        let mut conditions = Vec::new();
        for condition in fused.map_or(&[][..], |f| &f.conditions) {
            match condition.widen(full)? {
                Some(widened) => conditions.extend(widened),
                None => return Ok(None),
            }
        }
        Ok(Some(Columns {
            keys,
            arguments,
            conditions,
        }))
    }

    /// The device's input: keys packed by their ranges in this chunk; `None` where the codes
    /// would need more than 63 bits.
    fn input(&self, how: &Aggregation) -> Option<GroupInput<'_>> {
        let mut shift = 0u32;
        let mut keys = Vec::new();
        for Key { codes: values, .. } in &self.keys {
            let min = values.iter().copied().min().unwrap_or(0);
            let max = values.iter().copied().max().unwrap_or(0);
            let span = u64::try_from(i128::from(max) - i128::from(min)).ok()?;
            keys.push(KeyColumn { values, min, shift });
            shift += gpu::bits_for(span);
            if shift > 63 {
                return None;
            }
        }
        let mut values: Vec<Values<'_>> = Vec::new();
        let mut aggregates = Vec::new();
        for (argument, function) in self.arguments.iter().zip(&how.functions) {
            let column = values.len();
            match argument {
                Some(Argument::I64(v)) => values.push(Values::I64(v)),
                Some(Argument::F64(v)) => values.push(Values::F64(v)),
                None => {}
            }
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
        let filter = self
            .conditions
            .iter()
            .map(|c| gpu::Condition {
                column: &c.column,
                op: c.op,
                literal: c.literal,
            })
            .collect();
        Some(GroupInput {
            rows: self.keys.first().map_or(0, |k| k.codes.len()),
            keys,
            code_bits: shift,
            values,
            aggregates,
            filter,
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
        for (i, (key, column)) in input.keys.iter().zip(&self.keys).enumerate() {
            let next_shift = input.keys.get(i + 1).map_or(input.code_bits, |k| k.shift);
            let mask = (1u64 << (next_shift - key.shift)) - 1;
            let values: Int64Array = groups
                .codes
                .iter()
                .map(|code| key.min.wrapping_add(((code >> key.shift) & mask) as i64))
                .collect();
            columns.push(column.decode(values)?);
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

/// A column's values as `T` (nulls' places hold whatever the buffer has).
fn widen<T: ArrowPrimitiveType>(array: &dyn Array) -> Result<Vec<T::Native>> {
    let wide = cast(array, &T::DATA_TYPE)?;
    let values = wide.as_primitive_opt::<T>().ok_or_else(|| {
        DataFusionError::Internal(format!("a column did not widen to {}", T::DATA_TYPE))
    })?;
    Ok(values.values().to_vec())
}

fn widen_ints(array: &dyn Array) -> Result<Vec<i64>> {
    widen::<Int64Type>(array)
}

fn widen_floats(array: &dyn Array) -> Result<Vec<f64>> {
    widen::<Float64Type>(array)
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
    /// The rows with `s` dictionary-encoded, each 500-row batch with a dictionary of its own
    /// (cast apart: batch 1 starts at row 500, whose `s` is s2, so its codes differ from
    /// batch 0's).
    fn dictionary_batches(batch: &RecordBatch) -> Vec<RecordBatch> {
        let as_dictionary =
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let mut fields: Vec<Field> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields[4] = Field::new("s", as_dictionary.clone(), false);
        let schema = Arc::new(Schema::new(fields));
        (0..4)
            .map(|i| {
                let part = batch.slice(i * 500, 500);
                let mut columns = part.columns().to_vec();
                columns[4] = cast(&columns[4], &as_dictionary).unwrap();
                RecordBatch::try_new(schema.clone(), columns).unwrap()
            })
            .collect()
    }

    /// The query's plan over these batches (two partitions of two batches; with a device:
    /// after the rule) and its answer, as text.
    async fn run_on(
        sql: &str,
        batches: Vec<RecordBatch>,
        device: Option<Arc<dyn Accelerator>>,
    ) -> (Arc<dyn ExecutionPlan>, String) {
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
        let schema = batches[0].schema();
        let parts: Vec<Vec<RecordBatch>> = batches.chunks(2).map(<[RecordBatch]>::to_vec).collect();
        let table = MemTable::try_new(schema, parts).unwrap();
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

    /// `sql` with the stand-in device of `memory` bytes: the CPU's answer; the plan, which has
    /// the GPU node, and that node's rows (on the device, on the CPU).
    async fn same_answer_on_device(
        sql: &str,
        batches: Vec<RecordBatch>,
        memory: u64,
    ) -> (Arc<dyn ExecutionPlan>, (usize, usize)) {
        let (_, expected) = run_on(sql, batches.clone(), None).await;
        let (plan, answer) = run_on(sql, batches, Some(stub(memory))).await;
        assert_eq!(answer, expected, "{sql}");
        assert!(
            shown(&plan).contains("GpuAggregateExec: device=stub:0"),
            "{}",
            shown(&plan)
        );
        let rows = rows_where(&plan);
        (plan, rows)
    }

    fn four_batches(nulls: bool) -> Vec<RecordBatch> {
        let batch = rows(nulls);
        (0..4).map(|i| batch.slice(i * 500, 500)).collect()
    }

    #[tokio::test]
    async fn covered_aggregations_run_on_the_device_with_the_cpu_answer() {
        // A few kB of device memory: chunks of a few rows, many partial rows per group.
        let (_, split) = same_answer_on_device(COVERED, four_batches(false), 4 << 10).await;
        assert_eq!(split, (2000, 0));
        // One chunk per partition.
        let (_, split) = same_answer_on_device(COVERED, four_batches(false), 1 << 30).await;
        assert_eq!(split, (2000, 0));
    }

    const STRINGS: &str = "SELECT s, k1, count(*) AS c, sum(n) AS sn, avg(v) AS av \
        FROM t GROUP BY s, k1 ORDER BY s, k1";

    #[tokio::test]
    async fn string_keys_group_by_dictionary_codes() {
        let (_, split) = same_answer_on_device(STRINGS, four_batches(false), 8 << 10).await;
        assert_eq!(split, (2000, 0));
        // Dictionary columns group by their own codes, whatever each batch's dictionary.
        let batches = dictionary_batches(&rows(false));
        let (_, split) = same_answer_on_device(STRINGS, batches, 64 << 10).await;
        assert_eq!(split, (2000, 0));
    }

    #[tokio::test]
    async fn chunks_with_nulls_run_on_the_cpu_with_the_same_answer() {
        let (_, (gpu, cpu)) = same_answer_on_device(COVERED, four_batches(true), 16 << 10).await;
        assert_eq!(gpu + cpu, 2000);
        assert!(gpu > 0 && cpu > 0, "gpu {gpu}, cpu {cpu}");
    }

    const FILTERED: &str = "SELECT k1, k2, count(*) AS c, sum(v) AS sv, avg(n) AS an, \
        max(n) AS mx FROM t WHERE n > -200 AND v <= 3.0 AND s = 's1' AND 2 <= k1 \
        GROUP BY k1, k2 ORDER BY k1, k2";

    #[tokio::test]
    async fn a_filter_below_is_checked_on_the_device() {
        let (plan, split) = same_answer_on_device(FILTERED, four_batches(false), 8 << 10).await;
        let text = shown(&plan);
        assert!(
            text.contains(", filter=") && !text.contains("FilterExec"),
            "{text}"
        );
        assert_eq!(split, (2000, 0));
        // Nulls in a condition's column fail the condition, on the device too; chunks with
        // nulls in an argument (`avg(n)`) go through the CPU's filter and aggregation.
        let nulls_in_condition = "SELECT k1, count(*) AS c, sum(v) AS sv FROM t WHERE n > -200 \
            GROUP BY k1 ORDER BY k1";
        let (_, split) =
            same_answer_on_device(nulls_in_condition, four_batches(true), 16 << 10).await;
        assert_eq!(split, (2000, 0));
        let (_, (gpu, cpu)) = same_answer_on_device(FILTERED, four_batches(true), 16 << 10).await;
        assert!(gpu > 0 && cpu > 0, "gpu {gpu}, cpu {cpu}");
        // Dictionary strings, literals no row has, and a condition the device does not take
        // (it stays in a FilterExec below the GPU node).
        let dictionary = dictionary_batches(&rows(false));
        let (plan, _) = same_answer_on_device(FILTERED, dictionary, 64 << 10).await;
        assert!(!shown(&plan).contains("FilterExec"), "{}", shown(&plan));
        for (sql, fused) in [
            (
                "SELECT k1, count(*) FROM t WHERE s = 'none' GROUP BY k1 ORDER BY k1",
                true,
            ),
            (
                "SELECT k1, count(*) FROM t WHERE s != 'none' GROUP BY k1 ORDER BY k1",
                true,
            ),
            (
                "SELECT k1, sum(v) FROM t WHERE n % 2 = 0 GROUP BY k1 ORDER BY k1",
                false,
            ),
        ] {
            let (plan, _) = same_answer_on_device(sql, four_batches(false), 1 << 20).await;
            assert_eq!(
                !shown(&plan).contains("FilterExec"),
                fused,
                "{sql}: {}",
                shown(&plan)
            );
        }
    }

    /// DataFusion compares floats with NaN equal to NaN and above infinity, and -0.0 equal to
    /// 0.0: the device's comparisons of floats agree.
    #[tokio::test]
    async fn floats_compare_on_the_device_as_arrow_orders_them() {
        let batch = rows(false);
        let v: Float64Array = (0..2000)
            .map(|i| match i % 250 {
                0 => f64::NAN,
                1 => -0.0,
                _ => f64::from(i % 17) * 0.25,
            })
            .collect();
        let mut columns = batch.columns().to_vec();
        columns[2] = Arc::new(v);
        let odd = RecordBatch::try_new(batch.schema(), columns).unwrap();
        let batches: Vec<RecordBatch> = (0..4).map(|i| odd.slice(i * 500, 500)).collect();
        for sql in [
            "SELECT k1, count(*) AS c, sum(n) AS sn FROM t WHERE v <= 3.0 GROUP BY k1 ORDER BY k1",
            "SELECT k1, count(*) AS c FROM t WHERE v = 0.0 GROUP BY k1 ORDER BY k1",
            "SELECT k1, count(*) AS c FROM t WHERE v != 0.0 GROUP BY k1 ORDER BY k1",
            "SELECT k1, count(*) AS c FROM t WHERE v > -0.0 GROUP BY k1 ORDER BY k1",
        ] {
            let (_, split) = same_answer_on_device(sql, batches.clone(), 16 << 10).await;
            assert_eq!(split, (2000, 0), "{sql}");
        }
    }

    /// An aggregation over input sorted by its key streams its groups in order, which the plan
    /// above may rely on: it stays on the CPU.
    #[tokio::test]
    async fn an_aggregation_over_sorted_input_stays_on_the_cpu() {
        let batch = rows(false);
        let order = arrow::compute::sort_to_indices(batch.column(0), None, None).unwrap();
        let sorted = arrow::compute::take_record_batch(&batch, &order).unwrap();
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
        let sort = vec![vec![datafusion::prelude::col("k1").sort(true, false)]];
        let table = MemTable::try_new(sorted.schema(), vec![vec![sorted]])
            .unwrap()
            .with_sort_order(sort);
        ctx.register_table("t", Arc::new(table)).unwrap();
        let sql = "SELECT k1, sum(n) FROM t GROUP BY k1";
        let plan = ctx
            .sql(sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        let before = shown(&plan);
        let plan = GpuAggregates::new(stub(1 << 20))
            .optimize(plan, ctx.state().config_options())
            .unwrap();
        assert!(before.contains("ordering_mode=Sorted"), "{before}");
        assert!(
            !shown(&plan).contains("GpuAggregateExec"),
            "{}",
            shown(&plan)
        );
    }

    #[tokio::test]
    async fn uncovered_aggregations_stay_on_the_cpu() {
        for sql in [
            "SELECT k1, sum(v) FILTER (WHERE n > 0) FROM t GROUP BY k1 ORDER BY k1",
            "SELECT k1, bit_and(n) FROM t GROUP BY k1 ORDER BY k1",
            "SELECT k1, min(v) FROM t GROUP BY k1 ORDER BY k1",
            "SELECT k1, median(v) FROM t GROUP BY k1 ORDER BY k1",
            "SELECT sum(v) FROM t",
        ] {
            let (_, expected) = run_on(sql, four_batches(false), None).await;
            let (plan, answer) = run_on(sql, four_batches(false), Some(stub(1 << 20))).await;
            assert!(
                !shown(&plan).contains("GpuAggregateExec"),
                "{sql}: {}",
                shown(&plan)
            );
            assert_eq!(answer, expected, "{sql}");
        }
    }
}

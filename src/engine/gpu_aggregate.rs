//! Partial group-by aggregation on a GPU. On a worker with a device, for a job that wants one
//! (`resources.gpu`), the rule replaces each partial `AggregateExec` whose keys are integers,
//! `Float64` (by bits, -0.0 folded into 0.0, as DataFusion groups them) or strings (grouped by
//! dictionary codes) and whose aggregates are `count`, `sum`, `avg`
//! (numbers) or `min`/`max` (integers, `Float64`) with `GpuAggregateExec`. That node takes over the
//! projection and the filter right below the aggregation where the device can compute them
//! (see `gpu_expr`): `sum(a + b)`, `WHERE s = 'x' OR v > 0.5` run as device programs beside the
//! aggregation. It gathers its input into chunks as large as the device's memory limit
//! allows, aggregates each chunk on the device (keys packed into 63-bit group codes where
//! they fit, else rows hashed by all their keys), and emits exactly the partial aggregation's
//! state (the same schema), so the final aggregation after it is unchanged. A chunk the device
//! cannot take (nulls in a key or an argument, a driver error such as running out of memory)
//! runs through DataFusion's own projection, filter and partial aggregation instead: the answer does not depend on where a chunk ran (except, for
//! float sums and means, in the last bits: the device adds in whatever order its atomics
//! land).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, UInt64Array};
use arrow::compute::{cast, concat_batches, take};
use arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, Result};
use datafusion::config::ConfigOptions;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{CastExpr, Column, Literal};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::InputOrderMode;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties,
    ReplaceChildrenOptions, SendableRecordBatchStream, collect,
};
use futures::StreamExt;

use super::dense_groupby::DenseGroupByExec;
use super::gpu_expr::{
    DeviceExpr, Lowering, compile_condition, compile_value, dictionary_codes, is_key_type,
    is_number, is_string, widen_floats, widen_ints,
};
use crate::gpu::{self, Accelerator, GroupInput, KeyColumn, Keys, Program, Reduce, State};

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
                    absorbed: Absorbed::of(aggregate),
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
                    .is_ok_and(|t| is_key_type(&t) || is_string(&t) || t == DataType::Float64)
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
                    ("min", 1) if is_extreme_type(&argument) => Function::Min,
                    ("max", 1) if is_extreme_type(&argument) => Function::Max,
                    _ => return None,
                };
                Some(function)
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Aggregation { functions })
    }
}

/// What the GPU node computes over its input: the aggregation's keys and arguments, with the
/// nodes right below the aggregation that the device takes over: a projection (its
/// expressions are substituted into the keys and arguments), then a filter whose predicate
/// the device checks.
#[derive(Debug, Clone)]
struct Absorbed {
    /// Top first; stacked again over a chunk's source for the CPU path.
    nodes: Vec<Arc<dyn ExecutionPlan>>,
    /// What the node reads.
    input: Arc<dyn ExecutionPlan>,
    /// Keys over `input`, evaluated on the host.
    keys: Vec<Arc<dyn PhysicalExpr>>,
    /// Each aggregate's argument over `input`, with its device program where it has one (else
    /// the host evaluates it).
    arguments: Vec<(Arc<dyn PhysicalExpr>, Option<DeviceExpr>)>,
    filter: Option<DeviceExpr>,
}

impl Absorbed {
    fn of(aggregate: &AggregateExec) -> Absorbed {
        let mut nodes = Vec::new();
        let mut input = aggregate.input().clone();
        let mut keys: Vec<_> = aggregate
            .group_expr()
            .expr()
            .iter()
            .map(|(key, _)| key.clone())
            .collect();
        let mut arguments: Vec<_> = aggregate
            .aggr_expr()
            .iter()
            .filter_map(|a| a.expressions().first().cloned())
            .collect();
        if let Some(projection) = input.downcast_ref::<ProjectionExec>() {
            let by: Vec<_> = projection.expr().iter().map(|p| p.expr.clone()).collect();
            if let (Some(k), Some(a)) = (substitute(&keys, &by), substitute(&arguments, &by)) {
                (keys, arguments) = (k, a);
                nodes.push(input.clone());
                input = projection.input().clone();
            }
        }
        let mut filter = None;
        if let Some(below) = input.downcast_ref::<FilterExec>()
            && let Some((predicate, k, a)) = Self::filter(below, &keys, &arguments)
        {
            (filter, keys, arguments) = (Some(predicate), k, a);
            nodes.push(input.clone());
            input = below.input().clone();
        }
        let schema = input.schema();
        let arguments = arguments
            .into_iter()
            .map(|a| {
                let program = compile_value(&a, &schema);
                (a, program)
            })
            .collect();
        Absorbed {
            nodes,
            input,
            keys,
            arguments,
            filter,
        }
    }

    /// The filter's predicate as a device program, and the keys and arguments over its input;
    /// `None` where the device cannot take the filter over. Keys and arguments are then
    /// evaluated on the rows the filter drops too: only where that cannot fail (a division by
    /// a zero the filter would have dropped).
    fn filter(
        filter: &FilterExec,
        keys: &[Arc<dyn PhysicalExpr>],
        arguments: &[Arc<dyn PhysicalExpr>],
    ) -> Option<(DeviceExpr, Exprs, Exprs)> {
        if filter.fetch().is_some() {
            return None;
        }
        let schema = filter.input().schema();
        let predicate = compile_condition(filter.predicate(), &schema)?;
        let passed: Vec<usize> = match filter.projection() {
            Some(columns) => columns.to_vec(),
            None => (0..schema.fields().len()).collect(),
        };
        let by: Vec<Arc<dyn PhysicalExpr>> = passed
            .iter()
            .map(|&i| Arc::new(Column::new(schema.field(i).name(), i)) as Arc<dyn PhysicalExpr>)
            .collect();
        let keys = substitute(keys, &by)?;
        let arguments = substitute(arguments, &by)?;
        let safe = keys.iter().all(|k| infallible(k, &schema))
            && arguments
                .iter()
                .all(|a| compile_value(a, &schema).is_some() || infallible(a, &schema));
        safe.then_some((predicate, keys, arguments))
    }

    /// The same nodes over another input.
    fn over(&self, input: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
        self.nodes.iter().rev().try_fold(input, |below, node| {
            node.clone().replace_children(
                vec![below],
                ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
            )
        })
    }

    /// Input columns the device receives for the programs.
    fn device_columns(&self) -> usize {
        let mut columns = BTreeSet::new();
        let mut host = 0;
        for (_, program) in &self.arguments {
            match program {
                Some(program) => program.columns(&mut columns),
                None => host += 1,
            }
        }
        if let Some(filter) = &self.filter {
            filter.columns(&mut columns);
        }
        columns.len() + host
    }
}

type Exprs = Vec<Arc<dyn PhysicalExpr>>;

/// What a device's `min`/`max` take: integers, and `Float64` (DataFusion starts a `Float32`'s
/// from `f32::MIN`, which a device working in `f64` would not).
fn is_extreme_type(t: &DataType) -> bool {
    is_key_type(t) || *t == DataType::Float64
}

/// `exprs` with each column `i` replaced by `by[i]`; `None` where a column is out of range.
fn substitute(
    exprs: &[Arc<dyn PhysicalExpr>],
    by: &[Arc<dyn PhysicalExpr>],
) -> Option<Vec<Arc<dyn PhysicalExpr>>> {
    exprs
        .iter()
        .map(|expr| {
            // Bottom up: a column is replaced once, and what replaced it is not visited again.
            expr.clone()
                .transform_up(|node| match node.downcast_ref::<Column>() {
                    Some(column) => by
                        .get(column.index())
                        .cloned()
                        .map(Transformed::yes)
                        .ok_or_else(|| {
                            DataFusionError::Internal(format!("no column {}", column.index()))
                        }),
                    None => Ok(Transformed::no(node)),
                })
                .map(|t| t.data)
                .ok()
        })
        .collect()
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

/// A partial aggregation run on a device, chunk by chunk.
#[derive(Debug)]
pub struct GpuAggregateExec {
    /// The aggregation replaced: its expressions and schema, and what a chunk the device
    /// cannot take runs through.
    inner: Arc<AggregateExec>,
    /// The keys, arguments and nodes below `inner` the device takes over (this node's child
    /// is what they read).
    absorbed: Absorbed,
    how: Aggregation,
    device: Arc<dyn Accelerator>,
    metrics: ExecutionPlanMetricsSet,
}

impl GpuAggregateExec {
    /// What the node reads: below the nodes it took over.
    fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.absorbed.input
    }

    /// The device it runs on, as task spans and plans show it.
    pub fn device(&self) -> String {
        self.device.info().to_string()
    }

    /// The nodes below the aggregation whose work the device took over, top first.
    pub fn took_over(&self) -> Vec<&'static str> {
        let name = |node: &Arc<dyn ExecutionPlan>| match node.downcast_ref::<FilterExec>() {
            Some(_) => "filter",
            None => "projection",
        };
        self.absorbed.nodes.iter().map(name).collect()
    }

    /// Rows a chunk may have so that every partition's chunk at once fits in the device's
    /// memory limit: the columns (8 bytes a key, a column and a computed value, 1 a
    /// validity), the filter's result (9), codes and slots (12), and a hash table, counts and
    /// compacted slots (up to 4 entries a row: 80) and 32 bytes a state.
    fn chunk_rows(&self) -> usize {
        let keys = self.inner.group_expr().expr().len();
        let columns = self.absorbed.device_columns();
        let values = self.how.values();
        let states = self.how.device_states();
        let per_row = 8 * (keys + columns + values) + columns + 9 + 12 + 80 + 32 * states;
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
        let mut absorbed = String::new();
        for node in &self.absorbed.nodes {
            if let Some(filter) = node.downcast_ref::<FilterExec>() {
                absorbed += &format!(", filter={}", filter.predicate());
            }
            if let Some(projection) = node.downcast_ref::<ProjectionExec>() {
                let exprs: Vec<String> = projection
                    .expr()
                    .iter()
                    .map(|p| format!("{} as {}", p.expr, p.alias))
                    .collect();
                absorbed += &format!(", projection=[{}]", exprs.join(", "));
            }
        }
        match t {
            DisplayFormatType::TreeRender => write!(f, "device={}", self.device()),
            _ => write!(
                f,
                "GpuAggregateExec: device={}, mode=Partial, gby=[{}], aggr=[{}]{absorbed}",
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
        for node in &self.absorbed.nodes {
            if node.apply_expressions(f)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        self.inner.apply_expressions(f)
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = children
            .into_iter()
            .next()
            .ok_or_else(|| DataFusionError::Internal("GpuAggregateExec has one child".into()))?;
        let below = self.absorbed.over(input)?;
        let inner = self.inner.clone().replace_children(vec![below], options)?;
        let Some(aggregate) = inner.downcast_ref::<AggregateExec>() else {
            return Ok(inner);
        };
        Ok(Arc::new(GpuAggregateExec {
            inner: Arc::new(aggregate.clone()),
            absorbed: Absorbed::of(aggregate),
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
            absorbed: self.absorbed.clone(),
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
    absorbed: Absorbed,
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
            let (absorbed, chunk) = (self.absorbed.clone(), batch.clone());
            tokio::task::spawn_blocking(move || {
                on_device(&inner, &absorbed, &how, device.as_ref(), &chunk)
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

    /// DataFusion's own partial aggregation over the chunk (after the nodes taken over).
    async fn on_cpu(&self, batch: RecordBatch) -> Result<RecordBatch> {
        self.cpu_rows.add(batch.num_rows());
        let schema = batch.schema();
        let mut source: Arc<dyn ExecutionPlan> =
            MemorySourceConfig::try_new_exec(&[vec![batch]], schema, None)?;
        source = self.absorbed.over(source)?;
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
    absorbed: &Absorbed,
    how: &Aggregation,
    device: &dyn Accelerator,
    batch: &RecordBatch,
) -> Result<Option<RecordBatch>, gpu::GpuError> {
    let Some(chunk) = ChunkInput::of(absorbed, how, batch).map_err(unsupported)? else {
        return Ok(None);
    };
    let input = chunk.input(how, chunk.lowering.columns());
    let groups = device.group_aggregate(&input)?;
    chunk
        .output(&inner.schema(), how, &input, groups)
        .map(Some)
        .map_err(unsupported)
}

fn unsupported(error: DataFusionError) -> gpu::GpuError {
    gpu::GpuError::Unsupported(error.to_string())
}

/// A chunk as the device takes it: keys as integers, the columns the programs read, a
/// program per value an aggregate reads, the filter's program.
struct ChunkInput {
    keys: Vec<Key>,
    lowering: Lowering,
    values: Vec<Program>,
    filter: Option<Program>,
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
        if data_type == DataType::Float64 {
            // As DataFusion groups floats: by their bits once -0.0 is folded into 0.0 (each
            // NaN payload its own group).
            let bits = widen_floats(array)?
                .into_iter()
                .map(|v| if v == 0.0 { 0 } else { v.to_bits() as i64 })
                .collect();
            return Ok(Key {
                codes: bits,
                data_type,
                dictionary: None,
            });
        }
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
        let (codes, strings) = match array.as_any_dictionary_opt() {
            Some(dictionary) => (widen_ints(dictionary.keys())?, dictionary.values().clone()),
            None => dictionary_codes(array)?,
        };
        Ok(Key {
            codes,
            data_type,
            dictionary: Some(strings),
        })
    }

    /// The column for the groups' codes.
    fn decode(&self, codes: Int64Array) -> Result<ArrayRef> {
        let column: ArrayRef = match &self.dictionary {
            None if self.data_type == DataType::Float64 => {
                Arc::new(Float64Array::from_iter_values(
                    codes.values().iter().map(|&b| f64::from_bits(b as u64)),
                ))
            }
            None => Arc::new(codes),
            Some(values) => take(values.as_ref(), &codes, None)?,
        };
        Ok(cast(&column, &self.data_type)?)
    }
}

impl ChunkInput {
    /// `None` where a key or an argument has nulls (the CPU counts and skips them).
    fn of(absorbed: &Absorbed, how: &Aggregation, batch: &RecordBatch) -> Result<Option<Self>> {
        let rows = batch.num_rows();
        let evaluate = |e: &Arc<dyn PhysicalExpr>| e.evaluate(batch)?.into_array(rows);
        let mut keys = Vec::new();
        for expr in &absorbed.keys {
            let array = evaluate(expr)?;
            if array.logical_null_count() > 0 {
                return Ok(None);
            }
            keys.push(Key::of(&array)?);
        }
        let mut lowering = Lowering::default();
        let mut values = Vec::new();
        for ((argument, program), function) in absorbed.arguments.iter().zip(&how.functions) {
            // A count reads no value on the device: only whether its argument is null.
            if *function == Function::Count {
                if evaluate(argument)?.logical_null_count() > 0 {
                    return Ok(None);
                }
                continue;
            }
            let program = match program {
                Some(program) => lowering.program(program, batch)?,
                None => lowering.computed(&evaluate(argument)?)?,
            };
            if program.columns().any(|c| lowering.has_nulls(c)) {
                return Ok(None);
            }
            values.push(program);
        }
        let filter = match &absorbed.filter {
            Some(predicate) => Some(lowering.program(predicate, batch)?),
            None => None,
        };
        Ok(Some(ChunkInput {
            keys,
            lowering,
            values,
            filter,
        }))
    }

    /// The keys packed by their ranges in this chunk; `None` where the codes would need more
    /// than 63 bits.
    fn packed(&self) -> Option<Keys<'_>> {
        let mut shift = 0u32;
        let mut columns = Vec::new();
        for Key { codes: values, .. } in &self.keys {
            let min = values.iter().copied().min().unwrap_or(0);
            let max = values.iter().copied().max().unwrap_or(0);
            let span = u64::try_from(i128::from(max) - i128::from(min)).ok()?;
            columns.push(KeyColumn { values, min, shift });
            shift += gpu::bits_for(span);
            if shift > 63 {
                return None;
            }
        }
        Some(Keys::Packed {
            columns,
            code_bits: shift,
        })
    }

    /// The device's input: keys packed where they fit in 63 bits, else hashed by rows.
    fn input<'a>(&'a self, how: &Aggregation, columns: Vec<gpu::Column<'a>>) -> GroupInput<'a> {
        let keys = self
            .packed()
            .unwrap_or_else(|| Keys::Rows(self.keys.iter().map(|k| k.codes.as_slice()).collect()));
        let mut aggregates = Vec::new();
        let mut value = 0;
        for function in &how.functions {
            let reduce = |reduce| gpu::Aggregate { reduce, value };
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
            if *function != Function::Count {
                value += 1;
            }
        }
        GroupInput {
            rows: self.keys.first().map_or(0, |k| k.codes.len()),
            keys,
            columns,
            values: self.values.clone(),
            aggregates,
            filter: self.filter.clone(),
        }
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
        for (i, column) in self.keys.iter().enumerate() {
            let values: Int64Array = match &input.keys {
                Keys::Packed {
                    columns: packed,
                    code_bits,
                } => {
                    let key = packed[i];
                    let next_shift = packed.get(i + 1).map_or(*code_bits, |k| k.shift);
                    let mask = (1u64 << (next_shift - key.shift)) - 1;
                    let unpack =
                        |code: &u64| key.min.wrapping_add(((code >> key.shift) & mask) as i64);
                    groups.codes.iter().map(unpack).collect()
                }
                // Each group is named by one of its rows.
                Keys::Rows(_) => groups
                    .codes
                    .iter()
                    .map(|&row| column.codes.get(row as usize).copied())
                    .collect(),
            };
            if values.null_count() > 0 {
                return Err(DataFusionError::Internal(
                    "the device named a row the chunk lacks".into(),
                ));
            }
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

    /// `batch` with column `index` replaced, as four batches of 500 rows.
    fn replaced(batch: &RecordBatch, index: usize, column: ArrayRef) -> Vec<RecordBatch> {
        let mut columns = batch.columns().to_vec();
        columns[index] = column;
        let changed = RecordBatch::try_new(batch.schema(), columns).unwrap();
        (0..4).map(|i| changed.slice(i * 500, 500)).collect()
    }

    /// `batch` with `added` columns (nullable), as four batches of 500 rows.
    fn widened(batch: &RecordBatch, added: Vec<(&str, ArrayRef)>) -> Vec<RecordBatch> {
        let mut fields: Vec<Field> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let mut columns = batch.columns().to_vec();
        for (name, column) in added {
            fields.push(Field::new(name, column.data_type().clone(), true));
            columns.push(column);
        }
        let changed = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        (0..4).map(|i| changed.slice(i * 500, 500)).collect()
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
        let batches = replaced(&batch, 2, Arc::new(v));
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
            "SELECT k1, min(CAST(v AS REAL)) FROM t GROUP BY k1 ORDER BY k1",
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

    /// Arithmetic in the aggregates' arguments runs as device programs: integers wrap, floats
    /// round as on the CPU (the answers are compared as text, to the last digit shown).
    #[tokio::test]
    async fn arithmetic_arguments_are_computed_on_the_device() {
        let sql = "SELECT k1, sum(k2 + 1000 * k1) AS a, sum(v * 2.0 - 1.0) AS b, \
            avg(v / 4.0) AS c, max(k2 - k1) AS d, sum(CAST(k1 AS DOUBLE) * v) AS e \
            FROM t GROUP BY k1 ORDER BY k1";
        let (plan, split) = same_answer_on_device(sql, four_batches(false), 8 << 10).await;
        assert_eq!(split, (2000, 0), "{}", shown(&plan));
        // Integer division is the CPU's (a division by zero fails there): the host computes
        // the argument and hands the device its values.
        let sql = "SELECT k1, sum(k2 / (k1 + 1)) AS q FROM t GROUP BY k1 ORDER BY k1";
        let (_, split) = same_answer_on_device(sql, four_batches(false), 8 << 10).await;
        assert_eq!(split, (2000, 0));
    }

    /// The guide's pipeline: a filter, then a projection that computes a column, then the
    /// group-by. The GPU node takes over both nodes below it.
    #[tokio::test]
    async fn a_projection_over_a_filter_is_taken_over() {
        let sql = "SELECT k1, sum(total) AS spend, count(*) AS c FROM \
            (SELECT k1, n + k2 AS total FROM t WHERE s = 's1' AND v > 1.0) GROUP BY k1 \
            ORDER BY k1";
        let (plan, split) = same_answer_on_device(sql, four_batches(false), 8 << 10).await;
        let text = shown(&plan);
        assert!(text.contains(", projection=["), "{text}");
        assert!(text.contains(", filter="), "{text}");
        assert!(!text.contains("FilterExec"), "{text}");
        assert_eq!(split, (2000, 0));
        // With nulls in `n`, the argument's chunks with a null run on the CPU, the rest on
        // the device; the answer is the same.
        let (_, (gpu, cpu)) = same_answer_on_device(sql, four_batches(true), 8 << 10).await;
        assert!(gpu > 0 && cpu > 0, "gpu {gpu}, cpu {cpu}");
    }

    /// Predicates of any shape the programs cover: OR, NOT, IS NULL, arithmetic, with nulls
    /// in their columns (three-valued logic on the device).
    #[tokio::test]
    async fn predicates_with_or_not_and_nulls_run_on_the_device() {
        for sql in [
            "SELECT k1, count(*) AS c, sum(v) AS sv FROM t \
             WHERE (s = 's1' OR n > 100) AND NOT (k2 < 0) GROUP BY k1 ORDER BY k1",
            "SELECT k1, count(*) AS c FROM t WHERE n IS NULL OR v * 2.0 >= 5.0 \
             GROUP BY k1 ORDER BY k1",
            "SELECT k1, count(*) AS c FROM t WHERE NOT (n + k2 < 0 OR s != 's0') \
             GROUP BY k1 ORDER BY k1",
            "SELECT k1, sum(k2) AS c FROM t WHERE n IS NOT NULL AND k2 >= 0 GROUP BY k1 \
             ORDER BY k1",
        ] {
            for nulls in [false, true] {
                let (plan, split) = same_answer_on_device(sql, four_batches(nulls), 16 << 10).await;
                let text = shown(&plan);
                assert!(!text.contains("FilterExec"), "{sql}: {text}");
                assert_eq!(split, (2000, 0), "{sql}");
            }
        }
    }

    /// A NaN that arithmetic made has the processor's sign, which the total order tells
    /// apart: a chunk where one is compared runs on the CPU. A NaN read from a column is the
    /// device's to compare.
    #[tokio::test]
    async fn a_compared_nan_made_by_arithmetic_sends_its_chunk_to_the_cpu() {
        let batch = rows(false);
        let v: Float64Array = (0..2000)
            .map(|i| match i {
                100 => f64::INFINITY,
                700 => f64::NAN,
                _ => f64::from(i % 17) * 0.25,
            })
            .collect();
        let batches = replaced(&batch, 2, Arc::new(v));
        let sql = "SELECT k1, count(*) AS c FROM t WHERE v - v < 1.0 GROUP BY k1 ORDER BY k1";
        let (_, (gpu, cpu)) = same_answer_on_device(sql, batches.clone(), 1 << 20).await;
        // Rows 100 (inf - inf) and 700 (NaN - NaN) are in the first partition's chunk.
        assert_eq!((gpu, cpu), (1000, 1000));
        let sql = "SELECT k1, count(*) AS c FROM t WHERE v > 2.0 GROUP BY k1 ORDER BY k1";
        let (_, split) = same_answer_on_device(sql, batches, 1 << 20).await;
        assert_eq!(split, (2000, 0));
    }

    /// Dates and timestamps compare by their numbers on the device.
    #[tokio::test]
    async fn dates_and_timestamps_compare_on_the_device() {
        use arrow::array::{Date32Array, TimestampNanosecondArray};
        let batch = rows(false);
        let day = Date32Array::from_iter_values((0..2000).map(|i| 19_000 + i % 40));
        let at = TimestampNanosecondArray::from_iter_values(
            (0..2000).map(|i| i64::from(i) * 3_600_000_000_000),
        );
        let batches = widened(&batch, vec![("day", Arc::new(day)), ("at", Arc::new(at))]);
        let sql = "SELECT k1, count(*) AS c FROM t WHERE day >= DATE '2022-01-20' \
            AND at < TIMESTAMP '1970-02-01 00:00:00' GROUP BY k1 ORDER BY k1";
        let (plan, split) = same_answer_on_device(sql, batches, 1 << 20).await;
        assert!(!shown(&plan).contains("FilterExec"), "{}", shown(&plan));
        assert_eq!(split, (2000, 0));
    }

    /// Keys whose ranges need more than 63 bits together are hashed by rows on the device.
    #[tokio::test]
    async fn keys_too_wide_to_pack_group_by_rows() {
        let batch = rows(false);
        let far: Int64Array = (0..2000)
            .map(|i| (i64::from(i % 5) - 2) * (1i64 << 60))
            .collect();
        let batches = replaced(&batch, 1, Arc::new(far));
        let sql = "SELECT k1, k2, s, count(*) AS c, sum(n) AS sn, min(n) AS lo \
            FROM t GROUP BY k1, k2, s ORDER BY k1, k2, s";
        let (_, split) = same_answer_on_device(sql, batches.clone(), 16 << 10).await;
        assert_eq!(split, (2000, 0));
        let (_, split) = same_answer_on_device(sql, batches, 1 << 20).await;
        assert_eq!(split, (2000, 0));
    }

    /// Float keys group by their bits with -0.0 folded into 0.0, as DataFusion groups them:
    /// each NaN is a group, as is each distinct value.
    #[tokio::test]
    async fn float_keys_group_as_datafusion_groups_them() {
        let batch = rows(false);
        let v: Float64Array = (0..2000)
            .map(|i| match i % 9 {
                0 => f64::NAN,
                1 => -0.0,
                2 => 0.0,
                3 => f64::INFINITY,
                _ => f64::from(i % 5) * 0.5 - 1.0,
            })
            .collect();
        let batches = replaced(&batch, 2, Arc::new(v));
        for sql in [
            "SELECT v, count(*) AS c, sum(n) AS sn FROM t GROUP BY v ORDER BY v",
            "SELECT v, k1, count(*) AS c FROM t GROUP BY v, k1 ORDER BY v, k1",
        ] {
            let (_, split) = same_answer_on_device(sql, batches.clone(), 16 << 10).await;
            assert_eq!(split, (2000, 0), "{sql}");
        }
    }

    /// Float `min`/`max` on the device give DataFusion's answer; a chunk with a NaN or a -0.0
    /// (where DataFusion keeps whichever came last) runs on the CPU.
    #[tokio::test]
    async fn float_extremes_run_on_the_device_without_nans() {
        let sql = "SELECT k1, min(v) AS lo, max(v) AS hi, max(v * 1.5 - 1.0) AS m FROM t \
            GROUP BY k1 ORDER BY k1";
        let (_, split) = same_answer_on_device(sql, four_batches(false), 16 << 10).await;
        assert_eq!(split, (2000, 0));
        let batch = rows(false);
        let v: Float64Array = (0..2000)
            .map(|i| match i {
                10 => f64::NAN,
                20 => -0.0,
                30 => f64::NEG_INFINITY,
                _ => f64::from(i % 17) * 0.25 - 2.0,
            })
            .collect();
        let batches = replaced(&batch, 2, Arc::new(v));
        let (_, (gpu, cpu)) = same_answer_on_device(sql, batches, 1 << 20).await;
        assert_eq!((gpu, cpu), (1000, 1000));
    }

    /// A boolean column is a condition of its own on the device.
    #[tokio::test]
    async fn boolean_columns_are_conditions() {
        let batch = rows(true);
        let flag: arrow::array::BooleanArray = (0..2000)
            .map(|i| (i % 11 != 0).then_some(i % 3 == 0))
            .collect();
        let batches = widened(&batch, vec![("flag", Arc::new(flag))]);
        for sql in [
            "SELECT k1, count(*) AS c, sum(v) AS sv FROM t WHERE flag GROUP BY k1 ORDER BY k1",
            "SELECT k1, count(*) AS c FROM t WHERE NOT flag OR flag IS NULL GROUP BY k1 \
             ORDER BY k1",
        ] {
            let (plan, split) = same_answer_on_device(sql, batches.clone(), 1 << 20).await;
            assert!(!shown(&plan).contains("FilterExec"), "{sql}");
            assert_eq!(split, (2000, 0), "{sql}");
        }
    }
}

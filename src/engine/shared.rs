//! A part of a query that is mentioned more than once runs once. DataFusion plans every
//! mention of a common table expression (`WITH revenue AS (…)` read twice, as in TPC-H q15) and
//! of a repeated subquery on its own, so each mention scans and aggregates the same rows again;
//! DuckDB and Polars compute such a part once, and so does Postgres for a CTE named twice.
//!
//! `SharingPlanner` finds the largest repeated parts of the optimized logical plan that
//! aggregate (work worth keeping, and usually few rows), plans every mention as a `SharedExec`
//! over one physical plan, and the first mention to read a partition keeps its batches, held
//! against the memory pool, for the others. A part too large to keep fails the attempt with
//! `ResourcesExhausted`, and the frugal second attempt plans without sharing.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchemaRef, Result, Statistics, internal_err};
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{
    Expr, Extension, LogicalPlan, UserDefinedLogicalNode, UserDefinedLogicalNodeCore,
};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::statistics::{ChildStats, StatisticsArgs};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, displayable,
};
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};
use futures::{StreamExt, TryStreamExt};
use tokio::sync::OnceCell;

/// Plans as DataFusion does, with each repeated part planned once.
#[derive(Debug)]
pub(super) struct SharingPlanner;

#[async_trait]
impl QueryPlanner for SharingPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let logical_plan = mark_repeats(logical_plan.clone())?;
        let planner = DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(PlanShared)]);
        let plan = planner.create_physical_plan(&logical_plan, session).await?;
        one_input_per_part(plan)
    }
}

/// Wraps every mention of a repeated part worth sharing in a `Shared` node; the mentions of
/// one part get the same slot.
fn mark_repeats(plan: LogicalPlan) -> Result<LogicalPlan> {
    // A recursive query runs its recursive term again and again: nothing there may be kept.
    if plan.exists(|node| Ok(matches!(node, LogicalPlan::RecursiveQuery(_))))? {
        return Ok(plan);
    }
    let mut mentions: HashMap<LogicalPlan, usize> = HashMap::new();
    plan.apply_with_subqueries(|node| {
        *mentions.entry(node.clone()).or_default() += 1;
        Ok(TreeNodeRecursion::Continue)
    })?;
    let mut slots: HashMap<LogicalPlan, Arc<Slot>> = HashMap::new();
    plan.transform_down_with_subqueries(|node| {
        if mentions.get(&node).copied().unwrap_or(0) < 2 || !worth_sharing(&node)? {
            return Ok(Transformed::no(node));
        }
        let next = slots.len() + 1;
        let slot = slots
            .entry(node.clone())
            .or_insert_with(|| Arc::new(Slot::new(next)))
            .clone();
        let shared = Shared { input: node, slot };
        let node = LogicalPlan::Extension(Extension {
            node: Arc::new(shared),
        });
        Ok(Transformed::new(node, true, TreeNodeRecursion::Jump))
    })
    .map(|transformed| transformed.data)
}

/// A part that aggregates, reads nothing from an enclosing query and calls nothing volatile:
/// each mention would compute the same rows, and they are worth keeping.
fn worth_sharing(part: &LogicalPlan) -> Result<bool> {
    let aggregates = part.exists(|node| Ok(matches!(node, LogicalPlan::Aggregate(_))))?;
    let differs_by_mention = part.exists(|node| {
        Ok(node.contains_outer_reference()
            || node.expressions().iter().any(Expr::is_volatile)
            || matches!(node, LogicalPlan::Extension(_)))
    })?;
    Ok(aggregates && !differs_by_mention)
}

/// Gives every mention of a part the same physical input: the optimizer rewrote each mention's
/// copy alike, and the first is kept. The other mentions read it without showing it as their
/// child, so a walk of the plan (its graph, task spans and scan progress) meets it once. A copy
/// that the optimizer planned otherwise (nothing should cross a mention, but the answer must
/// not rest on that) keeps its own input and batches.
fn one_input_per_part(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    let mut inputs: HashMap<usize, (Arc<dyn ExecutionPlan>, String)> = HashMap::new();
    plan.transform_up(|node| {
        let Some(shared) = node.downcast_ref::<SharedExec>() else {
            return Ok(Transformed::no(node));
        };
        let shown = displayable(shared.input.as_ref()).indent(true).to_string();
        let mention = match inputs.get(&shared.slot.part) {
            None => {
                inputs.insert(shared.slot.part, (shared.input.clone(), shown));
                return Ok(Transformed::no(node));
            }
            Some((first, first_shown)) if *first_shown == shown => {
                SharedExec::new(first.clone(), shared.slot.clone(), Mention::Reads)
            }
            Some(_) => {
                let own = Arc::new(Slot::new(shared.slot.part));
                SharedExec::new(shared.input.clone(), own, Mention::Runs)
            }
        };
        Ok(Transformed::yes(Arc::new(mention) as Arc<dyn ExecutionPlan>))
    })
    .map(|transformed| transformed.data)
}

/// What the mentions of one part share: each partition's batches, once the first mention to
/// read that partition has run it.
#[derive(Debug)]
struct Slot {
    /// Numbers the parts of one query (1, 2, …) for the plan's display.
    part: usize,
    partitions: Mutex<HashMap<usize, Arc<OnceCell<Kept>>>>,
}

impl Slot {
    fn new(part: usize) -> Slot {
        Slot {
            part,
            partitions: Mutex::new(HashMap::new()),
        }
    }

    fn partition(&self, partition: usize) -> Arc<OnceCell<Kept>> {
        let mut partitions = self
            .partitions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        partitions.entry(partition).or_default().clone()
    }
}

/// One partition's batches, and the memory they hold.
#[derive(Debug)]
struct Kept {
    batches: Vec<RecordBatch>,
    _reservation: MemoryReservation,
}

/// The logical mark of a mention of a repeated part.
#[derive(Debug, Clone)]
struct Shared {
    input: LogicalPlan,
    slot: Arc<Slot>,
}

impl PartialEq for Shared {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.slot, &other.slot) && self.input == other.input
    }
}

impl Eq for Shared {}

impl Hash for Shared {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.slot.part.hash(state);
        self.input.hash(state);
    }
}

impl PartialOrd for Shared {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.slot.part.cmp(&other.slot.part) {
            Ordering::Equal => self.input.partial_cmp(&other.input),
            unequal => Some(unequal),
        }
    }
}

impl UserDefinedLogicalNodeCore for Shared {
    fn name(&self) -> &str {
        "Shared"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        self.input.schema()
    }

    fn expressions(&self) -> Vec<Expr> {
        Vec::new()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "Shared: part={}", self.slot.part)
    }

    fn with_exprs_and_inputs(&self, _exprs: Vec<Expr>, inputs: Vec<LogicalPlan>) -> Result<Self> {
        let Ok([input]) = <[LogicalPlan; 1]>::try_from(inputs) else {
            return internal_err!("Shared takes one input");
        };
        Ok(Shared {
            input,
            slot: self.slot.clone(),
        })
    }
}

/// Plans a `Shared` mark as a `SharedExec`.
struct PlanShared;

#[async_trait]
impl ExtensionPlanner for PlanShared {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(shared) = node.as_any().downcast_ref::<Shared>() else {
            return Ok(None);
        };
        let [input] = physical_inputs else {
            return internal_err!("Shared takes one input");
        };
        let mention = SharedExec::new(input.clone(), shared.slot.clone(), Mention::Runs);
        Ok(Some(Arc::new(mention)))
    }
}

/// One mention of a repeated part: each partition of its input runs once for all mentions.
/// Nothing crosses a mention into the part, as DataFusion's defaults for an operator have it:
/// not an ordering (a sort pushed into one mention's copy would be lost if the other copy is
/// kept), not a filter, a projection or a limit.
#[derive(Debug)]
struct SharedExec {
    input: Arc<dyn ExecutionPlan>,
    slot: Arc<Slot>,
    mention: Mention,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

/// Whether a mention shows the part's input as its child, or reads it from the mention that
/// does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mention {
    Runs,
    Reads,
}

impl SharedExec {
    fn new(input: Arc<dyn ExecutionPlan>, slot: Arc<Slot>, mention: Mention) -> SharedExec {
        SharedExec {
            properties: input.properties().clone(),
            input,
            slot,
            mention,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl DisplayAs for SharedExec {
    fn fmt_as(&self, _format: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match self.mention {
            Mention::Runs => write!(f, "SharedExec: part={}", self.slot.part),
            Mention::Reads => write!(f, "SharedExec: part={}, read from above", self.slot.part),
        }
    }
}

impl ExecutionPlan for SharedExec {
    fn name(&self) -> &str {
        "SharedExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    /// The part is kept as it comes: no repartitioning below a mention.
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false; self.children().len()]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        match self.mention {
            Mention::Runs => vec![&self.input],
            Mention::Reads => Vec::new(),
        }
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = match (
            self.mention,
            <[Arc<dyn ExecutionPlan>; 1]>::try_from(children),
        ) {
            (Mention::Runs, Ok([input])) => input,
            (Mention::Reads, Err(none)) if none.is_empty() => self.input.clone(),
            _ => return internal_err!("a SharedExec that runs its part takes one input"),
        };
        let mention = SharedExec::new(input, self.slot.clone(), self.mention);
        Ok(Arc::new(mention))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let cell = self.slot.partition(partition);
        let input = self.input.clone();
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let batches = async move {
            let kept = cell
                .get_or_try_init(|| keep(input, partition, context))
                .await?;
            Ok::<_, datafusion::error::DataFusionError>(futures::stream::iter(
                kept.batches.clone().into_iter().map(Ok),
            ))
        };
        let output = futures::stream::once(batches)
            .try_flatten()
            .inspect_ok(move |batch| baseline.record_output(batch.num_rows()));
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            output,
        )))
    }

    /// The part's own statistics, so that joins above choose their sides as before.
    fn child_stats_requests(&self, partition: Option<usize>) -> Vec<ChildStats> {
        vec![ChildStats::At(partition); self.children().len()]
    }

    fn statistics_from_inputs(
        &self,
        input_stats: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        match input_stats {
            [part] => Ok(part.clone()),
            _ => Ok(Arc::new(Statistics::new_unknown(&self.schema()))),
        }
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// Runs one partition of the part and keeps its batches, held against the memory pool.
async fn keep(
    input: Arc<dyn ExecutionPlan>,
    partition: usize,
    context: Arc<TaskContext>,
) -> Result<Kept> {
    let reservation =
        MemoryConsumer::new(format!("SharedExec[{partition}]")).register(context.memory_pool());
    let mut stream = input.execute(partition, context)?;
    let mut batches = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        reservation.try_grow(batch.get_array_memory_size())?;
        batches.push(batch);
    }
    Ok(Kept {
        batches,
        _reservation: reservation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::execution::SessionStateBuilder;
    use datafusion::physical_plan::collect;
    use datafusion::prelude::SessionContext;

    /// A table of `rows` rows: `g` cycles through 0..7, `v` counts up.
    fn table(ctx: &SessionContext, rows: i64) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("g", DataType::Int64, false),
            Field::new("v", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values((0..rows).map(|i| i % 7))),
                Arc::new(Int64Array::from_iter_values(0..rows)),
            ],
        )
        .expect("a batch");
        ctx.register_batch("t", batch).expect("registered");
    }

    fn sharing_session() -> SessionContext {
        let state = SessionStateBuilder::new()
            .with_default_features()
            .with_query_planner(Arc::new(SharingPlanner))
            .build();
        SessionContext::new_with_state(state)
    }

    /// The mentions of shared parts: (part, whether it runs the input, the input).
    fn mentions(plan: &Arc<dyn ExecutionPlan>) -> Vec<(usize, Mention, Arc<dyn ExecutionPlan>)> {
        let mut found = Vec::new();
        plan.apply(|node| {
            if let Some(shared) = node.downcast_ref::<SharedExec>() {
                found.push((shared.slot.part, shared.mention, shared.input.clone()));
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .expect("walked");
        found
    }

    async fn answer(ctx: &SessionContext, sql: &str) -> (String, Arc<dyn ExecutionPlan>) {
        let frame = ctx.sql(sql).await.expect("planned");
        let task = Arc::new(frame.task_ctx());
        let plan = frame.create_physical_plan().await.expect("physical plan");
        let batches = collect(plan.clone(), task).await.expect("ran");
        let text = pretty_format_batches(&batches)
            .expect("printed")
            .to_string();
        (text, plan)
    }

    /// The largest group's total, named twice: in the query and in its scalar subquery.
    const TWICE: &str = "with totals as (select g, sum(v) as total from t group by g) \
        select g, total from totals where total = (select max(total) from totals)";

    #[tokio::test]
    async fn a_part_named_twice_runs_once_with_the_same_answer() {
        let shared = sharing_session();
        let plain = SessionContext::new();
        table(&shared, 10_000);
        table(&plain, 10_000);
        let (expected, _) = answer(&plain, TWICE).await;
        let (got, plan) = answer(&shared, TWICE).await;
        assert_eq!(got, expected);
        // g = 3 has 1,429 values: 3 + 10 + … + 9999.
        assert!(expected.contains("| 3 | 7146429 |"), "{expected}");
        let mentions = mentions(&plan);
        let [(part, first, input), (same_part, second, same_input)] = &mentions[..] else {
            panic!("two mentions: {mentions:?}");
        };
        assert!(part == same_part && Arc::ptr_eq(input, same_input));
        let mut roles = [*first, *second];
        roles.sort_by_key(|role| *role == Mention::Reads);
        assert_eq!(roles, [Mention::Runs, Mention::Reads]);
        // Run once for both mentions: its seven groups, not fourteen.
        let rows = input.metrics().and_then(|metrics| metrics.output_rows());
        assert_eq!(rows, Some(7));
        let shown = displayable(plan.as_ref()).indent(false).to_string();
        assert_eq!(shown.matches("DataSourceExec").count(), 1, "{shown}");
    }

    /// Two mentions of one part whose copies were planned differently (here: one scan in one
    /// partition, the other in two) each read their own.
    #[tokio::test]
    async fn copies_planned_apart_keep_their_own_batches() {
        use datafusion::datasource::memory::MemorySourceConfig;
        use datafusion::physical_plan::union::UnionExec;
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
        let batch = |values: Vec<i64>| {
            let column = Arc::new(Int64Array::from(values));
            RecordBatch::try_new(schema.clone(), vec![column]).expect("a batch")
        };
        let slot = Arc::new(Slot::new(1));
        let mention = |partitions: Vec<Vec<RecordBatch>>| {
            let scan = MemorySourceConfig::try_new_exec(&partitions, schema.clone(), None)
                .expect("a scan");
            Arc::new(SharedExec::new(scan, slot.clone(), Mention::Runs)) as Arc<dyn ExecutionPlan>
        };
        let one = mention(vec![vec![batch(vec![1, 2])]]);
        let two = mention(vec![vec![batch(vec![30])], vec![batch(vec![40])]]);
        let union = UnionExec::try_new(vec![one, two]).expect("a union");
        let plan = one_input_per_part(union).expect("rewritten");
        let batches = collect(plan, Arc::new(TaskContext::default()))
            .await
            .expect("ran");
        let mut values: Vec<i64> = batches
            .iter()
            .flat_map(|batch| {
                batch
                    .column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .cloned()
            })
            .flat_map(|column| column.values().to_vec())
            .collect();
        values.sort_unstable();
        assert_eq!(values, [1, 2, 30, 40]);
    }

    #[tokio::test]
    async fn parts_named_once_or_without_aggregates_are_planned_as_before() {
        let ctx = sharing_session();
        table(&ctx, 100);
        for sql in [
            "with totals as (select g, sum(v) as total from t group by g) select * from totals",
            "with big as (select * from t where v > 5) \
             select count(*) from big union all select sum(v) from big",
            "with r as (select g, sum(v * random()) as x from t group by g) \
             select sum(x) from r union all select max(x) from r",
        ] {
            let (_, plan) = answer(&ctx, sql).await;
            assert!(mentions(&plan).is_empty(), "{sql}");
        }
    }

    #[tokio::test]
    async fn a_recursive_query_is_planned_as_before() {
        let ctx = sharing_session();
        let sql = "with recursive n(i) as (select 1 union all select i + 1 from n where i < 5) \
                   select sum(i) from n";
        let (got, plan) = answer(&ctx, sql).await;
        assert!(mentions(&plan).is_empty());
        assert!(got.contains("| 15 "), "{got}");
    }

    #[tokio::test]
    async fn a_part_too_large_to_keep_exhausts_the_pool() {
        use datafusion::execution::memory_pool::GreedyMemoryPool;
        use datafusion::execution::runtime_env::RuntimeEnvBuilder;
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(GreedyMemoryPool::new(64 << 10)))
            .build_arc()
            .expect("a runtime");
        let state = SessionStateBuilder::new()
            .with_default_features()
            .with_runtime_env(runtime)
            .with_query_planner(Arc::new(SharingPlanner))
            .build();
        let ctx = SessionContext::new_with_state(state);
        table(&ctx, 200_000);
        let sql = "with parts as (select v, count(*) as n from t group by v) \
                   select count(*) from parts union all select sum(n) from parts";
        let frame = ctx.sql(sql).await.expect("planned");
        let error = frame.collect().await.expect_err("over the pool");
        assert!(
            matches!(
                error.find_root(),
                datafusion::error::DataFusionError::ResourcesExhausted(_)
            ),
            "{error}"
        );
    }
}

//! Grouping by one integer key whose values lie in a small range (user ids, product ids) is
//! the commonest groupby there is, and the hash table DataFusion builds for it is most of its
//! cost: hashing and probing every row. When the input's statistics bound the key to a range
//! of at most `MAX_RANGE` values, the partial aggregation is replaced by one that indexes the
//! accumulators by `key - min` directly. Statistics only pick the range: keys outside it (the
//! statistics were loose) and nulls get groups of their own through a small map, so the answer
//! never depends on them. DataFusion's own accumulators do the aggregating, and the output is
//! the partial aggregation's, so the final aggregation after it is unchanged.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch, UInt64Array};
use arrow::compute::take;
use arrow::datatypes::{DataType, Int64Type, SchemaRef};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result, ScalarValue, Statistics};
use datafusion::config::ConfigOptions;
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::logical_expr::{EmitTo, GroupsAccumulator};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties,
    ReplaceChildrenOptions, SendableRecordBatchStream, StatisticsArgs, StatisticsContext,
};
use futures::{StreamExt, TryStreamExt};

/// The widest key range indexed directly: a few MB of accumulator state per partition.
const MAX_RANGE: u64 = 1 << 20;

/// Replaces partial aggregations grouped by one bounded `Int64` key with `DenseGroupByExec`.
#[derive(Debug, Default)]
pub struct DenseGroupBy;

impl PhysicalOptimizerRule for DenseGroupBy {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let dense = node
                .downcast_ref::<AggregateExec>()
                .and_then(|aggregate| DenseGroupByExec::try_new(aggregate).transpose());
            match dense {
                Some(exec) => Ok(Transformed::yes(Arc::new(exec?) as Arc<dyn ExecutionPlan>)),
                None => Ok(Transformed::no(node)),
            }
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "dense_groupby"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// A partial aggregation by one `Int64` key, its groups indexed by `key - min`.
#[derive(Debug)]
pub struct DenseGroupByExec {
    /// The aggregation replaced: its expressions, its schema, and the plan run instead when
    /// the memory for the dense groups cannot be had.
    inner: Arc<AggregateExec>,
    min: i64,
    range: usize,
}

impl DenseGroupByExec {
    /// `None` where the aggregation is not one this can run, or its key is not bounded.
    fn try_new(aggregate: &AggregateExec) -> Result<Option<DenseGroupByExec>> {
        if !Self::supports(aggregate) {
            return Ok(None);
        }
        let key = &aggregate.group_expr().expr()[0].0;
        let input = aggregate.input();
        if key.data_type(&input.schema())? != DataType::Int64 {
            return Ok(None);
        }
        let Some(column) = key.downcast_ref::<datafusion::physical_expr::expressions::Column>()
        else {
            return Ok(None);
        };
        let stats = StatisticsContext::new().compute(input.as_ref(), &StatisticsArgs::new())?;
        let Some((min, range)) = key_range(&stats, column.index()) else {
            return Ok(None);
        };
        Ok(Some(DenseGroupByExec {
            inner: Arc::new(aggregate.clone()),
            min,
            range,
        }))
    }

    /// The partial aggregation it runs.
    pub fn aggregate(&self) -> &AggregateExec {
        &self.inner
    }

    fn supports(aggregate: &AggregateExec) -> bool {
        let group_by = aggregate.group_expr();
        *aggregate.mode() == AggregateMode::Partial
            && group_by.expr().len() == 1
            && group_by.is_single()
            && aggregate.limit_options().is_none()
            && aggregate.filter_expr().iter().all(Option::is_none)
            && aggregate.aggr_expr().iter().all(|a| {
                a.groups_accumulator_supported() && !a.is_distinct() && a.order_bys().is_empty()
            })
    }

    fn with_inner(&self, inner: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
        match inner.downcast_ref::<AggregateExec>() {
            Some(aggregate) => Ok(Arc::new(DenseGroupByExec {
                inner: Arc::new(aggregate.clone()),
                min: self.min,
                range: self.range,
            })),
            None => Ok(inner),
        }
    }
}

/// The key column's `[min, max]` from the statistics, as `(min, max - min + 1)`, if it is
/// narrow enough (and no wider than the rows, so the groups are dense).
fn key_range(stats: &Statistics, column: usize) -> Option<(i64, usize)> {
    let column = stats.column_statistics.get(column)?;
    let (Some(ScalarValue::Int64(Some(min))), Some(ScalarValue::Int64(Some(max)))) =
        (column.min_value.get_value(), column.max_value.get_value())
    else {
        return None;
    };
    let width = u64::try_from(i128::from(*max) - i128::from(*min) + 1).ok()?;
    let rows = stats.num_rows.get_value().map_or(u64::MAX, |&r| r as u64);
    (width <= MAX_RANGE && width <= rows).then_some((*min, width as usize))
}

impl DisplayAs for DenseGroupByExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let key = &self.inner.group_expr().expr()[0];
        let aggregates: Vec<&str> = self.inner.aggr_expr().iter().map(|a| a.name()).collect();
        match t {
            DisplayFormatType::TreeRender => write!(f, "gby={}", key.1),
            _ => write!(
                f,
                "DenseGroupByExec: mode=Partial, gby=[{} as {}], keys={}..={}, aggr=[{}]",
                key.0,
                key.1,
                self.min,
                self.min as i128 + self.range as i128 - 1,
                aggregates.join(", ")
            ),
        }
    }
}

impl ExecutionPlan for DenseGroupByExec {
    fn name(&self) -> &str {
        "DenseGroupByExec"
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
        self.with_inner(inner)
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

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let groups = Groups::new(&self.inner, self.min, self.range)?;
        let reservation = MemoryConsumer::new(format!("DenseGroupByExec[{partition}]"))
            .register(context.memory_pool());
        if reservation.try_grow(groups.estimated_size()).is_err() {
            // DataFusion's hash aggregation keeps only the groups it sees, and can say when
            // even those do not fit.
            return self.inner.execute(partition, context);
        }
        let input = self.inner.input().execute(partition, context.clone())?;
        let schema = self.schema();
        let batch_size = context.session_config().batch_size();
        let output = futures::stream::once(aggregate(input, groups, reservation, schema.clone()))
            .map_ok(move |batch| futures::stream::iter(slices(batch, batch_size)).map(Ok))
            .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, output)))
    }
}

async fn aggregate(
    mut input: SendableRecordBatchStream,
    mut groups: Groups,
    reservation: MemoryReservation,
    schema: SchemaRef,
) -> Result<RecordBatch> {
    while let Some(batch) = input.next().await {
        groups.update(&batch?)?;
        reservation.try_resize(groups.size())?;
    }
    groups.emit(schema)
}

fn slices(batch: RecordBatch, rows: usize) -> Vec<RecordBatch> {
    let rows = rows.max(1);
    (0..batch.num_rows())
        .step_by(rows)
        .map(|start| batch.slice(start, rows.min(batch.num_rows() - start)))
        .collect()
}

/// One partition's groups: index `k - min` for keys in range, then one index per other key
/// (or null) seen.
struct Groups {
    key: Arc<dyn PhysicalExpr>,
    arguments: Vec<Vec<Arc<dyn PhysicalExpr>>>,
    accumulators: Vec<Box<dyn GroupsAccumulator>>,
    min: i64,
    range: usize,
    seen: Vec<bool>,
    /// Keys outside the range, in the order of their group indices after `range`.
    others: Vec<Option<i64>>,
    other_index: HashMap<Option<i64>, usize>,
    indices: Vec<usize>,
}

impl Groups {
    fn new(aggregate: &AggregateExec, min: i64, range: usize) -> Result<Groups> {
        let aggregates = aggregate.aggr_expr();
        Ok(Groups {
            key: aggregate.group_expr().expr()[0].0.clone(),
            arguments: aggregates.iter().map(|a| a.expressions()).collect(),
            accumulators: aggregates
                .iter()
                .map(|a| a.create_groups_accumulator())
                .collect::<Result<_>>()?,
            min,
            range,
            seen: vec![false; range],
            others: Vec::new(),
            other_index: HashMap::new(),
            indices: Vec::new(),
        })
    }

    /// Memory for the dense groups before any row is seen: a few words per aggregate.
    fn estimated_size(&self) -> usize {
        self.range * (1 + 16 * self.accumulators.len())
    }

    fn size(&self) -> usize {
        self.seen.len()
            + self.indices.capacity() * size_of::<usize>()
            + self.others.capacity() * size_of::<Option<i64>>() * 3
            + self.accumulators.iter().map(|a| a.size()).sum::<usize>()
    }

    fn total(&self) -> usize {
        self.range + self.others.len()
    }

    fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        let keys = self.key.evaluate(batch)?.into_array(batch.num_rows())?;
        self.index(keys.as_primitive::<Int64Type>());
        let total = self.total();
        for (arguments, accumulator) in self.arguments.iter().zip(&mut self.accumulators) {
            let values = arguments
                .iter()
                .map(|e| e.evaluate(batch)?.into_array(batch.num_rows()))
                .collect::<Result<Vec<ArrayRef>>>()?;
            accumulator.update_batch(&values, &self.indices, None, total)?;
        }
        Ok(())
    }

    fn index(&mut self, keys: &Int64Array) {
        self.indices.clear();
        for key in keys.iter() {
            let dense = key
                .and_then(|k| usize::try_from(k.checked_sub(self.min)?).ok())
                .filter(|&k| k < self.range);
            let index = match dense {
                Some(k) => {
                    self.seen[k] = true;
                    k
                }
                None => self.other(key),
            };
            self.indices.push(index);
        }
    }

    fn other(&mut self, key: Option<i64>) -> usize {
        let next = self.range + self.others.len();
        *self.other_index.entry(key).or_insert_with(|| {
            self.others.push(key);
            next
        })
    }

    /// The groups seen, with their partial states, in the partial aggregation's schema.
    fn emit(mut self, schema: SchemaRef) -> Result<RecordBatch> {
        let chosen: Vec<usize> = (0..self.range)
            .filter(|&k| self.seen[k])
            .chain(self.range..self.total())
            .collect();
        let keys: Int64Array = chosen
            .iter()
            .map(|&k| match k.checked_sub(self.range) {
                // Below `range` (at most 2^20), so the cast is exact.
                None => Some(self.min + k as i64),
                Some(other) => self.others[other],
            })
            .collect();
        let chosen = UInt64Array::from_iter_values(chosen.into_iter().map(|k| k as u64));
        let mut columns: Vec<ArrayRef> = vec![Arc::new(keys)];
        for accumulator in &mut self.accumulators {
            for state in accumulator.state(EmitTo::All)? {
                columns.push(take(&state, &chosen, None)?);
            }
        }
        Ok(RecordBatch::try_new(schema, columns)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, StringArray};
    use arrow::datatypes::{Field, Schema};
    use arrow::util::pretty::pretty_format_batches;
    use datafusion::physical_plan::collect;
    use datafusion::prelude::{SessionConfig, SessionContext};

    const QUERY: &str = "SELECT k, sum(v) AS s, avg(v) AS a, max(v) AS hi, min(name) AS lo, \
                         count(v) AS n, count(*) AS rows FROM t GROUP BY k ORDER BY k";

    /// Keys 0..=40 with nulls among keys and values, in two Parquet files (so two partitions
    /// and statistics that bound the key).
    fn write_parquet(dir: &std::path::Path) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, true),
            Field::new("v", DataType::Float64, true),
            Field::new("name", DataType::Utf8, true),
        ]));
        for file in 0..2 {
            let rows = 0..500i64;
            let k: Int64Array = rows
                .clone()
                .map(|i| (i % 13 != 0).then_some((i * 7 + file) % 41))
                .collect();
            let v: Float64Array = rows
                .clone()
                .map(|i| (i % 5 != 0).then_some(i as f64 * 0.5 - 40.0))
                .collect();
            let name: StringArray = rows.map(|i| Some(format!("n{}", i % 17))).collect();
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(k), Arc::new(v), Arc::new(name)],
            )
            .unwrap();
            let out = std::fs::File::create(dir.join(format!("part-{file}.parquet"))).unwrap();
            let mut writer =
                parquet::arrow::ArrowWriter::try_new(out, schema.clone(), None).unwrap();
            writer.write(&batch).unwrap();
            writer.close().unwrap();
        }
    }

    async fn context(dir: &std::path::Path, dense: bool) -> SessionContext {
        let config = SessionConfig::new().with_target_partitions(2);
        let mut state = datafusion::execution::session_state::SessionStateBuilder::new()
            .with_config(config)
            .with_default_features();
        if dense {
            state = state.with_physical_optimizer_rule(Arc::new(DenseGroupBy));
        }
        let ctx = SessionContext::new_with_state(state.build());
        ctx.register_parquet("t", dir.to_str().unwrap(), Default::default())
            .await
            .unwrap();
        ctx
    }

    async fn run(plan: Arc<dyn ExecutionPlan>, ctx: &SessionContext) -> String {
        let batches = collect(plan, ctx.task_ctx()).await.unwrap();
        pretty_format_batches(&batches).unwrap().to_string()
    }

    async fn plan(ctx: &SessionContext) -> Arc<dyn ExecutionPlan> {
        ctx.sql(QUERY)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap()
    }

    fn count_dense(plan: &Arc<dyn ExecutionPlan>) -> usize {
        let here = usize::from(plan.downcast_ref::<DenseGroupByExec>().is_some());
        here + plan.children().into_iter().map(count_dense).sum::<usize>()
    }

    #[tokio::test]
    async fn same_groups_as_the_hash_aggregation() {
        let dir = tempfile::tempdir().unwrap();
        write_parquet(dir.path());
        let hashed = context(dir.path(), false).await;
        let dense = context(dir.path(), true).await;
        let dense_plan = plan(&dense).await;
        assert_eq!(
            count_dense(&dense_plan),
            1,
            "the rule applies to the bounded key"
        );
        let expected = run(plan(&hashed).await, &hashed).await;
        assert!(expected.contains("| 40 |"), "{expected}");
        assert_eq!(run(dense_plan, &dense).await, expected);
    }

    /// Statistics narrower than the data (and null keys) must not change the answer: the
    /// keys outside the range get groups of their own.
    #[tokio::test]
    async fn keys_outside_the_range_still_group() {
        let dir = tempfile::tempdir().unwrap();
        write_parquet(dir.path());
        let ctx = context(dir.path(), false).await;
        let expected = run(plan(&ctx).await, &ctx).await;
        for (min, range) in [(10, 5), (-3, 2), (40, 1)] {
            // A fresh plan each time: a plan's scan runs once.
            let narrowed = plan(&ctx)
                .await
                .transform_up(|node| {
                    let Some(aggregate) = node.downcast_ref::<AggregateExec>() else {
                        return Ok(Transformed::no(node));
                    };
                    if *aggregate.mode() != AggregateMode::Partial {
                        return Ok(Transformed::no(node));
                    }
                    let exec = DenseGroupByExec {
                        inner: Arc::new(aggregate.clone()),
                        min,
                        range,
                    };
                    Ok(Transformed::yes(Arc::new(exec) as Arc<dyn ExecutionPlan>))
                })
                .unwrap()
                .data;
            assert_eq!(count_dense(&narrowed), 1);
            assert_eq!(run(narrowed, &ctx).await, expected, "range {min}+{range}");
        }
    }

    #[test]
    fn only_narrow_ranges_are_dense() {
        let stats = |min: i64, max: i64, rows: usize| {
            let mut stats =
                Statistics::new_unknown(&Schema::new(vec![Field::new("k", DataType::Int64, true)]));
            stats.num_rows = datafusion::common::stats::Precision::Inexact(rows);
            stats.column_statistics[0].min_value =
                datafusion::common::stats::Precision::Exact(ScalarValue::Int64(Some(min)));
            stats.column_statistics[0].max_value =
                datafusion::common::stats::Precision::Inexact(ScalarValue::Int64(Some(max)));
            stats
        };
        assert_eq!(key_range(&stats(5, 9, 100), 0), Some((5, 5)));
        assert_eq!(
            key_range(&stats(0, 99, 50), 0),
            None,
            "sparser than the rows"
        );
        assert_eq!(
            key_range(&stats(0, 1 << 21, usize::MAX), 0),
            None,
            "too wide"
        );
        assert_eq!(key_range(&stats(i64::MIN, i64::MAX, usize::MAX), 0), None);
    }
}

//! A bounded top-n per group: the aggregate `threshold` keeps each group's n best values of a
//! float64 column (a heap of n, no sort of the data) and gives the n-th, so `nlargest` /
//! `nsmallest` with `by` only rank the rows at or past it, about n per group.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, ListArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{JoinType, ScalarValue, exec_err};
use datafusion::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};
use datafusion::physical_expr::Partitioning;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::joins::utils::JoinFilter;
use datafusion::physical_plan::joins::{HashJoinExec, HashJoinExecBuilder, PartitionMode};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};

/// The aggregate: over a float64 column, each group's `n`-th largest (or smallest) value, or
/// its last one where it has fewer; null where it has none. NaN and nulls are skipped.
pub(super) fn threshold(n: usize, largest: bool) -> AggregateUDF {
    AggregateUDF::new_from_impl(Threshold {
        name: format!(
            "{PREFIX}{n}_{}",
            if largest { "largest" } else { "smallest" }
        ),
        best: Best { n, largest },
        signature: Signature::exact(vec![DataType::Float64], Volatility::Immutable),
    })
}

/// The threshold aggregate a name such as `__rusk_top_2_largest` names: its `n` and
/// direction are all it has, so a plan sent to another process needs nothing more.
pub(super) fn threshold_named(name: &str) -> Option<AggregateUDF> {
    let rest = name.strip_prefix(PREFIX)?;
    let (n, direction) = rest.split_once('_')?;
    let largest = match direction {
        "largest" => true,
        "smallest" => false,
        _ => return None,
    };
    Some(threshold(n.parse().ok()?, largest))
}

/// The start of the aggregate's name, by which `BroadcastThresholds` finds it.
const PREFIX: &str = "__rusk_top_";

#[derive(Debug, PartialEq, Eq, Hash)]
struct Threshold {
    name: String,
    best: Best,
    signature: Signature,
}

/// Which values are best, and how many to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Best {
    n: usize,
    largest: bool,
}

impl Best {
    fn better(self, a: f64, b: f64) -> bool {
        if self.largest { a > b } else { a < b }
    }

    /// Adds `value` to `kept` (best first, at most n).
    fn keep(self, kept: &mut Vec<f64>, value: f64) {
        if value.is_nan() || self.n == 0 {
            return;
        }
        if kept.len() == self.n {
            match kept.last() {
                Some(worst) if self.better(value, *worst) => {
                    kept.pop();
                }
                _ => return,
            }
        }
        let at = kept.partition_point(|k| !self.better(value, *k));
        kept.insert(at, value);
    }
}

fn kept_field() -> FieldRef {
    Arc::new(Field::new(
        "kept",
        DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true))),
        true,
    ))
}

impl AggregateUDFImpl for Threshold {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(One {
            best: self.best,
            kept: Vec::new(),
        }))
    }

    fn state_fields(&self, _: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![kept_field()])
    }

    fn groups_accumulator_supported(&self, _: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Groups {
            best: self.best,
            kept: Vec::new(),
        }))
    }
}

fn floats(array: &ArrayRef) -> Result<&Float64Array> {
    match array.as_primitive_opt::<Float64Type>() {
        Some(values) => Ok(values),
        None => exec_err!(
            "top-n threshold: expected float64, got {}",
            array.data_type()
        ),
    }
}

fn lists(array: &ArrayRef) -> Result<&ListArray> {
    match array.as_list_opt::<i32>() {
        Some(lists) => Ok(lists),
        None => exec_err!(
            "top-n threshold: expected a list state, got {}",
            array.data_type()
        ),
    }
}

fn threshold_of(kept: &[f64]) -> Option<f64> {
    kept.last().copied()
}

fn state_of(groups: Vec<Vec<f64>>) -> ArrayRef {
    Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(
        groups
            .into_iter()
            .map(|kept| Some(kept.into_iter().map(Some))),
    ))
}

/// Every group's kept values.
struct Groups {
    best: Best,
    kept: Vec<Vec<f64>>,
}

impl GroupsAccumulator for Groups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.kept.resize_with(total_num_groups, Vec::new);
        let values = floats(&values[0])?;
        for (row, &group) in group_indices.iter().enumerate() {
            let passes = opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row));
            if passes && values.is_valid(row) {
                self.best.keep(&mut self.kept[group], values.value(row));
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = emit_to.take_needed(&mut self.kept);
        Ok(Arc::new(Float64Array::from_iter(
            groups.iter().map(|kept| threshold_of(kept)),
        )))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(vec![state_of(emit_to.take_needed(&mut self.kept))])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.kept.resize_with(total_num_groups, Vec::new);
        let states = lists(&values[0])?;
        for (row, &group) in group_indices.iter().enumerate() {
            if states.is_null(row) {
                continue;
            }
            let list = states.value(row);
            for value in floats(&list)?.iter().flatten() {
                self.best.keep(&mut self.kept[group], value);
            }
        }
        Ok(())
    }

    /// Each row as a group of its own, for when partial aggregation does not pay (many
    /// groups).
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let values = floats(&values[0])?;
        let rows = (0..values.len()).map(|row| {
            let passes = opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row));
            let value = values.value(row);
            let one = (passes && values.is_valid(row) && !value.is_nan()).then_some(value);
            Some(one.into_iter().map(Some))
        });
        Ok(vec![Arc::new(ListArray::from_iter_primitive::<
            Float64Type,
            _,
            _,
        >(rows))])
    }

    fn size(&self) -> usize {
        self.kept.capacity() * std::mem::size_of::<Vec<f64>>()
            + self.kept.len() * self.best.n * std::mem::size_of::<f64>()
    }
}

/// The same for one group (an aggregate without `by`).
#[derive(Debug)]
struct One {
    best: Best,
    kept: Vec<f64>,
}

impl Accumulator for One {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for value in floats(&values[0])?.iter().flatten() {
            self.best.keep(&mut self.kept, value);
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(threshold_of(&self.kept)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.kept.capacity() * std::mem::size_of::<f64>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let list = state_of(vec![self.kept.clone()]);
        Ok(vec![ScalarValue::try_from_array(&list, 0)?])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let states = lists(&states[0])?;
        for row in 0..states.len() {
            if states.is_null(row) {
                continue;
            }
            for value in floats(&states.value(row))?.iter().flatten() {
                self.best.keep(&mut self.kept, value);
            }
        }
        Ok(())
    }
}

/// The physical plan of `nlargest`/`nsmallest` with `by` joins the data to its groups'
/// thresholds. Without statistics for the thresholds, DataFusion hashes every row of the data
/// into partitions and builds its hash table from them; this rule builds it from the thresholds
/// instead (one per group) and streams the data past it where it is read, so only the rows past
/// their threshold, about n per group, are repartitioned for the ranking above.
#[derive(Debug)]
pub(super) struct BroadcastThresholds;

impl PhysicalOptimizerRule for BroadcastThresholds {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| match broadcast(&node)? {
            Some(rewritten) => Ok(Transformed::yes(rewritten)),
            None => Ok(Transformed::no(node)),
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "broadcast_thresholds"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `data ⋉ thresholds`, partitioned or with the data collected, as `thresholds ⋊ data` with
/// the thresholds collected, hash-partitioned again after the join; `None` for any other node.
fn broadcast(node: &Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let Some(join) = node.downcast_ref::<HashJoinExec>() else {
        return Ok(None);
    };
    let shape = *join.join_type() == JoinType::LeftSemi && join.projection.is_none();
    let (true, Some(data), true) = (shape, data_of(join), are_thresholds(join.right())) else {
        return Ok(None);
    };
    let on = join
        .on()
        .iter()
        .map(|(left, right)| (Arc::clone(right), Arc::clone(left)))
        .collect();
    let thresholds = Arc::new(CoalescePartitionsExec::new(Arc::clone(join.right())));
    let joined = HashJoinExecBuilder::new(thresholds, Arc::clone(data), on, JoinType::RightSemi)
        .with_filter(join.filter().map(JoinFilter::swap))
        .with_partition_mode(PartitionMode::CollectLeft)
        .with_null_equality(join.null_equality())
        .build_exec()?;
    let keys = join.on().iter().map(|(left, _)| Arc::clone(left)).collect();
    let partitions = node.output_partitioning().partition_count();
    Ok(Some(Arc::new(RepartitionExec::try_new(
        joined,
        Partitioning::Hash(keys, partitions),
    )?)))
}

/// The data below the join's build side: under the repartition of a partitioned join, or the
/// coalescing (if any) of a collected one (`engine::COLLECT_JOINS_UP_TO`).
fn data_of(join: &HashJoinExec) -> Option<&Arc<dyn ExecutionPlan>> {
    match join.partition_mode() {
        PartitionMode::Partitioned => join
            .left()
            .downcast_ref::<RepartitionExec>()
            .map(RepartitionExec::input),
        PartitionMode::CollectLeft => match join.left().downcast_ref::<CoalescePartitionsExec>() {
            Some(coalesced) => Some(coalesced.input()),
            None if join.left().output_partitioning().partition_count() == 1 => Some(join.left()),
            None => None,
        },
        PartitionMode::Auto => None,
    }
}

/// Whether `plan` is the aggregation of `threshold`.
fn are_thresholds(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.downcast_ref::<AggregateExec>()
        .is_some_and(|aggregate| {
            aggregate
                .aggr_expr()
                .iter()
                .any(|e| e.fun().name().starts_with(PREFIX))
        })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::Float64Type;
    use datafusion::execution::SessionStateBuilder;
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::{SessionConfig, SessionContext, ident};

    use super::super::windows;
    use super::{Best, BroadcastThresholds};
    use crate::spec::Names;

    #[test]
    fn keeps_the_n_best_best_first() {
        let largest = Best {
            n: 2,
            largest: true,
        };
        let mut kept = Vec::new();
        for v in [3.0, f64::NAN, 9.0, 1.0, 9.0, 4.0] {
            largest.keep(&mut kept, v);
        }
        assert_eq!(kept, vec![9.0, 9.0]);
        let smallest = Best {
            n: 3,
            largest: false,
        };
        let mut kept = Vec::new();
        for v in [3.0, 9.0, 1.0, 4.0, 0.5] {
            smallest.keep(&mut kept, v);
        }
        assert_eq!(kept, vec![0.5, 1.0, 3.0]);
    }

    #[tokio::test]
    async fn the_thresholds_build_the_hash_table_and_the_answer_holds() {
        for repartition_joins in [true, false] {
            let mut config = SessionConfig::new().with_target_partitions(2);
            config.options_mut().optimizer.repartition_joins = repartition_joins;
            thresholds_build_the_hash_table(config).await;
        }
    }

    async fn thresholds_build_the_hash_table(config: SessionConfig) {
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .with_physical_optimizer_rule(Arc::new(BroadcastThresholds))
            .build();
        let ctx = SessionContext::new_with_state(state);
        // Big enough that DataFusion would hash-partition it for the join (over 128k rows).
        let g: Vec<i64> = (0..200_000).map(|i| i % 7).collect();
        let v: Vec<f64> = (0..200_000).map(f64::from).collect();
        let batch = RecordBatch::try_from_iter(vec![
            ("g", Arc::new(Int64Array::from(g)) as ArrayRef),
            ("v", Arc::new(Float64Array::from(v)) as ArrayRef),
        ])
        .unwrap();
        ctx.register_batch("t", batch).unwrap();
        let frame = ctx.table("t").await.unwrap();
        let by = Names::One("g".to_string());
        let top = windows::top(frame, 2, &Names::One("v".to_string()), Some(&by), true)
            .map_err(|e| e.message)
            .unwrap();
        let plan = top.clone().create_physical_plan().await.unwrap();
        let shown = displayable(plan.as_ref()).indent(true).to_string();
        assert!(
            shown.contains("mode=CollectLeft, join_type=RightSemi"),
            "{shown}"
        );
        let sorted = top.sort(vec![ident("v").sort(true, false)]).unwrap();
        let batches = sorted.collect().await.unwrap();
        let values: Vec<f64> = batches
            .iter()
            .flat_map(|b| b.column(1).as_primitive::<Float64Type>().values().to_vec())
            .collect();
        // Each of the 7 groups' two largest of 0..200000.
        let mut expected: Vec<f64> = (199_986..200_000).map(f64::from).collect();
        expected.sort_by(f64::total_cmp);
        assert_eq!(values, expected);
    }
}

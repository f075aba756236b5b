//! Parquet filter pushdown ("late materialisation": a scan decodes the other columns only for
//! the rows its filter keeps), chosen scan by scan.
//!
//! Measured on TPC-H at SF1 and SF10 and the bench's pipelines (docs/benchmarks.md), it pays
//! where a join's or a top-k's dynamic filter drops nearly every row (TPC-H q17, q18, q20; the
//! bench's filter + sort + head): [`PushdownWhereDynamic`] turns it on for the scans a dynamic
//! filter reaches and that return a column neither their own filters nor their joins' dynamic
//! filters read, their predicate wrapped in [`RowFilter`]s that give up once they keep too many
//! rows. It costs where only the query's own filters would be pushed (q1, q7, q15: the row
//! selections cost more than the decoding they save, even where a filter keeps one row in
//! twenty-five), and where a join keeps one row in 200 or more (q3, q8, q10, q11, q12: its hash
//! lookups in the scan cost more than the decoding they save), so there it stays off or gives
//! up, and each `FilterExec` stays above its scan.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::datasource::physical_plan::{
    FileScanConfig, FileScanConfigBuilder, FileSource, ParquetSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result;
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{Column, DynamicFilterPhysicalExpr};
use datafusion::physical_expr::utils::{conjunction, split_conjunction};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::joins::HashJoinExec;

use super::stand_in::stands_in_for;

/// `plan` with each node that `rewrite` gives a replacement for replaced, bottom up.
fn rewrite_nodes(
    plan: Arc<dyn ExecutionPlan>,
    rewrite: impl Fn(&Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>>,
) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        Ok(match rewrite(&node)? {
            Some(replacement) => Transformed::yes(replacement),
            None => Transformed::no(node),
        })
    })
    .map(|t| t.data)
}

/// `scan` reading through `source` instead, with its partitioning and constraints.
fn rebuilt(
    scan: &DataSourceExec,
    config: &FileScanConfig,
    source: Arc<ParquetSource>,
) -> Arc<dyn ExecutionPlan> {
    let config = FileScanConfigBuilder::from(config.clone())
        .with_source(source)
        .build();
    let properties = scan.properties();
    Arc::new(
        scan.clone()
            .with_data_source(Arc::new(config))
            .with_partitioning(properties.partitioning.clone())
            .with_constraints(properties.eq_properties.constraints().clone()),
    )
}

/// Turns Parquet filter pushdown on for the scans a dynamic filter reaches, their predicate
/// wrapped in [`RowFilter`]s. It runs after DataFusion's own rules, once the dynamic filters
/// have been pushed into the scans.
#[derive(Debug)]
pub(super) struct PushdownWhereDynamic;

impl PhysicalOptimizerRule for PushdownWhereDynamic {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let joins = join_filters(&plan)?;
        rewrite_nodes(plan, |node| Ok(with_pushdown(node, &joins)))
    }

    fn name(&self) -> &str {
        "pushdown_where_dynamic"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The ids of the dynamic filters the plan's hash joins produce.
fn join_filters(plan: &Arc<dyn ExecutionPlan>) -> Result<HashSet<u64>> {
    let mut ids = HashSet::new();
    plan.apply(|node| {
        if node.downcast_ref::<HashJoinExec>().is_some() {
            let produced = node.dynamic_expressions_produced();
            ids.extend(produced.iter().filter_map(|filter| filter.expression_id()));
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(ids)
}

/// The Parquet scan with pushdown on and its predicate wrapped, where `node` is a Parquet scan
/// that has it off, whose predicate holds a dynamic filter, and that returns a column neither
/// its own filters nor its joins' dynamic filters read; `None` for any other node.
fn with_pushdown(
    node: &Arc<dyn ExecutionPlan>,
    joins: &HashSet<u64>,
) -> Option<Arc<dyn ExecutionPlan>> {
    let scan = node.downcast_ref::<DataSourceExec>()?;
    let (config, parquet) = scan.downcast_to_file_source::<ParquetSource>()?;
    let predicate = parquet.filter()?;
    let on = parquet.table_parquet_options().global.pushdown_filters;
    if on || !has_dynamic_filter(&predicate) || !saves_decoding(&scan.schema(), &predicate, joins) {
        return None;
    }
    let source = parquet
        .with_predicate(row_filters(&predicate, joins))
        .with_pushdown_filters(true);
    Some(rebuilt(scan, config, Arc::new(source)))
}

/// Whether the scan returns a column that neither its own filters nor its joins' dynamic
/// filters read. Where it does not, the row filter would decode every column anyway and repeat
/// the join's hash lookups for nothing (TPC-H q4's `lineitem`: 1.76 s pushed, 1.04 s not, at
/// SF10). A top-k's dynamic filter does not count: it drops rows whatever columns it reads
/// (q18's `orders`).
fn saves_decoding(
    returned: &Schema,
    predicate: &Arc<dyn PhysicalExpr>,
    joins: &HashSet<u64>,
) -> bool {
    let mut read = HashSet::new();
    let _ = predicate.apply(|expr| {
        let other_dynamic = expr.downcast_ref::<DynamicFilterPhysicalExpr>().is_some()
            && !is_join_filter(expr, joins);
        if other_dynamic {
            return Ok(TreeNodeRecursion::Jump);
        }
        if let Some(column) = expr.downcast_ref::<Column>() {
            read.insert(column.name().to_owned());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    returned
        .fields()
        .iter()
        .any(|field| !read.contains(field.name()))
}

/// `predicate` as the conjuncts the row filter evaluates in turn, each wrapped in a
/// [`RowFilter`]: the query's own filters and the first dynamic filter as one, then each other
/// dynamic filter. Pushdown was off when DataFusion pushed the query's own filters, so it
/// reported them as not pushed and kept their `FilterExec` above: that is what lets a row filter
/// give up and keep every row. The own filters lead the first conjunct so that `AND` evaluates
/// the dynamic filter (a hash lookup) only on the rows they keep where they keep few: TPC-H
/// q20's dates keep one row in seven, and with them after the lookup it ran on every row (q20
/// 2.71 → 1.65 s at SF10 with them first).
fn row_filters(predicate: &Arc<dyn PhysicalExpr>, joins: &HashSet<u64>) -> Arc<dyn PhysicalExpr> {
    let (dynamic, own): (Vec<_>, Vec<_>) = split_conjunction(predicate)
        .into_iter()
        .partition(|conjunct| has_dynamic_filter(conjunct));
    let mut dynamic = dynamic.into_iter().cloned();
    let first = conjunction(own.into_iter().cloned().chain(dynamic.next()));
    conjunction(
        std::iter::once(first)
            .chain(dynamic)
            .map(|conjunct| RowFilter::wrap(conjunct, joins)),
    )
}

fn has_dynamic_filter(predicate: &Arc<dyn PhysicalExpr>) -> bool {
    holds(predicate, |expr| {
        expr.downcast_ref::<DynamicFilterPhysicalExpr>().is_some()
    })
}

/// Whether `predicate` holds the dynamic filter of one of the plan's hash joins.
fn holds_join_filter(predicate: &Arc<dyn PhysicalExpr>, joins: &HashSet<u64>) -> bool {
    holds(predicate, |expr| is_join_filter(expr, joins))
}

/// Whether `expr` is the dynamic filter of one of the plan's hash joins (`joins`, from
/// [`join_filters`]).
fn is_join_filter(expr: &Arc<dyn PhysicalExpr>, joins: &HashSet<u64>) -> bool {
    expr.downcast_ref::<DynamicFilterPhysicalExpr>().is_some()
        && expr.expression_id().is_some_and(|id| joins.contains(&id))
}

/// Whether some expression in `predicate` passes `test`.
fn holds(predicate: &Arc<dyn PhysicalExpr>, test: impl Fn(&Arc<dyn PhysicalExpr>) -> bool) -> bool {
    let mut found = false;
    let _ = predicate.apply(|expr| {
        found = test(expr);
        Ok(if found {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found
}

/// Rows a dynamic filter must have seen before it is judged.
const JUDGED_AFTER_ROWS: u64 = 1 << 16;

/// A row filter holding a join's dynamic filter goes on filtering rows while it keeps at most
/// one row in this many. Its hash lookups run on every row the scan reads, where without it the
/// join would look up only the rows the query's own filters keep; they pay where the join then
/// gets almost nothing (TPC-H SF10: q17's `lineitem`, one row in 980, 7.5 → 4.0 s with the row
/// filter) and cost where it keeps one row in 200 or more (q3, q8, q10, q11, q12).
const JOIN_KEEPS_AT_MOST_ONE_IN: u64 = 500;

/// The same for a top-k's dynamic filter, whose threshold tightens as the scan goes on: it keeps
/// many rows in its first batches, and judging it as strictly would give it up too early.
const TOP_K_KEEPS_AT_MOST_ONE_IN: u64 = 20;

/// A scan's predicate as its row filter evaluates it: it filters rows until it has shown that
/// it keeps too many, then keeps every row (the `FilterExec`s above apply the query's own
/// filters; a join applies its own). Statistics pruning sees the predicate itself: its
/// snapshot is the inner expression.
#[derive(Debug)]
pub(super) struct RowFilter {
    inner: Arc<dyn PhysicalExpr>,
    selectivity: Arc<Selectivity>,
}

/// What a row filter has kept, summed over every file and partition of its scan.
#[derive(Debug)]
struct Selectivity {
    /// The row filter gives up once it has kept more than one row in this many.
    keeps_at_most_one_in: u64,
    /// Rows seen and rows kept, counted together: partitions count at once, and the ratio of
    /// two separate counters could be read between a batch's two additions.
    counts: Mutex<(u64, u64)>,
    given_up: AtomicBool,
}

impl Selectivity {
    fn keeping_at_most_one_in(keeps_at_most_one_in: u64) -> Selectivity {
        Selectivity {
            keeps_at_most_one_in,
            counts: Mutex::default(),
            given_up: AtomicBool::default(),
        }
    }

    /// Counts a batch; gives up once enough rows were seen and too many kept.
    fn count(&self, rows: u64, kept: u64) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.0 += rows;
        counts.1 += kept;
        let (seen, kept) = *counts;
        if seen >= JUDGED_AFTER_ROWS && kept.saturating_mul(self.keeps_at_most_one_in) > seen {
            self.given_up.store(true, Ordering::Relaxed);
        }
    }

    fn given_up(&self) -> bool {
        self.given_up.load(Ordering::Relaxed)
    }
}

impl RowFilter {
    /// `predicate` wrapped, judged as a join's dynamic filter where it holds one of `joins`.
    fn wrap(predicate: Arc<dyn PhysicalExpr>, joins: &HashSet<u64>) -> Arc<dyn PhysicalExpr> {
        let limit = if holds_join_filter(&predicate, joins) {
            JOIN_KEEPS_AT_MOST_ONE_IN
        } else {
            TOP_K_KEEPS_AT_MOST_ONE_IN
        };
        Arc::new(RowFilter {
            inner: predicate,
            selectivity: Arc::new(Selectivity::keeping_at_most_one_in(limit)),
        })
    }

    /// Whether the dynamic filter inside holds the build side's (or top-k's) values yet: until
    /// then it keeps every row, which says nothing of its selectivity.
    fn filter_ready(&self) -> bool {
        let mut ready = false;
        let _ = self.inner.apply(|expr| {
            if expr.downcast_ref::<DynamicFilterPhysicalExpr>().is_some() {
                ready = expr.snapshot_generation() > 1;
                return Ok(TreeNodeRecursion::Stop);
            }
            Ok(TreeNodeRecursion::Continue)
        });
        ready
    }
}

fn keep_all() -> ColumnarValue {
    ColumnarValue::Scalar(ScalarValue::Boolean(Some(true)))
}

impl PhysicalExpr for RowFilter {
    fn data_type(&self, _input_schema: &Schema) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn nullable(&self, input_schema: &Schema) -> Result<bool> {
        self.inner.nullable(input_schema)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        if self.selectivity.given_up() {
            return Ok(keep_all());
        }
        let ready = self.filter_ready();
        let kept = self.inner.evaluate(batch)?;
        if ready {
            let rows = batch.num_rows();
            let array = kept.clone().into_array(rows)?;
            let count = array.as_boolean_opt().map_or(rows, |b| b.true_count());
            self.selectivity.count(rows as u64, count as u64);
        }
        Ok(kept)
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.inner]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        let [inner] = <[_; 1]>::try_from(children).map_err(|c| {
            datafusion::error::DataFusionError::Internal(format!(
                "a row filter has one child, given {}",
                c.len()
            ))
        })?;
        Ok(Arc::new(RowFilter {
            inner,
            selectivity: Arc::clone(&self.selectivity),
        }))
    }

    fn snapshot(&self) -> Result<Option<Arc<dyn PhysicalExpr>>> {
        Ok(Some(Arc::clone(&self.inner)))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt_sql(f)
    }
}

impl fmt::Display for RowFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "while_selective({})", self.inner)
    }
}

stands_in_for!(RowFilter, inner);

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::physical_plan::{FileSource, ParquetSource};
    use datafusion::datasource::source::DataSourceExec;
    use datafusion::execution::SessionStateBuilder;
    use datafusion::physical_plan::{ExecutionPlan, collect};
    use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

    use datafusion::physical_plan::filter::FilterExec;

    use super::{JUDGED_AFTER_ROWS, PushdownWhereDynamic, RowFilter, Selectivity};
    use datafusion::physical_expr::utils::split_conjunction;

    /// A fact table of 20,000 rows (`k` 0..20,000, `v` = 3k, `w` = k mod 11) and a dimension of
    /// 50 keys.
    async fn tables(dir: &std::path::Path, rule: bool) -> SessionContext {
        let facts = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("k", DataType::Int64, false),
                Field::new("v", DataType::Int64, false),
                Field::new("w", DataType::Int64, false),
            ])),
            vec![
                Arc::new(Int64Array::from_iter_values(0..20_000)),
                Arc::new(Int64Array::from_iter_values((0..20_000).map(|k| 3 * k))),
                Arc::new(Int64Array::from_iter_values((0..20_000).map(|k| k % 11))),
            ],
        )
        .unwrap();
        let keys = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false)])),
            vec![Arc::new(Int64Array::from_iter_values(
                (0..50).map(|i| 7 + 397 * i),
            ))],
        )
        .unwrap();
        let mut state = SessionStateBuilder::new()
            .with_config(SessionConfig::new().with_target_partitions(2))
            .with_default_features();
        if rule {
            state = state.with_physical_optimizer_rule(Arc::new(PushdownWhereDynamic));
        }
        let ctx = SessionContext::new_with_state(state.build());
        for (name, batch) in [("facts", facts), ("keys", keys)] {
            let path = dir.join(format!("{name}.parquet"));
            let file = std::fs::File::create(&path).unwrap();
            let mut writer =
                parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
            writer.write(&batch).unwrap();
            writer.close().unwrap();
            ctx.register_parquet(name, path.to_str().unwrap(), ParquetReadOptions::default())
                .await
                .unwrap();
        }
        ctx
    }

    /// Each Parquet scan's predicate (as shown) and whether it pushes its filters down.
    fn scans(plan: &Arc<dyn ExecutionPlan>) -> Vec<(String, bool)> {
        let mut found = Vec::new();
        if let Some((_, parquet)) = plan
            .downcast_ref::<DataSourceExec>()
            .and_then(|scan| scan.downcast_to_file_source::<ParquetSource>())
        {
            let predicate = parquet.filter().map(|p| p.to_string()).unwrap_or_default();
            let on = parquet.table_parquet_options().global.pushdown_filters;
            found.push((predicate, on));
        }
        for child in plan.children() {
            found.extend(scans(child));
        }
        found
    }

    /// The scan the join's dynamic filter reached.
    fn probe_scan(found: &[(String, bool)]) -> &(String, bool) {
        found
            .iter()
            .find(|(predicate, _)| predicate.contains("DynamicFilter"))
            .unwrap_or_else(|| panic!("no scan got the join's dynamic filter: {found:?}"))
    }

    /// For each row filter in the plan's scans, the most rows in how many it may keep.
    fn row_filter_limits(plan: &Arc<dyn ExecutionPlan>) -> Vec<u64> {
        let mut limits = Vec::new();
        if let Some(predicate) = plan
            .downcast_ref::<DataSourceExec>()
            .and_then(|scan| scan.downcast_to_file_source::<ParquetSource>())
            .and_then(|(_, parquet)| parquet.filter())
        {
            limits.extend(
                split_conjunction(&predicate)
                    .into_iter()
                    .filter_map(|conjunct| conjunct.downcast_ref::<RowFilter>())
                    .map(|row_filter| row_filter.selectivity.keeps_at_most_one_in),
            );
        }
        for child in plan.children() {
            limits.extend(row_filter_limits(child));
        }
        limits
    }

    async fn physical(ctx: &SessionContext, sql: &str) -> Arc<dyn ExecutionPlan> {
        let frame = ctx.sql(sql).await.unwrap();
        frame.create_physical_plan().await.unwrap()
    }

    async fn run(ctx: &SessionContext, sql: &str) -> (Vec<(String, bool)>, Vec<RecordBatch>) {
        let plan = physical(ctx, sql).await;
        let batches = collect(plan.clone(), ctx.task_ctx()).await.unwrap();
        (scans(&plan), batches)
    }

    const JOIN: &str = "SELECT count(*) AS n, sum(f.v + f.w) AS s FROM facts f \
                        JOIN keys k ON f.k = k.k WHERE f.v > 100";
    const KEYS_ONLY: &str = "SELECT count(*) AS n, sum(f.v) AS s FROM facts f \
                             JOIN keys k ON f.k = k.k WHERE f.v > 100";
    const FILTER: &str = "SELECT count(*) AS n, sum(v) AS s FROM facts WHERE v % 7 = 0";
    const WIDE: &str = "SELECT count(*) AS n, sum(k + w) AS s FROM facts WHERE v % 7 = 0";

    fn show(batches: &[RecordBatch]) -> String {
        datafusion::arrow::util::pretty::pretty_format_batches(batches)
            .unwrap()
            .to_string()
    }

    fn has_filter_exec(plan: &Arc<dyn ExecutionPlan>) -> bool {
        plan.downcast_ref::<FilterExec>().is_some()
            || plan.children().into_iter().any(has_filter_exec)
    }

    #[tokio::test]
    async fn a_static_filter_alone_stays_above_its_scan() {
        let dir = tempfile::tempdir().unwrap();
        let with_rule = tables(dir.path(), true).await;
        for sql in [FILTER, WIDE] {
            let plan = physical(&with_rule, sql).await;
            let found = scans(&plan);
            assert_eq!(found.len(), 1);
            assert!(!found[0].1, "{sql}: {found:?}");
            assert!(has_filter_exec(&plan), "{sql}: the filter stays above");
        }
        let (_, wide) = run(&with_rule, WIDE).await;
        let kept = (0..20_000i64).filter(|k| 3 * k % 7 == 0);
        let expected: i64 = kept.clone().map(|k| k + k % 11).sum();
        assert!(
            show(&wide).contains(&format!("| {} | {expected} |", kept.count())),
            "{}",
            show(&wide)
        );
    }

    #[tokio::test]
    async fn a_scan_returning_only_what_its_filters_read_keeps_pushdown_off() {
        let dir = tempfile::tempdir().unwrap();
        let with_rule = tables(dir.path(), true).await;
        let (found, answer) = run(&with_rule, KEYS_ONLY).await;
        let fact_scan = probe_scan(&found);
        assert!(
            !fact_scan.1,
            "the join's keys and v are all it returns: {found:?}"
        );
        let expected_sum: i64 = (1..50).map(|i| 3 * (7 + 397 * i)).sum();
        assert!(
            show(&answer).contains(&format!("| 49 | {expected_sum} |")),
            "{}",
            show(&answer)
        );
    }

    #[tokio::test]
    async fn only_scans_a_dynamic_filter_reaches_push_down_and_the_answers_hold() {
        let dir = tempfile::tempdir().unwrap();
        let with_rule = tables(dir.path(), true).await;
        let (join_scans, joined) = run(&with_rule, JOIN).await;
        let fact_scan = probe_scan(&join_scans);
        assert!(
            fact_scan.1,
            "the probe side's scan pushes down: {join_scans:?}"
        );
        assert!(
            fact_scan
                .0
                .starts_with("while_selective(v@1 > 100 AND DynamicFilter"),
            "one predicate, the query's own filter first: {fact_scan:?}"
        );
        let (filter_scans, filtered) = run(&with_rule, FILTER).await;
        assert_eq!(filter_scans.len(), 1);
        assert!(
            !filter_scans[0].1,
            "a static filter alone: {filter_scans:?}"
        );

        let without = tables(dir.path(), false).await;
        let (plain_scans, joined_plain) = run(&without, JOIN).await;
        assert!(plain_scans.iter().all(|(_, on)| !on), "{plain_scans:?}");
        let (_, filtered_plain) = run(&without, FILTER).await;
        assert_eq!(show(&joined), show(&joined_plain));
        assert_eq!(show(&filtered), show(&filtered_plain));
        // Keys 7 + 397i for i in 0..50 whose v = 3k exceeds 100: all but k = 7 (v = 21).
        let expected_sum: i64 = (1..50).map(|i| 7 + 397 * i).map(|k| 3 * k + k % 11).sum();
        assert!(show(&joined).contains(&format!("| 49 | {expected_sum} |")));
    }

    #[tokio::test]
    async fn a_join_filter_must_keep_fewer_rows_than_a_top_k_filter() {
        let dir = tempfile::tempdir().unwrap();
        let with_rule = tables(dir.path(), true).await;
        let join = physical(&with_rule, JOIN).await;
        assert_eq!(row_filter_limits(&join), vec![500]);
        let top = physical(
            &with_rule,
            "SELECT k, v, w FROM facts ORDER BY v DESC LIMIT 3",
        )
        .await;
        assert_eq!(row_filter_limits(&top), vec![20], "{:?}", scans(&top));
    }

    #[test]
    fn a_dynamic_filter_gives_up_once_it_has_kept_more_than_one_in_twenty() {
        let selective = Selectivity::keeping_at_most_one_in(20);
        selective.count(JUDGED_AFTER_ROWS, JUDGED_AFTER_ROWS / 20);
        assert!(!selective.given_up(), "one in twenty is still selective");
        selective.count(JUDGED_AFTER_ROWS, JUDGED_AFTER_ROWS / 5);
        assert!(selective.given_up(), "one in eight over both batches");
        let loose = Selectivity::keeping_at_most_one_in(20);
        loose.count(JUDGED_AFTER_ROWS - 1, JUDGED_AFTER_ROWS - 1);
        assert!(!loose.given_up(), "judged only after enough rows");
        loose.count(1, 1);
        assert!(loose.given_up());
    }

    #[test]
    fn a_row_filter_that_gave_up_keeps_every_row_and_prunes_as_itself() {
        use datafusion::arrow::array::BooleanArray;
        use datafusion::logical_expr::{ColumnarValue, Operator};
        use datafusion::physical_expr::PhysicalExpr;
        use datafusion::physical_expr::expressions::{binary, col, lit};

        let schema = Schema::new(vec![Field::new("v", DataType::Int64, false)]);
        let filter = binary(col("v", &schema).unwrap(), Operator::Gt, lit(5i64), &schema).unwrap();
        let selectivity = Arc::new(Selectivity::keeping_at_most_one_in(20));
        let wrapped = RowFilter {
            inner: Arc::clone(&filter),
            selectivity: Arc::clone(&selectivity),
        };
        assert_eq!(wrapped.to_string(), "while_selective(v@0 > 5)");
        assert!(wrapped.snapshot().unwrap().unwrap().eq(&filter));
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![Arc::new(Int64Array::from(vec![1, 9]))],
        )
        .unwrap();
        let kept = wrapped.evaluate(&batch).unwrap().into_array(2).unwrap();
        assert_eq!(
            kept.as_any().downcast_ref::<BooleanArray>(),
            Some(&BooleanArray::from(vec![false, true]))
        );
        selectivity.count(JUDGED_AFTER_ROWS, JUDGED_AFTER_ROWS);
        assert!(matches!(
            wrapped.evaluate(&batch).unwrap(),
            ColumnarValue::Scalar(datafusion::common::ScalarValue::Boolean(Some(true)))
        ));
    }
}

//! Parquet filter pushdown ("late materialisation": a scan decodes the other columns only for
//! the rows its filter keeps), chosen scan by scan.
//!
//! Measured on TPC-H SF1 and the bench's pipelines (docs/benchmarks.md): it pays where a
//! join's or a top-k's dynamic filter reaches a scan, which then decodes almost nothing, and it
//! costs where only the query's own filters do (TPC-H q6, q12, q15, the seed group-by): there
//! the row selections cost more than the decoding they save. So sessions keep DataFusion's
//! default (off) and this rule turns it on for the scans whose predicate holds a dynamic filter.
//! With pushdown off when the filters were pushed, DataFusion kept each `FilterExec` above its
//! scan, so turning it on afterwards filters those rows twice, never too little.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::datasource::physical_plan::{FileScanConfigBuilder, FileSource, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::Result;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::DynamicFilterPhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;

/// Turns Parquet filter pushdown on for the scans a dynamic filter reaches. It runs after
/// DataFusion's own rules, once the dynamic filters have been pushed into the scans.
#[derive(Debug)]
pub(super) struct PushdownWhereDynamic;

impl PhysicalOptimizerRule for PushdownWhereDynamic {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            Ok(match with_pushdown(&node) {
                Some(scan) => Transformed::yes(scan),
                None => Transformed::no(node),
            })
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "pushdown_where_dynamic"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The Parquet scan with pushdown on, where `node` is a Parquet scan that has it off and whose
/// predicate holds a dynamic filter; `None` for any other node.
fn with_pushdown(node: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
    let scan = node.downcast_ref::<DataSourceExec>()?;
    let (config, parquet) = scan.downcast_to_file_source::<ParquetSource>()?;
    let on = parquet.table_parquet_options().global.pushdown_filters;
    if on || !has_dynamic_filter(&parquet.filter()?) {
        return None;
    }
    let source = Arc::new(parquet.clone().with_pushdown_filters(true));
    let config = FileScanConfigBuilder::from(config.clone())
        .with_source(source)
        .build();
    let properties = scan.properties();
    let rebuilt = scan
        .clone()
        .with_data_source(Arc::new(config))
        .with_partitioning(properties.partitioning.clone())
        .with_constraints(properties.eq_properties.constraints().clone());
    Some(Arc::new(rebuilt))
}

fn has_dynamic_filter(predicate: &Arc<dyn PhysicalExpr>) -> bool {
    let mut found = false;
    let _ = predicate.apply(|expr| {
        found = expr.downcast_ref::<DynamicFilterPhysicalExpr>().is_some();
        Ok(if found {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found
}

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

    use super::PushdownWhereDynamic;

    /// A fact table of 20,000 rows (`k` 0..20,000, `v` = 3k) and a dimension of 50 keys.
    async fn tables(dir: &std::path::Path, rule: bool) -> SessionContext {
        let facts = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("k", DataType::Int64, false),
                Field::new("v", DataType::Int64, false),
            ])),
            vec![
                Arc::new(Int64Array::from_iter_values(0..20_000)),
                Arc::new(Int64Array::from_iter_values((0..20_000).map(|k| 3 * k))),
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

    async fn run(ctx: &SessionContext, sql: &str) -> (Vec<(String, bool)>, Vec<RecordBatch>) {
        let plan = ctx
            .sql(sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        let batches = collect(plan.clone(), ctx.task_ctx()).await.unwrap();
        (scans(&plan), batches)
    }

    const JOIN: &str = "SELECT count(*) AS n, sum(f.v) AS s FROM facts f JOIN keys k ON f.k = k.k \
                        WHERE f.v > 100";
    const FILTER: &str = "SELECT count(*) AS n, sum(v) AS s FROM facts WHERE v % 7 = 0";

    #[tokio::test]
    async fn only_scans_a_dynamic_filter_reaches_push_down_and_the_answers_hold() {
        let dir = tempfile::tempdir().unwrap();
        let with_rule = tables(dir.path(), true).await;
        let (join_scans, joined) = run(&with_rule, JOIN).await;
        let fact_scan = join_scans
            .iter()
            .find(|(predicate, _)| predicate.contains("DynamicFilter"))
            .unwrap_or_else(|| panic!("no scan got the join's dynamic filter: {join_scans:?}"));
        assert!(fact_scan.1, "the probe side's scan pushes down: {join_scans:?}");
        let (filter_scans, filtered) = run(&with_rule, FILTER).await;
        assert_eq!(filter_scans.len(), 1);
        assert!(!filter_scans[0].1, "a static filter alone: {filter_scans:?}");

        let without = tables(dir.path(), false).await;
        let (plain_scans, joined_plain) = run(&without, JOIN).await;
        assert!(plain_scans.iter().all(|(_, on)| !on), "{plain_scans:?}");
        let (_, filtered_plain) = run(&without, FILTER).await;
        let show = |b: &[RecordBatch]| {
            datafusion::arrow::util::pretty::pretty_format_batches(b)
                .unwrap()
                .to_string()
        };
        assert_eq!(show(&joined), show(&joined_plain));
        assert_eq!(show(&filtered), show(&filtered_plain));
        // Keys 7 + 397i for i in 0..50 whose v = 3k exceeds 100: all but k = 7 (v = 21).
        let expected_sum: i64 = (1..50).map(|i| 3 * (7 + 397 * i)).sum();
        assert!(show(&joined).contains(&format!("| 49 | {expected_sum} |")));
    }
}

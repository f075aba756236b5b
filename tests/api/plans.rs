//! `GET /v1/jobs/{id}/plan`: a finished job's executed plan, each operator with the rows it
//! produced; the figures agree with the data at every step.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch};
use serde_json::{Value, json};

use crate::data;
use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(the_executed_plan_counts_rows_at_each_step);

fn rows_of<'a>(plan: &'a Value, operator: &str) -> Vec<&'a Value> {
    plan["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["operator"] == operator)
        .collect()
}

fn total(nodes: &[&Value]) -> u64 {
    nodes
        .iter()
        .map(|n| n["metrics"]["output_rows"].as_u64().unwrap())
        .sum()
}

async fn the_executed_plan_counts_rows_at_each_step(app: TestApp) {
    let rows = data::write_logs(&app, 3, 400);
    let job = app.run(&data::seed_spec()).await;
    let id = job["id"].as_str().unwrap();
    let plan = app.get_json(&format!("/v1/jobs/{id}/plan")).await;

    // The scans read every row; the filter kept the active ones; the top produced the result.
    let scans = rows_of(&plan, "DataSourceExec");
    assert!(!scans.is_empty(), "{plan}");
    assert_eq!(total(&scans), rows.len() as u64);
    let active = rows.iter().filter(|r| r.status == "active").count() as u64;
    assert_eq!(total(&rows_of(&plan, "FilterExec")), active, "{plan}");
    let top = &plan["nodes"][0];
    assert_eq!(
        top["metrics"]["output_rows"].as_u64(),
        job["result"]["rows"].as_u64(),
        "{plan}"
    );
    // Every node is reachable: one edge per node but the top.
    assert_eq!(
        plan["edges"].as_array().unwrap().len() + 1,
        plan["nodes"].as_array().unwrap().len()
    );

    // A Parquet scan says how many bytes it read from its file.
    let ids = Int64Array::from_iter_values(0..1000);
    let batch = RecordBatch::try_from_iter([("id", Arc::new(ids) as ArrayRef)]).unwrap();
    data::write_parquet(&app, "ids.parquet", &batch);
    let spec = json!({"name": "ids", "sql": "SELECT count(*) AS n FROM t WHERE id > 10",
                      "sources": {"t": {"format": "parquet", "path": "ids.parquet"}}});
    let counted = app.run(&spec).await;
    let plan = app
        .get_json(&format!(
            "/v1/jobs/{}/plan",
            counted["id"].as_str().unwrap()
        ))
        .await;
    let file_bytes = std::fs::metadata(app.root.join("ids.parquet"))
        .unwrap()
        .len();
    let read: u64 = rows_of(&plan, "DataSourceExec")
        .iter()
        .map(|n| n["metrics"]["bytes_scanned"].as_u64().unwrap_or(0))
        .sum();
    assert!(
        read > 0 && read <= file_bytes,
        "{read} of {file_bytes}: {plan}"
    );

    // Only succeeded jobs have one.
    let endless = app.submit(&data::endless_spec()).await;
    let response = app
        .client
        .get(app.url(&format!("/v1/jobs/{endless}/plan")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    let missing = app
        .client
        .get(app.url("/v1/jobs/0190c3a4-0000-7000-8000-000000000000/plan"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// A join on an integer key whose build side spans a few million values, sparsely (one value
/// in 5,000): DataFusion alone would build a hash table (its perfect hash join wants a range
/// under 1,024 or one value in seven); Rusk's engine looks the keys up in an array, and the
/// answer is the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sparse_integer_keys_join_through_an_array() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
    let dim_keys: Vec<i64> = (0..300).map(|i| i * 5000).collect();
    let fact_keys: Vec<i64> = (0..3000).map(|i| (i % 600) * 2500).collect();
    let table = |keys: &[i64]| {
        let values = Int64Array::from_iter_values(keys.iter().map(|k| k % 7));
        RecordBatch::try_from_iter([
            ("k", Arc::new(Int64Array::from(keys.to_vec())) as ArrayRef),
            ("v", Arc::new(values) as ArrayRef),
        ])
        .unwrap()
    };
    data::write_parquet(&app, "dim.parquet", &table(&dim_keys));
    data::write_parquet(&app, "fact.parquet", &table(&fact_keys));
    let spec = json!({
        "sql": "SELECT count(*) AS n, sum(f.v) AS v FROM fact f JOIN dim d ON f.k = d.k",
        "sources": {"fact": {"format": "parquet", "path": "fact.parquet"},
                    "dim": {"format": "parquet", "path": "dim.parquet"}}});
    let job = app.run(&spec).await;
    let id = job["id"].as_str().unwrap();

    let matched: Vec<i64> = fact_keys
        .iter()
        .copied()
        .filter(|k| dim_keys.contains(k))
        .collect();
    let rows = app.result_json(id, "").await;
    assert_eq!(rows[0]["n"], json!(matched.len()), "{rows}");
    assert_eq!(
        rows[0]["v"],
        json!(matched.iter().map(|k| k % 7).sum::<i64>()),
        "{rows}"
    );

    let plan = app.get_json(&format!("/v1/jobs/{id}/plan")).await;
    let joins = rows_of(&plan, "HashJoinExec");
    assert!(!joins.is_empty(), "{plan}");
    for join in joins {
        let arrays = join["metrics"]["join_key_arrays"].as_u64().unwrap_or(0);
        assert!(arrays > 0, "a hash table where an array fits: {join}");
    }
}

/// A common table expression named twice (TPC-H q15's shape: the groups whose total is the
/// largest total) runs once: the plan reads its source once, and both mentions of the part
/// are marked as shared. The answer is the one worked out here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_named_twice_runs_once() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
    let keys: Vec<i64> = (0..5000).map(|i| (i * 7919) % 101).collect();
    let values: Vec<i64> = (0..5000).map(|i| i % 13).collect();
    let batch = RecordBatch::try_from_iter([
        ("k", Arc::new(Int64Array::from(keys.clone())) as ArrayRef),
        ("v", Arc::new(Int64Array::from(values.clone())) as ArrayRef),
    ])
    .unwrap();
    data::write_parquet(&app, "sales.parquet", &batch);
    let spec = json!({
        "sql": "WITH totals AS (SELECT k, sum(v) AS total FROM sales GROUP BY k) \
                SELECT k, total FROM totals \
                WHERE total = (SELECT max(total) FROM totals) ORDER BY k",
        "sources": {"sales": {"format": "parquet", "path": "sales.parquet"}}});
    let job = app.run(&spec).await;
    let id = job["id"].as_str().unwrap();

    let mut totals = std::collections::BTreeMap::<i64, i64>::new();
    for (k, v) in keys.iter().zip(&values) {
        *totals.entry(*k).or_default() += v;
    }
    let largest = totals.values().copied().max().unwrap();
    let expected: Vec<Value> = totals
        .iter()
        .filter(|(_, total)| **total == largest)
        .map(|(k, total)| json!({"k": k, "total": total}))
        .collect();
    let rows = app.result_json(id, "").await;
    assert_eq!(rows, json!(expected));

    let plan = app.get_json(&format!("/v1/jobs/{id}/plan")).await;
    let scans = rows_of(&plan, "DataSourceExec");
    assert_eq!(scans.len(), 1, "{plan}");
    assert_eq!(total(&scans), keys.len() as u64);
    assert_eq!(rows_of(&plan, "SharedExec").len(), 2, "{plan}");

    // `explain` shows the plan that runs.
    let (status, explained) = app.post_json("/v1/explain", &spec).await;
    assert_eq!(status, 200, "{explained}");
    let physical = explained["physical"].as_str().unwrap();
    assert_eq!(
        physical.matches("SharedExec: part=1").count(),
        2,
        "{physical}"
    );
    assert_eq!(physical.matches("DataSourceExec").count(), 1, "{physical}");
}

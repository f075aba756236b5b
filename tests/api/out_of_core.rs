//! Out of core: with a 64 MB engine memory pool, a group-by over 3M distinct keys and a full
//! sort of 3M rows finish by spilling to disk, and a join whose hash table cannot fit neither
//! crashes nor hangs. (SQLite: the store plays no part here.)

use std::io::Write;

use rusk::app::Role;
use serde_json::json;

use crate::helpers::{Backend, TestApp, spawn_configured};

const ROWS: u64 = 3_000_000;

async fn small_memory_app() -> TestApp {
    spawn_configured(Backend::Sqlite, Role::Serve, |settings| {
        settings.memory_limit = Some(64_000_000);
        settings.slots = Some(1);
    })
    .await
}

/// `k` distinct 0..ROWS, `v = k % 1000`.
fn write_keys(app: &TestApp, name: &str) {
    let file = std::fs::File::create(app.root.join(name)).unwrap();
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "k,v").unwrap();
    for k in 0..ROWS {
        writeln!(out, "{k},{}", k % 1000).unwrap();
    }
    out.flush().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groupby_and_sort_spill_under_64_mb() {
    let app = small_memory_app().await;
    write_keys(&app, "keys.csv");
    let source = json!({"k": {"format": "csv", "path": "keys.csv"}});

    let grouped = app
        .run(&json!({
            "sources": source,
            "steps": [{"op": "groupby", "by": "k", "agg": {"v": "sum"}}]
        }))
        .await;
    assert_eq!(grouped["result"]["rows"], ROWS);

    let sorted = app
        .run(&json!({
            "sources": source,
            "steps": [{"op": "sort", "by": ["v", "k"], "ascending": [false, true]}]
        }))
        .await;
    assert_eq!(sorted["result"]["rows"], ROWS);
    let top = app
        .result_json(sorted["id"].as_str().unwrap(), "&limit=3")
        .await;
    assert_eq!(
        top,
        json!([{"k": 999, "v": 999}, {"k": 1999, "v": 999}, {"k": 2999, "v": 999}])
    );
    let tail = app
        .result_json(
            sorted["id"].as_str().unwrap(),
            &format!("&offset={}", ROWS - 1),
        )
        .await;
    assert_eq!(tail, json!([{"k": ROWS - 1000, "v": 0}]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_too_big_for_memory_ends_cleanly() {
    let app = small_memory_app().await;
    write_keys(&app, "left.csv");
    write_keys(&app, "right.csv");
    let id = app
        .submit(&json!({
            "sources": {"l": {"format": "csv", "path": "left.csv"},
                        "r": {"format": "csv", "path": "right.csv"}},
            "input": "l",
            "steps": [
                {"op": "merge", "right": "r", "on": "k"},
                {"op": "groupby", "by": "v_x", "agg": {"v_y": "sum"}}
            ]
        }))
        .await;
    let job = app.wait(&id).await;
    match job["state"].as_str().unwrap() {
        "succeeded" => {
            let rows = app.result_json(&id, "").await;
            assert_eq!(rows.as_array().unwrap().len(), 1000);
            // v_y = v_x on every joined row; each v appears 3,000 times.
            for row in rows.as_array().unwrap() {
                assert_eq!(row["v_y"], json!(row["v_x"].as_i64().unwrap() * 3000));
            }
        }
        "failed" => assert_eq!(job["error"]["code"], "resources_exhausted", "{job}"),
        other => panic!("unexpected end {other}: {job}"),
    }
    // The process is alive and serving.
    app.write("tiny.csv", "a\n1\n");
    app.run(
        &json!({"sources": {"t": {"format": "csv", "path": "tiny.csv"}}, "sql": "SELECT a FROM t"}),
    )
    .await;
}

/// A moving mean, an exponentially weighted mean and a top-2 per group over 3M rows and 1000
/// groups, under 64 MB: windows sort by group and order and spill like any sort.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_ewm_and_nlargest_per_group_spill_under_64_mb() {
    let app = small_memory_app().await;
    write_keys(&app, "keys.csv");
    let source = json!({"k": {"format": "csv", "path": "keys.csv"}});

    let rolled = app
        .run(&json!({
            "sources": source,
            "steps": [
                {"op": "assign", "columns": {"w": "k"}},
                {"op": "rolling", "columns": "w", "window": 3, "agg": "mean",
                 "order_by": "k", "by": "v"}
            ]
        }))
        .await;
    assert_eq!(rolled["result"]["rows"], ROWS);
    // Group v = 5 holds k = 5, 1005, 2005, …: the third row's window is all three.
    let id = rolled["id"].as_str().unwrap();
    let checked = app
        .run(&json!({
            "sources": {"r": {"format": "parquet", "path": format!("job://{id}")}},
            "steps": [{"op": "filter", "expr": "k IN (5, 1005, 2005)"},
                      {"op": "sort", "by": "k"}]
        }))
        .await;
    let rows = app.result_json(checked["id"].as_str().unwrap(), "").await;
    assert_eq!(
        rows,
        // (JSON rows leave nulls out.)
        json!([{"k": 5, "v": 5}, {"k": 1005, "v": 5}, {"k": 2005, "v": 5, "w": 1005.0}])
    );

    // adjust=false: each mean is half the last and half the new value.
    let smoothed = app
        .run(&json!({
            "sources": source,
            "steps": [
                {"op": "ewm", "columns": "k", "alpha": 0.5, "adjust": false, "order_by": "k",
                 "by": "v"},
                {"op": "filter", "expr": "v = 5"},
                {"op": "sort", "by": "k"},
                {"op": "head", "n": 3}
            ]
        }))
        .await;
    let rows = app.result_json(smoothed["id"].as_str().unwrap(), "").await;
    assert_eq!(
        rows,
        json!([{"k": 5.0, "v": 5}, {"k": 505.0, "v": 5}, {"k": 1255.0, "v": 5}])
    );

    let top = app
        .run(&json!({
            "sources": source,
            "steps": [
                {"op": "nlargest", "n": 2, "columns": "k", "by": "v"},
                {"op": "filter", "expr": "v = 0"},
                {"op": "sort", "by": "k"}
            ]
        }))
        .await;
    let rows = app.result_json(top["id"].as_str().unwrap(), "").await;
    assert_eq!(
        rows,
        json!([{"k": ROWS - 2000, "v": 0}, {"k": ROWS - 1000, "v": 0}])
    );
}

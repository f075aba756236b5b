//! Reproducible sampling, and the result's file layout: `output.npartitions`, and
//! `repartition` steps (parallelism, or the file size Dask users set that way).

use serde_json::{Value, json};

use crate::data;
use crate::helpers::{Backend, TestApp, spawn_app};

fn logs(steps: Value) -> Value {
    json!({"sources": {"logs": {"format": "csv", "path": "logs/*.csv"}}, "steps": steps})
}

async fn sampled(app: &TestApp, steps: Value) -> Vec<String> {
    let job = app.run(&logs(steps)).await;
    let rows = app.result_json(job["id"].as_str().unwrap(), "").await;
    let mut rows: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.to_string())
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn sample_is_reproducible() {
    let app = spawn_app(Backend::Sqlite).await;
    let all = data::write_logs(&app, 2, 1000);
    let first = sampled(&app, json!([{"op": "sample", "frac": 0.3, "seed": 7}])).await;
    let n = first.len() as f64 / all.len() as f64;
    assert!(
        (0.25..0.35).contains(&n),
        "kept {n} of the rows for frac 0.3"
    );
    let again = sampled(
        &app,
        json!([{"op": "repartition", "npartitions": 5}, {"op": "sample", "frac": 0.3, "seed": 7}]),
    )
    .await;
    assert_eq!(first, again, "same seed, other partitioning: same rows");
    let other = sampled(&app, json!([{"op": "sample", "frac": 0.3, "seed": 8}])).await;
    assert_ne!(first, other, "another seed: other rows");
    let whole = sampled(&app, json!([{"op": "sample", "frac": 1.0}])).await;
    assert_eq!(whole.len(), all.len());

    let bad = app
        .post_job(&logs(json!([{"op": "sample", "frac": 1.5}])))
        .await;
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn file_layout_by_count_and_by_repartition_size() {
    let app = spawn_app(Backend::Sqlite).await;
    let all = data::write_logs(&app, 2, 2000);
    let mut spec = logs(json!([{"op": "select", "columns": ["user_id", "click_count"]}]));
    spec["output"] = json!({"npartitions": 3});
    let job = app.run(&spec).await;
    let files = job["result"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    let rows: u64 = files.iter().map(|f| f["rows"].as_u64().unwrap()).sum();
    assert_eq!(rows, all.len() as u64);
    let via_files: usize = {
        let mut total = 0;
        for file in files {
            let (_, _, body) = app.get_bytes(file["url"].as_str().unwrap()).await;
            total += crate::helpers::read_parquet(body)
                .iter()
                .map(|b| b.num_rows())
                .sum::<usize>();
        }
        total
    };
    assert_eq!(via_files, all.len());

    let job = app
        .run(&logs(
            json!([{"op": "repartition", "partition_size": "2KB"},
                          {"op": "select", "columns": ["user_id", "click_count"]}]),
        ))
        .await;
    assert!(
        job["result"]["files"].as_array().unwrap().len() > 2,
        "{}",
        job["result"]
    );

    let mut both = logs(json!([]));
    both["output"] = json!({"npartitions": 3, "partition_size": "1MB"});
    assert_eq!(app.post_job(&both).await.status(), 422);
}

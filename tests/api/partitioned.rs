//! `output.partition_on`: Hive-style directories (`status=active/part-00000.parquet`), as
//! Dask's `to_parquet(partition_on=…)`; the dataset read back as a source with its partition
//! column, and a filter on that column reading only the matching directories.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::data;
use crate::helpers::{TestApp, read_parquet};
use crate::on_both_stores;

on_both_stores!(
    writes_hive_directories_and_prunes_them_when_read,
    a_partitioned_result_is_served_with_its_columns,
    partition_on_is_checked_at_submission,
);

fn by_status(rows: &[data::LogRow]) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for row in rows {
        *counts.entry(row.status.to_string()).or_insert(0) += 1;
    }
    counts
}

fn counts_of(result: &Value) -> BTreeMap<String, i64> {
    result
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap().to_string(),
                r["n"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn files_under(dir: &std::path::Path) -> Vec<(String, u64)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            found.extend(
                files_under(&path)
                    .into_iter()
                    .map(|(n, size)| (format!("{name}/{n}"), size)),
            );
        } else {
            found.push((name, path.metadata().unwrap().len()));
        }
    }
    found.sort();
    found
}

async fn writes_hive_directories_and_prunes_them_when_read(app: TestApp) {
    let rows: Vec<data::LogRow> = data::write_logs(&app, 3, 400);
    let written = app
        .run(&json!({
            "sources": {"logs": {"format": "csv", "path": "logs/large-data-*.csv"}},
            "steps": [],
            "output": {"path": "by_status", "partition_on": ["status"]}
        }))
        .await;
    assert_eq!(written["state"], "succeeded", "{written}");
    let files: Vec<(String, u64)> = files_under(&app.root.join("by_status"))
        .into_iter()
        .filter(|(name, _)| !name.starts_with('_'))
        .collect();
    let dirs: Vec<&str> = files
        .iter()
        .map(|(n, _)| n.split('/').next().unwrap())
        .collect();
    assert_eq!(
        dirs,
        ["status=active", "status=inactive", "status=trial"],
        "{files:?}"
    );
    // The column is in the directory names, not in the files.
    let bytes = std::fs::read(app.root.join("by_status").join(&files[0].0)).unwrap();
    let batches = read_parquet(bytes::Bytes::from(bytes));
    assert!(batches[0].schema().field_with_name("status").is_err());
    assert!(batches[0].schema().field_with_name("user_id").is_ok());

    // Read back as a source: the partition column is there again.
    let count = |filter: Option<&str>| {
        let mut spec = json!({
            "sources": {"d": {"format": "parquet", "path": "by_status"}},
            "sql": "SELECT status, count(*) AS n FROM d GROUP BY status ORDER BY status"
        });
        if let Some(filter) = filter {
            spec["sql"] = json!(format!(
                "SELECT status, count(*) AS n FROM d WHERE {filter} GROUP BY status"
            ));
        }
        spec
    };
    let all = app.run(&count(None)).await;
    let all_id = all["id"].as_str().unwrap();
    assert_eq!(
        counts_of(&app.result_json(all_id, "").await),
        by_status(&rows)
    );

    // A filter on the partition column reads only that directory's files.
    let trial = app.run(&count(Some("status = 'trial'"))).await;
    let trial_counts = counts_of(&app.result_json(trial["id"].as_str().unwrap(), "").await);
    assert_eq!(
        trial_counts,
        [("trial".to_string(), by_status(&rows)["trial"])].into()
    );
    let trial_bytes: u64 = files
        .iter()
        .filter(|(name, _)| name.starts_with("status=trial/"))
        .map(|(_, size)| size)
        .sum();
    assert_eq!(trial["progress"]["bytes_read"], trial_bytes, "{trial}");
    let total: u64 = files.iter().map(|(_, size)| size).sum();
    assert_eq!(all["progress"]["bytes_read"], total, "{all}");

    // Appending adds files to each directory; the columns are checked without `status`.
    let again = app
        .run(&json!({
            "sources": {"logs": {"format": "csv", "path": "logs/large-data-0.csv"}},
            "steps": [],
            "output": {"path": "by_status", "partition_on": ["status"], "mode": "append"}
        }))
        .await;
    assert_eq!(again["state"], "succeeded", "{again}");
    let more = app.run(&count(None)).await;
    let counted = counts_of(&app.result_json(more["id"].as_str().unwrap(), "").await);
    let first_file = data::logs(3, 400, 50).remove(0);
    for (status, n) in by_status(&rows) {
        assert_eq!(
            counted[&status],
            n + by_status(&first_file).get(&status).unwrap_or(&0)
        );
    }
}

async fn a_partitioned_result_is_served_with_its_columns(app: TestApp) {
    let rows = data::write_logs(&app, 2, 300);
    let job = app
        .run(&json!({
            "sources": {"logs": {"format": "csv", "path": "logs/large-data-*.csv"}},
            "steps": [{"op": "select", "columns": ["user_id", "status", "click_count"]}],
            "output": {"format": "csv", "partition_on": ["status"]}
        }))
        .await;
    let names: Vec<&str> = job["result"]["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["user_id", "click_count", "status"]);
    let served = app.result_json(job["id"].as_str().unwrap(), "").await;
    let mut counts = BTreeMap::new();
    for row in served.as_array().unwrap() {
        *counts
            .entry(row["status"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    assert_eq!(counts, by_status(&rows));
}

async fn partition_on_is_checked_at_submission(app: TestApp) {
    data::write_logs(&app, 1, 10);
    for (partition_on, expected) in [
        (json!(["country"]), "unknown column"),
        (json!(["subscription_cost"]), "Float64"),
        (json!(["status", "status"]), "distinct"),
    ] {
        let (status, body) = app
            .post_json(
                "/v1/jobs",
                &json!({
                    "sources": {"logs": {"format": "csv", "path": "logs/*.csv"}},
                    "steps": [],
                    "output": {"partition_on": partition_on}
                }),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{expected}: {body}");
        assert!(
            body["error"]["details"]["path"]
                .as_str()
                .unwrap()
                .starts_with("output.partition_on"),
            "{body}"
        );
    }
}

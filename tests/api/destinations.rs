//! `output.path`: a result dataset written into the caller's own storage (here a directory
//! under the data root; `s3.rs` has the bucket), with `mode` error, overwrite and append,
//! published only when the job succeeds, and confined like sources.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::data;
use crate::helpers::{TestApp, client_with_key, create_key, read_parquet};
use crate::on_both_stores;

on_both_stores!(
    csv_to_parquet_lands_at_the_destination,
    a_non_empty_destination_needs_a_mode,
    overwrite_replaces_the_dataset,
    append_adds_files_and_checks_the_columns,
    a_failed_or_cancelled_job_leaves_the_destination_as_it_was,
    destinations_are_confined,
    job_sources_read_an_earlier_result,
);
on_both_stores!(needs "needs RUSK_PYTHON with pandas, pyarrow and dask (and Postgres): run with --include-ignored": pandas_and_dask_read_the_dataset_back);

/// The guide's ETL job: the raw CSV logs to a snappy Parquet dataset of several files.
fn convert(path: &str, mode: &str) -> Value {
    json!({
        "sources": {"logs": {"format": "csv", "path": "logs/large-data-*.csv"}},
        "steps": [],
        "output": {"format": "parquet", "compression": "snappy", "partition_size": "16KB",
                   "path": path, "mode": mode}
    })
}

/// The dataset's visible files (relative name → bytes), as a reader of the directory sees
/// them; and whether anything staged is left.
fn dataset(dir: &Path) -> (BTreeMap<String, Vec<u8>>, bool) {
    let mut files = BTreeMap::new();
    let mut staged = false;
    for entry in walk(dir) {
        let relative = entry.strip_prefix(dir).unwrap().display().to_string();
        if relative
            .split('/')
            .any(|n| n.starts_with('_') || n.starts_with('.'))
        {
            staged = true;
        } else {
            files.insert(relative, std::fs::read(&entry).unwrap());
        }
    }
    (files, staged)
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// Every row of a Parquet dataset as (user_id, click_count, session_duration × 10).
fn rows_of(files: &BTreeMap<String, Vec<u8>>) -> Vec<(i64, i64, i64)> {
    let mut rows = Vec::new();
    for bytes in files.values() {
        for batch in read_parquet(bytes::Bytes::from(bytes.clone())) {
            let ints = |name: &str| {
                arrow::compute::cast(
                    batch.column_by_name(name).unwrap(),
                    &arrow::datatypes::DataType::Int64,
                )
                .unwrap()
            };
            let (users, clicks) = (ints("user_id"), ints("click_count"));
            let durations = data::floats(std::slice::from_ref(&batch), "session_duration");
            let users = users
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .unwrap();
            let clicks = clicks
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .unwrap();
            for (i, duration) in durations.iter().enumerate() {
                let tenths = (duration.unwrap() * 10.0).round() as i64;
                rows.push((users.value(i), clicks.value(i), tenths));
            }
        }
    }
    rows.sort_unstable();
    rows
}

fn expected_rows(groups: &[data::LogRow]) -> Vec<(i64, i64, i64)> {
    let mut rows: Vec<_> = groups
        .iter()
        .map(|r| {
            (
                r.user_id,
                r.click_count,
                (r.session_duration * 10.0).round() as i64,
            )
        })
        .collect();
    rows.sort_unstable();
    rows
}

async fn refused(app: &TestApp, spec: &Value) -> Value {
    let (status, body) = app.post_json("/v1/jobs", spec).await;
    assert_eq!(status, 422, "{body}");
    body
}

async fn csv_to_parquet_lands_at_the_destination(app: TestApp) {
    let written = data::write_logs(&app, 3, 400);
    let job = app
        .run(&convert("processed/dataset.parquet", "error"))
        .await;
    assert_eq!(job["state"], "succeeded", "{job}");

    let dir = app.root.join("processed/dataset.parquet");
    let (files, staged) = dataset(&dir);
    assert!(!staged, "staged files were left behind");
    assert!(
        files.len() > 1,
        "expected several files, got {:?}",
        files.keys()
    );
    assert_eq!(rows_of(&files), expected_rows(&written));
    // Snappy, as asked.
    let first = bytes::Bytes::from(files.values().next().unwrap().clone());
    let reader = parquet::file::reader::SerializedFileReader::new(first).unwrap();
    let column = parquet::file::reader::FileReader::metadata(&reader)
        .row_group(0)
        .column(0)
        .compression();
    assert_eq!(column, parquet::basic::Compression::SNAPPY);

    // The result lists the files where they are, and its links read them from there.
    let listed: Vec<&str> = job["result"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let on_disk: Vec<String> = files
        .keys()
        .map(|name| format!("processed/dataset.parquet/{name}"))
        .collect();
    assert_eq!(listed, on_disk);
    assert_eq!(job["result"]["rows"], 1200);
    let (status, _, body) = app
        .get_bytes(job["result"]["links"]["arrow"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    let rows: usize = crate::helpers::read_arrow_stream(&body)
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(rows, 1200);

    // And the dataset is a source for the next job.
    let again = app
        .run(&json!({
            "sources": {"d": {"format": "parquet", "path": "processed/dataset.parquet"}},
            "sql": "SELECT count(*) AS n FROM d"
        }))
        .await;
    assert_eq!(
        app.result_json(again["id"].as_str().unwrap(), "").await[0]["n"],
        1200
    );
}

async fn a_non_empty_destination_needs_a_mode(app: TestApp) {
    data::write_logs(&app, 2, 100);
    app.run(&convert("out/logs", "error")).await;
    let before = dataset(&app.root.join("out/logs")).0;
    let body = refused(&app, &convert("out/logs", "error")).await;
    assert_eq!(body["error"]["details"]["path"], "output.path", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("mode"),
        "{body}"
    );
    assert_eq!(app.jobs().await.len(), 1, "the refused job was stored");
    assert_eq!(dataset(&app.root.join("out/logs")).0, before);

    // `mode` needs a path.
    let body = refused(
        &app,
        &json!({"sources": {"l": {"format": "csv", "path": "logs/*.csv"}}, "steps": [],
                "output": {"mode": "append"}}),
    )
    .await;
    assert_eq!(body["error"]["details"]["path"], "output.mode", "{body}");
}

async fn overwrite_replaces_the_dataset(app: TestApp) {
    let written = data::write_logs(&app, 3, 400);
    app.run(&convert("out/logs", "error")).await;
    let first = dataset(&app.root.join("out/logs")).0;
    assert!(first.len() > 1);
    let mut spec = convert("out/logs", "overwrite");
    spec["output"] = json!({"path": "out/logs", "mode": "overwrite", "single_file": true});
    let job = app.run(&spec).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let (after, staged) = dataset(&app.root.join("out/logs"));
    assert!(!staged);
    assert_eq!(after.keys().collect::<Vec<_>>(), ["part-00000.parquet"]);
    assert_eq!(rows_of(&after), expected_rows(&written));
}

async fn append_adds_files_and_checks_the_columns(app: TestApp) {
    let days = data::logs(2, 250, 40);
    for (day, rows) in days.iter().enumerate() {
        app.write(&format!("days/{day}/logs.csv"), &data::to_csv(rows));
    }
    let day = |n: usize, mode: &str| {
        json!({
            "sources": {"logs": {"format": "csv", "path": format!("days/{n}/logs.csv")}},
            "steps": [],
            "output": {"path": "events", "mode": mode}
        })
    };
    let first = app.run(&day(0, "append")).await;
    assert_eq!(first["state"], "succeeded", "{first}");
    let second = app.run(&day(1, "append")).await;
    assert_eq!(second["state"], "succeeded", "{second}");
    let (files, staged) = dataset(&app.root.join("events"));
    assert!(!staged);
    assert_eq!(files.len(), 2, "{:?}", files.keys());
    let both: Vec<data::LogRow> = days.iter().flatten().cloned().collect();
    assert_eq!(rows_of(&files), expected_rows(&both));
    // Each job's files are named by the job.
    for job in [&first, &second] {
        let id = job["id"].as_str().unwrap().replace('-', "");
        assert!(
            files.keys().any(|name| name.contains(&id)),
            "{id} in {:?}",
            files.keys()
        );
    }

    // Other columns cannot be appended.
    let body = refused(
        &app,
        &json!({
            "sources": {"logs": {"format": "csv", "path": "days/1/logs.csv"}},
            "sql": "SELECT user_id FROM logs",
            "output": {"path": "events", "mode": "append"}
        }),
    )
    .await;
    assert_eq!(body["error"]["details"]["path"], "output.path", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("columns"),
        "{body}"
    );
}

async fn a_failed_or_cancelled_job_leaves_the_destination_as_it_was(app: TestApp) {
    data::write_logs(&app, 3, 400);
    app.run(&convert("out/logs", "error")).await;
    let before = dataset(&app.root.join("out/logs")).0;

    // Fails while writing, once some files are staged: the result outgrows its limit.
    let mut failing = convert("out/logs", "overwrite");
    failing["max_result_bytes"] = json!("24KB");
    let id = app.submit(&failing).await;
    let job = app.wait(&id).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "result_too_large", "{job}");
    let (after, staged) = dataset(&app.root.join("out/logs"));
    assert_eq!(after, before);
    assert!(!staged, "the failed attempt's files were left");

    // Cancelled while running.
    let mut endless = data::endless_spec();
    endless["output"] = json!({"path": "out/logs", "mode": "overwrite"});
    let id = app.submit(&endless).await;
    app.wait_for_state(&id, "running").await;
    let cancel = app
        .client
        .post(app.url(&format!("/v1/jobs/{id}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 202);
    app.wait(&id).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (after, staged) = dataset(&app.root.join("out/logs"));
    assert_eq!(after, before);
    assert!(!staged, "the cancelled attempt's files were left");
}

async fn destinations_are_confined(app: TestApp) {
    data::write_logs(&app, 1, 50);
    let outside = app.root.parent().unwrap().join("elsewhere");
    let data_dir = app.settings.data_dir.canonicalize().unwrap();
    for path in [
        "../elsewhere".to_string(),
        format!("file://{}", outside.display()),
        format!("FILE://{}", outside.display()),
        "/etc/rusk-out".into(),
        ".".into(),
        "out/*".into(),
        format!("{}/objects/results", data_dir.display()),
    ] {
        let body = refused(&app, &convert(&path, "overwrite")).await;
        assert_eq!(
            body["error"]["details"]["path"], "output.path",
            "{path}: {body}"
        );
    }
    assert!(!outside.exists());
    assert!(app.jobs().await.is_empty());

    // With API keys, object-store destinations need RUSK_OUTPUT_ALLOW.
    let (key, _) = create_key(&app.settings, "acme");
    let response = client_with_key(&key)
        .post(app.url("/v1/jobs"))
        .json(&convert("s3://somebody-elses-bucket/out", "error"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("RUSK_OUTPUT_ALLOW"),
        "{body}"
    );
}

async fn pandas_and_dask_read_the_dataset_back(app: TestApp) {
    let python = crate::helpers::python_with("pandas, pyarrow, dask", "the dataset read-back test");
    data::write_logs(&app, 3, 400);
    let job = app
        .run(&convert("processed/dataset.parquet", "error"))
        .await;
    assert_eq!(job["state"], "succeeded", "{job}");
    // And partitioned by a column, which the readers take from the directory names.
    let mut partitioned = convert("processed/by_status", "error");
    partitioned["output"]["partition_on"] = json!(["status"]);
    assert_eq!(app.run(&partitioned).await["state"], "succeeded");
    let output = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/py/dataset_parity.py"
        ))
        .arg(app.root.join("logs"))
        .arg(app.root.join("processed/dataset.parquet"))
        .arg(app.root.join("processed/by_status"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the dataset does not read back as its input:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `job://{id}` reads an earlier job's result where Rusk keeps it, so pipelines chain without
/// copying data out (Dask's `persist`); only the tenant's own, succeeded, in its format.
async fn job_sources_read_an_earlier_result(app: TestApp) {
    let rows = data::write_logs(&app, 2, 300);
    let seed = app.run(&data::seed_spec()).await;
    let seed_id = seed["id"].as_str().unwrap();
    let chained = app
        .run(&json!({
            "sources": {"users": {"format": "parquet", "path": format!("job://{seed_id}")}},
            "sql": "SELECT count(*) AS n, max(click_count) AS clicks FROM users"
        }))
        .await;
    let answer = app.result_json(chained["id"].as_str().unwrap(), "").await;
    let expected = data::seed_answer(&rows);
    assert_eq!(answer[0]["n"], expected.len());
    assert_eq!(
        answer[0]["clicks"],
        expected.values().map(|v| v.2).max().unwrap()
    );

    // A partitioned result reads back with its partition column.
    let split = app
        .run(&json!({
            "sources": {"logs": {"format": "csv", "path": "logs/large-data-*.csv"}},
            "steps": [], "output": {"format": "csv", "partition_on": ["status"]}
        }))
        .await;
    let split_id = split["id"].as_str().unwrap();
    let counted = app
        .run(&json!({
            "sources": {"s": {"format": "csv", "path": format!("job://{split_id}")}},
            "sql": "SELECT count(*) AS n FROM s WHERE status = 'trial'"
        }))
        .await;
    let trials = rows.iter().filter(|r| r.status == "trial").count();
    assert_eq!(
        app.result_json(counted["id"].as_str().unwrap(), "").await[0]["n"],
        trials
    );

    let refuse = |path: String, format: &str| json!({"sources": {"e": {"format": format, "path": path}}, "sql": "SELECT * FROM e"});
    for (spec, expected) in [
        (refuse(format!("job://{seed_id}"), "csv"), "\"parquet\""),
        (
            refuse(format!("job://{}", uuid_like()), "parquet"),
            "no job",
        ),
        (
            refuse("job://not-a-uuid".into(), "parquet"),
            "job://{job id}",
        ),
    ] {
        let body = refused(&app, &spec).await;
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{expected}: {body}");
        assert_eq!(body["error"]["details"]["path"], "sources.e.path", "{body}");
    }
    // Not another tenant's.
    let (key, _) = create_key(&app.settings, "other");
    let response = client_with_key(&key)
        .post(app.url("/v1/jobs"))
        .json(&refuse(format!("job://{seed_id}"), "parquet"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no job"),
        "{body}"
    );
}

fn uuid_like() -> String {
    "0190c3a4-0000-7000-8000-000000000000".into()
}

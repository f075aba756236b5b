//! The core path end to end: pipelines POSTed over HTTP, run by the workers, results fetched
//! as Arrow and Parquet and checked against answers computed in the test.

use std::collections::BTreeMap;

use serde_json::json;

use crate::data::{self, assert_seed_result, close, floats, seed_answer, seed_spec, strings};
use crate::helpers::{TestApp, read_arrow_stream, read_parquet};
use crate::on_both_stores;

on_both_stores!(
    seed_pipeline_over_a_csv_glob,
    sql_form,
    sql_opens_only_the_sources_it_reads,
    source_names_keep_their_case,
    sort_then_head,
    merge_then_groupby,
    every_aggregation,
    arrow_output_and_small_files,
);

async fn seed_pipeline_over_a_csv_glob(app: TestApp) {
    let rows = data::write_logs(&app, 4, 500);
    let expected = seed_answer(&rows);
    let job = app.run(&seed_spec()).await;

    let result = &job["result"];
    assert_eq!(result["rows"], expected.len());
    assert_eq!(job["attempts"], 1);
    let log = job["attempt_log"].as_array().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["outcome"], "succeeded");
    assert!(log[0]["worker"].as_str().unwrap().len() > 10);
    let arrow_link = result["links"]["arrow"].as_str().unwrap();
    let parquet_link = result["links"]["parquet"].as_str().unwrap();
    assert!(
        arrow_link.starts_with(&app.base),
        "absolute link: {arrow_link}"
    );

    let (status, content_type, body) = app.get_bytes(arrow_link).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/vnd.apache.arrow.stream");
    assert_seed_result(&read_arrow_stream(&body), &expected);

    let (status, content_type, body) = app.get_bytes(parquet_link).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/vnd.apache.parquet");
    assert_seed_result(&read_parquet(body), &expected);

    let file_url = result["files"][0]["url"].as_str().unwrap();
    let (status, _, body) = app.get_bytes(file_url).await;
    assert_eq!(status, 200);
    assert_eq!(
        body.len() as u64,
        result["files"][0]["bytes"].as_u64().unwrap()
    );
}

async fn sql_form(app: TestApp) {
    let rows = data::write_logs(&app, 2, 300);
    let job = app
        .run(&json!({
            "sources": {"logs": {"format": "csv", "path": "logs/*.csv"}},
            "sql": "SELECT user_id, SUM(click_count) AS clicks, COUNT(*) AS n \
                    FROM logs WHERE status = 'active' GROUP BY user_id ORDER BY user_id"
        }))
        .await;
    let mut expected: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.status == "active") {
        let e = expected.entry(r.user_id).or_default();
        e.0 += r.click_count;
        e.1 += 1;
    }
    let id = job["id"].as_str().unwrap();
    let got = app.result_json(id, "").await;
    let got: Vec<(i64, i64, i64)> = got
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["user_id"].as_i64().unwrap(),
                r["clicks"].as_i64().unwrap(),
                r["n"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(i64, i64, i64)> =
        expected.into_iter().map(|(k, (c, n))| (k, c, n)).collect();
    assert_eq!(got, expected);
}

/// A `sql` job registers the sources its query names (a CTE of the same name is not a
/// source); the others are only located. So a source the query does not read may hold
/// anything, but it must exist, and one the query reads is checked as before.
async fn sql_opens_only_the_sources_it_reads(app: TestApp) {
    let rows = data::write_logs(&app, 2, 300);
    app.write("broken.parquet", "not a Parquet file");
    let spec = |sql: &str, other: &str| {
        json!({
            "sources": {
                "logs": {"format": "csv", "path": "logs/*.csv"},
                "other": {"format": "parquet", "path": other},
            },
            "sql": sql,
        })
    };
    let count = "WITH other AS (SELECT 1 AS n) SELECT COUNT(*) AS n FROM logs, other";
    let job = app.run(&spec(count, "broken.parquet")).await;
    let got = app.result_json(job["id"].as_str().unwrap(), "").await;
    assert_eq!(got, json!([{"n": rows.len()}]));

    let refused = [
        (
            "SELECT COUNT(*) AS n FROM other",
            "broken.parquet",
            "sources.other",
        ),
        (count, "missing.parquet", "sources.other.path"),
    ];
    for (sql, other, path) in refused {
        let response = app.post_job(&spec(sql, other)).await;
        assert_eq!(response.status(), 422, "{sql} over {other}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["details"]["path"], path, "{body}");
    }
    assert!(
        app.jobs().await.len() == 1,
        "only the first job was created"
    );
}

/// Names are case-sensitive, as columns are: `Logs` and `logs` are two sources, in SQL and in
/// steps alike.
async fn source_names_keep_their_case(app: TestApp) {
    let rows = data::write_logs(&app, 2, 300);
    let sources = json!({
        "Logs": {"format": "csv", "path": "logs/*.csv"},
        "logs": {"format": "csv", "path": "logs/large-data-0.csv"},
    });
    let job = app
        .run(&json!({
            "sources": sources,
            "sql": "SELECT (SELECT COUNT(*) FROM Logs) AS all_rows, \
                    (SELECT COUNT(*) FROM logs) AS first_file",
        }))
        .await;
    let got = app.result_json(job["id"].as_str().unwrap(), "").await;
    assert_eq!(got, json!([{"all_rows": rows.len(), "first_file": 300}]));

    let job = app
        .run(&json!({
            "sources": sources,
            "input": "Logs",
            "steps": [{"op": "concat", "others": ["logs"]}],
        }))
        .await;
    assert_eq!(job["result"]["rows"], rows.len() + 300, "{job}");

    let response = app
        .post_job(&json!({"sources": sources, "sql": "SELECT COUNT(*) FROM LOGS"}))
        .await;
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["details"]["path"], "sql", "{body}");
}

async fn sort_then_head(app: TestApp) {
    let rows = data::write_logs(&app, 3, 200);
    let job = app
        .run(&json!({
            "sources": {"logs": {"format": "csv", "path": "logs"}},
            "steps": [
                {"op": "assign", "columns": {"total_spend": "subscription_cost + add_on_cost"}},
                {"op": "sort", "by": ["total_spend", "user_id"], "ascending": [false, true]},
                {"op": "head", "n": 7},
                {"op": "select", "columns": ["user_id", "total_spend"]}
            ]
        }))
        .await;
    let mut expected: Vec<(f64, i64)> = rows
        .iter()
        .map(|r| (r.subscription_cost + r.add_on_cost, r.user_id))
        .collect();
    expected.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    expected.truncate(7);

    let (_, _, body) = app
        .get_bytes(job["result"]["links"]["arrow"].as_str().unwrap())
        .await;
    let batches = read_arrow_stream(&body);
    let totals = floats(&batches, "total_spend");
    let users = floats(&batches, "user_id");
    assert_eq!(totals.len(), 7);
    for (i, (total, user)) in expected.iter().enumerate() {
        assert!(
            close(totals[i].unwrap(), *total),
            "row {i}: {:?} vs {total}",
            totals[i]
        );
        assert_eq!(users[i].unwrap() as i64, *user, "row {i}");
    }
}

async fn merge_then_groupby(app: TestApp) {
    let rows = data::write_logs(&app, 2, 400);
    // Users 0..40 only, so the inner merge drops the logs of users 40..50; `status` clashes.
    let mut users = String::from("user_id,country,status\n");
    for id in 0..40 {
        users.push_str(&format!(
            "{id},{},{}\n",
            ["de", "fr", "us"][id % 3],
            ["paid", "free"][id % 2]
        ));
    }
    app.write("users.csv", &users);
    let job = app
        .run(&json!({
            "sources": {
                "logs": {"format": "csv", "path": "logs/*.csv"},
                "users": {"format": "csv", "path": "users.csv"}
            },
            "input": "logs",
            "steps": [
                {"op": "merge", "right": "users", "on": "user_id", "how": "inner"},
                {"op": "filter", "expr": "status_x = 'active' AND status_y = 'paid'"},
                {"op": "groupby", "by": "country",
                 "agg": {"click_count": ["sum", "count"], "user_id": "nunique"}, "sort": true}
            ]
        }))
        .await;
    let mut expected: BTreeMap<&str, (i64, i64, std::collections::BTreeSet<i64>)> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.user_id < 40 && r.status == "active" && r.user_id % 2 == 0)
    {
        let country = ["de", "fr", "us"][(r.user_id % 3) as usize];
        let e = expected.entry(country).or_default();
        e.0 += r.click_count;
        e.1 += 1;
        e.2.insert(r.user_id);
    }
    let (_, _, body) = app
        .get_bytes(job["result"]["links"]["parquet"].as_str().unwrap())
        .await;
    let batches = read_parquet(body);
    let names: Vec<String> = batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        ["country", "click_count_sum", "click_count_count", "user_id"]
    );
    let countries = strings(&batches, "country");
    let sums = floats(&batches, "click_count_sum");
    let counts = floats(&batches, "click_count_count");
    let distinct = floats(&batches, "user_id");
    let got: Vec<(String, i64, i64, i64)> = (0..countries.len())
        .map(|i| {
            (
                countries[i].clone().unwrap(),
                sums[i].unwrap() as i64,
                counts[i].unwrap() as i64,
                distinct[i].unwrap() as i64,
            )
        })
        .collect();
    let expected: Vec<(String, i64, i64, i64)> = expected
        .into_iter()
        .map(|(c, (s, n, u))| (c.to_string(), s, n, u.len() as i64))
        .collect();
    assert_eq!(got, expected);
}

/// Each aggregation against pandas' definition, on a frame with nulls and an all-null group.
async fn every_aggregation(app: TestApp) {
    app.write("values.csv", "g,x\na,1\na,4\na,\na,7\nb,2\nb,2\nc,\nc,\n");
    let fns = [
        "sum", "mean", "min", "max", "count", "size", "nunique", "std", "var", "first", "last",
        "median",
    ];
    let job = app
        .run(&json!({
            "sources": {"v": {"format": "csv", "path": "values.csv", "options": {"dtype": {"x": "float64"}}}},
            "steps": [{"op": "groupby", "by": "g", "agg": {"x": fns}, "sort": true}]
        }))
        .await;
    let rows = app.result_json(job["id"].as_str().unwrap(), "").await;
    let row = |g: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["g"] == g)
            .unwrap()
            .clone()
    };
    let (a, b, c) = (row("a"), row("b"), row("c"));
    // Group a: 1, 4, null, 7. pandas: sum 12, mean 4, std 3, var 9, median 4, count 3, size 4.
    let expect = [
        ("x_sum", json!(12.0), json!(4.0), json!(0.0)),
        ("x_mean", json!(4.0), json!(2.0), json!(null)),
        ("x_min", json!(1.0), json!(2.0), json!(null)),
        ("x_max", json!(7.0), json!(2.0), json!(null)),
        ("x_count", json!(3), json!(2), json!(0)),
        ("x_size", json!(4), json!(2), json!(2)),
        ("x_nunique", json!(3), json!(1), json!(0)),
        ("x_std", json!(3.0), json!(0.0), json!(null)),
        ("x_var", json!(9.0), json!(0.0), json!(null)),
        ("x_median", json!(4.0), json!(2.0), json!(null)),
    ];
    for (column, in_a, in_b, in_c) in expect {
        assert_eq!(a.get(column), json_value(&in_a), "group a, {column}: {a}");
        assert_eq!(b.get(column), json_value(&in_b), "group b, {column}: {b}");
        assert_eq!(c.get(column), json_value(&in_c), "group c, {column}: {c}");
    }
    // first/last skip nulls; with one file read in order they are the first and last values.
    assert_eq!(a["x_first"], json!(1.0));
    assert_eq!(a["x_last"], json!(7.0));
    assert!(c.get("x_first").is_none_or(|v| v.is_null()));
}

/// JSON results leave out null fields; a missing key stands for null.
fn json_value(v: &serde_json::Value) -> Option<&serde_json::Value> {
    if v.is_null() { None } else { Some(v) }
}

async fn arrow_output_and_small_files(app: TestApp) {
    let rows = data::write_logs(&app, 2, 2000);
    let job = app
        .run(&json!({
            "sources": {"logs": {"format": "csv", "path": "logs/*.csv"}},
            "steps": [{"op": "select", "columns": ["user_id", "click_count"]}],
            "output": {"format": "arrow", "partition_size": "8KB"}
        }))
        .await;
    let result = &job["result"];
    let files = result["files"].as_array().unwrap();
    assert!(files.len() > 1, "8KB files for ~64KB of data: {result}");
    let total: u64 = files.iter().map(|f| f["rows"].as_u64().unwrap()).sum();
    assert_eq!(total, rows.len() as u64);
    assert_eq!(result["rows"], rows.len());

    // A stored file is an Arrow IPC file; the whole result comes back as one stream.
    let (_, content_type, body) = app.get_bytes(files[0]["url"].as_str().unwrap()).await;
    assert_eq!(content_type, "application/vnd.apache.arrow.file");
    let reader = arrow::ipc::reader::FileReader::try_new(std::io::Cursor::new(body), None).unwrap();
    let first_rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(first_rows as u64, files[0]["rows"].as_u64().unwrap());

    let (_, _, body) = app
        .get_bytes(result["links"]["arrow"].as_str().unwrap())
        .await;
    let clicks = floats(&read_arrow_stream(&body), "click_count");
    let expected: Vec<Option<f64>> = rows.iter().map(|r| Some(r.click_count as f64)).collect();
    let (mut got, mut want) = (clicks, expected);
    got.sort_by(|a, b| a.partial_cmp(b).unwrap());
    want.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(got, want);
}

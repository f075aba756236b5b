//! `/v1/inspect` and `/v1/explain`: answers without running a job.

use serde_json::{Value, json};

use crate::data;
use crate::helpers::{Backend, spawn_app};

#[tokio::test]
async fn inspect_shows_schema_files_and_first_rows() {
    let app = spawn_app(Backend::Sqlite).await;
    let rows = data::write_logs(&app, 3, 100);
    let response = app
        .client
        .post(app.url("/v1/inspect"))
        .json(&json!({"source": {"format": "csv", "path": "logs/*.csv"}, "n": 4}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["files"], 3);
    assert!(body["partitions"].as_u64().unwrap() >= 1);
    let names: Vec<&str> = body["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, data::HEADER.split(',').collect::<Vec<_>>());
    let head = body["head"].as_array().unwrap();
    assert_eq!(head.len(), 4);
    for (row, expected) in head.iter().zip(&rows) {
        assert_eq!(row["user_id"], expected.user_id);
        assert_eq!(row["click_count"], expected.click_count);
        assert_eq!(row["status"], expected.status);
    }
    assert!(app.jobs().await.is_empty(), "no job was created");

    let missing = app
        .client
        .post(app.url("/v1/inspect"))
        .json(&json!({"source": {"format": "csv", "path": "nope/*.csv"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 422);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["details"]["path"], "source.path");
}

#[tokio::test]
async fn explain_shows_plans_and_the_task_graph() {
    let app = spawn_app(Backend::Sqlite).await;
    data::write_logs(&app, 2, 50);
    let response = app
        .client
        .post(app.url("/v1/explain"))
        .header("content-type", "application/json")
        .body(data::seed_spec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["logical"]
            .as_str()
            .unwrap()
            .contains("Aggregate: groupBy=[[logs.user_id]]"),
        "{body}"
    );
    assert!(
        body["physical"].as_str().unwrap().contains("AggregateExec"),
        "{body}"
    );
    let nodes = body["graph"]["nodes"].as_array().unwrap();
    let edges = body["graph"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), nodes.len() - 1, "a tree");
    assert!(!nodes[0]["operator"].as_str().unwrap().is_empty());
    assert!(nodes.iter().any(|n| n["operator"] == "DataSourceExec"
        && n["detail"].as_str().unwrap().contains("large-data-0.csv")));
    assert!(nodes.iter().any(|n| n["operator"] == "AggregateExec"));
    assert!(app.jobs().await.is_empty(), "no job was created");
    // Files are named relative to the data root: the server's layout stays private, in the
    // plans and in a finished job's executed plan alike.
    let root = app.root.canonicalize().unwrap().display().to_string();
    let hidden = root.trim_start_matches('/');
    assert!(
        body["physical"]
            .as_str()
            .unwrap()
            .contains("logs/large-data-0.csv")
    );
    assert!(!body.to_string().contains(hidden), "{body}");
    let job = app.run(&data::seed_spec()).await;
    let plan = app
        .get_json(&format!("/v1/jobs/{}/plan", job["id"].as_str().unwrap()))
        .await;
    assert!(plan.to_string().contains("logs/large-data-0.csv"), "{plan}");
    assert!(!plan.to_string().contains(hidden), "{plan}");

    let bad = app
        .client
        .post(app.url("/v1/explain"))
        .json(&json!({"sources": {"logs": {"format": "csv", "path": "logs/*.csv"}}, "sql": "DROP TABLE logs"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
}

/// On two cores or fewer a hash join gives its build side whole to each partition instead of
/// hash-repartitioning both inputs (CSV sources have no statistics, so DataFusion alone would
/// repartition them).
#[tokio::test]
async fn joins_on_few_cores_collect_their_build_side() {
    let app = spawn_app(Backend::Sqlite).await;
    data::write_logs(&app, 2, 50);
    let spec = json!({
        "sources": {"logs": {"format": "csv", "path": "logs/*.csv"}},
        "sql": "SELECT a.user_id FROM logs a JOIN logs b ON a.user_id = b.user_id",
    });
    let response = app
        .client
        .post(app.url("/v1/explain"))
        .json(&spec)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let physical = body["physical"].as_str().unwrap();
    let mode = if rusk::config::cores() <= 2 {
        "mode=CollectLeft"
    } else {
        "mode=Partitioned"
    };
    assert!(physical.contains(mode), "{physical}");
}

//! Data that does not fit: a bad value fails the job naming source, file, column and value;
//! files whose columns disagree are refused at submission naming both files.

use serde_json::{Value, json};

use crate::helpers::{Backend, spawn_app};

#[tokio::test]
async fn a_bad_value_names_its_file_and_column() {
    let app = spawn_app(Backend::Sqlite).await;
    app.write("logs/one.csv", "id,price\n1,2.5\n2,3.5\n");
    app.write("logs/two.csv", "id,price\n3,4.5\n4,lots\n");
    let id = app
        .submit(&json!({
            "sources": {"logs": {"format": "csv", "path": "logs/*.csv",
                                  "options": {"dtype": {"price": "float64"}}}},
            "steps": [{"op": "groupby", "by": "id", "agg": {"price": "sum"}}]
        }))
        .await;
    let job = app.wait(&id).await;
    assert_eq!(job["state"], "failed");
    assert_eq!(job["error"]["code"], "data_error");
    assert_eq!(job["attempts"], 1, "bad data is not retried");
    let message = job["error"]["message"].as_str().unwrap();
    for words in [
        "source \"logs\"",
        "logs/two.csv",
        "column \"price\"",
        "'lots'",
        "line",
    ] {
        assert!(message.contains(words), "{message:?} lacks {words:?}");
    }
}

#[tokio::test]
async fn files_that_disagree_are_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    app.write("mixed/a.csv", "id,price\n1,2\n");
    app.write("mixed/b.csv", "id,cost\n1,2\n");
    let response = app
        .post_job(&json!({"sources": {"m": {"format": "csv", "path": "mixed"}}, "sql": "SELECT * FROM m"}))
        .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["details"]["path"], "sources.m.path");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("mixed/a.csv") && message.contains("mixed/b.csv"),
        "{message}"
    );
    assert!(message.contains("cost"), "{message}");

    // Parquet: same names, another type.
    let first = app
        .run(&json!({"sources": {"a": {"format": "csv", "path": "mixed/a.csv"}}, "sql": "SELECT id, price FROM a"}))
        .await;
    let second = app
        .run(
            &json!({"sources": {"a": {"format": "csv", "path": "mixed/a.csv"}},
                     "sql": "SELECT id, CAST(price AS DOUBLE) AS price FROM a"}),
        )
        .await;
    for (job, name) in [(first, "p/1.parquet"), (second, "p/2.parquet")] {
        let (_, _, bytes) = app
            .get_bytes(job["result"]["links"]["parquet"].as_str().unwrap())
            .await;
        std::fs::create_dir_all(app.root.join("p")).unwrap();
        std::fs::write(app.root.join(name), bytes).unwrap();
    }
    let response = app
        .post_job(&json!({"sources": {"p": {"format": "parquet", "path": "p/*.parquet"}}, "sql": "SELECT * FROM p"}))
        .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("p/1.parquet") && message.contains("Float64"),
        "{message}"
    );
}

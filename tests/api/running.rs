//! Jobs that are running: cancelling one stops its plan and frees the slot; `timeout_s` fails
//! it with code `timeout`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::data;
use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(cancel_stops_running_jobs, timeout_fails_a_job);

fn endless(timeout_s: Option<u64>) -> Value {
    let mut spec = data::endless_spec();
    if let Some(t) = timeout_s {
        spec["timeout_s"] = json!(t);
    }
    spec
}

async fn cancel_stops_running_jobs(app: TestApp) {
    data::write_logs(&app, 1, 2000);
    // Both slots busy.
    let ids = [
        app.submit(&endless(None)).await,
        app.submit(&endless(None)).await,
    ];
    for id in &ids {
        app.wait_for_state(id, "running").await;
    }
    for id in &ids {
        let response = app
            .client
            .post(app.url(&format!("/v1/jobs/{id}/cancel")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
    }
    // The slots are free again: a small job runs at once.
    let start = Instant::now();
    let small = app
        .run(&json!({
            "sources": {"logs": {"format": "csv", "path": "logs/*.csv"}},
            "sql": "SELECT count(*) AS n FROM logs"
        }))
        .await;
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "slots freed within seconds"
    );
    let rows = app.result_json(small["id"].as_str().unwrap(), "").await;
    assert_eq!(rows[0]["n"], 2000);
    for id in &ids {
        let job = app.job(id).await;
        assert_eq!(job["state"], "cancelled");
        assert!(job["result"].is_null());
        assert_eq!(job["attempt_log"][0]["outcome"], "cancelled");
    }
}

async fn timeout_fails_a_job(app: TestApp) {
    data::write_logs(&app, 1, 2000);
    let id = app.submit(&endless(Some(1))).await;
    let job = app.wait(&id).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "timeout");
    assert_eq!(job["attempts"], 1, "a timeout is not retried");
}

//! `GET /v1/workers`: the live worker processes, their slots and the jobs they run.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::data;
use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(workers_report_slots_and_jobs);

async fn workers_until(app: &TestApp, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let workers = app.get_json("/v1/workers").await["workers"]
            .as_array()
            .unwrap()
            .clone();
        if done(&workers) {
            return workers;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "never saw {what}: {workers:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn workers_report_slots_and_jobs(app: TestApp) {
    let idle = workers_until(&app, "one idle worker", |w| {
        w.len() == 1 && w[0]["busy"] == 0
    })
    .await;
    let worker = &idle[0];
    assert_eq!(worker["slots"], 2);
    assert_eq!(worker["free"], 2);
    assert_eq!(worker["capabilities"]["memory_limit"], 512u64 << 20);
    assert!(worker["capabilities"]["cores"].as_u64().unwrap() >= 1);
    assert_eq!(worker["current_jobs"], json!([]));

    data::write_logs(&app, 1, 10);
    let id = app.submit(&data::endless_spec()).await;
    let busy = workers_until(&app, "the job on the worker", |w| {
        w.len() == 1 && w[0]["current_jobs"] == json!([id.clone()])
    })
    .await;
    assert_eq!(busy[0]["busy"], 1);
    assert_eq!(busy[0]["free"], 1);
    assert_eq!(
        app.job(&id).await["attempt_log"][0]["worker"],
        busy[0]["id"]
    );

    let cancel = app
        .client
        .post(app.url(&format!("/v1/jobs/{id}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 202);
    workers_until(&app, "the worker idle again", |w| {
        w.len() == 1 && w[0]["busy"] == 0
    })
    .await;
}

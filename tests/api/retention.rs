//! Retention: `DELETE /v1/jobs/{id}` (row, result files, models), results that expire after
//! `result_ttl_s` / `RUSK_RESULT_TTL` (files deleted by the workers' janitor, downloads then
//! 410), job rows dropped after `RUSK_JOB_TTL`, and a per-tenant quota of stored bytes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusk::app::Role;
use serde_json::{Value, json};

use crate::data;
use crate::helpers::{Backend, TestApp, spawn_configured};
use crate::{on_both_backends, on_both_stores};

on_both_stores!(
    delete_removes_the_job_its_files_and_models,
    a_running_job_is_cancelled_then_deleted
);
/// Tests that configure their app (a fast janitor), on each backend.
mod configured {
    use super::*;
    on_both_backends!(
        expired_results_are_deleted_and_answer_410,
        old_jobs_are_dropped,
        the_quota_refuses_submissions_past_it,
    );
}

fn results_of(app: &TestApp, id: &str) -> PathBuf {
    app.settings.data_dir.join("objects/results").join(id)
}

fn files_in(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| {
            let path = e.unwrap().path();
            if path.is_dir() { files_in(&path) } else { 1 }
        })
        .sum()
}

async fn delete(app: &TestApp, id: &str) -> reqwest::StatusCode {
    app.client
        .delete(app.url(&format!("/v1/jobs/{id}")))
        .send()
        .await
        .unwrap()
        .status()
}

async fn status_of(app: &TestApp, path: &str) -> u16 {
    app.client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn line_files(app: &TestApp) {
    let mut csv = String::from("x,y\n");
    for i in 0..200 {
        csv.push_str(&format!("{i},{}\n", 2 * i + 1));
    }
    app.write("line.csv", &csv);
}

async fn delete_removes_the_job_its_files_and_models(app: TestApp) {
    data::write_logs(&app, 2, 100);
    let job = app.run(&data::seed_spec()).await;
    let id = job["id"].as_str().unwrap();
    assert!(files_in(&results_of(&app, id)) > 0);

    assert_eq!(delete(&app, id).await, 204);
    assert_eq!(status_of(&app, &format!("/v1/jobs/{id}")).await, 404);
    assert_eq!(
        files_in(&results_of(&app, id)),
        0,
        "its result files are left"
    );
    assert_eq!(delete(&app, id).await, 404);

    // A training job's model goes with it.
    line_files(&app);
    let fit = app
        .run(
            &json!({"sources": {"d": {"format": "csv", "path": "line.csv"}}, "steps": [],
                     "ml": {"task": "fit", "estimator": "linear_regression", "target": "y"}}),
        )
        .await;
    let model = fit["result"]["ml"]["model_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(status_of(&app, &format!("/v1/models/{model}")).await, 200);
    assert_eq!(delete(&app, fit["id"].as_str().unwrap()).await, 204);
    assert_eq!(status_of(&app, &format!("/v1/models/{model}")).await, 404);
    let artifact = app.settings.data_dir.join("objects/models").join(&model);
    assert_eq!(files_in(&artifact), 0, "the model's artifact is left");

    // Files written to the caller's own output.path stay theirs.
    let own = app
        .run(
            &json!({"sources": {"logs": {"format": "csv", "path": "logs/*.csv"}},
                     "steps": [], "output": {"path": "mine"}}),
        )
        .await;
    assert_eq!(delete(&app, own["id"].as_str().unwrap()).await, 204);
    assert!(files_in(&app.root.join("mine")) > 0);
}

async fn a_running_job_is_cancelled_then_deleted(app: TestApp) {
    data::write_logs(&app, 1, 10);
    let id = app.submit(&data::endless_spec()).await;
    app.wait_for_state(&id, "running").await;
    assert_eq!(delete(&app, &id).await, 204);
    assert_eq!(status_of(&app, &format!("/v1/jobs/{id}")).await, 404);
    // The slot is free again: another job runs.
    let next = app
        .run(&data::seed_spec().replace("large-data-*", "*"))
        .await;
    assert_eq!(next["state"], "succeeded");
}

async fn retained_app(
    backend: Backend,
    configure: impl FnOnce(&mut rusk::config::Settings),
) -> TestApp {
    spawn_configured(backend, Role::Serve, |settings| {
        settings.janitor_interval = 1;
        configure(settings);
    })
    .await
}

/// Polls the job until `done` holds for it (at most 20 s).
async fn until(app: &TestApp, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let response = app
            .client
            .get(app.url(&format!("/v1/jobs/{id}")))
            .send()
            .await
            .unwrap();
        let job: Value = if response.status() == 404 {
            Value::Null
        } else {
            response.json().await.unwrap()
        };
        if done(&job) {
            return job;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "gave up waiting: {job}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn expired_results_are_deleted_and_answer_410(backend: Backend) {
    let app = retained_app(backend, |s| s.result_ttl = Some(3600)).await;
    data::write_logs(&app, 2, 100);
    let mut short = serde_json::from_str::<Value>(data::seed_spec()).unwrap();
    short["result_ttl_s"] = json!(1);
    let expiring = app.run(&short).await;
    let kept = app.run(&data::seed_spec()).await;
    let id = expiring["id"].as_str().unwrap();
    assert!(
        expiring["result"]["retained_until"].is_string(),
        "{expiring}"
    );
    let link = expiring["result"]["links"]["arrow"]
        .as_str()
        .unwrap()
        .to_string();

    let expired = until(&app, id, |job| job["result"]["expired_at"].is_string()).await;
    assert_eq!(files_in(&results_of(&app, id)), 0, "expired files are left");
    let response = app.client.get(&link).send().await.unwrap();
    assert_eq!(response.status(), 410);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "result_expired", "{body}");
    assert_eq!(
        status_of(&app, &format!("/v1/jobs/{id}/files/0")).await,
        410
    );
    // The job itself stays, with what its result was.
    assert_eq!(expired["state"], "succeeded");
    assert!(expired["result"]["rows"].as_u64().unwrap() > 0);

    // The server's retention (an hour) has not passed for the other job.
    let kept_id = kept["id"].as_str().unwrap();
    assert!(files_in(&results_of(&app, kept_id)) > 0);
    assert_eq!(
        status_of(&app, &format!("/v1/jobs/{kept_id}/result?format=csv")).await,
        200
    );

    // A job may not keep its result longer than the server allows.
    let mut long = serde_json::from_str::<Value>(data::seed_spec()).unwrap();
    long["result_ttl_s"] = json!(7200);
    let (status, body) = app.post_json("/v1/jobs", &long).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"]["path"], "result_ttl_s");

    // Files in the caller's own output.path never expire.
    let mut own = serde_json::from_str::<Value>(data::seed_spec()).unwrap();
    own["result_ttl_s"] = json!(1);
    own["output"] = json!({"path": "mine"});
    let own = app.run(&own).await;
    assert!(own["result"]["retained_until"].is_null(), "{own}");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(files_in(&app.root.join("mine")) > 0);
    let own_id = own["id"].as_str().unwrap();
    assert_eq!(
        status_of(&app, &format!("/v1/jobs/{own_id}/result?format=csv")).await,
        200
    );
}

async fn old_jobs_are_dropped(backend: Backend) {
    let app = retained_app(backend, |s| s.job_ttl = Some(1)).await;
    data::write_logs(&app, 1, 50);
    let job = app.run(&data::seed_spec()).await;
    let id = job["id"].as_str().unwrap();
    until(&app, id, Value::is_null).await;
    // The janitor deletes the row, then the files: give it the moment in between.
    let start = Instant::now();
    while files_in(&results_of(&app, id)) > 0 && start.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(files_in(&results_of(&app, id)), 0);
}

async fn the_quota_refuses_submissions_past_it(backend: Backend) {
    let app = retained_app(backend, |s| s.result_quota = Some(1)).await;
    data::write_logs(&app, 1, 50);
    let first = app.run(&data::seed_spec()).await;
    let response = app.post_job(&data::seed_spec()).await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "quota_exceeded", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("RUSK_RESULT_QUOTA")
    );
    // Writing elsewhere stores nothing here, so it is allowed.
    let mut own = serde_json::from_str::<Value>(data::seed_spec()).unwrap();
    own["output"] = json!({"path": "mine"});
    assert_eq!(app.post_job(&own).await.status(), 201);
    // Deleting frees the quota.
    assert_eq!(delete(&app, first["id"].as_str().unwrap()).await, 204);
    assert_eq!(app.post_job(&data::seed_spec()).await.status(), 201);
}

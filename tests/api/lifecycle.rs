//! Jobs without workers (an `api`-only process): queueing, listing, paging, cancelling,
//! idempotent submission, and results that do not exist yet.

use rusk::app::Role;
use serde_json::{Value, json};

use crate::data;
use crate::helpers::{Backend, TestApp, spawn_with};

async fn api_only(backend: Backend) -> TestApp {
    spawn_with(backend, Role::Api).await
}

macro_rules! api_only_tests {
    ($($name:ident),*) => {
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::api_only(crate::helpers::Backend::Sqlite).await).await }
        )* }
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs Postgres: set DATABASE_URL, run with --include-ignored"]
            async fn $name() { super::$name(super::api_only(crate::helpers::Backend::Postgres).await).await }
        )* }
    };
}

api_only_tests!(
    queue_list_and_page,
    cancel_a_queued_job,
    idempotent_submission,
    a_separate_worker_runs_the_queue,
    shutdown_releases_running_jobs_after_the_grace
);

async fn list(app: &TestApp, query: &str) -> Value {
    let response = app
        .client
        .get(app.url(&format!("/v1/jobs{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn queue_list_and_page(app: TestApp) {
    data::write_logs(&app, 1, 10);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let response = app.post_job(&data::seed_spec()).await;
        assert_eq!(response.status(), 201);
        let location = response.headers()["location"].to_str().unwrap().to_string();
        let job: Value = response.json().await.unwrap();
        assert_eq!(job["state"], "queued");
        assert_eq!(
            location,
            app.url(&format!("/v1/jobs/{}", job["id"].as_str().unwrap()))
        );
        ids.push(job["id"].as_str().unwrap().to_string());
    }
    let first = list(&app, "?limit=2").await;
    let page: Vec<&str> = first["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(page, [ids[2].as_str(), ids[1].as_str()], "newest first");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = list(&app, &format!("?limit=2&cursor={cursor}")).await;
    let page: Vec<&str> = second["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(page, [ids[0].as_str()]);
    assert_eq!(second["next_cursor"], Value::Null);

    assert_eq!(
        list(&app, "?state=queued").await["jobs"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(list(&app, "?state=running").await["jobs"], json!([]));
    let bad = app
        .client
        .get(app.url("/v1/jobs?state=sleeping"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_parameter");

    let result = app
        .client
        .get(app.url(&format!("/v1/jobs/{}/result", ids[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(result.status(), 409);
    let body: Value = result.json().await.unwrap();
    assert_eq!(body["error"]["code"], "job_not_succeeded");

    let missing = app
        .client
        .get(app.url("/v1/jobs/0190b6a4-0000-7000-8000-000000000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let missing = app
        .client
        .get(app.url("/v1/jobs/not-a-uuid"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

async fn cancel_a_queued_job(app: TestApp) {
    data::write_logs(&app, 1, 10);
    let id = app.submit(&data::seed_spec()).await;
    let cancel = app.url(&format!("/v1/jobs/{id}/cancel"));
    let response = app.client.post(&cancel).send().await.unwrap();
    assert_eq!(response.status(), 202);
    let job: Value = response.json().await.unwrap();
    assert_eq!(job["state"], "cancelled");
    assert!(job["finished_at"].is_string());
    assert_eq!(app.job(&id).await["state"], "cancelled");

    let again = app.client.post(&cancel).send().await.unwrap();
    assert_eq!(again.status(), 409);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["error"]["code"], "job_already_ended");
}

fn seed() -> Value {
    serde_json::from_str(data::seed_spec()).unwrap()
}

async fn idempotent_submission(app: TestApp) {
    data::write_logs(&app, 1, 10);
    let post = |spec: Value, key: &'static str| {
        let request = app
            .client
            .post(app.url("/v1/jobs"))
            .header("Idempotency-Key", key)
            .header("content-type", "application/json")
            .body(spec.to_string());
        async move { request.send().await.unwrap() }
    };
    let first = post(seed(), "order-17").await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();

    let retry = post(seed(), "order-17").await;
    assert_eq!(retry.status(), 200, "a retry returns the first job");
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry["id"], first["id"]);

    let mut other = seed();
    other["name"] = json!("something else");
    let clash = post(other, "order-17").await;
    assert_eq!(clash.status(), 422);
    let body: Value = clash.json().await.unwrap();
    assert_eq!(body["error"]["code"], "idempotency_key_reused");

    // Concurrent duplicates make one job.
    let racing: Vec<_> = (0..8).map(|_| post(seed(), "order-18")).collect();
    let mut ids = std::collections::BTreeSet::new();
    for response in futures::future::join_all(racing).await {
        assert!([200, 201].contains(&response.status().as_u16()));
        let job: Value = response.json().await.unwrap();
        ids.insert(job["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(list(&app, "").await["jobs"].as_array().unwrap().len(), 2);
}

/// `rusk api` queues; a `rusk worker` started later on the same store runs the jobs.
async fn a_separate_worker_runs_the_queue(app: TestApp) {
    let rows = data::write_logs(&app, 2, 100);
    let ids = [
        app.submit(&data::seed_spec()).await,
        app.submit(&data::seed_spec()).await,
    ];
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.job(&ids[0]).await["state"], "queued", "no worker yet");

    let _worker = app.start_worker().await;
    for id in &ids {
        let job = app.wait(id).await;
        assert_eq!(job["state"], "succeeded", "{job}");
        assert_eq!(job["result"]["rows"], data::seed_answer(&rows).len());
    }
    let workers = app.get_json("/v1/workers").await;
    let worker_id = &workers["workers"][0]["id"];
    assert_eq!(
        app.job(&ids[0]).await["attempt_log"][0]["worker"],
        *worker_id
    );
}

/// A worker told to stop lets its running job go on for the grace period, then puts it back in
/// the queue for another worker.
async fn shutdown_releases_running_jobs_after_the_grace(mut app: TestApp) {
    app.settings.shutdown_grace = 3;
    data::write_logs(&app, 1, 10);
    let id = app.submit(&data::endless_spec()).await;
    let worker = app.start_worker().await;
    app.wait_for_state(&id, "running").await;
    worker.cancel();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.job(&id).await["state"],
        "running",
        "still within the grace period"
    );
    let job = app.wait_for_state(&id, "queued").await;
    assert_eq!(job["attempt_log"][0]["outcome"], "retry");
    assert_eq!(job["attempt_log"][0]["error"]["code"], "worker_shutdown");
}

/// Event streams never end by themselves (the dashboard's feed) or end only with their job:
/// on shutdown they close, or a graceful shutdown would wait on callers that never hang up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_open_event_streams() {
    let dir = tempfile::tempdir().unwrap();
    let (settings, _) = crate::helpers::settings_for(Backend::Sqlite, dir.path()).await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = rusk::app::start(&settings, Role::Api, shutdown.clone())
        .await
        .unwrap();
    let base = format!("http://{}", running.addr.unwrap());
    let logs = data::logs(1, 10, 5);
    let root = settings.data_root.clone().unwrap();
    std::fs::create_dir_all(root.join("logs")).unwrap();
    std::fs::write(root.join("logs/large-data-0.csv"), data::to_csv(&logs[0])).unwrap();
    let client = reqwest::Client::new();
    // No worker in an `api` process: the job stays queued and its stream open.
    let id = crate::helpers::json_of(
        client
            .post(format!("{base}/v1/jobs"))
            .header("content-type", "application/json")
            .body(data::seed_spec()),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut streams = Vec::new();
    for path in [
        "/v1/dashboard/events".to_string(),
        format!("/v1/jobs/{id}/events"),
    ] {
        let mut response = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.chunk().await.unwrap().is_some(), "{path} sends");
        streams.push(response);
    }
    shutdown.cancel();
    // A hang guard, not a timing: without the fix this waits forever.
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(60), running.wait()).await;
    assert!(stopped.is_ok(), "the API still waits on its event streams");
    stopped.unwrap().unwrap();
    for mut stream in streams {
        while let Ok(Some(_)) = stream.chunk().await {}
    }
}

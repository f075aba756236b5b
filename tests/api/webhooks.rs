//! Completion webhooks: signed per Standard Webhooks (checked by the reference Python
//! library), retried with backoff, stopped by 410, every attempt listed; receivers on
//! internal addresses refused.

use std::process::Command;
use std::time::Duration;

use rusk::app::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, python_with, spawn_configured};
use crate::receiver::Receiver;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn spawn(backend: Backend) -> TestApp {
    spawn_configured(backend, Role::Serve, |settings| {
        settings.webhook_allow = rusk::netguard::parse_allow_list("127.0.0.1/32").unwrap();
        settings.webhook_secret = Some(SECRET.into());
    })
    .await
}

fn spec(hook: &str) -> Value {
    json!({
        "sources": {"t": {"format": "csv", "path": "t.csv"}},
        "sql": "SELECT a, a * 2 AS b FROM t",
        "webhook": {"url": hook}
    })
}

/// Verifies one received webhook with the reference implementation; returns the payload.
fn verify(python: &str, received: &crate::receiver::Received) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let headers: serde_json::Map<String, Value> = received
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(v.to_str().unwrap())))
        .collect();
    let (headers_path, body_path) = (dir.path().join("headers.json"), dir.path().join("body"));
    std::fs::write(&headers_path, Value::Object(headers).to_string()).unwrap();
    std::fs::write(&body_path, &received.body).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/verify_webhook.py");
    let output = Command::new(python)
        .args([script, SECRET])
        .arg(&headers_path)
        .arg(&body_path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the reference library rejects the signature: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&received.body).unwrap()
}

async fn signed_webhooks_verify_and_are_listed(backend: Backend) {
    let python = python_with("standardwebhooks", "the webhook signature test");
    let app = spawn(backend).await;
    app.write("t.csv", "a\n1\n2\n");
    let receiver = Receiver::start(&[]).await;
    let job = app.run(&spec(&receiver.url)).await;
    let id = job["id"].as_str().unwrap();
    let received = receiver.wait_for(1, Duration::from_secs(30)).await;
    let payload = verify(&python, &received[0]);
    assert_eq!(payload["type"], "job.succeeded");
    assert_eq!(payload["data"]["id"], id);
    assert_eq!(payload["data"]["state"], "succeeded");
    assert_eq!(payload["data"]["result"]["rows"], 2);

    // The links inside work without anything else: the receiver can fetch the result.
    let link = payload["data"]["result"]["links"]["arrow"]
        .as_str()
        .unwrap();
    let (status, _, body) = app.get_bytes(link).await;
    assert_eq!(status, 200);
    let rows: usize = crate::helpers::read_arrow_stream(&body)
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(rows, 2);

    // A tampered body fails the reference check.
    let mut forged = received[0].clone();
    forged.body = String::from_utf8_lossy(&forged.body)
        .replace("succeeded", "failed")
        .into_bytes()
        .into();
    let verdict = std::panic::catch_unwind(|| verify(&python, &forged));
    assert!(verdict.is_err(), "a forged body must not verify");

    let deliveries = wait_for_delivery(&app, id, "delivered").await;
    assert_eq!(deliveries["type"], "job.succeeded");
    assert_eq!(
        deliveries["id"],
        received[0].headers["webhook-id"].to_str().unwrap()
    );
    assert_eq!(deliveries["attempt_log"][0]["status"], 200);
}

async fn wait_for_delivery(app: &TestApp, job: &str, state: &str) -> Value {
    for _ in 0..400 {
        let page = app.get_json(&format!("/v1/jobs/{job}/deliveries")).await;
        if let Some(first) = page["deliveries"].get(0)
            && first["state"] == state
        {
            return first.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the delivery of {job} never became {state}");
}

async fn failures_retry_and_410_stops(backend: Backend) {
    let app = spawn(backend).await;
    app.write("t.csv", "a\n1\n");
    // 500 first: retried about 5 s later, then 200.
    let flaky = Receiver::start(&[500]).await;
    let first = app.run(&spec(&flaky.url)).await;
    // 410: no retry.
    let gone = Receiver::start(&[410]).await;
    let second = app.run(&spec(&gone.url)).await;

    let retried = wait_for_delivery(&app, first["id"].as_str().unwrap(), "delivered").await;
    let log = retried["attempt_log"].as_array().unwrap();
    assert_eq!(log.len(), 2, "{retried}");
    assert_eq!(log[0]["status"], 500);
    assert!(log[0]["error"].as_str().unwrap().contains("500"));
    assert_eq!(log[1]["status"], 200);
    let waited = chrono::DateTime::parse_from_rfc3339(log[1]["at"].as_str().unwrap()).unwrap()
        - chrono::DateTime::parse_from_rfc3339(log[0]["at"].as_str().unwrap()).unwrap();
    assert!(
        (3..=8).contains(&waited.num_seconds()),
        "backoff of about 5 s, got {waited}"
    );
    let flaky_calls = flaky.wait_for(2, Duration::from_secs(1)).await;
    assert_eq!(
        flaky_calls[0].headers["webhook-id"], flaky_calls[1].headers["webhook-id"],
        "a retry keeps the message id"
    );

    let stopped = wait_for_delivery(&app, second["id"].as_str().unwrap(), "gone").await;
    assert_eq!(stopped["attempt_log"].as_array().unwrap().len(), 1);
    assert!(stopped["next_attempt_at"].is_null());
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(gone.count(), 1, "410 Gone stops retries");
}

async fn cancelled_jobs_notify_too(backend: Backend) {
    let app = spawn(backend).await;
    app.write("t.csv", "a\n1\n");
    let receiver = Receiver::start(&[]).await;
    let slow = json!({
        "sources": {"t": {"format": "csv", "path": "t.csv"}},
        "sql": "SELECT count(*) AS n FROM range(100000000000) a",
        "webhook": {"url": receiver.url}
    });
    let id = app.submit(&slow).await;
    app.wait_for_state(&id, "running").await;
    let (status, _) = app
        .post_json(&format!("/v1/jobs/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(status, 202);
    let received = receiver.wait_for(1, Duration::from_secs(30)).await;
    let payload: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(payload["type"], "job.cancelled");
    assert_eq!(payload["data"]["state"], "cancelled");
}

/// Receivers on internal or reserved addresses are refused at submission, even with
/// loopback allowed for the tests; nothing is queued.
async fn internal_receivers_are_refused(backend: Backend) {
    let app = spawn(backend).await;
    app.write("t.csv", "a\n1\n");
    for url in [
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/hook",
        "http://192.168.1.1/hook",
        "http://100.64.0.1/hook",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://127.0.0.2/hook",
        "http://0.0.0.0/hook",
        "http://192.0.2.1/hook",
        "http://224.0.0.1/hook",
        "ftp://example.com/hook",
        "not a url",
        "http://user:pass@example.com/hook",
    ] {
        let response = app.post_job(&spec(url)).await;
        assert_eq!(response.status(), 422, "{url}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["error"]["details"]["path"], "webhook.url",
            "{url}: {body}"
        );
    }
    assert!(app.jobs().await.is_empty(), "nothing queued");
}

crate::on_both_backends!(
    needs "needs RUSK_PYTHON with standardwebhooks (and Postgres): run with --include-ignored":
    signed_webhooks_verify_and_are_listed
);

crate::on_both_backends!(
    failures_retry_and_410_stops,
    cancelled_jobs_notify_too,
    internal_receivers_are_refused,
);

//! `GET /metrics`: parsed by the Prometheus client library's own OpenMetrics parser, its job
//! figures equal the job table after a batch of jobs; operators only once keys exist; the
//! separate `RUSK_METRICS_LISTEN` address; and JSON log lines that carry the job's fields.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::process::{Command, Stdio};

use rusk::app::Role;
use serde_json::{Value, json};

use crate::data;
use crate::helpers::{Backend, TestApp, client_with_key, create_key, spawn_configured};
use crate::on_both_stores;

on_both_stores!(needs "needs RUSK_PYTHON with prometheus_client (and Postgres): run with --include-ignored": the_scrape_parses_and_matches_the_job_table);

/// Every sample of a scrape, as the Prometheus client library parses it.
fn parse(scrape: &str) -> Vec<Value> {
    let python = crate::helpers::python_with("prometheus_client", "the metrics test");
    let mut child = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/py/parse_metrics.py"
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scrape.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the scrape does not parse: {}\n{scrape}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The value of the sample `name` whose labels include `labels`.
fn value(samples: &[Value], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s["name"] == name)
        .filter(|s| labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .map(|s| s["value"].as_f64().unwrap())
        .sum()
}

async fn scrape(app: &TestApp) -> String {
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
    );
    response.text().await.unwrap()
}

async fn the_scrape_parses_and_matches_the_job_table(app: TestApp) {
    data::write_logs(&app, 2, 200);
    for _ in 0..2 {
        app.run(&data::seed_spec()).await;
    }
    let failing = json!({
        "sources": {"logs": {"format": "csv", "path": "logs/*.csv"}},
        "steps": [{"op": "assign", "columns": {"n": "CAST(status AS BIGINT)"}}]
    });
    let failed = app.submit(&failing).await;
    app.wait(&failed).await;
    let endless = app.submit(&data::endless_spec()).await;
    app.wait_for_state(&endless, "running").await;
    let cancel = app
        .client
        .post(app.url(&format!("/v1/jobs/{endless}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 202);
    app.wait(&endless).await;

    let text = scrape(&app).await;
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
    let samples = parse(&text);
    let mut table: BTreeMap<String, f64> = BTreeMap::new();
    for job in app.jobs().await {
        *table
            .entry(job["state"].as_str().unwrap().to_string())
            .or_default() += 1.0;
    }
    for state in ["queued", "running", "succeeded", "failed", "cancelled"] {
        assert_eq!(
            value(&samples, "rusk_jobs", &[("state", state)]),
            table.get(state).copied().unwrap_or(0.0),
            "jobs in state {state}"
        );
    }
    assert_eq!(value(&samples, "rusk_jobs_submitted_total", &[]), 4.0);
    let ended = |outcome: &str, code: &str| {
        value(
            &samples,
            "rusk_attempts_ended_total",
            &[("outcome", outcome), ("code", code)],
        )
    };
    assert_eq!(ended("succeeded", ""), 2.0);
    assert_eq!(ended("failed", "data_error"), 1.0);
    assert_eq!(ended("cancelled", ""), 1.0);
    assert_eq!(
        value(
            &samples,
            "rusk_attempt_seconds_count",
            &[("outcome", "succeeded")]
        ),
        2.0
    );
    assert!(value(&samples, "rusk_rows_read_total", &[]) >= 800.0);
    assert!(value(&samples, "rusk_rows_written_total", &[]) > 0.0);
    assert_eq!(value(&samples, "rusk_workers_live", &[]), 1.0);
    assert!(value(&samples, "rusk_memory_pool_limit_bytes", &[]) > 0.0);
    // Requests by route template: job ids never become labels.
    assert_eq!(
        value(
            &samples,
            "rusk_http_requests_total",
            &[("method", "POST"), ("route", "/v1/jobs"), ("status", "201")]
        ),
        4.0
    );
    assert!(
        value(
            &samples,
            "rusk_http_requests_total",
            &[("route", "/v1/jobs/{id}"), ("status", "200")]
        ) > 0.0
    );
    assert!(!text.contains(&endless), "a job id in a label");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_keys_metrics_need_the_operator_token() {
    let app = spawn_configured(Backend::Sqlite, Role::Serve, |s| {
        s.metrics_token = Some("operator-secret".into());
        s.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let (key, _) = create_key(&app.settings, "acme");
    let status = |request: reqwest::RequestBuilder| async move {
        request.send().await.unwrap().status().as_u16()
    };
    let url = app.url("/metrics");
    assert_eq!(status(app.client.get(&url)).await, 401);
    assert_eq!(
        status(client_with_key(&key).get(&url)).await,
        401,
        "a tenant's key"
    );
    assert_eq!(
        status(app.client.get(&url).bearer_auth("operator-secret")).await,
        200
    );
    // The separate address needs nothing, and serves only /metrics and the probes.
    let own = app.metrics_base.clone().expect("RUSK_METRICS_LISTEN");
    let text = app
        .client
        .get(format!("{own}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("rusk_jobs_submitted_total 0"), "{text}");
    assert_eq!(status(app.client.get(format!("{own}/v1/jobs"))).await, 404);
    // A worker has no API port: Kubernetes probes it here.
    assert_eq!(status(app.client.get(format!("{own}/healthz"))).await, 200);
    assert_eq!(status(app.client.get(format!("{own}/readyz"))).await, 200);

    // Keys but no operator token: nobody may scrape here.
    let app = spawn_configured(Backend::Sqlite, Role::Serve, |_| {}).await;
    create_key(&app.settings, "acme");
    assert_eq!(status(app.client.get(app.url("/metrics"))).await, 403);
}

/// `RUSK_LOG_FORMAT=json`: a real `rusk serve` writes one JSON object a line, and the lines of
/// a job's work name the job, its attempt and its worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("logs")).unwrap();
    std::fs::write(
        root.join("logs/large-data-0.csv"),
        data::to_csv(&data::logs(1, 50, 10)[0]),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_rusk"))
        .arg("serve")
        .env("RUSK_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUSK_DATA_DIR", dir.path().join("data"))
        .env("RUSK_DATA_ROOT", &root)
        .env("RUSK_LOG_FORMAT", "json")
        .env("RUSK_LOG", "info")
        .env_remove("DATABASE_URL")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if client.get(format!("{base}/readyz")).send().await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "rusk serve did not start");
    let job: Value = client
        .post(format!("{base}/v1/jobs"))
        .header("content-type", "application/json")
        .body(data::seed_spec())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = job["id"].as_str().unwrap().to_string();
    for _ in 0..200 {
        let now: Value = client
            .get(format!("{base}/v1/jobs/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if now["state"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = server.kill();
    let stderr = server.stderr.take().unwrap();
    let lines: Vec<String> = std::io::BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .collect();
    let _ = server.wait();
    let records: Vec<Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let of_job: Vec<&Value> = records
        .iter()
        .filter(|r| r["span"]["job_id"] == id.as_str())
        .collect();
    let messages: Vec<&str> = of_job
        .iter()
        .filter_map(|r| r["fields"]["message"].as_str())
        .collect();
    assert!(messages.contains(&"job started"), "{lines:#?}");
    assert!(messages.contains(&"job ended"), "{lines:#?}");
    for record in of_job {
        assert_eq!(record["span"]["attempt"], 1);
        assert!(record["span"]["worker"].is_string());
    }
}

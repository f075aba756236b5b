//! The service around the jobs: probes, the OpenAPI document and docs page, and `rusk run`.

use serde_json::Value;

use crate::data;
use crate::helpers::{Backend, spawn_app};

#[tokio::test]
async fn probes_answer() {
    let app = spawn_app(Backend::Sqlite).await;
    for probe in ["/healthz", "/readyz"] {
        let response = app.client.get(app.url(probe)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{probe}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }
    let docs = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    let nowhere = app.client.get(app.url("/v2/nothing")).send().await.unwrap();
    assert_eq!(nowhere.status(), 404);
    let body: Value = nowhere.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

/// Every response names its request: the caller's `x-request-id`, or a fresh one.
#[tokio::test]
async fn responses_carry_a_request_id() {
    let app = spawn_app(Backend::Sqlite).await;
    let given = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-me-42");
    let fresh = app
        .client
        .get(app.url("/v1/jobs/nope"))
        .send()
        .await
        .unwrap();
    let id = fresh.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
}

/// `openapi/openapi.json` is what the server serves; regenerate it with
/// `cargo run -- openapi > openapi/openapi.json`.
#[tokio::test]
async fn committed_openapi_matches_the_served_one() {
    let app = spawn_app(Backend::Sqlite).await;
    let served = app.get_json("/openapi.json").await;
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json exists");
    let committed: Value = serde_json::from_str(&committed).unwrap();
    assert!(
        served == committed,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`"
    );
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/jobs",
        "/v1/jobs/{id}",
        "/v1/jobs/{id}/cancel",
        "/v1/jobs/{id}/result",
        "/healthz",
        "/readyz",
    ] {
        assert!(served["paths"].get(path).is_some(), "{path} is documented");
    }
}

/// `rusk run` computes the same answer as the service, with no server and no database.
#[tokio::test]
async fn rusk_run_writes_the_result_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let groups = data::logs(3, 300, 50);
    std::fs::create_dir_all(root.join("logs")).unwrap();
    for (i, group) in groups.iter().enumerate() {
        std::fs::write(
            root.join(format!("logs/large-data-{i}.csv")),
            data::to_csv(group),
        )
        .unwrap();
    }
    let rows: Vec<data::LogRow> = groups.into_iter().flatten().collect();
    let spec = dir.path().join("spec.json");
    std::fs::write(&spec, data::seed_spec()).unwrap();
    let out = dir.path().join("out.parquet");

    let status = std::process::Command::new(env!("CARGO_BIN_EXE_rusk"))
        .arg("run")
        .arg(&spec)
        .arg("--output")
        .arg(&out)
        .env("RUSK_DATA_ROOT", &root)
        .env("RUSK_DATA_DIR", dir.path().join("data"))
        .status()
        .unwrap();
    assert!(status.success());
    let batches = crate::helpers::read_parquet(std::fs::read(&out).unwrap().into());
    let mut sorted = batches.clone();
    // Group order is not defined; the checker looks rows up by user.
    sorted.retain(|b| b.num_rows() > 0);
    data::assert_seed_result(&sorted, &data::seed_answer(&rows));
}

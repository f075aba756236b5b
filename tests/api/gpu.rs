//! GPU jobs: `resources.gpu` scheduling, the wait for a GPU worker, and the operators a
//! device runs. This machine has no GPU: the worker that claims GPU jobs here has the CPU
//! stand-in device (`Selection::TestStub`, not reachable from `RUSK_GPUS`), which computes
//! the kernels' contract on the CPU, so the scheduling and the operator choice are real.

use std::time::Duration;

use rusk::app::Role;
use rusk::gpu::Selection;
use serde_json::{Value, json};

use crate::data;
use crate::helpers::{Backend, TestApp, spawn_configured};
use crate::on_both_backends;

on_both_backends!(
    a_gpu_job_waits_for_a_gpu_worker_and_runs_on_its_device,
    kmeans_fits_on_the_device,
    regressions_fit_on_the_device_as_on_the_cpu,
    a_gpu_job_no_gpu_worker_claims_fails_at_its_timeout,
    gpu_prefer_runs_on_any_worker,
);

/// The API and a CPU-only worker.
async fn cpu_only(backend: Backend) -> TestApp {
    spawn_configured(backend, Role::Serve, |s| s.gpus = Selection::None).await
}

/// The seed pipeline with `resources.gpu` and `extra` fields (as text: the key order of
/// `agg` orders the result's columns).
fn seed_with(gpu: Value, extra: &str) -> String {
    let seed = data::seed_spec().trim_end();
    let open = &seed[..seed.len() - 1];
    format!(r#"{open}, "resources": {{"gpu": {gpu}}}{extra}}}"#)
}

async fn seed_result(app: &TestApp, job: &Value) -> Vec<arrow::array::RecordBatch> {
    let (status, _, body) = app
        .get_bytes(job["result"]["links"]["arrow"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    crate::helpers::read_arrow_stream(&body)
}

async fn a_gpu_job_waits_for_a_gpu_worker_and_runs_on_its_device(backend: Backend) {
    let app = cpu_only(backend).await;
    let rows = data::write_logs(&app, 2, 600);
    let expected = data::seed_answer(&rows);
    let id = app.submit(&seed_with(json!(true), "")).await;

    // No live worker has a GPU: the job stays queued and says what it waits for, while a CPU
    // job submitted after it runs.
    let cpu = app.run(&data::seed_spec()).await;
    assert_eq!(cpu["state"], "succeeded", "{cpu}");
    let waiting = app.job(&id).await;
    assert_eq!(waiting["state"], "queued", "{waiting}");
    assert_eq!(waiting["waiting_for"], "gpu_worker");
    assert_eq!(waiting["spec"]["resources"]["gpu"], true);

    // A worker with a device claims it. Its memory limit is small, so the aggregation's
    // input reaches the device in several chunks.
    app.start_worker_with(|s| {
        s.gpus = Selection::TestStub;
        s.gpu_memory_limit = Some(32 << 10);
    })
    .await;
    let job = app.wait_within(&id, Duration::from_secs(60)).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert!(job.get("waiting_for").is_none(), "{job}");
    data::assert_seed_result(&seed_result(&app, &job).await, &expected);

    // It ran on the worker that reports the device.
    let workers = app.get_json("/v1/workers").await["workers"].clone();
    let gpu_worker = workers
        .as_array()
        .unwrap()
        .iter()
        .find(|w| !w["capabilities"]["gpus"].as_array().unwrap().is_empty())
        .unwrap_or_else(|| panic!("no worker reports a device: {workers}"))
        .clone();
    assert_eq!(job["attempt_log"][0]["worker"], gpu_worker["id"]);
    let device = &gpu_worker["capabilities"]["gpus"][0];
    assert_eq!(device["kind"], "test_stub", "{device}");
    assert_eq!(device["index"], 0);

    // The task spans say which device ran which operator; the plan shows the GPU node.
    let tasks = app
        .get_json(&format!("/v1/jobs/{id}/tasks?limit=1000"))
        .await;
    let on_device: Vec<&Value> = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["operator"] == "GpuAggregateExec")
        .collect();
    assert!(!on_device.is_empty(), "{tasks}");
    // The guide's pipeline whole: the filter (`status = 'active'`) and the projection
    // (`subscription_cost + add_on_cost`) run as device programs inside the GPU node.
    for span in &on_device {
        let detail = span["detail"].as_str().unwrap();
        assert!(detail.starts_with("device stub:0"), "{span}");
        assert!(detail.ends_with("with the projection and filter"), "{span}");
    }
    let operators: Vec<&str> = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["operator"].as_str().unwrap())
        .collect();
    assert!(!operators.contains(&"FilterExec"), "{operators:?}");
    // Several chunks per partition: more partial rows than groups.
    let partial_rows: u64 = on_device.iter().map(|t| t["rows"].as_u64().unwrap()).sum();
    assert!(
        partial_rows > expected.len() as u64,
        "{partial_rows} partial rows"
    );

    // The same spec without a GPU on the same data: the same answer from the CPU worker.
    let plain = app.run(&seed_with(json!(false), "")).await;
    data::assert_seed_result(&seed_result(&app, &plain).await, &expected);
    let tasks = app
        .get_json(&format!(
            "/v1/jobs/{}/tasks?limit=1000",
            plain["id"].as_str().unwrap()
        ))
        .await;
    assert!(
        tasks["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["operator"] != "GpuAggregateExec"),
        "{tasks}"
    );
}

/// Seeded numbers in [0, 1) (a linear congruential generator): the same data every run.
fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Four separated blobs of 500 points around (±10, ±10), with their blob as `label`.
fn blobs(app: &TestApp) {
    let mut unit = uniform(7);
    let mut csv = String::from("x0,x1,label\n");
    for i in 0..2000 {
        let label = i % 4;
        let (cx, cy) = ([-10.0, 10.0][label % 2], [-10.0, 10.0][label / 2]);
        csv.push_str(&format!(
            "{},{},{label}\n",
            cx + unit() * 2.0 - 1.0,
            cy + unit() * 2.0 - 1.0
        ));
    }
    app.write("blobs.csv", &csv);
}

async fn kmeans_fits_on_the_device(backend: Backend) {
    let app = cpu_only(backend).await;
    app.start_worker_with(|s| s.gpus = Selection::TestStub)
        .await;
    blobs(&app);
    let spec = json!({
        "sources": {"d": {"format": "csv", "path": "blobs.csv"}},
        "steps": [],
        "ml": {"task": "fit", "estimator": "kmeans", "features": ["x0", "x1"],
               "params": {"n_clusters": 4, "n_init": 3}, "seed": 0},
        "resources": {"gpu": true}
    });
    let id = app.submit(&spec).await;
    let job = app.wait_within(&id, Duration::from_secs(60)).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    // Each blob is one cluster, and each cluster one blob.
    let (status, _, body) = app
        .get_bytes(job["result"]["links"]["arrow"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    let cluster_of = clusters_by_blob(&crate::helpers::read_arrow_stream(&body));
    let distinct: std::collections::BTreeSet<_> = cluster_of.values().collect();
    assert_eq!((cluster_of.len(), distinct.len()), (4, 4), "{cluster_of:?}");
    // Each of the three runs is a fit span that names the device.
    let tasks = app
        .get_json(&format!("/v1/jobs/{id}/tasks?limit=100"))
        .await;
    let fits: Vec<&Value> = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["operator"] == "fit")
        .collect();
    assert_eq!(fits.len(), 3, "{tasks}");
    assert!(
        fits.iter().all(|t| t["detail"]
            .as_str()
            .unwrap()
            .ends_with("on stub:0 (CPU stand-in (test seam))")),
        "{fits:?}"
    );
    // The model predicts the same clusters.
    let model = job["result"]["ml"]["model_id"].as_str().unwrap();
    let predicted = app
        .run(&json!({
            "sources": {"d": {"format": "csv", "path": "blobs.csv"}},
            "steps": [],
            "ml": {"task": "predict", "model": model}
        }))
        .await;
    assert_eq!(predicted["state"], "succeeded", "{predicted}");
    let (_, _, body) = app
        .get_bytes(predicted["result"]["links"]["arrow"].as_str().unwrap())
        .await;
    let again = clusters_by_blob(&crate::helpers::read_arrow_stream(&body));
    assert_eq!(again, cluster_of);
}

/// 3,000 rows: two features, a noisy linear `value` and a noisy binary `class` of them.
fn regression_rows(app: &TestApp) {
    let mut unit = uniform(11);
    let mut csv = String::from("x0,x1,value,class\n");
    for _ in 0..3000 {
        let (x0, x1) = (unit() * 4.0 - 2.0, unit() * 10.0);
        let value = 2.0 + 3.0 * x0 - 0.5 * x1 + unit() - 0.5;
        let class = u8::from(x0 + 0.2 * x1 - 1.0 + (unit() - 0.5) * 2.0 > 0.0);
        csv.push_str(&format!("{x0},{x1},{value},{class}\n"));
    }
    app.write("regression.csv", &csv);
}

/// Linear and two-class logistic regressions fit on the device (the sums over the rows there,
/// Newton's method for the logistic) score as the CPU's smartcore fits do.
async fn regressions_fit_on_the_device_as_on_the_cpu(backend: Backend) {
    let app = cpu_only(backend).await;
    app.start_worker_with(|s| s.gpus = Selection::TestStub)
        .await;
    regression_rows(&app);
    let train = |estimator: &str, target: &str, gpu: bool| {
        json!({
            "sources": {"d": {"format": "csv", "path": "regression.csv"}},
            "steps": [],
            "ml": {"task": "fit", "estimator": estimator, "features": ["x0", "x1"],
                   "target": target, "test_size": 0.25, "seed": 0, "params": {"C": 0.5}},
            "resources": {"gpu": gpu}
        })
    };
    for (estimator, target, metric, tolerance) in [
        ("linear_regression", "value", "r2", 1e-9),
        ("logistic_regression", "class", "roc_auc", 1e-3),
        ("logistic_regression", "class", "accuracy", 0.01),
    ] {
        let mut spec = train(estimator, target, true);
        if estimator == "linear_regression" {
            spec["ml"]["params"] = json!({});
        }
        let on_device = app.run(&spec).await;
        assert_eq!(on_device["state"], "succeeded", "{on_device}");
        spec["resources"]["gpu"] = json!(false);
        let on_cpu = app.run(&spec).await;
        let (ours, theirs) = (
            on_device["result"]["ml"]["metrics"][metric]
                .as_f64()
                .unwrap(),
            on_cpu["result"]["ml"]["metrics"][metric].as_f64().unwrap(),
        );
        assert!(
            (ours - theirs).abs() <= tolerance,
            "{estimator}: {metric} {ours} on the device, {theirs} on the CPU"
        );
        let id = on_device["id"].as_str().unwrap();
        let tasks = app
            .get_json(&format!("/v1/jobs/{id}/tasks?limit=100"))
            .await;
        let fits: Vec<&Value> = tasks["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["operator"] == "fit")
            .collect();
        assert!(
            !fits.is_empty()
                && fits.iter().all(|t| t["detail"]
                    .as_str()
                    .unwrap()
                    .ends_with("on stub:0 (CPU stand-in (test seam))")),
            "{estimator}: {tasks}"
        );
    }
}

/// Each blob's cluster; panics where a blob is split between clusters.
fn clusters_by_blob(batches: &[arrow::array::RecordBatch]) -> std::collections::BTreeMap<i64, i64> {
    let labels = data::floats(batches, "label");
    let clusters = data::floats(batches, "cluster");
    let mut cluster_of = std::collections::BTreeMap::new();
    for (label, cluster) in labels.iter().zip(&clusters) {
        let (label, cluster) = (label.unwrap() as i64, cluster.unwrap() as i64);
        let seen = *cluster_of.entry(label).or_insert(cluster);
        assert_eq!(
            seen, cluster,
            "blob {label} is split between clusters {seen} and {cluster}"
        );
    }
    cluster_of
}

async fn a_gpu_job_no_gpu_worker_claims_fails_at_its_timeout(backend: Backend) {
    let app = cpu_only(backend).await;
    data::write_logs(&app, 1, 10);
    let id = app
        .submit(&seed_with(json!(true), r#", "timeout_s": 1"#))
        .await;
    let job = app.wait_within(&id, Duration::from_secs(30)).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "timeout");
    assert!(
        job["error"]["message"].as_str().unwrap().contains("GPU"),
        "{job}"
    );
    assert_eq!(job["attempts"], 0);
}

async fn gpu_prefer_runs_on_any_worker(backend: Backend) {
    let app = cpu_only(backend).await;
    let rows = data::write_logs(&app, 1, 200);
    let job = app.run(&seed_with(json!("prefer"), "")).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["spec"]["resources"]["gpu"], "prefer");
    data::assert_seed_result(&seed_result(&app, &job).await, &data::seed_answer(&rows));
}

#[tokio::test]
async fn bad_gpu_values_are_refused_with_the_field() {
    let app = cpu_only(Backend::Sqlite).await;
    data::write_logs(&app, 1, 10);
    for (gpu, engine) in [
        (json!("always"), None),
        (json!(1), None),
        (json!(true), Some("ballista")),
    ] {
        let extra = engine.map_or(String::new(), |e| format!(r#", "engine": "{e}""#));
        let response = app.post_job(&seed_with(gpu.clone(), &extra)).await;
        assert_eq!(response.status(), 422, "{gpu}");
        let body: Value = response.json().await.unwrap();
        let text = body.to_string();
        assert!(text.contains("resources.gpu"), "{gpu}: {body}");
    }
}

/// `bench/gpu/run.sh` with the binary, at small sizes: on this machine (no GPU) it runs the
/// CPU side, checks the engine's answers from memory and from Parquet agree, and writes the
/// report; on a GPU machine the same test checks the device's answers too.
#[test]
fn the_gpu_benchmark_script_writes_a_checked_report() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let output = std::process::Command::new("sh")
        .arg("bench/gpu/run.sh")
        .arg(env!("CARGO_BIN_EXE_rusk"))
        .arg(&report)
        .env(
            "GPU_BENCH_ARGS",
            "--rows 30000 --groups 100 --kmeans-rows 4000 --kmeans-dims 4 --kmeans-k 3 \
             --regression-rows 5000 --copy-bytes 1048576",
        )
        .env("TMPDIR", dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    let groupby = &report["groupby"][0];
    assert_eq!(groupby["rows"], 30000);
    assert_eq!(groupby["groups"], 100);
    assert!(groupby["cpu"]["kernel_s"].as_f64().unwrap() > 0.0);
    assert!(groupby["cpu"]["end_to_end_s"].as_f64().unwrap() > 0.0);
    let checks = groupby["check"]["comparisons"].as_array().unwrap();
    assert!(checks.iter().all(|c| c["ok"] == true), "{checks:?}");
    assert!(groupby["pipeline"]["cpu_end_to_end_s"].as_f64().unwrap() > 0.0);
    assert_eq!(report["kmeans"][0]["rows"], 4000);
    let regressions = report["regression"][0]["runs"].as_array().unwrap();
    assert_eq!(regressions.len(), 2, "{regressions:?}");
    assert!(
        regressions
            .iter()
            .all(|r| r["cpu_one_core_s"].as_f64().unwrap() > 0.0)
    );
    if report["device"].is_null() {
        assert!(groupby["gpu"].is_null());
        assert!(report["kmeans"][0]["gpu_s"].is_null());
        assert!(String::from_utf8_lossy(&output.stderr).contains("no CUDA device here"));
    } else {
        assert_eq!(checks.len(), 5, "{checks:?}");
        assert_eq!(report["kmeans"][0]["check"]["ok"], true);
        assert!(regressions.iter().all(|r| r["check"]["ok"] == true));
    }
    // The scratch directory is removed.
    assert!(!std::fs::read_dir(dir.path()).unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("rusk-gpu-bench")
    }));
}

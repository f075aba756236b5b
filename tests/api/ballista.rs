//! `"engine": "ballista"`: a scheduler and two executors started as separate `rusk`
//! processes on loopback. The same specs give the same answers on both engines (and pandas'
//! on the row-order and reshaping steps); cancel, a lost executor and a lost scheduler behave
//! as the local engine's jobs do.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::data;
use crate::helpers::{Backend, TestApp, spawn_configured};
use rusk::app::Role;
use rusk::spec::EngineKind;

/// A scheduler and its executors, each a `rusk` process; killed when dropped.
struct Cluster {
    url: String,
    rest: String,
    scheduler: Child,
    executors: Vec<Child>,
    _dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in self.executors.iter_mut().chain([&mut self.scheduler]) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn rusk(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rusk"));
    command
        .args(args)
        .env("RUSK_LOG", "warn")
        .stdout(Stdio::null());
    command
}

impl Cluster {
    /// A scheduler that counts an executor lost after 6 s without a heartbeat, and
    /// `executors` executors of 2 task slots and `memory` bytes each.
    async fn start(executors: usize, memory: &str) -> Cluster {
        Cluster::start_with(executors, memory, 2).await
    }

    async fn start_with(executors: usize, memory: &str, slots: usize) -> Cluster {
        Cluster::start_in(executors, memory, slots, &[]).await
    }

    /// With `env` (object-store settings) in the environment of the scheduler (it lists the
    /// sources' files when it plans) and of each executor.
    async fn start_in(
        executors: usize,
        memory: &str,
        slots: usize,
        env: &[(String, String)],
    ) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let scheduler = rusk(&[
            "scheduler",
            "--listen",
            &listen,
            "--external-host",
            "127.0.0.1",
            "--executor-timeout-s",
            "6",
        ])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .spawn()
        .expect("rusk scheduler starts");
        let url = format!("df://127.0.0.1:{port}");
        let mut cluster = Cluster {
            rest: format!("http://127.0.0.1:{port}"),
            url,
            scheduler,
            executors: Vec::new(),
            _dir: dir,
        };
        for i in 0..executors {
            let data = cluster._dir.path().join(format!("executor-{i}"));
            let listen = format!("127.0.0.1:{}", free_port());
            let executor = rusk(&[
                "executor",
                "--listen",
                &listen,
                "--grpc-port",
                &free_port().to_string(),
                "--slots",
                &slots.to_string(),
                "--heartbeat-s",
                "1",
            ])
            .env("RUSK_BALLISTA_URL", &cluster.url)
            .env("RUSK_DATA_DIR", &data)
            .env("RUSK_MEMORY_LIMIT", memory)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .spawn()
            .expect("rusk executor starts");
            cluster.executors.push(executor);
        }
        cluster.wait_for_executors(executors).await;
        cluster
    }

    async fn executors_alive(&self) -> Option<usize> {
        let state: Value = reqwest::get(format!("{}/api/executors", self.rest))
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        Some(state.as_array()?.len())
    }

    async fn wait_for_executors(&self, n: usize) {
        let start = Instant::now();
        while self.executors_alive().await != Some(n) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the cluster did not come up with {n} executors"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ballista's own view of its jobs.
    async fn jobs(&self) -> Vec<Value> {
        let jobs: Value = reqwest::get(format!("{}/api/jobs", self.rest))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        jobs.as_array().cloned().unwrap_or_default()
    }
}

/// A Rusk (API and workers in process) whose jobs default to `engine`, with the cluster.
async fn app_with(cluster: &Cluster, engine: EngineKind) -> TestApp {
    let url = cluster.url.clone();
    spawn_configured(Backend::Sqlite, Role::Serve, move |settings| {
        settings.ballista_url = Some(url);
        settings.engine = engine;
    })
    .await
}

/// Rows in a form two engines must agree on: numbers to 9 significant digits (sums may add
/// in another order), and sorted unless the spec orders them.
fn normalised(rows: &Value, ordered: bool) -> Vec<String> {
    fn round(value: &Value) -> Value {
        match value {
            Value::Number(n) if n.is_f64() => json!(format!("{:.8e}", n.as_f64().unwrap())),
            Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), round(v))).collect(),
            other => other.clone(),
        }
    }
    let mut out: Vec<String> = rows
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| round(row).to_string())
        .collect();
    if !ordered {
        out.sort();
    }
    out
}

async fn run_on(app: &TestApp, spec: &Value, engine: &str) -> Value {
    let mut spec = spec.clone();
    spec["engine"] = json!(engine);
    let job = app.run(&spec).await;
    app.result_json(job["id"].as_str().unwrap(), "").await
}

/// The breadth suite's pipelines, with whether each orders its rows.
fn pipelines() -> Vec<(&'static str, Value, bool)> {
    let logs = json!({"logs": {"format": "csv", "path": "logs/*.csv"}});
    let both = json!({
        "logs": {"format": "csv", "path": "logs/*.csv"},
        "users": {"format": "csv", "path": "users.csv"}
    });
    let values = json!({"v": {"format": "csv", "path": "values.csv",
                              "options": {"dtype": {"x": "float64"}}}});
    let mut list = vec![
        (
            "seed",
            serde_json::from_str(data::seed_spec()).unwrap(),
            false,
        ),
        (
            "every aggregation",
            json!({"sources": values, "steps": [{"op": "groupby", "by": "g", "agg": {"x": [
                "sum", "mean", "min", "max", "count", "size", "nunique", "std", "var",
                "first", "last", "median"]}, "sort": true}]}),
            true,
        ),
        (
            "sort and head",
            json!({"sources": logs, "steps": [
                {"op": "assign", "columns": {"total": "subscription_cost + add_on_cost"}},
                {"op": "sort", "by": ["total", "user_id"], "ascending": [false, true]},
                {"op": "head", "n": 7}]}),
            true,
        ),
        (
            "describe",
            json!({"sources": logs, "steps": [{"op": "describe"}]}),
            true,
        ),
        (
            "value_counts",
            json!({"sources": logs, "steps": [{"op": "value_counts", "column": "status"}]}),
            false,
        ),
        (
            "drop_duplicates",
            json!({"sources": logs, "steps": [
                {"op": "select", "columns": ["user_id", "status"]},
                {"op": "drop_duplicates"}]}),
            false,
        ),
        (
            "sql",
            json!({"sources": both, "sql": "SELECT u.country, count(*) AS n, \
                avg(l.session_duration) AS d FROM logs l JOIN users u USING (user_id) \
                WHERE l.status = 'active' GROUP BY u.country ORDER BY u.country"}),
            true,
        ),
        (
            "ewm per group",
            json!({"sources": {"s": {"format": "csv", "path": "series.csv"}}, "steps": [
                {"op": "ewm", "columns": ["x"], "span": 3, "order_by": ["t"], "by": ["g"]}]}),
            false,
        ),
        (
            "top 2 per group",
            json!({"sources": logs, "steps": [
                {"op": "nlargest", "n": 2, "columns": "click_count", "by": ["user_id"]},
                {"op": "select", "columns": ["user_id", "click_count"]}]}),
            false,
        ),
    ];
    list.push((
        "cleaning",
        json!({"sources": {"s": {"format": "csv", "path": "series.csv"},
                           "more": {"format": "csv", "path": "series.csv"}},
               "input": "s", "steps": [
            {"op": "concat", "others": ["more"]},
            {"op": "rename", "columns": {"t": "time"}},
            {"op": "astype", "columns": {"g": "float64"}},
            {"op": "fillna", "columns": {"x": -1}},
            {"op": "dropna", "how": "any"},
            {"op": "drop", "columns": ["time"]},
            {"op": "repartition", "npartitions": 3},
            {"op": "sample", "frac": 0.5, "seed": 7}]}),
        false,
    ));
    for how in ["inner", "left", "right", "outer"] {
        list.push((
            how,
            json!({"sources": both, "input": "logs", "steps": [
                {"op": "merge", "right": "users", "on": "user_id", "how": how},
                {"op": "groupby", "by": ["country", "status_x"],
                 "agg": {"click_count": ["sum", "count"]},}]}),
            false,
        ));
    }
    list
}

fn write_data(app: &TestApp) {
    data::write_logs(app, 4, 500);
    let mut users = String::from("user_id,country,status\n");
    for id in 0..60 {
        // Users 0..50 have logs; 50..60 none, and logs of 40..50 have no user (outer joins).
        if (40..50).contains(&id) {
            continue;
        }
        users.push_str(&format!(
            "{id},{},{}\n",
            ["de", "fr", "us"][id % 3],
            ["paid", "free"][id % 2]
        ));
    }
    app.write("users.csv", &users);
    app.write("values.csv", "g,x\na,1\na,4\na,\na,7\nb,2\nb,2\nc,\nc,\n");
    let mut series = String::from("t,g,x\n");
    for t in 0..200 {
        // Times out of order, and a missing value in every seventh row.
        let t = (t * 37) % 200;
        let x = if t % 7 == 0 {
            String::new()
        } else {
            format!("{}", (t * 13) % 17)
        };
        series.push_str(&format!("{t},{},{x}\n", t % 5));
    }
    app.write("series.csv", &series);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_spec_gives_the_same_answer_on_both_engines() {
    let cluster = Cluster::start(2, "512MB").await;
    let app = app_with(&cluster, EngineKind::Local).await;
    write_data(&app);
    for (name, spec, ordered) in pipelines() {
        let local = run_on(&app, &spec, "local").await;
        let mut spec = spec;
        spec["engine"] = json!("ballista");
        let job = app.run(&spec).await;
        let distributed = app.result_json(job["id"].as_str().unwrap(), "").await;
        assert_eq!(
            normalised(&distributed, ordered),
            normalised(&local, ordered),
            "{name}: the engines disagree"
        );
        assert!(!normalised(&local, ordered).is_empty(), "{name}: no rows");
        let progress = &job["progress"];
        assert!(
            progress["stages_total"].as_u64().unwrap() >= 1
                && progress["stages_done"] == progress["stages_total"],
            "{name}: the cluster's stages are the job's progress: {progress}"
        );
    }
    // An ML job runs its pipeline on the cluster and trains in the worker: the same model.
    let fit = json!({"sources": {"s": {"format": "csv", "path": "series.csv"}}, "steps": [
            {"op": "dropna"}, {"op": "sort", "by": "t"}],
        "ml": {"task": "fit", "estimator": "linear_regression", "target": "x",
               "features": ["t", "g"], "test_size": 0.25, "seed": 0}});
    let mut metrics = Vec::new();
    for engine in ["local", "ballista"] {
        let mut spec = fit.clone();
        spec["engine"] = json!(engine);
        let job = app.run(&spec).await;
        metrics.push(job["result"]["ml"]["metrics"].clone());
    }
    assert!(
        metrics[0].as_object().is_some_and(|m| !m.is_empty()),
        "{metrics:?}"
    );
    assert_eq!(
        normalised(&json!([metrics[0]]), true),
        normalised(&json!([metrics[1]]), true)
    );
    let ran = cluster.jobs().await;
    assert!(
        ran.len() >= pipelines().len(),
        "every ballista job ran on the cluster: {ran:?}"
    );
}

/// Results come back as the local engine writes them: the same formats, files and links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_distributed_result_is_an_ordinary_result() {
    let cluster = Cluster::start(2, "512MB").await;
    let app = app_with(&cluster, EngineKind::Ballista).await;
    let rows = data::write_logs(&app, 4, 500);
    let job = app.run(&data::seed_spec()).await;
    assert_eq!(
        job["spec"].get("engine"),
        None,
        "the server's default engine"
    );
    let stages = job["progress"]["stages_total"].as_u64().unwrap();
    assert!(stages >= 1);
    // The cluster's tasks are the job's task spans: each stage's, each with its times.
    let id = job["id"].as_str().unwrap();
    let tasks = app.get_json(&format!("/v1/jobs/{id}/tasks")).await;
    let tasks = tasks["tasks"].as_array().unwrap();
    let stage_spans: Vec<&Value> = tasks
        .iter()
        .filter(|t| t["operator"].as_str().unwrap().starts_with("stage "))
        .collect();
    let named: std::collections::BTreeSet<&str> = stage_spans
        .iter()
        .map(|t| t["operator"].as_str().unwrap())
        .collect();
    assert_eq!(named.len() as u64, stages, "{tasks:?}");
    assert!(
        stage_spans.iter().all(|t| t["ended_at"].is_string()),
        "{tasks:?}"
    );
    let expected = data::seed_answer(&rows);
    for format in ["arrow", "parquet"] {
        let (status, _, body) = app
            .get_bytes(job["result"]["links"][format].as_str().unwrap())
            .await;
        assert_eq!(status, 200);
        let batches = match format {
            "arrow" => crate::helpers::read_arrow_stream(&body),
            _ => crate::helpers::read_parquet(body),
        };
        data::assert_seed_result(&batches, &expected);
    }
}

/// A plan that reads nothing (the optimizer proved the filter false) runs in the worker, with
/// the columns the local engine gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_answer_keeps_its_columns() {
    let cluster = Cluster::start(1, "256MB").await;
    let app = app_with(&cluster, EngineKind::Local).await;
    data::write_logs(&app, 1, 10);
    let spec = json!({"sources": {"logs": {"format": "csv", "path": "logs/*.csv"}},
                      "steps": [{"op": "filter", "expr": "1 = 0"}]});
    let mut schemas = Vec::new();
    for engine in ["local", "ballista"] {
        let mut spec = spec.clone();
        spec["engine"] = json!(engine);
        let job = app.run(&spec).await;
        assert_eq!(job["result"]["rows"], 0, "{job}");
        schemas.push(job["result"]["schema"].clone());
    }
    assert_eq!(schemas[0], schemas[1]);
    assert_eq!(schemas[0].as_array().unwrap().len(), 6, "{schemas:?}");
}

/// `ballista` where the server has no cluster, and sources an executor may not fetch, are
/// refused at submission, naming the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_run_on_a_cluster_is_refused_at_submission() {
    let app = crate::helpers::spawn_app(Backend::Sqlite).await;
    data::write_logs(&app, 1, 10);
    let mut spec: Value = serde_json::from_str(data::seed_spec()).unwrap();
    spec["engine"] = json!("ballista");
    let response = app.post_job(&spec).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["details"]["path"], "engine", "{body}");
    assert!(body.to_string().contains("RUSK_BALLISTA_URL"), "{body}");

    // A server whose default engine is a cluster it does not have does not start.
    let dir = tempfile::tempdir().unwrap();
    let (mut settings, _) = crate::helpers::settings_for(Backend::Sqlite, dir.path()).await;
    settings.engine = EngineKind::Ballista;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let refused = rusk::app::start(&settings, Role::Serve, shutdown).await;
    let error = refused.err().expect("refused at start").to_string();
    assert!(error.contains("RUSK_BALLISTA_URL"), "{error}");

    let cluster = Cluster::start(1, "256MB").await;
    let app = app_with(&cluster, EngineKind::Ballista).await;
    let web = json!({"sources": {"w": {"format": "csv", "path": "https://example.com/x.csv"}},
                     "steps": [{"op": "head", "n": 1}]});
    let response = app.post_job(&web).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["details"]["path"], "sources.w.path", "{body}");
    let unknown = json!({"sources": {"logs": {"format": "csv", "path": "logs/*.csv"}},
                         "steps": [], "engine": "spark"});
    assert_eq!(app.post_job(&unknown).await.status(), 422);
}

/// A three-way cross join of 6000 × 2000 × 2000 rows: minutes of work, little memory.
fn endless(app: &TestApp) -> Value {
    data::write_logs(app, 2, 3000);
    json!({"sources": {"logs": {"format": "csv", "path": "logs/*.csv"}},
           "sql": "SELECT count(*) AS n, sum(a.click_count + b.click_count + c.click_count) AS s \
                   FROM logs a \
                   CROSS JOIN (SELECT click_count FROM logs LIMIT 2000) b \
                   CROSS JOIN (SELECT click_count FROM logs LIMIT 2000) c",
           "max_attempts": 2})
}

async fn wait_until_running_on_the_cluster(app: &TestApp, id: &str) {
    let start = Instant::now();
    loop {
        let job = app.job(id).await;
        if job["state"] == "running" && job["progress"]["stages_total"].as_u64() > Some(0) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not running on the cluster: {job}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_the_job_on_the_cluster() {
    let cluster = Cluster::start(2, "512MB").await;
    let app = app_with(&cluster, EngineKind::Ballista).await;
    let id = app.submit(&endless(&app)).await;
    wait_until_running_on_the_cluster(&app, &id).await;
    let response = app
        .client
        .post(app.url(&format!("/v1/jobs/{id}/cancel")))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let job = app.wait(&id).await;
    assert_eq!(job["state"], "cancelled");
    let start = Instant::now();
    loop {
        let jobs = cluster.jobs().await;
        let running: Vec<&Value> = jobs.iter().filter(|j| j["status"] == "Running").collect();
        if running.is_empty() && !jobs.is_empty() {
            assert!(
                jobs.iter().all(|j| j["status"] != "Completed"),
                "the job ended on its own instead: {jobs:?}"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the cluster still runs the cancelled job: {jobs:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `timeout_s` ends the attempt as on the local engine (`timeout`), and the cluster's job with
/// it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_stops_the_job_on_the_cluster() {
    let cluster = Cluster::start(2, "512MB").await;
    let app = app_with(&cluster, EngineKind::Ballista).await;
    let mut spec = endless(&app);
    spec["timeout_s"] = json!(3);
    let job = app.wait(&app.submit(&spec).await).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "timeout", "{job}");
    let start = Instant::now();
    loop {
        let jobs = cluster.jobs().await;
        if !jobs.is_empty() && jobs.iter().all(|j| j["status"] == "Failed") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the cluster still runs the timed-out job: {jobs:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// An executor lost mid-job: the job still succeeds, with the answer of the local engine. One
/// slot each, so that both executors have tasks running. Ballista runs the lost tasks again,
/// but once gave some rows twice that way, so an attempt that lost an executor fails with
/// `io_error` and the job runs again on the executor left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_executor_does_not_lose_the_job() {
    let mut cluster = Cluster::start_with(2, "512MB", 1).await;
    let app = app_with(&cluster, EngineKind::Local).await;
    data::write_logs(&app, 8, 16_000);
    let spec = json!({"sources": {"logs": {"format": "csv", "path": "logs/*.csv"}},
        "sql": "SELECT a.user_id, count(*) AS n, sum(b.click_count) AS s FROM logs a \
                JOIN logs b ON a.user_id = b.user_id AND a.click_count < b.click_count \
                GROUP BY a.user_id ORDER BY a.user_id"});
    let local = run_on(&app, &spec, "local").await;
    let mut distributed = spec.clone();
    distributed["engine"] = json!("ballista");
    let id = app.submit(&distributed).await;
    wait_until_running_on_the_cluster(&app, &id).await;
    let executor = &mut cluster.executors[0];
    executor.kill().unwrap();
    executor.wait().unwrap();
    let killed = chrono::Utc::now();
    // The loss is noticed after the scheduler's executor timeout, and the job then runs again
    // on the executor left: minutes on a loaded 2-core machine.
    let job = app.wait_within(&id, Duration::from_secs(400)).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let finished: chrono::DateTime<chrono::Utc> =
        job["finished_at"].as_str().unwrap().parse().unwrap();
    assert!(
        finished > killed,
        "the job ended before the executor was lost: {job}"
    );
    let log = job["attempt_log"].as_array().unwrap();
    for failed in &log[..log.len() - 1] {
        assert_eq!(failed["error"]["code"], "io_error", "{job}");
        let message = failed["error"]["message"].as_str().unwrap();
        assert!(message.contains("was lost"), "{job}");
    }
    let rows = app.result_json(&id, "").await;
    assert_eq!(normalised(&rows, true), normalised(&local, true));
}

/// A scheduler gone mid-job fails the attempt with a transient `io_error`; the job is tried
/// again (`max_attempts`) and fails when the cluster stays away. The slot is free again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_scheduler_fails_the_attempt_cleanly() {
    let mut cluster = Cluster::start(1, "256MB").await;
    let app = app_with(&cluster, EngineKind::Ballista).await;
    let id = app.submit(&endless(&app)).await;
    wait_until_running_on_the_cluster(&app, &id).await;
    cluster.scheduler.kill().unwrap();
    cluster.scheduler.wait().unwrap();
    let job = app.wait(&id).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "io_error", "{job}");
    assert_eq!(job["attempts"], 2, "retried once: {job}");
    let local = run_on(
        &app,
        &serde_json::from_str(data::seed_spec()).unwrap(),
        "local",
    )
    .await;
    assert!(
        !local.as_array().unwrap().is_empty(),
        "the slot runs jobs again"
    );
}

/// The row-order and reshaping steps on the cluster, against pandas (tests/py/steps_parity.py
/// with every job on the ballista engine).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs RUSK_PYTHON with pandas and pyarrow: run with --include-ignored"]
async fn pandas_agrees_with_the_steps_on_the_cluster() {
    let python = crate::helpers::python_with("pandas, pyarrow", "the pandas comparison");
    let cluster = Cluster::start(2, "512MB").await;
    let app = app_with(&cluster, EngineKind::Ballista).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/steps_parity.py");
    let mut command = Command::new(python);
    command.arg(script).arg(&app.base).arg(&app.root);
    tokio::task::spawn_blocking(move || {
        crate::helpers::run_checked("the pandas comparison on ballista", &mut command)
    })
    .await
    .unwrap();
    assert!(
        cluster.jobs().await.len() >= 40,
        "the cases ran on the cluster"
    );
}

/// The scheduler and the executors open object stores from their own environment, as workers
/// do: a CSV glob in an S3 bucket (moto, over the real protocol) read by the cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server beside RUSK_PYTHON (pip install 'moto[server]'): run with --include-ignored"]
async fn executors_read_a_bucket() {
    let s3 = crate::s3::start_s3().await;
    let client = reqwest::Client::new();
    crate::s3::put(&client, format!("{}/data", s3.endpoint), String::new()).await;
    let groups = data::logs(3, 400, 50);
    for (i, group) in groups.iter().enumerate() {
        let url = format!("{}/data/logs/large-data-{i}.csv", s3.endpoint);
        crate::s3::put(&client, url, data::to_csv(group)).await;
    }
    let env: Vec<(String, String)> = [
        ("AWS_ENDPOINT", s3.endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec();
    let cluster = Cluster::start_in(2, "256MB", 2, &env).await;
    let url = cluster.url.clone();
    let app = spawn_configured(Backend::Sqlite, Role::Serve, move |settings| {
        settings.ballista_url = Some(url);
        settings.engine = EngineKind::Ballista;
        settings.store_env = Some(env);
    })
    .await;
    let spec =
        data::seed_spec().replace("logs/large-data-*.csv", "s3://data/logs/large-data-*.csv");
    let job = app.run(&spec).await;
    assert!(job["progress"]["stages_total"].as_u64().unwrap() >= 1);
    let (_, _, body) = app
        .get_bytes(job["result"]["links"]["parquet"].as_str().unwrap())
        .await;
    let rows: Vec<data::LogRow> = groups.into_iter().flatten().collect();
    data::assert_seed_result(
        &crate::helpers::read_parquet(body),
        &data::seed_answer(&rows),
    );
}

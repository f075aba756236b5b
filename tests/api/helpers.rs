//! `spawn_app`: a real Rusk (API and workers over real HTTP) on a random port, with its own
//! data directory, data root and job store: a SQLite file, or a fresh Postgres database.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use rusk::app::{self, Role};
use rusk::config::Settings;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    /// `http://{RUSK_METRICS_LISTEN}` when the app was started with one.
    pub metrics_base: Option<String>,
    pub client: reqwest::Client,
    /// Where relative source paths resolve.
    pub root: PathBuf,
    pub settings: Settings,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
    _database: Option<TestDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Settings for a fresh app, on a database of its own for Postgres.
pub async fn settings_for(backend: Backend, dir: &Path) -> (Settings, Option<TestDatabase>) {
    let root = dir.join("root");
    std::fs::create_dir_all(&root).unwrap();
    let mut settings = Settings::embedded(dir.join("data"));
    settings.listen = "127.0.0.1:0".parse().unwrap();
    settings.data_root = Some(root);
    settings.slots = Some(2);
    settings.memory_limit = Some(512 << 20);
    let database = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let db = TestDatabase::create().await;
            settings.database_url = Some(db.url.clone());
            Some(db)
        }
    };
    (settings, database)
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_with(backend, Role::Serve).await
}

pub async fn spawn_with(backend: Backend, role: Role) -> TestApp {
    spawn_configured(backend, role, |_| {}).await
}

/// A fresh app with settings changed by `configure` (e.g. a smaller memory limit).
pub async fn spawn_configured(
    backend: Backend,
    role: Role,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let (mut settings, database) = settings_for(backend, dir.path()).await;
    configure(&mut settings);
    let shutdown = CancellationToken::new();
    let running = app::start(&settings, role, shutdown.clone())
        .await
        .expect("rusk starts");
    let addr = running.addr.expect("the API listens");
    let metrics_base = running.metrics_addr.map(|a| format!("http://{a}"));
    tokio::spawn(running.wait());
    TestApp {
        base: format!("http://{addr}"),
        metrics_base,
        client: reqwest::Client::new(),
        root: settings.data_root.clone().unwrap(),
        settings,
        shutdown,
        _dir: dir,
        _database: database,
    }
}

impl TestApp {
    /// Starts a `rusk worker` on the same job store, data root and results, stopped with the
    /// app or by cancelling the returned token.
    pub async fn start_worker(&self) -> CancellationToken {
        self.start_worker_with(|_| {}).await
    }

    /// Starts a `rusk worker` as `start_worker` does, with settings changed by `configure`.
    pub async fn start_worker_with(
        &self,
        configure: impl FnOnce(&mut Settings),
    ) -> CancellationToken {
        let mut settings = self.settings.clone();
        configure(&mut settings);
        let stop = self.shutdown.child_token();
        let running = app::start(&settings, Role::Worker, stop.clone())
            .await
            .expect("the worker starts");
        tokio::spawn(running.wait());
        stop
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn write(&self, relative: &str, contents: &str) {
        let path = self.root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    pub async fn post_job(&self, spec: &impl SpecBody) -> reqwest::Response {
        self.client
            .post(self.url("/v1/jobs"))
            .header("content-type", "application/json")
            .body(spec.body())
            .send()
            .await
            .unwrap()
    }

    /// Submits a spec that must be accepted; returns the job id.
    pub async fn submit(&self, spec: &impl SpecBody) -> String {
        let response = self.post_job(spec).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 201, "submission refused: {body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// GETs a path that must answer 200 with JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// POSTs JSON to a path; returns the status and the JSON answer.
    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// Every job of the tenant, newest first (first page).
    pub async fn jobs(&self) -> Vec<Value> {
        self.get_json("/v1/jobs").await["jobs"]
            .as_array()
            .unwrap()
            .clone()
    }

    pub async fn job(&self, id: &str) -> Value {
        let response = self
            .client
            .get(self.url(&format!("/v1/jobs/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Waits (at most 30 s) for a job to be in `state`, and returns it.
    pub async fn wait_for_state(&self, id: &str, state: &str) -> Value {
        let start = Instant::now();
        loop {
            let job = self.job(id).await;
            if job["state"] == state {
                return job;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "job {id} never {state}: {job}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for a job to end and returns it. The limit only stops a hung job from hanging
    /// the suite: it is generous because CI runs many tests' jobs at once on two cores, and
    /// speed is measured in `bench/`, never here.
    pub async fn wait(&self, id: &str) -> Value {
        self.wait_within(id, Duration::from_secs(300)).await
    }

    /// Waits (at most `limit`) for the job to end, and returns it.
    pub async fn wait_within(&self, id: &str, limit: Duration) -> Value {
        let start = Instant::now();
        loop {
            let job = self.job(id).await;
            let state = job["state"].as_str().unwrap().to_string();
            if ["succeeded", "failed", "cancelled"].contains(&state.as_str()) {
                return job;
            }
            assert!(start.elapsed() < limit, "job {id} still {state}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Submits, waits for success, and returns the job.
    pub async fn run(&self, spec: &impl SpecBody) -> Value {
        let id = self.submit(spec).await;
        let job = self.wait(&id).await;
        assert_eq!(job["state"], "succeeded", "job failed: {job}");
        job
    }

    pub async fn get_bytes(&self, url: &str) -> (reqwest::StatusCode, String, bytes::Bytes) {
        let response = self.client.get(url).send().await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, content_type, response.bytes().await.unwrap())
    }

    pub async fn result_json(&self, id: &str, query: &str) -> Value {
        let url = self.url(&format!("/v1/jobs/{id}/result?format=json{query}"));
        let (status, _, body) = self.get_bytes(&url).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    }
}

/// A spec to send: a `json!` value, or JSON text where key order matters (`serde_json::Value`
/// sorts object keys, and `agg` and `assign` keep the caller's order).
pub trait SpecBody {
    fn body(&self) -> String;
}

impl SpecBody for Value {
    fn body(&self) -> String {
        self.to_string()
    }
}

impl SpecBody for &str {
    fn body(&self) -> String {
        self.to_string()
    }
}

impl SpecBody for String {
    fn body(&self) -> String {
        self.clone()
    }
}

pub fn read_arrow_stream(bytes: &[u8]) -> Vec<RecordBatch> {
    arrow::ipc::reader::StreamReader::try_new(bytes, None)
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

pub fn read_parquet(bytes: bytes::Bytes) -> Vec<RecordBatch> {
    parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes, 1024)
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

/// Forwards loopback connections to Postgres until cut.
pub struct Proxy {
    pub port: u16,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    /// A `DATABASE_URL` like `url` that goes through this proxy.
    pub fn url_for(&self, url: &str) -> String {
        let mut through = url::Url::parse(url).unwrap();
        through.set_host(Some("127.0.0.1")).unwrap();
        through.set_port(Some(self.port)).unwrap();
        through.to_string()
    }

    pub async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (is_up, open) = (up.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !is_up.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                open.lock().unwrap().push(task.abort_handle());
            }
        });
        Proxy {
            port,
            up,
            connections,
        }
    }

    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// A database of its own on the Postgres at `DATABASE_URL`, dropped afterwards.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl TestDatabase {
    async fn create() -> TestDatabase {
        let admin_url =
            std::env::var("DATABASE_URL").unwrap_or_else(|_| panic!("{NEEDS_POSTGRES}"));
        assert!(
            admin_url.starts_with("postgres"),
            "DATABASE_URL must be a postgres:// URL"
        );
        let name = format!("rusk_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = connect(&admin_url).await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&name);
        TestDatabase {
            admin_url,
            name,
            url: url.to_string(),
        }
    }
}

async fn connect(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach Postgres at DATABASE_URL: {e}"))
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot block: use a thread of our own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut admin = connect(&admin_url).await;
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ = sqlx::query(sqlx::AssertSqlSafe(drop))
                    .execute(&mut admin)
                    .await;
            });
        })
        .join();
    }
}

/// Runs one async test, given the backend to start its own app on, against SQLite and
/// against Postgres (for tests that configure their app).
#[macro_export]
macro_rules! on_both_backends {
    ($($tests:tt)*) => { $crate::on_each_backend!(call_with_backend; $($tests)*); };
}

/// Runs one async test body, given a fresh app, against SQLite and against Postgres.
#[macro_export]
macro_rules! on_both_stores {
    ($($tests:tt)*) => { $crate::on_each_backend!(call_with_app; $($tests)*); };
}

/// The test functions `on_both_backends!` and `on_both_stores!` generate: `mod sqlite` and
/// `mod postgres` (the Postgres half ignored unless asked for), or, for tests that also need
/// a tool beyond the crate (`needs "why": …`), both halves ignored, under `mod with_tools`.
#[macro_export]
macro_rules! on_each_backend {
    ($call:ident; needs $why:literal: $($name:ident),* $(,)?) => {
        mod with_tools {
            $crate::on_each_backend!(@emit $call, [super::super], [#[ignore = $why]],
                [#[ignore = $why]]; $($name),*);
        }
    };
    ($call:ident; $($name:ident),* $(,)?) => {
        $crate::on_each_backend!(@emit $call, [super], [],
            [#[ignore = "needs Postgres: set DATABASE_URL, run with --include-ignored"]];
            $($name),*);
    };
    (@emit $call:ident, $up:tt, $sqlite:tt, $postgres:tt; $($name:ident),*) => {
        mod sqlite {
            $($crate::on_each_backend!(@one $call, $up, $sqlite, $name, Sqlite);)*
        }
        mod postgres {
            $($crate::on_each_backend!(@one $call, $up, $postgres, $name, Postgres);)*
        }
    };
    (@one $call:ident, [$($up:tt)*], [$($attr:tt)*], $name:ident, $backend:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $($attr)*
        async fn $name() {
            $crate::$call!($($up)*::$name, $backend);
        }
    };
}

/// Calls a test function with the backend.
#[macro_export]
macro_rules! call_with_backend {
    ($test:path, $backend:ident) => {
        $test($crate::helpers::Backend::$backend).await
    };
}

/// Calls a test function with a fresh app on the backend.
#[macro_export]
macro_rules! call_with_app {
    ($test:path, $backend:ident) => {
        $test($crate::helpers::spawn_app($crate::helpers::Backend::$backend).await).await
    };
}

/// Sends a request that must answer with JSON; returns the JSON.
pub async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// Why a Postgres test fails where no Postgres is configured (such tests are `#[ignore]`d,
/// so a plain `cargo test` lists them as ignored instead).
pub const NEEDS_POSTGRES: &str = "this test needs Postgres: set \
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test (see the README, \"Running every test suite locally\")";

/// The Python that has `modules` (e.g. `"pandas, pyarrow"`): `RUSK_PYTHON`, else `python3`.
/// Tests that need it are `#[ignore]`d; run with `--include-ignored`, they fail without it.
pub fn python_with(modules: &str, test: &str) -> String {
    let python = std::env::var("RUSK_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{test} needs a Python with {modules}: set RUSK_PYTHON (see the README, \"Running every test suite locally\")"
    );
    python
}

/// Creates an API key with `rusk keys create`, against the app's database; returns the key
/// and the tenant's webhook secret.
pub fn create_key(settings: &Settings, tenant: &str) -> (String, String) {
    let output = keys_command(settings, &["create", "--tenant", tenant]);
    let field = |name: &str| {
        output
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("no {name} in {output}"))
    };
    (field("api key:"), field("webhook secret:"))
}

/// Runs `rusk keys ARGS` against the app's database; returns its standard output.
pub fn keys_command(settings: &Settings, args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rusk"))
        .arg("keys")
        .args(args)
        .env("DATABASE_URL", settings.database_url())
        .env("RUSK_DATA_DIR", &settings.data_dir)
        .env("RUSK_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "rusk keys {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A client that sends `Authorization: Bearer key` with every request.
pub fn client_with_key(key: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {key}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// Parses an SSE body into (event, data) pairs.
pub fn parse_events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut event = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event:") {
                    event = Some(e.trim().to_string());
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            Some((event?, serde_json::from_str(&data).unwrap()))
        })
        .collect()
}

/// Runs a check command (a Python script, a shell check) to its end, shows what it said, and
/// fails the test, with that output, when it fails.
pub fn run_checked(what: &str, command: &mut std::process::Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start it: {e}"));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{said}");
    assert!(output.status.success(), "{what} failed:\n{said}");
}

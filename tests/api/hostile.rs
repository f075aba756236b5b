//! The hostile-input suite: every repro of the hostile-input probe, and their siblings. Each
//! gets a 4xx naming the field, a clean job failure or a correct answer: never a crash, a file
//! outside the data root, another tenant's data, or a lost acknowledged job.

use std::time::{Duration, Instant};

use reqwest::Client;
use rusk::app::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, client_with_key, create_key, json_of, spawn_configured};

async fn sqlite_app(configure: impl FnOnce(&mut rusk::config::Settings)) -> TestApp {
    spawn_configured(Backend::Sqlite, Role::Serve, configure).await
}

/// POSTs JSON with `client`; the status and the error's field path.
async fn refused(client: &Client, url: String, body: &Value) -> (u16, String, String) {
    let response = client.post(url).json(body).send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    let path = body["error"]["details"]["path"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (status, path, message)
}

fn source_of(path: &str) -> Value {
    json!({"format": "csv", "path": path,
           "options": {"has_header": false, "delimiter": ":"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_scheme_spelling_reads_outside_the_data_root() {
    let app = sqlite_app(|_| {}).await;
    for path in [
        "FILE:///etc/passwd",
        "File:///etc/passwd",
        "fIlE:///etc/passwd",
        "file:///etc/passwd",
        "/etc/passwd",
        "../../../../etc/passwd",
    ] {
        let inspect = json!({"source": source_of(path), "n": 3});
        let (status, field, message) = refused(&app.client, app.url("/v1/inspect"), &inspect).await;
        assert_eq!(status, 422, "inspect {path}: {message}");
        assert_eq!(field, "source.path", "{path}");
        assert!(
            !message.contains("root:"),
            "{path} leaked /etc/passwd: {message}"
        );
        let spec = json!({"sources": {"p": source_of(path)}, "sql": "SELECT * FROM p"});
        for route in ["/v1/jobs", "/v1/explain"] {
            let (status, field, message) = refused(&app.client, app.url(route), &spec).await;
            assert_eq!(status, 422, "{route} {path}: {message}");
            assert_eq!(field, "sources.p.path", "{route} {path}");
        }
    }
    // Schemes Rusk does not read are refused by name, whatever their case.
    for path in ["FTP://host/x.csv", "LocalFile://x.csv", "jar://x"] {
        let inspect = json!({"source": source_of(path)});
        let (status, _, message) = refused(&app.client, app.url("/v1/inspect"), &inspect).await;
        assert_eq!(status, 422, "{path}");
        assert!(message.contains("unsupported URL scheme"), "{message}");
    }
    assert!(app.jobs().await.is_empty(), "nothing was queued");
}

/// The embedded defaults put the data dir (`./rusk-data`) inside the data root: its job
/// table, result files and models must still never be a source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rusks_own_storage_is_never_a_source() {
    let app = sqlite_app(|settings| {
        let root = settings.data_root.clone().unwrap();
        settings.data_dir = root.join("rusk-data");
    })
    .await;
    app.write("t.csv", "a\n1\n2\n");
    let job = app
        .run(
            &json!({"sources": {"t": {"format": "csv", "path": "t.csv"}},
                     "sql": "SELECT a FROM t", "output": {"format": "parquet"}}),
        )
        .await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let id = job["id"].as_str().unwrap();
    let results = format!("rusk-data/objects/results/{id}");
    assert!(
        app.root.join(&results).is_dir(),
        "the result lies in the data root"
    );
    let parquet = |path: &str| json!({"source": {"format": "parquet", "path": path}});
    for path in [
        results.clone(),
        format!("{results}/1/part-00000.parquet"),
        format!("file://{}", app.root.join(&results).display()),
        "rusk-data/rusk.db".into(),
        "rusk-data".into(),
    ] {
        let (status, _, message) =
            refused(&app.client, app.url("/v1/inspect"), &parquet(&path)).await;
        assert_eq!(status, 422, "{path} was readable");
        assert!(
            message.contains("Rusk's own storage") || message.contains("no files match"),
            "{path}: {message}"
        );
    }
    // A glob over the whole root finds the caller's files only.
    let csv = json!({"source": {"format": "csv", "path": "**/*.csv"}});
    let found = json_of(app.client.post(app.url("/v1/inspect")).json(&csv)).await;
    assert_eq!(found["files"], 1, "{found}");
    let everything = json!({"source": {"format": "parquet", "path": "**/*.parquet"}});
    let (status, _, message) = refused(&app.client, app.url("/v1/inspect"), &everything).await;
    assert_eq!(status, 422);
    assert!(message.contains("no files match"), "{message}");
}

/// `RUSK_DATA_ROOT=/data/{tenant}`: each tenant reads its own directory only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_root_per_tenant_keeps_tenants_apart() {
    let roots = tempfile::tempdir().unwrap();
    for tenant in ["alpha", "beta"] {
        std::fs::create_dir_all(roots.path().join(tenant)).unwrap();
        std::fs::write(
            roots.path().join(tenant).join("mine.csv"),
            format!("owner\n{tenant}\n"),
        )
        .unwrap();
    }
    let template = roots.path().join("{tenant}");
    let app = sqlite_app(|settings| settings.data_root = Some(template)).await;
    let (alpha, _) = create_key(&app.settings, "alpha");
    let (beta, _) = create_key(&app.settings, "beta");
    let (alpha, beta) = (client_with_key(&alpha), client_with_key(&beta));
    let mine = json!({"source": {"format": "csv", "path": "mine.csv"}});
    for (client, tenant) in [(&alpha, "alpha"), (&beta, "beta")] {
        let body = json_of(client.post(app.url("/v1/inspect")).json(&mine)).await;
        assert_eq!(body["head"][0]["owner"], tenant, "{body}");
    }
    let alphas = roots.path().join("alpha/mine.csv").display().to_string();
    for path in [
        alphas.clone(),
        format!("file://{alphas}"),
        "../alpha/mine.csv".into(),
    ] {
        let theirs = json!({"source": {"format": "csv", "path": path}});
        let (status, _, message) = refused(&beta, app.url("/v1/inspect"), &theirs).await;
        assert_eq!(status, 422, "beta read {path}: {message}");
    }
    // A tenant without a directory is told so at submission.
    let (gamma, _) = create_key(&app.settings, "gamma");
    let (status, _, message) =
        refused(&client_with_key(&gamma), app.url("/v1/inspect"), &mine).await;
    assert_eq!(status, 422);
    assert!(message.contains("no data directory"), "{message}");
}

fn chain(terms: usize, op: &str) -> String {
    vec!["1"; terms].join(op)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_expressions_are_refused_not_a_crash() {
    let app = sqlite_app(|_| {}).await;
    app.write("t.csv", "x,y\n1,2\n3,4\n");
    let source = json!({"t": {"format": "csv", "path": "t.csv"}});
    let steps = |step: Value| json!({"sources": source, "steps": [step]});
    let many: Vec<String> = (0..3000).map(|_| "t".to_string()).collect();
    let cases = [
        (
            steps(json!({"op": "filter", "expr": format!("x > {}", chain(2600, "+"))})),
            "steps[0].expr",
        ),
        (
            steps(json!({"op": "filter", "expr": vec!["x = 1"; 1500].join(" AND ")})),
            "steps[0].expr",
        ),
        (
            steps(json!({"op": "assign", "columns": {"z": chain(2600, "*")}})),
            "steps[0].columns.z",
        ),
        (
            steps(
                json!({"op": "filter", "expr": format!("{}x{} > 1", "(".repeat(500), ")".repeat(500))}),
            ),
            "steps[0].expr",
        ),
        (
            json!({"sources": source, "sql": format!("SELECT x FROM t WHERE x > {}", chain(5000, "+"))}),
            "sql",
        ),
        (
            steps(json!({"op": "concat", "others": many})),
            "steps[0].others",
        ),
    ];
    for (spec, field) in &cases {
        for route in ["/v1/jobs", "/v1/explain"] {
            let (status, path, message) = refused(&app.client, app.url(route), spec).await;
            assert_eq!((status, path.as_str()), (422, *field), "{route}: {message}");
        }
    }
    // Just inside the bounds, the deepest expressions plan and run: the limit and the
    // planner's stack agree.
    let deepest = app
        .run(&steps(
            json!({"op": "assign", "columns": {"z": format!("x + {}", chain(256, "+"))}}),
        ))
        .await;
    assert_eq!(deepest["state"], "succeeded", "{deepest}");
    let rows = app.result_json(deepest["id"].as_str().unwrap(), "").await;
    assert_eq!(rows[0]["z"], 1 + 256, "{rows}");
    let query = format!("SELECT x FROM t WHERE x < {}", chain(1024, "+"));
    let sql = app.run(&json!({"sources": source, "sql": query})).await;
    assert_eq!(sql["state"], "succeeded", "{sql}");
    assert_eq!(
        app.result_json(sql["id"].as_str().unwrap(), "")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(app.get_json("/healthz").await["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misleading_errors_are_named_at_submission() {
    let app = sqlite_app(|_| {}).await;
    app.write("t.csv", "x,y\n1,2\n3,4\n");
    let source = json!({"t": {"format": "csv", "path": "t.csv"}});
    let cases = [
        (
            json!({"op": "head", "n": 9_223_372_036_854_775_808_u64}),
            "steps[0].n",
        ),
        (
            json!({"op": "filter", "expr": "sum(x) > 1"}),
            "steps[0].expr",
        ),
        (
            json!({"op": "filter", "expr": "row_number() OVER () > 1"}),
            "steps[0].expr",
        ),
    ];
    for (step, field) in cases {
        let spec = json!({"sources": source, "steps": [step]});
        let (status, path, message) = refused(&app.client, app.url("/v1/jobs"), &spec).await;
        assert_eq!((status, path.as_str()), (422, field), "{message}");
        assert!(message.len() < 400, "a short message: {message}");
    }
    assert!(app.jobs().await.is_empty());
}

/// Functions whose output dwarfs their input allocate outside the memory pool: each call is
/// bounded by its arguments instead, constant or per row, and reasonable calls still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amplifying_functions_cannot_exhaust_memory() {
    let app = sqlite_app(|settings| settings.memory_limit = Some(64 << 20)).await;
    let mut csv = String::from("n,word\n");
    for i in 0..2000 {
        csv.push_str(&format!("{},w{i}\n", 40_000 + i));
    }
    app.write("t.csv", &csv);
    let source = json!({"t": {"format": "csv", "path": "t.csv"}});
    let assign = |expr: &str| json!({"sources": source, "steps": [{"op": "assign", "columns": {"big": expr}}]});
    // Constant calls are folded while planning: refused at submission.
    for expr in [
        "repeat('a', 100000000)",
        "cardinality(range(1, 50000000))",
        "cardinality(generate_series(1, 50000000))",
        "lpad('a', 100000000)",
        "cardinality(array_repeat(1, 50000000))",
    ] {
        let (status, _, message) = refused(&app.client, app.url("/v1/jobs"), &assign(expr)).await;
        assert_eq!(status, 422, "{expr}: {message}");
        assert!(message.contains("would produce"), "{expr}: {message}");
    }
    assert!(app.jobs().await.is_empty());
    // Per row: 2000 rows × ~40,000 × 200 bytes is over a quarter of a 64 MB pool.
    let id = app.submit(&assign("repeat(repeat(word, 40), n)")).await;
    let job = app.wait(&id).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "resources_exhausted", "{job}");
    // Small calls are what they always were.
    let fine = app
        .run(&json!({"sources": source, "sql":
            "SELECT repeat('ab', 3) AS r, cardinality(range(1, 11)) AS c, lpad('7', 3, '0') AS p FROM t LIMIT 1"}))
        .await;
    let rows = app.result_json(fine["id"].as_str().unwrap(), "").await;
    assert_eq!(rows, json!([{"r": "ababab", "c": 10, "p": "007"}]));
    assert_eq!(app.get_json("/healthz").await["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_bounded_and_unused_files_deleted() {
    let app = sqlite_app(|settings| settings.max_result_bytes = 50_000_000).await;
    let results = app.settings.data_dir.join("objects/results");
    let endless = |limit: Option<&str>| {
        let mut spec = json!({"sources": {"t": {"format": "csv", "path": "t.csv"}},
                              "sql": "SELECT value FROM generate_series(1, 100000000000)"});
        if let Some(limit) = limit {
            spec["max_result_bytes"] = limit.into();
        }
        spec
    };
    app.write("t.csv", "x\n1\n");
    let (status, path, _) = refused(&app.client, app.url("/v1/jobs"), &endless(Some("1TB"))).await;
    assert_eq!((status, path.as_str()), (422, "max_result_bytes"));

    // The job's own limit, then the server's.
    for limit in [Some("2MB"), None] {
        let job = app.wait(&app.submit(&endless(limit)).await).await;
        assert_eq!(job["state"], "failed", "{job}");
        assert_eq!(job["error"]["code"], "result_too_large", "{job}");
        assert_eq!(job["attempts"], 1, "not retried: {job}");
        let id = job["id"].as_str().unwrap();
        assert_eq!(files_under(&results.join(id)), 0, "its files are deleted");
    }

    // Too many files.
    let rows: String = (0..3000).map(|i| format!("{i}\n")).collect();
    app.write("many.csv", &format!("x\n{rows}"));
    let one_per_row = json!({"sources": {"t": {"format": "csv", "path": "many.csv"}},
                             "sql": "SELECT x FROM t", "output": {"format": "arrow", "partition_size": "1B"}});
    let job = app.wait(&app.submit(&one_per_row).await).await;
    assert_eq!(job["error"]["code"], "result_too_large", "{job}");
    let mut too_many = one_per_row.clone();
    too_many["output"] = json!({"npartitions": 10000});
    let (status, path, _) = refused(&app.client, app.url("/v1/jobs"), &too_many).await;
    assert_eq!((status, path.as_str()), (422, "output.npartitions"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_jobs_files_are_deleted() {
    let app = sqlite_app(|_| {}).await;
    let results = app.settings.data_dir.join("objects/results");
    app.write("t.csv", "x\n1\n");
    let endless = json!({"sources": {"t": {"format": "csv", "path": "t.csv"}},
                         "sql": "SELECT value FROM generate_series(1, 100000000000)"});
    let id = app.submit(&endless).await;
    wait_until(|| async { files_under(&results.join(&id)) > 0 }).await;
    let cancelled = app
        .client
        .post(app.url(&format!("/v1/jobs/{id}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), 202);
    wait_until(|| async { files_under(&results.join(&id)) == 0 }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_without_timeout_gets_the_servers() {
    let app = sqlite_app(|settings| settings.default_timeout = 1).await;
    app.write("t.csv", "x\n1\n");
    let spec = json!({"sources": {"t": {"format": "csv", "path": "t.csv"}},
                      "sql": "SELECT count(*) AS n FROM generate_series(1, 100000000000)"});
    let job = app.wait(&app.submit(&spec).await).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "timeout", "{job}");
}

fn files_under(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() { files_under(&path) } else { 1 }
        })
        .sum()
}

async fn wait_until<F, Fut>(mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !done().await {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_pages_cannot_drive_a_keyless_rusk() {
    let app =
        sqlite_app(|settings| settings.cors_origins = vec!["https://app.example".into()]).await;
    app.write("t.csv", "x\n1\n");
    let spec =
        json!({"sources": {"t": {"format": "csv", "path": "t.csv"}}, "sql": "SELECT x FROM t"});
    let post = |origin: Option<&str>, content_type: &str, host: Option<&str>| {
        let mut request = app
            .client
            .post(app.url("/v1/jobs"))
            .header("content-type", content_type)
            .body(spec.to_string());
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(host) = host {
            request = request.header("host", host);
        }
        request.send()
    };
    let status = |r: reqwest::Response| r.status().as_u16();
    // A cross-origin "simple" request, as a form or fetch() sends it.
    assert_eq!(
        status(
            post(Some("http://evil.example"), "text/plain", None)
                .await
                .unwrap()
        ),
        403
    );
    assert_eq!(
        status(
            post(Some("http://evil.example"), "application/json", None)
                .await
                .unwrap()
        ),
        403
    );
    assert_eq!(
        status(post(Some("null"), "application/json", None).await.unwrap()),
        403
    );
    assert_eq!(status(post(None, "text/plain", None).await.unwrap()), 415);
    // DNS rebinding: the page's own name in Host, its origin the same.
    let port = app.base.rsplit(':').next().unwrap().to_string();
    let evil = format!("evil.example:{port}");
    let rebound = post(
        Some(&format!("http://{evil}")),
        "application/json",
        Some(&evil),
    )
    .await
    .unwrap();
    assert_eq!(status(rebound), 403);
    assert_eq!(
        status(
            app.client
                .get(app.url("/v1/jobs"))
                .header("host", &evil)
                .send()
                .await
                .unwrap()
        ),
        403
    );
    assert!(app.jobs().await.is_empty(), "nothing was queued");
    // Swagger UI on the same origin, and the allowed origin, work.
    let same = format!("127.0.0.1:{port}");
    let ok = post(Some(&format!("http://{same}")), "application/json", None)
        .await
        .unwrap();
    assert_eq!(status(ok), 201);
    let allowed = post(
        Some("https://app.example"),
        "application/json; charset=utf-8",
        None,
    )
    .await
    .unwrap();
    assert_eq!(allowed.status(), 201);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/jobs"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    // Links name the host the caller used, never a forged one.
    assert_eq!(app.jobs().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_headers_and_workers_across_tenants() {
    let app = sqlite_app(|_| {}).await;
    app.write("t.csv", "x\n1\n");
    let (alpha, _) = create_key(&app.settings, "alpha");
    let (beta, _) = create_key(&app.settings, "beta");
    // The scheme is case-insensitive.
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let response = Client::new()
            .get(app.url("/v1/jobs"))
            .header("authorization", format!("{scheme} {alpha}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{scheme}");
    }
    let alpha = client_with_key(&alpha);
    let spec = json!({"sources": {"t": {"format": "csv", "path": "t.csv"}},
                      "sql": "SELECT count(*) AS n FROM generate_series(1, 100000000000)"});
    let tabbed = alpha
        .post(app.url("/v1/jobs"))
        .header("idempotency-key", "a\tb")
        .json(&spec)
        .send()
        .await
        .unwrap();
    assert_eq!(tabbed.status(), 400);
    // Beta sees the workers, not what alpha runs on them.
    let job = json_of(alpha.post(app.url("/v1/jobs")).json(&spec)).await;
    let id = job["id"].as_str().unwrap().to_string();
    let running = |client: Client| {
        let url = app.url("/v1/workers");
        async move {
            let body = json_of(client.get(url)).await;
            body["workers"][0]["current_jobs"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        }
    };
    wait_until(|| {
        let alpha = alpha.clone();
        let id = id.clone();
        async move { running(alpha).await.iter().any(|j| j == id.as_str()) }
    })
    .await;
    assert!(running(client_with_key(&beta)).await.is_empty());
    alpha
        .post(app.url(&format!("/v1/jobs/{id}/cancel")))
        .send()
        .await
        .unwrap();
    // Webhooks to special addresses are refused however they are spelled.
    for url in [
        "http://[::ffff:8.8.8.8]/hook",
        "http://[::ffff:0:127.0.0.1]/hook",
        "http://[2001::1]/hook",
        "http://[100::1]/hook",
        "http://[5f00::1]/hook",
    ] {
        let mut hooked = spec.clone();
        hooked["webhook"] = json!({"url": url});
        let (status, path, _) = refused(&alpha, app.url("/v1/jobs"), &hooked).await;
        assert_eq!((status, path.as_str()), (422, "webhook.url"), "{url}");
    }
}

/// A store that cannot write answers 503 and is not ready; a 201 means the row is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_write_acknowledges_nothing() {
    let app = sqlite_app(|_| {}).await;
    app.write("t.csv", "x\n1\n");
    let spec =
        json!({"sources": {"t": {"format": "csv", "path": "t.csv"}}, "sql": "SELECT x FROM t"});
    let first = app.run(&spec).await;
    assert_eq!(first["state"], "succeeded");
    let files: Vec<_> = ["rusk.db", "rusk.db-wal"]
        .iter()
        .map(|f| app.settings.data_dir.join(f))
        .filter(|f| f.exists())
        .collect();
    let Some(frozen) = Immutable::set(&files) else {
        return;
    };
    let mut acknowledged = Vec::new();
    for _ in 0..6 {
        let response = app.post_job(&spec).await;
        match response.status().as_u16() {
            201 => acknowledged.push(
                json_of_response(response).await["id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            ),
            503 => {}
            other => panic!("expected 201 or 503, got {other}"),
        }
        // Every pooled connection must tell the truth, not only the first.
        let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(
            ready.status(),
            503,
            "a store that cannot write is not ready"
        );
    }
    drop(frozen);
    for id in acknowledged {
        let found = app
            .client
            .get(app.url(&format!("/v1/jobs/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(found.status(), 200, "acknowledged job {id} was lost");
    }
    wait_until(|| async {
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            == 200
    })
    .await;
    // And it works again: a new job is stored and runs.
    let again = app.run(&spec).await;
    assert_eq!(again["state"], "succeeded");
}

async fn json_of_response(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

/// Files made immutable (`chattr +i`) until dropped.
struct Immutable(Vec<std::path::PathBuf>);

impl Immutable {
    /// `None`, with a loud note, where `chattr` cannot do it here (not root, or a file system
    /// without the attribute); CI runs as root on ext4, where it must work.
    fn set(files: &[std::path::PathBuf]) -> Option<Immutable> {
        let ok = std::process::Command::new("chattr")
            .arg("+i")
            .args(files)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(Immutable(files.to_vec()));
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the read-only store test: chattr +i failed"
        );
        eprintln!("\n*** SKIPPING the read-only store test: chattr +i is not possible here ***\n");
        None
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .args(&self.0)
            .status();
    }
}

//! API keys and tenants: with any key, every `/v1` route needs one; a tenant sees only its
//! own jobs (another's are 404 on every route); signed result links work without a key, and
//! only unaltered and unexpired; revoked keys stop at once; models are the tenant's own.

use std::time::Duration;

use reqwest::Client;
use rusk::app::Role;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, client_with_key, create_key, json_of, keys_command, spawn_configured,
};

fn spec() -> Value {
    json!({"sources": {"t": {"format": "csv", "path": "t.csv"}}, "sql": "SELECT a FROM t"})
}

async fn status(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.unwrap().status().as_u16()
}

/// Every route that names a job, as (method, path).
fn job_routes(id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("GET", format!("/v1/jobs/{id}")),
        ("POST", format!("/v1/jobs/{id}/cancel")),
        ("GET", format!("/v1/jobs/{id}/result")),
        ("GET", format!("/v1/jobs/{id}/result?format=arrow")),
        ("GET", format!("/v1/jobs/{id}/files/0")),
        ("GET", format!("/v1/jobs/{id}/events")),
        ("GET", format!("/v1/jobs/{id}/deliveries")),
    ]
}

fn request(client: &Client, app: &TestApp, method: &str, path: &str) -> reqwest::RequestBuilder {
    match method {
        "POST" => client.post(app.url(path)).json(&json!({})),
        _ => client.get(app.url(path)),
    }
}

async fn keys_separate_tenants(backend: Backend) {
    let mut app = spawn_configured(backend, Role::Serve, |_| {}).await;
    app.write("t.csv", "a\n1\n2\n3\n");
    // No key yet: loopback clients are served, as the default tenant.
    let before = app.run(&spec()).await;

    let (alpha, _) = create_key(&app.settings, "alpha");
    let (beta, beta_secret) = create_key(&app.settings, "beta");
    assert!(beta_secret.starts_with("whsec_"));
    let anonymous = Client::new();
    for path in ["/v1/jobs", "/v1/workers"] {
        assert_eq!(status(anonymous.get(app.url(path))).await, 401, "{path}");
    }
    for path in ["/v1/inspect", "/v1/explain"] {
        assert_eq!(
            status(anonymous.post(app.url(path)).json(&spec())).await,
            401
        );
    }
    let wrong = client_with_key("rusk_000000000000_nope");
    assert_eq!(status(wrong.get(app.url("/v1/jobs"))).await, 401);
    let malformed = anonymous
        .get(app.url("/v1/jobs"))
        .header("authorization", "Basic abc");
    assert_eq!(status(malformed).await, 401);
    assert_eq!(status(anonymous.get(app.url("/healthz"))).await, 200);
    assert_eq!(status(anonymous.get(app.url("/openapi.json"))).await, 200);

    app.client = client_with_key(&alpha);
    let job = app.run(&spec()).await;
    let id = job["id"].as_str().unwrap();
    let listed: Vec<Value> = app.jobs().await;
    assert_eq!(
        listed.len(),
        1,
        "alpha sees its job only, not the keyless one"
    );
    assert_ne!(listed[0]["id"], before["id"]);

    let beta = client_with_key(&beta);
    for (method, path) in job_routes(id) {
        assert_eq!(
            status(request(&beta, &app, method, &path)).await,
            404,
            "beta: {method} {path}"
        );
    }
    let page = json_of(beta.get(app.url("/v1/jobs"))).await;
    assert_eq!(page["jobs"], json!([]));
    // Alpha reaches every route (the job ended, so cancel is a 409, not a 404).
    for (method, path) in job_routes(id) {
        let expected = if method == "POST" { 409 } else { 200 };
        assert_eq!(
            status(request(&app.client, &app, method, &path)).await,
            expected,
            "alpha: {method} {path}"
        );
    }

    check_signed_links(&app, &job).await;
    check_models_are_the_tenants(&app, &beta).await;

    keys_command(
        &app.settings,
        &["revoke", alpha_id(&app.settings, "alpha").as_str()],
    );
    assert_eq!(status(app.client.get(app.url("/v1/jobs"))).await, 401);
    let listing = keys_command(&app.settings, &["list"]);
    assert_eq!(listing.lines().count(), 3, "{listing}");
}

fn alpha_id(settings: &rusk::config::Settings, tenant: &str) -> String {
    let listing = keys_command(settings, &["list"]);
    listing
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(tenant))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string()
}

/// Links work with no key; any change to them, or using them elsewhere, is a 403.
async fn check_signed_links(app: &TestApp, job: &Value) {
    let anonymous = Client::new();
    let result = &job["result"];
    assert!(result["expires_at"].is_string());
    let links = [
        result["links"]["arrow"].as_str().unwrap(),
        result["links"]["parquet"].as_str().unwrap(),
        result["files"][0]["url"].as_str().unwrap(),
    ];
    for link in links {
        assert!(link.starts_with(&app.base), "absolute: {link}");
        assert_eq!(status(anonymous.get(link)).await, 200, "{link}");
    }
    let arrow = links[0];
    let tampered = [
        arrow.replace("format=arrow", "format=csv"),
        arrow.replace("expires=", "expires=1"),
        format!("{}0", arrow),
        arrow.replace(
            job["id"].as_str().unwrap(),
            "00000000-0000-7000-8000-000000000000",
        ),
    ];
    for link in tampered {
        assert_eq!(status(anonymous.get(&link)).await, 403, "{link}");
    }
    // A valid signature opens only the download it was made for.
    let (_, query) = arrow.split_once('?').unwrap();
    let id = job["id"].as_str().unwrap();
    let elsewhere = app.url(&format!("/v1/jobs/{id}?{query}"));
    assert_eq!(status(anonymous.get(&elsewhere)).await, 403);
}

async fn links_expire(backend: Backend) {
    let app = spawn_configured(backend, Role::Serve, |s| s.link_ttl = 1).await;
    app.write("t.csv", "a\n1\n");
    let job = app.run(&spec()).await;
    let link = job["result"]["links"]["arrow"]
        .as_str()
        .unwrap()
        .to_string();
    let expires =
        chrono::DateTime::parse_from_rfc3339(job["result"]["expires_at"].as_str().unwrap())
            .unwrap();
    let wait = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds() + 1500;
    tokio::time::sleep(Duration::from_millis(wait.max(0) as u64)).await;
    let response = Client::new().get(&link).send().await.unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
    // A fresh read of the job hands out fresh links.
    let fresh = app.job(job["id"].as_str().unwrap()).await;
    let link = fresh["result"]["links"]["arrow"].as_str().unwrap();
    assert_eq!(status(Client::new().get(link)).await, 200);
}

/// This machine's address on its default route (not loopback); `None` without one.
fn outward_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("8.8.8.8:53").ok()?; // no packet is sent: this only picks a route
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback()).then_some(ip)
}

/// Without keys, only loopback clients are served; once a key exists, a keyed client is
/// served from anywhere.
async fn no_keys_means_loopback_only(backend: Backend) {
    let Some(outward) = outward_address() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the loopback-only test: this machine needs a non-loopback address"
        );
        eprintln!("SKIPPED: no non-loopback address here to test loopback-only serving from");
        return;
    };
    let listen = |s: &mut rusk::config::Settings| s.listen = "0.0.0.0:0".parse().unwrap();
    let app = spawn_configured(backend, Role::Serve, listen).await;
    let port = app.base.rsplit(':').next().unwrap();
    let from_outside = format!("http://{outward}:{port}");
    let response = Client::new()
        .get(format!("{from_outside}/v1/jobs"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rusk keys create"),
        "{body}"
    );
    assert_eq!(
        status(Client::new().get(format!("{from_outside}/healthz"))).await,
        200
    );
    let loopback = app.base.replace("0.0.0.0", "127.0.0.1");
    assert_eq!(
        status(Client::new().get(format!("{loopback}/v1/jobs"))).await,
        200
    );

    let (key, _) = create_key(&app.settings, "remote");
    let keyed = client_with_key(&key);
    assert_eq!(
        status(keyed.get(format!("{from_outside}/v1/jobs"))).await,
        200
    );
}

crate::on_both_backends!(
    keys_separate_tenants,
    links_expire,
    no_keys_means_loopback_only
);

/// A model `app`'s tenant trains is invisible to `other`: not listed, 404, and refused (422)
/// as the model of `other`'s predict job.
async fn check_models_are_the_tenants(app: &TestApp, other: &Client) {
    let rows: String = (0..12).map(|i| format!("{i},{}\n", 2 * i + 1)).collect();
    app.write("m.csv", &format!("x,y\n{rows}"));
    let job = app
        .run(
            &json!({"sources": {"m": {"format": "csv", "path": "m.csv"}}, "steps": [],
                     "ml": {"task": "fit", "estimator": "linear_regression", "target": "y"}}),
        )
        .await;
    let model = job["result"]["ml"]["model_id"].as_str().unwrap();
    let own = app.get_json("/v1/models").await;
    assert_eq!(own["models"][0]["id"], model);
    let theirs = json_of(other.get(app.url("/v1/models"))).await;
    assert_eq!(theirs["models"], json!([]));
    let path = format!("/v1/models/{model}");
    assert_eq!(status(other.get(app.url(&path))).await, 404);
    assert_eq!(status(app.client.get(app.url(&path))).await, 200);
    let predict = json!({"sources": {"m": {"format": "csv", "path": "m.csv"}}, "steps": [],
                         "ml": {"task": "predict", "model": model}});
    let response = other
        .post(app.url("/v1/jobs"))
        .json(&predict)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["details"]["path"], "ml.model", "{body}");
}

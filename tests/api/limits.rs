//! Every bound gives a clear 4xx, never a crash or a hang.

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(limits_are_clear_errors);

async fn limits_are_clear_errors(app: TestApp) {
    app.write("t.csv", "a\n1\n");
    // Body over 1 MiB: 413 with a JSON error. Only just over, so the whole body fits in the
    // loopback socket buffers: a server that answers before reading it all closes the
    // connection, and a client still writing a much larger body would see that instead.
    let big = format!(
        r#"{{"sources": {{"t": {{"format": "csv", "path": "t.csv"}}}}, "sql": "SELECT a FROM t", "name": "{}"}}"#,
        "x".repeat((1 << 20) + 1000)
    );
    // (Rarely the close still wins the race; then the request is sent again.)
    let mut response = None;
    for _ in 0..5 {
        let sent = app
            .client
            .post(app.url("/v1/jobs"))
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await;
        if let Ok(answer) = sent {
            response = Some(answer);
            break;
        }
    }
    let response = response.expect("the server answers an oversized body");
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_large", "{body}");

    // Nesting deeper than the JSON parser allows: 400.
    let deep = format!(
        r#"{{"sources": {{}}, "name": {}1{}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let response = app.post_job(&deep).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json", "{body}");

    // A timeout beyond a week: 422 naming the field.
    let long = json!({"sources": {"t": {"format": "csv", "path": "t.csv"}},
                      "sql": "SELECT a FROM t", "timeout_s": 10_000_000});
    let (status, body) = app.post_json("/v1/jobs", &long).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["details"]["path"], "timeout_s");

    // Previews are bounded.
    let job = app
        .run(&json!({"sources": {"t": {"format": "csv", "path": "t.csv"}}, "sql": "SELECT a FROM t"}))
        .await;
    let id = job["id"].as_str().unwrap();
    let url = app.url(&format!("/v1/jobs/{id}/result?format=json&limit=1000001"));
    let (status, _, body) = app.get_bytes(&url).await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    let (status, body) = app
        .post_json(
            "/v1/inspect",
            &json!({"source": {"format": "csv", "path": "t.csv"}, "n": 1_000_000}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(app.jobs().await.len() == 1, "only the one good job exists");
}

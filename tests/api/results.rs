//! Result downloads: formats by parameter and by `Accept`, and row windows.

use serde_json::{Value, json};

use crate::helpers::{TestApp, read_arrow_stream, read_parquet};
use crate::on_both_stores;

on_both_stores!(formats_and_windows);

async fn formats_and_windows(app: TestApp) {
    let mut csv = String::from("n,word\n");
    for n in 0..250 {
        csv.push_str(&format!("{n},w{n}\n"));
    }
    app.write("numbers.csv", &csv);
    // Several files, so windows cross file boundaries.
    let job = app
        .run(&json!({
            "sources": {"t": {"format": "csv", "path": "numbers.csv"}},
            "steps": [{"op": "sort", "by": "n"}],
            "output": {"partition_size": "1KB"}
        }))
        .await;
    let id = job["id"].as_str().unwrap();
    assert!(
        job["result"]["files"].as_array().unwrap().len() > 1,
        "{job}"
    );

    let all = app.result_json(id, "").await;
    let ns: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["n"].as_i64().unwrap())
        .collect();
    assert_eq!(ns, (0..250).collect::<Vec<i64>>());

    let window = app.result_json(id, "&offset=95&limit=20").await;
    let ns: Vec<i64> = window
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["n"].as_i64().unwrap())
        .collect();
    assert_eq!(ns, (95..115).collect::<Vec<i64>>());
    assert_eq!(window[0]["word"], "w95");

    let past_the_end = app.result_json(id, "&offset=1000").await;
    assert_eq!(past_the_end, json!([]));

    let (status, content_type, body) = app
        .get_bytes(&app.url(&format!("/v1/jobs/{id}/result?format=csv&limit=3")))
        .await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"));
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        "n,word\n0,w0\n1,w1\n2,w2\n"
    );

    let by_accept = |accept: &'static str| {
        let request = app
            .client
            .get(app.url(&format!("/v1/jobs/{id}/result?offset=10&limit=5")))
            .header("accept", accept);
        async move { request.send().await.unwrap() }
    };
    let arrow = by_accept("application/vnd.apache.arrow.stream").await;
    assert_eq!(
        arrow.headers()["content-type"],
        "application/vnd.apache.arrow.stream"
    );
    let batches = read_arrow_stream(&arrow.bytes().await.unwrap());
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 5);
    let parquet = by_accept("application/vnd.apache.parquet, */*;q=0.1").await;
    assert_eq!(
        parquet.headers()["content-type"],
        "application/vnd.apache.parquet"
    );
    let batches = read_parquet(parquet.bytes().await.unwrap());
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 5);
    let json_by_default = by_accept("*/*").await;
    assert_eq!(
        json_by_default.headers()["content-type"],
        "application/json"
    );

    let bad = app
        .client
        .get(app.url(&format!("/v1/jobs/{id}/result?format=xlsx")))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_parameter");
}

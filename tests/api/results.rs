//! Result downloads: formats by parameter and by `Accept`, and row windows.

use serde_json::{Value, json};

use crate::helpers::{TestApp, read_arrow_stream, read_parquet};
use crate::on_both_stores;

on_both_stores!(
    formats_and_windows,
    csv_and_json_lines_results,
    arrow_results_stream_their_stored_bytes
);

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

/// `output.format` csv and json store text files, as Dask's `to_csv`/`to_json` write them,
/// and are still served in every format and by windows; `single_file` gives one file.
async fn csv_and_json_lines_results(app: TestApp) {
    let mut csv = String::from("n,word,when\n");
    for n in 0..120 {
        csv.push_str(&format!("{n},w{n},2026-01-{:02}\n", n % 28 + 1));
    }
    app.write("numbers.csv", &csv);
    let spec = |output: Value| {
        json!({
            "sources": {"t": {"format": "csv", "path": "numbers.csv",
                              "options": {"dtype": {"when": "date"}}}},
            "steps": [{"op": "sort", "by": "n"}],
            "output": output
        })
    };
    let csv_job = app
        .run(&spec(json!({"format": "csv", "partition_size": "1KB"})))
        .await;
    let files = csv_job["result"]["files"].as_array().unwrap();
    assert!(files.len() > 1, "{csv_job}");
    let mut lines = Vec::new();
    for file in files {
        let (status, content_type, body) = app.get_bytes(file["url"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        assert!(content_type.starts_with("text/csv"), "{content_type}");
        let text = String::from_utf8(body.to_vec()).unwrap();
        let mut rows = text.lines();
        assert_eq!(rows.next(), Some("n,word,when"), "each file has its header");
        lines.extend(rows.map(str::to_string));
    }
    assert_eq!(lines.len(), 120);
    assert_eq!(lines[7], "7,w7,2026-01-08");

    let json_job = app
        .run(&spec(json!({"format": "json", "single_file": true})))
        .await;
    let files = json_job["result"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{json_job}");
    let (_, content_type, body) = app.get_bytes(files[0]["url"].as_str().unwrap()).await;
    assert_eq!(content_type, "application/x-ndjson");
    let records: Vec<Value> = std::str::from_utf8(&body)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(records.len(), 120);
    assert_eq!(
        records[3],
        json!({"n": 3, "word": "w3", "when": "2026-01-04"})
    );

    // Read back by the recorded schema, typed, whatever is asked for.
    for job in [&csv_job, &json_job] {
        let id = job["id"].as_str().unwrap();
        let window = app.result_json(id, "&offset=50&limit=2").await;
        assert_eq!(
            window,
            json!([{"n": 50, "word": "w50", "when": "2026-01-23"},
                   {"n": 51, "word": "w51", "when": "2026-01-24"}])
        );
        let (_, _, body) = app
            .get_bytes(job["result"]["links"]["parquet"].as_str().unwrap())
            .await;
        let batches = read_parquet(body);
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 120);
        assert_eq!(
            batches[0]
                .schema()
                .field_with_name("when")
                .unwrap()
                .data_type(),
            &arrow::datatypes::DataType::Date32
        );
    }
}

/// A result stored as Arrow IPC files downloads as an Arrow stream made of the files' own
/// bytes, with a `Content-Length`: the same rows and types as the batches decoded and encoded
/// again (what a window gets).
async fn arrow_results_stream_their_stored_bytes(app: TestApp) {
    let mut csv = String::from("n,word,x\n");
    for n in 0..250 {
        csv.push_str(&format!("{n},w{n},{}\n", f64::from(n) / 4.0));
    }
    app.write("numbers.csv", &csv);
    let job = app
        .run(&json!({
            "sources": {"t": {"format": "csv", "path": "numbers.csv"}},
            "steps": [{"op": "sort", "by": "n"}],
            "output": {"format": "arrow", "partition_size": "1KB"}
        }))
        .await;
    let id = job["id"].as_str().unwrap();
    assert!(
        job["result"]["files"].as_array().unwrap().len() > 1,
        "{job}"
    );
    let whole = app
        .client
        .get(app.url(&format!("/v1/jobs/{id}/result?format=arrow")))
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), 200);
    let length: usize = whole.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = whole.bytes().await.unwrap();
    assert_eq!(body.len(), length);
    let (_, _, window) = app
        .get_bytes(&app.url(&format!(
            "/v1/jobs/{id}/result?format=arrow&offset=0&limit=1000"
        )))
        .await;
    let concat = |bytes: &[u8]| {
        let batches = read_arrow_stream(bytes);
        arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
    };
    let (stored, decoded) = (concat(&body), concat(&window));
    assert_eq!(stored.num_rows(), 250);
    assert_eq!(stored, decoded);
}

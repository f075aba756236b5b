//! Object stores over the real S3 protocol: a `moto` S3 server on loopback (from the Python
//! venv that CI installs), a CSV glob read from one bucket, results written to another.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rusk::app::Role;
use serde_json::json;

use crate::data;
use crate::helpers::{Backend, TestApp, read_parquet, spawn_configured};

/// A moto S3 server, stopped on drop.
pub struct S3Server {
    child: Child,
    pub endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `moto_server` beside `RUSK_PYTHON` (or on PATH). Missing it is a loud skip on a
/// developer's machine and a failure in CI.
pub async fn start_s3() -> S3Server {
    let program = match std::env::var("RUSK_PYTHON") {
        Ok(python) => std::path::Path::new(&python).with_file_name("moto_server"),
        Err(_) => "moto_server".into(),
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&program)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(e) => panic!("cannot start {program:?} ({e}): pip install 'moto[server]'"),
    };
    let server = S3Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let start = Instant::now();
    while reqwest::get(&server.endpoint).await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "moto did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server
}

pub async fn put(client: &reqwest::Client, url: String, body: String) {
    let response = client.put(&url).body(body).send().await.unwrap();
    assert!(
        response.status().is_success(),
        "PUT {url}: {}",
        response.status()
    );
}

async fn app_on(s3: &S3Server) -> TestApp {
    let endpoint = s3.endpoint.clone();
    spawn_configured(Backend::Sqlite, Role::Serve, |settings| {
        settings.results_url = Some("s3://results/rusk".into());
        settings.store_env = Some(
            [
                ("AWS_ENDPOINT", endpoint.as_str()),
                ("AWS_ALLOW_HTTP", "true"),
                ("AWS_ACCESS_KEY_ID", "test"),
                ("AWS_SECRET_ACCESS_KEY", "test"),
                ("AWS_REGION", "us-east-1"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .to_vec(),
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server beside RUSK_PYTHON (pip install 'moto[server]'): run with --include-ignored"]
async fn csv_glob_from_a_bucket_and_results_to_a_bucket() {
    let s3 = start_s3().await;
    let client = reqwest::Client::new();
    for bucket in ["data", "results"] {
        put(&client, format!("{}/{bucket}", s3.endpoint), String::new()).await;
    }
    let groups = data::logs(3, 400, 50);
    for (i, group) in groups.iter().enumerate() {
        put(
            &client,
            format!("{}/data/logs/large-data-{i}.csv", s3.endpoint),
            data::to_csv(group),
        )
        .await;
    }
    put(
        &client,
        format!("{}/data/logs/_SUCCESS", s3.endpoint),
        String::new(),
    )
    .await;
    let rows: Vec<data::LogRow> = groups.into_iter().flatten().collect();
    let app = app_on(&s3).await;

    let spec =
        data::seed_spec().replace("logs/large-data-*.csv", "s3://data/logs/large-data-*.csv");
    let job = app.run(&spec).await;
    let (_, _, body) = app
        .get_bytes(job["result"]["links"]["parquet"].as_str().unwrap())
        .await;
    data::assert_seed_result(&read_parquet(body), &data::seed_answer(&rows));
    assert_eq!(job["progress"]["rows_read"], rows.len());

    // The result files are objects in the results bucket, under the configured prefix.
    let listing = client
        .get(format!(
            "{}/results?list-type=2&prefix=rusk/results/",
            s3.endpoint
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let id = job["id"].as_str().unwrap();
    assert!(
        listing.contains(&format!("rusk/results/{id}/1/part-00000.parquet")),
        "{listing}"
    );

    // `files[].url` are presigned by the store: they download straight from the bucket.
    let file_url = job["result"]["files"][0]["url"].as_str().unwrap();
    assert!(
        file_url.starts_with(&s3.endpoint) && file_url.contains("X-Amz-Signature="),
        "{file_url}"
    );
    let (status, _, direct) = app.get_bytes(file_url).await;
    assert_eq!(status, 200);
    data::assert_seed_result(&read_parquet(direct), &data::seed_answer(&rows));

    // A directory URL reads every object under it but markers; inspect works on buckets too.
    let (status, inspected) = app
        .post_json(
            "/v1/inspect",
            &json!({"source": {"format": "csv", "path": "s3://data/logs"}, "n": 2}),
        )
        .await;
    assert_eq!(status, 200, "{inspected}");
    assert_eq!(inspected["files"], 3, "{inspected}");
    assert_eq!(inspected["head"][0]["user_id"], rows[0].user_id);

    let missing = app
        .post_job(&json!({"sources": {"l": {"format": "csv", "path": "s3://data/nothing/*.csv"}}, "sql": "SELECT 1"}))
        .await;
    assert_eq!(missing.status(), 422);

    // An earlier result in the results bucket is a source by its job id.
    let chained = app
        .run(&json!({
            "sources": {"r": {"format": "parquet", "path": format!("job://{id}")}},
            "sql": "SELECT count(*) AS n FROM r"
        }))
        .await;
    let counted = app.result_json(chained["id"].as_str().unwrap(), "").await;
    assert_eq!(counted[0]["n"], data::seed_answer(&rows).len());
}

/// `output.path` in a bucket: the guide's CSV to Parquet conversion lands there, `append`
/// adds a second day, nothing staged is left, and the dataset is a source for the next job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server beside RUSK_PYTHON (pip install 'moto[server]'): run with --include-ignored"]
async fn a_dataset_written_to_a_bucket_and_appended_to() {
    let s3 = start_s3().await;
    let client = reqwest::Client::new();
    for bucket in ["results", "processed-data"] {
        put(&client, format!("{}/{bucket}", s3.endpoint), String::new()).await;
    }
    let app = app_on(&s3).await;
    let days = data::logs(2, 300, 40);
    for (day, rows) in days.iter().enumerate() {
        app.write(&format!("days/{day}.csv"), &data::to_csv(rows));
    }
    let day = |n: usize, mode: &str| {
        json!({
            "sources": {"logs": {"format": "csv", "path": format!("days/{n}.csv")}},
            "steps": [],
            "output": {"format": "parquet", "compression": "snappy", "partition_size": "8KB",
                       "path": "s3://processed-data/dataset.parquet", "mode": mode}
        })
    };
    let first = app.run(&day(0, "error")).await;
    assert!(
        first["result"]["files"].as_array().unwrap().len() > 1,
        "{first}"
    );
    assert_eq!(
        first["result"]["files"][0]["path"],
        "s3://processed-data/dataset.parquet/part-00000.parquet"
    );
    // Not empty now: `error` refuses, `append` adds.
    assert_eq!(app.post_job(&day(1, "error")).await.status(), 422);
    let second = app.run(&day(1, "append")).await;
    assert_eq!(second["state"], "succeeded", "{second}");

    let listing = client
        .get(format!("{}/processed-data?list-type=2", s3.endpoint))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!listing.contains("_rusk_staging"), "{listing}");
    let second_id = second["id"].as_str().unwrap().replace('-', "");
    assert!(
        listing.contains(&format!("dataset.parquet/part-{second_id}-00000.parquet")),
        "{listing}"
    );

    let both = app
        .run(&json!({
            "sources": {"d": {"format": "parquet", "path": "s3://processed-data/dataset.parquet"}},
            "sql": "SELECT count(*) AS n, sum(click_count) AS clicks FROM d"
        }))
        .await;
    let counted = app.result_json(both["id"].as_str().unwrap(), "").await;
    let clicks: i64 = days.iter().flatten().map(|r| r.click_count).sum();
    assert_eq!(counted[0]["n"], 600);
    assert_eq!(counted[0]["clicks"], clicks);
    // The job's own links read the files from the bucket.
    let (status, _, body) = app
        .get_bytes(first["result"]["links"]["parquet"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        read_parquet(body)
            .iter()
            .map(|b| b.num_rows())
            .sum::<usize>(),
        300
    );
}

//! Fault injection with real processes on a real Postgres: one `rusk api` and three
//! `rusk worker`s, one of them killed with SIGKILL every 2 s and restarted, and their Postgres
//! server (a private one) crashed and restarted, down for about 2 s, while jobs run and while
//! jobs are submitted. Every job must succeed with the right answer, and no two attempts of a
//! job may overlap.
//!
//! `RUSK_FAULT_JOBS=10000` runs it with that many tiny jobs instead of 24 one-second ones.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::postgres_server::PostgresServer;

const WORKERS: usize = 3;

fn job_count() -> u64 {
    std::env::var("RUSK_FAULT_JOBS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(24)
}

/// Processes killed when the test ends, however it ends.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// sum(k % 7) for k in 0..n, worked out here rather than by the engine.
fn expected(n: u64) -> u64 {
    (n / 7) * 21 + (n % 7) * (n % 7).saturating_sub(1) / 2
}

/// Every job's state and attempt count, page by page.
async fn list_all(client: &reqwest::Client, base: &str) -> BTreeMap<String, (String, i64)> {
    let mut all = BTreeMap::new();
    let mut cursor = String::new();
    loop {
        let page: Value = get(client, format!("{base}/v1/jobs?limit=1000{cursor}")).await;
        for job in page["jobs"].as_array().unwrap() {
            let state = job["state"].as_str().unwrap().to_string();
            all.insert(
                job["id"].as_str().unwrap().to_string(),
                (state, job["attempts"].as_i64().unwrap()),
            );
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return all,
        }
    }
}

/// Whether every job has ended, in one listing.
async fn all_ended(client: &reqwest::Client, base: &str) -> bool {
    list_all(client, base)
        .await
        .values()
        .all(|(state, _)| state != "queued" && state != "running")
}

async fn get(client: &reqwest::Client, url: String) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the Postgres server binaries (initdb, pg_ctl): run with --include-ignored"]
async fn killed_workers_lose_nothing_and_never_overlap() {
    let server = PostgresServer::start();
    let database_url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let (data_dir, data_root) = (dir.path().join("data"), dir.path().join("root"));
    std::fs::create_dir_all(&data_root).unwrap();
    std::fs::write(data_root.join("t.csv"), "a\n1\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let spawn = |role: &str| {
        Command::new(env!("CARGO_BIN_EXE_rusk"))
            .arg(role)
            .env("DATABASE_URL", &database_url)
            .env("RUSK_DATA_DIR", &data_dir)
            .env("RUSK_DATA_ROOT", &data_root)
            .env("RUSK_LISTEN", format!("127.0.0.1:{port}"))
            .env("RUSK_LEASE_TTL", "2")
            .env("RUSK_SLOTS", "1")
            .env("RUSK_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut processes = Processes(vec![spawn("api")]);
    let client = reqwest::Client::new();
    let start = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the api did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..WORKERS {
        processes.0.push(spawn("worker"));
    }

    // Submit while the faults happen; a POST refused during the database cut is retried with
    // the same Idempotency-Key, so it cannot make a second job.
    let count = job_count();
    let submitter = {
        let (client, base) = (client.clone(), base.clone());
        tokio::spawn(async move {
            let mut jobs = BTreeMap::new();
            for i in 0..count {
                // About a second each, or tiny when there are many.
                let n = if count > 100 {
                    1_000 + i
                } else {
                    100_000_000 + i * 1_000
                };
                let spec = json!({
                    "sources": {"t": {"format": "csv", "path": "t.csv"}},
                    "sql": format!("SELECT sum(value % 7) AS n FROM range({n})"),
                    "max_attempts": 10
                });
                let job = loop {
                    let sent = client
                        .post(format!("{base}/v1/jobs"))
                        .header("Idempotency-Key", format!("job-{i}"))
                        .json(&spec)
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().is_success() => break r.json::<Value>().await.unwrap(),
                        _ => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                };
                jobs.insert(job["id"].as_str().unwrap().to_string(), n);
            }
            jobs
        })
    };

    // Kill a worker every 2 s, round robin, and start a fresh one; crash Postgres 3 s in and
    // start it again 2 s later; until no job is queued or running.
    let mut kills = 0;
    let mut next_kill = Instant::now() + Duration::from_secs(2);
    let started = Instant::now();
    let (down_at, up_at) = (Duration::from_secs(3), Duration::from_secs(5));
    let (mut down, mut restored) = (false, false);
    let mut outage = Duration::ZERO;
    loop {
        if !down && started.elapsed() >= down_at {
            server.down();
            down = true;
        }
        if down && !restored && started.elapsed() >= up_at {
            server.up();
            outage = started.elapsed() - down_at;
            restored = true;
        }
        // Read before the listing: a job submitted after it would not be counted.
        let submitted = submitter.is_finished();
        let mut unfinished = 0;
        for state in ["queued", "running"] {
            let url = format!("{base}/v1/jobs?state={state}&limit=1");
            let response = client.get(&url).send().await.unwrap();
            unfinished += match response.status().as_u16() {
                200 => {
                    let page: Value = response.json().await.unwrap();
                    page["jobs"].as_array().unwrap().len()
                }
                503 => 1, // Postgres is down
                other => panic!("GET {url}: {other} while Postgres restarts (503 expected)"),
            };
        }
        // The two listings are two queries: a job requeued between them (its worker killed)
        // is in neither, so one listing of every job confirms.
        if unfinished == 0 && restored && submitted && all_ended(&client, &base).await {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "jobs still unfinished"
        );
        if Instant::now() >= next_kill {
            let victim = 1 + kills % WORKERS;
            processes.0[victim].kill().unwrap();
            processes.0[victim].wait().unwrap();
            processes.0[victim] = spawn("worker");
            kills += 1;
            next_kill += Duration::from_secs(2);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let jobs = submitter.await.unwrap();
    let listed = list_all(&client, &base).await;
    assert_eq!(listed.len(), jobs.len(), "one job per submission");
    let (mut retries, mut worst_recovery) = (0, chrono::Duration::zero());
    for (i, (id, n)) in jobs.iter().enumerate() {
        let (state, attempts) = &listed[id];
        assert_eq!(state, "succeeded", "job {id}");
        // Every job when few; with many, every retried one and a sample of the rest.
        if jobs.len() > 100 && *attempts == 1 && i % 50 != 0 {
            continue;
        }
        let job: Value = get(&client, format!("{base}/v1/jobs/{id}")).await;
        let rows: Value = get(&client, format!("{base}/v1/jobs/{id}/result?format=json")).await;
        assert_eq!(rows, json!([{"n": expected(*n)}]), "job {id} (n = {n})");
        let log = job["attempt_log"].as_array().unwrap();
        assert_eq!(log.last().unwrap()["outcome"], "succeeded");
        for pair in log.windows(2) {
            let (ended, next_started) = (time(&pair[0]["ended_at"]), time(&pair[1]["started_at"]));
            assert!(ended <= next_started, "attempts of {id} overlap: {log:?}");
            worst_recovery = worst_recovery.max(next_started - time(&pair[0]["started_at"]));
            retries += 1;
        }
    }
    eprintln!(
        "fault injection: {} jobs, {kills} kills, Postgres down {:.1} s, {retries} retries, worst \
         attempt-start to next-attempt-start {} ms, {:.1} s in all",
        jobs.len(),
        outage.as_secs_f64(),
        worst_recovery.num_milliseconds(),
        started.elapsed().as_secs_f64()
    );
    assert!(kills >= 2, "the test must actually kill workers");
}

//! Task spans (`GET /v1/jobs/{id}/tasks`), the dashboard's feed and page, and a job's report:
//! the spans cover every partition of the executed plan and add up to the job's rows, and a
//! tenant sees only its own.

use std::collections::BTreeSet;

use rusk::app::Role;
use serde_json::Value;

use crate::data;
use crate::helpers::{TestApp, client_with_key, create_key, parse_events, spawn_configured};
use crate::on_both_stores;

on_both_stores!(spans_cover_the_plan_and_add_up_to_the_rows);

async fn spans_cover_the_plan_and_add_up_to_the_rows(app: TestApp) {
    let rows = data::write_logs(&app, 4, 2_000);
    let job = app.run(&data::seed_spec()).await;
    let id = job["id"].as_str().unwrap();
    let tasks = all_tasks(&app, id, 4).await;
    let plan = app.get_json(&format!("/v1/jobs/{id}/plan")).await;

    // One span per operator × partition of the executed plan, each ended, in order.
    let mut expected = BTreeSet::new();
    for node in plan["nodes"].as_array().unwrap() {
        for p in 0..node["partitions"].as_u64().unwrap() {
            expected.insert((
                node["id"].as_u64().unwrap(),
                p,
                node["operator"].to_string(),
            ));
        }
    }
    let seen: BTreeSet<(u64, u64, String)> = tasks
        .iter()
        .map(|t| {
            let node = t["node"].as_u64().unwrap();
            (
                node,
                t["partition"].as_u64().unwrap(),
                t["operator"].to_string(),
            )
        })
        .collect();
    assert_eq!(seen, expected, "{tasks:#?}");
    assert_eq!(seen.len(), tasks.len(), "one span per operator × partition");
    let worker = &job["attempt_log"][0]["worker"];
    for t in &tasks {
        assert_eq!(t["attempt"], 1);
        assert_eq!(&t["worker"], worker);
        let (start, end) = (time(&t["started_at"]), time(&t["ended_at"]));
        assert!(start <= end, "{t}");
    }
    // Each node's spans add up to what the plan says it produced; the top's to the result.
    for node in plan["nodes"].as_array().unwrap() {
        let n = node["id"].as_u64().unwrap();
        let sum: u64 = tasks
            .iter()
            .filter(|t| t["node"] == n)
            .map(|t| t["rows"].as_u64().unwrap())
            .sum();
        assert_eq!(Some(sum), node["metrics"]["output_rows"].as_u64(), "{node}");
    }
    let top: u64 = tasks
        .iter()
        .filter(|t| t["node"] == 0)
        .map(|t| t["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(top, job["progress"]["rows_out"].as_u64().unwrap());
    assert_eq!(top, job["result"]["rows"].as_u64().unwrap());
    let scanned: u64 = tasks
        .iter()
        .filter(|t| t["operator"] == "DataSourceExec")
        .map(|t| t["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(scanned, rows.len() as u64);

    // A page in one go equals the pages walked; a bad cursor is refused.
    let whole = app.get_json(&format!("/v1/jobs/{id}/tasks")).await;
    assert_eq!(whole["tasks"].as_array().unwrap(), &tasks);
    assert!(whole["next_cursor"].is_null());
    let (status, _) = get(&app, &format!("/v1/jobs/{id}/tasks?cursor=nope")).await;
    assert_eq!(status, 400);
    let only = app
        .get_json(&format!("/v1/jobs/{id}/tasks?attempt=2"))
        .await;
    assert_eq!(only["tasks"], serde_json::json!([]));
}

/// An attempt cut off (here by its timeout) ends its open spans with it: none shows as
/// running after the job has failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_of_a_cut_off_attempt_end_with_it() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
    data::write_logs(&app, 1, 10);
    let mut spec = data::endless_spec();
    spec["timeout_s"] = 2.into();
    let job = app.wait(&app.submit(&spec).await).await;
    assert_eq!(job["error"]["code"], "timeout", "{job}");
    let id = job["id"].as_str().unwrap();
    let tasks = all_tasks(&app, id, 1000).await;
    assert!(!tasks.is_empty(), "the attempt ran operators");
    for t in &tasks {
        assert!(!t["ended_at"].is_null(), "still running: {t}");
        assert!(time(&t["started_at"]) <= time(&t["ended_at"]), "{t}");
    }
}

fn time(v: &Value) -> chrono::DateTime<chrono::Utc> {
    v.as_str().unwrap().parse().unwrap()
}

async fn get(app: &TestApp, path: &str) -> (u16, String) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Every span, walking pages of `limit`.
async fn all_tasks(app: &TestApp, id: &str, limit: u32) -> Vec<Value> {
    let mut tasks = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get_json(&format!("/v1/jobs/{id}/tasks?limit={limit}{cursor}"))
            .await;
        tasks.extend(page["tasks"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return tasks,
        }
    }
}

/// The first event of a stream that does not end.
async fn first_event(response: reqwest::Response) -> (String, Value) {
    let mut response = response;
    let mut body = String::new();
    while !body.contains("\n\n") {
        let chunk = response.chunk().await.unwrap().expect("an event");
        body.push_str(&String::from_utf8_lossy(&chunk));
    }
    parse_events(&body).remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_the_page_and_the_report_show_only_the_tenants_jobs() {
    let mut app = spawn_configured(crate::helpers::Backend::Sqlite, Role::Serve, |_| {}).await;
    data::write_logs(&app, 2, 500);
    let (alpha, _) = create_key(&app.settings, "alpha");
    let (beta, _) = create_key(&app.settings, "beta");
    app.client = client_with_key(&beta);
    let theirs = app.run(&data::seed_spec()).await;
    let theirs = theirs["id"].as_str().unwrap().to_string();
    app.client = client_with_key(&alpha);
    let job = app.run(&data::seed_spec()).await;
    let id = job["id"].as_str().unwrap();

    // The page: no data, no key needed, nothing fetched from elsewhere.
    let page = reqwest::get(app.url("/dashboard")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("<canvas") && html.contains("/v1/dashboard/events"));
    for outside in ["src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(!html.contains(outside), "the page loads {outside}…");
    }

    // The feed needs a key, lists the tenant's jobs only, and carries the job's spans.
    let anonymous = reqwest::get(app.url("/v1/dashboard/events")).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let feed = app
        .client
        .get(app.url(&format!("/v1/dashboard/events?job={id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(feed.headers()["content-type"], "text/event-stream");
    let (kind, snapshot) = first_event(feed).await;
    assert_eq!(kind, "snapshot");
    let listed: Vec<&str> = snapshot["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![id]);
    assert_eq!(snapshot["job"]["id"], id);
    assert_eq!(snapshot["job"]["state"], "succeeded");
    let tasks = app.get_json(&format!("/v1/jobs/{id}/tasks")).await;
    assert_eq!(snapshot["tasks"], tasks["tasks"]);
    let workers = snapshot["workers"].as_array().unwrap();
    assert!(!workers.is_empty());
    assert!(workers[0]["load"]["memory_reserved"].is_u64(), "{snapshot}");
    let other = app
        .client
        .get(app.url(&format!("/v1/dashboard/events?job={theirs}")))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404, "another tenant's job is not there");

    // The report: one HTML file with the job's data inlined and nothing to fetch.
    let report = app
        .client
        .get(app.url(&format!("/v1/jobs/{id}/report")))
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), 200);
    let html = report.text().await.unwrap();
    let start = html.find("type=\"application/json\">").unwrap() + 24;
    let end = start + html[start..].find("</script>").unwrap();
    let data: Value = serde_json::from_str(&html[start..end]).unwrap();
    assert_eq!(data["job"]["id"], id);
    assert_eq!(data["tasks"], tasks["tasks"]);
    assert_eq!(
        data["plan"],
        app.get_json(&format!("/v1/jobs/{id}/plan")).await
    );
    assert!(!html.contains("src=\"http") && !html.contains(&theirs));
    let (status, _) = get(&app, &format!("/v1/jobs/{theirs}/report")).await;
    assert_eq!(status, 404);
}

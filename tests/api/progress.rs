//! Progress on the job and as Server-Sent Events, checked against the input files' own
//! row counts and sizes.

use crate::data;
use crate::helpers::{TestApp, parse_events};
use crate::on_both_stores;

on_both_stores!(progress_and_events);

async fn progress_and_events(app: TestApp) {
    let rows = data::write_logs(&app, 4, 500);
    let input_bytes: u64 = (0..4)
        .map(|i| {
            std::fs::metadata(app.root.join(format!("logs/large-data-{i}.csv")))
                .unwrap()
                .len()
        })
        .sum();
    let id = app.submit(&data::seed_spec()).await;

    let response = app
        .client
        .get(app.url(&format!("/v1/jobs/{id}/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let events = parse_events(&response.text().await.unwrap());
    let (kind, first) = &events[0];
    assert_eq!(kind, "state");
    assert!(["queued", "running", "succeeded"].contains(&first["state"].as_str().unwrap()));
    let (kind, last) = events.last().unwrap();
    assert_eq!(kind, "state");
    assert_eq!(
        last["state"], "succeeded",
        "the stream ends with the terminal state"
    );
    let states: Vec<&str> = events
        .iter()
        .map(|(_, j)| j["state"].as_str().unwrap())
        .collect();
    let mut deduped = states.clone();
    deduped.dedup();
    let order = ["queued", "running", "succeeded"];
    assert!(
        deduped
            .windows(2)
            .all(|w| order.iter().position(|s| *s == w[0]) < order.iter().position(|s| *s == w[1])),
        "{states:?}"
    );

    let job = app.job(&id).await;
    let progress = &job["progress"];
    assert_eq!(progress["rows_read"], rows.len(), "{job}");
    assert_eq!(progress["rows_out"], job["result"]["rows"]);
    assert_eq!(progress["bytes_read"], input_bytes);
    assert!(progress["partitions_total"].as_u64().unwrap() >= 1);
    assert_eq!(progress["partitions_done"], progress["partitions_total"]);
    assert_eq!(&last["progress"], progress);

    let missing = app
        .client
        .get(app.url("/v1/jobs/0190b6a4-0000-7000-8000-000000000000/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

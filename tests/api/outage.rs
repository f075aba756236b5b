//! A Postgres outage, through a TCP proxy the test can cut: the API answers 503 with a JSON
//! error (never a 500 or a hang), and once Postgres is back nothing is lost and work goes on.

use rusk::app::Role;
use serde_json::Value;

use crate::data;
use crate::helpers::{Backend, Proxy, spawn_configured};

async fn expect_503(response: reqwest::Response) {
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Postgres: set DATABASE_URL, run with --include-ignored"]
async fn postgres_outage_gives_503_and_loses_nothing() {
    let real = std::env::var("DATABASE_URL").expect(crate::helpers::NEEDS_POSTGRES);
    let target = url::Url::parse(&real).unwrap();
    let host = format!(
        "{}:{}",
        target.host_str().unwrap(),
        target.port().unwrap_or(5432)
    );
    let proxy = Proxy::start(host).await;
    let app = spawn_configured(Backend::Postgres, Role::Serve, |settings| {
        settings.database_url = Some(proxy.url_for(settings.database_url.as_ref().unwrap()));
    })
    .await;
    let rows = data::write_logs(&app, 1, 50);
    let before = app.run(&data::seed_spec()).await;

    proxy.cut();
    expect_503(app.client.get(app.url("/readyz")).send().await.unwrap()).await;
    expect_503(app.post_job(&data::seed_spec()).await).await;
    let id = before["id"].as_str().unwrap();
    expect_503(
        app.client
            .get(app.url(&format!("/v1/jobs/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;

    proxy.restore();
    assert_eq!(app.job(id).await["state"], "succeeded", "nothing lost");
    let after = app.run(&data::seed_spec()).await;
    assert_eq!(after["result"]["rows"], data::seed_answer(&rows).len());
}

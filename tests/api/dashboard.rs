//! The dashboard in a real browser: headless Chromium (Debian's `chromium`, driven by
//! Playwright from `tests/py/dashboard_browser.py`) opens `/dashboard` with a tenant's key
//! while a multi-second job runs, and checks the progress bar, the task stream, the workers
//! panel, that another tenant's job is absent, the plan and the report opened from disk.
//! Screenshots go to `$CARGO_TARGET_TMPDIR/dashboard` (printed).

use rusk::app::Role;
use rusk::gpu::Selection;
use serde_json::json;

use crate::data;
use crate::helpers::{Backend, client_with_key, create_key, python_with, spawn_configured};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs RUSK_PYTHON with playwright and /usr/bin/chromium: run with --include-ignored"]
async fn the_dashboard_shows_a_running_job_to_its_tenant_only() {
    let python = python_with("playwright", "the dashboard browser test");
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "the dashboard browser test needs Debian's chromium at /usr/bin/chromium"
    );
    // A worker with the CPU stand-in device, so the workers panel has one to show.
    let mut app = spawn_configured(Backend::Sqlite, Role::Serve, |s| {
        s.gpus = Selection::TestStub
    })
    .await;
    data::write_logs(&app, 8, 250_000);
    let (alpha, _) = create_key(&app.settings, "alpha");
    let (beta, _) = create_key(&app.settings, "beta");
    app.client = client_with_key(&beta);
    let theirs = app.run(&data::seed_spec()).await;
    app.client = client_with_key(&alpha);
    // Every row of the files meets 1500 generated ones as the files stream past: seconds of
    // work, with the scan's progress moving all along.
    let spec = json!({
        "name": "spend-by-user",
        "sources": {"logs": {"format": "csv", "path": "logs/large-data-*.csv"}},
        "sql": "SELECT l.user_id, sum(l.subscription_cost + l.add_on_cost + r.value) AS spend, \
                count(*) AS n FROM range(1500) r CROSS JOIN logs l WHERE l.status = 'active' \
                GROUP BY l.user_id ORDER BY spend DESC"
    });
    let spec_file = app.root.join("spec.json");
    std::fs::write(&spec_file, spec.to_string()).unwrap();

    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/dashboard_browser.py");
    let run = tokio::process::Command::new(python)
        .arg(script)
        .args([&app.base, &alpha])
        .arg(&spec_file)
        .arg(theirs["id"].as_str().unwrap())
        .arg(&out)
        .output()
        .await
        .expect("python runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    println!("{said}\nscreenshots in {}", out.display());
    assert!(run.status.success(), "the browser check failed:\n{said}");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let id = stdout.lines().last().expect("the job's id").trim();
    let job = app.wait(id).await;
    assert_eq!(job["state"], "succeeded", "{job}");
}

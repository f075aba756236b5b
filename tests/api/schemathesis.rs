//! Schemathesis generates requests from `/openapi.json` (valid and invalid) and checks that
//! none gets a 5xx and every answer matches the document.

use std::process::Command;

use rusk::app::Role;

use crate::helpers::{Backend, create_key, python_with, spawn_configured};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs RUSK_PYTHON with schemathesis: run with --include-ignored"]
async fn generated_requests_never_get_a_server_error() {
    let python = python_with("schemathesis", "the schemathesis run");
    let app = spawn_configured(Backend::Sqlite, Role::Serve, |_| {}).await;
    app.write("t.csv", "a,b\n1,x\n2,y\n");
    let (key, _) = create_key(&app.settings, "fuzz");
    let base = app.base.clone();
    // Schemathesis keeps a cache in its working directory: not in the checkout.
    let scratch = tempfile::tempdir().unwrap();
    let cwd = scratch.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .current_dir(cwd)
            .args([
                "-c",
                "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
            ])
            .arg("run")
            .arg(format!("{base}/openapi.json"))
            .args(["--checks", "not_a_server_error,status_code_conformance"])
            .args([
                "--max-examples",
                "30",
                "--workers",
                "1",
                "--request-timeout",
                "20",
            ])
            .args(["--generation-deterministic", "--no-color"])
            // The dashboard's feed is a stream that does not end: every call would time out.
            .args(["--exclude-path", "/v1/dashboard/events"])
            .args(["-H", &format!("Authorization: Bearer {key}")])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{report}");
    assert!(output.status.success(), "schemathesis found failures");
}

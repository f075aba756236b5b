//! The seed pipeline's Arrow and Parquet results, opened by pyarrow and compared with what
//! pandas computes on the same files (tests/py/seed_parity.py).

use std::process::Command;

use crate::data;
use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(needs "needs RUSK_PYTHON with pandas and pyarrow (and Postgres): run with --include-ignored": pandas_agrees_with_the_seed_pipeline);

fn python() -> String {
    crate::helpers::python_with("pandas, pyarrow", "the pandas parity test")
}

async fn pandas_agrees_with_the_seed_pipeline(app: TestApp) {
    let python = python();
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

/// shift, diff, pct_change, cumsum/cummax/cummin, cumcount, rank, nlargest/nsmallest, rolling,
/// ewm, groupby transform, resample, map, melt, explode, pivot_table, get_dummies, merge_asof and
/// CSV times in a zone against pandas on files with nulls, ties and shuffled rows
/// (tests/py/steps_parity.py).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs RUSK_PYTHON with pandas and pyarrow: run with --include-ignored"]
async fn pandas_agrees_with_the_row_order_and_reshaping_steps() {
    let python = python();
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/steps_parity.py");
    let mut command = Command::new(python);
    command.arg(script).arg(&app.base).arg(&app.root);
    tokio::task::spawn_blocking(move || {
        crate::helpers::run_checked("the pandas comparison", &mut command)
    })
    .await
    .unwrap();
}

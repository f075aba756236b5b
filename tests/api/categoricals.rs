//! Categorical (dictionary-typed) inputs, as pandas `category` columns arrive in Parquet:
//! every benchmark pipeline, every output format and every download, read by pandas, pyarrow
//! and polars, gives the values that plain string inputs give, and categories stay
//! categories (tests/py/categoricals.py drives the app over HTTP).

use std::process::Command;

use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(needs "needs RUSK_PYTHON with pandas, pyarrow and polars (and Postgres): run with --include-ignored": categoricals_round_trip_in_every_format);

async fn categoricals_round_trip_in_every_format(app: TestApp) {
    let python = crate::helpers::python_with("pandas, pyarrow, polars", "the categoricals test");
    let output = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/py/categoricals.py"
        ))
        .arg(&app.base)
        .arg(&app.root)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "categoricals do not round-trip:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    print!("{}", String::from_utf8_lossy(&output.stdout));
}

//! Deterministic test data, and the seed pipeline's answer computed here by hand, independently
//! of the engine under test.

use std::collections::BTreeMap;

use arrow::array::{Array, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::DataType;

pub const HEADER: &str =
    "user_id,status,subscription_cost,add_on_cost,session_duration,click_count";
const STATUSES: [&str; 3] = ["active", "inactive", "trial"];

#[derive(Debug, Clone)]
pub struct LogRow {
    pub user_id: i64,
    pub status: &'static str,
    pub subscription_cost: f64,
    pub add_on_cost: f64,
    pub session_duration: f64,
    pub click_count: i64,
}

/// A small linear congruential generator: the same rows on every machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, modulus: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % modulus
    }
}

/// `files` groups of `rows` log rows for `users` distinct users.
pub fn logs(files: usize, rows: usize, users: u64) -> Vec<Vec<LogRow>> {
    let mut rng = Lcg(42);
    (0..files)
        .map(|_| {
            (0..rows)
                .map(|_| LogRow {
                    user_id: rng.next(users) as i64,
                    status: STATUSES[rng.next(3) as usize],
                    subscription_cost: rng.next(10_000) as f64 / 100.0,
                    add_on_cost: rng.next(2_000) as f64 / 100.0,
                    session_duration: rng.next(36_000) as f64 / 10.0,
                    click_count: rng.next(100) as i64,
                })
                .collect()
        })
        .collect()
}

pub fn to_csv(rows: &[LogRow]) -> String {
    let mut out = format!("{HEADER}\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{:.2},{:.2},{:.1},{}\n",
            r.user_id,
            r.status,
            r.subscription_cost,
            r.add_on_cost,
            r.session_duration,
            r.click_count
        ));
    }
    out
}

/// Writes the files as `logs/large-data-{i}.csv` under the app's data root; returns all rows.
pub fn write_logs(app: &crate::helpers::TestApp, files: usize, rows: usize) -> Vec<LogRow> {
    let groups = logs(files, rows, 50);
    for (i, group) in groups.iter().enumerate() {
        app.write(&format!("logs/large-data-{i}.csv"), &to_csv(group));
    }
    groups.into_iter().flatten().collect()
}

/// Writes `batch` as one Parquet file under the data root.
pub fn write_parquet(app: &crate::helpers::TestApp, name: &str, batch: &RecordBatch) {
    let file = std::fs::File::create(app.root.join(name)).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

/// Per active user: (sum of total spend, mean session duration, max clicks).
pub fn seed_answer(rows: &[LogRow]) -> BTreeMap<i64, (f64, f64, i64)> {
    let mut acc: BTreeMap<i64, (f64, f64, usize, i64)> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.status == "active") {
        let e = acc.entry(r.user_id).or_insert((0.0, 0.0, 0, i64::MIN));
        e.0 += r.subscription_cost + r.add_on_cost;
        e.1 += r.session_duration;
        e.2 += 1;
        e.3 = e.3.max(r.click_count);
    }
    acc.into_iter()
        .map(|(k, (total, duration, n, clicks))| (k, (total, duration / n as f64, clicks)))
        .collect()
}

/// A column as floats (integers converted), nulls as `None`.
pub fn floats(batches: &[RecordBatch], name: &str) -> Vec<Option<f64>> {
    let mut out = Vec::new();
    for batch in batches {
        let column = batch
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name:?} in {:?}", batch.schema()));
        let column = arrow::compute::cast(column, &DataType::Float64).unwrap();
        let column = column.as_any().downcast_ref::<Float64Array>().unwrap();
        out.extend((0..column.len()).map(|i| column.is_valid(i).then(|| column.value(i))));
    }
    out
}

pub fn strings(batches: &[RecordBatch], name: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for batch in batches {
        let column = batch.column_by_name(name).unwrap();
        let column = arrow::compute::cast(column, &DataType::Utf8).unwrap();
        let column = column.as_any().downcast_ref::<StringArray>().unwrap();
        out.extend(
            (0..column.len()).map(|i| column.is_valid(i).then(|| column.value(i).to_string())),
        );
    }
    out
}

pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Checks result batches of the seed pipeline against the hand-computed answer.
pub fn assert_seed_result(batches: &[RecordBatch], expected: &BTreeMap<i64, (f64, f64, i64)>) {
    let names: Vec<String> = batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        ["user_id", "total_spend", "session_duration", "click_count"]
    );
    let users = floats(batches, "user_id");
    let totals = floats(batches, "total_spend");
    let durations = floats(batches, "session_duration");
    let clicks = floats(batches, "click_count");
    assert_eq!(users.len(), expected.len(), "one row per active user");
    for i in 0..users.len() {
        let user = users[i].unwrap() as i64;
        let (total, duration, max_clicks) = expected[&user];
        assert!(
            close(totals[i].unwrap(), total),
            "user {user}: total {:?} vs {total}",
            totals[i]
        );
        assert!(
            close(durations[i].unwrap(), duration),
            "user {user}: mean duration"
        );
        assert_eq!(
            clicks[i].unwrap() as i64,
            max_clicks,
            "user {user}: max clicks"
        );
    }
}

/// The seed pipeline as JSON text (key order matters: it orders the result's columns).
pub fn seed_spec() -> &'static str {
    r#"{
        "name": "user-metrics",
        "sources": {"logs": {"format": "csv", "path": "logs/large-data-*.csv"}},
        "steps": [
            {"op": "filter", "expr": "status = 'active'"},
            {"op": "assign", "columns": {"total_spend": "subscription_cost + add_on_cost"}},
            {"op": "groupby", "by": ["user_id"],
             "agg": {"total_spend": "sum", "session_duration": "mean", "click_count": "max"}}
        ]
    }"#
}

/// A job that would run for many minutes (an aggregate over 10^11 generated rows) but yields
/// often, so cancelling it takes effect at once. Needs the logs written (one source).
pub fn endless_spec() -> serde_json::Value {
    serde_json::json!({
        "sources": {"logs": {"format": "csv", "path": "logs/*.csv"}},
        "sql": "SELECT sum(value % 7) AS n FROM range(100000000000)"
    })
}

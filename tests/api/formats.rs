//! Every source format (CSV, Parquet, newline-delimited JSON, Arrow IPC), lists of paths, and
//! CSV options, in one job whose files were written by the arrow and parquet crates directly.

use std::sync::Arc;

use arrow::array::{Float64Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(reads_every_source_format);

fn batch(ids: Vec<i64>, xs: Vec<f64>) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("x", DataType::Float64, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(Float64Array::from(xs)),
        ],
    )
    .unwrap()
}

fn write_parquet(app: &TestApp, name: &str, batch: &RecordBatch) {
    let file = std::fs::File::create(app.root.join(name)).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

async fn reads_every_source_format(app: TestApp) {
    write_parquet(&app, "p1.parquet", &batch(vec![1, 2], vec![10.0, 20.0]));
    write_parquet(&app, "p2.parquet", &batch(vec![3], vec![30.0]));
    let file = std::fs::File::create(app.root.join("a.arrow")).unwrap();
    let arrow = batch(vec![1, 2, 3], vec![0.5, 0.25, 0.125]);
    let mut writer = arrow::ipc::writer::FileWriter::try_new(file, &arrow.schema()).unwrap();
    writer.write(&arrow).unwrap();
    writer.finish().unwrap();
    app.write(
        "j.json",
        "{\"id\": 1, \"x\": 100}\n{\"id\": 2, \"x\": 200}\n{\"id\": 3, \"x\": 300}\n",
    );
    app.write(
        "c.tsv",
        "id\tlabel\tscore\n1\tone\t1.5\n2\tNA\tNA\n3\tthree\t3\n",
    );

    let job = app
        .run(&json!({
            "sources": {
                "p": {"format": "parquet", "path": ["p1.parquet", "p2.parquet"]},
                "a": {"format": "arrow", "path": "a.arrow"},
                "j": {"format": "json", "path": "j.json"},
                "c": {"format": "csv", "path": "c.tsv",
                      "options": {"delimiter": "\t", "null_values": ["NA"], "dtype": {"id": "int32"}}}
            },
            "sql": "SELECT p.id, p.x + a.x + j.x AS total, c.label, c.score, arrow_typeof(c.id) AS id_type \
                    FROM p JOIN a ON p.id = a.id JOIN j ON p.id = j.id JOIN c ON p.id = c.id \
                    ORDER BY p.id"
        }))
        .await;
    let rows = app.result_json(job["id"].as_str().unwrap(), "").await;
    assert_eq!(
        rows,
        json!([
            {"id": 1, "total": 110.5, "label": "one", "score": 1.5, "id_type": "Int32"},
            {"id": 2, "total": 220.25, "id_type": "Int32"},
            {"id": 3, "total": 330.125, "label": "three", "score": 3.0, "id_type": "Int32"}
        ])
    );
}

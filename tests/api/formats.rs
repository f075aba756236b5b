//! Every source format (CSV, Parquet, newline-delimited JSON, Arrow IPC), lists of paths, and
//! CSV options, in one job whose files were written by the arrow and parquet crates directly;
//! and the types results are written with.

use std::sync::Arc;

use arrow::array::{AsArray, Float64Array, Int64Array, RecordBatch, StringViewArray};
use arrow::datatypes::{DataType, Field, Schema};
use serde_json::json;

use crate::data;
use crate::helpers::{TestApp, read_arrow_stream, read_parquet};
use crate::on_both_stores;

on_both_stores!(
    reads_every_source_format,
    strings_come_back_plain_and_append_to_views
);

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

async fn reads_every_source_format(app: TestApp) {
    data::write_parquet(&app, "p1.parquet", &batch(vec![1, 2], vec![10.0, 20.0]));
    data::write_parquet(&app, "p2.parquet", &batch(vec![3], vec![30.0]));
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

/// DataFusion reads Parquet strings as `Utf8View`; results hold them as plain `Utf8`, in the
/// recorded schema, the stored files and every download. A dataset whose files hold views (as
/// Rusk wrote them before) still takes appends.
async fn strings_come_back_plain_and_append_to_views(app: TestApp) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("label", DataType::Utf8View, true),
    ]));
    let long = "a label longer than the twelve bytes a view holds inline";
    let views = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(StringViewArray::from(vec![Some("de"), None, Some(long)])),
        ],
    )
    .unwrap();
    data::write_parquet(&app, "labels.parquet", &views);
    std::fs::create_dir_all(app.root.join("events")).unwrap();
    data::write_parquet(&app, "events/old.parquet", &views);

    let spec = |output: serde_json::Value| {
        json!({"sources": {"l": {"format": "parquet", "path": "labels.parquet"}},
               "sql": "SELECT id, label, arrow_typeof(label) AS engine_type FROM l ORDER BY id",
               "output": output})
    };
    let job = app.run(&spec(json!({"format": "arrow"}))).await;
    let id = job["id"].as_str().unwrap();
    let types: Vec<(&str, &str)> = job["result"]["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        types,
        [("id", "Int64"), ("label", "Utf8"), ("engine_type", "Utf8")]
    );
    let expected = [Some("de"), None, Some(long)];
    for format in ["arrow", "parquet"] {
        let url = app.url(&format!("/v1/jobs/{id}/result?format={format}"));
        let (status, _, body) = app.get_bytes(&url).await;
        assert_eq!(status, 200, "{format}");
        let batches = match format {
            "arrow" => read_arrow_stream(&body),
            _ => read_parquet(body),
        };
        for batch in &batches {
            let column = batch.column_by_name("label").unwrap();
            assert_eq!(column.data_type(), &DataType::Utf8, "{format}");
        }
        let labels = data::strings(&batches, "label");
        assert_eq!(labels, expected.map(|l| l.map(String::from)), "{format}");
        // The engine itself worked on views: only the written result is plain.
        let engine_types = batches[0].column_by_name("engine_type").unwrap();
        assert_eq!(engine_types.as_string::<i32>().value(0), "Utf8View");
    }

    let append = json!({"sources": {"l": {"format": "parquet", "path": "labels.parquet"}},
                        "sql": "SELECT id, label FROM l",
                        "output": {"path": "events", "mode": "append"}});
    let appended = app.run(&append).await;
    assert_eq!(appended["result"]["rows"], 3, "{appended}");
    let mut rows = 0;
    for entry in std::fs::read_dir(app.root.join("events")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "parquet") {
            let bytes = std::fs::read(&path).unwrap();
            rows += read_parquet(bytes.into())
                .iter()
                .map(|b| b.num_rows())
                .sum::<usize>();
        }
    }
    assert_eq!(rows, 6, "the old file's rows and the appended ones");
}

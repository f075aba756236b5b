//! Hive-style partitioned results (`output.partition_on`): rows are split by the values of the
//! partition columns into directories named `column=value`, and those columns are left out of
//! the files (as Dask and pyarrow write datasets). Reading a result back puts them in again
//! from each file's directory names.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, UInt32Array};
use arrow::compute::{cast, take};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use crate::spec::NULL_PARTITION;

/// Characters escaped in directory names (pyarrow's `segment_encoding="uri"` decodes them).
const ESCAPED: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'/')
    .add(b'\\')
    .add(b'=')
    .add(b'%')
    .add(b':')
    .add(b'*')
    .add(b'?')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'|')
    .add(b'#');

/// Whether a column of this type can name directories.
fn partitionable(data_type: &DataType) -> bool {
    match data_type {
        DataType::Dictionary(_, values) => partitionable(values),
        t => {
            t.is_integer()
                || matches!(
                    t,
                    DataType::Utf8
                        | DataType::LargeUtf8
                        | DataType::Utf8View
                        | DataType::Boolean
                        | DataType::Date32
                )
        }
    }
}

/// Refuses partition columns the result does not have, cannot name a directory with, or that
/// would leave the files without a column. The message is for the caller.
pub fn check_partition_on(schema: &Schema, on: &[String]) -> Result<(), String> {
    for name in on {
        let field = schema.field_with_name(name).map_err(|_| {
            let names: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
            format!("unknown column {name:?}; the result has {names:?}")
        })?;
        if !partitionable(field.data_type()) {
            return Err(format!(
                "column {name:?} is {}; partition by strings, integers, booleans or dates",
                field.data_type()
            ));
        }
    }
    if on.len() >= schema.fields().len() {
        return Err("at least one column must stay in the files".into());
    }
    Ok(())
}

/// How a result's batches are split into directories.
pub(super) struct Split {
    /// Indices of the partition columns, in `partition_on` order.
    on: Vec<usize>,
    /// The files' schema: the other columns.
    data: SchemaRef,
    /// The result's schema as recorded and read back: data columns, then partition columns.
    full: SchemaRef,
}

impl Split {
    pub(super) fn new(schema: &SchemaRef, on: &[String]) -> Result<Split, String> {
        check_partition_on(schema, on)?;
        let on: Vec<usize> = on
            .iter()
            .filter_map(|name| schema.index_of(name).ok())
            .collect();
        let data: Vec<Field> = (0..schema.fields().len())
            .filter(|i| !on.contains(i))
            .map(|i| schema.field(i).clone())
            .collect();
        let mut full = data.clone();
        full.extend(
            on.iter()
                .map(|&i| schema.field(i).clone().with_nullable(true)),
        );
        Ok(Split {
            on,
            data: Arc::new(Schema::new(data)),
            full: Arc::new(Schema::new(full)),
        })
    }

    pub(super) fn data_schema(&self) -> &SchemaRef {
        &self.data
    }

    pub(super) fn full_schema(&self) -> &SchemaRef {
        &self.full
    }

    /// The batch's rows by directory (`a=1/b=x`), without the partition columns.
    pub(super) fn split(
        &self,
        batch: &RecordBatch,
    ) -> Result<Vec<(String, RecordBatch)>, ArrowError> {
        let texts = self
            .on
            .iter()
            .map(|&i| cast(batch.column(i), &DataType::Utf8))
            .collect::<Result<Vec<ArrayRef>, _>>()?;
        let texts: Vec<&StringArray> = texts.iter().map(|t| t.as_string::<i32>()).collect();
        let mut rows: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for row in 0..batch.num_rows() {
            let dir = self
                .on
                .iter()
                .zip(&texts)
                .map(|(&i, text)| segment(batch.schema().field(i).name(), text, row))
                .collect::<Vec<_>>()
                .join("/");
            rows.entry(dir).or_default().push(row as u32);
        }
        let data_columns: Vec<usize> = (0..batch.num_columns())
            .filter(|i| !self.on.contains(i))
            .collect();
        rows.into_iter()
            .map(|(dir, indices)| {
                let indices = UInt32Array::from(indices);
                let columns = data_columns
                    .iter()
                    .map(|&i| take(batch.column(i).as_ref(), &indices, None))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((dir, RecordBatch::try_new(self.data.clone(), columns)?))
            })
            .collect()
    }
}

fn segment(name: &str, text: &StringArray, row: usize) -> String {
    let value = if text.is_null(row) {
        NULL_PARTITION.to_string()
    } else {
        utf8_percent_encode(text.value(row), ESCAPED).to_string()
    };
    format!("{}={value}", utf8_percent_encode(name, ESCAPED))
}

/// The `column=value` directory names in a file's key; `None` values are nulls.
pub(super) fn values_in(key: &str) -> Vec<(String, Option<String>)> {
    let Some((dirs, _file)) = key.rsplit_once('/') else {
        return Vec::new();
    };
    dirs.split('/')
        .filter_map(|segment| segment.split_once('='))
        .map(|(name, value)| {
            let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().to_string();
            let value = (value != NULL_PARTITION).then(|| decode(value));
            (decode(name), value)
        })
        .collect()
}

/// `schema` without the columns a file's key names (what the file itself holds).
pub(super) fn file_schema(schema: &SchemaRef, key: &str) -> SchemaRef {
    let named = values_in(key);
    if named.is_empty() {
        return schema.clone();
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .filter(|f| !named.iter().any(|(name, _)| name == f.name()))
        .map(|f| f.as_ref().clone())
        .collect();
    Arc::new(Schema::new(fields))
}

/// A batch read from a file, with the columns its key names put back, as `schema` has them.
pub(super) fn attach(
    batch: RecordBatch,
    key: &str,
    schema: &SchemaRef,
) -> Result<RecordBatch, ArrowError> {
    if batch.num_columns() == schema.fields().len() {
        return Ok(batch);
    }
    let named = values_in(key);
    let rows = batch.num_rows();
    let columns = schema
        .fields()
        .iter()
        .map(|field| {
            if let Some(column) = batch.column_by_name(field.name()) {
                return Ok(column.clone());
            }
            let value = named
                .iter()
                .find(|(name, _)| name == field.name())
                .and_then(|(_, value)| value.clone());
            let text: ArrayRef = Arc::new(StringArray::from(vec![value; rows]));
            cast(&text, field.data_type())
        })
        .collect::<Result<Vec<_>, ArrowError>>()?;
    RecordBatch::try_new(schema.clone(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;

    #[test]
    fn splits_by_directory_and_reads_back() {
        let batch = RecordBatch::try_from_iter([
            (
                "n",
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])) as ArrayRef,
            ),
            (
                "country",
                Arc::new(StringArray::from(vec![
                    Some("de"),
                    Some("a/b c"),
                    None,
                    Some("de"),
                ])),
            ),
        ])
        .unwrap();
        let split = Split::new(&batch.schema(), &["country".to_string()]).unwrap();
        let parts = split.split(&batch).unwrap();
        let dirs: Vec<&str> = parts.iter().map(|(d, _)| d.as_str()).collect();
        assert_eq!(
            dirs,
            [
                "country=__HIVE_DEFAULT_PARTITION__",
                "country=a%2Fb%20c",
                "country=de"
            ]
        );
        let (dir, de) = &parts[2];
        assert_eq!(de.num_columns(), 1);
        assert_eq!(de.num_rows(), 2);
        let key = format!("results/j/1/{dir}/part-00000.parquet");
        let back = attach(de.clone(), &key, split.full_schema()).unwrap();
        assert_eq!(back.column(1).as_string::<i32>().value(1), "de");
        let key = format!("x/{}/part-00000.parquet", parts[1].0);
        assert_eq!(
            values_in(&key),
            [("country".to_string(), Some("a/b c".to_string()))]
        );
        let key = format!("x/{}/part-00000.parquet", parts[0].0);
        assert_eq!(values_in(&key), [("country".to_string(), None)]);
    }

    #[test]
    fn refuses_unknown_or_unfit_columns() {
        let schema = Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("x", DataType::Float64, false),
        ]);
        assert!(
            check_partition_on(&schema, &["m".into()])
                .unwrap_err()
                .contains("unknown")
        );
        assert!(
            check_partition_on(&schema, &["x".into()])
                .unwrap_err()
                .contains("Float64")
        );
        assert!(check_partition_on(&schema, &["n".into()]).is_ok());
    }
}

//! Strings and binaries are written as Arrow's plain `Utf8` and `Binary`, not as the view types
//! DataFusion reads Parquet into (`Utf8View`, `BinaryView`). A view costs 16 bytes a value
//! however short the string, so a result of short strings (a status, a country code) is a
//! fifth larger as views: more to write, to download and to convert in pandas
//! (`bench/results`, the six-key group-by: 723 MB as views, 566 MB plain). Plain types are also
//! what every Arrow reader understands, pandas' own files included; views are newer
//! (arrow-js, older pyarrow).
//! The engine keeps its views (faster to filter and hash); the writer converts each batch.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::error::ArrowError;

/// The type a column of `data_type` is written as, where it differs.
fn plain_type(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::Utf8View => Some(DataType::Utf8),
        DataType::BinaryView => Some(DataType::Binary),
        _ => None,
    }
}

/// `schema` with its view columns plain.
pub fn plain_schema(schema: &Schema) -> Schema {
    super::retyped(schema, plain_type).unwrap_or_else(|| schema.clone())
}

/// `batch` with its view columns cast to their plain types (the batch itself when it has none).
pub fn plain_batch(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let Some(schema) = super::retyped(batch.schema_ref(), plain_type) else {
        return Ok(batch.clone());
    };
    let columns = batch
        .columns()
        .iter()
        .map(|column| match plain_type(column.data_type()) {
            Some(t) => arrow::compute::cast(column, &t),
            None => Ok(column.clone()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(Arc::new(schema), columns)
}

/// The schema a result of `schema` is written and recorded with: plain strings, and
/// categoricals keyed by `int32`.
pub fn written_schema(schema: &SchemaRef) -> SchemaRef {
    let written = |t: &DataType| plain_type(t).or_else(|| super::categoricals::unified_type(t));
    super::retyped(schema, written).map_or_else(|| schema.clone(), Arc::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray, BinaryViewArray, Int64Array, StringViewArray};

    #[test]
    fn views_are_written_plain_with_their_values_and_nulls() {
        let long = "a string longer than twelve bytes, kept out of line";
        let batch = RecordBatch::try_from_iter([
            (
                "s",
                Arc::new(StringViewArray::from(vec![Some("de"), None, Some(long)])) as _,
            ),
            (
                "b",
                Arc::new(BinaryViewArray::from(vec![
                    Some(&b"\x00\x01"[..]),
                    Some(&b""[..]),
                    None,
                ])) as _,
            ),
            ("n", Arc::new(Int64Array::from(vec![1, 2, 3])) as _),
        ])
        .unwrap();
        let plain = plain_batch(&batch).unwrap();
        let types: Vec<_> = plain
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        assert_eq!(types, [DataType::Utf8, DataType::Binary, DataType::Int64]);
        let s = plain.column(0).as_string::<i32>();
        assert_eq!(s.iter().collect::<Vec<_>>(), [Some("de"), None, Some(long)]);
        let b = plain.column(1).as_binary::<i32>();
        assert_eq!(
            b.iter().collect::<Vec<_>>(),
            [Some(&b"\x00\x01"[..]), Some(&b""[..]), None]
        );
        assert_eq!(plain.column(2).len(), 3);
        assert_eq!(
            written_schema(&batch.schema()).as_ref(),
            plain.schema().as_ref()
        );
    }
}

//! Reading back CSV and JSON-lines result files, by the schema recorded with the result:
//! categorical columns are parsed as their values and keyed again.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use bytes::Bytes;

use super::BATCH_ROWS;
use crate::spec::OutputFormat;

/// Every row of one text file, as batches of `schema`.
pub(super) fn read(
    format: OutputFormat,
    schema: &SchemaRef,
    bytes: Bytes,
) -> Result<Vec<RecordBatch>, ArrowError> {
    let plain = plain_schema(schema);
    let cursor = std::io::Cursor::new(bytes);
    let batches: Vec<RecordBatch> = match format {
        OutputFormat::Json => arrow::json::ReaderBuilder::new(plain)
            .with_batch_size(BATCH_ROWS)
            .build(cursor)?
            .collect::<Result<_, _>>()?,
        _ => arrow::csv::ReaderBuilder::new(plain)
            .with_header(true)
            .with_batch_size(BATCH_ROWS)
            .build(cursor)?
            .collect::<Result<_, _>>()?,
    };
    batches.iter().map(|b| retype(b, schema)).collect()
}

/// `schema` with categorical columns as their values' type.
fn plain_schema(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Dictionary(_, values) => f.as_ref().clone().with_data_type(*values.clone()),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

fn retype(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| arrow::compute::cast(column, field.data_type()))
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema.clone(), columns)
}

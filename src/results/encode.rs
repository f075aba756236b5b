//! Record batches to bytes in each format Rusk serves or stores, a batch at a time, so results
//! stream without being held whole in memory.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::ipc::writer::{FileWriter, StreamWriter};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as ParquetCompression, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::categoricals::Dictionaries;
use crate::spec::{Compression, OutputFormat};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Arrow IPC stream, what `format=arrow` serves.
    ArrowStream,
    /// Arrow IPC file (Feather v2), how `arrow` results are stored.
    ArrowFile,
    Parquet(Compression),
    /// One JSON array of row objects.
    Json,
    /// One JSON object per line (how `json` results are stored).
    JsonLines,
    /// CSV with a header row.
    Csv,
}

impl Encoding {
    /// How result files of `format` are written.
    pub fn stored(format: OutputFormat, compression: Option<Compression>) -> Encoding {
        match format {
            OutputFormat::Parquet => Encoding::Parquet(compression.unwrap_or(Compression::Snappy)),
            OutputFormat::Arrow => Encoding::ArrowFile,
            OutputFormat::Csv => Encoding::Csv,
            OutputFormat::Json => Encoding::JsonLines,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::ArrowStream => "application/vnd.apache.arrow.stream",
            Encoding::ArrowFile => "application/vnd.apache.arrow.file",
            Encoding::Parquet(_) => "application/vnd.apache.parquet",
            Encoding::Json => "application/json",
            Encoding::JsonLines => "application/x-ndjson",
            Encoding::Csv => "text/csv; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Encoding::ArrowStream => "arrows",
            Encoding::ArrowFile => "arrow",
            Encoding::Parquet(_) => "parquet",
            Encoding::Json | Encoding::JsonLines => "json",
            Encoding::Csv => "csv",
        }
    }
}

/// A `Write` whose bytes are taken out after each batch.
#[derive(Clone, Default)]
pub(super) struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    pub(super) fn take(&self) -> Bytes {
        let mut buf = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Bytes::from(std::mem::take(&mut *buf))
    }
}

impl Write for SharedBuf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut buf = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

enum Writer {
    ArrowStream(StreamWriter<SharedBuf>),
    ArrowFile(FileWriter<SharedBuf>),
    /// An Arrow file with categorical columns, held until it closes: a file may have one
    /// dictionary per column only (no replacements; polars reads no deltas), so it is written
    /// once every value is known.
    ArrowFileHeld {
        held: Vec<RecordBatch>,
        bytes: usize,
    },
    Parquet(ArrowWriter<SharedBuf>),
    Json(arrow::json::ArrayWriter<SharedBuf>),
    JsonLines(arrow::json::LineDelimitedWriter<SharedBuf>),
    Csv(arrow::csv::Writer<SharedBuf>),
}

pub struct Encoder {
    buf: SharedBuf,
    writer: Writer,
    dictionaries: Dictionaries,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot encode the result: {0}")]
pub struct EncodeError(String);

impl EncodeError {
    pub fn new(message: impl Into<String>) -> EncodeError {
        EncodeError(message.into())
    }
}

impl From<ArrowError> for EncodeError {
    fn from(e: ArrowError) -> EncodeError {
        EncodeError(e.to_string())
    }
}

impl From<parquet::errors::ParquetError> for EncodeError {
    fn from(e: parquet::errors::ParquetError) -> EncodeError {
        EncodeError(e.to_string())
    }
}

impl Encoder {
    pub fn new(encoding: Encoding, schema: &SchemaRef) -> Result<Encoder, EncodeError> {
        let buf = SharedBuf::default();
        let sink = buf.clone();
        let dictionaries = Dictionaries::new(schema)?;
        let schema = dictionaries.schema();
        // A stream resends a categorical column's dictionary when it has grown (readers
        // replace it; polars reads no delta dictionaries).
        let writer = match encoding {
            Encoding::ArrowStream => Writer::ArrowStream(StreamWriter::try_new(sink, schema)?),
            Encoding::ArrowFile if !dictionaries.is_noop() => Writer::ArrowFileHeld {
                held: Vec::new(),
                bytes: 0,
            },
            Encoding::ArrowFile => Writer::ArrowFile(FileWriter::try_new(sink, schema)?),
            Encoding::Parquet(compression) => Writer::Parquet(ArrowWriter::try_new(
                sink,
                schema.clone(),
                Some(parquet_properties(compression)),
            )?),
            Encoding::Json => Writer::Json(arrow::json::ArrayWriter::new(sink)),
            Encoding::JsonLines => Writer::JsonLines(arrow::json::LineDelimitedWriter::new(sink)),
            Encoding::Csv => Writer::Csv(arrow::csv::Writer::new(sink)),
        };
        Ok(Encoder {
            buf,
            writer,
            dictionaries,
        })
    }

    /// Encodes a batch and returns the bytes ready so far (Parquet holds a row group back).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<Bytes, EncodeError> {
        let batch = &self.dictionaries.unify(batch)?;
        match &mut self.writer {
            Writer::ArrowStream(w) => w.write(batch)?,
            Writer::ArrowFile(w) => w.write(batch)?,
            Writer::ArrowFileHeld { held, bytes } => {
                *bytes += Dictionaries::held_bytes(batch);
                held.push(batch.clone());
            }
            Writer::Parquet(w) => w.write(batch)?,
            Writer::Json(w) => w.write(batch)?,
            Writer::JsonLines(w) => w.write(batch)?,
            Writer::Csv(w) => w.write(batch)?,
        }
        Ok(self.buf.take())
    }

    /// Bytes encoded but not yet returned by `write` (Parquet's open row group).
    pub fn pending_bytes(&self) -> usize {
        match &self.writer {
            Writer::Parquet(w) => w.in_progress_size(),
            Writer::ArrowFileHeld { bytes, .. } => *bytes,
            _ => 0,
        }
    }

    /// Writes the trailer (footer, closing bracket) and returns the last bytes.
    pub fn finish(mut self) -> Result<Bytes, EncodeError> {
        match &mut self.writer {
            Writer::ArrowStream(w) => w.finish()?,
            Writer::ArrowFile(w) => w.finish()?,
            Writer::ArrowFileHeld { held, .. } => {
                let mut file = FileWriter::try_new(self.buf.clone(), self.dictionaries.schema())?;
                for batch in held.iter() {
                    file.write(&self.dictionaries.complete(batch)?)?;
                }
                file.finish()?;
            }
            Writer::Parquet(w) => {
                w.finish()?;
            }
            Writer::Json(w) => w.finish()?,
            Writer::JsonLines(w) => w.finish()?,
            Writer::Csv(_) => {}
        }
        Ok(self.buf.take())
    }
}

/// How Rusk writes Parquet, whichever encoder writes it.
pub(super) fn parquet_properties(compression: Compression) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(parquet_compression(compression))
        .build()
}

fn parquet_compression(c: Compression) -> ParquetCompression {
    match c {
        Compression::Snappy => ParquetCompression::SNAPPY,
        Compression::Zstd => ParquetCompression::ZSTD(ZstdLevel::default()),
        Compression::Gzip => ParquetCompression::GZIP(GzipLevel::default()),
        Compression::Lz4 => ParquetCompression::LZ4_RAW,
        Compression::None => ParquetCompression::UNCOMPRESSED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![1, 2])),
                Arc::new(StringArray::from(vec![Some("a"), None])),
            ],
        )
        .unwrap()
    }

    fn encode(encoding: Encoding, batches: &[RecordBatch]) -> Vec<u8> {
        let mut encoder = Encoder::new(encoding, &batch().schema()).unwrap();
        let mut out = Vec::new();
        for b in batches {
            out.extend_from_slice(&encoder.write(b).unwrap());
        }
        out.extend_from_slice(&encoder.finish().unwrap());
        out
    }

    #[test]
    fn json_is_an_array_of_records() {
        let text = String::from_utf8(encode(Encoding::Json, &[batch(), batch()])).unwrap();
        let rows: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(rows.as_array().unwrap().len(), 4);
        assert_eq!(rows[0]["id"], 1);
        assert_eq!(rows[0]["name"], "a");
    }

    #[test]
    fn empty_json_is_an_empty_array() {
        let text = String::from_utf8(encode(Encoding::Json, &[])).unwrap();
        let rows: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(rows, serde_json::json!([]));
    }

    #[test]
    fn csv_has_one_header() {
        let text = String::from_utf8(encode(Encoding::Csv, &[batch(), batch()])).unwrap();
        assert_eq!(text, "id,name\n1,a\n2,\n1,a\n2,\n");
    }

    #[test]
    fn arrow_stream_and_parquet_read_back() {
        let bytes = encode(Encoding::ArrowStream, &[batch(), batch()]);
        let reader = arrow::ipc::reader::StreamReader::try_new(&bytes[..], None).unwrap();
        let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(rows, 4);

        let bytes = Bytes::from(encode(Encoding::Parquet(Compression::Snappy), &[batch()]));
        let reader =
            parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes, 1024).unwrap();
        let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(rows, 2);
    }
}

//! Parquet result files with their columns encoded in parallel. Encoding is most of the cost
//! of writing Parquet (dictionary interning, RLE, compression), and one `ArrowWriter` does it
//! on one thread, so a job converting CSV to Parquet had one core encoding while the scan's
//! partitions waited for it. Here each batch's columns are encoded at once, each in a task of
//! its own on the current (the engine's) runtime, while the scan's tasks keep the other
//! threads busy; the row group is assembled, in column order, once it is full, so the file is
//! the same as `ArrowWriter` would write. `write` returns once every column has encoded the
//! batch, so the open row group's size is known exactly (result files are cut by size).

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;

use super::encode::{EncodeError, SharedBuf};

pub struct ParallelParquet {
    buf: SharedBuf,
    file: SerializedFileWriter<SharedBuf>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    max_rows: usize,
    row_group: Option<RowGroup>,
}

/// The row group being encoded: one writer per leaf column.
struct RowGroup {
    writers: Vec<ArrowColumnWriter>,
    rows: usize,
}

impl ParallelParquet {
    pub fn new(
        schema: &SchemaRef,
        props: WriterProperties,
    ) -> Result<ParallelParquet, EncodeError> {
        let buf = SharedBuf::default();
        let max_rows = props.max_row_group_row_count().unwrap_or(usize::MAX).max(1);
        // `ArrowWriter` sets up the file as it would write it (schema conversion, the Arrow
        // schema in the footer); from there the row groups are written here.
        let (file, factory) = ArrowWriter::try_new(buf.clone(), schema.clone(), Some(props))?
            .into_serialized_writer()?;
        Ok(ParallelParquet {
            buf,
            file,
            factory,
            schema: schema.clone(),
            max_rows,
            row_group: None,
        })
    }

    /// Encodes the batch's columns, and returns the bytes of any row group that filled up.
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<Bytes, EncodeError> {
        let mut start = 0;
        while start < batch.num_rows() {
            let room = self.max_rows - self.row_group.as_ref().map_or(0, |g| g.rows);
            let len = room.min(batch.num_rows() - start);
            self.encode(&batch.slice(start, len)).await?;
            start += len;
            if self
                .row_group
                .as_ref()
                .is_some_and(|g| g.rows >= self.max_rows)
            {
                self.flush().await?;
            }
        }
        Ok(self.buf.take())
    }

    async fn encode(&mut self, batch: &RecordBatch) -> Result<(), EncodeError> {
        let group = match &mut self.row_group {
            Some(group) => group,
            slot => slot.insert(RowGroup {
                // The next row group's index: how many the file already has.
                writers: self
                    .factory
                    .create_column_writers(self.file.flushed_row_groups().len())?,
                rows: 0,
            }),
        };
        let mut leaves = Vec::with_capacity(group.writers.len());
        for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
            leaves.extend(compute_leaves(field, column)?);
        }
        if leaves.len() != group.writers.len() {
            return Err(EncodeError::new("leaf columns and column writers differ"));
        }
        let writers = std::mem::take(&mut group.writers).into_iter().zip(leaves);
        group.writers = each_in_a_task(writers, |(mut writer, leaf)| {
            writer.write(&leaf)?;
            Ok(writer)
        })
        .await?;
        group.rows += batch.num_rows();
        Ok(())
    }

    /// Closes the open row group's columns and appends them to the file.
    async fn flush(&mut self) -> Result<(), EncodeError> {
        let Some(group) = self.row_group.take() else {
            return Ok(());
        };
        let chunks = each_in_a_task(group.writers, ArrowColumnWriter::close).await?;
        let mut row_group = self.file.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        Ok(())
    }

    /// Encoded bytes of the open row group, not yet returned by `write`.
    pub fn pending_bytes(&self) -> usize {
        self.row_group.as_ref().map_or(0, |group| {
            group
                .writers
                .iter()
                .map(ArrowColumnWriter::get_estimated_total_bytes)
                .sum()
        })
    }

    /// Writes the last row group and the footer, and returns the last bytes.
    pub async fn finish(mut self) -> Result<Bytes, EncodeError> {
        self.flush().await?;
        self.file.finish()?;
        Ok(self.buf.take())
    }
}

/// Runs `work` on every item, each in a task of its own, and returns the results in order.
async fn each_in_a_task<T, R>(
    items: impl IntoIterator<Item = T>,
    work: fn(T) -> Result<R, ParquetError>,
) -> Result<Vec<R>, EncodeError>
where
    T: Send + 'static,
    R: Send + 'static,
{
    let tasks: Vec<_> = items
        .into_iter()
        .map(|item| tokio::spawn(async move { work(item) }))
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        let result = task
            .await
            .map_err(|e| EncodeError::new(format!("a column's encoder failed: {e}")))?;
        results.push(result?);
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use arrow::array::{Int64Array, ListArray, StringArray};
    use arrow::datatypes::{DataType, Field, Int64Type, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    /// Three columns, one of them a list (so a field can have its own levels).
    fn batch(start: i64, rows: i64) -> RecordBatch {
        let ids = start..start + rows;
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
            Field::new(
                "tags",
                DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true))),
                true,
            ),
        ]));
        let names: StringArray = ids
            .clone()
            .map(|i| (i % 3 != 0).then(|| format!("n{}", i % 7)))
            .collect();
        let tags = ListArray::from_iter_primitive::<Int64Type, _, _>(
            ids.clone()
                .map(|i| (i % 4 != 0).then(|| (0..i % 3).map(move |t| Some(i * 10 + t)))),
        );
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values(ids)),
                Arc::new(names),
                Arc::new(tags),
            ],
        )
        .unwrap()
    }

    async fn encode(batches: &[RecordBatch], max_rows: usize) -> (Bytes, usize) {
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(max_rows))
            .build();
        let mut writer = ParallelParquet::new(&batches[0].schema(), props).unwrap();
        let mut out = Vec::new();
        let mut pending = 0;
        for b in batches {
            out.extend_from_slice(&writer.write(b).await.unwrap());
            pending = pending.max(writer.pending_bytes());
        }
        out.extend_from_slice(&writer.finish().await.unwrap());
        (Bytes::from(out), pending)
    }

    #[tokio::test]
    async fn reads_back_as_written_in_row_groups_of_the_set_size() {
        let batches = [batch(0, 250), batch(250, 1000), batch(1250, 5)];
        let (bytes, pending) = encode(&batches, 400).await;
        assert!(pending > 0, "the open row group's size is reported");
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap();
        let groups: Vec<i64> = reader
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(groups, vec![400, 400, 400, 55]);
        let read: Vec<RecordBatch> = reader.build().unwrap().map(|b| b.unwrap()).collect();
        let expected = arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
        let read = arrow::compute::concat_batches(&read[0].schema(), &read).unwrap();
        assert_eq!(read, expected);
    }

    #[tokio::test]
    async fn an_empty_file_keeps_its_schema() {
        let empty = batch(0, 0);
        let (bytes, _) = encode(std::slice::from_ref(&empty), 10).await;
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap();
        assert_eq!(reader.schema().fields(), empty.schema().fields());
        assert_eq!(reader.metadata().num_row_groups(), 0);
    }
}

//! Parquet result files with their columns encoded in parallel. Encoding is most of the cost
//! of writing Parquet (dictionary interning, RLE, compression), and one `ArrowWriter` does it
//! on one thread, so a job converting CSV to Parquet had one core encoding while the scan's
//! partitions waited for it. Here each column of the open row group is encoded by a task of
//! its own on the current (the engine's) runtime; the row group is assembled, in column order,
//! once it is full, so the file is the same as `ArrowWriter` would write. `write` returns once
//! every column has encoded the batch, so the open row group's size is known exactly (result
//! files are cut by size); meanwhile the scan's tasks keep the other threads busy.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowLeafColumn, ArrowRowGroupWriterFactory,
    compute_leaves,
};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::encode::{EncodeError, SharedBuf};

pub struct ParallelParquet {
    buf: SharedBuf,
    file: SerializedFileWriter<SharedBuf>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    max_rows: usize,
    row_group: Option<RowGroup>,
    /// Row groups already in the file; the next one's index.
    row_groups: usize,
}

/// The row group being encoded: one task per leaf column.
struct RowGroup {
    columns: Vec<ColumnTask>,
    rows: usize,
}

struct ColumnTask {
    leaves: mpsc::Sender<ArrowLeafColumn>,
    done: JoinHandle<Result<ArrowColumnChunk, ParquetError>>,
    /// Leaves handed to the task.
    sent: usize,
    /// Leaves the task has encoded, and the column's encoded size after them.
    progress: watch::Receiver<Progress>,
}

#[derive(Clone, Copy, Default)]
struct Progress {
    encoded: usize,
    bytes: usize,
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
            row_groups: 0,
        })
    }

    /// Hands the batch's columns to their tasks, and returns the bytes of any row group that
    /// filled up.
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<Bytes, EncodeError> {
        let mut start = 0;
        while start < batch.num_rows() {
            let room = self.max_rows - self.row_group.as_ref().map_or(0, |g| g.rows);
            let len = room.min(batch.num_rows() - start);
            self.send(&batch.slice(start, len)).await?;
            self.settle().await?;
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

    async fn send(&mut self, batch: &RecordBatch) -> Result<(), EncodeError> {
        let group = match &mut self.row_group {
            Some(group) => group,
            slot => slot.insert(RowGroup {
                columns: self
                    .factory
                    .create_column_writers(self.row_groups)?
                    .into_iter()
                    .map(ColumnTask::spawn)
                    .collect(),
                rows: 0,
            }),
        };
        let mut tasks = group.columns.iter_mut();
        for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
            for leaf in compute_leaves(field, column)? {
                let task = tasks
                    .next()
                    .ok_or_else(|| EncodeError::new("more leaf columns than column writers"))?;
                task.send(leaf).await?;
            }
        }
        group.rows += batch.num_rows();
        Ok(())
    }

    /// Waits until every column has encoded what it was sent.
    async fn settle(&mut self) -> Result<(), EncodeError> {
        if let Some(group) = &mut self.row_group {
            for column in &mut group.columns {
                column.settle().await?;
            }
        }
        Ok(())
    }

    /// Waits for the open row group's columns and appends them to the file.
    async fn flush(&mut self) -> Result<(), EncodeError> {
        let Some(group) = self.row_group.take() else {
            return Ok(());
        };
        let mut chunks = Vec::with_capacity(group.columns.len());
        for task in group.columns {
            chunks.push(task.finish().await?);
        }
        let mut row_group = self.file.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        self.row_groups += 1;
        Ok(())
    }

    /// Encoded bytes of the open row group, not yet returned by `write`.
    pub fn pending_bytes(&self) -> usize {
        self.row_group.as_ref().map_or(0, |group| {
            group
                .columns
                .iter()
                .map(|c| c.progress.borrow().bytes)
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

impl ColumnTask {
    fn spawn(mut writer: ArrowColumnWriter) -> ColumnTask {
        let (leaves, mut queue) = mpsc::channel::<ArrowLeafColumn>(1);
        let (report, progress) = watch::channel(Progress::default());
        let done = tokio::spawn(async move {
            let mut encoded = 0;
            while let Some(leaf) = queue.recv().await {
                writer.write(&leaf)?;
                encoded += 1;
                report.send_replace(Progress {
                    encoded,
                    bytes: writer.get_estimated_total_bytes(),
                });
            }
            writer.close()
        });
        ColumnTask {
            leaves,
            done,
            sent: 0,
            progress,
        }
    }

    async fn send(&mut self, leaf: ArrowLeafColumn) -> Result<(), EncodeError> {
        if self.leaves.send(leaf).await.is_err() {
            return Err(self.failure().await);
        }
        self.sent += 1;
        Ok(())
    }

    async fn settle(&mut self) -> Result<(), EncodeError> {
        let sent = self.sent;
        if self.progress.wait_for(|p| p.encoded >= sent).await.is_err() {
            return Err(self.failure().await);
        }
        Ok(())
    }

    /// Why the task stopped before it was told to: it failed.
    async fn failure(&mut self) -> EncodeError {
        match (&mut self.done).await {
            Ok(Err(e)) => e.into(),
            Ok(Ok(_)) => EncodeError::new("a column's encoder stopped early"),
            Err(e) => EncodeError::new(format!("a column's encoder failed: {e}")),
        }
    }

    async fn finish(self) -> Result<ArrowColumnChunk, EncodeError> {
        drop(self.leaves);
        match self.done.await {
            Ok(chunk) => Ok(chunk?),
            Err(e) => Err(EncodeError::new(format!("a column's encoder failed: {e}"))),
        }
    }
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

//! Result files: written to the object store under `results/{job}/{attempt}/` while a job runs,
//! then read back and served in any format, whole or as a window of rows.

mod categoricals;
mod destination;
mod encode;
mod ipc_stream;
mod links;
mod parquet_writer;
mod partitions;
mod plain_strings;
mod reencode;
mod text;

use std::path::Path;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::ipc::reader::FileReader;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ParquetRecordBatchReader;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

pub use destination::{Destination, DestinationError};
pub use encode::{EncodeError, Encoder, Encoding};
pub use ipc_stream::IpcStream;
pub use links::{LinkError, LinkSigner};
pub use partitions::check_partition_on;
pub use plain_strings::written_schema;
pub use reencode::reencode;

/// Where an attempt's executed plan is kept, beside its result files; `_` keeps it out of
/// every reader's listing of the result (Rusk's, pyarrow's, Dask's), as with `_SUCCESS`.
pub const PLAN_FILE: &str = "_plan.json";

/// Rows per batch when reading result files back.
const BATCH_ROWS: usize = 8192;

use crate::domain::{ColumnSchema, ModelInfo, StoredFile, StoredResult};
use crate::ml::Artifact;
use crate::objects::StoreConfig;
use crate::spec::{FileLayout, Output, OutputFormat};

#[derive(Debug, thiserror::Error)]
pub enum ResultError {
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error("cannot read result file: {0}")]
    Decode(String),
    #[error("cannot open the result directory {0}: {1}")]
    Setup(String, String),
    /// The result passed a limit of the job or the server.
    #[error("{0}")]
    TooLarge(String),
    /// The job's `output.path` cannot take the result (it is not empty, say).
    #[error("output.path: {0}")]
    Destination(String),
}

/// The most files one result may have (`npartitions` is capped at this too).
pub const MAX_RESULT_FILES: usize = crate::spec::MAX_OUTPUT_FILES as usize;

/// How much one job may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits {
    /// Bytes of all its result files together.
    pub max_bytes: u64,
    pub max_files: usize,
}

/// The object store that holds result files.
#[derive(Clone)]
pub struct ResultStore {
    store: Arc<dyn ObjectStore>,
    /// Key prefix, empty or ending in `/`.
    prefix: String,
    /// Presigns download URLs, where the store can.
    signer: Option<Arc<dyn Signer>>,
    /// How to open the stores of jobs' own destinations.
    stores: StoreConfig,
    /// What a key is below, for `location`: a local directory, or `scheme://bucket`.
    base: String,
}

impl ResultStore {
    /// Results as files under a local directory (the embedded default).
    pub fn local(dir: &Path, stores: &StoreConfig) -> Result<ResultStore, ResultError> {
        let setup = |e: &dyn std::fmt::Display| {
            ResultError::Setup(dir.display().to_string(), e.to_string())
        };
        std::fs::create_dir_all(dir).map_err(|e| setup(&e))?;
        let store = LocalFileSystem::new_with_prefix(dir).map_err(|e| setup(&e))?;
        let base = dir.canonicalize().map_err(|e| setup(&e))?;
        Ok(ResultStore {
            store: Arc::new(store),
            prefix: String::new(),
            signer: None,
            stores: stores.clone(),
            base: base.display().to_string(),
        })
    }

    /// Results under an object-store URL, e.g. `s3://bucket/rusk`.
    pub fn at_url(url: &str, stores: &StoreConfig) -> Result<ResultStore, ResultError> {
        let (store, path) = stores
            .open(url)
            .map_err(|e| ResultError::Setup(url.to_string(), e.to_string()))?;
        let prefix = match path.as_ref() {
            "" => String::new(),
            key => format!("{key}/"),
        };
        let signer = stores
            .signer(url)
            .map_err(|e| ResultError::Setup(url.to_string(), e.to_string()))?;
        let root = crate::objects::store_root(url)
            .map_err(|e| ResultError::Setup(url.to_string(), e.to_string()))?;
        let base = match root.scheme() {
            // Keys of a local store are absolute paths without their leading `/`.
            "file" => String::new(),
            _ => root.as_str().trim_end_matches('/').to_string(),
        };
        Ok(ResultStore {
            store,
            prefix,
            signer,
            stores: stores.clone(),
            base,
        })
    }

    /// Where the object `key` is, as a source names it: an absolute path or a URL.
    pub fn location(&self, key: &str) -> String {
        format!("{}/{key}", self.base)
    }

    /// The store that holds `result`'s files: this one, or the job's own destination.
    pub fn serving(&self, result: &StoredResult) -> Result<ResultStore, ResultError> {
        match &result.destination {
            None => Ok(self.clone()),
            Some(url) => ResultStore::at_url(url, &self.stores),
        }
    }

    /// A job's own destination (`output.path`), at a URL the engine has checked.
    pub fn destination(&self, url: &str) -> Result<Destination, ResultError> {
        Destination::open(url, &self.stores)
    }

    /// Where one attempt's result files are: `results/{job}/{attempt}`.
    fn attempt_dir(&self, job: Uuid, attempt: i32) -> String {
        format!("{}results/{job}/{attempt}", self.prefix)
    }

    fn model_key(&self, id: &str, part: &str) -> ObjectPath {
        ObjectPath::from(format!("{}models/{id}/{part}", self.prefix))
    }

    /// Deletes the files of a job's attempts but `keep` (all of them for `None`): those of
    /// a cancelled, failed, timed-out or superseded attempt are never read.
    pub async fn discard_attempts(
        &self,
        job: Uuid,
        keep: Option<i32>,
    ) -> Result<usize, ResultError> {
        let kept = keep.map(|attempt| format!("{}/", self.attempt_dir(job, attempt)));
        self.delete_under(&format!("{}results/{job}", self.prefix), kept)
            .await
    }

    /// Deletes one attempt's files.
    pub async fn discard_attempt(&self, job: Uuid, attempt: i32) -> Result<usize, ResultError> {
        self.delete_under(&self.attempt_dir(job, attempt), None)
            .await
    }

    /// Deletes every object under `prefix` but those under `kept`.
    async fn delete_under(&self, prefix: &str, kept: Option<String>) -> Result<usize, ResultError> {
        delete_where(&self.store, prefix, |key| {
            !kept.as_ref().is_some_and(|k| key.starts_with(k.as_str()))
        })
        .await
    }

    /// Keeps a small JSON file with an attempt's result files (the executed plan): it goes
    /// with them.
    pub async fn save_beside(
        &self,
        (job, attempt): (Uuid, i32),
        name: &str,
        body: Vec<u8>,
    ) -> Result<(), ResultError> {
        let key = ObjectPath::from(format!("{}/{name}", self.attempt_dir(job, attempt)));
        self.store.put(&key, body.into()).await?;
        Ok(())
    }

    /// A file `save_beside` kept, if it is there.
    pub async fn read_beside(
        &self,
        (job, attempt): (Uuid, i32),
        name: &str,
    ) -> Result<Option<Bytes>, ResultError> {
        let key = ObjectPath::from(format!("{}/{name}", self.attempt_dir(job, attempt)));
        match self.store.get(&key).await {
            Ok(found) => Ok(Some(found.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a model's artifact and record.
    pub async fn delete_model(&self, id: &str) -> Result<usize, ResultError> {
        if !valid_model_id(id) {
            return Ok(0);
        }
        self.delete_under(&format!("{}models/{id}", self.prefix), None)
            .await
    }

    /// Stores a trained model: `models/{id}/model.json`, and its record in `info.json` (from
    /// which the model table can be rebuilt).
    pub async fn save_model(&self, artifact: &Artifact) -> Result<(), ResultError> {
        let id = &artifact.info.id;
        let body = artifact
            .to_json()
            .map_err(|e| ResultError::Decode(e.to_string()))?;
        let info =
            serde_json::to_vec(&artifact.info).map_err(|e| ResultError::Decode(e.to_string()))?;
        // The model first: a model whose info exists can always be loaded.
        self.store
            .put(&self.model_key(id, "model.json"), body.into())
            .await?;
        self.store
            .put(&self.model_key(id, "info.json"), info.into())
            .await?;
        Ok(())
    }

    /// The whole model, for `predict`; the caller has found its record (`ModelStore`).
    pub async fn load_model(&self, id: &str) -> Result<Option<Artifact>, ResultError> {
        if !valid_model_id(id) {
            return Ok(None);
        }
        let bytes = match self.store.get(&self.model_key(id, "model.json")).await {
            Ok(found) => found.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Artifact::from_json(&bytes)
            .map(Some)
            .map_err(|e| ResultError::Decode(e.to_string()))
    }

    /// Every model record kept beside its model (`info.json`), to rebuild the model table.
    pub async fn model_records(&self) -> Result<Vec<ModelInfo>, ResultError> {
        let prefix = ObjectPath::from(format!("{}models", self.prefix));
        let listed: Vec<_> = self.store.list(Some(&prefix)).try_collect().await?;
        let mut models = Vec::new();
        for object in listed {
            if object.location.filename() != Some("info.json") {
                continue;
            }
            let bytes = self.store.get(&object.location).await?.bytes().await?;
            match serde_json::from_slice::<ModelInfo>(&bytes) {
                Ok(info) => models.push(info),
                Err(error) => {
                    tracing::warn!(%error, key = %object.location, "unreadable model record")
                }
            }
        }
        Ok(models)
    }

    /// A URL that downloads `file` straight from the object store until `ttl` passes;
    /// `None` where the store cannot presign.
    pub async fn presigned(
        &self,
        file: &StoredFile,
        ttl: std::time::Duration,
    ) -> Result<Option<String>, ResultError> {
        let Some(signer) = &self.signer else {
            return Ok(None);
        };
        let url = signer
            .signed_url(
                reqwest::Method::GET,
                &ObjectPath::from(file.key.as_str()),
                ttl,
            )
            .await?;
        Ok(Some(url.to_string()))
    }

    pub fn writer(
        &self,
        (job, attempt): (Uuid, i32),
        output: &Output,
        layout: FileLayout,
        schema: SchemaRef,
        limits: OutputLimits,
    ) -> Result<ResultWriter, ResultError> {
        ResultWriter::new(
            self.store.clone(),
            self.attempt_dir(job, attempt),
            output,
            layout,
            schema,
            limits,
        )
    }

    /// A stored file's bytes as a stream, for serving it unchanged.
    pub async fn raw(
        &self,
        file: &StoredFile,
    ) -> Result<impl Stream<Item = Result<Bytes, object_store::Error>> + use<>, ResultError> {
        let found = self.store.get(&ObjectPath::from(file.key.as_str())).await?;
        Ok(found.into_stream())
    }

    /// The result's rows from `offset`, at most `limit` of them, in file order. Only the files
    /// that overlap the window are opened, each when the stream reaches it.
    pub fn read(
        &self,
        result: &StoredResult,
        offset: u64,
        limit: Option<u64>,
    ) -> BoxStream<'static, Result<RecordBatch, ResultError>> {
        let end = limit.map_or(u64::MAX, |l| offset.saturating_add(l));
        let mut first_row = 0;
        let mut skip = None;
        let mut files = Vec::new();
        for file in &result.files {
            let next = first_row + file.rows;
            if next > offset && first_row < end {
                skip.get_or_insert_with(|| offset - first_row);
                files.push(file.clone());
            }
            first_row = next;
        }
        let window = Window {
            skip: skip.unwrap_or(0),
            left: end - offset,
        };
        let store = self.clone();
        let format = result.format;
        let schema = arrow_schema(result).map_err(|e| e.to_string());
        futures::stream::iter(files)
            .then(move |file| {
                let (store, schema) = (store.clone(), schema.clone());
                async move {
                    let schema = schema.map_err(ResultError::Decode)?;
                    store.read_file(format, &schema, &file).await
                }
            })
            .try_flatten()
            .scan(window, |window, item| {
                futures::future::ready(match item {
                    Err(e) => Some(Err(e)),
                    Ok(_) if window.left == 0 => None,
                    Ok(batch) => Some(Ok(window.cut(&batch))),
                })
            })
            .try_filter(|batch| futures::future::ready(batch.num_rows() > 0))
            .boxed()
    }

    async fn read_file(
        &self,
        format: OutputFormat,
        schema: &SchemaRef,
        file: &StoredFile,
    ) -> Result<BoxStream<'static, Result<RecordBatch, ResultError>>, ResultError> {
        let path = ObjectPath::from(file.key.as_str());
        let bytes = self.store.get(&path).await?.bytes().await?;
        let decode = |e: &dyn std::fmt::Display| ResultError::Decode(format!("{}: {e}", file.key));
        let in_file = partitions::file_schema(schema, &file.key);
        let batches: Vec<Result<RecordBatch, ResultError>> = match format {
            OutputFormat::Parquet => ParquetRecordBatchReader::try_new(bytes, BATCH_ROWS)
                .map_err(|e| decode(&e))?
                .map(|b| b.map_err(|e| decode(&e)))
                .collect(),
            OutputFormat::Arrow => FileReader::try_new(std::io::Cursor::new(bytes), None)
                .map_err(|e| decode(&e))?
                .map(|b| b.map_err(|e| decode(&e)))
                .collect(),
            OutputFormat::Csv | OutputFormat::Json => text::read(format, &in_file, bytes)
                .map_err(|e| decode(&e))?
                .into_iter()
                .map(Ok)
                .collect(),
        };
        let (key, schema) = (file.key.clone(), schema.clone());
        let whole = move |batch: Result<RecordBatch, ResultError>| {
            batch.and_then(|b| {
                partitions::attach(b, &key, &schema)
                    .map_err(|e| ResultError::Decode(format!("{key}: {e}")))
            })
        };
        Ok(futures::stream::iter(batches).map(whole).boxed())
    }
}

/// Rows still to skip and still to take.
#[derive(Clone, Copy)]
struct Window {
    skip: u64,
    left: u64,
}

impl Window {
    /// The part of `batch` inside the window (possibly empty).
    fn cut(&mut self, batch: &RecordBatch) -> RecordBatch {
        let rows = batch.num_rows() as u64;
        let start = self.skip.min(rows);
        let take = (rows - start).min(self.left);
        self.skip -= start;
        self.left -= take;
        batch.slice(start as usize, take as usize)
    }
}

/// Writes a job's batches into result files, by size or by count.
pub struct ResultWriter {
    format: OutputFormat,
    schema: SchemaRef,
    factory: FileFactory,
    open: Open,
    /// Closed files, in row order.
    files: Vec<StoredFile>,
    limits: OutputLimits,
    /// With `partition_on`: a writer per directory, which this one only feeds.
    partitioned: Option<Partitioned>,
}

struct Partitioned {
    split: partitions::Split,
    store: Arc<dyn ObjectStore>,
    output: Output,
    target: u64,
    writers: std::collections::BTreeMap<String, ResultWriter>,
}

enum Open {
    /// One file at a time, closed at about `target` bytes.
    BySize {
        target: u64,
        file: Option<Box<OpenFile>>,
    },
    /// A fixed number of files, dealt batches in turn.
    ByCount {
        slots: Vec<Option<OpenFile>>,
        next: usize,
    },
}

struct OpenFile {
    key: String,
    upload: BufWriter,
    encoder: FileEncoder,
    rows: u64,
    bytes: u64,
}

/// Result files are Parquet, encoded column-parallel, or Arrow IPC.
enum FileEncoder {
    Parquet(
        Box<parquet_writer::ParallelParquet>,
        categoricals::Dictionaries,
    ),
    Other(Box<Encoder>),
}

impl FileEncoder {
    fn new(encoding: Encoding, schema: &SchemaRef) -> Result<FileEncoder, EncodeError> {
        Ok(match encoding {
            Encoding::Parquet(compression) => {
                let props = encode::parquet_properties(compression);
                let dictionaries = categoricals::Dictionaries::new(schema)?;
                FileEncoder::Parquet(
                    Box::new(parquet_writer::ParallelParquet::new(
                        dictionaries.schema(),
                        props,
                    )?),
                    dictionaries,
                )
            }
            other => FileEncoder::Other(Box::new(Encoder::new(other, schema)?)),
        })
    }

    async fn write(&mut self, batch: &RecordBatch) -> Result<Bytes, EncodeError> {
        match self {
            FileEncoder::Parquet(p, dictionaries) => p.write(&dictionaries.unify(batch)?).await,
            FileEncoder::Other(e) => e.write(batch),
        }
    }

    fn pending_bytes(&self) -> usize {
        match self {
            FileEncoder::Parquet(p, _) => p.pending_bytes(),
            FileEncoder::Other(e) => e.pending_bytes(),
        }
    }

    async fn finish(self) -> Result<Bytes, EncodeError> {
        match self {
            FileEncoder::Parquet(p, _) => (*p).finish().await,
            FileEncoder::Other(e) => (*e).finish(),
        }
    }
}

impl ResultWriter {
    fn new(
        store: Arc<dyn ObjectStore>,
        prefix: String,
        output: &Output,
        layout: FileLayout,
        schema: SchemaRef,
        limits: OutputLimits,
    ) -> Result<ResultWriter, ResultError> {
        let schema = written_schema(&schema);
        let mut writer =
            ResultWriter::files(store.clone(), prefix, output, layout, &schema, limits);
        if !output.partition_on.is_empty() {
            let split = partitions::Split::new(&schema, &output.partition_on)
                .map_err(|m| ResultError::Destination(format!("partition_on: {m}")))?;
            let target = match layout {
                FileLayout::Size(target) => target,
                FileLayout::Count(_) => Output::DEFAULT_PARTITION_SIZE,
            };
            writer.schema = split.full_schema().clone();
            writer.partitioned = Some(Partitioned {
                split,
                store,
                output: output.clone(),
                target,
                writers: Default::default(),
            });
        }
        Ok(writer)
    }

    /// A writer of one set of files under `prefix`.
    fn files(
        store: Arc<dyn ObjectStore>,
        prefix: String,
        output: &Output,
        layout: FileLayout,
        schema: &SchemaRef,
        limits: OutputLimits,
    ) -> ResultWriter {
        let schema = schema.clone();
        ResultWriter {
            format: output.format,
            factory: FileFactory {
                store,
                prefix,
                encoding: Encoding::stored(output.format, output.compression),
                schema: schema.clone(),
            },
            schema,
            files: Vec::new(),
            limits,
            partitioned: None,
            open: match layout {
                FileLayout::Size(target) => Open::BySize { target, file: None },
                FileLayout::Count(n) => Open::ByCount {
                    slots: (0..n).map(|_| None).collect(),
                    next: 0,
                },
            },
        }
    }

    pub async fn write(&mut self, batch: &RecordBatch) -> Result<(), ResultError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let batch = &plain_strings::plain_batch(batch).map_err(EncodeError::from)?;
        if let Some(partitioned) = &mut self.partitioned {
            return partitioned
                .write(batch, &self.factory.prefix, self.limits)
                .await;
        }
        let target = match &mut self.open {
            Open::BySize { target, .. } => *target,
            Open::ByCount { slots, next } => {
                let index = *next % slots.len();
                *next += 1;
                let file = match &mut slots[index] {
                    Some(file) => file,
                    slot => slot.insert(self.factory.open(index)?),
                };
                file.write(batch).await?;
                return self.check_bytes();
            }
        };
        // A batch bigger than a file is cut, so that files come out near the target size.
        let rows = batch.num_rows();
        let memory = batch.get_array_memory_size().max(1) as u64;
        let chunk = ((rows as u64 * target) / memory).clamp(1, rows as u64) as usize;
        let mut start = 0;
        while start < rows {
            let len = chunk.min(rows - start);
            self.write_sized(&batch.slice(start, len), target).await?;
            self.check_bytes()?;
            start += len;
        }
        Ok(())
    }

    /// Fails once the files written so far pass the job's byte limit.
    fn check_bytes(&self) -> Result<(), ResultError> {
        if self.written().1 > self.limits.max_bytes {
            return Err(too_large(self.limits.max_bytes));
        }
        Ok(())
    }

    /// Files begun and bytes written so far.
    fn written(&self) -> (usize, u64) {
        let open: Vec<&OpenFile> = match &self.open {
            Open::BySize { file, .. } => file.iter().map(|f| f.as_ref()).collect(),
            Open::ByCount { slots, .. } => slots.iter().flatten().collect(),
        };
        let bytes = self.files.iter().map(|f| f.bytes).sum::<u64>()
            + open.iter().map(|f| f.bytes).sum::<u64>();
        (self.files.len() + open.len(), bytes)
    }

    async fn write_sized(&mut self, batch: &RecordBatch, target: u64) -> Result<(), ResultError> {
        let Open::BySize { file, .. } = &mut self.open else {
            return Ok(());
        };
        let open = match file {
            Some(open) => open,
            None => {
                if self.files.len() >= self.limits.max_files {
                    return Err(too_many_files(self.limits.max_files));
                }
                file.insert(Box::new(self.factory.open(self.files.len())?))
            }
        };
        open.write(batch).await?;
        if open.bytes + open.encoder.pending_bytes() as u64 >= target
            && let Some(full) = file.take()
        {
            self.files.push(full.close().await?);
        }
        Ok(())
    }

    /// Closes the open files and describes what was written. An empty result still gets
    /// a file (and `npartitions` always gets that many), so it reads like any other.
    pub async fn finish(mut self) -> Result<StoredResult, ResultError> {
        match self.partitioned.take() {
            // Each directory's writer closes its own files; this one opened none.
            Some(partitioned) => {
                for (_, writer) in partitioned.writers {
                    self.files.extend(Box::pin(writer.finish()).await?.files);
                }
            }
            None => self.close_files().await?,
        }
        Ok(StoredResult {
            format: self.format,
            rows: self.files.iter().map(|f| f.rows).sum(),
            bytes: self.files.iter().map(|f| f.bytes).sum(),
            schema: columns(&self.schema),
            files: self.files,
            ml: None,
            destination: None,
        })
    }

    async fn close_files(&mut self) -> Result<(), ResultError> {
        let open = std::mem::replace(
            &mut self.open,
            Open::ByCount {
                slots: Vec::new(),
                next: 0,
            },
        );
        match open {
            Open::BySize { file, .. } => {
                let last = match file {
                    Some(file) => Some(file),
                    None if self.files.is_empty() => Some(Box::new(self.factory.open(0)?)),
                    None => None,
                };
                if let Some(last) = last {
                    self.files.push(last.close().await?);
                }
            }
            Open::ByCount { slots, .. } => {
                for (index, slot) in slots.into_iter().enumerate() {
                    let file = match slot {
                        Some(file) => file,
                        None => self.factory.open(index)?,
                    };
                    self.files.push(file.close().await?);
                }
            }
        }
        Ok(())
    }
}

impl Partitioned {
    /// Deals the batch's rows to their directories' writers; fails once all of them together
    /// pass the job's limits.
    async fn write(
        &mut self,
        batch: &RecordBatch,
        prefix: &str,
        limits: OutputLimits,
    ) -> Result<(), ResultError> {
        let parts = self
            .split
            .split(batch)
            .map_err(|e| ResultError::Encode(e.into()))?;
        for (dir, part) in parts {
            let open_dirs = self.writers.len();
            let writer = match self.writers.entry(dir) {
                std::collections::btree_map::Entry::Occupied(found) => found.into_mut(),
                std::collections::btree_map::Entry::Vacant(slot) => {
                    if open_dirs >= limits.max_files {
                        return Err(too_many_files(limits.max_files));
                    }
                    let at = format!("{prefix}/{}", slot.key());
                    slot.insert(ResultWriter::files(
                        self.store.clone(),
                        at,
                        &self.output,
                        FileLayout::Size(self.target),
                        self.split.data_schema(),
                        limits,
                    ))
                }
            };
            Box::pin(writer.write(&part)).await?;
        }
        let (files, bytes) = self.writers.values().fold((0, 0), |(f, b), w| {
            let (wf, wb) = w.written();
            (f + wf, b + wb)
        });
        if files > limits.max_files {
            return Err(too_many_files(limits.max_files));
        }
        if bytes > limits.max_bytes {
            return Err(too_large(limits.max_bytes));
        }
        Ok(())
    }
}

fn too_many_files(max: usize) -> ResultError {
    ResultError::TooLarge(format!(
        "the result would need more than {max} files; use a larger partition_size, or \
         partition by fewer values"
    ))
}

fn too_large(max: u64) -> ResultError {
    ResultError::TooLarge(format!(
        "the result passed its limit of {max} bytes (max_result_bytes, or the server's \
         RUSK_MAX_RESULT_BYTES); filter or aggregate more, or raise the limit"
    ))
}

/// Deletes the objects under `prefix` whose keys `doomed` picks (one already gone counts as
/// deleted); returns how many.
async fn delete_where(
    store: &Arc<dyn ObjectStore>,
    prefix: &str,
    doomed: impl Fn(&str) -> bool,
) -> Result<usize, ResultError> {
    let prefix = ObjectPath::from(prefix);
    let keys: Vec<ObjectPath> = store
        .list(Some(&prefix))
        .map_ok(|meta| meta.location)
        .try_filter(|key| futures::future::ready(doomed(key.as_ref())))
        .try_collect()
        .await?;
    for key in &keys {
        delete(store, key).await?;
    }
    Ok(keys.len())
}

/// Deletes one object; one already gone counts as deleted.
async fn delete(store: &Arc<dyn ObjectStore>, key: &ObjectPath) -> Result<(), ResultError> {
    match store.delete(key).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Model ids are made by Rusk (`model_` + hex); anything else cannot name an object.
pub fn valid_model_id(id: &str) -> bool {
    id.strip_prefix("model_")
        .is_some_and(|hex| !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Opens the result's numbered files.
struct FileFactory {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    encoding: Encoding,
    schema: SchemaRef,
}

impl FileFactory {
    fn open(&self, index: usize) -> Result<OpenFile, ResultError> {
        let key = format!(
            "{}/part-{index:05}.{}",
            self.prefix,
            self.encoding.extension()
        );
        Ok(OpenFile {
            upload: BufWriter::new(self.store.clone(), ObjectPath::from(key.as_str())),
            key,
            encoder: FileEncoder::new(self.encoding, &self.schema)?,
            rows: 0,
            bytes: 0,
        })
    }
}

impl OpenFile {
    async fn write(&mut self, batch: &RecordBatch) -> Result<(), ResultError> {
        let bytes = self.encoder.write(batch).await?;
        self.upload.write_all(&bytes).await.map_err(io)?;
        self.rows += batch.num_rows() as u64;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    async fn close(mut self) -> Result<StoredFile, ResultError> {
        let tail = self.encoder.finish().await?;
        self.upload.write_all(&tail).await.map_err(io)?;
        self.upload.shutdown().await.map_err(io)?;
        Ok(StoredFile {
            key: self.key,
            rows: self.rows,
            bytes: self.bytes + tail.len() as u64,
        })
    }
}

fn io(e: std::io::Error) -> ResultError {
    ResultError::Store(object_store::Error::Generic {
        store: "results",
        source: Box::new(e),
    })
}

/// The Arrow schema recorded for a result.
pub fn arrow_schema(result: &StoredResult) -> Result<SchemaRef, ResultError> {
    let fields = result
        .schema
        .iter()
        .map(|c| {
            let data_type: DataType =
                c.data_type.parse().map_err(|e: arrow::error::ArrowError| {
                    ResultError::Decode(format!("column {:?}: {e}", c.name))
                })?;
            Ok(Field::new(&c.name, data_type, c.nullable))
        })
        .collect::<Result<Vec<Field>, ResultError>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

/// `schema` with each column whose type `retype` maps given the new type; `None` when no
/// column's type changes.
fn retyped(schema: &Schema, retype: impl Fn(&DataType) -> Option<DataType>) -> Option<Schema> {
    let mut changed = false;
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match retype(f.data_type()) {
            Some(t) => {
                changed = true;
                f.as_ref().clone().with_data_type(t)
            }
            None => f.as_ref().clone(),
        })
        .collect();
    changed.then(|| Schema::new_with_metadata(fields, schema.metadata().clone()))
}

pub fn columns(schema: &SchemaRef) -> Vec<ColumnSchema> {
    schema
        .fields()
        .iter()
        .map(|f| ColumnSchema {
            name: f.name().clone(),
            data_type: f.data_type().to_string(),
            nullable: f.is_nullable(),
        })
        .collect()
}

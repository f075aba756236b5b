//! A job's own destination (`output.path`): a dataset directory in the caller's storage.
//! An attempt writes its files under `_rusk_staging/{job}-{attempt}/` there (hidden from
//! Rusk, pandas, pyarrow and Dask, which skip `_` names) and publishes them by renaming only
//! once it has finished writing and still holds its lease; a failed, cancelled or superseded
//! attempt leaves the dataset as it was.

use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};
use parquet::file::metadata::ParquetMetaDataReader;
use uuid::Uuid;

use super::{OutputLimits, ResultError, ResultWriter};
use crate::domain::{StoredFile, StoredResult};
use crate::objects::StoreConfig;
use crate::spec::{FileLayout, Output, OutputFormat, WriteMode};

/// The hidden directory attempts stage their files in.
const STAGING: &str = "_rusk_staging";

#[derive(Clone)]
pub struct Destination {
    store: Arc<dyn ObjectStore>,
    /// The dataset directory's key, without a trailing `/`.
    dir: String,
    /// The absolute URL it was opened from (kept in the result record).
    url: String,
}

impl Destination {
    /// The destination at an absolute URL (`file:///…`, `s3://…`) that the engine has
    /// checked against the caller's scope.
    pub fn open(url: &str, stores: &StoreConfig) -> Result<Destination, ResultError> {
        let (store, dir) = stores
            .open(url)
            .map_err(|e| ResultError::Setup(url.to_string(), e.to_string()))?;
        Ok(Destination {
            store,
            dir: dir.as_ref().trim_end_matches('/').to_string(),
            url: url.to_string(),
        })
    }

    fn key(&self, relative: &str) -> String {
        match self.dir.as_str() {
            "" => relative.to_string(),
            dir => format!("{dir}/{relative}"),
        }
    }

    /// A file's key relative to the dataset directory.
    pub fn relative<'a>(&self, key: &'a str) -> &'a str {
        match self.dir.as_str() {
            "" => key,
            dir => key
                .strip_prefix(dir)
                .map_or(key, |rest| rest.trim_start_matches('/')),
        }
    }

    fn staging(&self, job: Uuid, attempt: i32) -> String {
        self.key(&format!("{STAGING}/{job}-{attempt}"))
    }

    /// The dataset's files: everything under the directory but hidden (`_`, `.`) names.
    pub async fn files(&self) -> Result<Vec<ObjectMeta>, ResultError> {
        let prefix = ObjectPath::from(self.dir.as_str());
        let listed: Vec<ObjectMeta> = self.store.list(Some(&prefix)).try_collect().await?;
        let skip = self.dir.len() + usize::from(!self.dir.is_empty());
        Ok(listed
            .into_iter()
            .filter(|meta| {
                let relative = meta.location.as_ref().get(skip..).unwrap_or_default();
                !relative
                    .split('/')
                    .any(|name| name.starts_with('_') || name.starts_with('.'))
            })
            .collect())
    }

    /// Writes an attempt's files into its staging directory.
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
            self.staging(job, attempt),
            output,
            layout,
            schema,
            limits,
        )
    }

    /// Moves a finished attempt's staged files into the dataset, as `mode` says, and
    /// describes the result by their final names.
    pub async fn publish(
        &self,
        staged: StoredResult,
        mode: WriteMode,
        job: Uuid,
    ) -> Result<StoredResult, ResultError> {
        let existing = self.files().await?;
        if mode == WriteMode::Error && !existing.is_empty() {
            return Err(not_empty(&existing));
        }
        let staging = match staged.files.first() {
            Some(file) => staging_of(&file.key),
            None => String::new(),
        };
        let mut files = Vec::with_capacity(staged.files.len());
        for file in &staged.files {
            // Relative to the staging directory: `part-00000.parquet`, or
            // `country=de/part-00000.parquet` for a partitioned result.
            let relative = file
                .key
                .strip_prefix(&staging)
                .map_or(file.key.as_str(), |r| r.trim_start_matches('/'));
            // Appended files are named by job, so a retried publish replaces its own files.
            let name = match mode {
                WriteMode::Append => {
                    relative.replacen("part-", &format!("part-{}-", job.simple()), 1)
                }
                WriteMode::Error | WriteMode::Overwrite => relative.to_string(),
            };
            let key = self.key(&name);
            self.store
                .rename(
                    &ObjectPath::from(file.key.as_str()),
                    &ObjectPath::from(key.as_str()),
                )
                .await?;
            files.push(StoredFile {
                key,
                ..file.clone()
            });
        }
        if mode == WriteMode::Overwrite {
            // The new files are in place before the old ones go: a reader never finds the
            // dataset empty.
            for old in existing {
                if !files.iter().any(|f| f.key == old.location.as_ref()) {
                    super::delete(&self.store, &old.location).await?;
                }
            }
        }
        self.discard_staging(job, None).await?;
        Ok(StoredResult {
            files,
            destination: Some(self.url.clone()),
            ..staged
        })
    }

    /// Deletes staged files: one attempt's, or (`None`) all of the job's.
    pub async fn discard_staging(
        &self,
        job: Uuid,
        attempt: Option<i32>,
    ) -> Result<usize, ResultError> {
        let mine = match attempt {
            Some(attempt) => format!("{}/", self.staging(job, attempt)),
            None => format!("{}/{job}-", self.key(STAGING)),
        };
        super::delete_where(&self.store, &self.key(STAGING), |key| {
            key.starts_with(&mine)
        })
        .await
    }

    /// Refuses a job that cannot be written here: a non-empty dataset (`mode: error`), or
    /// one whose files have other columns than the result (`mode: append`). The message
    /// is for the caller.
    pub async fn check(&self, output: &Output, schema: &SchemaRef) -> Result<(), DestinationError> {
        let existing = self.files().await.map_err(DestinationError::Unreadable)?;
        match output.mode {
            WriteMode::Error if !existing.is_empty() => {
                Err(DestinationError::Refused(not_empty(&existing).to_string()))
            }
            WriteMode::Append => match existing.first() {
                Some(file) => self.check_schema(output, file, schema).await,
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }

    async fn check_schema(
        &self,
        output: &Output,
        file: &ObjectMeta,
        schema: &SchemaRef,
    ) -> Result<(), DestinationError> {
        let format = output.format;
        let theirs = match self.file_schema(format, file).await {
            Ok(Some(theirs)) => theirs,
            Ok(None) => return Ok(()),
            Err(why) => {
                return Err(DestinationError::Refused(format!(
                    "cannot append: {} is not a {} file Rusk can read ({why})",
                    file.location,
                    super::Encoding::stored(format, None).extension()
                )));
            }
        };
        // Partition columns are in the directory names, not the files.
        // Strings are strings: files written before results were plain (views) still match.
        let theirs = super::plain_strings::plain_schema(&theirs);
        let ours = super::written_schema(schema);
        let ours = Schema::new(
            ours.fields()
                .iter()
                .filter(|f| !output.partition_on.contains(f.name()))
                .map(|f| f.as_ref().clone())
                .collect::<Vec<_>>(),
        );
        let names = |s: &Schema| {
            s.fields()
                .iter()
                .map(|f| f.name().clone())
                .collect::<Vec<_>>()
        };
        if names(&theirs) != names(&ours) {
            return Err(DestinationError::Refused(format!(
                "cannot append: the dataset's files have the columns {:?}, the result {:?}",
                names(&theirs),
                names(&ours)
            )));
        }
        let typed = !matches!(format, OutputFormat::Csv | OutputFormat::Json);
        for (t, o) in theirs.fields().iter().zip(ours.fields()) {
            if typed && t.data_type() != o.data_type() {
                return Err(DestinationError::Refused(format!(
                    "cannot append: column {:?} is {} in the dataset's files, {} in the result",
                    t.name(),
                    t.data_type(),
                    o.data_type()
                )));
            }
        }
        Ok(())
    }

    /// The schema of one existing file (column names only for CSV; `None` for JSON lines,
    /// whose records need not all have the same keys).
    async fn file_schema(
        &self,
        format: OutputFormat,
        file: &ObjectMeta,
    ) -> Result<Option<Schema>, String> {
        match format {
            OutputFormat::Parquet => {
                let mut footer = self.tail(file, 1 << 20).await?;
                let mut reader = ParquetMetaDataReader::new();
                if let Err(parquet::errors::ParquetError::NeedMoreData(needed)) =
                    reader.try_parse_sized(&footer, file.size)
                {
                    footer = self.tail(file, needed as u64).await?;
                    reader
                        .try_parse_sized(&footer, file.size)
                        .map_err(|e| e.to_string())?;
                }
                let metadata = reader.finish().map_err(|e| e.to_string())?;
                let meta = metadata.file_metadata();
                parquet::arrow::parquet_to_arrow_schema(
                    meta.schema_descr(),
                    meta.key_value_metadata(),
                )
                .map(Some)
                .map_err(|e| e.to_string())
            }
            OutputFormat::Arrow => {
                // The schema message follows the 8-byte magic, as in a stream.
                let head = self.head(file, 1 << 20).await?;
                let body = head.get(8..).ok_or("too short")?;
                let reader = arrow::ipc::reader::StreamReader::try_new(body, None)
                    .map_err(|e| e.to_string())?;
                Ok(Some(reader.schema().as_ref().clone()))
            }
            OutputFormat::Csv => {
                let head = self.head(file, 64 << 10).await?;
                let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
                let fields = String::from_utf8_lossy(line)
                    .trim_end_matches('\r')
                    .split(',')
                    .map(|name| {
                        arrow::datatypes::Field::new(
                            name.trim_matches('"'),
                            arrow::datatypes::DataType::Utf8,
                            true,
                        )
                    })
                    .collect::<Vec<_>>();
                Ok(Some(Schema::new(fields)))
            }
            OutputFormat::Json => Ok(None),
        }
    }

    /// The last bytes of a file (Parquet's footer and metadata, for files of usual width).
    async fn tail(&self, file: &ObjectMeta, at_most: u64) -> Result<bytes::Bytes, String> {
        let start = file.size.saturating_sub(at_most);
        self.store
            .get_range(&file.location, start..file.size)
            .await
            .map_err(|e| e.to_string())
    }

    async fn head(&self, file: &ObjectMeta, at_most: u64) -> Result<bytes::Bytes, String> {
        self.store
            .get_range(&file.location, 0..file.size.min(at_most))
            .await
            .map_err(|e| e.to_string())
    }
}

/// Why a job may not write to its destination.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Unreadable(ResultError),
}

/// The staging directory (`…/_rusk_staging/{job}-{attempt}`) a staged file's key lies in.
fn staging_of(key: &str) -> String {
    match key.find(&format!("{STAGING}/")) {
        Some(at) => {
            let rest = &key[at + STAGING.len() + 1..];
            let attempt_dir = rest.split('/').next().unwrap_or_default();
            format!("{}{STAGING}/{attempt_dir}", &key[..at])
        }
        None => String::new(),
    }
}

fn not_empty(existing: &[ObjectMeta]) -> ResultError {
    ResultError::Destination(format!(
        "the destination already holds {} files (e.g. {}); give `mode: overwrite` or \
         `mode: append`, or another path",
        existing.len(),
        existing
            .first()
            .and_then(|f| f.location.filename())
            .unwrap_or_default()
    ))
}

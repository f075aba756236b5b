//! A job, its lifecycle and what it produced.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Named;
use crate::spec::{JobSpec, OutputFormat};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl Named for JobState {
    const ALL: &'static [JobState] = &[
        JobState::Queued,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Cancelled,
    ];

    fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

impl JobState {
    /// The state's name, without `Named` in scope (most callers only print it).
    pub fn as_str(self) -> &'static str {
        Named::as_str(self)
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled
        )
    }
}

/// Why a job failed, for programs: stable across releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The specification cannot run on these files (found once the data was read).
    InvalidSpec,
    /// A value in the data does not fit: a parse error, a cast, a division by zero.
    DataError,
    /// The job needs more memory or disk than it may have.
    ResourcesExhausted,
    /// A source or the result store could not be read or written.
    IoError,
    /// The job ran past its `timeout_s`.
    Timeout,
    /// The worker stopped (a deploy) before the job ended, and no attempts are left.
    WorkerShutdown,
    /// The worker running the job stopped answering, and no attempts are left.
    LeaseExpired,
    /// The result is larger than `max_result_bytes`.
    ResultTooLarge,
    /// Training or prediction failed.
    MlError,
    /// A bug in Rusk.
    Internal,
}

impl Named for ErrorCode {
    const ALL: &'static [ErrorCode] = &[
        ErrorCode::InvalidSpec,
        ErrorCode::DataError,
        ErrorCode::ResourcesExhausted,
        ErrorCode::IoError,
        ErrorCode::Timeout,
        ErrorCode::WorkerShutdown,
        ErrorCode::LeaseExpired,
        ErrorCode::ResultTooLarge,
        ErrorCode::MlError,
        ErrorCode::Internal,
    ];

    fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidSpec => "invalid_spec",
            ErrorCode::DataError => "data_error",
            ErrorCode::ResourcesExhausted => "resources_exhausted",
            ErrorCode::IoError => "io_error",
            ErrorCode::Timeout => "timeout",
            ErrorCode::WorkerShutdown => "worker_shutdown",
            ErrorCode::LeaseExpired => "lease_expired",
            ErrorCode::ResultTooLarge => "result_too_large",
            ErrorCode::MlError => "ml_error",
            ErrorCode::Internal => "internal",
        }
    }
}

/// Why a job failed, with a stable `code` for programs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobError {
    pub code: ErrorCode,
    pub message: String,
}

impl MlSummary {
    /// A trained model's summary: its id, held-out metrics and parameters.
    pub fn fitted(
        model_id: &str,
        metrics: std::collections::BTreeMap<String, f64>,
        params: indexmap::IndexMap<String, serde_json::Value>,
    ) -> MlSummary {
        MlSummary {
            model_id: model_id.to_string(),
            rows: None,
            best_params: None,
            best_score: None,
            scoring: None,
            metrics: Some(metrics),
            params: Some(params),
        }
    }
}

impl JobError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> JobError {
        JobError {
            code,
            message: message.into(),
        }
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Succeeded,
    Failed,
    /// Failed, and the job went back to the queue for another attempt.
    Retry,
    Cancelled,
    /// The worker stopped answering; the job was requeued or failed.
    LeaseExpired,
}

impl Named for AttemptOutcome {
    const ALL: &'static [AttemptOutcome] = &[
        AttemptOutcome::Succeeded,
        AttemptOutcome::Failed,
        AttemptOutcome::Retry,
        AttemptOutcome::Cancelled,
        AttemptOutcome::LeaseExpired,
    ];

    fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Succeeded => "succeeded",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Retry => "retry",
            AttemptOutcome::Cancelled => "cancelled",
            AttemptOutcome::LeaseExpired => "lease_expired",
        }
    }
}

/// A column of the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ColumnSchema {
    pub name: String,
    /// Arrow type, e.g. `Int64`, `Float64`, `Utf8`.
    #[serde(rename = "type")]
    pub data_type: String,
    pub nullable: bool,
}

/// One result file in the object store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredFile {
    /// Object-store key, e.g. `results/{job}/{attempt}/part-00000.parquet`.
    pub key: String,
    pub rows: u64,
    pub bytes: u64,
}

/// An ML job's summary: `model_id`, `metrics`, `params` (`fit`); `best_params`, `best_score`,
/// `scoring`, `metrics` (`grid_search`); `model_id`, `rows` (`predict`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MlSummary {
    pub model_id: String,
    /// Rows scored (`predict`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// The winning parameters (`grid_search`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub best_params: Option<indexmap::IndexMap<String, serde_json::Value>>,
    /// Their mean cross-validated score (`grid_search`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_score: Option<f64>,
    /// The score the search ranked by (`grid_search`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scoring: Option<crate::spec::Scoring>,
    /// Held-out scores of the trained model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<std::collections::BTreeMap<String, f64>>,
    /// The parameters it was trained with (`fit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub params: Option<indexmap::IndexMap<String, serde_json::Value>>,
}

/// What a succeeded job produced, as recorded in its row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredResult {
    pub format: OutputFormat,
    pub rows: u64,
    pub bytes: u64,
    pub schema: Vec<ColumnSchema>,
    pub files: Vec<StoredFile>,
    /// An ML job's `result.ml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ml: Option<MlSummary>,
    /// Where the files are when the job wrote them to its `output.path`: the dataset
    /// directory's absolute URL (file keys are then keys in that store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
}

/// How far a job has got. Partitions are the scans' units of parallel work.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    pub partitions_done: u64,
    pub partitions_total: u64,
    /// Files (or ranges of large files) the scans have finished, of all they read: finer
    /// than partitions, which each read several.
    #[serde(default)]
    pub files_done: u64,
    #[serde(default)]
    pub files_total: u64,
    pub rows_read: u64,
    pub bytes_read: u64,
    pub rows_out: u64,
    /// Stages of a job on the `ballista` engine that its cluster has finished, of all its
    /// stages (0 of 0 on the local engine, and until the scheduler has planned the job).
    #[serde(default)]
    pub stages_done: u64,
    #[serde(default)]
    pub stages_total: u64,
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: Uuid,
    pub tenant: String,
    pub spec: JobSpec,
    pub state: JobState,
    pub priority: i32,
    pub attempts: i32,
    pub max_attempts: i32,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<JobError>,
    pub result: Option<StoredResult>,
    pub progress: Option<Progress>,
    /// When the janitor deletes the result's files (`RUSK_RESULT_TTL`, `result_ttl_s`).
    pub result_expires_at: Option<DateTime<Utc>>,
    /// When it did: the result's downloads answer 410 since.
    pub result_expired_at: Option<DateTime<Utc>>,
}

/// One attempt at a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Attempt {
    pub attempt: i32,
    /// The worker process that ran it.
    pub worker: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// How it ended; `null` while it runs.
    pub outcome: Option<AttemptOutcome>,
    pub error: Option<JobError>,
}

//! The job table: both the API's resource and the work queue. One trait, two backends
//! (SQLite, the embedded default; Postgres, for production), the same behaviour.
//!
//! Leases: a worker claims a job with a fresh `lease_id` that expires unless renewed; every
//! later write by that worker names the lease, so a worker that lost it (cancelled, expired and
//! reclaimed) changes nothing.

mod postgres;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::spec::JobSpec;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// The tenant of every job while no API key exists.
pub const DEFAULT_TENANT: &str = "default";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or refused the operation.
    #[error("job store unavailable: {0}")]
    Unavailable(#[from] sqlx::Error),
    #[error("job store migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A row that does not decode (a bug or a hand-edited table).
    #[error("corrupt job row: {0}")]
    Corrupt(String),
    #[error("unsupported database URL {0:?}: expected postgres://… or sqlite://…")]
    UnsupportedUrl(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<JobState> {
        [
            JobState::Queued,
            JobState::Running,
            JobState::Succeeded,
            JobState::Failed,
            JobState::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled
        )
    }
}

/// Why a job failed, with a stable `code` for programs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobError {
    /// e.g. `data_error`, `resources_exhausted`, `timeout`, `io_error`, `lease_expired`.
    pub code: String,
    pub message: String,
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

/// What a succeeded job produced, as recorded in its row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredResult {
    pub format: crate::spec::OutputFormat,
    pub rows: u64,
    pub bytes: u64,
    pub schema: Vec<ColumnSchema>,
    pub files: Vec<StoredFile>,
    /// An ML job's `result.ml`: model id, metrics, parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ml: Option<serde_json::Value>,
}

/// How far a job has got. Partitions are the scans' units of parallel work.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    pub partitions_done: u64,
    pub partitions_total: u64,
    pub rows_read: u64,
    pub bytes_read: u64,
    pub rows_out: u64,
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
}

/// One attempt at a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Attempt {
    pub attempt: i32,
    /// The worker process that ran it.
    pub worker: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// `succeeded`, `failed`, `retry`, `cancelled` or `lease_expired`; `null` while it runs.
    pub outcome: Option<String>,
    pub error: Option<JobError>,
}

/// What a worker process can do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Capabilities {
    pub cores: usize,
    /// The engine's memory pool, in bytes.
    pub memory_limit: u64,
    /// GPU devices (none until GPU kernels land).
    pub gpus: Vec<String>,
}

/// A worker process as it last reported itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkerInfo {
    pub id: String,
    pub hostname: String,
    pub started_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub slots: i32,
    pub busy: i32,
    pub capabilities: Capabilities,
    pub current_jobs: Vec<Uuid>,
}

pub struct NewJob {
    pub tenant: String,
    pub spec: JobSpec,
    /// The caller's `Idempotency-Key` and a hash of the request it came with.
    pub idempotency: Option<(String, String)>,
}

pub enum Submitted {
    Created(Job),
    /// The same idempotency key and request were seen before: here is that job.
    Existing(Job),
    /// The idempotency key was used before with a different request.
    KeyReused,
}

/// Proof that a worker holds a job; every write about the running job names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub job_id: Uuid,
    pub lease_id: Uuid,
    pub attempt: i32,
}

pub struct Claimed {
    pub job: Job,
    pub lease: Lease,
}

impl Claimed {
    /// A job just claimed with `lease_id` (its `attempts` already counts this attempt).
    fn new(job: Job, lease_id: Uuid) -> Claimed {
        let lease = Lease {
            job_id: job.id,
            lease_id,
            attempt: job.attempts,
        };
        Claimed { job, lease }
    }
}

/// How an attempt ended.
pub enum Outcome {
    /// The result, and the progress figures at the end (written with it).
    Succeeded {
        result: StoredResult,
        progress: Progress,
        /// The model an ML job trained, recorded with the job's end (its artifact is already
        /// in the result store).
        model: Option<Box<ModelInfo>>,
    },
    /// Fails the job now.
    Failed(JobError),
    /// Back to the queue after `after`, unless the attempts are used up (then failed).
    Retry { error: JobError, after: Duration },
}

impl Outcome {
    /// How the attempt ended, as its log records it.
    fn attempt_outcome(&self) -> &'static str {
        match self {
            Outcome::Succeeded { .. } => "succeeded",
            Outcome::Failed(_) => "failed",
            Outcome::Retry { .. } => "retry",
        }
    }

    fn model(&self) -> Option<&ModelInfo> {
        match self {
            Outcome::Succeeded { model, .. } => model.as_deref(),
            _ => None,
        }
    }

    fn progress(&self) -> Option<&Progress> {
        match self {
            Outcome::Succeeded { progress, .. } => Some(progress),
            _ => None,
        }
    }

    fn error(&self) -> Option<&JobError> {
        match self {
            Outcome::Succeeded { .. } => None,
            Outcome::Failed(error) | Outcome::Retry { error, .. } => Some(error),
        }
    }

    fn state(&self) -> JobState {
        match self {
            Outcome::Succeeded { .. } => JobState::Succeeded,
            Outcome::Failed(_) | Outcome::Retry { .. } => JobState::Failed,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub state: Option<JobState>,
    pub limit: u32,
    /// Only jobs older than this one (the previous page's last id).
    pub before: Option<Uuid>,
}

pub enum Cancelled {
    Done(Job),
    AlreadyFinished(Job),
    NotFound,
}

#[async_trait::async_trait]
pub trait JobStore: Send + Sync {
    async fn ping(&self) -> Result<(), StoreError>;
    async fn submit(&self, job: NewJob) -> Result<Submitted, StoreError>;
    /// The job, if it belongs to `tenant` (any tenant's for `None`).
    async fn get(&self, tenant: Option<&str>, id: Uuid) -> Result<Option<Job>, StoreError>;
    /// The job's attempts, first first.
    async fn attempts(&self, job: Uuid) -> Result<Vec<Attempt>, StoreError>;
    async fn list(&self, tenant: &str, filter: &ListFilter) -> Result<Vec<Job>, StoreError>;
    async fn cancel(&self, tenant: &str, id: Uuid) -> Result<Cancelled, StoreError>;
    /// Takes the next runnable job (highest priority, oldest first) with a new lease.
    async fn claim(&self, worker: &str, ttl: Duration) -> Result<Option<Claimed>, StoreError>;
    /// Renews the lease and records progress; `false` when the lease is no longer held (the
    /// job was cancelled or reclaimed).
    async fn heartbeat(
        &self,
        lease: &Lease,
        ttl: Duration,
        progress: &Progress,
    ) -> Result<bool, StoreError>;
    /// Ends the attempt; `false` (and nothing written) when the lease is no longer held.
    async fn finish(&self, lease: &Lease, outcome: &Outcome) -> Result<bool, StoreError>;
    /// Creates or refreshes a worker's row (`last_seen` = now).
    async fn report_worker(&self, worker: &WorkerInfo) -> Result<(), StoreError>;
    async fn remove_worker(&self, id: &str) -> Result<(), StoreError>;
    /// Workers seen within `within`.
    async fn live_workers(&self, within: Duration) -> Result<Vec<WorkerInfo>, StoreError>;
    /// Wakes `wake` whenever a job is queued anywhere (Postgres `LISTEN/NOTIFY`), until
    /// `shutdown`. Stores that cannot tell return at once; workers then rely on polling.
    async fn watch_queue(&self, _wake: Arc<tokio::sync::Notify>, _shutdown: CancellationToken) {}
    /// Sends running jobs whose lease lapsed back to the queue (or fails them when out of
    /// attempts); returns how many.
    async fn requeue_expired(&self) -> Result<u64, StoreError>;
}

/// An API key as listed (the key itself is never stored).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyInfo {
    pub id: String,
    pub tenant: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Tenants, their API keys (as hashes) and shared secrets.
#[async_trait::async_trait]
pub trait AuthStore: Send + Sync {
    /// The secret stored under `name`, storing `fresh` first if there is none (so every
    /// process agrees on one value).
    async fn ensure_secret(&self, name: &str, fresh: &str) -> Result<String, StoreError>;
    /// Creates the tenant with `fresh_secret` as its webhook secret unless it exists;
    /// returns its webhook secret either way.
    async fn ensure_tenant(&self, name: &str, fresh_secret: &str) -> Result<String, StoreError>;
    async fn tenant_secret(&self, tenant: &str) -> Result<Option<String>, StoreError>;
    async fn create_key(&self, id: &str, tenant: &str, hash: &str) -> Result<(), StoreError>;
    async fn list_keys(&self) -> Result<Vec<KeyInfo>, StoreError>;
    /// `false` when there is no such unrevoked key.
    async fn revoke_key(&self, id: &str) -> Result<bool, StoreError>;
    /// The tenant of an unrevoked key with this hash.
    async fn key_tenant(&self, hash: &str) -> Result<Option<String>, StoreError>;
    /// Whether any unrevoked key exists (then every `/v1` request needs one).
    async fn has_keys(&self) -> Result<bool, StoreError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed; no more are made.
    Failed,
    /// The receiver answered 410 Gone: no more attempts.
    Gone,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Gone => "gone",
        }
    }

    fn parse(text: &str) -> Result<DeliveryState, StoreError> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
            DeliveryState::Gone,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown delivery state {text:?}")))
    }
}

/// One try at delivering a webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryAttempt {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    pub duration_ms: i64,
    /// The receiver's HTTP status; `null` when it did not answer.
    pub status: Option<i32>,
    /// Why the attempt failed, when it did.
    pub error: Option<String>,
}

/// A webhook message for one job event, and its attempts so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    /// The `webhook-id` header: the same on every retry, so receivers can deduplicate.
    pub id: String,
    pub job_id: Uuid,
    #[serde(skip)]
    pub tenant: String,
    pub url: String,
    /// `job.succeeded`, `job.failed` or `job.cancelled`.
    #[serde(rename = "type")]
    pub event: String,
    pub state: DeliveryState,
    /// Attempts made (or begun) so far.
    pub attempts: i32,
    /// When the next attempt is due, while `pending`.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub attempt_log: Vec<DeliveryAttempt>,
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryNext {
    Done(DeliveryState),
    RetryAfter(Duration),
}

/// The webhook outbox. Rows are written by the job store's terminal transitions.
#[async_trait::async_trait]
pub trait Outbox: Send + Sync {
    /// Takes the next due delivery and holds it for `hold` (a deliverer that dies releases
    /// it that way); counts the attempt.
    async fn claim_delivery(&self, hold: Duration) -> Result<Option<Delivery>, StoreError>;
    async fn record_delivery(
        &self,
        id: &str,
        attempt: &DeliveryAttempt,
        next: DeliveryNext,
    ) -> Result<(), StoreError>;
    /// A job's deliveries with their attempts, oldest first.
    async fn deliveries(&self, job: Uuid) -> Result<Vec<Delivery>, StoreError>;
}

/// A model trained by an ML job, as `GET /v1/models` lists it. Its weights live in the result
/// store (`models/{id}/model.json`); this record is a row in the `model` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelInfo {
    /// `model_` and 32 hex digits; ids sort by creation time.
    pub id: String,
    /// The tenant that owns it (`default` while no API key exists).
    #[serde(default)]
    pub tenant: String,
    pub estimator: crate::spec::Estimator,
    /// The parameters it was trained with (scikit-learn names).
    #[schema(value_type = Object)]
    pub params: indexmap::IndexMap<String, serde_json::Value>,
    /// The input columns a frame needs for `predict`.
    pub features: Vec<String>,
    pub target: Option<String>,
    /// Class labels in the order of per-class probabilities (classifiers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// Held-out scores from training.
    pub metrics: std::collections::BTreeMap<String, f64>,
    /// The job that trained it.
    pub job_id: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A page of models: newest first, `limit` of them, older than `before` (a model id).
#[derive(Debug, Clone, Default)]
pub struct ModelFilter {
    pub limit: u32,
    pub before: Option<String>,
}

/// The model table: written when an ML job succeeds, read to list and to check `predict`.
#[async_trait::async_trait]
pub trait ModelStore: Send + Sync {
    /// The tenant's model with this id.
    async fn model(&self, tenant: &str, id: &str) -> Result<Option<ModelInfo>, StoreError>;
    async fn models(
        &self,
        tenant: &str,
        filter: &ModelFilter,
    ) -> Result<Vec<ModelInfo>, StoreError>;
    /// Whether any tenant has a model.
    async fn has_models(&self) -> Result<bool, StoreError>;
    /// Records models found in the result store from before the table existed; ids already
    /// present are left alone. Returns how many were added.
    async fn import_models(&self, models: &[ModelInfo]) -> Result<u64, StoreError>;
}

/// Everything Rusk keeps in its database.
pub trait Store: JobStore + AuthStore + Outbox + ModelStore {}

impl<T: JobStore + AuthStore + Outbox + ModelStore> Store for T {}

/// Connects to the store a URL names and brings its schema up to date.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn parse_state(text: &str) -> Result<JobState, StoreError> {
    JobState::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown state {text:?}")))
}

fn lease_lost_error() -> JobError {
    JobError {
        code: "lease_expired".into(),
        message: "the worker running this job stopped answering, and no attempts are left".into(),
    }
}

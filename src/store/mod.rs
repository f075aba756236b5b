//! The job table: both the API's resource and the work queue; and tenants, keys, the
//! webhook outbox and models. One store, two databases (SQLite, the embedded default;
//! Postgres, for production): each operation's control flow is written once (`jobs.rs`,
//! `auth.rs`, `outbox.rs`, `models.rs`) and runs on either (`sql.rs`).
//!
//! Leases: a worker claims a job with a fresh `lease_id` that expires unless renewed; every
//! later write by that worker names the lease, so a worker that lost it (cancelled, expired and
//! reclaimed) changes nothing.

/// Runs `$body` with `$c` the pool's executor, once per database: the same code, compiled
/// for each database's types.
macro_rules! on_pool {
    ($pool:expr, $c:ident => $body:expr) => {
        match $pool {
            $crate::store::sql::Pool::Postgres($c) => $body,
            $crate::store::sql::Pool::Sqlite($c) => $body,
        }
    };
}

/// Runs `$body` with `$c` the transaction's connection, once per database.
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::store::sql::Tx::Postgres(tx) => {
                let $c = &mut **tx;
                $body
            }
            $crate::store::sql::Tx::Sqlite(tx) => {
                let $c = &mut **tx;
                $body
            }
        }
    };
}

mod auth;
mod jobs;
mod models;
mod outbox;
mod rows;
mod sql;
mod sqlite_tx;
mod tasks;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::domain::{
    Attempt, AttemptOutcome, Delivery, DeliveryAttempt, DeliveryState, Job, JobError, JobState,
    KeyInfo, ModelInfo, Progress, StoredResult, Task, TaskSpan, WorkerInfo,
};
use crate::spec::JobSpec;

/// The store on one of the two databases.
pub struct SqlStore {
    pool: sql::Pool,
    /// Ids of jobs whose row this process changed, sent once the change has committed.
    changed: tokio::sync::broadcast::Sender<Uuid>,
}

/// How many changes a slow watcher may fall behind before it misses some (it then reads the
/// job again, as it would on a missed change anyway).
const CHANGES_BUFFERED: usize = 1024;

/// Connects to the store a URL names (`postgres://…` or `sqlite:…`) and brings its schema up
/// to date.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(SqlStore {
        pool: sql::Pool::connect(url).await?,
        changed: tokio::sync::broadcast::Sender::new(CHANGES_BUFFERED),
    }))
}

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
        result: Box<StoredResult>,
        progress: Progress,
        /// The model an ML job trained, recorded with the job's end (its artifact is already
        /// in the result store).
        model: Option<Box<ModelInfo>>,
        /// How long the result's files are kept; `None`: until the job is deleted.
        keep_for: Option<Duration>,
    },
    /// Fails the job now.
    Failed(JobError),
    /// Back to the queue after `after`, unless the attempts are used up (then failed).
    Retry { error: JobError, after: Duration },
}

impl Outcome {
    /// How the attempt ended, as its log records it.
    pub fn attempt_outcome(&self) -> AttemptOutcome {
        match self {
            Outcome::Succeeded { .. } => AttemptOutcome::Succeeded,
            Outcome::Failed(_) => AttemptOutcome::Failed,
            Outcome::Retry { .. } => AttemptOutcome::Retry,
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
    /// Takes the next runnable job (highest priority, oldest first) with a new lease; jobs
    /// that need a GPU only when the worker `has_gpu`, and then before others of the same
    /// priority (nobody else can run them).
    async fn claim(
        &self,
        worker: &str,
        ttl: Duration,
        has_gpu: bool,
    ) -> Result<Option<Claimed>, StoreError>;
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
    /// Ids of the jobs this process claims, cancels, finishes or records progress of, each
    /// sent once its change has committed (and, with `watch_changes`, those other processes
    /// change): a watcher (`GET /v1/jobs/{id}/events`) hears of the change at once instead
    /// of at its next poll.
    fn changes(&self) -> tokio::sync::broadcast::Receiver<Uuid>;
    /// Adds the jobs other processes change to `changes()` (Postgres `LISTEN/NOTIFY`), until
    /// `shutdown`. Stores that cannot tell return at once; watchers then poll.
    async fn watch_changes(&self, _shutdown: CancellationToken) {}
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
    /// Fails queued jobs that need a GPU and that no GPU worker claimed within their
    /// `timeout_s`; returns how many.
    async fn fail_unclaimed_gpu_jobs(&self) -> Result<u64, StoreError>;
    /// How many jobs are in each state (for the metrics; cheap: one `GROUP BY`).
    async fn count_by_state(&self) -> Result<Vec<(JobState, u64)>, StoreError>;
    /// Removes an ended job of `tenant` (its attempts and deliveries go with it); the row as
    /// it was, to delete its files.
    async fn delete(&self, tenant: &str, id: Uuid) -> Result<Option<Job>, StoreError>;
    /// Marks up to `limit` results past their retention as expired (each to one caller only);
    /// their ids, whose files the caller deletes.
    async fn expire_results(&self, limit: u32) -> Result<Vec<Uuid>, StoreError>;
    /// Removes up to `limit` jobs that ended longer than `age` ago; their ids.
    async fn delete_ended(&self, age: Duration, limit: u32) -> Result<Vec<Uuid>, StoreError>;
    /// Bytes of results `tenant` keeps in the result store.
    async fn stored_bytes(&self, tenant: &str) -> Result<u64, StoreError>;
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
    /// Removes the models a job trained; their ids, whose artifacts the caller deletes.
    async fn delete_models_of(&self, job: Uuid) -> Result<Vec<String>, StoreError>;
    /// Records models found in the result store from before the table existed; ids already
    /// present are left alone. Returns how many were added.
    async fn import_models(&self, models: &[ModelInfo]) -> Result<u64, StoreError>;
}

/// A page of a job's task spans: by attempt, then `seq`.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Only this attempt's.
    pub attempt: Option<i32>,
    /// Only spans after this `(attempt, seq)` (the previous page's last).
    pub after: Option<(i32, i64)>,
    pub limit: u32,
}

/// The task table: what each attempt's operators did, kept with the job.
#[async_trait::async_trait]
pub trait TaskStore: Send + Sync {
    /// Creates or updates the attempt's spans (a span is updated as it runs and when it ends).
    async fn record_tasks(
        &self,
        job: Uuid,
        attempt: i32,
        worker: &str,
        spans: &[TaskSpan],
    ) -> Result<(), StoreError>;
    async fn tasks(&self, job: Uuid, filter: &TaskFilter) -> Result<Vec<Task>, StoreError>;
}

/// Everything Rusk keeps in its database.
pub trait Store: JobStore + AuthStore + Outbox + ModelStore + TaskStore {}

impl<T: JobStore + AuthStore + Outbox + ModelStore + TaskStore> Store for T {}

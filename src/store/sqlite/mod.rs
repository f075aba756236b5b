//! The embedded job store: one SQLite file (WAL), times as Unix milliseconds, JSON as text.
//! SQLite runs one writer at a time, so a claim's `UPDATE … WHERE id = (SELECT …)` is atomic.

mod auth;
mod models;
mod outbox;
mod tx;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use uuid::Uuid;

use tx::Tx;

use super::{
    Attempt, Cancelled, Claimed, Job, JobState, JobStore, Lease, ListFilter, NewJob, Outcome,
    Progress, StoreError, Submitted, WorkerInfo, from_json, lease_lost_error, parse_state, to_json,
};

// Queries are built with format! from this constant and literals only, never from input,
// hence `AssertSqlSafe`; every value is a bind parameter.
const COLUMNS: &str = "id, tenant, spec, state, priority, attempts, max_attempts, created_at, \
                       started_at, finished_at, error, result, progress";

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore { pool })
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    tenant: String,
    spec: String,
    state: String,
    priority: i64,
    attempts: i64,
    max_attempts: i64,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    error: Option<String>,
    result: Option<String>,
    progress: Option<String>,
}

#[derive(sqlx::FromRow)]
struct WorkerRow {
    id: String,
    hostname: String,
    started_at: i64,
    last_seen: i64,
    slots: i64,
    busy: i64,
    capabilities: String,
    current_jobs: String,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    attempt: i64,
    worker_id: String,
    started_at: i64,
    ended_at: Option<i64>,
    outcome: Option<String>,
    error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct KeyedRow {
    #[sqlx(flatten)]
    row: Row,
    request_hash: Option<String>,
}

impl Row {
    fn into_job(self) -> Result<Job, StoreError> {
        let int = |v: i64| i32::try_from(v).map_err(|e| StoreError::Corrupt(e.to_string()));
        Ok(Job {
            id: Uuid::parse_str(&self.id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            tenant: self.tenant,
            spec: from_json(&self.spec)?,
            state: parse_state(&self.state)?,
            priority: int(self.priority)?,
            attempts: int(self.attempts)?,
            max_attempts: int(self.max_attempts)?,
            created_at: time(self.created_at)?,
            started_at: self.started_at.map(time).transpose()?,
            finished_at: self.finished_at.map(time).transpose()?,
            error: self.error.as_deref().map(from_json).transpose()?,
            result: self.result.as_deref().map(from_json).transpose()?,
            progress: self.progress.as_deref().map(from_json).transpose()?,
        })
    }
}

fn time(millis: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| StoreError::Corrupt(format!("bad timestamp {millis}")))
}

fn now() -> i64 {
    Utc::now().timestamp_millis()
}

fn later(after: Duration) -> i64 {
    now().saturating_add(i64::try_from(after.as_millis()).unwrap_or(i64::MAX / 2))
}

#[async_trait::async_trait]
impl JobStore for SqliteStore {
    /// A write, not a read: a store that answers but cannot write is not ready.
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO store_probe (id, checked_at) VALUES (1, ?1) \
             ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
        )
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn submit(&self, job: NewJob) -> Result<Submitted, StoreError> {
        let id = Uuid::now_v7();
        let (key, hash) = job.idempotency.clone().unzip();
        let sql = format!(
            "INSERT INTO job (id, tenant, name, spec, state, priority, attempts, max_attempts, \
             timeout_s, idempotency_key, request_hash, created_at, run_after) \
             VALUES (?1, ?2, ?3, ?4, 'queued', ?5, 0, ?6, ?7, ?8, ?9, ?10, ?10) \
             ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING \
             RETURNING {COLUMNS}"
        );
        let mut tx = Tx::begin(&self.pool).await?;
        let row: Option<Row> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(&job.tenant)
            .bind(&job.spec.name)
            .bind(to_json(&job.spec)?)
            .bind(job.spec.priority)
            .bind(i64::from(job.spec.max_attempts))
            .bind(
                job.spec
                    .timeout_s
                    .map(|t| i64::try_from(t).unwrap_or(i64::MAX)),
            )
            .bind(&key)
            .bind(&hash)
            .bind(now())
            .fetch_optional(&mut *tx)
            .await?;
        // An explicit commit: the row is durable, or the caller hears why not. (A statement's
        // own autocommit can fail after its RETURNING row was read, and that error is lost.)
        tx.commit().await?;
        if let Some(row) = row {
            return Ok(Submitted::Created(row.into_job()?));
        }
        let sql = format!(
            "SELECT {COLUMNS}, request_hash FROM job WHERE tenant = ?1 AND idempotency_key = ?2"
        );
        let first: Option<KeyedRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(&job.tenant)
            .bind(&key)
            .fetch_optional(&self.pool)
            .await?;
        match first {
            Some(first) if first.request_hash == hash => {
                Ok(Submitted::Existing(first.row.into_job()?))
            }
            Some(_) => Ok(Submitted::KeyReused),
            None => Err(StoreError::Corrupt(
                "an idempotency conflict without a row".into(),
            )),
        }
    }

    async fn get(&self, tenant: Option<&str>, id: Uuid) -> Result<Option<Job>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM job WHERE (?1 IS NULL OR tenant = ?1) AND id = ?2");
        let row: Option<Row> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(Row::into_job).transpose()
    }

    async fn attempts(&self, job: Uuid) -> Result<Vec<Attempt>, StoreError> {
        let rows: Vec<AttemptRow> = sqlx::query_as(
            "SELECT attempt, worker_id, started_at, ended_at, outcome, error \
             FROM job_attempt WHERE job_id = ?1 ORDER BY attempt",
        )
        .bind(job.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Attempt {
                    attempt: i32::try_from(r.attempt)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    worker: r.worker_id,
                    started_at: time(r.started_at)?,
                    ended_at: r.ended_at.map(time).transpose()?,
                    outcome: r.outcome,
                    error: r.error.as_deref().map(from_json).transpose()?,
                })
            })
            .collect()
    }

    async fn list(&self, tenant: &str, filter: &ListFilter) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM job WHERE tenant = ?1 AND (?2 IS NULL OR state = ?2) \
             AND (?3 IS NULL OR id < ?3) ORDER BY id DESC LIMIT ?4"
        );
        let rows: Vec<Row> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(filter.state.map(JobState::as_str))
            .bind(filter.before.map(|id| id.to_string()))
            .bind(i64::from(filter.limit))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(Row::into_job).collect()
    }

    async fn cancel(&self, tenant: &str, id: Uuid) -> Result<Cancelled, StoreError> {
        let sql = format!(
            "UPDATE job SET state = 'cancelled', finished_at = ?3, lease_id = NULL, \
             lease_expires_at = NULL WHERE tenant = ?1 AND id = ?2 \
             AND state IN ('queued', 'running') RETURNING {COLUMNS}"
        );
        let mut tx = Tx::begin(&self.pool).await?;
        let row: Option<Row> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(id.to_string())
            .bind(now())
            .fetch_optional(&mut *tx)
            .await?;
        if row.is_some() {
            sqlx::query(
                "UPDATE job_attempt SET ended_at = ?1, outcome = 'cancelled' \
                 WHERE job_id = ?2 AND ended_at IS NULL",
            )
            .bind(now())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
            outbox::enqueue(&mut tx, id).await?;
        }
        tx.commit().await?;
        match row {
            Some(row) => Ok(Cancelled::Done(row.into_job()?)),
            None => Ok(match self.get(Some(tenant), id).await? {
                Some(job) => Cancelled::AlreadyFinished(job),
                None => Cancelled::NotFound,
            }),
        }
    }

    async fn claim(&self, worker: &str, ttl: Duration) -> Result<Option<Claimed>, StoreError> {
        let lease_id = Uuid::new_v4();
        let sql = format!(
            "UPDATE job SET state = 'running', attempts = attempts + 1, lease_id = ?1, \
             lease_expires_at = ?2, worker_id = ?3, started_at = COALESCE(started_at, ?4) \
             WHERE state = 'queued' AND id = (SELECT id FROM job WHERE state = 'queued' \
             AND run_after <= ?4 ORDER BY priority DESC, id LIMIT 1) RETURNING {COLUMNS}"
        );
        let mut tx = Tx::begin(&self.pool).await?;
        let row: Option<Row> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(lease_id.to_string())
            .bind(later(ttl))
            .bind(worker)
            .bind(now())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let claimed = Claimed::new(row.into_job()?, lease_id);
        sqlx::query(
            "INSERT INTO job_attempt (job_id, attempt, worker_id, started_at) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(claimed.lease.job_id.to_string())
        .bind(claimed.lease.attempt)
        .bind(worker)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(claimed))
    }

    async fn heartbeat(
        &self,
        lease: &Lease,
        ttl: Duration,
        progress: &Progress,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE job SET lease_expires_at = ?1, progress = ?4 \
             WHERE id = ?2 AND lease_id = ?3 AND state = 'running'",
        )
        .bind(later(ttl))
        .bind(lease.job_id.to_string())
        .bind(lease.lease_id.to_string())
        .bind(to_json(progress)?)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn finish(&self, lease: &Lease, outcome: &Outcome) -> Result<bool, StoreError> {
        let (result, error, retry_at) = match outcome {
            Outcome::Succeeded { result, .. } => (Some(to_json(result)?), None, None),
            Outcome::Failed(error) => (None, Some(to_json(error)?), None),
            Outcome::Retry { error, after } => (None, Some(to_json(error)?), Some(later(*after))),
        };
        let retry = "?4 IS NOT NULL AND attempts < max_attempts";
        let sql = format!(
            "UPDATE job SET state = CASE WHEN {retry} THEN 'queued' ELSE ?1 END, \
             finished_at = CASE WHEN {retry} THEN NULL ELSE ?5 END, \
             run_after = COALESCE(?4, run_after), result = ?2, error = ?3, \
             progress = COALESCE(?8, progress), lease_id = NULL, lease_expires_at = NULL \
             WHERE id = ?6 AND lease_id = ?7 AND state = 'running' RETURNING state"
        );
        let mut tx = Tx::begin(&self.pool).await?;
        let state: Option<String> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(outcome.state().as_str())
            .bind(result)
            .bind(error)
            .bind(retry_at)
            .bind(now())
            .bind(lease.job_id.to_string())
            .bind(lease.lease_id.to_string())
            .bind(outcome.progress().map(to_json).transpose()?)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(state) = state else {
            return Ok(false);
        };
        // A retry with no attempts left failed the job: the log says so.
        let ended = match outcome {
            Outcome::Retry { .. } if state == "failed" => "failed",
            _ => outcome.attempt_outcome(),
        };
        sqlx::query(
            "UPDATE job_attempt SET ended_at = ?1, outcome = ?2, error = ?3 \
             WHERE job_id = ?4 AND attempt = ?5",
        )
        .bind(now())
        .bind(ended)
        .bind(outcome.error().map(to_json).transpose()?)
        .bind(lease.job_id.to_string())
        .bind(lease.attempt)
        .execute(&mut *tx)
        .await?;
        if let Some(model) = outcome.model() {
            models::record(&mut tx, model).await?;
        }
        outbox::enqueue(&mut tx, lease.job_id).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn report_worker(&self, worker: &WorkerInfo) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO worker (id, hostname, started_at, last_seen, slots, busy, capabilities, \
             current_jobs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT (id) DO UPDATE SET last_seen = ?4, busy = ?6, current_jobs = ?8",
        )
        .bind(&worker.id)
        .bind(&worker.hostname)
        .bind(worker.started_at.timestamp_millis())
        .bind(now())
        .bind(worker.slots)
        .bind(worker.busy)
        .bind(to_json(&worker.capabilities)?)
        .bind(to_json(&worker.current_jobs)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn remove_worker(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM worker WHERE id = ?1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn live_workers(&self, within: Duration) -> Result<Vec<WorkerInfo>, StoreError> {
        let since = now() - i64::try_from(within.as_millis()).unwrap_or(i64::MAX / 2);
        let rows: Vec<WorkerRow> = sqlx::query_as(
            "SELECT id, hostname, started_at, last_seen, slots, busy, capabilities, current_jobs \
             FROM worker WHERE last_seen >= ?1 ORDER BY id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let int = |v: i64| i32::try_from(v).map_err(|e| StoreError::Corrupt(e.to_string()));
                Ok(WorkerInfo {
                    id: r.id,
                    hostname: r.hostname,
                    started_at: time(r.started_at)?,
                    last_seen: time(r.last_seen)?,
                    slots: int(r.slots)?,
                    busy: int(r.busy)?,
                    capabilities: from_json(&r.capabilities)?,
                    current_jobs: from_json(&r.current_jobs)?,
                })
            })
            .collect()
    }

    async fn requeue_expired(&self) -> Result<u64, StoreError> {
        let out_of_attempts = "attempts >= max_attempts";
        let sql = format!(
            "UPDATE job SET state = CASE WHEN {out_of_attempts} THEN 'failed' ELSE 'queued' END, \
             error = CASE WHEN {out_of_attempts} THEN ?1 ELSE error END, \
             finished_at = CASE WHEN {out_of_attempts} THEN ?2 ELSE NULL END, \
             run_after = ?2, lease_id = NULL, lease_expires_at = NULL \
             WHERE state = 'running' AND lease_expires_at < ?2 RETURNING id, state"
        );
        let now = now();
        let mut tx = Tx::begin(&self.pool).await?;
        sqlx::query(
            "UPDATE job_attempt SET ended_at = ?1, outcome = 'lease_expired' \
             WHERE ended_at IS NULL AND (job_id, attempt) IN (SELECT id, attempts FROM job \
             WHERE state = 'running' AND lease_expires_at < ?1)",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let ended: Vec<(String, String)> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(to_json(&lease_lost_error())?)
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
        for (id, _) in ended.iter().filter(|(_, state)| state == "failed") {
            let id = Uuid::parse_str(id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            outbox::enqueue(&mut tx, id).await?;
        }
        tx.commit().await?;
        Ok(ended.len() as u64)
    }
}

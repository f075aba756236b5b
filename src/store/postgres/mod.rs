//! The production job store. Claims take the next job with `FOR UPDATE SKIP LOCKED`, so any
//! number of workers claim concurrently without blocking each other or taking the same job.

mod auth;
mod models;
mod outbox;

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use std::sync::Arc;

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::types::Json;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    Attempt, Cancelled, Capabilities, Claimed, Job, JobError, JobState, JobStore, Lease,
    ListFilter, NewJob, Outcome, Progress, StoreError, StoredResult, Submitted, WorkerInfo,
    lease_lost_error, parse_state, to_json,
};
use crate::spec::JobSpec;

// Queries are built with format! from this constant and literals only, never from input,
// hence `AssertSqlSafe`; every value is a bind parameter.
/// The channel on which submissions announce new jobs.
const QUEUE_CHANNEL: &str = "rusk_jobs";

const COLUMNS: &str = "id, tenant, spec, state, priority, attempts, max_attempts, created_at, \
                       started_at, finished_at, error, result, progress";

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(3))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PostgresStore { pool })
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    tenant: String,
    spec: Json<JobSpec>,
    state: String,
    priority: i32,
    attempts: i32,
    max_attempts: i32,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    error: Option<Json<JobError>>,
    result: Option<Json<StoredResult>>,
    progress: Option<Json<Progress>>,
}

#[derive(sqlx::FromRow)]
struct WorkerRow {
    id: String,
    hostname: String,
    started_at: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    slots: i32,
    busy: i32,
    capabilities: Json<Capabilities>,
    current_jobs: Json<Vec<Uuid>>,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    attempt: i32,
    worker_id: String,
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    outcome: Option<String>,
    error: Option<Json<JobError>>,
}

#[derive(sqlx::FromRow)]
struct KeyedRow {
    #[sqlx(flatten)]
    row: Row,
    request_hash: Option<String>,
}

impl Row {
    fn into_job(self) -> Result<Job, StoreError> {
        Ok(Job {
            id: self.id,
            tenant: self.tenant,
            spec: self.spec.0,
            state: parse_state(&self.state)?,
            priority: self.priority,
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            error: self.error.map(|e| e.0),
            result: self.result.map(|r| r.0),
            progress: self.progress.map(|p| p.0),
        })
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

impl PostgresStore {
    /// Wakes `wake` on each new job until the connection fails; returns why.
    async fn listen(&self, wake: &Notify) -> sqlx::Error {
        let mut listener = match PgListener::connect_with(&self.pool).await {
            Ok(listener) => listener,
            Err(error) => return error,
        };
        if let Err(error) = listener.listen(QUEUE_CHANNEL).await {
            return error;
        }
        loop {
            match listener.recv().await {
                Ok(_) => wake.notify_one(),
                Err(error) => return error,
            }
        }
    }
}

#[async_trait::async_trait]
impl JobStore for PostgresStore {
    /// A write, not a read: a store that answers but cannot write (a read-only replica
    /// after a failover, a full disk) is not ready.
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO store_probe (id, checked_at) VALUES (1, now()) \
             ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn submit(&self, job: NewJob) -> Result<Submitted, StoreError> {
        let (key, hash) = job.idempotency.clone().unzip();
        // The notification rides on the insert (one round trip, sent at its commit); it wakes
        // idle workers in every process, who poll as well, so a lost one costs little.
        let sql = format!(
            "WITH inserted AS (\
             INSERT INTO job (id, tenant, name, spec, state, priority, max_attempts, timeout_s, \
             idempotency_key, request_hash) \
             VALUES ($1, $2, $3, $4::text::json, 'queued', $5, $6, $7, $8, $9) \
             ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING \
             RETURNING {COLUMNS}) \
             SELECT inserted.* FROM inserted CROSS JOIN LATERAL pg_notify($10, '') AS woken"
        );
        let mut tx = self.pool.begin().await?;
        let row: Option<Row> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(Uuid::now_v7())
            .bind(&job.tenant)
            .bind(&job.spec.name)
            // As text: a `jsonb` parameter would reorder the spec's keys.
            .bind(to_json(&job.spec)?)
            .bind(job.spec.priority)
            .bind(i32::try_from(job.spec.max_attempts).unwrap_or(i32::MAX))
            .bind(
                job.spec
                    .timeout_s
                    .map(|t| i64::try_from(t).unwrap_or(i64::MAX)),
            )
            .bind(&key)
            .bind(&hash)
            .bind(QUEUE_CHANNEL)
            .fetch_optional(&mut *tx)
            .await?;
        // An explicit commit: the row is durable, or the caller hears why not. (A statement's
        // own autocommit can fail after its RETURNING row was read, and that error is lost.)
        tx.commit().await?;
        if let Some(row) = row {
            return Ok(Submitted::Created(row.into_job()?));
        }
        let sql = format!(
            "SELECT {COLUMNS}, request_hash FROM job WHERE tenant = $1 AND idempotency_key = $2"
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
        let sql = format!(
            "SELECT {COLUMNS} FROM job WHERE ($1::text IS NULL OR tenant = $1) AND id = $2"
        );
        let row: Option<Row> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(Row::into_job).transpose()
    }

    async fn attempts(&self, job: Uuid) -> Result<Vec<Attempt>, StoreError> {
        let rows: Vec<AttemptRow> = sqlx::query_as(
            "SELECT attempt, worker_id, started_at, ended_at, outcome, error \
             FROM job_attempt WHERE job_id = $1 ORDER BY attempt",
        )
        .bind(job)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Attempt {
                attempt: r.attempt,
                worker: r.worker_id,
                started_at: r.started_at,
                ended_at: r.ended_at,
                outcome: r.outcome,
                error: r.error.map(|e| e.0),
            })
            .collect())
    }

    async fn list(&self, tenant: &str, filter: &ListFilter) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM job WHERE tenant = $1 AND ($2::text IS NULL OR state = $2) \
             AND ($3::uuid IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
        );
        let rows: Vec<Row> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(filter.state.map(JobState::as_str))
            .bind(filter.before)
            .bind(i64::from(filter.limit))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(Row::into_job).collect()
    }

    async fn cancel(&self, tenant: &str, id: Uuid) -> Result<Cancelled, StoreError> {
        let sql = format!(
            "UPDATE job SET state = 'cancelled', finished_at = now(), lease_id = NULL, \
             lease_expires_at = NULL WHERE tenant = $1 AND id = $2 \
             AND state IN ('queued', 'running') RETURNING {COLUMNS}"
        );
        let mut tx = self.pool.begin().await?;
        let row: Option<Row> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if row.is_some() {
            sqlx::query(
                "UPDATE job_attempt SET ended_at = now(), outcome = 'cancelled' \
                 WHERE job_id = $1 AND ended_at IS NULL",
            )
            .bind(id)
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
            "UPDATE job SET state = 'running', attempts = attempts + 1, lease_id = $1, \
             lease_expires_at = now() + $2 * interval '1 millisecond', worker_id = $3, \
             started_at = COALESCE(started_at, now()) \
             WHERE id = (SELECT id FROM job WHERE state = 'queued' AND run_after <= now() \
             ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING {COLUMNS}"
        );
        let mut tx = self.pool.begin().await?;
        let row: Option<Row> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(lease_id)
            .bind(millis(ttl))
            .bind(worker)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let claimed = Claimed::new(row.into_job()?, lease_id);
        sqlx::query(
            "INSERT INTO job_attempt (job_id, attempt, worker_id, started_at) \
             VALUES ($1, $2, $3, now())",
        )
        .bind(claimed.lease.job_id)
        .bind(claimed.lease.attempt)
        .bind(worker)
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
            "UPDATE job SET lease_expires_at = now() + $1 * interval '1 millisecond', \
             progress = $4 WHERE id = $2 AND lease_id = $3 AND state = 'running'",
        )
        .bind(millis(ttl))
        .bind(lease.job_id)
        .bind(lease.lease_id)
        .bind(Json(progress))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn finish(&self, lease: &Lease, outcome: &Outcome) -> Result<bool, StoreError> {
        let (result, error, retry_after) = match outcome {
            Outcome::Succeeded { result, .. } => (Some(Json(result)), None, None),
            Outcome::Failed(error) => (None, Some(Json(error)), None),
            Outcome::Retry { error, after } => (None, Some(Json(error)), Some(millis(*after))),
        };
        let retry = "$4::bigint IS NOT NULL AND attempts < max_attempts";
        let sql = format!(
            "UPDATE job SET state = CASE WHEN {retry} THEN 'queued' ELSE $1 END, \
             finished_at = CASE WHEN {retry} THEN NULL ELSE now() END, \
             run_after = COALESCE(now() + $4 * interval '1 millisecond', run_after), \
             result = $2, error = $3, progress = COALESCE($7, progress), lease_id = NULL, \
             lease_expires_at = NULL WHERE id = $5 AND lease_id = $6 AND state = 'running' RETURNING state"
        );
        let mut tx = self.pool.begin().await?;
        let state: Option<String> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(outcome.state().as_str())
            .bind(result)
            .bind(error)
            .bind(retry_after)
            .bind(lease.job_id)
            .bind(lease.lease_id)
            .bind(outcome.progress().map(Json))
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
            "UPDATE job_attempt SET ended_at = now(), outcome = $1, error = $2 \
             WHERE job_id = $3 AND attempt = $4",
        )
        .bind(ended)
        .bind(outcome.error().map(Json))
        .bind(lease.job_id)
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
             current_jobs) VALUES ($1, $2, $3, now(), $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET last_seen = now(), busy = $5, current_jobs = $7",
        )
        .bind(&worker.id)
        .bind(&worker.hostname)
        .bind(worker.started_at)
        .bind(worker.slots)
        .bind(worker.busy)
        .bind(Json(&worker.capabilities))
        .bind(Json(&worker.current_jobs))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn remove_worker(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM worker WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn live_workers(&self, within: Duration) -> Result<Vec<WorkerInfo>, StoreError> {
        let rows: Vec<WorkerRow> = sqlx::query_as(
            "SELECT id, hostname, started_at, last_seen, slots, busy, capabilities, current_jobs \
             FROM worker WHERE last_seen >= now() - $1 * interval '1 millisecond' ORDER BY id",
        )
        .bind(millis(within))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| WorkerInfo {
                id: r.id,
                hostname: r.hostname,
                started_at: r.started_at,
                last_seen: r.last_seen,
                slots: r.slots,
                busy: r.busy,
                capabilities: r.capabilities.0,
                current_jobs: r.current_jobs.0,
            })
            .collect())
    }

    async fn watch_queue(&self, wake: Arc<Notify>, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            tokio::select! {
                error = self.listen(&wake) => {
                    tracing::warn!(%error, "LISTEN for new jobs failed; polling until it is back");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                _ = shutdown.cancelled() => return,
            }
        }
    }

    async fn requeue_expired(&self) -> Result<u64, StoreError> {
        let out_of_attempts = "attempts >= max_attempts";
        let sql = format!(
            "UPDATE job SET state = CASE WHEN {out_of_attempts} THEN 'failed' ELSE 'queued' END, \
             error = CASE WHEN {out_of_attempts} THEN $1 ELSE error END, \
             finished_at = CASE WHEN {out_of_attempts} THEN now() ELSE NULL END, \
             run_after = now(), lease_id = NULL, lease_expires_at = NULL \
             WHERE state = 'running' AND lease_expires_at < now() RETURNING id, state"
        );
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE job_attempt SET ended_at = now(), outcome = 'lease_expired' \
             WHERE ended_at IS NULL AND (job_id, attempt) IN (SELECT id, attempts FROM job \
             WHERE state = 'running' AND lease_expires_at < now())",
        )
        .execute(&mut *tx)
        .await?;
        let ended: Vec<(Uuid, String)> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(Json(lease_lost_error()))
            .fetch_all(&mut *tx)
            .await?;
        for (id, _) in ended.iter().filter(|(_, state)| state == "failed") {
            outbox::enqueue(&mut tx, *id).await?;
        }
        tx.commit().await?;
        Ok(ended.len() as u64)
    }
}

//! The job table and queue: each operation's control flow, once for both databases.

use std::time::Duration;

use sqlx::AssertSqlSafe;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::rows::{
    AttemptRow, JobRow, KeyedRow, WorkerRow, attempt_columns, job_columns, lit, millis, named,
    to_json, uuid, worker_columns,
};
use super::sql::Tx;
use super::{
    Cancelled, Claimed, JobStore, Lease, ListFilter, NewJob, Outcome, SqlStore, StoreError,
    Submitted, models, outbox,
};
use crate::domain::{
    Attempt, AttemptOutcome, ErrorCode, EventType, Job, JobError, JobState, Named, Progress,
    WorkerInfo,
};
use crate::spec::GpuUse;

use JobState::{Cancelled as CANCELLED, Failed as FAILED, Queued as QUEUED, Running as RUNNING};

#[async_trait::async_trait]
impl JobStore for SqlStore {
    /// A write, not a read: a store that answers but cannot write (a read-only replica
    /// after a failover, a full disk) is not ready.
    async fn ping(&self) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO store_probe (id, checked_at) VALUES (1, {}) \
             ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
            self.pool.dialect().now()
        );
        on_pool!(&self.pool, c => sqlx::query(AssertSqlSafe(sql)).execute(c).await.map(|done| done.rows_affected()))?;
        Ok(())
    }

    async fn submit(&self, job: NewJob) -> Result<Submitted, StoreError> {
        let d = self.pool.dialect();
        let (key, hash) = job.idempotency.clone().unzip();
        let sql = format!(
            "INSERT INTO job (id, tenant, name, spec, state, priority, attempts, max_attempts, \
             timeout_s, idempotency_key, request_hash, created_at, run_after, needs_gpu, \
             wait_until) \
             VALUES ({}, $2, $3, {}, {}, $5, 0, $6, $7, $8, $9, {now}, {now}, $10, \
             CASE WHEN $10 THEN {} END) \
             ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING \
             RETURNING {}",
            d.uuid("$1"),
            d.json("$4"),
            lit(QUEUED),
            d.later("$11"),
            job_columns(d),
            now = d.now(),
        );
        let spec = to_json(&job.spec)?;
        let needs_gpu = job.spec.resources.gpu == GpuUse::Require;
        // A GPU job waits for a GPU worker at most its timeout.
        let wait = job.spec.timeout_s.map(|t| millis(Duration::from_secs(t)));
        let max_attempts = i32::try_from(job.spec.max_attempts).unwrap_or(i32::MAX);
        let timeout = job
            .spec
            .timeout_s
            .map(|t| i64::try_from(t).unwrap_or(i64::MAX));
        let mut tx = self.pool.begin().await?;
        let row: Option<JobRow> = on_tx!(&mut tx, c => sqlx::query_as(AssertSqlSafe(sql))
            .bind(Uuid::now_v7().to_string())
            .bind(&job.tenant)
            .bind(&job.spec.name)
            .bind(&spec)
            .bind(job.spec.priority)
            .bind(max_attempts)
            .bind(timeout)
            .bind(&key)
            .bind(&hash)
            .bind(needs_gpu)
            .bind(wait)
            .fetch_optional(c)
            .await)?;
        if row.is_some() {
            tx.announce_job().await?;
        }
        // An explicit commit: the row is durable, or the caller hears why not. (A statement's
        // own autocommit can fail after its RETURNING row was read, and that error is lost.)
        tx.commit().await?;
        if let Some(row) = row {
            return Ok(Submitted::Created(row.into_job()?));
        }
        match self.keyed(&job.tenant, key.as_deref()).await? {
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
        let d = self.pool.dialect();
        let sql = format!(
            "SELECT {} FROM job WHERE ($1 IS NULL OR tenant = $1) AND id = {}",
            job_columns(d),
            d.uuid("$2")
        );
        let row: Option<JobRow> = on_pool!(&self.pool, c => sqlx::query_as(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(id.to_string())
            .fetch_optional(c)
            .await)?;
        row.map(JobRow::into_job).transpose()
    }

    async fn attempts(&self, job: Uuid) -> Result<Vec<Attempt>, StoreError> {
        let d = self.pool.dialect();
        let sql = format!(
            "SELECT {} FROM job_attempt WHERE job_id = {} ORDER BY attempt",
            attempt_columns(d),
            d.uuid("$1")
        );
        let rows: Vec<AttemptRow> = on_pool!(&self.pool, c => sqlx::query_as(AssertSqlSafe(sql))
            .bind(job.to_string())
            .fetch_all(c)
            .await)?;
        rows.into_iter().map(AttemptRow::into_attempt).collect()
    }

    async fn list(&self, tenant: &str, filter: &ListFilter) -> Result<Vec<Job>, StoreError> {
        let d = self.pool.dialect();
        let sql = format!(
            "SELECT {} FROM job WHERE tenant = $1 AND ($2 IS NULL OR state = $2) \
             AND ($3 IS NULL OR id < {}) ORDER BY id DESC LIMIT $4",
            job_columns(d),
            d.uuid("$3")
        );
        let rows: Vec<JobRow> = on_pool!(&self.pool, c => sqlx::query_as(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(filter.state.map(JobState::as_str))
            .bind(filter.before.map(|id| id.to_string()))
            .bind(i64::from(filter.limit))
            .fetch_all(c)
            .await)?;
        rows.into_iter().map(JobRow::into_job).collect()
    }

    async fn cancel(&self, tenant: &str, id: Uuid) -> Result<Cancelled, StoreError> {
        let d = self.pool.dialect();
        let sql = format!(
            "UPDATE job SET state = {}, finished_at = {}, lease_id = NULL, \
             lease_expires_at = NULL WHERE tenant = $1 AND id = {} \
             AND state IN ({}, {}) RETURNING {}",
            lit(CANCELLED),
            d.now(),
            d.uuid("$2"),
            lit(QUEUED),
            lit(RUNNING),
            job_columns(d)
        );
        let mut tx = self.pool.begin().await?;
        let row: Option<JobRow> = on_tx!(&mut tx, c => sqlx::query_as(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(id.to_string())
            .fetch_optional(c)
            .await)?;
        if row.is_some() {
            end_open_attempt(&mut tx, id).await?;
            outbox::enqueue(&mut tx, id, EventType::JobCancelled).await?;
        }
        tx.commit().await?;
        match row {
            Some(row) => {
                self.announce(id).await;
                Ok(Cancelled::Done(row.into_job()?))
            }
            None => Ok(match self.get(Some(tenant), id).await? {
                Some(job) => Cancelled::AlreadyFinished(job),
                None => Cancelled::NotFound,
            }),
        }
    }

    async fn claim(
        &self,
        worker: &str,
        ttl: Duration,
        has_gpu: bool,
    ) -> Result<Option<Claimed>, StoreError> {
        let d = self.pool.dialect();
        let lease_id = Uuid::new_v4();
        let sql = format!(
            "UPDATE job SET state = {running}, attempts = attempts + 1, lease_id = {}, \
             lease_expires_at = {}, worker_id = $3, started_at = COALESCE(started_at, {now}) \
             WHERE state = {queued} AND id = (SELECT id FROM job WHERE state = {queued} \
             AND run_after <= {now} AND ($4 OR NOT needs_gpu) \
             ORDER BY priority DESC, (needs_gpu AND $4) DESC, id LIMIT 1{}) RETURNING {}",
            d.uuid("$1"),
            d.later("$2"),
            d.skip_locked(),
            job_columns(d),
            running = lit(RUNNING),
            queued = lit(QUEUED),
            now = d.now(),
        );
        let mut tx = self.pool.begin().await?;
        let row: Option<JobRow> = on_tx!(&mut tx, c => sqlx::query_as(AssertSqlSafe(sql))
            .bind(lease_id.to_string())
            .bind(millis(ttl))
            .bind(worker)
            .bind(has_gpu)
            .fetch_optional(c)
            .await)?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(None);
        };
        let claimed = Claimed::new(row.into_job()?, lease_id);
        let sql = format!(
            "INSERT INTO job_attempt (job_id, attempt, worker_id, started_at) \
             VALUES ({}, $2, $3, {})",
            d.uuid("$1"),
            d.now()
        );
        on_tx!(&mut tx, c => sqlx::query(AssertSqlSafe(sql))
            .bind(claimed.lease.job_id.to_string())
            .bind(claimed.lease.attempt)
            .bind(worker)
            .execute(c)
            .await
            .map(|done| done.rows_affected()))?;
        tx.commit().await?;
        self.announce(claimed.lease.job_id).await;
        Ok(Some(claimed))
    }

    async fn heartbeat(
        &self,
        lease: &Lease,
        ttl: Duration,
        progress: &Progress,
    ) -> Result<bool, StoreError> {
        let d = self.pool.dialect();
        let sql = format!(
            "UPDATE job SET lease_expires_at = {}, progress = {} \
             WHERE id = {} AND lease_id = {} AND state = {}",
            d.later("$1"),
            d.jsonb("$4"),
            d.uuid("$2"),
            d.uuid("$3"),
            lit(RUNNING)
        );
        let progress = to_json(progress)?;
        let done = on_pool!(&self.pool, c => sqlx::query(AssertSqlSafe(sql))
            .bind(millis(ttl))
            .bind(lease.job_id.to_string())
            .bind(lease.lease_id.to_string())
            .bind(&progress)
            .execute(c)
            .await
            .map(|done| done.rows_affected()))?;
        if done == 1 {
            self.announce(lease.job_id).await;
        }
        Ok(done == 1)
    }

    async fn finish(&self, lease: &Lease, outcome: &Outcome) -> Result<bool, StoreError> {
        let d = self.pool.dialect();
        let (result, error, retry_after) = match outcome {
            Outcome::Succeeded { result, .. } => (Some(to_json(result)?), None, None),
            Outcome::Failed(error) => (None, Some(to_json(error)?), None),
            Outcome::Retry { error, after } => (None, Some(to_json(error)?), Some(millis(*after))),
        };
        // What the result keeps in the result store, and for how long.
        let (stored, keep_for) = match outcome {
            Outcome::Succeeded {
                result, keep_for, ..
            } => {
                let in_store = result.destination.is_none();
                let bytes = if in_store { result.bytes } else { 0 };
                let keep_for = keep_for.filter(|_| in_store).map(millis);
                (i64::try_from(bytes).unwrap_or(i64::MAX), keep_for)
            }
            _ => (0, None),
        };
        let progress = outcome.progress().map(to_json).transpose()?;
        let retry = "$4 IS NOT NULL AND attempts < max_attempts";
        let sql = format!(
            "UPDATE job SET state = CASE WHEN {retry} THEN {} ELSE $1 END, \
             finished_at = CASE WHEN {retry} THEN NULL ELSE {} END, \
             run_after = COALESCE({}, run_after), result = {}, error = {}, \
             progress = COALESCE({}, progress), lease_id = NULL, lease_expires_at = NULL, \
             result_bytes = $8, result_expires_at = {} \
             WHERE id = {} AND lease_id = {} AND state = {} RETURNING state",
            lit(QUEUED),
            d.now(),
            d.later("$4"),
            d.jsonb("$2"),
            d.jsonb("$3"),
            d.jsonb("$7"),
            d.later("$9"),
            d.uuid("$5"),
            d.uuid("$6"),
            lit(RUNNING),
        );
        let mut tx = self.pool.begin().await?;
        let state: Option<String> = on_tx!(&mut tx, c => sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(outcome.state().as_str())
            .bind(&result)
            .bind(&error)
            .bind(retry_after)
            .bind(lease.job_id.to_string())
            .bind(lease.lease_id.to_string())
            .bind(&progress)
            .bind(stored)
            .bind(keep_for)
            .fetch_optional(c)
            .await)?;
        let Some(state) = state else {
            tx.rollback().await?;
            return Ok(false);
        };
        let state: JobState = named(&state)?;
        // A retry with no attempts left failed the job: the log says so.
        let ended = match outcome {
            Outcome::Retry { .. } if state == FAILED => AttemptOutcome::Failed,
            _ => outcome.attempt_outcome(),
        };
        end_attempt(&mut tx, lease.job_id, lease.attempt, ended, outcome.error()).await?;
        if let Some(model) = outcome.model() {
            models::record(&mut tx, model).await?;
        }
        if let Some(event) = EventType::of(state) {
            outbox::enqueue(&mut tx, lease.job_id, event).await?;
        }
        tx.commit().await?;
        self.announce(lease.job_id).await;
        Ok(true)
    }

    fn changes(&self) -> tokio::sync::broadcast::Receiver<Uuid> {
        self.changed.subscribe()
    }

    async fn watch_changes(&self, shutdown: CancellationToken) {
        self.pool
            .watch_changes(self.changed.clone(), shutdown)
            .await;
    }

    async fn report_worker(&self, worker: &WorkerInfo) -> Result<(), StoreError> {
        let d = self.pool.dialect();
        let sql = format!(
            "INSERT INTO worker (id, hostname, started_at, last_seen, slots, busy, capabilities, \
             current_jobs, load) VALUES ($1, $2, {}, {now}, $4, $5, {}, {}, {}) \
             ON CONFLICT (id) DO UPDATE SET last_seen = {now}, busy = $5, \
             current_jobs = excluded.current_jobs, load = excluded.load",
            d.time("$3"),
            d.jsonb("$6"),
            d.jsonb("$7"),
            d.jsonb("$8"),
            now = d.now(),
        );
        let capabilities = to_json(&worker.capabilities)?;
        let current = to_json(&worker.current_jobs)?;
        let load = to_json(&worker.load)?;
        on_pool!(&self.pool, c => sqlx::query(AssertSqlSafe(sql))
            .bind(&worker.id)
            .bind(&worker.hostname)
            .bind(worker.started_at.timestamp_millis())
            .bind(worker.slots)
            .bind(worker.busy)
            .bind(&capabilities)
            .bind(&current)
            .bind(&load)
            .execute(c)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    async fn remove_worker(&self, id: &str) -> Result<(), StoreError> {
        on_pool!(&self.pool, c => sqlx::query("DELETE FROM worker WHERE id = $1")
            .bind(id)
            .execute(c)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    async fn live_workers(&self, within: Duration) -> Result<Vec<WorkerInfo>, StoreError> {
        let d = self.pool.dialect();
        let sql = format!(
            "SELECT {} FROM worker WHERE last_seen >= {} ORDER BY id",
            worker_columns(d),
            d.earlier("$1")
        );
        let rows: Vec<WorkerRow> = on_pool!(&self.pool, c => sqlx::query_as(AssertSqlSafe(sql))
            .bind(millis(within))
            .fetch_all(c)
            .await)?;
        rows.into_iter().map(WorkerRow::into_worker).collect()
    }

    async fn watch_queue(
        &self,
        wake: std::sync::Arc<tokio::sync::Notify>,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        self.pool.watch_queue(wake, shutdown).await;
    }

    async fn requeue_expired(&self) -> Result<u64, StoreError> {
        let d = self.pool.dialect();
        let out_of_attempts = "attempts >= max_attempts";
        let sql = format!(
            "UPDATE job SET state = CASE WHEN {out_of_attempts} THEN {} ELSE {} END, \
             error = CASE WHEN {out_of_attempts} THEN {} ELSE error END, \
             finished_at = CASE WHEN {out_of_attempts} THEN {now} ELSE NULL END, \
             run_after = {now}, lease_id = NULL, lease_expires_at = NULL \
             WHERE state = {} AND lease_expires_at < {now} RETURNING {}, attempts, state",
            lit(FAILED),
            lit(QUEUED),
            d.jsonb("$1"),
            lit(RUNNING),
            d.text("id"),
            now = d.now(),
        );
        let lost = to_json(&JobError::new(
            ErrorCode::LeaseExpired,
            "the worker running this job stopped answering, and no attempts are left",
        ))?;
        let mut tx = self.pool.begin().await?;
        let ended: Vec<(String, i32, String)> = on_tx!(&mut tx, c => sqlx::query_as(AssertSqlSafe(sql))
                .bind(&lost)
                .fetch_all(c)
                .await)?;
        for (id, attempt, state) in &ended {
            let job = uuid(id)?;
            end_attempt(&mut tx, job, *attempt, AttemptOutcome::LeaseExpired, None).await?;
            if named::<JobState>(state)? == FAILED {
                outbox::enqueue(&mut tx, job, EventType::JobFailed).await?;
            }
        }
        tx.commit().await?;
        Ok(ended.len() as u64)
    }

    /// Fails queued GPU jobs that no GPU worker claimed within their `timeout_s`.
    async fn fail_unclaimed_gpu_jobs(&self) -> Result<u64, StoreError> {
        let d = self.pool.dialect();
        let sql = format!(
            "UPDATE job SET state = {}, error = {}, finished_at = {now} \
             WHERE state = {} AND wait_until < {now} RETURNING {}",
            lit(FAILED),
            d.jsonb("$1"),
            lit(QUEUED),
            d.text("id"),
            now = d.now(),
        );
        let error = to_json(&JobError::new(
            ErrorCode::Timeout,
            "no worker with a GPU claimed this job within its timeout_s (resources.gpu is true)",
        ))?;
        let mut tx = self.pool.begin().await?;
        let failed: Vec<(String,)> = on_tx!(&mut tx, c => sqlx::query_as(AssertSqlSafe(sql))
            .bind(&error)
            .fetch_all(c)
            .await)?;
        for (id,) in &failed {
            outbox::enqueue(&mut tx, uuid(id)?, EventType::JobFailed).await?;
        }
        tx.commit().await?;
        Ok(failed.len() as u64)
    }

    async fn delete(&self, tenant: &str, id: Uuid) -> Result<Option<Job>, StoreError> {
        let d = self.pool.dialect();
        let sql = format!(
            "DELETE FROM job WHERE tenant = $1 AND id = {} AND state NOT IN ({}, {}) \
             RETURNING {}",
            d.uuid("$2"),
            lit(QUEUED),
            lit(RUNNING),
            job_columns(d)
        );
        let mut tx = self.pool.begin().await?;
        let row: Option<JobRow> = on_tx!(&mut tx, c => sqlx::query_as(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(id.to_string())
            .fetch_optional(c)
            .await)?;
        tx.commit().await?;
        row.map(JobRow::into_job).transpose()
    }

    async fn expire_results(&self, limit: u32) -> Result<Vec<Uuid>, StoreError> {
        let d = self.pool.dialect();
        let sql = format!(
            "UPDATE job SET result_expired_at = {now}, result_bytes = 0 WHERE id IN \
             (SELECT id FROM job WHERE result_expires_at IS NOT NULL \
             AND result_expired_at IS NULL AND result_expires_at < {now} LIMIT $1{}) \
             AND result_expired_at IS NULL RETURNING {}",
            d.skip_locked(),
            d.text("id"),
            now = d.now(),
        );
        self.ids_of(sql, i64::from(limit), None).await
    }

    async fn delete_ended(&self, age: Duration, limit: u32) -> Result<Vec<Uuid>, StoreError> {
        let d = self.pool.dialect();
        let sql = format!(
            "DELETE FROM job WHERE id IN (SELECT id FROM job WHERE finished_at IS NOT NULL \
             AND state NOT IN ({}, {}) AND finished_at < {} LIMIT $1{}) RETURNING {}",
            lit(QUEUED),
            lit(RUNNING),
            d.earlier("$2"),
            d.skip_locked(),
            d.text("id"),
        );
        self.ids_of(sql, i64::from(limit), Some(millis(age))).await
    }

    async fn count_by_state(&self) -> Result<Vec<(JobState, u64)>, StoreError> {
        let sql = "SELECT state, CAST(count(*) AS BIGINT) FROM job GROUP BY state";
        let rows: Vec<(String, i64)> =
            on_pool!(&self.pool, c => sqlx::query_as(sql).fetch_all(c).await)?;
        rows.into_iter()
            .map(|(state, n)| Ok((named(&state)?, u64::try_from(n).unwrap_or(0))))
            .collect()
    }

    async fn stored_bytes(&self, tenant: &str) -> Result<u64, StoreError> {
        let sql =
            "SELECT CAST(COALESCE(SUM(result_bytes), 0) AS BIGINT) FROM job WHERE tenant = $1";
        let bytes: i64 = on_pool!(&self.pool, c => sqlx::query_scalar(sql)
            .bind(tenant)
            .fetch_one(c)
            .await)?;
        Ok(u64::try_from(bytes).unwrap_or(0))
    }
}

impl SqlStore {
    /// Tells the watchers of this process, and of the others, that `job` changed (once
    /// committed). A lost word costs a watcher one poll's wait, so it does not fail the write.
    async fn announce(&self, job: Uuid) {
        let _ = self.changed.send(job);
        if let Err(error) = self.pool.announce_change(job).await {
            tracing::warn!(%error, %job, "cannot announce the job's change to other processes");
        }
    }

    /// Runs a write returning job ids, with `$1` and (if given) `$2` bound.
    async fn ids_of(
        &self,
        sql: String,
        first: i64,
        second: Option<i64>,
    ) -> Result<Vec<Uuid>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let ids: Vec<String> = on_tx!(&mut tx, c => {
            let query = sqlx::query_scalar(AssertSqlSafe(sql.clone())).bind(first);
            match second {
                Some(second) => query.bind(second).fetch_all(c).await,
                None => query.fetch_all(c).await,
            }
        })?;
        tx.commit().await?;
        ids.iter().map(|id| uuid(id)).collect()
    }

    /// The job a tenant submitted with this idempotency key, and the request's hash.
    async fn keyed(&self, tenant: &str, key: Option<&str>) -> Result<Option<KeyedRow>, StoreError> {
        let sql = format!(
            "SELECT {}, request_hash FROM job WHERE tenant = $1 AND idempotency_key = $2",
            job_columns(self.pool.dialect())
        );
        Ok(on_pool!(&self.pool, c => sqlx::query_as(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(key)
            .fetch_optional(c)
            .await)?)
    }
}

/// Records how attempt `attempt` of `job` ended.
async fn end_attempt(
    tx: &mut Tx,
    job: Uuid,
    attempt: i32,
    outcome: AttemptOutcome,
    error: Option<&JobError>,
) -> Result<(), StoreError> {
    let d = tx.dialect();
    let sql = format!(
        "UPDATE job_attempt SET ended_at = {}, outcome = $1, error = {} \
         WHERE job_id = {} AND attempt = $4",
        d.now(),
        d.jsonb("$2"),
        d.uuid("$3")
    );
    let error = error.map(to_json).transpose()?;
    on_tx!(tx, c => sqlx::query(AssertSqlSafe(sql))
        .bind(outcome.as_str())
        .bind(&error)
        .bind(job.to_string())
        .bind(attempt)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Ends a cancelled job's running attempt, if it has one.
async fn end_open_attempt(tx: &mut Tx, job: Uuid) -> Result<(), StoreError> {
    let d = tx.dialect();
    let sql = format!(
        "UPDATE job_attempt SET ended_at = {}, outcome = {} WHERE job_id = {} AND ended_at IS NULL",
        d.now(),
        lit(AttemptOutcome::Cancelled),
        d.uuid("$1")
    );
    on_tx!(tx, c => sqlx::query(AssertSqlSafe(sql))
        .bind(job.to_string())
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}

//! Rows as both databases return them (text, integers, Unix milliseconds; see `sql.rs`),
//! and their decoding into the domain's types.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::StoreError;
use super::sql::Dialect;
use crate::domain::{
    Attempt, AttemptOutcome, Delivery, DeliveryAttempt, DeliveryState, EventType, Job, KeyInfo,
    Named, WorkerInfo,
};

/// The `job` columns a `JobRow` decodes.
pub(super) fn job_columns(d: Dialect) -> String {
    format!(
        "{}, tenant, {}, state, priority, attempts, max_attempts, {}, {}, {}, {}, {}, {}, {}, {}",
        d.text("id"),
        d.text("spec"),
        d.millis("created_at"),
        d.millis("started_at"),
        d.millis("finished_at"),
        d.text("error"),
        d.text("result"),
        d.text("progress"),
        d.millis("result_expires_at"),
        d.millis("result_expired_at"),
    )
}

#[derive(sqlx::FromRow)]
pub(super) struct JobRow {
    id: String,
    tenant: String,
    spec: String,
    state: String,
    priority: i32,
    attempts: i32,
    max_attempts: i32,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    error: Option<String>,
    result: Option<String>,
    progress: Option<String>,
    result_expires_at: Option<i64>,
    result_expired_at: Option<i64>,
}

impl JobRow {
    pub(super) fn into_job(self) -> Result<Job, StoreError> {
        Ok(Job {
            id: uuid(&self.id)?,
            tenant: self.tenant,
            spec: from_json(&self.spec)?,
            state: named(&self.state)?,
            priority: self.priority,
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            created_at: time(self.created_at)?,
            started_at: self.started_at.map(time).transpose()?,
            finished_at: self.finished_at.map(time).transpose()?,
            error: self.error.as_deref().map(from_json).transpose()?,
            result: self.result.as_deref().map(from_json).transpose()?,
            progress: self.progress.as_deref().map(from_json).transpose()?,
            result_expires_at: self.result_expires_at.map(time).transpose()?,
            result_expired_at: self.result_expired_at.map(time).transpose()?,
        })
    }
}

/// A job row with the request hash its idempotency key came with.
#[derive(sqlx::FromRow)]
pub(super) struct KeyedRow {
    #[sqlx(flatten)]
    pub(super) row: JobRow,
    pub(super) request_hash: Option<String>,
}

pub(super) fn attempt_columns(d: Dialect) -> String {
    format!(
        "attempt, worker_id, {}, {}, outcome, {}",
        d.millis("started_at"),
        d.millis("ended_at"),
        d.text("error")
    )
}

#[derive(sqlx::FromRow)]
pub(super) struct AttemptRow {
    attempt: i32,
    worker_id: String,
    started_at: i64,
    ended_at: Option<i64>,
    outcome: Option<String>,
    error: Option<String>,
}

impl AttemptRow {
    pub(super) fn into_attempt(self) -> Result<Attempt, StoreError> {
        Ok(Attempt {
            attempt: self.attempt,
            worker: self.worker_id,
            started_at: time(self.started_at)?,
            ended_at: self.ended_at.map(time).transpose()?,
            outcome: self
                .outcome
                .as_deref()
                .map(named::<AttemptOutcome>)
                .transpose()?,
            error: self.error.as_deref().map(from_json).transpose()?,
        })
    }
}

pub(super) fn worker_columns(d: Dialect) -> String {
    format!(
        "id, hostname, {}, {}, slots, busy, {}, {}, {}",
        d.millis("started_at"),
        d.millis("last_seen"),
        d.text("capabilities"),
        d.text("current_jobs"),
        d.text("load")
    )
}

#[derive(sqlx::FromRow)]
pub(super) struct WorkerRow {
    id: String,
    hostname: String,
    started_at: i64,
    last_seen: i64,
    slots: i32,
    busy: i32,
    capabilities: String,
    current_jobs: String,
    load: String,
}

impl WorkerRow {
    pub(super) fn into_worker(self) -> Result<WorkerInfo, StoreError> {
        Ok(WorkerInfo {
            id: self.id,
            hostname: self.hostname,
            started_at: time(self.started_at)?,
            last_seen: time(self.last_seen)?,
            slots: self.slots,
            busy: self.busy,
            capabilities: from_json(&self.capabilities)?,
            current_jobs: from_json(&self.current_jobs)?,
            load: from_json(&self.load)?,
        })
    }
}

pub(super) fn key_columns(d: Dialect) -> String {
    format!(
        "id, tenant, {}, {}",
        d.millis("created_at"),
        d.millis("revoked_at")
    )
}

#[derive(sqlx::FromRow)]
pub(super) struct KeyRow {
    id: String,
    tenant: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl KeyRow {
    pub(super) fn into_key(self) -> Result<KeyInfo, StoreError> {
        Ok(KeyInfo {
            id: self.id,
            tenant: self.tenant,
            created_at: time(self.created_at)?,
            revoked_at: self.revoked_at.map(time).transpose()?,
        })
    }
}

pub(super) fn delivery_columns(d: Dialect) -> String {
    format!(
        "id, {}, tenant, url, event, state, attempts, {}, {}",
        d.text("job_id"),
        d.millis("next_at"),
        d.millis("created_at")
    )
}

#[derive(sqlx::FromRow)]
pub(super) struct DeliveryRow {
    pub(super) id: String,
    job_id: String,
    tenant: String,
    url: String,
    event: String,
    state: String,
    attempts: i32,
    next_at: i64,
    created_at: i64,
}

impl DeliveryRow {
    pub(super) fn into_delivery(self, log: Vec<DeliveryAttempt>) -> Result<Delivery, StoreError> {
        let state: DeliveryState = named(&self.state)?;
        Ok(Delivery {
            id: self.id,
            job_id: uuid(&self.job_id)?,
            tenant: self.tenant,
            url: self.url,
            event: named::<EventType>(&self.event)?,
            state,
            attempts: self.attempts,
            next_attempt_at: match state {
                DeliveryState::Pending => Some(time(self.next_at)?),
                _ => None,
            },
            created_at: time(self.created_at)?,
            attempt_log: log,
        })
    }
}

pub(super) fn delivery_attempt_columns(d: Dialect) -> String {
    format!(
        "a.delivery_id, a.attempt, {}, a.duration_ms, a.status, a.error",
        d.millis("a.at")
    )
}

#[derive(sqlx::FromRow)]
pub(super) struct DeliveryAttemptRow {
    pub(super) delivery_id: String,
    attempt: i32,
    at: i64,
    duration_ms: i64,
    status: Option<i32>,
    error: Option<String>,
}

impl DeliveryAttemptRow {
    pub(super) fn to_attempt(&self) -> Result<DeliveryAttempt, StoreError> {
        Ok(DeliveryAttempt {
            attempt: self.attempt,
            at: time(self.at)?,
            duration_ms: self.duration_ms,
            status: self.status,
            error: self.error.clone(),
        })
    }
}

pub(super) fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn named<T: Named>(text: &str) -> Result<T, StoreError> {
    T::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown name {text:?}")))
}

pub(super) fn uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn time(millis: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| StoreError::Corrupt(format!("bad timestamp {millis}")))
}

/// A duration as the milliseconds SQL adds to a time.
pub(super) fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

/// A state as an SQL literal: typed here, and a literal there so that partial indexes
/// (`WHERE state = 'queued'`) serve the query.
pub(super) fn lit<T: Named>(value: T) -> String {
    format!("'{}'", value.as_str())
}

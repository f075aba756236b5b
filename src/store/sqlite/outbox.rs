//! The webhook outbox in SQLite. One writer at a time makes the claim's
//! `UPDATE … WHERE id = (SELECT …)` atomic.

use super::tx::Tx;
use std::time::Duration;

use sqlx::{AssertSqlSafe, SqliteConnection};
use uuid::Uuid;

use super::{SqliteStore, later, now, time};
use crate::store::{Delivery, DeliveryAttempt, DeliveryNext, DeliveryState, Outbox, StoreError};

// Built with format! from constants only; values are bind parameters.
const COLUMNS: &str = "id, job_id, tenant, url, event, state, attempts, next_at, created_at";

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    job_id: String,
    tenant: String,
    url: String,
    event: String,
    state: String,
    attempts: i64,
    next_at: i64,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    delivery_id: String,
    attempt: i64,
    at: i64,
    duration_ms: i64,
    status: Option<i64>,
    error: Option<String>,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl DeliveryRow {
    fn into_delivery(self, log: Vec<DeliveryAttempt>) -> Result<Delivery, StoreError> {
        let state = DeliveryState::parse(&self.state)?;
        Ok(Delivery {
            id: self.id,
            job_id: Uuid::parse_str(&self.job_id).map_err(corrupt)?,
            tenant: self.tenant,
            url: self.url,
            event: self.event,
            state,
            attempts: i32::try_from(self.attempts).map_err(corrupt)?,
            next_attempt_at: match state {
                DeliveryState::Pending => Some(time(self.next_at)?),
                _ => None,
            },
            created_at: time(self.created_at)?,
            attempt_log: log,
        })
    }
}

impl AttemptRow {
    fn to_attempt(&self) -> Result<DeliveryAttempt, StoreError> {
        Ok(DeliveryAttempt {
            attempt: i32::try_from(self.attempt).map_err(corrupt)?,
            at: time(self.at)?,
            duration_ms: self.duration_ms,
            status: self
                .status
                .map(i32::try_from)
                .transpose()
                .map_err(corrupt)?,
            error: self.error.clone(),
        })
    }
}

/// Queues the job's webhook, if it has one, for the terminal state it is in now. Runs inside
/// the transaction that ended the job.
pub(super) async fn enqueue(tx: &mut SqliteConnection, job: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_delivery (id, job_id, tenant, url, event, next_at, created_at) \
         SELECT 'msg_' || lower(hex(randomblob(16))), id, tenant, \
         json_extract(spec, '$.webhook.url'), 'job.' || state, ?2, ?2 FROM job WHERE id = ?1 \
         AND state IN ('succeeded', 'failed', 'cancelled') \
         AND json_extract(spec, '$.webhook.url') IS NOT NULL",
    )
    .bind(job.to_string())
    .bind(now())
    .execute(tx)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl Outbox for SqliteStore {
    async fn claim_delivery(&self, hold: Duration) -> Result<Option<Delivery>, StoreError> {
        let sql = format!(
            "UPDATE webhook_delivery SET attempts = attempts + 1, next_at = ?1 \
             WHERE id = (SELECT id FROM webhook_delivery WHERE state = 'pending' \
             AND next_at <= ?2 ORDER BY next_at LIMIT 1) RETURNING {COLUMNS}"
        );
        let row: Option<DeliveryRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(later(hold))
            .bind(now())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.into_delivery(Vec::new())).transpose()
    }

    async fn record_delivery(
        &self,
        id: &str,
        attempt: &DeliveryAttempt,
        next: DeliveryNext,
    ) -> Result<(), StoreError> {
        let (state, after) = match next {
            DeliveryNext::Done(state) => (state, Duration::ZERO),
            DeliveryNext::RetryAfter(after) => (DeliveryState::Pending, after),
        };
        let mut tx = Tx::begin(&self.pool).await?;
        sqlx::query(
            "INSERT INTO webhook_attempt (delivery_id, attempt, at, duration_ms, status, error) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(attempt.attempt)
        .bind(attempt.at.timestamp_millis())
        .bind(attempt.duration_ms)
        .bind(attempt.status)
        .bind(&attempt.error)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE webhook_delivery SET state = ?2, next_at = ?3 WHERE id = ?1")
            .bind(id)
            .bind(state.as_str())
            .bind(later(after))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn deliveries(&self, job: Uuid) -> Result<Vec<Delivery>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM webhook_delivery WHERE job_id = ?1 ORDER BY created_at, id"
        );
        let rows: Vec<DeliveryRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(job.to_string())
            .fetch_all(&self.pool)
            .await?;
        let attempts: Vec<AttemptRow> = sqlx::query_as(
            "SELECT a.delivery_id, a.attempt, a.at, a.duration_ms, a.status, a.error \
             FROM webhook_attempt a JOIN webhook_delivery d ON d.id = a.delivery_id \
             WHERE d.job_id = ?1 ORDER BY a.attempt",
        )
        .bind(job.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                let log = attempts
                    .iter()
                    .filter(|a| a.delivery_id == row.id)
                    .map(AttemptRow::to_attempt)
                    .collect::<Result<_, _>>()?;
                row.into_delivery(log)
            })
            .collect()
    }
}

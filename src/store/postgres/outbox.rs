//! The webhook outbox on Postgres: deliveries are claimed with `FOR UPDATE SKIP LOCKED`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, PgConnection};
use uuid::Uuid;

use super::{PostgresStore, millis};
use crate::store::{Delivery, DeliveryAttempt, DeliveryNext, DeliveryState, Outbox, StoreError};

// Built with format! from constants only; values are bind parameters.
const COLUMNS: &str = "id, job_id, tenant, url, event, state, attempts, next_at, created_at";

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    job_id: Uuid,
    tenant: String,
    url: String,
    event: String,
    state: String,
    attempts: i32,
    next_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    delivery_id: String,
    attempt: i32,
    at: DateTime<Utc>,
    duration_ms: i64,
    status: Option<i32>,
    error: Option<String>,
}

impl DeliveryRow {
    fn into_delivery(self, log: Vec<DeliveryAttempt>) -> Result<Delivery, StoreError> {
        let state = DeliveryState::parse(&self.state)?;
        Ok(Delivery {
            id: self.id,
            job_id: self.job_id,
            tenant: self.tenant,
            url: self.url,
            event: self.event,
            state,
            attempts: self.attempts,
            next_attempt_at: (state == DeliveryState::Pending).then_some(self.next_at),
            created_at: self.created_at,
            attempt_log: log,
        })
    }
}

/// Queues the job's webhook, if it has one, for the terminal state it is in now. Runs inside
/// the transaction that ended the job.
pub(super) async fn enqueue(tx: &mut PgConnection, job: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_delivery (id, job_id, tenant, url, event) \
         SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), id, tenant, \
         spec->'webhook'->>'url', 'job.' || state FROM job WHERE id = $1 \
         AND state IN ('succeeded', 'failed', 'cancelled') \
         AND spec->'webhook'->>'url' IS NOT NULL",
    )
    .bind(job)
    .execute(tx)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl Outbox for PostgresStore {
    async fn claim_delivery(&self, hold: Duration) -> Result<Option<Delivery>, StoreError> {
        let sql = format!(
            "UPDATE webhook_delivery SET attempts = attempts + 1, \
             next_at = now() + $1 * interval '1 millisecond' \
             WHERE id = (SELECT id FROM webhook_delivery WHERE state = 'pending' \
             AND next_at <= now() ORDER BY next_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING {COLUMNS}"
        );
        let row: Option<DeliveryRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(millis(hold))
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
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO webhook_attempt (delivery_id, attempt, at, duration_ms, status, error) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(attempt.attempt)
        .bind(attempt.at)
        .bind(attempt.duration_ms)
        .bind(attempt.status)
        .bind(&attempt.error)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE webhook_delivery SET state = $2, \
             next_at = now() + $3 * interval '1 millisecond' WHERE id = $1",
        )
        .bind(id)
        .bind(state.as_str())
        .bind(millis(after))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn deliveries(&self, job: Uuid) -> Result<Vec<Delivery>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM webhook_delivery WHERE job_id = $1 ORDER BY created_at, id"
        );
        let rows: Vec<DeliveryRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(job)
            .fetch_all(&self.pool)
            .await?;
        let attempts: Vec<AttemptRow> = sqlx::query_as(
            "SELECT a.delivery_id, a.attempt, a.at, a.duration_ms, a.status, a.error \
             FROM webhook_attempt a JOIN webhook_delivery d ON d.id = a.delivery_id \
             WHERE d.job_id = $1 ORDER BY a.attempt",
        )
        .bind(job)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                let log = attempts
                    .iter()
                    .filter(|a| a.delivery_id == row.id)
                    .map(|a| DeliveryAttempt {
                        attempt: a.attempt,
                        at: a.at,
                        duration_ms: a.duration_ms,
                        status: a.status,
                        error: a.error.clone(),
                    })
                    .collect();
                row.into_delivery(log)
            })
            .collect()
    }
}

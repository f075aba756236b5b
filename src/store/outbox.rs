//! The webhook outbox: rows written by the job's terminal transitions, claimed and
//! recorded by the deliverers.

use std::time::Duration;

use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::rows::{
    DeliveryAttemptRow, DeliveryRow, delivery_attempt_columns, delivery_columns, lit, millis,
};
use super::sql::Tx;
use super::{DeliveryNext, Outbox, SqlStore, StoreError};
use crate::domain::{Delivery, DeliveryAttempt, DeliveryState, EventType, Named};

/// Queues the job's webhook, if it has one, for `event`. Runs inside the transaction that
/// ended the job.
pub(super) async fn enqueue(tx: &mut Tx, job: Uuid, event: EventType) -> Result<(), StoreError> {
    let d = tx.dialect();
    let url = d.webhook_url();
    let sql = format!(
        "INSERT INTO webhook_delivery (id, job_id, tenant, url, event, state, attempts, next_at, \
         created_at) SELECT $1, id, tenant, {url}, $2, {}, 0, {now}, {now} FROM job \
         WHERE id = {} AND {url} IS NOT NULL",
        lit(DeliveryState::Pending),
        d.uuid("$3"),
        now = d.now(),
    );
    // The Standard Webhooks message id: the same on every retry.
    let id = format!("msg_{}", Uuid::new_v4().simple());
    on_tx!(tx, c => sqlx::query(AssertSqlSafe(sql))
        .bind(&id)
        .bind(event.as_str())
        .bind(job.to_string())
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(())
}

#[async_trait::async_trait]
impl Outbox for SqlStore {
    async fn claim_delivery(&self, hold: Duration) -> Result<Option<Delivery>, StoreError> {
        let d = self.pool.dialect();
        let sql = format!(
            "UPDATE webhook_delivery SET attempts = attempts + 1, next_at = {} \
             WHERE id = (SELECT id FROM webhook_delivery WHERE state = {} \
             AND next_at <= {} ORDER BY next_at LIMIT 1{}) RETURNING {}",
            d.later("$1"),
            lit(DeliveryState::Pending),
            d.now(),
            d.skip_locked(),
            delivery_columns(d)
        );
        let row: Option<DeliveryRow> = on_pool!(&self.pool, c => sqlx::query_as(AssertSqlSafe(sql))
            .bind(millis(hold))
            .fetch_optional(c)
            .await)?;
        row.map(|r| r.into_delivery(Vec::new())).transpose()
    }

    async fn record_delivery(
        &self,
        id: &str,
        attempt: &DeliveryAttempt,
        next: DeliveryNext,
    ) -> Result<(), StoreError> {
        let d = self.pool.dialect();
        let (state, after) = match next {
            DeliveryNext::Done(state) => (state, Duration::ZERO),
            DeliveryNext::RetryAfter(after) => (DeliveryState::Pending, after),
        };
        let record = format!(
            "INSERT INTO webhook_attempt (delivery_id, attempt, at, duration_ms, status, error) \
             VALUES ($1, $2, {}, $4, $5, $6) ON CONFLICT DO NOTHING",
            d.time("$3")
        );
        let update = format!(
            "UPDATE webhook_delivery SET state = $2, next_at = {} WHERE id = $1",
            d.later("$3")
        );
        let mut tx = self.pool.begin().await?;
        on_tx!(&mut tx, c => sqlx::query(AssertSqlSafe(record))
            .bind(id)
            .bind(attempt.attempt)
            .bind(attempt.at.timestamp_millis())
            .bind(attempt.duration_ms)
            .bind(attempt.status)
            .bind(&attempt.error)
            .execute(c)
            .await
            .map(|done| done.rows_affected()))?;
        on_tx!(&mut tx, c => sqlx::query(AssertSqlSafe(update))
            .bind(id)
            .bind(state.as_str())
            .bind(millis(after))
            .execute(c)
            .await
            .map(|done| done.rows_affected()))?;
        tx.commit().await?;
        Ok(())
    }

    async fn deliveries(&self, job: Uuid) -> Result<Vec<Delivery>, StoreError> {
        let d = self.pool.dialect();
        let sql = format!(
            "SELECT {} FROM webhook_delivery WHERE job_id = {} ORDER BY created_at, id",
            delivery_columns(d),
            d.uuid("$1")
        );
        let rows: Vec<DeliveryRow> = on_pool!(&self.pool, c => sqlx::query_as(AssertSqlSafe(sql))
            .bind(job.to_string())
            .fetch_all(c)
            .await)?;
        let sql = format!(
            "SELECT {} FROM webhook_attempt a JOIN webhook_delivery d ON d.id = a.delivery_id \
             WHERE d.job_id = {} ORDER BY a.attempt",
            delivery_attempt_columns(d),
            d.uuid("$1")
        );
        let attempts: Vec<DeliveryAttemptRow> = on_pool!(&self.pool, c => sqlx::query_as(AssertSqlSafe(sql))
                .bind(job.to_string())
                .fetch_all(c)
                .await)?;
        rows.into_iter()
            .map(|row| {
                let log = attempts
                    .iter()
                    .filter(|a| a.delivery_id == row.id)
                    .map(DeliveryAttemptRow::to_attempt)
                    .collect::<Result<_, _>>()?;
                row.into_delivery(log)
            })
            .collect()
    }
}

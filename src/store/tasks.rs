//! The task table: spans of each attempt, upserted by the worker while it runs (a span gains
//! its end and its final counts), read by the API and the dashboard.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::sql::Dialect;
use super::{SqlStore, StoreError, TaskFilter, TaskStore};
use crate::domain::{Task, TaskSpan};

const COLUMNS: &str = "attempt, seq, worker_id, node, operator, part, detail, started_us, \
                       ended_us, rows_out, bytes_out, compute_ns, spill_count, spilled_bytes, \
                       memory_peak";

fn upsert(d: Dialect) -> String {
    format!(
        "INSERT INTO job_task (job_id, {COLUMNS}) \
         VALUES ({}, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (job_id, attempt, seq) DO UPDATE SET ended_us = excluded.ended_us, \
         rows_out = excluded.rows_out, bytes_out = excluded.bytes_out, \
         compute_ns = excluded.compute_ns, spill_count = excluded.spill_count, \
         spilled_bytes = excluded.spilled_bytes, memory_peak = excluded.memory_peak",
        d.uuid("$1")
    )
}

#[derive(sqlx::FromRow)]
struct TaskRow {
    attempt: i32,
    seq: i32,
    worker_id: String,
    node: i32,
    operator: String,
    part: i32,
    detail: Option<String>,
    started_us: i64,
    ended_us: Option<i64>,
    rows_out: i64,
    bytes_out: Option<i64>,
    compute_ns: i64,
    spill_count: i64,
    spilled_bytes: i64,
    memory_peak: Option<i64>,
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn at_micros(us: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(us).ok_or_else(|| StoreError::Corrupt(format!("time {us}")))
}

/// Counts are kept as signed 64-bit integers; nothing Rusk counts comes near the limit.
fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Positions (seq, node, partition) are `integer` columns.
fn position(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn small(n: i32, what: &str) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("task {what} {n}")))
}

impl TaskRow {
    fn into_task(self) -> Result<Task, StoreError> {
        Ok(Task {
            attempt: self.attempt,
            worker: self.worker_id,
            span: TaskSpan {
                seq: small(self.seq, "seq")?,
                node: small(self.node, "node")?,
                operator: self.operator,
                partition: small(self.part, "partition")?,
                detail: self.detail,
                started_at: at_micros(self.started_us)?,
                ended_at: self.ended_us.map(at_micros).transpose()?,
                rows: unsigned(self.rows_out),
                bytes: self.bytes_out.map(unsigned),
                compute_ns: unsigned(self.compute_ns),
                spill_count: unsigned(self.spill_count),
                spilled_bytes: unsigned(self.spilled_bytes),
                memory_peak: self.memory_peak.map(unsigned),
            },
        })
    }
}

#[async_trait::async_trait]
impl TaskStore for SqlStore {
    async fn record_tasks(
        &self,
        job: Uuid,
        attempt: i32,
        worker: &str,
        spans: &[TaskSpan],
    ) -> Result<(), StoreError> {
        if spans.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        let sql = upsert(tx.dialect());
        for s in spans {
            on_tx!(&mut tx, c => sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(job.to_string())
                .bind(attempt)
                .bind(position(s.seq))
                .bind(worker)
                .bind(position(s.node))
                .bind(&s.operator)
                .bind(position(s.partition))
                .bind(&s.detail)
                .bind(micros(s.started_at))
                .bind(s.ended_at.map(micros))
                .bind(signed(s.rows))
                .bind(s.bytes.map(signed))
                .bind(signed(s.compute_ns))
                .bind(signed(s.spill_count))
                .bind(signed(s.spilled_bytes))
                .bind(s.memory_peak.map(signed))
                .execute(c)
                .await
                .map(|done| done.rows_affected()))?;
        }
        tx.commit().await
    }

    async fn tasks(&self, job: Uuid, filter: &TaskFilter) -> Result<Vec<Task>, StoreError> {
        let d = self.pool.dialect();
        let sql = format!(
            "SELECT {COLUMNS} FROM job_task WHERE job_id = {} \
             AND ($2 IS NULL OR attempt = $2) \
             AND (attempt > $3 OR (attempt = $3 AND seq > $4)) \
             ORDER BY attempt, seq LIMIT $5",
            d.uuid("$1")
        );
        let (after_attempt, after_seq) = filter.after.unwrap_or((0, -1));
        let rows: Vec<TaskRow> = on_pool!(&self.pool, c => sqlx::query_as(AssertSqlSafe(sql))
            .bind(job.to_string())
            .bind(filter.attempt)
            .bind(after_attempt)
            .bind(after_seq)
            .bind(i64::from(filter.limit))
            .fetch_all(c)
            .await)?;
        rows.into_iter().map(TaskRow::into_task).collect()
    }
}

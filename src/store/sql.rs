//! The two databases behind one store: their connection pools and transactions, and the few
//! places where their SQL differs (time, UUID and JSON columns, row locks). Every query is
//! written once, with these fragments, and run on either backend by `on_pool!`/`on_tx!`
//! (`store/mod.rs`), which compile the same code for each database's types.
//!
//! Values cross as plain text and integers: UUIDs and JSON as text, times as Unix
//! milliseconds (SQLite stores them so; Postgres converts in SQL), so one row type decodes
//! both.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::StoreError;
use super::sqlite_tx::SqliteTx;

/// The channel on which Postgres submissions announce new jobs.
const QUEUE_CHANNEL: &str = "rusk_jobs";
/// The channel on which Postgres writers announce a job's change, its id the payload.
const CHANGE_CHANNEL: &str = "rusk_job_changed";

pub(super) enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// A write transaction.
pub(super) enum Tx {
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    Sqlite(SqliteTx),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    Postgres,
    Sqlite,
}

impl Pool {
    /// Connects to the database a URL names and brings its schema up to date.
    pub(super) async fn connect(url: &str) -> Result<Pool, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(3))
                .connect(url)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Ok(Pool::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            // WAL: readers never wait for the one writer.
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
            Ok(Pool::Sqlite(pool))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_string()))
        }
    }

    pub(super) fn dialect(&self) -> Dialect {
        match self {
            Pool::Postgres(_) => Dialect::Postgres,
            Pool::Sqlite(_) => Dialect::Sqlite,
        }
    }

    pub(super) async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Pool::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            Pool::Sqlite(pool) => Tx::Sqlite(SqliteTx::begin(pool).await?),
        })
    }

    /// Wakes `wake` whenever a job is queued anywhere (Postgres `LISTEN/NOTIFY`), until
    /// `shutdown`. SQLite cannot tell, and returns at once: workers then poll.
    pub(super) async fn watch_queue(&self, wake: Arc<Notify>, shutdown: CancellationToken) {
        let Pool::Postgres(pool) = self else { return };
        follow(pool, QUEUE_CHANNEL, |_| wake.notify_one(), shutdown).await;
    }

    /// Sends the id of every job any process changes to `changed` (Postgres `LISTEN/NOTIFY`),
    /// until `shutdown`. SQLite has one process, whose changes are sent as they commit, and
    /// returns at once.
    pub(super) async fn watch_changes(
        &self,
        changed: broadcast::Sender<Uuid>,
        shutdown: CancellationToken,
    ) {
        let Pool::Postgres(pool) = self else { return };
        let forward = |payload: &str| {
            if let Ok(job) = Uuid::parse_str(payload) {
                let _ = changed.send(job);
            }
        };
        follow(pool, CHANGE_CHANNEL, forward, shutdown).await;
    }

    /// Tells the other processes' watchers that `job` changed (Postgres).
    pub(super) async fn announce_change(&self, job: Uuid) -> Result<(), StoreError> {
        if let Pool::Postgres(pool) = self {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANGE_CHANNEL)
                .bind(job.to_string())
                .execute(pool)
                .await?;
        }
        Ok(())
    }
}

/// Calls `heard` with each notification's payload on `channel` until `shutdown`, listening
/// again a second after the connection fails (those waiting poll meanwhile).
async fn follow(pool: &PgPool, channel: &str, heard: impl Fn(&str), shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        tokio::select! {
            error = listen(pool, channel, &heard) => {
                tracing::warn!(%error, channel, "LISTEN failed; polling until it is back");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            _ = shutdown.cancelled() => return,
        }
    }
}

/// Calls `heard` on each notification until the connection fails; returns why.
async fn listen(pool: &PgPool, channel: &str, heard: &impl Fn(&str)) -> sqlx::Error {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(error) => return error,
    };
    if let Err(error) = listener.listen(channel).await {
        return error;
    }
    loop {
        match listener.recv().await {
            Ok(notification) => heard(notification.payload()),
            Err(error) => return error,
        }
    }
}

impl Tx {
    pub(super) fn dialect(&self) -> Dialect {
        match self {
            Tx::Postgres(_) => Dialect::Postgres,
            Tx::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// An explicit commit: the writes are durable, or the caller hears why not.
    pub(super) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Postgres(tx) => tx.commit().await?,
            Tx::Sqlite(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Ends a transaction that wrote nothing, keeping its connection.
    pub(super) async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Tx::Postgres(tx) => tx.rollback().await?,
            Tx::Sqlite(tx) => tx.rollback().await?,
        }
        Ok(())
    }

    /// Tells idle workers in every process that a job was queued (sent at commit). They
    /// poll as well, so a lost notification costs little.
    pub(super) async fn announce_job(&mut self) -> Result<(), StoreError> {
        if let Tx::Postgres(tx) = self {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(QUEUE_CHANNEL)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

impl Dialect {
    /// The current time, as time columns hold it.
    pub(super) fn now(self) -> &'static str {
        match self {
            Dialect::Postgres => "now()",
            Dialect::Sqlite => {
                "CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)"
            }
        }
    }

    /// `millis` (a parameter of milliseconds) from now.
    pub(super) fn later(self, millis: &str) -> String {
        match self {
            Dialect::Postgres => format!("(now() + {millis} * interval '1 millisecond')"),
            Dialect::Sqlite => format!("({} + {millis})", self.now()),
        }
    }

    /// `millis` (a parameter of milliseconds) before now.
    pub(super) fn earlier(self, millis: &str) -> String {
        match self {
            Dialect::Postgres => format!("(now() - {millis} * interval '1 millisecond')"),
            Dialect::Sqlite => format!("({} - {millis})", self.now()),
        }
    }

    /// A time given as Unix milliseconds.
    pub(super) fn time(self, millis: &str) -> String {
        match self {
            Dialect::Postgres => format!("to_timestamp({millis} / 1000.0)"),
            Dialect::Sqlite => millis.to_string(),
        }
    }

    /// A UUID given as text.
    pub(super) fn uuid(self, text: &str) -> String {
        match self {
            Dialect::Postgres => format!("CAST({text} AS uuid)"),
            Dialect::Sqlite => text.to_string(),
        }
    }

    /// JSON given as text, for a `jsonb` column.
    pub(super) fn jsonb(self, text: &str) -> String {
        match self {
            Dialect::Postgres => format!("CAST({text} AS jsonb)"),
            Dialect::Sqlite => text.to_string(),
        }
    }

    /// JSON given as text, for a `json` column (whose key order is kept).
    pub(super) fn json(self, text: &str) -> String {
        match self {
            Dialect::Postgres => format!("CAST({text} AS json)"),
            Dialect::Sqlite => text.to_string(),
        }
    }

    /// A column read as text (UUID and JSON columns), named as the column.
    pub(super) fn text(self, column: &str) -> String {
        match self {
            Dialect::Postgres => format!("CAST({column} AS text) AS {}", name(column)),
            Dialect::Sqlite => column.to_string(),
        }
    }

    /// A time column read as Unix milliseconds, named as the column.
    pub(super) fn millis(self, column: &str) -> String {
        match self {
            Dialect::Postgres => format!(
                "CAST(floor(extract(epoch FROM {column}) * 1000) AS bigint) AS {}",
                name(column)
            ),
            Dialect::Sqlite => column.to_string(),
        }
    }

    /// A webhook URL in a job's spec, or NULL.
    pub(super) fn webhook_url(self) -> &'static str {
        match self {
            Dialect::Postgres => "spec->'webhook'->>'url'",
            Dialect::Sqlite => "json_extract(spec, '$.webhook.url')",
        }
    }

    /// What a claim's subquery adds so that concurrent claims skip each other's rows
    /// (SQLite has one writer at a time, so its `UPDATE … WHERE id = (SELECT …)` is atomic).
    pub(super) fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        }
    }
}

/// `a.at` is named `at`.
fn name(column: &str) -> &str {
    column.rsplit('.').next().unwrap_or(column)
}

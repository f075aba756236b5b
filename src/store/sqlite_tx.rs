//! Transactions of our own (`BEGIN IMMEDIATE` … `COMMIT`), not sqlx's. When a COMMIT fails
//! (a disk I/O error), SQLite has already rolled the transaction back, but sqlx 0.9 keeps
//! counting it as open: the connection's next `begin` becomes a SAVEPOINT and its next writes
//! land in a transaction nobody commits, so a job acknowledged with 201 could be lost. Here a
//! connection whose transaction did not end cleanly is closed instead of going back to the
//! pool.

use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::sqlite::{Sqlite, SqliteConnection, SqlitePool};

pub(super) struct SqliteTx {
    conn: PoolConnection<Sqlite>,
    /// Whether COMMIT has succeeded.
    done: bool,
}

impl SqliteTx {
    /// Takes the write lock at once, so that two writers wait for each other instead of
    /// failing to upgrade a read transaction.
    pub(super) async fn begin(pool: &SqlitePool) -> Result<SqliteTx, sqlx::Error> {
        let mut conn = pool.acquire().await?;
        if let Err(error) = sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await {
            conn.close_on_drop();
            return Err(error);
        }
        Ok(SqliteTx { conn, done: false })
    }

    pub(super) async fn commit(mut self) -> Result<(), sqlx::Error> {
        sqlx::query("COMMIT").execute(&mut *self.conn).await?;
        self.done = true;
        Ok(())
    }

    /// Ends a transaction that wrote nothing (a claim that found no job), so that its
    /// connection goes back to the pool: a dropped one is closed, and an idle worker's every
    /// poll would open a new one.
    pub(super) async fn rollback(mut self) -> Result<(), sqlx::Error> {
        sqlx::query("ROLLBACK").execute(&mut *self.conn).await?;
        self.done = true;
        Ok(())
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if !self.done {
            // Closing the connection rolls back whatever is open, and nothing of it is reused.
            self.conn.close_on_drop();
        }
    }
}

impl Deref for SqliteTx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl DerefMut for SqliteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}

#[cfg(test)]
mod tests {
    use sqlx::sqlite::SqlitePoolOptions;

    use super::SqliteTx;

    async fn pool() -> sqlx::SqlitePool {
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_transaction_ended_cleanly_gives_its_connection_back() {
        let pool = pool().await;
        SqliteTx::begin(&pool)
            .await
            .unwrap()
            .commit()
            .await
            .unwrap();
        assert_eq!(pool.size(), 1, "kept after a commit");
        SqliteTx::begin(&pool)
            .await
            .unwrap()
            .rollback()
            .await
            .unwrap();
        assert_eq!(pool.size(), 1, "kept after a rollback");
        drop(SqliteTx::begin(&pool).await.unwrap());
        // Closing happens as the connection is released, on the pool's side and SQLite's
        // thread: on a loaded machine that can take more than a few scheduler turns.
        let patience = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while pool.size() != 0 && tokio::time::Instant::now() < patience {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(
            pool.size(),
            0,
            "a transaction left open closes its connection"
        );
    }
}

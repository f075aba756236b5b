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

//! Tenants, their API keys (as hashes) and shared secrets.

use sqlx::AssertSqlSafe;

use super::rows::{KeyRow, key_columns};
use super::{AuthStore, SqlStore, StoreError};
use crate::domain::KeyInfo;

#[async_trait::async_trait]
impl AuthStore for SqlStore {
    async fn ensure_secret(&self, name: &str, fresh: &str) -> Result<String, StoreError> {
        let insert = "INSERT INTO secret (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        on_pool!(&self.pool, c => sqlx::query(insert).bind(name).bind(fresh).execute(c).await.map(|done| done.rows_affected()))?;
        let select = "SELECT value FROM secret WHERE name = $1";
        Ok(on_pool!(&self.pool, c =>
            sqlx::query_scalar(select).bind(name).fetch_one(c).await)?)
    }

    async fn ensure_tenant(&self, name: &str, fresh_secret: &str) -> Result<String, StoreError> {
        let sql = format!(
            "INSERT INTO tenant (name, webhook_secret, created_at) VALUES ($1, $2, {}) \
             ON CONFLICT DO NOTHING",
            self.pool.dialect().now()
        );
        on_pool!(&self.pool, c => sqlx::query(AssertSqlSafe(sql))
            .bind(name)
            .bind(fresh_secret)
            .execute(c)
            .await
            .map(|done| done.rows_affected()))?;
        self.tenant_secret(name)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("tenant {name} vanished")))
    }

    async fn tenant_secret(&self, tenant: &str) -> Result<Option<String>, StoreError> {
        let sql = "SELECT webhook_secret FROM tenant WHERE name = $1";
        Ok(on_pool!(&self.pool, c =>
            sqlx::query_scalar(sql).bind(tenant).fetch_optional(c).await)?)
    }

    async fn create_key(&self, id: &str, tenant: &str, hash: &str) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO api_key (id, tenant, hash, created_at) VALUES ($1, $2, $3, {})",
            self.pool.dialect().now()
        );
        on_pool!(&self.pool, c => sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(tenant)
            .bind(hash)
            .execute(c)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(())
    }

    async fn list_keys(&self) -> Result<Vec<KeyInfo>, StoreError> {
        let sql = format!(
            "SELECT {} FROM api_key ORDER BY created_at, id",
            key_columns(self.pool.dialect())
        );
        let rows: Vec<KeyRow> =
            on_pool!(&self.pool, c => sqlx::query_as(AssertSqlSafe(sql)).fetch_all(c).await)?;
        rows.into_iter().map(KeyRow::into_key).collect()
    }

    async fn revoke_key(&self, id: &str) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE api_key SET revoked_at = {} WHERE id = $1 AND revoked_at IS NULL",
            self.pool.dialect().now()
        );
        let done = on_pool!(&self.pool, c => sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .execute(c)
            .await
            .map(|done| done.rows_affected()))?;
        Ok(done == 1)
    }

    async fn key_tenant(&self, hash: &str) -> Result<Option<String>, StoreError> {
        let sql = "SELECT tenant FROM api_key WHERE hash = $1 AND revoked_at IS NULL";
        Ok(on_pool!(&self.pool, c =>
            sqlx::query_scalar(sql).bind(hash).fetch_optional(c).await)?)
    }

    async fn has_keys(&self) -> Result<bool, StoreError> {
        let sql = "SELECT COUNT(*) FROM (SELECT 1 FROM api_key WHERE revoked_at IS NULL LIMIT 1) k";
        let count: i64 = on_pool!(&self.pool, c => sqlx::query_scalar(sql).fetch_one(c).await)?;
        Ok(count > 0)
    }
}

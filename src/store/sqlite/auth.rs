//! Tenants, API keys and shared secrets in SQLite.

use super::{SqliteStore, now, time};
use crate::store::{AuthStore, KeyInfo, StoreError};

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: String,
    tenant: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

#[async_trait::async_trait]
impl AuthStore for SqliteStore {
    async fn ensure_secret(&self, name: &str, fresh: &str) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO secret (name, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING")
            .bind(name)
            .bind(fresh)
            .execute(&self.pool)
            .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM secret WHERE name = ?1")
                .bind(name)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn ensure_tenant(&self, name: &str, fresh_secret: &str) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO tenant (name, webhook_secret, created_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(name)
        .bind(fresh_secret)
        .bind(now())
        .execute(&self.pool)
        .await?;
        self.tenant_secret(name)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("tenant {name} vanished")))
    }

    async fn tenant_secret(&self, tenant: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT webhook_secret FROM tenant WHERE name = ?1")
                .bind(tenant)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn create_key(&self, id: &str, tenant: &str, hash: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO api_key (id, tenant, hash, created_at) VALUES (?1, ?2, ?3, ?4)")
            .bind(id)
            .bind(tenant)
            .bind(hash)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn list_keys(&self) -> Result<Vec<KeyInfo>, StoreError> {
        let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT id, tenant, created_at, revoked_at FROM api_key ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(KeyInfo {
                    id: r.id,
                    tenant: r.tenant,
                    created_at: time(r.created_at)?,
                    revoked_at: r.revoked_at.map(time).transpose()?,
                })
            })
            .collect()
    }

    async fn revoke_key(&self, id: &str) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE api_key SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")
                .bind(id)
                .bind(now())
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn key_tenant(&self, hash: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT tenant FROM api_key WHERE hash = ?1 AND revoked_at IS NULL")
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn has_keys(&self) -> Result<bool, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM api_key WHERE revoked_at IS NULL)")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

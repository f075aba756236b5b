//! Tenants, API keys and shared secrets on Postgres.

use chrono::{DateTime, Utc};

use super::PostgresStore;
use crate::store::{AuthStore, KeyInfo, StoreError};

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: String,
    tenant: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

#[async_trait::async_trait]
impl AuthStore for PostgresStore {
    async fn ensure_secret(&self, name: &str, fresh: &str) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO secret (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(name)
            .bind(fresh)
            .execute(&self.pool)
            .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM secret WHERE name = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn ensure_tenant(&self, name: &str, fresh_secret: &str) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO tenant (name, webhook_secret) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(name)
        .bind(fresh_secret)
        .execute(&self.pool)
        .await?;
        self.tenant_secret(name)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("tenant {name} vanished")))
    }

    async fn tenant_secret(&self, tenant: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT webhook_secret FROM tenant WHERE name = $1")
                .bind(tenant)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn create_key(&self, id: &str, tenant: &str, hash: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO api_key (id, tenant, hash) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(tenant)
            .bind(hash)
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
        Ok(rows
            .into_iter()
            .map(|r| KeyInfo {
                id: r.id,
                tenant: r.tenant,
                created_at: r.created_at,
                revoked_at: r.revoked_at,
            })
            .collect())
    }

    async fn revoke_key(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_key SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn key_tenant(&self, hash: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT tenant FROM api_key WHERE hash = $1 AND revoked_at IS NULL")
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

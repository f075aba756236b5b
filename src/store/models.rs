//! The model table: written when an ML job succeeds, read to list and to check `predict`.

use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::rows::{from_json, to_json};
use super::sql::Tx;
use super::{ModelFilter, ModelStore, SqlStore, StoreError};
use crate::domain::ModelInfo;

/// Records a trained model; called inside the transaction that ends its job.
pub(super) async fn record(tx: &mut Tx, info: &ModelInfo) -> Result<u64, StoreError> {
    let d = tx.dialect();
    let sql = format!(
        "INSERT INTO model (id, tenant, job_id, info, created_at) VALUES ($1, $2, {}, {}, {}) \
         ON CONFLICT (id) DO NOTHING",
        d.uuid("$3"),
        d.jsonb("$4"),
        d.time("$5")
    );
    let json = to_json(info)?;
    let done = on_tx!(tx, c => sqlx::query(AssertSqlSafe(sql))
        .bind(&info.id)
        .bind(&info.tenant)
        .bind(info.job_id.to_string())
        .bind(&json)
        .bind(info.created_at.timestamp_millis())
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(done)
}

#[async_trait::async_trait]
impl ModelStore for SqlStore {
    async fn model(&self, tenant: &str, id: &str) -> Result<Option<ModelInfo>, StoreError> {
        let sql = format!(
            "SELECT {} FROM model WHERE tenant = $1 AND id = $2",
            self.pool.dialect().text("info")
        );
        let info: Option<String> = on_pool!(&self.pool, c => sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(id)
            .fetch_optional(c)
            .await)?;
        info.as_deref().map(from_json).transpose()
    }

    async fn models(
        &self,
        tenant: &str,
        filter: &ModelFilter,
    ) -> Result<Vec<ModelInfo>, StoreError> {
        let sql = format!(
            "SELECT {} FROM model WHERE tenant = $1 AND ($2 IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3",
            self.pool.dialect().text("info")
        );
        let infos: Vec<String> = on_pool!(&self.pool, c => sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(filter.before.as_deref())
            .bind(i64::from(filter.limit))
            .fetch_all(c)
            .await)?;
        infos.iter().map(|i| from_json(i)).collect()
    }

    async fn has_models(&self) -> Result<bool, StoreError> {
        let any: Option<String> = on_pool!(&self.pool, c =>
            sqlx::query_scalar("SELECT id FROM model LIMIT 1").fetch_optional(c).await)?;
        Ok(any.is_some())
    }

    async fn delete_models_of(&self, job: Uuid) -> Result<Vec<String>, StoreError> {
        let sql = format!(
            "DELETE FROM model WHERE job_id = {} RETURNING id",
            self.pool.dialect().uuid("$1")
        );
        let mut tx = self.pool.begin().await?;
        let ids: Vec<String> = on_tx!(&mut tx, c =>
            sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(job.to_string())
                .fetch_all(c)
                .await)?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn import_models(&self, models: &[ModelInfo]) -> Result<u64, StoreError> {
        let mut added = 0;
        let mut tx = self.pool.begin().await?;
        for info in models {
            added += record(&mut tx, info).await?;
        }
        tx.commit().await?;
        Ok(added)
    }
}

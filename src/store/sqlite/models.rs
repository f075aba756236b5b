//! The model table on SQLite.

use super::tx::Tx;
use sqlx::SqliteConnection;

use super::SqliteStore;
use crate::store::{ModelFilter, ModelInfo, ModelStore, StoreError, from_json, to_json};

/// Records a trained model; called inside the transaction that ends its job.
pub(super) async fn record(tx: &mut SqliteConnection, info: &ModelInfo) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "INSERT INTO model (id, tenant, job_id, info, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&info.id)
    .bind(&info.tenant)
    .bind(info.job_id.to_string())
    .bind(to_json(info)?)
    .bind(info.created_at.timestamp_millis())
    .execute(tx)
    .await?;
    Ok(done.rows_affected())
}

#[async_trait::async_trait]
impl ModelStore for SqliteStore {
    async fn model(&self, tenant: &str, id: &str) -> Result<Option<ModelInfo>, StoreError> {
        let info: Option<String> =
            sqlx::query_scalar("SELECT info FROM model WHERE tenant = ?1 AND id = ?2")
                .bind(tenant)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        info.as_deref().map(from_json).transpose()
    }

    async fn models(
        &self,
        tenant: &str,
        filter: &ModelFilter,
    ) -> Result<Vec<ModelInfo>, StoreError> {
        let infos: Vec<String> = sqlx::query_scalar(
            "SELECT info FROM model WHERE tenant = ?1 AND (?2 IS NULL OR id < ?2) \
             ORDER BY id DESC LIMIT ?3",
        )
        .bind(tenant)
        .bind(filter.before.as_deref())
        .bind(i64::from(filter.limit))
        .fetch_all(&self.pool)
        .await?;
        infos.iter().map(|i| from_json(i)).collect()
    }

    async fn has_models(&self) -> Result<bool, StoreError> {
        let any: Option<String> = sqlx::query_scalar("SELECT id FROM model LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(any.is_some())
    }

    async fn import_models(&self, models: &[ModelInfo]) -> Result<u64, StoreError> {
        let mut added = 0;
        let mut tx = Tx::begin(&self.pool).await?;
        for info in models {
            added += record(&mut tx, info).await?;
        }
        tx.commit().await?;
        Ok(added)
    }
}

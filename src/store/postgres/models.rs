//! The model table on Postgres.

use sqlx::PgConnection;
use sqlx::types::Json;

use super::PostgresStore;
use crate::store::{ModelFilter, ModelInfo, ModelStore, StoreError};

/// Records a trained model; called inside the transaction that ends its job.
pub(super) async fn record(tx: &mut PgConnection, info: &ModelInfo) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO model (id, tenant, job_id, info, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&info.id)
    .bind(&info.tenant)
    .bind(info.job_id)
    .bind(Json(info))
    .bind(info.created_at)
    .execute(tx)
    .await?;
    Ok(done.rows_affected())
}

#[async_trait::async_trait]
impl ModelStore for PostgresStore {
    async fn model(&self, tenant: &str, id: &str) -> Result<Option<ModelInfo>, StoreError> {
        let info: Option<Json<ModelInfo>> =
            sqlx::query_scalar("SELECT info FROM model WHERE tenant = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(info.map(|i| i.0))
    }

    async fn models(
        &self,
        tenant: &str,
        filter: &ModelFilter,
    ) -> Result<Vec<ModelInfo>, StoreError> {
        let infos: Vec<Json<ModelInfo>> = sqlx::query_scalar(
            "SELECT info FROM model WHERE tenant = $1 AND ($2::text IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(tenant)
        .bind(filter.before.as_deref())
        .bind(i64::from(filter.limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(infos.into_iter().map(|i| i.0).collect())
    }

    async fn has_models(&self) -> Result<bool, StoreError> {
        let any: Option<String> = sqlx::query_scalar("SELECT id FROM model LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(any.is_some())
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

//! `/v1/models`: models trained by `ml` jobs, the tenant's own only.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Access;
use super::{ApiError, AppState, ErrorBody};
use crate::ml::ModelInfo;

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    /// Newest first.
    pub models: Vec<ModelInfo>,
}

/// The tenant's models: estimator, parameters, features, held-out metrics, training job.
#[utoipa::path(get, path = "/v1/models", tag = "models",
    responses((status = 200, description = "Models, newest first", body = ModelList)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
) -> Result<Json<ModelList>, ApiError> {
    let models = state.results.models(access.tenant()?).await?;
    Ok(Json(ModelList { models }))
}

/// One model.
#[utoipa::path(get, path = "/v1/models/{id}", tag = "models",
    params(("id" = String, Path, description = "Model id (`model_…`)")),
    responses(
        (status = 200, description = "The model", body = ModelInfo),
        (status = 404, description = "No such model", body = ErrorBody)))]
pub async fn get_model(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ModelInfo>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::NotFound(e.body_text()))?;
    state
        .results
        .model_info(access.tenant()?, &id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no model {id:?}")))
}

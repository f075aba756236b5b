//! `/v1/models`: models trained by `ml` jobs, the tenant's own only.

use axum::Json;
use axum::extract::{Extension, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Access;
use super::extract::{ApiPath, ApiQuery, bad_cursor, next_cursor, page_limit};
use super::{ApiError, AppState, ErrorBody};
use crate::domain::ModelInfo;
use crate::store::ModelFilter;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ModelQuery {
    /// Page size, 1–1000; default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    /// Newest first.
    pub models: Vec<ModelInfo>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The tenant's models: estimator, parameters, features, held-out metrics, training job.
#[utoipa::path(get, path = "/v1/models", operation_id = "list_models", tag = "models", params(ModelQuery),
    responses(
        (status = 200, description = "A page of models, newest first", body = ModelList),
        (status = 400, description = "Bad parameter", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    ApiQuery(query): ApiQuery<ModelQuery>,
) -> Result<Json<ModelList>, ApiError> {
    let limit = page_limit(query.limit, 100)?;
    if let Some(cursor) = &query.cursor
        && !crate::results::valid_model_id(cursor)
    {
        return Err(bad_cursor());
    }
    let filter = ModelFilter {
        limit,
        before: query.cursor,
    };
    let models = state.store.models(access.tenant()?, &filter).await?;
    let next_cursor = next_cursor(&models, limit, |model| model.id.clone());
    Ok(Json(ModelList {
        models,
        next_cursor,
    }))
}

/// One model.
#[utoipa::path(get, path = "/v1/models/{id}", operation_id = "get_model", tag = "models",
    params(("id" = String, Path, description = "Model id (`model_…`)")),
    responses(
        (status = 200, description = "The model", body = ModelInfo),
        (status = 404, description = "No such model", body = ErrorBody)))]
pub async fn get_model(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ModelInfo>, ApiError> {
    state
        .store
        .model(access.tenant()?, &id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no model {id:?}")))
}

//! `/v1/inspect` and `/v1/explain`: look at a source or a plan without running a job.

use axum::Json;
use axum::extract::{Extension, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{ApiJson, ValidSpec};
use super::{Access, ApiError, AppState, ErrorBody, on_engine};
use crate::domain::ColumnSchema;
use crate::engine::TaskGraph;
use crate::results::{Encoder, Encoding, columns, written_schema};
use crate::spec::{JobSpec, Source};

const MAX_HEAD: usize = 1000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectRequest {
    /// A source as in a job spec.
    pub source: Source,
    /// Rows to return, at most 1000; default 10.
    #[serde(default)]
    pub n: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InspectResponse {
    pub schema: Vec<ColumnSchema>,
    /// Files the source's path names.
    pub files: usize,
    /// Partitions a scan is split into (the unit of parallel work).
    pub partitions: usize,
    /// The first rows, as objects (null fields left out).
    pub head: Vec<serde_json::Value>,
}

/// A source's schema, files, partitions and first rows, reading only what that needs.
#[utoipa::path(post, path = "/v1/inspect", operation_id = "inspect", tag = "explore", request_body = InspectRequest,
    responses(
        (status = 200, description = "What the source holds", body = InspectResponse),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Bad source", body = ErrorBody)))]
pub async fn inspect(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    ApiJson(request): ApiJson<InspectRequest>,
) -> Result<Json<InspectResponse>, ApiError> {
    let tenant = access.tenant()?.to_string();
    request.source.validate_at("source")?;
    let n = request.n.unwrap_or(10);
    if n > MAX_HEAD {
        return Err(ApiError::InvalidSpec {
            path: "n".into(),
            message: format!("at most {MAX_HEAD} rows"),
        });
    }
    let inspection = on_engine(&state, |engine| async move {
        engine.inspect(&request.source, &tenant, n).await
    })
    .await?;
    let mut encoder = Encoder::new(Encoding::Json, &inspection.schema)?;
    let mut json = Vec::new();
    for batch in &inspection.head {
        json.extend_from_slice(&encoder.write(batch)?);
    }
    json.extend_from_slice(&encoder.finish()?);
    let head = serde_json::from_slice(&json).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(InspectResponse {
        schema: columns(&written_schema(&inspection.schema)),
        files: inspection.files,
        partitions: inspection.partitions,
        head,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExplainResponse {
    /// The optimized logical plan.
    pub logical: String,
    /// The physical plan, with partition counts.
    pub physical: String,
    /// The physical plan as a graph of operators.
    pub graph: TaskGraph,
}

/// A spec's validated, optimized plan, without running it.
#[utoipa::path(post, path = "/v1/explain", operation_id = "explain", tag = "explore", request_body = JobSpec,
    responses(
        (status = 200, description = "The plan", body = ExplainResponse),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid spec", body = ErrorBody)))]
pub async fn explain(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    ValidSpec(spec): ValidSpec,
) -> Result<Json<ExplainResponse>, ApiError> {
    let tenant = access.tenant()?.to_string();
    let explanation = on_engine(&state, |engine| async move {
        engine.explain(&spec, &tenant).await
    })
    .await?;
    Ok(Json(ExplainResponse {
        logical: explanation.logical,
        physical: explanation.physical,
        graph: explanation.graph,
    }))
}

//! `/v1/workers`: the worker processes that are alive, what they can do and what they run.

use axum::Json;
use axum::extract::{Extension, State};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Access, ApiError, AppState};
use crate::domain::REPORT_EVERY;
use crate::domain::WorkerInfo;

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerView {
    #[serde(flatten)]
    pub worker: WorkerInfo,
    /// Slots not running a job.
    pub free: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerList {
    pub workers: Vec<WorkerView>,
}

/// Live workers: capabilities, slots busy and free, current jobs, last report.
#[utoipa::path(get, path = "/v1/workers", operation_id = "list_workers", tag = "workers",
    responses((status = 200, description = "Workers seen in the last few seconds", body = WorkerList)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
) -> Result<Json<WorkerList>, ApiError> {
    let workers = visible(&state, access.tenant()?).await?;
    Ok(Json(WorkerList { workers }))
}

/// Live workers as `tenant` may see them: every worker, but only its own current jobs.
pub(super) async fn visible(state: &AppState, tenant: &str) -> Result<Vec<WorkerView>, ApiError> {
    let mut workers = Vec::new();
    for mut worker in state.store.live_workers(REPORT_EVERY * 3).await? {
        // Slots are shared, but which jobs run is each tenant's own business.
        let mut own = Vec::new();
        for id in worker.current_jobs {
            if state.store.get(Some(tenant), id).await?.is_some() {
                own.push(id);
            }
        }
        worker.current_jobs = own;
        workers.push(WorkerView {
            free: (worker.slots - worker.busy).max(0),
            worker,
        });
    }
    Ok(workers)
}

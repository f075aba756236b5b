//! `GET /v1/jobs/{id}/tasks`: the task spans of a job's attempts, live while it runs.

use axum::Json;
use axum::extract::{Extension, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Access;
use super::extract::{ApiQuery, JobId, bad_cursor, next_cursor, page_limit};
use super::jobs::find;
use super::{ApiError, AppState, ErrorBody};
use crate::domain::Task;
use crate::store::TaskFilter;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// Only this attempt's spans (attempts count from 1).
    pub attempt: Option<i32>,
    /// Page size, 1–1000; default 1000.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskPage {
    /// By attempt, then `seq`.
    pub tasks: Vec<Task>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A job's task spans: one per operator × partition of each attempt's plan (and one per ML
/// fit), with when it ran and what it did. Spans appear while the job runs.
#[utoipa::path(get, path = "/v1/jobs/{id}/tasks", operation_id = "list_tasks", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id"), TaskQuery),
    responses(
        (status = 200, description = "A page of spans", body = TaskPage),
        (status = 400, description = "Bad parameter", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    JobId(id): JobId,
    ApiQuery(query): ApiQuery<TaskQuery>,
) -> Result<Json<TaskPage>, ApiError> {
    access.tenant()?;
    let job = find(&state, &access, id).await?;
    let limit = page_limit(query.limit, 1000)?;
    let after = query.cursor.as_deref().map(parse_cursor).transpose()?;
    let filter = TaskFilter {
        attempt: query.attempt,
        after,
        limit,
    };
    let tasks = state.store.tasks(job.id, &filter).await?;
    let next_cursor = next_cursor(&tasks, limit, |t| format!("{}.{}", t.attempt, t.span.seq));
    Ok(Json(TaskPage { tasks, next_cursor }))
}

fn parse_cursor(text: &str) -> Result<(i32, i64), ApiError> {
    let (attempt, seq) = text.split_once('.').ok_or_else(bad_cursor)?;
    Ok((
        attempt.parse().map_err(|_| bad_cursor())?,
        seq.parse().map_err(|_| bad_cursor())?,
    ))
}

/// Every span of a job (for the dashboard and the report), up to `cap`.
pub(super) async fn all(
    state: &AppState,
    job: uuid::Uuid,
    cap: usize,
) -> Result<Vec<Task>, ApiError> {
    let mut tasks = Vec::new();
    let mut filter = TaskFilter {
        attempt: None,
        after: None,
        limit: 1000,
    };
    while tasks.len() < cap {
        let page = state.store.tasks(job, &filter).await?;
        let Some(last) = page.last() else { break };
        filter.after = Some((last.attempt, i64::from(last.span.seq)));
        let full = page.len() == filter.limit as usize;
        tasks.extend(page);
        if !full {
            break;
        }
    }
    tasks.truncate(cap);
    Ok(tasks)
}

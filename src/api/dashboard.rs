//! The dashboard (`GET /dashboard`): one page whose assets are compiled into the binary, fed
//! by one Server-Sent Events stream (`GET /v1/dashboard/events`) that sends the tenant's jobs,
//! the workers and, for the job being looked at, its view and the task spans that changed.
//! And a job's performance report (`GET /v1/jobs/{id}/report`): one HTML file with the same
//! drawing code and the job's data inlined, that opens from disk.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::LazyLock;
use std::time::Duration;

use axum::extract::{Extension, State};
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Access;
use super::extract::{ApiQuery, JobId};
use super::jobs::{base_url, find};
use super::workers::{WorkerView, visible};
use super::{ApiError, AppState, ErrorBody};
use crate::domain::{ErrorCode, Job, JobState, Progress, Task};
use crate::results::PLAN_FILE;
use crate::store::ListFilter;
use crate::views::JobView;

const STYLE: &str = include_str!("dashboard/style.css");
const DRAW: &str = include_str!("dashboard/draw.js");
const APP: &str = include_str!("dashboard/app.js");
const REPORT: &str = include_str!("dashboard/report.js");

/// How often the stream sends a snapshot.
const EVERY: Duration = Duration::from_secs(1);
/// The most jobs one snapshot lists.
const JOBS: u32 = 500;
/// The most spans the stream or a report carries for one job.
pub const MAX_SPANS: usize = 100_000;

static PAGE: LazyLock<String> = LazyLock::new(|| {
    page(
        "Rusk dashboard",
        &format!("{DRAW}\n{APP}"),
        include_str!("dashboard/body.html"),
    )
});

fn page(title: &str, script: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\n<body>{body}\
         <script>{script}</script></body></html>\n"
    )
}

/// The dashboard page. It holds no data: it asks for an API key when the server has keys,
/// then reads everything from the stream.
pub async fn dashboard() -> Html<&'static str> {
    Html(PAGE.as_str())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Also send this job's view and task spans.
    pub job: Option<Uuid>,
    /// Only jobs in this state.
    pub state: Option<JobState>,
}

/// A job as the dashboard's list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobLine {
    pub id: Uuid,
    pub name: Option<String>,
    pub state: JobState,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub progress: Option<Progress>,
    pub error_code: Option<ErrorCode>,
}

impl JobLine {
    fn of(job: &Job) -> JobLine {
        JobLine {
            id: job.id,
            name: job.spec.name.clone(),
            state: job.state,
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            attempts: job.attempts,
            progress: job.progress.clone(),
            error_code: job.error.as_ref().map(|e| e.code),
        }
    }
}

/// One `snapshot` event of the dashboard's stream.
#[derive(Debug, Serialize, ToSchema)]
pub struct Snapshot {
    pub at: DateTime<Utc>,
    /// The tenant's newest jobs.
    pub jobs: Vec<JobLine>,
    pub workers: Vec<WorkerView>,
    /// The job asked for (`job=`), with its attempts.
    pub job: Option<JobView>,
    /// That job's spans that are new or changed since the previous snapshot (all of them in
    /// the first).
    pub tasks: Vec<Task>,
}

/// The dashboard's live feed: a `snapshot` event about every second.
#[utoipa::path(get, path = "/v1/dashboard/events", operation_id = "dashboard_events", tag = "jobs", params(FeedQuery),
    responses(
        (status = 200, description = "`snapshot` events, each one's data a `Snapshot` as JSON",
            content_type = "text/event-stream"),
        (status = 404, description = "No such job", body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<FeedQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let tenant = access.tenant()?.to_string();
    if let Some(id) = query.job {
        find(&state, &access, id).await?;
    }
    let shutdown = state.shutdown.clone();
    let feed = Feed {
        base: base_url(&state, &headers),
        app: state,
        tenant,
        query,
        sent: HashMap::new(),
        first: true,
    };
    let stream = futures::stream::unfold(feed, Feed::next).take_until(shutdown.cancelled_owned());
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

struct Feed {
    app: AppState,
    tenant: String,
    base: String,
    query: FeedQuery,
    /// The spans sent so far, by (attempt, seq).
    sent: HashMap<(i32, u32), Task>,
    first: bool,
}

impl Feed {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Feed)> {
        if !std::mem::take(&mut self.first) {
            tokio::time::sleep(EVERY).await;
        }
        let event = match self.snapshot().await {
            Ok(snapshot) => Event::default()
                .event("snapshot")
                .json_data(&snapshot)
                .unwrap_or_else(|_| Event::default().event("error").data("cannot encode")),
            Err(error) => Event::default().event("error").data(error.to_string()),
        };
        Some((Ok(event), self))
    }

    async fn snapshot(&mut self) -> Result<Snapshot, ApiError> {
        let store = &self.app.store;
        let filter = ListFilter {
            state: self.query.state,
            limit: JOBS,
            before: None,
        };
        let jobs = store.list(&self.tenant, &filter).await?;
        let workers = visible(&self.app, &self.tenant).await?;
        let (mut job, mut tasks) = (None, Vec::new());
        if let Some(id) = self.query.job
            && let Some(found) = store.get(Some(&self.tenant), id).await?
        {
            let attempts = store.attempts(id).await?;
            let mut view = JobView::new(found, &self.base, &self.app.links).await;
            view.attempt_log = Some(attempts);
            job = Some(view);
            tasks = self.changed(super::tasks::all(&self.app, id, MAX_SPANS).await?);
        }
        Ok(Snapshot {
            at: Utc::now(),
            jobs: jobs.iter().map(JobLine::of).collect(),
            workers,
            job,
            tasks,
        })
    }

    fn changed(&mut self, tasks: Vec<Task>) -> Vec<Task> {
        let fresh: Vec<Task> = tasks
            .into_iter()
            .filter(|t| self.sent.get(&(t.attempt, t.span.seq)) != Some(t))
            .collect();
        for task in &fresh {
            self.sent
                .insert((task.attempt, task.span.seq), task.clone());
        }
        fresh
    }
}

/// What a report inlines.
#[derive(Serialize)]
struct ReportData {
    job: JobView,
    plan: Option<serde_json::Value>,
    tasks: Vec<Task>,
    made_at: DateTime<Utc>,
}

/// A job's performance report: one self-contained HTML file (task stream, plan with metrics,
/// timings by operator, attempts, the spec) that opens from disk with no server.
#[utoipa::path(get, path = "/v1/jobs/{id}/report", operation_id = "get_report", tag = "jobs",
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "The report", content_type = "text/html"),
        (status = 404, description = "No such job", body = ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    JobId(id): JobId,
) -> Result<Response, ApiError> {
    access.tenant()?;
    let job = find(&state, &access, id).await?;
    let plan = match job.state {
        JobState::Succeeded => state
            .results
            .read_beside((job.id, job.attempts), PLAN_FILE)
            .await?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok()),
        _ => None,
    };
    let attempts = state.store.attempts(job.id).await?;
    let tasks = super::tasks::all(&state, job.id, MAX_SPANS).await?;
    let mut view = JobView::new(job, &base_url(&state, &headers), &state.links).await;
    view.attempt_log = Some(attempts);
    let data = ReportData {
        job: view,
        plan,
        tasks,
        made_at: Utc::now(),
    };
    let json = serde_json::to_string(&data).map_err(|e| ApiError::Internal(e.to_string()))?;
    let body = format!(
        "<script id=\"report-data\" type=\"application/json\">{}</script>{}",
        inline_json(&json),
        include_str!("dashboard/report.html")
    );
    let html = page(
        &format!("Rusk report {id}"),
        &format!("{DRAW}\n{REPORT}"),
        &body,
    );
    let disposition = format!("inline; filename=\"rusk-report-{id}.html\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        html,
    )
        .into_response())
}

/// JSON safe inside a `<script>` element: no `</script>` or `<!--` can end it early.
fn inline_json(json: &str) -> String {
    json.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inlined_json_cannot_close_its_script_element() {
        let json = serde_json::to_string(&serde_json::json!({"a": "</script><!--"})).unwrap();
        let inlined = inline_json(&json);
        assert!(!inlined.contains('<'));
        let back: serde_json::Value = serde_json::from_str(&inlined).unwrap();
        assert_eq!(back["a"], "</script><!--");
    }
}

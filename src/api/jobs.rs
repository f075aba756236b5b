//! `/v1/jobs`: submit, list, read, cancel, and fetch results.

use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::convert::Infallible;
use tokio::sync::broadcast;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::admission::admit;
use super::auth::Access;
use super::extract::{ApiPath, ApiQuery, JobId, ValidSpec, bad_cursor, next_cursor, page_limit};
use super::{ApiError, AppState, ErrorBody};
use crate::domain::{Delivery, Job, JobState, Progress, REPORT_EVERY, StoredResult};
use crate::engine::TaskGraph;
use crate::results::{Encoding, PLAN_FILE, reencode};
use crate::spec::{Compression, GpuUse, JobSpec, OutputFormat};
use crate::store::{Cancelled, ListFilter, NewJob, Submitted};
use crate::views::{JobView, Waiting};

/// The absolute base of links: the configured public URL, else the request's host.
pub(super) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(public) = &state.public_url {
        return public.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// Submit a job.
///
/// The spec is validated and planned before anything is stored: unknown sources, columns,
/// bad expressions or forbidden SQL are refused with 422 and no job is created.
#[utoipa::path(post, path = "/v1/jobs", operation_id = "submit_job", tag = "jobs",
    request_body = JobSpec,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Retrying with the same key and body returns the first job (200)")),
    responses(
        (status = 201, description = "Queued", body = JobView,
            headers(("Location" = String, description = "The job's URL"))),
        (status = 200, description = "Seen before with this Idempotency-Key", body = JobView),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 413, description = "Body too large"),
        (status = 403, description = "The tenant's quota of stored results is used up", body = ErrorBody),
        (status = 422, description = "Invalid spec, or a reused Idempotency-Key", body = ErrorBody),
        (status = 503, description = "Job store unavailable", body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    ValidSpec(spec): ValidSpec,
) -> Result<Response, ApiError> {
    let tenant = access.tenant()?.to_string();
    admit(&state, &tenant, &spec).await?;
    let idempotency = idempotency_key(&headers)?.map(|key| (key, request_hash(&spec)));
    let submitted = state
        .store
        .submit(NewJob {
            tenant,
            spec,
            idempotency,
        })
        .await?;
    let base = base_url(&state, &headers);
    match submitted {
        Submitted::Created(job) => {
            state.wake.notify_one();
            state.metrics.jobs_submitted.inc();
            let location = format!("{base}/v1/jobs/{}", job.id);
            let view = JobView::new(job, &base, &state.links).await;
            Ok((
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                Json(view),
            )
                .into_response())
        }
        Submitted::Existing(job) => {
            let view = JobView::new(job, &base, &state.links).await;
            Ok((StatusCode::OK, Json(view)).into_response())
        }
        Submitted::KeyReused => Err(ApiError::IdempotencyKeyReused),
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| {
            (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        })
        .ok_or_else(|| {
            ApiError::InvalidParameter(
                "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
            )
        })?;
    Ok(Some(key.to_string()))
}

/// Requests are the same when their parsed specs are (whitespace and defaults do not count).
fn request_hash(spec: &JobSpec) -> String {
    let canonical = serde_json::to_vec(spec).unwrap_or_default();
    format!("{:x}", Sha256::digest(canonical))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only jobs in this state.
    pub state: Option<JobState>,
    /// Page size, 1–1000; default 50.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    /// Newest first.
    pub jobs: Vec<JobView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// List jobs, newest first.
#[utoipa::path(get, path = "/v1/jobs", operation_id = "list_jobs", tag = "jobs", params(ListQuery),
    responses(
        (status = 200, description = "A page of jobs", body = JobPage),
        (status = 400, description = "Bad parameter", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<JobPage>, ApiError> {
    let limit = page_limit(query.limit, 50)?;
    let before = match &query.cursor {
        Some(cursor) => Some(Uuid::parse_str(cursor).map_err(|_| bad_cursor())?),
        None => None,
    };
    let filter = ListFilter {
        state: query.state,
        limit,
        before,
    };
    let jobs = state.store.list(access.tenant()?, &filter).await?;
    let next_cursor = next_cursor(&jobs, limit, |job| job.id.to_string());
    let base = base_url(&state, &headers);
    let mut views = Vec::with_capacity(jobs.len());
    for job in jobs {
        views.push(JobView::new(job, &base, &state.links).await);
    }
    let jobs = views;
    Ok(Json(JobPage { jobs, next_cursor }))
}

/// The job, if `access` may see it; another tenant's job is "not found", as if absent.
pub(super) async fn find(state: &AppState, access: &Access, id: Uuid) -> Result<Job, ApiError> {
    let tenant = match access {
        Access::Tenant(tenant) => Some(tenant.as_str()),
        Access::Link(job) if *job == id => None,
        Access::Link(_) => return Err(ApiError::Forbidden("the link is for another job".into())),
    };
    state
        .store
        .get(tenant, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no job {id}")))
}

/// Read a job: its state, attempts, error or result.
#[utoipa::path(get, path = "/v1/jobs/{id}", operation_id = "get_job", tag = "jobs",
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = JobView),
        (status = 404, description = "No such job", body = ErrorBody)))]
pub async fn get_job(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    JobId(id): JobId,
) -> Result<Json<JobView>, ApiError> {
    access.tenant()?;
    let job = find(&state, &access, id).await?;
    let attempts = state.store.attempts(job.id).await?;
    let waiting_for = waiting_for(&state, &job).await?;
    let mut view = JobView::new(job, &base_url(&state, &headers), &state.links).await;
    view.attempt_log = Some(attempts);
    view.waiting_for = waiting_for;
    Ok(Json(view))
}

/// What a queued job waits for that no live worker offers.
async fn waiting_for(state: &AppState, job: &Job) -> Result<Option<Waiting>, ApiError> {
    if job.state != JobState::Queued || job.spec.resources.gpu != GpuUse::Require {
        return Ok(None);
    }
    let workers = state.store.live_workers(REPORT_EVERY * 3).await?;
    let gpu_worker = workers.iter().any(|w| !w.capabilities.gpus.is_empty());
    Ok((!gpu_worker).then_some(Waiting::GpuWorker))
}

/// Cancel a queued or running job; a running job stops within about a second.
#[utoipa::path(post, path = "/v1/jobs/{id}/cancel", operation_id = "cancel_job", tag = "jobs",
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 202, description = "Cancelled", body = JobView),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "The job already ended", body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    JobId(id): JobId,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    match state.store.cancel(access.tenant()?, id).await? {
        Cancelled::Done(job) => {
            state.metrics.job_cancelled();
            Ok((
                StatusCode::ACCEPTED,
                Json(JobView::new(job, &base_url(&state, &headers), &state.links).await),
            ))
        }
        Cancelled::AlreadyFinished(job) => Err(ApiError::AlreadyEnded(job.state)),
        Cancelled::NotFound => Err(ApiError::NotFound(format!("no job {id}"))),
    }
}

/// Delete a job: its row, its result files and the models it trained (files it wrote to its
/// own `output.path` are the caller's and stay). A queued or running job is cancelled first.
#[utoipa::path(delete, path = "/v1/jobs/{id}", operation_id = "delete_job", tag = "jobs",
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such job", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    JobId(id): JobId,
) -> Result<StatusCode, ApiError> {
    let tenant = access.tenant()?;
    match state.store.cancel(tenant, id).await? {
        Cancelled::NotFound => return Err(ApiError::NotFound(format!("no job {id}"))),
        Cancelled::Done(_) => state.metrics.job_cancelled(),
        Cancelled::AlreadyFinished(_) => {}
    }
    // Models first: a failure leaves the job in place for another DELETE, not its models
    // without a job.
    for model in state.store.delete_models_of(id).await? {
        state.results.delete_model(&model).await?;
    }
    let Some(job) = state.store.delete(tenant, id).await? else {
        return Err(ApiError::NotFound(format!("no job {id}")));
    };
    let files = state.results.discard_attempts(job.id, None).await?;
    tracing::info!(job = %job.id, files, "deleted a job");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResultFormat {
    Arrow,
    Parquet,
    Json,
    Csv,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultQuery {
    /// Overrides `Accept`. Default: JSON.
    #[param(inline)]
    pub format: Option<ResultFormat>,
    /// Rows to skip.
    pub offset: Option<u64>,
    /// Most rows to return.
    pub limit: Option<u64>,
}

/// Download a succeeded job's result.
///
/// `format=arrow` (Arrow IPC stream), `parquet`, `json` (an array of row objects) or `csv`,
/// or the same by `Accept`. `offset` and `limit` select a window of rows, e.g. for previews.
#[utoipa::path(get, path = "/v1/jobs/{id}/result", operation_id = "get_result", tag = "jobs",
    params(("id" = Uuid, Path, description = "Job id"), ResultQuery),
    responses(
        (status = 200, description = "The rows", content(
            ("application/vnd.apache.arrow.stream"),
            ("application/vnd.apache.parquet"),
            ("application/json"),
            ("text/csv"))),
        (status = 404, description = "No such job", body = ErrorBody),
        (status = 409, description = "The job has not succeeded", body = ErrorBody),
        (status = 410, description = "The result's retention has passed", body = ErrorBody)))]
pub async fn result(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    JobId(id): JobId,
    ApiQuery(query): ApiQuery<ResultQuery>,
) -> Result<Response, ApiError> {
    if let Some(limit) = query.limit
        && limit > MAX_RESULT_ROWS
    {
        return Err(ApiError::InvalidParameter(format!(
            "limit must be at most {MAX_RESULT_ROWS}; leave it out for the whole result"
        )));
    }
    let job = find(&state, &access, id).await?;
    let stored = succeeded(job)?;
    let format = query.format.unwrap_or_else(|| negotiate(&headers));
    let encoding = match format {
        ResultFormat::Arrow => Encoding::ArrowStream,
        ResultFormat::Parquet => Encoding::Parquet(Compression::Snappy),
        ResultFormat::Json => Encoding::Json,
        ResultFormat::Csv => Encoding::Csv,
    };
    let whole = query.offset.unwrap_or(0) == 0 && query.limit.is_none();
    let as_stored = format == ResultFormat::Parquet && stored.format == OutputFormat::Parquet;
    if whole
        && as_stored
        && let [file] = stored.files.as_slice()
    {
        let bytes = state.results.serving(&stored)?.raw(file).await?;
        return Ok(download(encoding, Body::from_stream(bytes)));
    }
    if whole
        && format == ResultFormat::Arrow
        && let Some(stream) = state
            .results
            .serving(&stored)?
            .arrow_stream(&stored)
            .await?
    {
        let mut response = download(encoding, Body::from_stream(stream.body));
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(stream.length));
        return Ok(response);
    }
    let offset = query.offset.unwrap_or(0);
    let (produce, chunks) = reencode(&state.results, &stored, encoding, offset, query.limit)?;
    state.engine.spawn(produce);
    Ok(download(encoding, Body::from_stream(chunks)))
}

/// The executed plan of a succeeded job: its operators and edges, each operator with what it
/// did (rows out, compute time, spills), as `EXPLAIN ANALYZE` would show it.
#[utoipa::path(get, path = "/v1/jobs/{id}/plan", operation_id = "get_plan", tag = "jobs",
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "The executed plan", body = TaskGraph),
        (status = 404, description = "No such job, or no plan kept for it", body = ErrorBody),
        (status = 409, description = "The job has not succeeded", body = ErrorBody)))]
pub async fn plan(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    JobId(id): JobId,
) -> Result<Response, ApiError> {
    access.tenant()?;
    let job = find(&state, &access, id).await?;
    if job.state != JobState::Succeeded {
        return Err(ApiError::NotSucceeded(job.state));
    }
    let kept = state
        .results
        .read_beside((job.id, job.attempts), PLAN_FILE)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no plan is kept for job {id} (it ran before plans were kept, or its result \
                 was deleted)"
            ))
        })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], kept).into_response())
}

/// Download one result file as stored (`result.files[i].url`).
#[utoipa::path(get, path = "/v1/jobs/{id}/files/{index}", operation_id = "get_file", tag = "jobs",
    params(("id" = Uuid, Path, description = "Job id"),
           ("index" = usize, Path, description = "Position in `result.files`")),
    responses(
        (status = 200, description = "The file", content(
            ("application/vnd.apache.parquet"), ("application/vnd.apache.arrow.file"),
            ("text/csv"), ("application/x-ndjson"))),
        (status = 404, description = "No such job or file", body = ErrorBody),
        (status = 409, description = "The job has not succeeded", body = ErrorBody),
        (status = 410, description = "The result's retention has passed", body = ErrorBody)))]
pub async fn file(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    ApiPath((id, index)): ApiPath<(String, usize)>,
) -> Result<Response, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound(format!("no job {id:?}")))?;
    let stored = succeeded(find(&state, &access, id).await?)?;
    let file = stored.files.get(index).ok_or_else(|| {
        ApiError::NotFound(format!("the result has {} files", stored.files.len()))
    })?;
    let encoding = Encoding::stored(stored.format, None);
    let bytes = state.results.serving(&stored)?.raw(file).await?;
    Ok(download(encoding, Body::from_stream(bytes)))
}

fn succeeded(job: Job) -> Result<StoredResult, ApiError> {
    if let Some(at) = job.result_expired_at {
        return Err(ApiError::ResultExpired(format!(
            "the result of job {} was deleted at {at} after its retention (result_ttl_s, or \
             the server's RUSK_RESULT_TTL); run the job again",
            job.id
        )));
    }
    match (job.state, job.result) {
        (JobState::Succeeded, Some(result)) => Ok(result),
        (state, _) => Err(ApiError::NotSucceeded(state)),
    }
}

/// The first data format the `Accept` header names; JSON when it names none.
fn negotiate(headers: &HeaderMap) -> ResultFormat {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .unwrap_or("");
    accept
        .split(',')
        .filter_map(|part| match part.split(';').next().unwrap_or("").trim() {
            "application/vnd.apache.arrow.stream" => Some(ResultFormat::Arrow),
            "application/vnd.apache.parquet" | "application/x-parquet" => {
                Some(ResultFormat::Parquet)
            }
            "text/csv" => Some(ResultFormat::Csv),
            "application/json" => Some(ResultFormat::Json),
            _ => None,
        })
        .next()
        .unwrap_or(ResultFormat::Json)
}

fn download(encoding: Encoding, body: Body) -> Response {
    ([(header::CONTENT_TYPE, encoding.content_type())], body).into_response()
}

/// What a watcher last reported: a new state or attempt is a `state` event, anything else a
/// `progress` event.
#[derive(PartialEq)]
struct Seen {
    state: JobState,
    attempts: i32,
    progress: Option<Progress>,
}

struct Watch {
    app: AppState,
    tenant: String,
    id: Uuid,
    base: String,
    first: Option<Job>,
    seen: Option<Seen>,
    ended: bool,
    /// Jobs changed by this process: the job is read again at once when it is one of them.
    changes: broadcast::Receiver<Uuid>,
}

impl Watch {
    /// The next change of the job: read again when this process changed it, and every
    /// `EVENT_POLL` in any case (another process's worker may have).
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Watch)> {
        if self.ended {
            return None;
        }
        loop {
            let job = match self.first.take() {
                Some(job) => job,
                None => {
                    tokio::select! {
                        _ = tokio::time::sleep(EVENT_POLL) => {}
                        _ = changed(&mut self.changes, self.id) => {}
                    }
                    match self.app.store.get(Some(&self.tenant), self.id).await {
                        Ok(Some(job)) => job,
                        Ok(None) => return None,
                        Err(error) => {
                            tracing::warn!(%error, "job events: store unavailable");
                            continue;
                        }
                    }
                }
            };
            let seen = Seen {
                state: job.state,
                attempts: job.attempts,
                progress: job.progress.clone(),
            };
            if self.seen.as_ref() == Some(&seen) {
                continue;
            }
            let kind = match &self.seen {
                Some(last) if (last.state, last.attempts) == (seen.state, seen.attempts) => {
                    "progress"
                }
                _ => "state",
            };
            self.seen = Some(seen);
            self.ended = job.state.is_terminal();
            let view = JobView::new(job, &self.base, &self.app.links).await;
            let event = Event::default()
                .event(kind)
                .json_data(view)
                .unwrap_or_else(|_| Event::default().comment("unserializable job"));
            return Some((Ok(event), self));
        }
    }
}

const EVENT_POLL: std::time::Duration = std::time::Duration::from_millis(250);

/// Returns once `id` is among `changes`, or once changes were missed (any of them may have
/// been `id`'s).
async fn changed(changes: &mut broadcast::Receiver<Uuid>, id: Uuid) {
    loop {
        match changes.recv().await {
            Ok(job) if job == id => return,
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => return,
            // The store is gone only as the server stops: the poll goes on until then.
            Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
        }
    }
}

/// Follow a job as Server-Sent Events until it ends.
///
/// Each event's data is the job (as `GET /v1/jobs/{id}`): `event: state` when its state or
/// attempt changes, `event: progress` when only its progress does. The stream closes after
/// the event for the terminal state.
#[utoipa::path(get, path = "/v1/jobs/{id}/events", operation_id = "job_events", tag = "jobs",
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "A stream of `state` and `progress` events, each one's \
            data a `JobView` as JSON", content_type = "text/event-stream"),
        (status = 404, description = "No such job", body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    headers: HeaderMap,
    JobId(id): JobId,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let tenant = access.tenant()?.to_string();
    // Before the first read, so that no change after it goes unheard.
    let changes = state.store.changes();
    let first = find(&state, &access, id).await?;
    let shutdown = state.shutdown.clone();
    let watch = Watch {
        tenant,
        base: base_url(&state, &headers),
        app: state,
        id,
        first: Some(first),
        seen: None,
        ended: false,
        changes,
    };
    let stream = futures::stream::unfold(watch, Watch::next).take_until(shutdown.cancelled_owned());
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// The most rows one `limit` may ask for (leave it out for the whole result).
const MAX_RESULT_ROWS: u64 = 1_000_000;

/// A job's webhook messages and every attempt to deliver them.
#[utoipa::path(get, path = "/v1/jobs/{id}/deliveries", operation_id = "list_deliveries", tag = "jobs",
    params(("id" = Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job's webhook deliveries, oldest first",
            body = DeliveryPage),
        (status = 404, description = "No such job", body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    Extension(access): Extension<Access>,
    JobId(id): JobId,
) -> Result<Json<DeliveryPage>, ApiError> {
    access.tenant()?;
    let job = find(&state, &access, id).await?;
    let deliveries = state.store.deliveries(job.id).await?;
    Ok(Json(DeliveryPage { deliveries }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub deliveries: Vec<Delivery>,
}

#[cfg(test)]
mod tests {
    use tokio::sync::broadcast;
    use uuid::Uuid;

    use super::changed;

    #[tokio::test]
    async fn a_watcher_wakes_for_its_own_job_or_when_it_missed_changes() {
        let (ours, other) = (Uuid::new_v4(), Uuid::new_v4());
        let (send, mut changes) = broadcast::channel(4);
        for id in [other, other, ours] {
            send.send(id).unwrap();
        }
        changed(&mut changes, ours).await;
        assert!(changes.is_empty(), "read up to its own job's change");

        // Five changes into a buffer of four: the watcher missed one, which may have been
        // its job's, so it returns to read the job.
        for _ in 0..5 {
            send.send(other).unwrap();
        }
        changed(&mut changes, ours).await;
        assert_eq!(changes.len(), 4, "returned at the lag, before reading on");
    }
}

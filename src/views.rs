//! A job as callers see it, in API responses, events and webhooks: its links absolute,
//! signed and expiring.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{
    Attempt, ColumnSchema, Job, JobError, JobState, MlSummary, Progress, StoredResult,
};
use crate::results::{LinkSigner, ResultStore};
use crate::spec::JobSpec;

/// Files listed in a job's view, so that a job of many files stays a small response.
pub const MAX_VIEW_FILES: usize = 100;

/// What result links are made with.
#[derive(Clone)]
pub struct LinkMaker {
    pub signer: LinkSigner,
    pub results: ResultStore,
}

/// A job as callers see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: Uuid,
    pub name: Option<String>,
    pub state: JobState,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Attempts started so far (a lapsed lease or a transient failure starts another).
    pub attempts: i32,
    pub max_attempts: i32,
    pub priority: i32,
    /// How far the job has got (updated about every second while it runs).
    pub progress: Option<Progress>,
    /// Why the job failed, when it did.
    pub error: Option<JobError>,
    /// Every attempt: worker, start, end, outcome, error. Only on `GET /v1/jobs/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_log: Option<Vec<Attempt>>,
    /// Why a queued job has not started, where Rusk knows: `gpu_worker` while it needs a GPU
    /// (`resources.gpu`) and no live worker has one. Only on `GET /v1/jobs/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_for: Option<Waiting>,
    /// What the job produced, once it succeeded.
    pub result: Option<ResultView>,
    /// The specification as submitted (with defaults filled in).
    pub spec: JobSpec,
}

/// What a queued job waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Waiting {
    /// A live worker with a GPU: the job needs one, and none is live now.
    GpuWorker,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResultView {
    pub rows: u64,
    pub bytes: u64,
    pub schema: Vec<ColumnSchema>,
    /// The first result files (at most 100), in row order; `GET /v1/jobs/{id}/files/{i}`
    /// serves any of them.
    pub files: Vec<FileView>,
    /// How many result files there are in all.
    pub file_count: usize,
    pub links: Links,
    /// For ML jobs: `model_id`, `metrics`, `params` (`fit`); `best_params`, `best_score`,
    /// `scoring` (`grid_search`); `model_id`, `rows` (`predict`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ml: Option<MlSummary>,
    /// When the links stop working (`RUSK_LINK_TTL` after this response was made).
    pub expires_at: DateTime<Utc>,
    /// When the result's files are deleted (`result_ttl_s`, `RUSK_RESULT_TTL`); `null`:
    /// kept until the job is deleted.
    pub retained_until: Option<DateTime<Utc>>,
    /// When they were: downloads answer 410 since.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    pub url: String,
    /// Where the file is, for a job that wrote to its `output.path`: that path and the
    /// file's name in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub rows: u64,
    pub bytes: u64,
}

/// The whole result in one download.
#[derive(Debug, Serialize, ToSchema)]
pub struct Links {
    /// Arrow IPC stream.
    pub arrow: String,
    /// One Parquet file.
    pub parquet: String,
}

impl JobView {
    /// `base` is the absolute URL links start with, e.g. `https://rusk.example.com`.
    pub async fn new(job: Job, base: &str, links: &LinkMaker) -> JobView {
        let result = match job.result {
            Some(stored) => {
                let path = job.spec.output.path.as_deref();
                let mut view = ResultView::new(job.id, stored, path, base, links).await;
                view.retained_until = job.result_expires_at;
                view.expired_at = job.result_expired_at;
                Some(view)
            }
            None => None,
        };
        JobView {
            id: job.id,
            name: job.spec.name.clone(),
            state: job.state,
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            priority: job.priority,
            progress: job.progress,
            error: job.error,
            attempt_log: None,
            waiting_for: None,
            result,
            spec: job.spec,
        }
    }
}

impl ResultView {
    async fn new(
        job: Uuid,
        stored: StoredResult,
        path: Option<&str>,
        base: &str,
        links: &LinkMaker,
    ) -> ResultView {
        let expires_at = links.signer.expiry();
        let signed = |path: String| format!("{base}{}", links.signer.sign(&path, expires_at));
        let mut files = Vec::with_capacity(stored.files.len().min(MAX_VIEW_FILES));
        let serving = links.results.serving(&stored);
        let destination = stored
            .destination
            .as_deref()
            .and_then(|url| links.results.destination(url).ok());
        let named = |key: &str| {
            let (path, destination) = (path?, destination.as_ref()?);
            Some(format!(
                "{}/{}",
                path.trim_end_matches('/'),
                destination.relative(key)
            ))
        };
        for (i, file) in stored.files.iter().enumerate().take(MAX_VIEW_FILES) {
            let presigned = match async {
                serving
                    .as_ref()
                    .map_err(|e| e.to_string())?
                    .presigned(file, links.signer.ttl())
                    .await
                    .map_err(|e| e.to_string())
            }
            .await
            {
                Ok(url) => url,
                Err(error) => {
                    tracing::warn!(%error, "cannot presign a result file; linking via the API");
                    None
                }
            };
            files.push(FileView {
                url: presigned.unwrap_or_else(|| signed(format!("/v1/jobs/{job}/files/{i}"))),
                path: named(&file.key),
                rows: file.rows,
                bytes: file.bytes,
            });
        }
        ResultView {
            rows: stored.rows,
            bytes: stored.bytes,
            schema: stored.schema,
            files,
            file_count: stored.files.len(),
            links: Links {
                arrow: signed(format!("/v1/jobs/{job}/result?format=arrow")),
                parquet: signed(format!("/v1/jobs/{job}/result?format=parquet")),
            },
            expires_at,
            retained_until: None,
            expired_at: None,
            ml: stored.ml,
        }
    }
}

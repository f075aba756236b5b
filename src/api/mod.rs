//! The HTTP API: thin handlers over the job store, the engine (to validate) and the result
//! store. Stateless: every fact lives in the job store or the object store.

mod error;
mod explore;
mod health;
mod jobs;
mod workers;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::sync::Notify;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

pub use error::{ApiError, ErrorBody};

use crate::engine::Engine;
use crate::results::ResultStore;
use crate::store::JobStore;

/// The largest job spec accepted.
const MAX_BODY_BYTES: usize = 1 << 20;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn JobStore>,
    pub engine: Arc<Engine>,
    pub results: ResultStore,
    /// Wakes an idle job slot in this process when a job is queued.
    pub wake: Arc<Notify>,
    /// Base of absolute links in responses; default the request's host.
    pub public_url: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rusk",
        description = "Dask-style dataframe jobs over REST: submit a pipeline as JSON, \
                       poll or wait for it, download the result as Arrow IPC, Parquet, JSON or CSV.",
        license(name = "Apache-2.0")
    ),
    tags(
        (name = "jobs", description = "Submit jobs and fetch their results"),
        (name = "explore", description = "Look at sources and plans without running a job"),
        (name = "workers", description = "The worker processes running jobs"),
        (name = "health", description = "Probes for load balancers and Kubernetes")
    )
)]
struct ApiDoc;

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(jobs::submit, jobs::list))
        .routes(routes!(jobs::get_job))
        .routes(routes!(jobs::cancel))
        .routes(routes!(jobs::result))
        .routes(routes!(jobs::file))
        .routes(routes!(jobs::events))
        .routes(routes!(explore::inspect))
        .routes(routes!(explore::explain))
        .routes(routes!(workers::list))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
}

/// Runs engine work (validation, inspection, planning) on the engine's threads, away from
/// the I/O runtime that serves requests.
async fn on_engine<T, F, Fut>(state: &AppState, work: F) -> Result<T, ApiError>
where
    F: FnOnce(Arc<Engine>) -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::engine::EngineError>> + Send + 'static,
    T: Send + 'static,
{
    let running = state.engine.spawn(work(state.engine.clone()));
    let done = running
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(done?)
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

pub fn router(state: AppState) -> Router {
    let (router, api) = routes().with_state(state).split_for_parts();
    router
        .merge(SwaggerUi::new("/docs").url("/openapi.json", api))
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

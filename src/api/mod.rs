//! The HTTP API: thin handlers over the job store, the engine (to validate) and the result
//! store. Stateless: every fact lives in the job store or the object store.

mod admission;
mod auth;
mod dashboard;
mod document;
mod error;
mod explore;
mod extract;
mod health;
mod jobs;
mod metrics;
mod models;
mod origin;
mod tasks;
mod workers;

use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::sync::Notify;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

pub use auth::Access;
pub use error::{ApiError, ErrorBody};
pub use health::probes;
pub use origin::OriginPolicy;

use crate::engine::Engine;
use crate::netguard::Guard;
use crate::results::ResultStore;
use crate::store::Store;
use crate::views::LinkMaker;

/// The largest job spec accepted.
const MAX_BODY_BYTES: usize = 1 << 20;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub engine: Arc<Engine>,
    pub results: ResultStore,
    /// Wakes an idle job slot in this process when a job is queued.
    pub wake: Arc<Notify>,
    /// Base of absolute links in responses; default the request's host.
    pub public_url: Option<String>,
    /// Signs result links.
    pub links: LinkMaker,
    /// Which webhook receivers submissions may name.
    pub webhook_guard: Guard,
    /// Which web pages and host names may use the API.
    pub origins: OriginPolicy,
    /// The most a job's `max_result_bytes` may ask for (`RUSK_MAX_RESULT_BYTES`).
    pub max_result_bytes: u64,
    /// The most a job's `result_ttl_s` may ask for (`RUSK_RESULT_TTL`).
    pub result_ttl: Option<u64>,
    /// Bytes of results a tenant may keep (`RUSK_RESULT_QUOTA`).
    pub result_quota: Option<u64>,
    /// This process's metrics.
    pub metrics: Arc<crate::telemetry::Metrics>,
    /// What `GET /metrics` needs once the server has API keys (`RUSK_METRICS_TOKEN`).
    pub metrics_token: Option<String>,
    /// Cancelled when the process shuts down: event streams end then, or a graceful shutdown
    /// would wait for callers that never hang up.
    pub shutdown: tokio_util::sync::CancellationToken,
}

impl AppState {
    pub fn scrape(&self) -> metrics::Scrape {
        metrics::Scrape {
            metrics: self.metrics.clone(),
            store: self.store.clone(),
            engine: self.engine.clone(),
        }
    }
}

pub use metrics::Scrape;

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
        (name = "models", description = "Models trained by `ml` jobs"),
        (name = "workers", description = "The worker processes running jobs"),
        (name = "health", description = "Probes for load balancers and Kubernetes")
    ),
    // Event streams carry these as JSON in each event's data.
    components(schemas(crate::views::JobView, dashboard::Snapshot)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

/// `Authorization: Bearer rusk_…`, needed on `/v1` routes once any API key exists.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key from `rusk keys create`; result links carry a signature \
                         instead",
                    ))
                    .build(),
            ),
        );
    }
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(jobs::submit, jobs::list))
        .routes(routes!(jobs::get_job))
        .routes(routes!(jobs::cancel))
        .routes(routes!(jobs::delete))
        .routes(routes!(jobs::result))
        .routes(routes!(jobs::file))
        .routes(routes!(jobs::plan))
        .routes(routes!(tasks::list))
        .routes(routes!(dashboard::report))
        .routes(routes!(dashboard::events))
        .routes(routes!(jobs::events))
        .routes(routes!(jobs::deliveries))
        .routes(routes!(explore::inspect))
        .routes(routes!(explore::explain))
        .routes(routes!(models::list))
        .routes(routes!(models::get_model))
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
    document::finish(routes().split_for_parts().1)
}

pub fn router(state: AppState) -> Router {
    let (router, api) = routes()
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            origin::check_origin,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::record_http,
        ))
        .with_state(state.clone())
        .split_for_parts();
    let api = document::finish(api);
    // For operators and people, not in the OpenAPI document.
    let scrape = Router::new()
        .route("/metrics", axum::routing::get(metrics::scrape))
        .route("/dashboard", axum::routing::get(dashboard::dashboard))
        .with_state(state.clone());
    router
        .merge(scrape)
        .merge(SwaggerUi::new("/docs").url("/openapi.json", api))
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(cors(&state.origins))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Each request's log lines carry its `x-request-id` (the caller's, or a fresh UUID), which
/// the response repeats: an internal error's cause is logged, and the caller quotes the id.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = id)
}

/// Answers browsers' CORS preflights for the allowed origins (none by default).
fn cors(policy: &OriginPolicy) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderValue, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins: Vec<HeaderValue> = policy
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([header::LOCATION])
}

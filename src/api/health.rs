//! Liveness and readiness, for load balancers and Kubernetes probes.

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiError, AppState};
use crate::store::Store;

/// What the probes need: only the store, so a worker's metrics listener can serve them too.
#[derive(Clone)]
pub struct Probe(Arc<dyn Store>);

impl FromRef<AppState> for Probe {
    fn from_ref(state: &AppState) -> Self {
        Probe(state.store.clone())
    }
}

/// `/healthz` and `/readyz` alone, for a process that serves no API (`rusk worker`'s
/// `RUSK_METRICS_LISTEN`), so Kubernetes can probe every role over HTTP.
pub fn probes(store: Arc<dyn Store>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(Probe(store))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "health",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The job store answers, so requests can be served.
#[utoipa::path(get, path = "/readyz", operation_id = "readyz", tag = "health", responses(
    (status = 200, description = "Ready", body = Health),
    (status = 503, description = "The job store does not answer", body = super::ErrorBody)))]
pub async fn readyz(State(Probe(store)): State<Probe>) -> Result<Json<Health>, ApiError> {
    store.ping().await?;
    Ok(Json(Health { status: "ok" }))
}

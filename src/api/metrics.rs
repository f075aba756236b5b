//! `GET /metrics` for Prometheus, and the middleware that counts HTTP requests. The endpoint is
//! for operators: a keyless Rusk serves it to loopback callers like the rest; one with API keys
//! asks for `RUSK_METRICS_TOKEN` (tenants' keys do not open it). `RUSK_METRICS_LISTEN` serves
//! it on an address of its own instead (`app.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::{ApiError, AppState};
use crate::engine::Engine;
use crate::store::Store;
use crate::telemetry::{HttpLabels, Metrics, RouteLabels, StateLabels, gauge_value};

/// What a scrape reads besides the counters: the job table and the engine, now.
#[derive(Clone)]
pub struct Scrape {
    pub metrics: Arc<Metrics>,
    pub store: Arc<dyn Store>,
    pub engine: Arc<Engine>,
}

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

impl Scrape {
    /// The metrics as Prometheus reads them, with the gauges read now.
    pub async fn respond(&self) -> Response {
        self.refresh().await;
        ([(header::CONTENT_TYPE, OPENMETRICS)], self.metrics.render()).into_response()
    }

    async fn refresh(&self) {
        let m = &self.metrics;
        match self.store.count_by_state().await {
            Ok(counts) => {
                for state in <crate::domain::JobState as crate::domain::Named>::ALL {
                    let n = counts
                        .iter()
                        .find(|(s, _)| s == state)
                        .map_or(0, |(_, n)| *n);
                    let labels = StateLabels {
                        state: state.as_str().to_string(),
                    };
                    m.jobs.get_or_create(&labels).set(gauge_value(n));
                }
            }
            Err(error) => tracing::warn!(%error, "cannot count jobs for the metrics"),
        }
        match self.store.live_workers(Duration::from_secs(30)).await {
            Ok(workers) => {
                m.workers_live.set(gauge_value(workers.len() as u64));
            }
            Err(error) => tracing::warn!(%error, "cannot count workers for the metrics"),
        }
        m.memory_reserved_bytes
            .set(gauge_value(self.engine.memory_reserved() as u64));
        m.memory_limit_bytes
            .set(gauge_value(self.engine.memory_limit()));
        m.spill_bytes.set(gauge_value(self.engine.spilled_bytes()));
    }
}

/// `GET /metrics` on the API's own address.
pub async fn scrape(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    allowed(&state, peer, &headers).await?;
    Ok(state.scrape().respond().await)
}

async fn allowed(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(super::auth::bearer_token);
    match (&state.metrics_token, given) {
        // Compared as digests: the time taken says nothing about the token.
        (Some(token), Some(given)) if Sha256::digest(token) == Sha256::digest(given) => Ok(()),
        (Some(_), _) => Err(ApiError::Unauthorized(
            "GET /metrics needs Authorization: Bearer <RUSK_METRICS_TOKEN>".into(),
        )),
        (None, _) if state.store.has_keys().await? => Err(ApiError::Forbidden(
            "this Rusk has API keys: set RUSK_METRICS_TOKEN for GET /metrics, or serve it on \
             RUSK_METRICS_LISTEN"
                .into(),
        )),
        // A keyless Rusk answers loopback callers under loopback (or allowed) names only,
        // as on every other route.
        (None, _) => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if peer.ip().to_canonical().is_loopback() && state.origins.allows_host(host) {
                Ok(())
            } else {
                Err(ApiError::Forbidden(
                    "a Rusk without API keys serves GET /metrics to loopback callers only; \
                     use RUSK_METRICS_LISTEN"
                        .into(),
                ))
            }
        }
    }
}

/// Counts every routed request by method, route template and status, with its latency.
pub async fn record_http(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let m = &state.metrics;
    m.http_requests
        .get_or_create(&HttpLabels {
            method: method.clone(),
            route: route.clone(),
            status: response.status().as_u16().to_string(),
        })
        .inc();
    m.http_seconds
        .get_or_create(&RouteLabels { method, route })
        .observe(started.elapsed().as_secs_f64());
    response
}

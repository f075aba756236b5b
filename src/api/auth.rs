//! Who is asking. With API keys, every `/v1` request carries `Authorization: Bearer rusk_…`
//! and sees only its tenant's jobs; a signed result link needs no key but opens only the
//! result it was made for. With no key at all, Rusk serves loopback clients only, as the
//! unauthenticated tenant.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use chrono::Utc;
use uuid::Uuid;

use super::{ApiError, AppState};
use crate::domain::DEFAULT_TENANT;
use crate::keys::hash_api_key;

/// What a request may see, put in its extensions by [`authenticate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Everything of this tenant.
    Tenant(String),
    /// One job's result, through a signed link.
    Link(Uuid),
}

impl Access {
    /// The tenant whose jobs may be listed and submitted; a link names none.
    pub fn tenant(&self) -> Result<&str, ApiError> {
        match self {
            Access::Tenant(tenant) => Ok(tenant),
            Access::Link(_) => Err(ApiError::Unauthorized(
                "a result link opens only its result; use an API key".into(),
            )),
        }
    }
}

pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    // Probes stay open for load balancers and Kubernetes.
    if !request.uri().path().starts_with("/v1/") {
        return Ok(next.run(request).await);
    }
    let asked = Asked::of(&request);
    let access = access(&state, asked).await?;
    request.extensions_mut().insert(access);
    Ok(next.run(request).await)
}

/// What of a request decides its access (owned: a request is not `Sync`, so it cannot be
/// held across the store's awaits).
struct Asked {
    path: String,
    query: String,
    authorization: Option<Vec<u8>>,
    host: Option<String>,
    peer: Option<std::net::IpAddr>,
}

impl Asked {
    fn of(request: &Request) -> Asked {
        Asked {
            path: request.uri().path().to_string(),
            query: request.uri().query().unwrap_or("").to_string(),
            authorization: request
                .headers()
                .get(header::AUTHORIZATION)
                .map(|v| v.as_bytes().to_vec()),
            host: request
                .headers()
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            peer: request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
        }
    }
}

async fn access(state: &AppState, asked: Asked) -> Result<Access, ApiError> {
    if asked.query.contains("signature=") {
        return link_access(state, &asked.path, &asked.query);
    }
    if let Some(value) = &asked.authorization {
        let key = std::str::from_utf8(value)
            .ok()
            .and_then(bearer_token)
            .ok_or_else(|| {
                ApiError::Unauthorized("expected Authorization: Bearer <API key>".into())
            })?;
        return match state.store.key_tenant(&hash_api_key(key)).await? {
            Some(tenant) => Ok(Access::Tenant(tenant)),
            None => Err(ApiError::Unauthorized("unknown or revoked API key".into())),
        };
    }
    if state.store.has_keys().await? {
        return Err(ApiError::Unauthorized(
            "an API key is required: Authorization: Bearer <key>".into(),
        ));
    }
    match asked.peer {
        Some(ip) if ip.is_loopback() || ip.to_canonical().is_loopback() => {
            // A loopback peer may still be a browser tricked by DNS rebinding: the page's
            // own host name is in `Host`.
            let host = asked.host.as_deref().unwrap_or_default();
            if !state.origins.allows_host(host) {
                return Err(ApiError::Forbidden(format!(
                    "a Rusk without API keys answers only to loopback host names, not {host:?}; \
                     an operator can add names with RUSK_ALLOWED_HOSTS"
                )));
            }
            Ok(Access::Tenant(DEFAULT_TENANT.into()))
        }
        _ => Err(ApiError::Forbidden(
            "Rusk has no API keys yet, so it answers loopback clients only; create one with \
             `rusk keys create --tenant NAME`"
                .into(),
        )),
    }
}

/// The token of `Bearer <token>`; the scheme's name is case-insensitive (RFC 9110).
pub(super) fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A signed link opens `GET /v1/jobs/{id}/result` or `/v1/jobs/{id}/files/{i}` of one job.
fn link_access(state: &AppState, path: &str, query: &str) -> Result<Access, ApiError> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let job = match parts.as_slice() {
        ["v1", "jobs", id, "result"] | ["v1", "jobs", id, "files", _] => Uuid::parse_str(id).ok(),
        _ => None,
    }
    .ok_or_else(|| ApiError::Forbidden("signed links open result downloads only".into()))?;
    state
        .links
        .signer
        .verify(path, query, Utc::now())
        .map_err(|e| ApiError::Forbidden(e.to_string()))?;
    Ok(Access::Link(job))
}

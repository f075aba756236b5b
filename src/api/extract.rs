//! Extractors whose rejections are Rusk's JSON errors (which field, what was expected), so
//! that handlers take their inputs ready to use.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::ApiError;
use crate::spec::{JobSpec, parse_json};

/// A JSON body, parsed with the field path of any error.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let body = Bytes::from_request(request, state).await?;
        Ok(ApiJson(parse_json(&body)?))
    }
}

/// A job specification that parsed and passed its structural checks (not yet planned).
pub struct ValidSpec(pub JobSpec);

impl<S: Send + Sync> FromRequest<S> for ValidSpec {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let body = Bytes::from_request(request, state).await?;
        Ok(ValidSpec(JobSpec::from_json(&body)?))
    }
}

/// Query parameters; a bad one is a 400 `invalid_parameter` naming it.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(query) = Query::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::InvalidParameter(e.body_text()))?;
        Ok(ApiQuery(query))
    }
}

/// Path parameters; one that does not parse names nothing that exists, so it is a 404.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(path) = Path::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::NotFound(e.body_text()))?;
        Ok(ApiPath(path))
    }
}

/// The `{id}` of a `/v1/jobs/{id}/…` route: a string that is not a UUID names no job.
pub struct JobId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for JobId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ApiPath(text) = ApiPath::<String>::from_request_parts(parts, state).await?;
        Uuid::parse_str(&text)
            .map(JobId)
            .map_err(|_| ApiError::NotFound(format!("no job {text:?}")))
    }
}

/// A page's size: `limit`, else `default`; from 1 to 1000.
pub fn page_limit(limit: Option<u32>, default: u32) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(default);
    if (1..=1000).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::InvalidParameter(
            "limit must be from 1 to 1000".into(),
        ))
    }
}

/// The cursor of the page after `items`: the last item's, when the page is full.
pub fn next_cursor<T>(items: &[T], limit: u32, cursor: impl Fn(&T) -> String) -> Option<String> {
    match items.last() {
        Some(last) if items.len() == limit as usize => Some(cursor(last)),
        _ => None,
    }
}

/// A cursor that no earlier page gave out.
pub fn bad_cursor() -> ApiError {
    ApiError::InvalidParameter("cursor must be a next_cursor from an earlier page".into())
}

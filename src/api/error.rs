//! The one place where failures become HTTP statuses and JSON error bodies.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::JobState;
use crate::engine::EngineError;
use crate::results::ResultError;
use crate::spec::SpecError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("request body is not valid JSON: {0}")]
    NotJson(String),
    #[error("{message}")]
    InvalidSpec { path: String, message: String },
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    NotFound(String),
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("the job is {}; its result exists once it has succeeded", .0.as_str())]
    NotSucceeded(JobState),
    #[error("the job already ended ({}); only queued or running jobs can be cancelled", .0.as_str())]
    AlreadyEnded(JobState),
    /// The result's files were deleted by its retention.
    #[error("{0}")]
    ResultExpired(String),
    /// The tenant keeps as many result bytes as `RUSK_RESULT_QUOTA` allows.
    #[error("{0}")]
    QuotaExceeded(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the job store is unavailable; try again shortly")]
    Unavailable(String),
    /// A source or object store could not be read: the cause is the caller's to see (their
    /// bucket, their file), so it is in the message.
    #[error("a source could not be read: {0}")]
    SourceUnavailable(String),
    /// A bug: the cause is logged with the request id, and the caller gets only the id.
    #[error("internal error; the server logged its cause under this response's x-request-id")]
    Internal(String),
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable, e.g. `invalid_spec`, `not_found`.
    pub code: &'static str,
    /// For people: what is wrong and what was expected.
    pub message: String,
    /// For `invalid_spec`: `{"path": "steps[1].expr"}`, the field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::NotJson(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            ApiError::InvalidSpec { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_spec"),
            ApiError::InvalidParameter(_) => (StatusCode::BAD_REQUEST, "invalid_parameter"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::IdempotencyKeyReused => {
                (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
            }
            ApiError::NotSucceeded(_) => (StatusCode::CONFLICT, "job_not_succeeded"),
            ApiError::AlreadyEnded(_) => (StatusCode::CONFLICT, "job_already_ended"),
            ApiError::ResultExpired(_) => (StatusCode::GONE, "result_expired"),
            ApiError::QuotaExceeded(_) => (StatusCode::FORBIDDEN, "quota_exceeded"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::SourceUnavailable(_) => (StatusCode::BAD_GATEWAY, "source_unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match &self {
            ApiError::Unavailable(cause) | ApiError::Internal(cause) => {
                tracing::error!(%cause, %status, "request failed");
            }
            _ => {}
        }
        let details = match &self {
            ApiError::InvalidSpec { path, .. } => Some(serde_json::json!({ "path": path })),
            _ => None,
        };
        let message = match &self {
            ApiError::InvalidSpec { path, message } if !path.is_empty() => {
                format!("{path}: {message}")
            }
            other => other.to_string(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message,
                details,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

impl From<axum::extract::rejection::BytesRejection> for ApiError {
    fn from(e: axum::extract::rejection::BytesRejection) -> ApiError {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(super::MAX_BODY_BYTES)
        } else {
            ApiError::InvalidParameter(e.body_text())
        }
    }
}

impl From<SpecError> for ApiError {
    fn from(e: SpecError) -> ApiError {
        match e {
            SpecError::NotJson(m) => ApiError::NotJson(m),
            SpecError::Invalid { path, message } => ApiError::InvalidSpec { path, message },
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        match e {
            EngineError::Invalid { path, message } => ApiError::InvalidSpec { path, message },
            EngineError::Data(m) | EngineError::ResourcesExhausted(m) => ApiError::InvalidSpec {
                path: String::new(),
                message: m,
            },
            EngineError::Io(m) => ApiError::SourceUnavailable(m),
            EngineError::Internal(m) => ApiError::Internal(m),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Unavailable(_) => ApiError::Unavailable(e.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<crate::results::EncodeError> for ApiError {
    fn from(e: crate::results::EncodeError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl From<crate::results::DestinationError> for ApiError {
    fn from(e: crate::results::DestinationError) -> ApiError {
        use crate::results::DestinationError;
        match e {
            DestinationError::Refused(message) => ApiError::InvalidSpec {
                path: "output.path".into(),
                message,
            },
            DestinationError::Unreadable(e) => {
                ApiError::SourceUnavailable(format!("output.path: {e}"))
            }
        }
    }
}

impl From<ResultError> for ApiError {
    fn from(e: ResultError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_source_that_cannot_be_read_is_a_bad_gateway_not_a_store_outage() {
        let error = ApiError::from(EngineError::Io("s3://lake/x.csv: connection reset".into()));
        let (status, body) = body_of(error).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert_eq!(body["error"]["code"], "source_unavailable");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("connection reset")
        );
    }

    #[tokio::test]
    async fn an_internal_error_keeps_its_cause_from_the_caller() {
        let error = ApiError::from(EngineError::Internal("secret detail at /srv/x".into()));
        let (status, body) = body_of(error).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["code"], "internal");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(!message.contains("secret detail"), "{message}");
        assert!(message.contains("x-request-id"), "{message}");
    }
}

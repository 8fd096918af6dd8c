//! API errors: `{"error": {"code", "message"}}` with the right status. Store and internal
//! failures are logged and answered with a generic message, so internals never leak.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hazewarn_scheduler::SchedulerError;
use hazewarn_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a bearer token is required")]
    Unauthenticated,
    #[error("this role may not do that")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    /// A rejected upload; nothing was changed.
    #[error("{0}")]
    Invalid(String),
    #[error("too many requests; retry in {retry_after_s} s")]
    TooMany { retry_after_s: u64 },
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status the failure is answered with.
    pub(crate) fn status(&self) -> StatusCode {
        self.status_code().0
    }

    fn status_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::TooMany { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_code();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let mut resp = error_response(status, code, &self.to_string());
        if let ApiError::TooMany { retry_after_s } = self {
            resp.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after_s));
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(_) => ApiError::NotFound,
            StoreError::Conflict(m) => ApiError::Conflict(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<SchedulerError> for ApiError {
    fn from(e: SchedulerError) -> ApiError {
        match e {
            SchedulerError::Conflict(m) => ApiError::Conflict(m),
            SchedulerError::Response(r) => ApiError::Conflict(r.to_string()),
            SchedulerError::Input(m) => ApiError::Invalid(m),
            SchedulerError::Store(s) => s.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<hazewarn_response::ResponseError> for ApiError {
    fn from(e: hazewarn_response::ResponseError) -> ApiError {
        ApiError::Conflict(e.to_string())
    }
}

/// The one error shape, `{"error": {"code", "message"}}`.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(serde_json::json!({"error": {"code": code, "message": message}}))).into_response()
}

/// Turns the framework's own failures under `/api/v1` (a body that does not parse, a wrong
/// content type, a body too large, a method not allowed) into the one error shape, keeping
/// their status and headers such as `Allow`.
pub async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_json =
        resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    let reason = status.canonical_reason().unwrap_or("error");
    let message = if text.is_empty() { reason.to_lowercase() } else { text };
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        s if s.is_server_error() => "internal",
        _ => "error",
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    let mut resp = error_response(status, code, &message);
    resp.headers_mut().extend(parts.headers);
    resp
}

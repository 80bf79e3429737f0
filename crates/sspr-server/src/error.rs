//! The one error type handlers and services return. It carries an `ErrorCode` and a message
//! for people; internal detail is logged once, where it happens, and never sent.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sspr_proto::{ErrorBody, ErrorCode, PasswordReason};

#[derive(Debug, Clone)]
pub struct ApiError(pub ErrorBody);

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError(ErrorBody::new(code, message))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::BadRequest, message)
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(ErrorCode::NotFound, format!("No such {what}."))
    }

    pub fn step(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::StepNotAllowed, message)
    }

    /// Logs the cause (never a secret: callers pass store or directory errors) and returns
    /// a generic error.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            ErrorCode::Internal,
            "Something went wrong on the server. Nothing was changed; please try again.",
        )
    }

    pub fn with_reference(mut self, reference: &str) -> Self {
        self.0.reference = Some(reference.to_string());
        self
    }

    pub fn with_retry_after(mut self, secs: i64) -> Self {
        self.0.retry_after_secs = Some(secs.max(1) as u64);
        self
    }

    pub fn with_reasons(mut self, reasons: Vec<PasswordReason>) -> Self {
        self.0.reasons = reasons;
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.0.code
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        if e.is_full() {
            tracing::error!(error = %e, "the store's disk is full: free space where the store is");
            return ApiError::new(
                ErrorCode::Internal,
                "The server can't save anything right now (its disk is full). Nothing was changed; please try again later, or contact the helpdesk.",
            );
        }
        ApiError::internal(format!("store: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.0.retry_after_secs;
        let mut response = (status, axum::Json(self.0)).into_response();
        if let Some(secs) = retry {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert("retry-after", v);
            }
        }
        response
    }
}

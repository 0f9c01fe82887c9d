//! Errors as HTTP: the stable code in a JSON body, a status per class.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer: `{"code":…,"message":…}` with the status of its class.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable snake_case code.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The stable snake_case code (`insufficient_balance`, `unauthorized`, …).
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

impl ApiError {
    /// An error of a status and code.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// 400 with a code.
    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401: no token, or one not in the tokens file.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: the token's role may not do this.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 500: a fault of the server itself (a caught panic), never bad input.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

/// The status of a ledger error code: 400 malformed or `invalid_*`, 404 an unknown member,
/// 409 `idempotency_conflict` / `out_of_order` / `concurrency_conflict`, 503 storage, 422 any
/// other business refusal.
pub fn status_of(code: &str) -> StatusCode {
    match code {
        c if c.starts_with("invalid_") => StatusCode::BAD_REQUEST,
        "member_not_found" => StatusCode::NOT_FOUND,
        "idempotency_conflict" | "out_of_order" | "concurrency_conflict" => StatusCode::CONFLICT,
        "already_exists" => StatusCode::CONFLICT,
        "storage" | "corrupt" | "locked" | "no_ledger" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl From<memberledger::Error> for ApiError {
    fn from(e: memberledger::Error) -> ApiError {
        let code = e.code();
        ApiError::new(status_of(code), code, e.to_string())
    }
}

impl From<memberledger::domain::Rejection> for ApiError {
    fn from(e: memberledger::domain::Rejection) -> ApiError {
        memberledger::Error::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code,
            message: self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_class_has_its_status() {
        for (code, status) in [
            ("invalid_command", 400),
            ("invalid_amount", 400),
            ("member_not_found", 404),
            ("idempotency_conflict", 409),
            ("out_of_order", 409),
            ("insufficient_balance", 422),
            ("future_time", 422),
            ("storage", 503),
            ("locked", 503),
            ("already_exists", 409),
        ] {
            assert_eq!(status_of(code).as_u16(), status, "{code}");
        }
    }
}

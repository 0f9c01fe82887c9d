//! `GET /healthz`, `GET /readyz`, `GET /metrics`.

use axum::extract::State;
use axum::http::{header::CONTENT_TYPE, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json;

use crate::error::{ApiError, ErrorBody};
use crate::extract;
use crate::permit;
use crate::state::{AppState, Caller};

/// The process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "The server is up", body = crate::schema::Health))
)]
pub(crate) async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// The ledger is open and reads its head, and the server is not shutting down.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready for requests", body = crate::schema::Health),
        (status = 503, description = "Shutting down, or the storage does not answer", body = ErrorBody),
    )
)]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<Response, ApiError> {
    if state.stopping() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "stopping",
            "the server is shutting down",
        ));
    }
    let ledger = state.ledger().clone();
    let head = extract::blocking(move || ledger.head()).await?;
    let head = head?;
    Ok(Json(json!({"status": "ok", "position": head.position})).into_response())
}

/// Prometheus text: requests, commands by type and outcome, the latency histogram, commands
/// per durable write, the chain position.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String),
        (status = 401, description = "No token or an unknown one", body = ErrorBody),
        (status = 403, description = "Not an hq or auditor token", body = ErrorBody),
        (status = 429, description = "The token is over its rate", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn metrics(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    permit::read_books(&caller)?;
    let ledger = state.ledger().clone();
    let head = extract::blocking(move || ledger.head()).await?;
    let position = head?.position;
    let text = state.metrics().render(position);
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

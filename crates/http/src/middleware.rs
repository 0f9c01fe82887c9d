//! The middleware every request goes through: one log line, the token, the rate, the
//! concurrency slot, the timeout; and panics answered 500.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::token_hash;
use crate::error::ApiError;
use crate::state::{AppState, Caller};

/// Paths served without a bearer token. The pages (`/hq`, `/me`) check the token of their
/// own form (a query parameter, since a browser's link sets no header; see `pages`).
const PUBLIC: [&str; 5] = ["/healthz", "/readyz", "/v1/openapi.json", "/hq", "/me"];

/// Authenticates, limits and times a request, and logs one line for it with the token's role
/// (never the token).
pub(crate) async fn access(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let mut role = "-".to_owned();
    let response = match authenticate(&state, &req, &path) {
        Err(e) => e.into_response(),
        Ok(caller) => {
            if let Some(c) = &caller {
                role = c.role.to_string();
                req.extensions_mut().insert(c.clone());
            }
            run(&state, req, next).await
        }
    };
    let status = response.status().as_u16();
    state.metrics().request(&route, status);
    tracing::info!(
        target: "memberledger_http::request",
        %method,
        %path,
        status,
        %role,
        us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    response
}

/// The caller of a request (`None` for a public path), or 401/429.
fn authenticate(state: &AppState, req: &Request, path: &str) -> Result<Option<Caller>, ApiError> {
    if PUBLIC.contains(&path) {
        return Ok(None);
    }
    let header = req.headers().get(AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("this needs a bearer token: Authorization: Bearer <token>")
    })?;
    let token = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized("the Authorization header is not `Bearer <token>`")
        })?;
    let hash = token_hash(token);
    let role = state
        .tokens()
        .role_of_hash(&hash)
        .ok_or_else(|| ApiError::unauthorized("the token is not known"))?
        .clone();
    if !state.within_rate(&hash) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "this token is over its request rate: retry shortly",
        ));
    }
    Ok(Some(Caller { role }))
}

/// Runs the request in a concurrency slot, within the timeout.
async fn run(state: &AppState, req: Request, next: Next) -> Response {
    let work = async {
        let _slot = state.permits().acquire().await;
        next.run(req).await
    };
    match tokio::time::timeout(state.config().timeout, work).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took longer than the server's timeout; a command may still have been recorded: send it again with the same id for its receipt",
        )
        .into_response(),
    }
}

/// Adds `WWW-Authenticate: Bearer` to a 401.
pub(crate) async fn challenge(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    if response.status() == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// The answer to a panic in a handler: 500 `internal`; the server goes on.
pub(crate) fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!(target: "memberledger_http::request", "a handler panicked");
    ApiError::internal("the server failed on this request (a bug): nothing more is known")
        .into_response()
}

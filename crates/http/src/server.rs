//! The router, its middleware, and serving it until a shutdown signal.

use std::future::Future;

use axum::http::{header::CONTENT_TYPE, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;

use crate::error::ApiError;
use crate::middleware::{access, challenge, panicked};
use crate::state::AppState;
use crate::{
    books, commands, export, feed, health, members, notices, openapi, pages, policy, prepaid,
    reports,
};

/// The server's routes under its middleware.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// The server's routes plus `extra` ones, all under the same middleware (token, limits, one
/// log line, panics answered 500).
pub fn app_with(state: AppState, extra: Router<AppState>) -> Router {
    Router::new()
        .route("/v1/commands", post(commands::post))
        .route("/v1/members/{id}", get(members::view))
        .route("/v1/members/{id}/statement", get(members::statement))
        .route("/v1/members/{id}/events", get(members::events))
        .route("/v1/reports/trial-balance", get(books::trial_balance))
        .route("/v1/reports/stores", get(books::stores))
        .route("/v1/reports/settlement", get(books::settlement))
        .route("/v1/reports/liability", get(books::liability))
        .route("/v1/reports/prepaid", get(prepaid::report))
        .route("/v1/reports/churn", get(reports::churn))
        .route("/v1/reports/dormant", get(reports::dormant))
        .route("/v1/reports/turnover", get(reports::turnover))
        .route("/v1/reports/staff", get(reports::staff))
        .route("/v1/reports/services", get(reports::services))
        .route("/v1/reports/members", get(reports::members))
        .route("/v1/reports/campaigns", get(reports::campaigns))
        .route("/v1/verify", get(books::verify))
        .route("/v1/export", get(export::export))
        .route("/v1/events", get(feed::events))
        .route("/v1/notices", get(notices::notices))
        .route("/v1/policy", get(policy::show).post(policy::publish))
        .route("/v1/policy/versions", get(policy::versions))
        .route("/v1/openapi.json", get(openapi_document))
        .route("/hq", get(pages::hq))
        .route("/me", get(pages::me))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .merge(extra)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(CatchPanicLayer::custom(panicked))
        .layer(axum::middleware::from_fn_with_state(state.clone(), access))
        .layer(axum::middleware::from_fn(challenge))
        .with_state(state)
}

async fn openapi_document() -> Response {
    (
        [(CONTENT_TYPE, "application/json")],
        openapi::openapi_json(),
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such path")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this path does not take this method",
    )
}

/// Serves until `shutdown` completes, then stops accepting connections, answers what is in
/// flight, and returns. `readyz` answers 503 from the signal on.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stopping = state.clone();
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            stopping.stop();
            tracing::info!(target: "memberledger_http::request", "shutting down: answering what is in flight");
        })
        .await
}

/// Completes on SIGTERM or ctrl-c (SIGINT).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

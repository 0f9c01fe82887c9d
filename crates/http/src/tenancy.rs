//! The router of a server hosting several brands: each brand's single-ledger server mounted at
//! `/brands/{brand}`, a guard in front of each refusing another brand's token, and at the root
//! only what belongs to no brand (`/healthz`, `/readyz`, `/v1/openapi.json`).

use std::future::Future;
use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::auth::{token_hash, Tokens};
use crate::brands::{Brands, BRAND_PREFIX};
use crate::error::ApiError;

/// What a brand's guard knows: its name, its own tokens and every other brand's.
struct Guard {
    brand: String,
    own: Tokens,
    others: Vec<Tokens>,
}

/// The token a request presents: `Authorization: Bearer …`, or the pages' `token` parameter.
fn presented(req: &Request) -> Option<String> {
    #[derive(Deserialize)]
    struct PageToken {
        token: Option<String>,
    }
    let bearer = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    match bearer {
        Some(t) => Some(t.to_owned()),
        None => Query::<PageToken>::try_from_uri(req.uri())
            .ok()
            .and_then(|q| q.0.token),
    }
    .filter(|t| !t.is_empty())
}

/// Refuses (403 `wrong_brand`) a token that another brand holds and this one does not; runs
/// everything else in a span naming the brand, so each request's log line says which.
async fn guard(State(g): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    if let Some(token) = presented(&req) {
        let hash = token_hash(&token);
        let foreign = g.own.role_of_hash(&hash).is_none()
            && g.others.iter().any(|t| t.role_of_hash(&hash).is_some());
        if foreign {
            tracing::info!(
                target: "memberledger_http::request",
                method = %req.method(),
                path = %req.uri().path(),
                status = 403,
                brand = %g.brand,
                "request refused: another brand's token"
            );
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "wrong_brand",
                format!(
                    "this token is another brand's: a token reads and writes its own brand's ledger only, and this is brand {}",
                    g.brand
                ),
            )
            .into_response();
        }
    }
    let span = tracing::info_span!("brand", brand = %g.brand);
    next.run(req).instrument(span).await
}

/// The routes of a server hosting `brands`: `/brands/{brand}/…` is that brand's single-ledger
/// server (every path of it, under the same middleware), guarded against other brands' tokens.
pub fn brands_app(brands: &Brands) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(crate::health::healthz))
        .route("/readyz", get(readyz))
        .route("/v1/openapi.json", get(openapi_document))
        .with_state(brands.clone());
    for (name, state) in brands.iter() {
        let others = brands
            .iter()
            .filter(|(n, _)| *n != name)
            .map(|(_, s)| s.tokens().clone())
            .collect();
        let g = Arc::new(Guard {
            brand: name.to_owned(),
            own: state.tokens().clone(),
            others,
        });
        let app =
            crate::server::app(state.clone()).layer(axum::middleware::from_fn_with_state(g, guard));
        router = router.nest(&format!("{BRAND_PREFIX}{name}"), app);
    }
    router.fallback(unrouted)
}

/// Every brand's ledger reads its head, and the server is not shutting down.
async fn readyz(State(brands): State<Brands>) -> Result<Response, ApiError> {
    if brands.stopping() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "stopping",
            "the server is shutting down",
        ));
    }
    for (_, state) in brands.iter() {
        let ledger = state.ledger().clone();
        crate::extract::blocking(move || ledger.head()).await??;
    }
    Ok(Json(json!({"status": "ok"})).into_response())
}

async fn openapi_document() -> Response {
    (
        [(CONTENT_TYPE, "application/json")],
        crate::openapi::openapi_json(),
    )
        .into_response()
}

/// A path no brand took: an unknown brand (404 `brand_not_found`), a single-ledger path
/// without a brand (404 `brand_required`), or nothing at all (404 `not_found`).
async fn unrouted(uri: Uri) -> ApiError {
    let path = uri.path();
    tracing::info!(target: "memberledger_http::request", %path, status = 404, "request: no brand took it");
    if let Some(rest) = path.strip_prefix(BRAND_PREFIX) {
        let brand = rest.split('/').next().unwrap_or_default();
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "brand_not_found",
            format!("this server hosts no brand {brand:?}"),
        );
    }
    let ledger_path = path.starts_with("/v1/") || ["/hq", "/me", "/metrics"].contains(&path);
    if ledger_path {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "brand_required",
            format!(
                "this server hosts several brands: address one as {BRAND_PREFIX}{{brand}}{path}"
            ),
        );
    }
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such path")
}

/// Serves `brands` until `shutdown` completes, then stops accepting connections, answers
/// what is in flight, and returns. `readyz` answers 503 from the signal on.
pub async fn serve_brands(
    listener: TcpListener,
    brands: Brands,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stopping = brands.clone();
    axum::serve(listener, brands_app(&brands))
        .with_graceful_shutdown(async move {
            shutdown.await;
            stopping.stop();
            tracing::info!(target: "memberledger_http::request", "shutting down: answering what is in flight");
        })
        .await
}

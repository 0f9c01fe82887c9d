//! `GET /v1/events`: the change feed. The log after a position, in chain order, each event
//! with its position and hash; with `wait`, a long poll that answers as soon as a commit
//! appends after the position (or empty when the wait is over).

use std::time::Duration;

use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::extract;
use crate::permit;
use crate::state::{AppState, Caller};

/// Events in one page when `limit` is not given.
const LIMIT_DEFAULT: usize = 100;

/// The most events in one page.
pub const LIMIT_MAX: usize = 1000;

/// The longest long poll, in seconds (and always a second under the server's timeout).
pub const WAIT_MAX_SECS: u64 = 60;

/// `?after=&limit=&wait=`.
#[derive(Deserialize)]
struct Query {
    after: Option<u64>,
    limit: Option<usize>,
    wait: Option<u64>,
}

/// A page of the change feed.
#[derive(Serialize, ToSchema)]
pub(crate) struct EventPage {
    /// The events after `after`, oldest first, each its export JSON (canonical JSON with
    /// `position`, plus `hash`).
    events: Vec<crate::schema::Object>,
    /// The position to ask after next: the last event's, or `after` when there is none.
    next: u64,
}

/// The change feed: every event of the ledger after a position, in chain order, with its
/// position and chain hash. Keep `next` and ask again with `after=next`; with `wait`, the
/// server holds the request until an event follows `after` or the wait is over (a long poll).
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "feed",
    params(
        ("after" = Option<u64>, Query, description = "The last position already handled (0, the default: from the start)"),
        ("limit" = Option<usize>, Query, description = "The most events to return (default 100, at most 1000)"),
        ("wait" = Option<u64>, Query, description = "Seconds to wait for an event when none follows `after` yet (default 0, at most 60 and under the server's timeout)"),
    ),
    responses(
        (status = 200, description = "The events after `after` (empty when the wait ended with none)", body = EventPage),
        (status = 400, description = "A malformed query", body = ErrorBody),
        (status = 401, description = "No token or an unknown one", body = ErrorBody),
        (status = 403, description = "Only hq and auditors read the whole log", body = ErrorBody),
        (status = 429, description = "The token is over its rate", body = ErrorBody),
        (status = 503, description = "Storage failed", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn events(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
) -> Result<Response, ApiError> {
    permit::read_books(&caller)?;
    let q: Query = extract::query(&uri)?;
    let after = q.after.unwrap_or(0);
    let limit = q.limit.unwrap_or(LIMIT_DEFAULT);
    if limit == 0 || limit > LIMIT_MAX {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be from 1 to {LIMIT_MAX}"),
        ));
    }
    let under_timeout = state
        .config()
        .timeout
        .saturating_sub(Duration::from_secs(1));
    let wait = Duration::from_secs(q.wait.unwrap_or(0).min(WAIT_MAX_SECS)).min(under_timeout);
    let ledger = state.ledger().clone();
    let page = extract::blocking(move || ledger.wait_for_events(after, limit, wait)).await??;
    let next = page.last().map_or(after, |e| e.position);
    let events: Vec<Value> = page
        .iter()
        .map(|e| serde_json::from_str(&e.to_export_json()).expect("export JSON parses"))
        .collect();
    Ok(Json(serde_json::json!({"events": events, "next": next})).into_response())
}

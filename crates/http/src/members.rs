//! `GET /v1/members/{id}`, its statement and its events.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header::CONTENT_TYPE, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use memberledger::MemberId;
use serde::Deserialize;

use crate::error::{ApiError, ErrorBody};
use crate::extract;
use crate::permit;
use crate::state::{AppState, Caller};

/// `?as_of=`.
#[derive(Deserialize)]
pub(crate) struct AsOf {
    pub(crate) as_of: Option<String>,
}

/// `?from=&to=`.
#[derive(Deserialize)]
struct Period {
    from: Option<String>,
    to: Option<String>,
}

/// The member id of the path.
pub(crate) fn path_member(path: Result<Path<String>, PathRejection>) -> Result<MemberId, ApiError> {
    let Path(id) = path.map_err(|e| ApiError::bad_request("invalid_id", e.body_text()))?;
    extract::member(&id)
}

/// A member's balances, tier, lots and packages, now or as of a past time.
#[utoipa::path(
    get,
    path = "/v1/members/{id}",
    tag = "members",
    params(
        ("id" = String, Path, pattern = "^[A-Za-z0-9_.-]{1,64}$", example = "M1", description = "The member id"),
        ("as_of" = Option<String>, Query, format = DateTime, example = "2026-03-31T00:00:00Z", description = "As of a past time (RFC 3339), by replay"),
    ),
    responses(
        (status = 200, description = "The member view", body = crate::schema::MemberView),
        (status = 400, description = "A malformed id or time", body = ErrorBody),
        (status = 401, description = "No token or an unknown one", body = ErrorBody),
        (status = 403, description = "A member token reading another member", body = ErrorBody),
        (status = 404, description = "The member is not enrolled", body = ErrorBody),
        (status = 429, description = "The token is over its rate", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn view(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let member = path_member(path)?;
    permit::read_member(&caller, &member)?;
    let q: AsOf = extract::query(&uri)?;
    let as_of = extract::time("as_of", q.as_of.as_deref())?;
    let ledger = state.ledger().clone();
    let id = member.clone();
    let view = extract::blocking(move || match as_of {
        None => Ok(ledger.member(&id)),
        Some(at) => ledger.member_as_of(&id, at),
    })
    .await??;
    let view = view.ok_or_else(|| extract::member_not_found(&member))?;
    Ok(Json(view).into_response())
}

/// A member's statement (对账单): every movement of a period with running balances.
#[utoipa::path(
    get,
    path = "/v1/members/{id}/statement",
    tag = "members",
    params(
        ("id" = String, Path, pattern = "^[A-Za-z0-9_.-]{1,64}$", example = "M1", description = "The member id"),
        ("from" = Option<String>, Query, format = DateTime, example = "2026-03-31T00:00:00Z", description = "Start of the period (RFC 3339, inclusive)"),
        ("to" = Option<String>, Query, format = DateTime, example = "2026-03-31T00:00:00Z", description = "End of the period (RFC 3339, inclusive)"),
    ),
    responses(
        (status = 200, description = "The statement", body = crate::schema::Statement),
        (status = 400, description = "A malformed id or time, or a period that ends before it starts", body = ErrorBody),
        (status = 401, description = "No token or an unknown one", body = ErrorBody),
        (status = 403, description = "A member token reading another member", body = ErrorBody),
        (status = 404, description = "The member is not enrolled", body = ErrorBody),
        (status = 429, description = "The token is over its rate", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn statement(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let member = path_member(path)?;
    permit::read_member(&caller, &member)?;
    let q: Period = extract::query(&uri)?;
    let from = extract::time("from", q.from.as_deref())?;
    let to = extract::time("to", q.to.as_deref())?;
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("`from` {from} is after `to` {to}: a period must not end before it starts"),
            ));
        }
    }
    let ledger = state.ledger().clone();
    let id = member.clone();
    let st =
        extract::blocking(move || memberledger_audit::statement(&ledger, &id, from, to)).await??;
    let st = st.ok_or_else(|| extract::member_not_found(&member))?;
    Ok(Json(st).into_response())
}

/// A member's events, oldest first, each its export JSON (canonical JSON plus `hash`).
#[utoipa::path(
    get,
    path = "/v1/members/{id}/events",
    tag = "members",
    params(("id" = String, Path, pattern = "^[A-Za-z0-9_.-]{1,64}$", example = "M1", description = "The member id")),
    responses(
        (status = 200, description = "The member's events", body = [crate::schema::Object]),
        (status = 400, description = "A malformed id", body = ErrorBody),
        (status = 401, description = "No token or an unknown one", body = ErrorBody),
        (status = 403, description = "A member token", body = ErrorBody),
        (status = 404, description = "The member is not enrolled", body = ErrorBody),
        (status = 429, description = "The token is over its rate", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn events(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let member = path_member(path)?;
    permit::read_events(&caller)?;
    if state.ledger().member(&member).is_none() {
        return Err(extract::member_not_found(&member));
    }
    let ledger = state.ledger().clone();
    let events = extract::blocking(move || ledger.member_events(&member)).await?;
    let events = events?;
    let mut body = String::from("[");
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&e.to_export_json());
    }
    body.push(']');
    Ok(([(CONTENT_TYPE, "application/json")], body).into_response())
}

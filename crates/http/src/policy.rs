//! `GET /v1/policy`, `GET /v1/policy/versions`, `POST /v1/policy`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use memberledger::Command;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::{ApiError, ErrorBody};
use crate::extract;
use crate::members::AsOf;
use crate::permit;
use crate::state::{AppState, Caller};

/// The policy version in force now, or at `?as_of=`.
#[utoipa::path(
    get,
    path = "/v1/policy",
    tag = "policy",
    params(("as_of" = Option<String>, Query, format = DateTime, example = "2026-03-31T00:00:00Z", description = "The time (RFC 3339); the latest version when absent")),
    responses(
        (status = 200, description = "The version in force", body = crate::schema::PolicyVersion),
        (status = 400, description = "A malformed time", body = ErrorBody),
        (status = 401, description = "No token or an unknown one", body = ErrorBody),
        (status = 403, description = "A member token", body = ErrorBody),
        (status = 429, description = "The token is over its rate", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
) -> Result<Response, ApiError> {
    permit::read_policy(&caller)?;
    let q: AsOf = extract::query(&uri)?;
    let v = match extract::time("as_of", q.as_of.as_deref())? {
        Some(at) => state.ledger().policy_at(at),
        None => state.ledger().policy_history().current().clone(),
    };
    Ok(Json(v).into_response())
}

/// Every policy version, oldest first.
#[utoipa::path(
    get,
    path = "/v1/policy/versions",
    tag = "policy",
    responses(
        (status = 200, description = "Every version", body = [crate::schema::PolicyVersion]),
        (status = 401, description = "No token or an unknown one", body = ErrorBody),
        (status = 403, description = "A member token", body = ErrorBody),
        (status = 429, description = "The token is over its rate", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn versions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    permit::read_policy(&caller)?;
    let history = state.ledger().policy_history();
    Ok(Json(history.versions()).into_response())
}

/// The body of `POST /v1/policy`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Publish {
    id: Box<RawValue>,
    at: Box<RawValue>,
    store: Option<Box<RawValue>>,
    policy: Box<RawValue>,
}

/// The `publish_policy` command of a body: the ledger reads and checks it like any command.
#[derive(Serialize)]
struct PublishCommand<'a> {
    id: &'a RawValue,
    at: &'a RawValue,
    #[serde(rename = "type")]
    kind: &'static str,
    store: &'a RawValue,
    policy: &'a RawValue,
}

/// Publishes a new policy version, in force for commands at or after `at` (which must be
/// after every event recorded). The id is the idempotency key, as for any command.
#[utoipa::path(
    post,
    path = "/v1/policy",
    tag = "policy",
    request_body = crate::schema::Publish,
    responses(
        (status = 200, description = "The receipt of the publication", body = crate::schema::Receipt),
        (status = 400, description = "A malformed body, command or policy", body = ErrorBody),
        (status = 401, description = "No token or an unknown one", body = ErrorBody),
        (status = 403, description = "Not an hq token", body = ErrorBody),
        (status = 409, description = "`out_of_order` (not after the last event) or `idempotency_conflict`", body = ErrorBody),
        (status = 413, description = "The body is over the limit", body = ErrorBody),
        (status = 422, description = "A refusal", body = ErrorBody),
        (status = 429, description = "The token is over its rate", body = ErrorBody),
        (status = 503, description = "Storage failed: send again with the same id", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn publish(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    permit::publish(&caller)?;
    let bytes = extract::body(&headers, body, state.config().body_max).await?;
    let p: Publish = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_command",
            format!("the body is not a publication: {e}"),
        )
    })?;
    let hq = RawValue::from_string("\"HQ\"".into()).expect("a JSON string");
    let text = serde_json::to_string(&PublishCommand {
        id: &p.id,
        at: &p.at,
        kind: "publish_policy",
        store: p.store.as_deref().unwrap_or(&hq),
        policy: &p.policy,
    })
    .map_err(|e| ApiError::bad_request("invalid_command", e.to_string()))?;
    let command = Command::from_json(&text)?;
    let receipt = state
        .execute(vec![command])
        .await?
        .pop()
        .unwrap_or_else(|| Err(memberledger::Error::storage("no result for the command")))?;
    state.metrics().command(
        "publish_policy",
        if receipt.replayed { "replayed" } else { "ok" },
    );
    Ok(Json(receipt.to_json()).into_response())
}

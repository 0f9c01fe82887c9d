//! `GET /v1/notices`: derived notices (`bonus_will_expire`, `points_will_expire`,
//! `package_will_expire`) as of a time, from the days the policy's `notices` section names.
//! Not events: derived from the lots' expiries, each with a stable id to deduplicate by.

use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::extract;
use crate::permit;
use crate::state::{AppState, Caller};

/// `?as_of=`.
#[derive(Deserialize)]
struct Query {
    as_of: Option<String>,
}

/// One notice.
#[derive(Serialize, ToSchema)]
pub(crate) struct Notice {
    /// UUID v5 of kind, member, lot or package, and expiry: the same notice has the same id
    /// whenever it is derived.
    id: String,
    /// `bonus_will_expire`, `points_will_expire` or `package_will_expire`.
    kind: String,
    /// The member.
    member: String,
    /// The lot (bonus and points).
    lot: Option<u32>,
    /// The package (its id).
    package: Option<String>,
    /// When it lapses (RFC 3339).
    expires_at: String,
    /// The bonus left in the lot, or the value left in the package.
    amount: Option<String>,
    /// The points left in the lot.
    points: Option<u64>,
    /// The package's sessions left.
    sessions: Option<u32>,
}

/// The notices as of a time.
#[derive(Serialize, ToSchema)]
pub(crate) struct Notices {
    /// The time they are derived as of.
    as_of: String,
    /// Every notice due, by member then expiry.
    notices: Vec<Notice>,
}

/// Bonus, points and packages that lapse within the policy's `notices` days after `as_of`
/// (the server's clock by default): what an SMS system tells members. Empty when the policy
/// has no `notices` section.
#[utoipa::path(
    get,
    path = "/v1/notices",
    tag = "feed",
    params(
        ("as_of" = Option<String>, Query, description = "The time (RFC 3339); now by default"),
    ),
    responses(
        (status = 200, description = "The notices due", body = Notices),
        (status = 400, description = "A malformed query", body = ErrorBody),
        (status = 401, description = "No token or an unknown one", body = ErrorBody),
        (status = 403, description = "Only hq and auditors read every member's notices", body = ErrorBody),
        (status = 429, description = "The token is over its rate", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn notices(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
) -> Result<Response, ApiError> {
    permit::read_books(&caller)?;
    let q: Query = extract::query(&uri)?;
    let as_of: memberledger::Timestamp = match q.as_of {
        Some(s) => s
            .parse()
            .map_err(|e| ApiError::bad_request("invalid_query", format!("as_of: {e}")))?,
        None => state
            .ledger()
            .clock()
            .now()
            .unwrap_or_else(memberledger::Timestamp::now),
    };
    let ledger = state.ledger().clone();
    let notices = extract::blocking(move || ledger.notices(as_of)).await?;
    Ok(Json(serde_json::json!({"as_of": as_of.to_string(), "notices": notices})).into_response())
}

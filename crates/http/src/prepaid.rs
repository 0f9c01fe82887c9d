//! `GET /v1/reports/prepaid?quarter=2026Q3[&entity=E1][&utc_offset=8]`: the prepaid-card
//! filing figures by issuing entity, in the shape of `memberledger report prepaid --json`
//! (docs/COMPLIANCE.md). For hq and auditor tokens, as the other reports.

use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use memberledger_audit::{prepaid_report, Quarter};
use serde::Deserialize;

use crate::error::{ApiError, ErrorBody};
use crate::extract;
use crate::permit;
use crate::state::{AppState, Caller};

/// The query of the prepaid report.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrepaidQuery {
    quarter: String,
    entity: Option<String>,
    /// Hours east of UTC that bound the quarter (8 for China); 0 by default.
    utc_offset: Option<i32>,
}

/// Outstanding prepaid balance by issuing entity at the quarter's end, the deposit its ratio
/// requires, the quarter's movement, members over the cap and thresholds crossed.
#[utoipa::path(
    get,
    path = "/v1/reports/prepaid",
    tag = "books",
    params(
        ("quarter" = String, Query, example = "2026Q3", description = "The quarter"),
        ("entity" = Option<String>, Query, description = "One issuing entity (`default` for stores no entity lists)"),
        ("utc_offset" = Option<i32>, Query, example = 8, description = "Hours east of UTC that bound the quarter (0 by default)"),
    ),
    responses(
        (status = 200, description = "The report, as `memberledger report prepaid --json`", body = crate::schema::Object),
        (status = 400, description = "A malformed quarter, offset or query", body = ErrorBody),
        (status = 401, description = "No token or an unknown one", body = ErrorBody),
        (status = 403, description = "Not an hq or auditor token", body = ErrorBody),
        (status = 429, description = "The token is over its rate", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn report(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
) -> Result<Response, ApiError> {
    permit::read_books(&caller)?;
    let q: PrepaidQuery = extract::query(&uri)?;
    let quarter: Quarter = q
        .quarter
        .parse()
        .map_err(|e: String| ApiError::bad_request("invalid_query", e))?;
    let offset = q
        .utc_offset
        .unwrap_or(0)
        .checked_mul(3600)
        .filter(|s| s.abs() <= 14 * 3600)
        .ok_or_else(|| ApiError::bad_request("invalid_query", "utc_offset is -14 to 14 hours"))?;
    let ledger = state.ledger().clone();
    let report =
        extract::blocking(move || prepaid_report(&ledger, quarter, offset, q.entity.as_deref()))
            .await??;
    Ok(Json(report).into_response())
}

//! Reports and verify: `GET /v1/reports/…` and `GET /v1/verify`, in the CLI's `--json` shapes.

use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use memberledger_audit::Snapshot;
use serde_json::json;

use crate::error::{ApiError, ErrorBody};
use crate::extract;
use crate::members::AsOf;
use crate::permit;
use crate::state::{AppState, Caller};

/// Which report.
#[derive(Clone, Copy)]
enum Report {
    TrialBalance,
    Stores,
    Settlement,
    Liability,
}

/// Folds the log up to `?as_of=` and renders a report as `memberledger report --json` does.
async fn report(
    state: AppState,
    caller: Caller,
    uri: Uri,
    which: Report,
) -> Result<Response, ApiError> {
    permit::read_books(&caller)?;
    let q: AsOf = extract::query(&uri)?;
    let as_of = extract::time("as_of", q.as_of.as_deref())?;
    let ledger = state.ledger().clone();
    let value = extract::blocking(move || {
        let snap = Snapshot::as_of(&ledger, as_of)?;
        Ok::<_, memberledger::Error>(match which {
            Report::TrialBalance => json!({
                "accounts": snap.trial_balance()?,
                "total": memberledger::domain::format_cents(snap.trial_balance_total()),
            }),
            Report::Stores => json!(snap.store_reports()?),
            Report::Settlement => json!(snap.settlement()?),
            Report::Liability => json!(snap.liability()?),
        })
    })
    .await??;
    Ok(Json(value).into_response())
}

macro_rules! report_route {
    ($name:ident, $path:literal, $which:expr, $body:ty, $what:literal) => {
        #[doc = $what]
        #[utoipa::path(
            get,
            path = $path,
            tag = "books",
            params(("as_of" = Option<String>, Query, format = DateTime, example = "2026-03-31T00:00:00Z", description = "As of a past time (RFC 3339), by replay")),
            responses(
                (status = 200, description = $what, body = $body),
                (status = 400, description = "A malformed time", body = ErrorBody),
                (status = 401, description = "No token or an unknown one", body = ErrorBody),
                (status = 403, description = "Not an hq or auditor token", body = ErrorBody),
                (status = 429, description = "The token is over its rate", body = ErrorBody),
            ),
            security(("bearer" = []))
        )]
        pub(crate) async fn $name(
            State(state): State<AppState>,
            Extension(caller): Extension<Caller>,
            uri: Uri,
        ) -> Result<Response, ApiError> {
            report(state, caller, uri, $which).await
        }
    };
}

report_route!(
    trial_balance,
    "/v1/reports/trial-balance",
    Report::TrialBalance,
    crate::schema::TrialBalance,
    "Every account's balance; the total is zero."
);
report_route!(
    stores,
    "/v1/reports/stores",
    Report::Stores,
    [crate::schema::StoreReport],
    "Per store: cash taken and paid out, revenue, bonus granted, breakage, owed, owed to."
);
report_route!(
    settlement,
    "/v1/reports/settlement",
    Report::Settlement,
    [crate::schema::PairSettlement],
    "Per pair of stores: owed, settled, outstanding."
);
report_route!(
    liability,
    "/v1/reports/liability",
    Report::Liability,
    crate::schema::Liability,
    "Stored value held for members, in total and by store."
);

/// Verifies the chain, every event, and that the projections equal a replay from genesis.
/// Answered 200 with the report either way: `problem` names the first thing wrong.
#[utoipa::path(
    get,
    path = "/v1/verify",
    tag = "books",
    responses(
        (status = 200, description = "The verify report", body = crate::schema::VerifyReport),
        (status = 401, description = "No token or an unknown one", body = ErrorBody),
        (status = 403, description = "Not an hq or auditor token", body = ErrorBody),
        (status = 429, description = "The token is over its rate", body = ErrorBody),
        (status = 503, description = "Storage failed", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn verify(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    permit::read_books(&caller)?;
    let ledger = state.ledger().clone();
    let report = extract::blocking(move || ledger.verify()).await??;
    Ok(Json(report).into_response())
}

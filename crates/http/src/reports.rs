//! What the ledger tells a chain, served: `GET /v1/reports/{churn, dormant, turnover, staff,
//! services, members, campaigns}` with the CLI's options as query parameters, answered with
//! the report structs as JSON (what `memberledger report … --json` prints).
//!
//! The server keeps the projections: one [`Projections`] per calendar and as-of time asked
//! for (at most [`KEPT_MAX`]), each folded on from the position it reached, so a request reads
//! only what was recorded since the last one, never the log from genesis.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::NaiveDate;
use memberledger::{Ledger, Timestamp};
use memberledger_insight::report::{self, RankBy, COHORTS_MAX};
use memberledger_insight::{Calendar, Projections, Rates};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{ApiError, ErrorBody};
use crate::extract;
use crate::permit;
use crate::state::{AppState, Caller};

/// Projections kept at once (by calendar and as-of time); past it the oldest asked is dropped.
pub const KEPT_MAX: usize = 8;

/// The largest `top`, and the most days `idle_days`, `warn_days` and `days` take.
pub(crate) const TOP_MAX: usize = 10_000;
pub(crate) const DAYS_MAX: u32 = 36_500;

/// Projections by calendar (hours east) and as-of time, each with the request count when last
/// asked for.
type ByKey = HashMap<(i32, Option<Timestamp>), (u64, Projections)>;

/// The projections the server keeps, and the count of requests so far.
#[derive(Default)]
pub(crate) struct Kept {
    map: Mutex<(u64, ByKey)>,
}

impl Kept {
    /// Runs `f` on the projections of `calendar` as of `as_of`, caught up with the ledger.
    pub(crate) fn with<T>(
        &self,
        ledger: &Ledger,
        calendar: Calendar,
        as_of: Option<Timestamp>,
        f: impl FnOnce(&Projections) -> T,
    ) -> Result<T, memberledger::Error> {
        let mut guard = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (clock, map) = &mut *guard;
        *clock += 1;
        let key = (calendar.hours_east(), as_of);
        if !map.contains_key(&key) && map.len() >= KEPT_MAX {
            let oldest = map.iter().min_by_key(|(_, (t, _))| *t).map(|(k, _)| *k);
            if let Some(k) = oldest {
                map.remove(&k);
            }
        }
        let entry = map
            .entry(key)
            .or_insert_with(|| (0, Projections::new(calendar, as_of)));
        entry.0 = *clock;
        entry.1.catch_up(ledger)?;
        Ok(f(&entry.1))
    }
}

/// Every report's query parameters (each report reads those it names).
#[derive(Deserialize, Default)]
pub(crate) struct ReportQuery {
    pub(crate) as_of: Option<String>,
    pub(crate) utc_offset: Option<i32>,
    pub(crate) idle_days: Option<u32>,
    pub(crate) warn_days: Option<u32>,
    pub(crate) days: Option<u32>,
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
    pub(crate) top: Option<usize>,
    pub(crate) by: Option<String>,
    pub(crate) cohorts: Option<u32>,
}

/// Which insight report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Insight {
    Churn,
    Dormant,
    Turnover,
    Staff,
    Services,
    Members,
    Campaigns,
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request("invalid_query", message)
}

fn day(name: &str, value: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    value
        .map(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|e| {
                bad(format!(
                    "`{name}`: {d:?} is not a date like 2025-03-31: {e}"
                ))
            })
        })
        .transpose()
}

fn days(name: &str, value: Option<u32>, default: u32) -> Result<u32, ApiError> {
    match value.unwrap_or(default) {
        d if d <= DAYS_MAX => Ok(d),
        d => Err(bad(format!("`{name}`: {d} is over {DAYS_MAX} days"))),
    }
}

/// The report as JSON, from the kept projections. "Now", for churn and dormant, is `as_of`,
/// else the ledger's clock, else the latest event folded (a ledger with a clock that reads
/// nothing), else the machine's.
pub(crate) fn compute(
    state: &AppState,
    which: Insight,
    q: &ReportQuery,
) -> Result<Result<Value, memberledger::Error>, ApiError> {
    let as_of = extract::time("as_of", q.as_of.as_deref())?;
    let calendar = Calendar::east_hours(q.utc_offset.unwrap_or(0))
        .ok_or_else(|| bad("`utc_offset` must be -12 to 14 hours".to_owned()))?;
    let (idle, warn) = (
        days("idle_days", q.idle_days, 90)?,
        days("warn_days", q.warn_days, 30)?,
    );
    let dormant_days = days("days", q.days, 180)?;
    let (from, to) = (day("from", q.from.as_deref())?, day("to", q.to.as_deref())?);
    let top = q.top.unwrap_or(20);
    if top > TOP_MAX {
        return Err(bad(format!("`top` must be at most {TOP_MAX}")));
    }
    let by: RankBy = q.by.as_deref().unwrap_or("ltv").parse().map_err(bad)?;
    let cohorts = q.cohorts.unwrap_or(2);
    if !(1..=COHORTS_MAX).contains(&cohorts) {
        return Err(bad(format!("`cohorts` must be 1 to {COHORTS_MAX}")));
    }
    let ledger = state.ledger();
    let rates = (which == Insight::Staff).then(|| Rates::of_history(&ledger.policy_history()));
    Ok(state.kept().with(ledger, calendar, as_of, |p| {
        let now = as_of
            .or_else(|| ledger.clock().now())
            .or_else(|| p.latest())
            .unwrap_or_else(Timestamp::now);
        let json = |v: Result<Value, serde_json::Error>| v.expect("reports serialise");
        json(match which {
            Insight::Churn => serde_json::to_value(report::churn(p, now, idle, warn)),
            Insight::Dormant => serde_json::to_value(report::dormant(p, now, dormant_days)),
            Insight::Turnover => serde_json::to_value(report::turnover(p)),
            Insight::Staff => {
                let rates = rates.unwrap_or_else(|| Rates::flat(None, Default::default()));
                serde_json::to_value(report::staff(p, from, to, &rates))
            }
            Insight::Services => serde_json::to_value(report::services(p)),
            Insight::Members => serde_json::to_value(report::members(p, top, by)),
            Insight::Campaigns => serde_json::to_value(report::campaigns(p, cohorts)),
        })
    }))
}

async fn serve(
    state: AppState,
    caller: Caller,
    uri: Uri,
    which: Insight,
) -> Result<Response, ApiError> {
    permit::read_books(&caller)?;
    let q: ReportQuery = extract::query(&uri)?;
    let value = extract::blocking(move || compute(&state, which, &q)).await???;
    Ok(Json(value).into_response())
}

macro_rules! insight_route {
    ($name:ident, $path:literal, $which:expr, $body:ty, $what:literal, [$($param:tt)*]) => {
        #[doc = $what]
        #[utoipa::path(
            get,
            path = $path,
            tag = "insight",
            params(
                ("as_of" = Option<String>, Query, format = DateTime, example = "2026-03-31T00:00:00Z", description = "Only events dated at or before this time (RFC 3339); churn and dormant count days to it"),
                ("utc_offset" = Option<i32>, Query, minimum = -12, maximum = 14, description = "The chain's local time, hours east of UTC (default 0): months, days, weekdays and hours are local"),
                $($param)*
            ),
            responses(
                (status = 200, description = $what, body = $body),
                (status = 400, description = "A malformed parameter", body = ErrorBody),
                (status = 401, description = "No token or an unknown one", body = ErrorBody),
                (status = 403, description = "Not an hq or auditor token", body = ErrorBody),
                (status = 429, description = "The token is over its rate", body = ErrorBody),
                (status = 503, description = "Storage failed, or the request took too long", body = ErrorBody),
            ),
            security(("bearer" = []))
        )]
        pub(crate) async fn $name(
            State(state): State<AppState>,
            Extension(caller): Extension<Caller>,
            uri: Uri,
        ) -> Result<Response, ApiError> {
            serve(state, caller, uri, $which).await
        }
    };
}

insight_route!(churn, "/v1/reports/churn", Insight::Churn, crate::insight_schema::Churn,
    "流失预警: members past or nearing the churn line, with the stored value they hold.",
    [("idle_days" = Option<u32>, Query, maximum = 36500, description = "Days away that make a member churned (default 90)"),
     ("warn_days" = Option<u32>, Query, maximum = 36500, description = "Warn this many days before the line (default 30)")]);
insight_route!(dormant, "/v1/reports/dormant", Insight::Dormant, crate::insight_schema::Dormant,
    "Stored value untouched for `days`, by the store that holds it.",
    [("days" = Option<u32>, Query, maximum = 36500, description = "Days without activity (default 180)")]);
insight_route!(
    turnover,
    "/v1/reports/turnover",
    Insight::Turnover,
    crate::insight_schema::Turnover,
    "储值资金周转率: each store's stored value opened, consumed and held, month by month.",
    []
);
insight_route!(staff, "/v1/reports/staff", Insight::Staff, crate::insight_schema::Staff,
    "Staff sales, services, refunds and commission (提成) at the policy version and tier of each sale.",
    [("from" = Option<String>, Query, format = Date, description = "First local day (inclusive)"),
     ("to" = Option<String>, Query, format = Date, description = "Last local day (inclusive)")]);
insight_route!(
    services,
    "/v1/reports/services",
    Insight::Services,
    crate::insight_schema::Services,
    "Services ranked by visits, and the weekday × hour heatmap.",
    []
);
insight_route!(members, "/v1/reports/members", Insight::Members, crate::insight_schema::Members,
    "The top members by lifetime value, spend or visits.",
    [("top" = Option<u32>, Query, maximum = 10000, description = "How many (default 20)"),
     ("by" = Option<crate::insight_schema::RankBy>, Query, description = "Rank by (default ltv)")]);
insight_route!(campaigns, "/v1/reports/campaigns", Insight::Campaigns, crate::insight_schema::Campaigns,
    "Bonus ladders compared by cohort: per policy version, bonus rule and cohort.",
    [("cohorts" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Cohorts members are split into (default 2)")]);

//! `GET /hq`: head office's page — stored value held, turnover, churn and dormant warnings,
//! staff and service rankings with their charts, as of a day it picks.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use memberledger::Timestamp;
use memberledger_insight::report::{self, Churn, Dormant, Services, StaffReport, Turnover};
use memberledger_insight::{chart, Calendar, Rates};

use super::layout::{cents, escape, form, page, table};
use super::{failed, forbidden, html, role, PageQuery};
use crate::auth::Role;
use crate::extract;
use crate::state::AppState;

/// Rows shown in each ranking and warning list.
const ROWS: usize = 10;

/// The reports the page shows.
struct Figures {
    churn: Churn,
    dormant: Dormant,
    turnover: Turnover,
    staff: StaffReport,
    services: Services,
}

/// The day the page speaks of: a date (`2025-12-31`, to its last second, UTC) or a time.
fn as_of(value: Option<&str>) -> Result<Option<Timestamp>, String> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let text = if v.len() == 10 {
        format!("{v}T23:59:59Z")
    } else {
        v.to_owned()
    };
    text.parse::<Timestamp>()
        .map(Some)
        .map_err(|e| format!("{v:?} is not a day like 2025-12-31: {e}"))
}

/// Head office's page (an `hq` or `auditor` token).
pub(crate) async fn hq(State(state): State<AppState>, uri: Uri) -> Response {
    let q: PageQuery = extract::query(&uri).unwrap_or_default();
    let role = match role(&state, q.token.as_deref()) {
        Ok(Some(r)) => r,
        Ok(None) => return html(StatusCode::OK, page("head office", &form("hq", Some("")))),
        Err(page) => return *page,
    };
    if !matches!(role, Role::Hq | Role::Auditor) {
        return forbidden("This page is for hq and auditor tokens; a member's page is /me.");
    }
    let at = match as_of(q.as_of.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            let body = format!("<p class=\"error\">{}</p>", escape(&e));
            return html(StatusCode::BAD_REQUEST, page("head office", &body));
        }
    };
    let s = state.clone();
    let figures = extract::blocking(move || figures(&s, at)).await;
    match figures {
        Ok(Ok(f)) => {
            let token = q.token.unwrap_or_default();
            html(StatusCode::OK, render(&f, &token, q.as_of.as_deref()))
        }
        Ok(Err(e)) => failed(&e),
        Err(e) => failed(&e.code),
    }
}

fn figures(state: &AppState, at: Option<Timestamp>) -> Result<Figures, memberledger::Error> {
    let ledger = state.ledger();
    let rates = Rates::of_history(&ledger.policy_history());
    state.kept().with(ledger, Calendar::utc(), at, |p| {
        let now = at
            .or_else(|| ledger.clock().now())
            .or_else(|| p.latest())
            .unwrap_or_else(Timestamp::now);
        Figures {
            churn: report::churn(p, now, 90, 30),
            dormant: report::dormant(p, now, 180),
            turnover: report::turnover(p),
            staff: report::staff(p, None, None, &rates),
            services: report::services(p),
        }
    })
}

/// A figure with an id the browser test reads.
fn figure(id: &str, text: &str) -> String {
    format!(
        "<span class=\"figure\" id=\"{}\">{}</span>",
        escape(id),
        escape(text)
    )
}

/// A chart, inline, or a note that it could not be drawn.
fn svg(chart: Result<String, chart::ChartError>) -> String {
    chart.unwrap_or_else(|e| format!("<p class=\"error\">{}</p>", escape(&e.to_string())))
}

fn render(f: &Figures, token: &str, as_of: Option<&str>) -> String {
    let mut o = String::new();
    o.push_str(&format!(
        "<form method=\"get\" action=\"hq\"><input type=\"hidden\" name=\"token\" value=\"{}\"><label>as of <input type=\"date\" name=\"as_of\" value=\"{}\"></label> <button type=\"submit\">show</button></form>",
        escape(token),
        escape(as_of.unwrap_or_default())
    ));
    o.push_str(&format!(
        "<p>As of {}.</p>",
        escape(&f.churn.now.to_string())
    ));
    o.push_str(&held(&f.dormant));
    o.push_str(&turnover(&f.turnover));
    o.push_str(&warnings(&f.churn, &f.dormant));
    o.push_str(&staff(&f.staff));
    o.push_str(&services(&f.services));
    page("head office", &o)
}

fn held(d: &Dormant) -> String {
    let rows: Vec<Vec<String>> = d
        .stores
        .iter()
        .map(|s| vec![escape(s.store.as_str()), cents(s.held)])
        .collect();
    format!(
        "<h2>Stored value held (liability)</h2><p>{} ¥ held for members.</p>{}",
        figure("held", &cents(d.held)),
        table("held-by-store", &["store", "held ¥"], &rows)
    )
}

fn turnover(t: &Turnover) -> String {
    let last = t.rows.iter().map(|r| r.month).max();
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .filter(|r| Some(r.month) == last)
        .map(|r| {
            vec![
                escape(r.store.as_str()),
                escape(&r.month.to_string()),
                cents(r.opening),
                cents(r.flows.consumed),
                cents(r.closing),
                r.turnover
                    .map_or_else(|| "-".to_owned(), |d| escape(&d.to_string())),
            ]
        })
        .collect();
    format!(
        "<h2>Turnover (储值资金周转率)</h2>{}<p>The last month:</p>{}",
        svg(chart::turnover(t)),
        table(
            "turnover",
            &[
                "store",
                "month",
                "opening ¥",
                "consumed ¥",
                "closing ¥",
                "turnover"
            ],
            &rows
        )
    )
}

fn warnings(c: &Churn, d: &Dormant) -> String {
    let rows: Vec<Vec<String>> = c
        .rows
        .iter()
        .take(ROWS)
        .map(|r| {
            vec![
                escape(r.member.as_str()),
                escape(r.home_store.as_ref().map_or("-", |s| s.as_str())),
                r.idle_days.to_string(),
                cents(r.balance),
                cents(r.lifetime_spend),
            ]
        })
        .collect();
    format!(
        "<h2>Churn warning (流失预警)</h2><p class=\"warn\">{} members away {}+ days, {} more nearing it, holding {} ¥.</p>{}\
         <h2>Dormant stored value</h2><p class=\"warn\">{} ¥ untouched for {}+ days, {} members.</p>",
        figure("churned", &c.churned.to_string()),
        c.idle_days,
        figure("at-risk", &c.at_risk.to_string()),
        figure("churn-balance", &cents(c.balance)),
        table("churn", &["member", "store", "days away", "holds ¥", "spent ¥"], &rows),
        figure("dormant", &cents(d.dormant)),
        d.days,
        figure("dormant-members", &d.members.to_string()),
    )
}

fn staff(r: &StaffReport) -> String {
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .take(ROWS)
        .map(|r| {
            vec![
                escape(r.staff.as_ref().map_or("(none)", |s| s.as_str())),
                escape(r.store.as_str()),
                r.figures.services.to_string(),
                cents(r.net_revenue),
                cents(r.figures.recharged),
                cents(r.commission),
            ]
        })
        .collect();
    format!(
        "<h2>Staff (员工业绩)</h2><p>Commission due: {} ¥.</p>{}{}",
        figure("commission", &cents(r.commission)),
        svg(chart::staff(r, ROWS)),
        table(
            "staff",
            &[
                "staff",
                "store",
                "services",
                "net revenue ¥",
                "recharged ¥",
                "commission ¥"
            ],
            &rows
        )
    )
}

fn services(s: &Services) -> String {
    let rows: Vec<Vec<String>> = s
        .ranking
        .iter()
        .take(ROWS)
        .map(|r| {
            vec![
                escape(&r.service),
                r.visits.to_string(),
                cents(r.revenue),
                cents(r.average),
            ]
        })
        .collect();
    format!(
        "<h2>Services (项目热度)</h2>{}{}{}",
        svg(chart::services(s, ROWS)),
        table(
            "services",
            &["service", "visits", "revenue ¥", "per visit ¥"],
            &rows
        ),
        svg(chart::heatmap(s))
    )
}

//! `GET /me`: a member's own page — balance, lots with their expiries, and the statement.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use memberledger::domain::{LotKind, MemberView};
use memberledger_audit::Statement;

use super::layout::{escape, form, page, table};
use super::{failed, forbidden, html, role, PageQuery};
use crate::auth::Role;
use crate::extract;
use crate::state::AppState;

/// A member's page (a `member:<id>` token).
pub(crate) async fn me(State(state): State<AppState>, uri: Uri) -> Response {
    let q: PageQuery = extract::query(&uri).unwrap_or_default();
    let role = match role(&state, q.token.as_deref()) {
        Ok(Some(r)) => r,
        Ok(None) => return html(StatusCode::OK, page("my card", &form("me", None))),
        Err(page) => return *page,
    };
    let Role::Member(id) = role else {
        return forbidden("This page is for a member's token; head office's page is /hq.");
    };
    let ledger = state.ledger().clone();
    let who = id.clone();
    let read = extract::blocking(move || {
        let view = ledger.member(&who);
        memberledger_audit::statement(&ledger, &who, None, None).map(|s| (view, s))
    })
    .await;
    match read {
        Ok(Ok((Some(view), Some(statement)))) => html(StatusCode::OK, render(&view, &statement)),
        Ok(Ok(_)) => html(
            StatusCode::NOT_FOUND,
            page(
                "my card",
                &format!(
                    "<p class=\"error\">Member {} is not enrolled.</p>",
                    escape(id.as_str())
                ),
            ),
        ),
        Ok(Err(e)) => failed(&e),
        Err(e) => failed(&e.code),
    }
}

fn figure(id: &str, text: &str) -> String {
    format!(
        "<span class=\"figure\" id=\"{}\">{}</span>",
        escape(id),
        escape(text)
    )
}

fn render(v: &MemberView, s: &Statement) -> String {
    let mut o = String::new();
    o.push_str(&format!(
        "<p>Member {} · tier {} · home store {}{}</p>",
        figure("member", v.member.as_str()),
        figure("tier", &v.tier),
        escape(v.home_store.as_str()),
        if v.frozen {
            " · <span class=\"warn\">card frozen</span>"
        } else {
            ""
        }
    ));
    o.push_str(&format!(
        "<h2>Balance</h2><p>Principal {} ¥ · bonus {} ¥ · points {} · packages {} ¥</p>",
        figure("principal", &v.principal.to_string()),
        figure("bonus", &v.bonus.to_string()),
        figure("points", &v.points.to_string()),
        figure("packages", &v.package_value.to_string()),
    ));
    let lots: Vec<Vec<String>> = v
        .lots
        .iter()
        .map(|l| {
            vec![
                l.lot.to_string(),
                match l.kind {
                    LotKind::Principal => "principal".to_owned(),
                    LotKind::Bonus => "bonus".to_owned(),
                },
                escape(l.origin_store.as_str()),
                escape(&l.remaining.to_string()),
                l.expires_at
                    .map_or_else(|| "never".to_owned(), |t| escape(&t.to_string())),
            ]
        })
        .collect();
    o.push_str("<h2>Lots</h2>");
    o.push_str(&table(
        "lots",
        &["lot", "kind", "store", "remaining ¥", "expires"],
        &lots,
    ));
    o.push_str(&statement(s));
    page("my card", &o)
}

fn statement(s: &Statement) -> String {
    let rows: Vec<Vec<String>> = s
        .lines
        .iter()
        .map(|l| {
            vec![
                escape(&l.at.to_string()),
                escape(&l.store),
                escape(&l.description),
                escape(&l.principal_change.to_string()),
                escape(&l.bonus_change.to_string()),
                escape(&l.balance.principal.to_string()),
                escape(&l.balance.bonus.to_string()),
            ]
        })
        .collect();
    format!(
        "<h2>Statement (对账单)</h2>{}",
        table(
            "statement",
            &[
                "when",
                "store",
                "what",
                "principal ±",
                "bonus ±",
                "principal ¥",
                "bonus ¥"
            ],
            &rows
        )
    )
}

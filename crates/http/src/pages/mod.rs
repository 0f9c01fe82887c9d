//! The web pages `memberledger serve` renders: `GET /hq` for head office and `GET /me` for a
//! member. Plain HTML from the server (no script, nothing fetched from elsewhere; the charts
//! are inline SVG), every value escaped.
//!
//! **The token.** A browser following a link cannot set an `Authorization` header, so these
//! two pages (and only they) take the token as the `token` query parameter, which the page's
//! own form fills in. The request log writes the path only, never the query, so the token is
//! not logged; the pages answer `Cache-Control: no-store` and `Referrer-Policy: no-referrer`
//! so it is neither kept by caches nor sent on to another site.

mod hq;
mod layout;
mod me;

pub(crate) use hq::hq;
pub(crate) use layout::escape;
pub(crate) use me::me;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, REFERRER_POLICY};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::{token_hash, Role};
use crate::state::AppState;

/// The pages' query: the token, and for `/hq` the day the page speaks of.
#[derive(Deserialize, Default)]
pub(crate) struct PageQuery {
    pub(crate) token: Option<String>,
    pub(crate) as_of: Option<String>,
}

/// An HTML answer that no cache keeps and no link passes on.
pub(crate) fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
            (REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

/// The role of the page's token: `Ok(None)` when none was given (the page shows its form),
/// an error page when it is unknown or over its rate.
pub(crate) fn role(state: &AppState, token: Option<&str>) -> Result<Option<Role>, Box<Response>> {
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let hash = token_hash(token);
    let Some(role) = state.tokens().role_of_hash(&hash).cloned() else {
        return Err(Box::new(html(
            StatusCode::UNAUTHORIZED,
            layout::page(
                "not signed in",
                "<p class=\"error\">That token is not known.</p>",
            ),
        )));
    };
    if !state.within_rate(&hash) {
        return Err(Box::new(html(
            StatusCode::TOO_MANY_REQUESTS,
            layout::page(
                "slow down",
                "<p class=\"error\">Too many requests: retry shortly.</p>",
            ),
        )));
    }
    Ok(Some(role))
}

/// A page refused to this token's role.
pub(crate) fn forbidden(what: &str) -> Response {
    html(
        StatusCode::FORBIDDEN,
        layout::page(
            "not for this token",
            &format!("<p class=\"error\">{}</p>", escape(what)),
        ),
    )
}

/// A page that failed on the ledger's side.
pub(crate) fn failed(e: &dyn std::fmt::Display) -> Response {
    html(
        StatusCode::SERVICE_UNAVAILABLE,
        layout::page(
            "unavailable",
            &format!("<p class=\"error\">{}</p>", escape(&e.to_string())),
        ),
    )
}

//! # memberledger-http
//!
//! The HTTP adapter over the memberledger facade: a thin translation that holds no business
//! rule. Its JSON is the CLI's wire format: commands in, receipts out, reports and views in
//! the shapes of `--json`. `memberledger serve` runs it.
//!
//! - `POST /v1/commands`: one command or an array (at most the batch limit), one receipt
//!   each, answered once durable. The command id is the idempotency key; an
//!   `Idempotency-Key` header, when present, must equal it.
//! - `GET /v1/members/{id}` (`?as_of=`), `…/statement?from=&to=`, `…/events`.
//! - `GET /v1/reports/{trial-balance|stores|settlement|liability}` (`?as_of=`), `GET
//!   /v1/verify`, `GET /v1/export?format=jsonl|hledger|beancount|csv` (streamed).
//! - `GET /v1/reports/{churn|dormant|turnover|staff|services|members|campaigns}`: what the
//!   ledger tells a chain (memberledger-insight), from projections the server keeps current.
//! - `GET /hq` and `GET /me`: server-rendered pages for head office and for a member.
//! - `GET /v1/policy`, `GET /v1/policy/versions`, `POST /v1/policy`.
//! - `GET /v1/events?after=N&limit=M&wait=S`: the change feed, a long poll; and
//!   [`webhook`]: every event pushed to a URL, signed, at least once, in order.
//! - `GET /v1/notices?as_of=`: the derived notices; and [`notice_hook`]: each notice pushed to a
//!   URL, signed, at least once, never again once acknowledged.
//! - `GET /healthz`, `GET /readyz`, `GET /metrics`, `GET /v1/openapi.json`.
//!
//! **Brands.** One server may host several ledgers, a brand each ([`Brands`],
//! [`serve_brands`]): each brand's routes are the ones above under `/brands/{brand}`, its
//! tokens are its own, and another brand's token is refused there (403 `wrong_brand`).
//!
//! **The async story.** The ledger's calls block: `execute_batch` returns only after an
//! `fdatasync`, reports and `verify` replay the log. Every such call runs on tokio's blocking
//! pool (`spawn_blocking`), never on the async threads. Commands are group-committed across
//! requests: those of concurrent requests queue up, and one blocking task hands each group to
//! `execute_batch` (one disk sync for the group, each request's commands in order and
//! together) and answers each request with its own receipts; no thread waits per request.
//!
//! ```no_run
//! use std::sync::Arc;
//! use memberledger::{Clock, Ledger};
//! use memberledger_http::{serve, shutdown_signal, AppState, Config, Tokens};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let ledger = Ledger::open("./memberledger-data")?;
//! ledger.set_clock(Clock::system());
//! let tokens = Tokens::load("tokens".as_ref())?;
//! let state = AppState::new(Arc::new(ledger), tokens, Config::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! serve(listener, state, shutdown_signal()).await?;
//! # Ok(()) }
//! ```

mod auth;
mod books;
mod brands;
mod commands;
mod error;
mod export;
mod extract;
mod feed;
mod group;
mod health;
mod insight_schema;
mod members;
mod metrics;
mod middleware;
mod notice_acked;
pub mod notice_hook;
mod notices;
mod openapi;
mod openapi_brands;
mod pages;
mod permit;
mod policy;
mod prepaid;
mod reports;
mod schema;
mod server;
mod signature;
mod state;
mod tenancy;
pub mod webhook;

pub use auth::{add_token, new_token, token_hash, Role, Tokens};
pub use brands::{check_brand_name, Brands, BRAND_NAME_MAX, BRAND_PREFIX};
pub use commands::IDEMPOTENCY_KEY;
pub use error::{status_of, ApiError, ErrorBody};
pub use feed::{LIMIT_MAX as FEED_LIMIT_MAX, WAIT_MAX_SECS as FEED_WAIT_MAX_SECS};
pub use metrics::Metrics;
pub use openapi::openapi_json;
pub use server::{app, app_with, serve, shutdown_signal};
pub use signature::{hmac_sha256, signature, SIGNATURE_HEADER};
pub use state::{AppState, Caller, Config};
pub use tenancy::{brands_app, serve_brands};

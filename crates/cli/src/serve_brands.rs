//! `memberledger --brands FILE serve`: one server hosting every brand of the brands file, each
//! brand's ledger under `/brands/{brand}` with its own tokens (and its own webhook and notice
//! webhook); and the brand's settings put in place of the flags for `--brand NAME serve` and
//! `token add`.

use std::path::Path;
use std::sync::Arc;

use memberledger::{Clock, Ledger};
use memberledger_http::{AppState, Brands};

use crate::brands::Brand;
use crate::serve::{
    listen_and_serve, notice_hook_of, webhook_of, Hooks, ServeArgs, DEFAULT_NOTICE_INTERVAL_SECS,
    DEFAULT_TOKENS,
};
use crate::Fail;

/// The tokens file of a brand in place of `--tokens`, which must not name another.
pub(crate) fn brand_tokens(given: &Path, brand: &Brand) -> Result<std::path::PathBuf, Fail> {
    if given != Path::new(DEFAULT_TOKENS) && given != brand.tokens {
        return Err(Fail::usage(format!(
            "brand {} has its tokens file in the brands file ({}): drop --tokens (or MEMBERLEDGER_TOKENS)",
            brand.name,
            brand.tokens.display()
        )));
    }
    Ok(brand.tokens.clone())
}

/// `--brand NAME serve`: the brand's tokens file, and its webhook and notice webhook unless
/// the flags name one.
pub(crate) fn for_brand(mut args: ServeArgs, brand: &Brand) -> Result<ServeArgs, Fail> {
    args.tokens = brand_tokens(&args.tokens, brand)?;
    if let (None, Some(w)) = (&args.webhook, &brand.webhook) {
        args.webhook = Some(w.url.clone());
        args.webhook_secret_file = Some(w.secret_file.clone());
        args.webhook_cursor.clone_from(&w.cursor);
    }
    if let (None, Some(n)) = (&args.notice_webhook, &brand.notice_webhook) {
        args.notice_webhook = Some(n.url.clone());
        args.notice_webhook_secret_file = Some(n.secret_file.clone());
        args.notice_webhook_acked.clone_from(&n.acked);
        args.notice_interval_secs = n.interval_secs.unwrap_or(args.notice_interval_secs);
    }
    Ok(args)
}

/// A brand's webhooks, started on its ledger: every event, and the notices due.
fn start_hooks(brand: &Brand, ledger: &Arc<Ledger>, clock: &Clock) -> Result<Hooks, Fail> {
    let webhook = match &brand.webhook {
        Some(w) => Some(webhook_of(
            &brand.db,
            &w.url,
            &w.secret_file,
            w.cursor.as_ref(),
        )?),
        None => None,
    };
    let notices = match &brand.notice_webhook {
        Some(n) => Some(notice_hook_of(
            &brand.db,
            &n.url,
            &n.secret_file,
            n.acked.as_ref(),
            n.interval_secs.unwrap_or(DEFAULT_NOTICE_INTERVAL_SECS),
        )?),
        None => None,
    };
    Hooks::start(ledger, clock, webhook, notices)
}

/// Serves every brand until SIGTERM or ctrl-c, then answers what is in flight and exits 0.
pub(crate) fn run(file: &Path, clock: &Clock, args: &ServeArgs) -> Result<u8, Fail> {
    if args.webhook.is_some()
        || args.notice_webhook.is_some()
        || args.tokens != Path::new(DEFAULT_TOKENS)
    {
        return Err(Fail::usage(
            "serving every brand: each brand's tokens file, webhook and notice webhook are in the brands file, not --tokens, --webhook or --notice-webhook",
        ));
    }
    let all = crate::brands::load(file)?;
    crate::serve::init_tracing();
    let mut brands = Brands::new();
    let mut all_hooks = Vec::new();
    // The last handles on the ledgers are dropped after the runtime has stopped (see `serve`).
    let mut keep = Vec::new();
    for brand in &all {
        let in_brand = |f: Fail| Fail {
            code: f.code,
            message: format!("brand {}: {}", brand.name, f.message),
        };
        let ledger = brand.db.open_existing().map_err(in_brand)?;
        ledger.set_clock(clock.clone());
        let ledger = Arc::new(ledger);
        keep.push(Arc::clone(&ledger));
        let tokens = crate::serve::tokens(&brand.tokens).map_err(in_brand)?;
        all_hooks.push(start_hooks(brand, &ledger, clock).map_err(in_brand)?);
        let state = AppState::new(ledger, tokens, crate::serve::config(args));
        brands.insert(&brand.name, state).map_err(Fail::usage)?;
    }
    let names: Vec<&str> = brands.iter().map(|(n, _)| n).collect();
    tracing::info!(target: "memberledger_http::request", "hosting brands {}", names.join(", "));
    let runtime = listen_and_serve(args.listen, |listener| {
        memberledger_http::serve_brands(listener, brands, memberledger_http::shutdown_signal())
    })?;
    for hooks in all_hooks {
        hooks.stop();
    }
    drop(runtime);
    drop(keep);
    Ok(0)
}

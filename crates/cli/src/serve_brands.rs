//! `memberledger --brands FILE serve`: one server hosting every brand of the brands file, each
//! brand's ledger under `/brands/{brand}` with its own tokens (and its own webhook); and the
//! brand's settings put in place of the flags for `--brand NAME serve` and `token add`.

use std::path::Path;
use std::sync::Arc;

use memberledger::Clock;
use memberledger_http::webhook::Webhook;
use memberledger_http::{AppState, Brands};

use crate::brands::Brand;
use crate::serve::{ServeArgs, DEFAULT_TOKENS};
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

/// `--brand NAME serve`: the brand's tokens file, and its webhook unless the flags name one.
pub(crate) fn for_brand(mut args: ServeArgs, brand: &Brand) -> Result<ServeArgs, Fail> {
    args.tokens = brand_tokens(&args.tokens, brand)?;
    if let (None, Some(w)) = (&args.webhook, &brand.webhook) {
        args.webhook = Some(w.url.clone());
        args.webhook_secret_file = Some(w.secret_file.clone());
        args.webhook_cursor.clone_from(&w.cursor);
    }
    Ok(args)
}

/// Serves every brand until SIGTERM or ctrl-c, then answers what is in flight and exits 0.
pub(crate) fn run(file: &Path, clock: &Clock, args: &ServeArgs) -> Result<u8, Fail> {
    if args.webhook.is_some() || args.tokens != Path::new(DEFAULT_TOKENS) {
        return Err(Fail::usage(
            "serving every brand: each brand's tokens file and webhook are in the brands file, not --tokens or --webhook",
        ));
    }
    let all = crate::brands::load(file)?;
    crate::serve::init_tracing();
    let mut brands = Brands::new();
    let mut webhooks = Vec::new();
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
        if let Some(w) = &brand.webhook {
            let c = crate::serve::webhook_of(&brand.db, &w.url, &w.secret_file, w.cursor.as_ref())
                .map_err(in_brand)?;
            let started = Webhook::start(Arc::clone(&ledger), c).map_err(Fail::usage);
            webhooks.push(started.map_err(in_brand)?);
        }
        let state = AppState::new(ledger, tokens, crate::serve::config(args));
        brands.insert(&brand.name, state).map_err(Fail::usage)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        let local = listener.local_addr()?;
        let names: Vec<&str> = brands.iter().map(|(n, _)| n).collect();
        tracing::info!(target: "memberledger_http::request", "hosting brands {}", names.join(", "));
        tracing::info!(target: "memberledger_http::request", "listening on http://{local}");
        memberledger_http::serve_brands(listener, brands, memberledger_http::shutdown_signal())
            .await
    })?;
    for w in webhooks {
        w.stop();
    }
    drop(runtime);
    drop(keep);
    Ok(0)
}

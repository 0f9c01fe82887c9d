//! `memberledger serve`: the HTTP adapter over the ledger at --db.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use memberledger::{Clock, Ledger};
use memberledger_http::{AppState, Config, Tokens};

use crate::Fail;

/// Where the tokens file is by default.
pub(crate) const DEFAULT_TOKENS: &str = "./memberledger-tokens";

#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The tokens file (`memberledger token add` writes it).
    #[arg(long, env = "MEMBERLEDGER_TOKENS", default_value = DEFAULT_TOKENS)]
    tokens: PathBuf,
    /// The largest request body, in bytes.
    #[arg(long, default_value_t = Config::default().body_max)]
    body_max_bytes: usize,
    /// The most commands in one request.
    #[arg(long, default_value_t = Config::default().batch_max)]
    batch_max: usize,
    /// Requests a second each token may make on average (0: no limit).
    #[arg(long, default_value_t = Config::default().rate_per_sec)]
    rate_per_sec: u32,
    /// Requests a token may make at once before the rate applies.
    #[arg(long, default_value_t = Config::default().burst)]
    burst: u32,
    /// The longest a request may take, in seconds.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
    /// Requests served at once.
    #[arg(long, default_value_t = Config::default().concurrency)]
    concurrency: usize,
}

/// Serves the ledger until SIGTERM or ctrl-c, then answers what is in flight and exits 0.
pub(crate) fn run(ledger: Ledger, clock: Clock, args: &ServeArgs) -> Result<u8, Fail> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let tokens = Tokens::load(&args.tokens).map_err(Fail::usage)?;
    if tokens.is_empty() {
        return Err(Fail::usage(format!(
            "{} holds no token: add one with `memberledger token add --role hq`",
            args.tokens.display()
        )));
    }
    ledger.set_clock(clock);
    let config = Config {
        body_max: args.body_max_bytes,
        batch_max: args.batch_max,
        rate_per_sec: args.rate_per_sec,
        burst: args.burst,
        timeout: Duration::from_secs(args.timeout_secs.max(1)),
        concurrency: args.concurrency,
    };
    let state = AppState::new(Arc::new(ledger), tokens, config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        let local = listener.local_addr()?;
        tracing::info!(target: "memberledger_http::request", "listening on http://{local}");
        memberledger_http::serve(listener, state, memberledger_http::shutdown_signal()).await
    })?;
    Ok(0)
}

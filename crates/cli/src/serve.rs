//! `memberledger serve`: the HTTP adapter over the ledger at --db (or a brand's; every brand's:
//! `serve_brands`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use std::future::Future;

use memberledger::{Clock, Ledger};
use memberledger_http::notice_hook::{NoticeHook, NoticeHookConfig};
use memberledger_http::webhook::{Webhook, WebhookConfig};
use memberledger_http::{AppState, Config, Tokens};

use crate::db::Db;
use crate::Fail;

/// Where the tokens file is by default.
pub(crate) const DEFAULT_TOKENS: &str = "./memberledger-tokens";

/// How often the notice webhook derives the notices due by default, in seconds.
pub(crate) const DEFAULT_NOTICE_INTERVAL_SECS: u64 = 60;

#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// The tokens file (`memberledger token add` writes it).
    #[arg(long, env = "MEMBERLEDGER_TOKENS", default_value = DEFAULT_TOKENS)]
    pub(crate) tokens: PathBuf,
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
    /// POSTs every event, signed, in order and at least once, to this URL (`http://`).
    #[arg(long, value_name = "URL", requires = "webhook_secret_file")]
    pub(crate) webhook: Option<String>,
    /// The file holding the webhook's HMAC-SHA256 key (its trailing newline ignored).
    #[arg(long, value_name = "FILE", requires = "webhook")]
    pub(crate) webhook_secret_file: Option<PathBuf>,
    /// The webhook's cursor file: the last position the receiver acknowledged (by default
    /// beside the ledger: `<db>.webhook-cursor`).
    #[arg(long, value_name = "FILE", requires = "webhook")]
    pub(crate) webhook_cursor: Option<PathBuf>,
    /// POSTs each derived notice (`bonus_will_expire`, …), signed and at least once, to this
    /// URL (`http://`); never again once the receiver acknowledged it.
    #[arg(long, value_name = "URL", requires = "notice_webhook_secret_file")]
    pub(crate) notice_webhook: Option<String>,
    /// The file holding the notice webhook's HMAC-SHA256 key (its trailing newline ignored).
    #[arg(long, value_name = "FILE", requires = "notice_webhook")]
    pub(crate) notice_webhook_secret_file: Option<PathBuf>,
    /// The record of notices the receiver acknowledged (by default beside the ledger:
    /// `<db>.notices-acked`).
    #[arg(long, value_name = "FILE", requires = "notice_webhook")]
    pub(crate) notice_webhook_acked: Option<PathBuf>,
    /// How often the notices due are derived and the new ones sent, in seconds.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = DEFAULT_NOTICE_INTERVAL_SECS,
        requires = "notice_webhook"
    )]
    pub(crate) notice_interval_secs: u64,
}

/// The webhook's configuration from the flags, if one is asked for.
fn webhook_config(db: &Db, args: &ServeArgs) -> Result<Option<WebhookConfig>, Fail> {
    let (Some(url), Some(secret_file)) = (&args.webhook, &args.webhook_secret_file) else {
        return Ok(None);
    };
    webhook_of(db, url, secret_file, args.webhook_cursor.as_ref()).map(Some)
}

/// A webhook's configuration: its URL, its secret's file, its cursor file (by default beside
/// a ledger on disk).
pub(crate) fn webhook_of(
    db: &Db,
    url: &str,
    secret_file: &Path,
    cursor: Option<&PathBuf>,
) -> Result<WebhookConfig, Fail> {
    let secret = read_secret(secret_file)?;
    let cursor = beside_db(db, cursor, ".webhook-cursor", "--webhook-cursor")?;
    Ok(WebhookConfig::new(url.to_owned(), secret, cursor))
}

/// The notice webhook's configuration from the flags, if one is asked for.
fn notice_hook_config(db: &Db, args: &ServeArgs) -> Result<Option<NoticeHookConfig>, Fail> {
    let (Some(url), Some(secret_file)) = (&args.notice_webhook, &args.notice_webhook_secret_file)
    else {
        return Ok(None);
    };
    let acked = args.notice_webhook_acked.as_ref();
    notice_hook_of(db, url, secret_file, acked, args.notice_interval_secs).map(Some)
}

/// A notice webhook's configuration: its URL, its secret's file, its record of acknowledged
/// notices (by default beside a ledger on disk), how often the notices are derived.
pub(crate) fn notice_hook_of(
    db: &Db,
    url: &str,
    secret_file: &Path,
    acked: Option<&PathBuf>,
    interval_secs: u64,
) -> Result<NoticeHookConfig, Fail> {
    let secret = read_secret(secret_file)?;
    let acked = beside_db(db, acked, ".notices-acked", "--notice-webhook-acked")?;
    let mut config = NoticeHookConfig::new(url.to_owned(), secret, acked);
    config.interval = Duration::from_secs(interval_secs.max(1));
    Ok(config)
}

/// A webhook's HMAC key from its file, without the trailing newline.
fn read_secret(file: &Path) -> Result<Vec<u8>, Fail> {
    let mut secret = std::fs::read(file).map_err(|e| {
        Fail::usage(format!(
            "cannot read the webhook secret {}: {e}",
            file.display()
        ))
    })?;
    while secret.last().is_some_and(u8::is_ascii_whitespace) {
        secret.pop();
    }
    Ok(secret)
}

/// A file named by a flag, or `<db><suffix>` beside a ledger on disk; a ledger in PostgreSQL
/// has no directory of its own, so the file must be named.
fn beside_db(db: &Db, named: Option<&PathBuf>, suffix: &str, flag: &str) -> Result<PathBuf, Fail> {
    match (named, db) {
        (Some(f), _) => Ok(f.clone()),
        (None, Db::Dir(dir)) => {
            let mut p = dir.as_os_str().to_owned();
            p.push(suffix);
            Ok(PathBuf::from(p))
        }
        (None, Db::Postgres { .. }) => Err(Fail::usage(format!(
            "a ledger in PostgreSQL needs {flag} FILE"
        ))),
    }
}

/// Logs to standard error, `RUST_LOG` or `info`.
pub(crate) fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// The server's limits from the flags.
pub(crate) fn config(args: &ServeArgs) -> Config {
    Config {
        body_max: args.body_max_bytes,
        batch_max: args.batch_max,
        rate_per_sec: args.rate_per_sec,
        burst: args.burst,
        timeout: Duration::from_secs(args.timeout_secs.max(1)),
        concurrency: args.concurrency,
    }
}

/// The tokens of a tokens file, refused when it holds none.
pub(crate) fn tokens(path: &std::path::Path) -> Result<Tokens, Fail> {
    let tokens = Tokens::load(path).map_err(Fail::usage)?;
    if tokens.is_empty() {
        return Err(Fail::usage(format!(
            "{} holds no token: add one with `memberledger token add --role hq`",
            path.display()
        )));
    }
    Ok(tokens)
}

/// A ledger's deliverers beside the server: its webhook (every event) and its notice webhook
/// (the notices due), each optional.
pub(crate) struct Hooks {
    webhook: Option<Webhook>,
    notices: Option<NoticeHook>,
}

impl Hooks {
    /// Starts the deliverers configured on the ledger; a bad setting is a usage error.
    pub(crate) fn start(
        ledger: &Arc<Ledger>,
        clock: &Clock,
        webhook: Option<WebhookConfig>,
        notices: Option<NoticeHookConfig>,
    ) -> Result<Hooks, Fail> {
        let webhook = match webhook {
            Some(c) => Some(Webhook::start(Arc::clone(ledger), c).map_err(Fail::usage)?),
            None => None,
        };
        let notices = match notices {
            Some(c) => {
                let started = NoticeHook::start(Arc::clone(ledger), c, clock.clone());
                Some(started.map_err(Fail::usage)?)
            }
            None => None,
        };
        Ok(Hooks { webhook, notices })
    }

    /// Stops both, each after its delivery in flight.
    pub(crate) fn stop(self) {
        if let Some(w) = self.webhook {
            w.stop();
        }
        if let Some(n) = self.notices {
            n.stop();
        }
    }
}

/// Binds `listen` on a new runtime, says where it listens, and runs `serve` on the listener
/// until it returns. The runtime is handed back to be dropped after the ledgers' last handles
/// (see [`run`]).
pub(crate) fn listen_and_serve<F>(
    listen: SocketAddr,
    serve: impl FnOnce(tokio::net::TcpListener) -> F,
) -> Result<tokio::runtime::Runtime, Fail>
where
    F: Future<Output = std::io::Result<()>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let local = listener.local_addr()?;
        tracing::info!(target: "memberledger_http::request", "listening on http://{local}");
        serve(listener).await
    })?;
    Ok(runtime)
}

/// Serves the ledger until SIGTERM or ctrl-c, then answers what is in flight and exits 0.
pub(crate) fn run(db: &Db, clock: Clock, args: &ServeArgs) -> Result<u8, Fail> {
    let ledger = db.open_existing()?;
    init_tracing();
    let tokens = tokens(&args.tokens)?;
    ledger.set_clock(clock.clone());
    let ledger = Arc::new(ledger);
    let webhook = webhook_config(db, args)?;
    let hooks = Hooks::start(&ledger, &clock, webhook, notice_hook_config(db, args)?)?;
    // The last handle on the ledger is dropped after the runtime has stopped: a PostgreSQL
    // ledger's client blocks on its own runtime when dropped, which panics inside another.
    let keep = Arc::clone(&ledger);
    let state = AppState::new(ledger, tokens, config(args));
    let runtime = listen_and_serve(args.listen, |listener| {
        memberledger_http::serve(listener, state, memberledger_http::shutdown_signal())
    })?;
    hooks.stop();
    drop(runtime);
    drop(keep);
    Ok(0)
}

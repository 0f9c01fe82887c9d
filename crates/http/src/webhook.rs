//! Webhooks: every event of the ledger POSTed to a URL, at least once, in chain order, from a
//! durable cursor.
//!
//! One thread tails the log ([`Ledger::wait_for_events`]) from the cursor, POSTs each page as
//! `{"events":[…],"next":N}` (each event its export JSON, with `position` and `hash`) signed
//! with HMAC-SHA256 of the body ([`SIGNATURE_HEADER`](crate::SIGNATURE_HEADER)), and moves
//! the cursor to `next` only once the receiver answered 2xx. The cursor is a file written
//! atomically (a temporary file renamed over it, synced), so a restart resumes where the last
//! acknowledged page ended: a page may be delivered again after a crash (at least once), never
//! skipped. A receiver that is down or failing is retried with exponential backoff up to a
//! cap, for as long as it takes; what was committed meanwhile is delivered when it is back.
//! Receivers deduplicate by the event's `id` (or its `position`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use memberledger::Ledger;

use crate::signature::{signature, SIGNATURE_HEADER};

/// Where and how to deliver.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// The receiver's URL (`http://…`).
    pub url: String,
    /// The HMAC key the signature is made with.
    pub secret: Vec<u8>,
    /// The cursor file: the last position the receiver acknowledged.
    pub cursor: PathBuf,
    /// The most events in one delivery.
    pub batch_max: usize,
    /// The first retry's delay; each failure doubles it.
    pub retry_min: Duration,
    /// The longest delay between retries.
    pub retry_max: Duration,
    /// How long one delivery may take before it counts as failed.
    pub timeout: Duration,
}

impl WebhookConfig {
    /// A configuration with the defaults: 100 events a delivery, retries from 0.5 s doubling
    /// up to 60 s, 10 s per delivery.
    pub fn new(url: impl Into<String>, secret: Vec<u8>, cursor: PathBuf) -> WebhookConfig {
        WebhookConfig {
            url: url.into(),
            secret,
            cursor,
            batch_max: 100,
            retry_min: Duration::from_millis(500),
            retry_max: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The delivery thread; [`Webhook::stop`] ends it.
#[derive(Debug)]
pub struct Webhook {
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

impl Webhook {
    /// Starts delivering from the cursor file's position (0, the start of the log, when the
    /// file does not exist). Fails when the URL is not `http://` or the cursor file cannot be
    /// read or holds no position: a cursor is never silently reset.
    pub fn start(ledger: Arc<Ledger>, config: WebhookConfig) -> Result<Webhook, String> {
        check_target(&config.url, &config.secret)?;
        let cursor = read_cursor(&config.cursor)?;
        let (stop, stopped) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("memberledger-webhook".into())
            .spawn(move || Delivery::new(ledger, config, stopped).run(cursor))
            .map_err(|e| format!("cannot start the webhook thread: {e}"))?;
        Ok(Webhook { stop, thread })
    }

    /// Stops delivering (after the delivery in flight, if any) and waits for the thread.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// Refuses a URL that is not `http://` and an empty secret.
pub(crate) fn check_target(url: &str, secret: &[u8]) -> Result<(), String> {
    if !url.starts_with("http://") {
        return Err(format!(
            "the webhook URL must start with http:// (put a TLS proxy in front for https): {url}"
        ));
    }
    if secret.is_empty() {
        return Err("the webhook secret is empty".into());
    }
    Ok(())
}

/// The cursor in `path`: 0 when there is no file yet.
pub fn read_cursor(path: &Path) -> Result<u64, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => text.trim().parse().map_err(|_| {
            format!(
                "the webhook cursor {} does not hold a position: {:?}",
                path.display(),
                text.trim()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(format!(
            "cannot read the webhook cursor {}: {e}",
            path.display()
        )),
    }
}

/// Writes the cursor durably.
fn write_cursor(path: &Path, position: u64) -> std::io::Result<()> {
    write_durably(path, format!("{position}\n").as_bytes())
}

/// Replaces `path`'s contents durably: a temporary file beside it, synced, renamed over it, so
/// a crash leaves either the old contents or the new, never a mix. The webhook's cursor and the
/// notices' record of acknowledged ids are written so.
pub(crate) fn write_durably(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(contents)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename is durable once the directory is synced (where the platform allows it).
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// The delivery loop's state.
struct Delivery {
    ledger: Arc<Ledger>,
    config: WebhookConfig,
    stopped: Receiver<()>,
    agent: ureq::Agent,
}

/// How long the tail waits for events before looking at the stop signal again.
const TAIL_WAIT: Duration = Duration::from_millis(250);

impl Delivery {
    fn new(ledger: Arc<Ledger>, config: WebhookConfig, stopped: Receiver<()>) -> Delivery {
        let agent = ureq::AgentBuilder::new().timeout(config.timeout).build();
        Delivery {
            ledger,
            config,
            stopped,
            agent,
        }
    }

    /// Whether to stop: a stop was sent, or the `Webhook` was dropped.
    fn stopping(&self) -> bool {
        !matches!(
            self.stopped.try_recv(),
            Err(std::sync::mpsc::TryRecvError::Empty)
        )
    }

    /// Sleeps `d` unless stopped first; true when stopped.
    fn sleep(&self, d: Duration) -> bool {
        !matches!(self.stopped.recv_timeout(d), Err(RecvTimeoutError::Timeout))
    }

    fn run(self, mut cursor: u64) {
        let mut delay = self.config.retry_min;
        while !self.stopping() {
            let page = match self
                .ledger
                .wait_for_events(cursor, self.config.batch_max, TAIL_WAIT)
            {
                Ok(page) if page.is_empty() => continue,
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!(target: "memberledger_http::webhook", "reading the log failed: {e}");
                    if self.sleep(delay) {
                        return;
                    }
                    delay = (delay * 2).min(self.config.retry_max);
                    continue;
                }
            };
            let next = page.last().map_or(cursor, |e| e.position);
            let events: Vec<String> = page.iter().map(|e| e.to_export_json()).collect();
            let body = format!(r#"{{"events":[{}],"next":{next}}}"#, events.join(","));
            match self.post(&body) {
                Ok(()) => {
                    delay = self.config.retry_min;
                    if let Err(e) = write_cursor(&self.config.cursor, next) {
                        // Delivered but not remembered: it is delivered again (at least once).
                        tracing::warn!(target: "memberledger_http::webhook", "cannot write the cursor: {e}");
                    } else {
                        cursor = next;
                    }
                }
                Err(why) => {
                    tracing::warn!(target: "memberledger_http::webhook", "delivery up to position {next} failed ({why}); retrying in {delay:?}");
                    if self.sleep(delay) {
                        return;
                    }
                    delay = (delay * 2).min(self.config.retry_max);
                }
            }
        }
    }

    /// POSTs one signed body; `Ok` on a 2xx answer.
    fn post(&self, body: &str) -> Result<(), String> {
        post_signed(&self.agent, &self.config.url, &self.config.secret, body)
    }
}

/// POSTs `body` as JSON to `url` with its signature under `secret`; `Ok` on a 2xx answer.
pub(crate) fn post_signed(
    agent: &ureq::Agent,
    url: &str,
    secret: &[u8],
    body: &str,
) -> Result<(), String> {
    let sig = signature(secret, body.as_bytes());
    match agent
        .post(url)
        .set("Content-Type", "application/json")
        .set(SIGNATURE_HEADER, &sig)
        .send_string(body)
    {
        Ok(r) if (200..300).contains(&r.status()) => Ok(()),
        Ok(r) => Err(format!("status {}", r.status())),
        Err(ureq::Error::Status(s, _)) => Err(format!("status {s}")),
        Err(e) => Err(e.to_string()),
    }
}

//! Notices by webhook: the derived notices (`bonus_will_expire`, `points_will_expire`,
//! `package_will_expire`) POSTed to a URL so a CRM or SMS gateway gets each one, at least once.
//!
//! One thread, every `interval`, derives the notices due as of now ([`Ledger::notices`], the
//! time read from the [`Clock`] it is given), leaves out those the receiver already
//! acknowledged, and POSTs the rest in pages as `{"as_of":"…","notices":[…]}` (each notice as
//! `GET /v1/notices` answers it) signed like the event webhook
//! ([`SIGNATURE_HEADER`](crate::SIGNATURE_HEADER): HMAC-SHA256 of the body). Once the receiver
//! answers a page 2xx, its notices' ids are appended to a record file and synced before the next
//! page goes; a restart reads the record and never sends them again. A page not answered 2xx is
//! retried with exponential backoff, each retry deriving the notices afresh, so a notice that
//! stopped applying meanwhile (the lot was spent, the package used up) is never sent. The record
//! forgets a notice once its expiry has passed, so it stays as small as the notices due. A page
//! may still come twice (an answer lost, a crash between the answer and the sync): receivers
//! deduplicate by the notice's `id`, which is the same whenever the notice is derived.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use memberledger::notices::Notice;
use memberledger::{Clock, Ledger, Timestamp};

pub use crate::notice_acked::read_acked;
use crate::notice_acked::Acked;
use crate::webhook::{check_target, post_signed};

/// Where and how often to deliver notices.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NoticeHookConfig {
    /// The receiver's URL (`http://…`).
    pub url: String,
    /// The HMAC key the signature is made with.
    pub secret: Vec<u8>,
    /// The record of acknowledged notices: one line `<id> <expires_at>` each.
    pub acked: PathBuf,
    /// How long between two derivations of the notices due.
    pub interval: Duration,
    /// The most notices in one delivery.
    pub batch_max: usize,
    /// The first retry's delay; each failure doubles it.
    pub retry_min: Duration,
    /// The longest delay between retries.
    pub retry_max: Duration,
    /// How long one delivery may take before it counts as failed.
    pub timeout: Duration,
}

impl NoticeHookConfig {
    /// A configuration with the defaults: the notices derived every 60 s, 100 a delivery,
    /// retries from 0.5 s doubling up to 60 s, 10 s per delivery.
    pub fn new(url: impl Into<String>, secret: Vec<u8>, acked: PathBuf) -> NoticeHookConfig {
        NoticeHookConfig {
            url: url.into(),
            secret,
            acked,
            interval: Duration::from_secs(60),
            batch_max: 100,
            retry_min: Duration::from_millis(500),
            retry_max: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The notices' delivery thread; [`NoticeHook::stop`] ends it.
#[derive(Debug)]
pub struct NoticeHook {
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

impl NoticeHook {
    /// Starts delivering the notices due as of `clock`'s now (the machine's time when the
    /// clock is unbounded). Fails when the URL is not `http://`, the secret is empty, the
    /// interval or page size is zero, or the record cannot be read or holds a malformed line:
    /// a record is never silently reset.
    pub fn start(
        ledger: Arc<Ledger>,
        config: NoticeHookConfig,
        clock: Clock,
    ) -> Result<NoticeHook, String> {
        check_target(&config.url, &config.secret)?;
        if config.interval.is_zero() || config.batch_max == 0 {
            return Err("the notice webhook's interval and page size must be above zero".into());
        }
        let acked = Acked::load(config.acked.clone())?;
        let (stop, stopped) = std::sync::mpsc::channel();
        let agent = ureq::AgentBuilder::new().timeout(config.timeout).build();
        let dispatch = Dispatch {
            ledger,
            config,
            clock,
            acked,
            stopped,
            agent,
        };
        let thread = std::thread::Builder::new()
            .name("memberledger-notices".into())
            .spawn(move || dispatch.run())
            .map_err(|e| format!("cannot start the notice webhook thread: {e}"))?;
        Ok(NoticeHook { stop, thread })
    }

    /// Stops delivering (after the delivery in flight, if any) and waits for the thread.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// The delivery loop's state.
struct Dispatch {
    ledger: Arc<Ledger>,
    config: NoticeHookConfig,
    clock: Clock,
    acked: Acked,
    stopped: Receiver<()>,
    agent: ureq::Agent,
}

/// Why a round ended early.
enum Halt {
    /// A stop was asked for.
    Stopped,
    /// A delivery or the record failed: retry after a backoff.
    Failed(String),
}

impl Dispatch {
    fn run(mut self) {
        let mut delay = self.config.retry_min;
        loop {
            let wait = match self.round() {
                Ok(()) => {
                    delay = self.config.retry_min;
                    self.config.interval
                }
                Err(Halt::Stopped) => return,
                Err(Halt::Failed(why)) => {
                    tracing::warn!(target: "memberledger_http::notice_hook", "{why}; retrying in {delay:?}");
                    let wait = delay;
                    delay = (delay * 2).min(self.config.retry_max);
                    wait
                }
            };
            if self.sleep(wait) {
                return;
            }
        }
    }

    /// Derives the notices due now and delivers those not acknowledged yet, page by page.
    fn round(&mut self) -> Result<(), Halt> {
        let as_of = self.clock.now().unwrap_or_else(Timestamp::now);
        self.acked
            .prune(as_of)
            .map_err(|e| Halt::Failed(format!("cannot rewrite the notice record: {e}")))?;
        let due: Vec<Notice> = self
            .ledger
            .notices(as_of)
            .into_iter()
            .filter(|n| !self.acked.contains(&n.id))
            .collect();
        for page in due.chunks(self.config.batch_max) {
            if self.stopping() {
                return Err(Halt::Stopped);
            }
            let body = serde_json::json!({"as_of": as_of, "notices": page}).to_string();
            post_signed(&self.agent, &self.config.url, &self.config.secret, &body).map_err(
                |why| Halt::Failed(format!("delivering {} notices failed ({why})", page.len())),
            )?;
            // Delivered but not remembered: sent again (at least once).
            self.acked
                .record(page)
                .map_err(|e| Halt::Failed(format!("cannot append to the notice record: {e}")))?;
        }
        Ok(())
    }

    /// Whether to stop: a stop was sent, or the `NoticeHook` was dropped.
    fn stopping(&self) -> bool {
        !matches!(self.stopped.try_recv(), Err(TryRecvError::Empty))
    }

    /// Sleeps `d` unless stopped first; true when stopped.
    fn sleep(&self, d: Duration) -> bool {
        !matches!(self.stopped.recv_timeout(d), Err(RecvTimeoutError::Timeout))
    }
}

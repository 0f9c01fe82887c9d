//! What every handler shares: the ledger, the tokens, the limits, the counters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use memberledger::{Ledger, BATCH_MAX};
use tokio::sync::Semaphore;

use crate::auth::{Role, Tokens};
use crate::error::ApiError;
use crate::group::Committer;
use crate::metrics::Metrics;

/// The server's limits.
#[derive(Clone, Debug)]
pub struct Config {
    /// The largest request body, in bytes (413 above it).
    pub body_max: usize,
    /// The most commands in one request (413 above it); at most the ledger's `BATCH_MAX`.
    pub batch_max: usize,
    /// Requests a second each token may make on average (429 above it); 0 for no limit.
    pub rate_per_sec: u32,
    /// Requests a token may make at once before the rate applies.
    pub burst: u32,
    /// The longest a request may take before it is answered 503 `timeout`.
    pub timeout: Duration,
    /// Requests served at once; more wait for a slot (within the timeout).
    pub concurrency: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            body_max: 4 << 20,
            batch_max: BATCH_MAX,
            rate_per_sec: 100,
            burst: 200,
            timeout: Duration::from_secs(30),
            concurrency: 256,
        }
    }
}

/// The caller of a request, as its token says (put in the request's extensions).
#[derive(Clone, Debug)]
pub struct Caller {
    /// The token's role.
    pub role: Role,
}

/// A token bucket per token.
#[derive(Debug, Default)]
struct RateLimiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// Takes one request from the bucket of `key`; false when it is empty.
    fn take(&self, key: &str, rate: u32, burst: u32) -> bool {
        if rate == 0 {
            return true;
        }
        let now = Instant::now();
        let (rate, burst) = (f64::from(rate), f64::from(burst.max(1)));
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (level, last) = buckets.entry(key.to_owned()).or_insert((burst, now));
        *level = (*level + now.duration_since(*last).as_secs_f64() * rate).min(burst);
        *last = now;
        if *level >= 1.0 {
            *level -= 1.0;
            true
        } else {
            false
        }
    }
}

struct Inner {
    ledger: Arc<Ledger>,
    tokens: Tokens,
    config: Config,
    metrics: Arc<Metrics>,
    committer: Arc<Committer>,
    limiter: RateLimiter,
    permits: Semaphore,
    stopping: AtomicBool,
    kept: crate::reports::Kept,
}

/// The state every handler shares; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// The state of a server over a ledger (whose clock the caller has set), its tokens and
    /// its limits.
    pub fn new(ledger: Arc<Ledger>, tokens: Tokens, mut config: Config) -> AppState {
        config.batch_max = config.batch_max.clamp(1, BATCH_MAX);
        let permits = Semaphore::new(config.concurrency.max(1));
        AppState(Arc::new(Inner {
            ledger,
            tokens,
            config,
            metrics: Arc::default(),
            committer: Arc::default(),
            limiter: RateLimiter::default(),
            permits,
            stopping: AtomicBool::new(false),
            kept: crate::reports::Kept::default(),
        }))
    }

    /// The ledger.
    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.0.ledger
    }

    /// The tokens.
    pub fn tokens(&self) -> &Tokens {
        &self.0.tokens
    }

    /// The limits.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The counters.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// Executes one request's commands in the next group commit; one result per command,
    /// once durable.
    pub(crate) async fn execute(
        &self,
        commands: Vec<memberledger::Command>,
    ) -> Result<Vec<Result<memberledger::Receipt, memberledger::Error>>, ApiError> {
        let inner = &self.0;
        inner
            .committer
            .execute(&inner.ledger, &inner.metrics, commands)
            .await
    }

    /// The insight projections the server keeps current.
    pub(crate) fn kept(&self) -> &crate::reports::Kept {
        &self.0.kept
    }

    /// The slots of the concurrency limit.
    pub(crate) fn permits(&self) -> &Semaphore {
        &self.0.permits
    }

    /// Takes one request from a token's rate bucket; false when it is over the rate.
    pub(crate) fn within_rate(&self, token_key: &str) -> bool {
        let c = &self.0.config;
        self.0.limiter.take(token_key, c.rate_per_sec, c.burst)
    }

    /// Marks the server as stopping: `readyz` answers 503 from now on.
    pub fn stop(&self) {
        self.0.stopping.store(true, Ordering::SeqCst);
    }

    /// True once the server is stopping.
    pub fn stopping(&self) -> bool {
        self.0.stopping.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_over_its_rate_is_refused_until_the_bucket_refills() {
        let l = RateLimiter::default();
        assert!(l.take("a", 1, 2));
        assert!(l.take("a", 1, 2));
        assert!(!l.take("a", 1, 2));
        assert!(l.take("b", 1, 2), "each token has its own bucket");
        assert!(l.take("a", 0, 0), "rate 0 is no limit");
    }
}

//! Webhooks: a receiver on loopback that is stopped, fails, drops answers and comes back, and
//! a deliverer restarted from its cursor, still end with every event exactly once after
//! deduplication by event id, in chain order, every signature verified.
// Test scenarios read top to bottom, as one story each.
#![allow(clippy::too_many_lines)]

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use memberledger::{Clock, Ledger};
use memberledger_http::webhook::{read_cursor, Webhook, WebhookConfig};
use memberledger_testkit::steady;
use serde_json::Value;

mod common;
use common::receiver::{wait_until, Receiver, Record, ANSWER_500, ANSWER_NOTHING, ANSWER_OK};

const SECRET: &[u8] = b"a shared secret";

/// What the receiver saw: each delivered event's (id, position, hash) in arrival order, and the
/// deliveries whose signature did not verify.
#[derive(Default)]
struct Seen {
    events: Vec<(String, u64, String)>,
    bad_signatures: usize,
}

impl Record for Seen {
    fn page(&mut self, page: Value) {
        for e in page["events"].as_array().unwrap() {
            self.events.push((
                e["id"].as_str().unwrap().to_owned(),
                e["position"].as_u64().unwrap(),
                e["hash"].as_str().unwrap().to_owned(),
            ));
        }
    }
    fn bad_signature(&mut self) {
        self.bad_signatures += 1;
    }
}

fn delivered_up_to(seen: &Mutex<Seen>) -> u64 {
    seen.lock()
        .unwrap()
        .events
        .iter()
        .map(|e| e.1)
        .max()
        .unwrap_or(0)
}

#[test]
fn webhook_delivers_every_event_once_after_dedup_in_order_across_receiver_and_sender_restarts() {
    let ledger = Arc::new(Ledger::in_memory());
    ledger.set_clock(Clock::unbounded());
    let commands = steady::workload(400, 40, 3, 15);
    let dir = tempfile::tempdir().unwrap();
    let cursor = dir.path().join("ledger.webhook-cursor");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mode = Arc::new(AtomicU8::new(ANSWER_OK));
    let mut receiver = Receiver::start(
        "127.0.0.1:0".parse().unwrap(),
        SECRET,
        Arc::clone(&seen),
        Arc::clone(&mode),
    );
    let addr = receiver.addr;
    let config = WebhookConfig {
        batch_max: 7,
        retry_min: Duration::from_millis(10),
        retry_max: Duration::from_millis(200),
        timeout: Duration::from_secs(5),
        ..WebhookConfig::new(
            format!("http://{addr}/hook"),
            SECRET.to_vec(),
            cursor.clone(),
        )
    };
    let mut webhook = Webhook::start(Arc::clone(&ledger), config.clone()).unwrap();
    let mut chunks = commands.chunks(50);
    let mut record = |ledger: &Ledger| {
        for c in chunks.next().unwrap() {
            // Refusals (an open-loop stream overspends) record nothing; the rest is the feed.
            let _ = ledger.execute(c);
        }
    };

    // Delivered while the receiver is up.
    record(&ledger);
    wait_until("the first commands are delivered", || {
        delivered_up_to(&seen) == ledger.head().unwrap().position
    });
    // The receiver goes away; commands go on being recorded.
    receiver.stop();
    record(&ledger);
    record(&ledger);
    std::thread::sleep(Duration::from_millis(400));
    // It comes back, failing with 500s for a while, then reading but not answering (so the
    // same pages come again), then answering.
    receiver = Receiver::start(addr, SECRET, Arc::clone(&seen), Arc::clone(&mode));
    mode.store(ANSWER_500, Ordering::SeqCst);
    record(&ledger);
    std::thread::sleep(Duration::from_millis(300));
    mode.store(ANSWER_NOTHING, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(300));
    mode.store(ANSWER_OK, Ordering::SeqCst);
    record(&ledger);
    // The deliverer itself restarts from its cursor file mid-stream.
    webhook.stop();
    let resumed_at = read_cursor(&cursor).unwrap();
    assert!(resumed_at <= delivered_up_to(&seen));
    record(&ledger);
    webhook = Webhook::start(Arc::clone(&ledger), config).unwrap();
    record(&ledger);
    record(&ledger);
    let head = ledger.head().unwrap();
    wait_until("everything is delivered", || {
        delivered_up_to(&seen) == head.position
    });
    wait_until("the cursor is at the head", || {
        read_cursor(&cursor).unwrap() == head.position
    });
    webhook.stop();
    receiver.stop();

    let seen = seen.lock().unwrap();
    assert_eq!(seen.bad_signatures, 0);
    // Deduplicated by event id, first arrival kept: every event once, in chain order.
    let mut ids = std::collections::HashSet::new();
    let firsts: Vec<(u64, String)> = seen
        .events
        .iter()
        .filter(|e| ids.insert(e.0.clone()))
        .map(|e| (e.1, e.2.clone()))
        .collect();
    let log: Vec<(u64, String)> = ledger
        .events(1, 100)
        .map(|e| {
            let e = e.unwrap();
            (e.position, hex::encode(e.hash))
        })
        .collect();
    assert_eq!(firsts, log);
    assert!(
        seen.events.len() > log.len(),
        "some pages were delivered again (at least once)"
    );
}

#[test]
fn webhook_refuses_a_cursor_that_holds_no_position_and_a_url_that_is_not_http() {
    let ledger = Arc::new(Ledger::in_memory());
    let dir = tempfile::tempdir().unwrap();
    let cursor = dir.path().join("cursor");
    std::fs::write(&cursor, "not a number\n").unwrap();
    let e = Webhook::start(
        Arc::clone(&ledger),
        WebhookConfig::new("http://127.0.0.1:9/", SECRET.to_vec(), cursor.clone()),
    )
    .unwrap_err();
    assert!(e.contains("does not hold a position"), "{e}");
    std::fs::remove_file(&cursor).unwrap();
    let e = Webhook::start(
        ledger,
        WebhookConfig::new("ftp://example.invalid/", SECRET.to_vec(), cursor),
    )
    .unwrap_err();
    assert!(e.contains("http://"), "{e}");
}

//! Notices by webhook: a receiver on loopback that is stopped, fails and drops answers still
//! ends with every notice due exactly once after deduplication by notice id, every signature
//! verified; a dispatcher restarted from its record never sends an acknowledged notice again;
//! a notice that stopped applying before it could be delivered is never sent; the record
//! forgets notices once they lapse. Time is the test's clock, moved by hand, not slept through.
// Test scenarios read top to bottom, as one story each.
#![allow(clippy::too_many_lines)]

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use memberledger::{Clock, Command, Ledger, MemberId, Policy, Timestamp};
use memberledger_http::notice_hook::{read_acked, NoticeHook, NoticeHookConfig};
use serde_json::Value;

mod common;
use common::receiver::{wait_until, Receiver, Record, ANSWER_500, ANSWER_NOTHING, ANSWER_OK};

const SECRET: &[u8] = b"a notice secret";
const POLICY: &str = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}],"bonus_expiry_days":30,"points_expiry_days":60,"notices":{"bonus_days":7,"points_days":10,"package_days":14}}"#;

/// What the receiver saw.
#[derive(Default)]
struct Seen {
    /// Each delivered notice's id, in arrival order (a notice delivered twice is here twice).
    ids: Vec<String>,
    /// Each delivered notice as JSON, by id (the last arrival).
    notices: HashMap<String, Value>,
    /// Deliveries answered per mode.
    answered: [usize; 3],
    bad_signatures: usize,
}

impl Seen {
    fn distinct(&self) -> BTreeSet<String> {
        self.ids.iter().cloned().collect()
    }
    fn count(&self, id: &str) -> usize {
        self.ids.iter().filter(|i| *i == id).count()
    }
}

impl Record for Seen {
    fn page(&mut self, page: Value) {
        assert!(page["as_of"].is_string(), "{page}");
        for n in page["notices"].as_array().unwrap() {
            let id = n["id"].as_str().unwrap().to_owned();
            self.ids.push(id.clone());
            self.notices.insert(id, n.clone());
        }
    }
    fn bad_signature(&mut self) {
        self.bad_signatures += 1;
    }
    fn answered(&mut self, mode: u8) {
        self.answered[usize::from(mode)] += 1;
    }
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A clock the test moves by hand.
#[derive(Clone)]
struct HandClock(Arc<Mutex<Timestamp>>);

impl HandClock {
    fn new(at: &str) -> HandClock {
        HandClock(Arc::new(Mutex::new(t(at))))
    }
    fn set(&self, at: &str) {
        *self.0.lock().unwrap() = t(at);
    }
    fn clock(&self) -> Clock {
        let now = Arc::clone(&self.0);
        Clock::from_fn(move || *now.lock().unwrap())
    }
}

/// Runs one command line, with a fresh id.
fn run(ledger: &Ledger, n: &mut u128, rest: &str) {
    *n += 1;
    let line = format!(r#"{{"id":"{}",{rest}}}"#, memberledger::Uuid::from_u128(*n));
    ledger
        .execute(&Command::from_json(&line).unwrap())
        .unwrap_or_else(|e| panic!("{e}: {line}"));
}

/// Twelve members enrolled a day apart from 2026-03-01, each with principal, a bonus lot
/// (lapsing 30 days on), a point lot (60 days on) and a package (lapsing 2026-04-20 on).
fn chain() -> Arc<Ledger> {
    let ledger = Ledger::in_memory_with(Policy::from_json(POLICY).unwrap());
    ledger.set_clock(Clock::unbounded());
    let mut n = 0;
    for i in 0..12u32 {
        let at = t("2026-03-01T10:00:00Z").plus_days(i);
        let m = format!(r#""at":"{at}","member":"M{i:02}","store":"S1""#);
        run(&ledger, &mut n, &format!(r#""type":"enroll",{m}"#));
        run(
            &ledger,
            &mut n,
            &format!(r#""type":"recharge",{m},"amount":"100.00""#),
        );
        run(
            &ledger,
            &mut n,
            &format!(r#""type":"grant_bonus",{m},"amount":"20.00","reason":"birthday""#),
        );
        run(
            &ledger,
            &mut n,
            &format!(r#""type":"consume",{m},"amount":"10.00""#),
        );
        let lapses = t("2026-04-20T00:00:00Z").plus_days(i);
        run(
            &ledger,
            &mut n,
            &format!(
                r#""type":"purchase_package",{m},"service":"facial","sessions":3,"amount":"90.00","paid_from":"cash","expires_at":"{lapses}""#
            ),
        );
    }
    Arc::new(ledger)
}

fn ids_due(ledger: &Ledger, at: &str) -> BTreeSet<String> {
    ledger
        .notices(t(at))
        .iter()
        .map(|n| n.id.to_string())
        .collect()
}

fn acked_ids(path: &Path) -> BTreeSet<String> {
    read_acked(path)
        .unwrap()
        .iter()
        .map(|(id, _)| id.to_string())
        .collect()
}

fn config(addr: SocketAddr, acked: &Path) -> NoticeHookConfig {
    let mut c = NoticeHookConfig::new(
        format!("http://{addr}/notices"),
        SECRET.to_vec(),
        acked.into(),
    );
    c.interval = Duration::from_millis(20);
    c.batch_max = 4;
    c.retry_min = Duration::from_millis(10);
    c.retry_max = Duration::from_millis(100);
    c.timeout = Duration::from_secs(5);
    c
}

struct Setup {
    ledger: Arc<Ledger>,
    time: HandClock,
    seen: Arc<Mutex<Seen>>,
    mode: Arc<AtomicU8>,
    receiver: Receiver,
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(at: &str) -> Setup {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let mode = Arc::new(AtomicU8::new(ANSWER_OK));
        let receiver = Receiver::start(
            "127.0.0.1:0".parse().unwrap(),
            SECRET,
            Arc::clone(&seen),
            Arc::clone(&mode),
        );
        Setup {
            ledger: chain(),
            time: HandClock::new(at),
            seen,
            mode,
            receiver,
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn acked(&self) -> std::path::PathBuf {
        self.dir.path().join("ledger.notices-acked")
    }
    fn start_hook(&self) -> NoticeHook {
        NoticeHook::start(
            Arc::clone(&self.ledger),
            config(self.receiver.addr, &self.acked()),
            self.time.clock(),
        )
        .unwrap()
    }
    fn restart_receiver(&mut self) {
        self.receiver = Receiver::start(
            self.receiver.addr,
            SECRET,
            Arc::clone(&self.seen),
            Arc::clone(&self.mode),
        );
    }
    fn wait_received(&self, what: &str, ids: &BTreeSet<String>) {
        wait_until(what, || {
            self.seen.lock().unwrap().distinct().is_superset(ids)
        });
    }
}

#[test]
fn notice_webhook_delivers_every_notice_once_after_dedup_across_a_receiver_outage_signed() {
    let mut s = Setup::new("2026-03-27T00:00:00Z");
    let first = ids_due(&s.ledger, "2026-03-27T00:00:00Z");
    let second = ids_due(&s.ledger, "2026-04-08T00:00:00Z");
    let third = ids_due(&s.ledger, "2026-04-20T00:00:00Z");
    assert!(!first.is_empty() && !second.is_subset(&first) && !third.is_subset(&second));
    assert!(
        !first.is_disjoint(&ids_due(&s.ledger, "2026-03-30T00:00:00Z")),
        "the first notices are still due later: only the record keeps them from coming again"
    );
    let hook = s.start_hook();
    s.wait_received("the first notices arrive", &first);
    s.time.set("2026-03-30T00:00:00Z");
    let mid = ids_due(&s.ledger, "2026-03-30T00:00:00Z");
    s.wait_received("the notices due three days on arrive", &mid);
    std::thread::sleep(Duration::from_millis(100)); // a few rounds with the first still due
                                                    // The receiver goes away; time moves on and more notices fall due.
    s.receiver.stop();
    s.time.set("2026-04-08T00:00:00Z");
    std::thread::sleep(Duration::from_millis(200));
    // It comes back failing with 500s, then reading but not answering (so the same page comes
    // again), then answering.
    s.restart_receiver();
    s.mode.store(ANSWER_500, Ordering::SeqCst);
    wait_until("a delivery is answered 500", || {
        s.seen.lock().unwrap().answered[usize::from(ANSWER_500)] > 0
    });
    s.mode.store(ANSWER_NOTHING, Ordering::SeqCst);
    wait_until("a delivery goes unanswered", || {
        s.seen.lock().unwrap().answered[usize::from(ANSWER_NOTHING)] > 0
    });
    s.mode.store(ANSWER_OK, Ordering::SeqCst);
    s.wait_received("the notices due meanwhile arrive", &second);
    s.time.set("2026-04-20T00:00:00Z");
    s.wait_received("the latest notices arrive", &third);
    std::thread::sleep(Duration::from_millis(100)); // more rounds: nothing new is due
    hook.stop();
    s.receiver.stop();

    let seen = s.seen.lock().unwrap();
    assert_eq!(
        seen.bad_signatures, 0,
        "every delivery's signature verifies"
    );
    let mut expected = first.clone();
    expected.extend(mid.iter().cloned());
    expected.extend(second.iter().cloned());
    expected.extend(third.iter().cloned());
    assert_eq!(seen.distinct(), expected, "every notice due, nothing else");
    for id in &first {
        assert_eq!(
            seen.count(id),
            1,
            "acknowledged at once, never sent again: {id}"
        );
    }
    assert!(
        seen.ids.len() > expected.len(),
        "the unanswered page came again (at least once)"
    );
    // Each notice arrives in the shape `GET /v1/notices` answers.
    let n = &seen.notices[first.iter().next().unwrap()];
    assert!(n["kind"].as_str().unwrap().ends_with("_will_expire"), "{n}");
    assert!(
        n["member"].is_string() && n["expires_at"].is_string(),
        "{n}"
    );
}

#[test]
fn notice_webhook_restarted_from_its_record_does_not_resend_acknowledged_notices() {
    let s = Setup::new("2026-03-27T00:00:00Z");
    let first = ids_due(&s.ledger, "2026-03-27T00:00:00Z");
    let later = ids_due(&s.ledger, "2026-03-30T00:00:00Z");
    assert!(!first.is_disjoint(&later) && !later.is_subset(&first));
    let hook = s.start_hook();
    s.wait_received("the first notices arrive", &first);
    wait_until("the record holds them", || acked_ids(&s.acked()) == first);
    hook.stop();

    // Restarted with the record, later: the notices still due were acknowledged already.
    s.time.set("2026-03-30T00:00:00Z");
    let hook = s.start_hook();
    s.wait_received("the notices due since arrive", &later);
    std::thread::sleep(Duration::from_millis(100));
    hook.stop();
    {
        let seen = s.seen.lock().unwrap();
        assert_eq!(seen.ids.len(), seen.distinct().len(), "nothing came twice");
        assert_eq!(seen.bad_signatures, 0);
    }
    assert!(acked_ids(&s.acked()).is_superset(&later));

    // Once every lot has lapsed the record forgets them: it stays as small as the notices due.
    s.time.set("2027-06-01T00:00:00Z");
    let hook = s.start_hook();
    wait_until("the record is empty", || {
        read_acked(&s.acked()).unwrap().is_empty()
    });
    hook.stop();
}

#[test]
fn a_notice_that_stops_applying_before_delivery_is_never_sent() {
    let mut s = Setup::new("2026-03-27T00:00:00Z");
    s.receiver.stop(); // down from the start: nothing is acknowledged
    let hook = s.start_hook();
    let before = s.ledger.notices(t("2026-03-27T00:00:00Z"));
    let m00 = MemberId::new("M00").unwrap();
    let gone: BTreeSet<String> = before
        .iter()
        .filter(|n| n.member == m00)
        .map(|n| n.id.to_string())
        .collect();
    assert!(!gone.is_empty(), "M00's bonus is due a notice");
    std::thread::sleep(Duration::from_millis(100)); // deliveries fail and are retried
                                                    // M00 spends everything: the bonus lot is gone.
    let member = s.ledger.member(&m00).unwrap();
    let all = member.principal.plus(member.bonus);
    let mut n = 1_000;
    run(
        &s.ledger,
        &mut n,
        &format!(
            r#""at":"2026-03-26T12:00:00Z","type":"consume","member":"M00","store":"S1","amount":"{all}""#
        ),
    );
    let now = ids_due(&s.ledger, "2026-03-27T00:00:00Z");
    assert!(now.is_disjoint(&gone) && !now.is_empty());
    s.restart_receiver();
    s.wait_received("the notices still due arrive", &now);
    std::thread::sleep(Duration::from_millis(100));
    hook.stop();
    s.receiver.stop();
    let seen = s.seen.lock().unwrap();
    assert!(
        seen.distinct().is_disjoint(&gone),
        "M00's lapsed notice was never sent"
    );
    assert_eq!(seen.distinct(), now);
}

#[test]
fn notice_webhook_refuses_a_malformed_record_a_url_that_is_not_http_and_a_zero_interval() {
    let s = Setup::new("2026-03-27T00:00:00Z");
    std::fs::write(s.acked(), "not a notice\n").unwrap();
    let e = NoticeHook::start(
        Arc::clone(&s.ledger),
        config(s.receiver.addr, &s.acked()),
        s.time.clock(),
    )
    .unwrap_err();
    assert!(e.contains("does not hold"), "{e}");
    assert_eq!(
        std::fs::read_to_string(s.acked()).unwrap(),
        "not a notice\n",
        "left as it was"
    );
    std::fs::remove_file(s.acked()).unwrap();
    let mut c = config(s.receiver.addr, &s.acked());
    c.url = "https://example.invalid/".into();
    let e = NoticeHook::start(Arc::clone(&s.ledger), c, s.time.clock()).unwrap_err();
    assert!(e.contains("http://"), "{e}");
    let mut c = config(s.receiver.addr, &s.acked());
    c.interval = Duration::ZERO;
    let e = NoticeHook::start(Arc::clone(&s.ledger), c, s.time.clock()).unwrap_err();
    assert!(e.contains("above zero"), "{e}");
}

//! Policy history: a new version published mid-stream applies to commands at or after its
//! time, earlier commands keep what they were given, every event names the version it was
//! decided under, and a replay from disk agrees without re-evaluating a rule.
// Without the `sled` feature only the tests of a ledger in memory run.
#![cfg_attr(not(feature = "sled"), allow(dead_code, unused_imports))]

use memberledger::domain::events::{BonusGranted, PolicyPublished};
use memberledger::domain::EventBody;
use memberledger::store::{EventStore, MemoryStore};
use memberledger::{Command, Error, Ledger, MemberId, Money, Policy, Timestamp};

/// Recharging 1000.00 gives 150.00 bonus.
const FOUNDING: &str = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}],
  "recharge_bonus":[{"min":"1000.00","bonus":"150.00"}],"bonus_expiry_days":null}"#;
/// Recharging 1000.00 gives 300.00 bonus, and points double.
const DOUBLE: &str = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"2"}],
  "recharge_bonus":[{"min":"1000.00","bonus":"300.00"}],"bonus_expiry_days":null}"#;

fn cmd(n: u32, at: &str, rest: &str) -> Command {
    let line = format!(r#"{{"id":"00000000-0000-4000-8000-{n:012}","at":"2026-{at}Z",{rest}}}"#);
    Command::from_json(&line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn publish(n: u32, at: &str, policy: &str) -> Command {
    cmd(
        n,
        at,
        &format!(r#""type":"publish_policy","store":"HQ","policy":{policy}"#),
    )
}

fn bonus_of(ledger: &Ledger, m: &str) -> Money {
    ledger.member(&MemberId::new(m).unwrap()).unwrap().bonus
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[cfg(feature = "sled")]
#[test]
fn a_bonus_rule_published_mid_stream_applies_from_its_time_on_and_on_replay() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let ledger = Ledger::create(&path, Policy::from_json(FOUNDING).unwrap()).unwrap();
    let run = |c: Command| ledger.execute(&c).unwrap();
    run(cmd(
        1,
        "03-01T10:00:00",
        r#""type":"enroll","member":"M1","store":"S1""#,
    ));
    run(cmd(
        2,
        "03-01T10:00:00",
        r#""type":"enroll","member":"M2","store":"S1""#,
    ));
    let before = run(cmd(
        3,
        "03-02T10:00:00",
        r#""type":"recharge","member":"M1","store":"S1","amount":"1000.00""#,
    ));
    assert!(before.events.iter().all(|e| e.event.policy == 1));

    // Version 2 takes effect on April 1st.
    let published = run(publish(4, "04-01T00:00:00", DOUBLE));
    let e = &published.events[0].event;
    assert!(e.member.is_policy());
    assert!(matches!(
        e.body,
        EventBody::PolicyPublished(PolicyPublished { version: 2, .. })
    ));
    assert_eq!(e.policy, 2);

    let after = run(cmd(
        5,
        "04-02T10:00:00",
        r#""type":"recharge","member":"M1","store":"S1","amount":"1000.00""#,
    ));
    assert!(after.events.iter().all(|e| e.event.policy == 2));
    let granted: Vec<Money> = after
        .events
        .iter()
        .filter_map(|r| match &r.event.body {
            EventBody::BonusGranted(BonusGranted { amount, .. }) => Some(*amount),
            _ => None,
        })
        .collect();
    assert_eq!(granted, vec!["300.00".parse().unwrap()]);
    // The earlier recharge keeps its 150.00: 150 + 300.
    assert_eq!(bonus_of(&ledger, "M1"), "450.00".parse().unwrap());

    // A till that was offline sends a recharge dated before April: the old rule applies.
    let late = run(cmd(
        6,
        "03-20T10:00:00",
        r#""type":"recharge","member":"M2","store":"S2","amount":"1000.00""#,
    ));
    assert!(late.events.iter().all(|e| e.event.policy == 1));
    assert_eq!(bonus_of(&ledger, "M2"), "150.00".parse().unwrap());

    assert_eq!(ledger.policy_at(t("2026-03-31T23:59:59Z")).version, 1);
    assert_eq!(ledger.policy_at(t("2026-04-01T00:00:00Z")).version, 2);
    assert_eq!(ledger.policy().tiers[0].points_per_yuan.to_string(), "2");
    assert!(ledger.verify().unwrap().ok());
    drop(ledger);

    // Replay from disk gives the same members and history, and re-evaluates nothing: the
    // founding policy alone would give M1 only 300.00.
    let reopened = Ledger::open_existing(&path).unwrap();
    assert_eq!(bonus_of(&reopened, "M1"), "450.00".parse().unwrap());
    assert_eq!(bonus_of(&reopened, "M2"), "150.00".parse().unwrap());
    let history = reopened.policy_history();
    assert_eq!(history.versions().len(), 2);
    assert_eq!(
        history.versions()[1].effective_at,
        Some(t("2026-04-01T00:00:00Z"))
    );
    assert_eq!(
        *history.versions()[1].policy,
        Policy::from_json(DOUBLE).unwrap()
    );
    assert!(reopened.verify().unwrap().ok());
}

#[test]
fn a_policy_cannot_take_effect_in_the_past_or_change_the_currency() {
    let ledger = Ledger::in_memory_with(Policy::from_json(FOUNDING).unwrap());
    ledger
        .execute(&cmd(
            1,
            "03-01T10:00:00",
            r#""type":"enroll","member":"M1","store":"S1""#,
        ))
        .unwrap();
    let code = |c: Command| match ledger.execute(&c) {
        Err(Error::Rejected(r)) => r.code(),
        other => panic!("expected a rejection, got {other:?}"),
    };
    // At or before an event already recorded.
    assert_eq!(code(publish(2, "03-01T10:00:00", DOUBLE)), "out_of_order");
    assert_eq!(code(publish(3, "02-01T00:00:00", DOUBLE)), "out_of_order");
    let yen = DOUBLE.replacen('{', r#"{"currency":"JPY","#, 1);
    assert_eq!(code(publish(4, "05-01T00:00:00", &yen)), "invalid_policy");
    // Validated like a policy file, on the wire.
    let bad = r#"{"id":"00000000-0000-4000-8000-000000000005","at":"2026-05-01T00:00:00Z","type":"publish_policy","store":"HQ","policy":{"tiers":[]}}"#;
    assert_eq!(
        Command::from_json(bad).unwrap_err().code(),
        "invalid_policy"
    );
    assert_eq!(ledger.policy_history().versions().len(), 1);

    // Published once; the same command again is a replay; a second version must come later.
    let first = ledger
        .execute(&publish(6, "05-01T00:00:00", DOUBLE))
        .unwrap();
    let again = ledger
        .execute(&publish(6, "05-01T00:00:00", DOUBLE))
        .unwrap();
    assert!(again.replayed && again.events == first.events);
    assert_eq!(code(publish(7, "05-01T00:00:00", FOUNDING)), "out_of_order");
    ledger
        .execute(&publish(8, "06-01T00:00:00", FOUNDING))
        .unwrap();
    assert_eq!(ledger.policy_history().versions().len(), 3);
    assert!(ledger.verify().unwrap().ok());
}

#[test]
fn an_event_naming_a_policy_not_in_force_is_corrupt() {
    // Written straight into a store, as a forger would: a recharge that claims version 2 when
    // only the founding policy exists.
    let ledger = Ledger::in_memory_with(Policy::from_json(FOUNDING).unwrap());
    let enroll = cmd(
        1,
        "03-01T10:00:00",
        r#""type":"enroll","member":"M1","store":"S1""#,
    );
    let mut events = memberledger::domain::decide(
        &memberledger::domain::Context::founding(ledger.founding_policy()).with_member(None),
        &enroll,
    )
    .map(memberledger::domain::Decision::into_events)
    .unwrap();
    events[0].policy = 2;
    let store = MemoryStore::new();
    store
        .set_meta(
            "policy",
            Policy::from_json(FOUNDING).unwrap().to_json().as_bytes(),
        )
        .unwrap();
    store
        .append(vec![memberledger_store::Append {
            command: enroll.id,
            digest: enroll.digest(),
            member: enroll.member.clone(),
            expected_version: 0,
            events,
        }])
        .unwrap()
        .pop()
        .unwrap()
        .unwrap();
    match Ledger::with_store(Box::new(store), None) {
        Err(Error::Corrupt { position: 1, why }) => assert!(why.contains("policy"), "{why}"),
        other => panic!("expected corrupt at 1, got {other:?}"),
    }
}

#[test]
fn a_policy_back_dated_before_a_recorded_event_is_corrupt() {
    // A forger records a publication dated before an event already in the log, as if the
    // event had been decided under it.
    let founding = Policy::from_json(FOUNDING).unwrap();
    let enroll = cmd(
        1,
        "03-01T10:00:00",
        r#""type":"enroll","member":"M1","store":"S1""#,
    );
    let enrolled = memberledger::domain::decide(
        &memberledger::domain::Context::founding(&founding).with_member(None),
        &enroll,
    )
    .map(memberledger::domain::Decision::into_events)
    .unwrap();
    let back = publish(2, "02-01T00:00:00", DOUBLE);
    let history = memberledger::domain::PolicyHistory::new(founding.clone());
    let published =
        memberledger::domain::decide(&memberledger::domain::Context::new(&history), &back)
            .unwrap()
            .events;
    let store = MemoryStore::new();
    store
        .set_meta("policy", founding.to_json().as_bytes())
        .unwrap();
    for (c, events) in [(&enroll, enrolled), (&back, published)] {
        store
            .append(vec![memberledger_store::Append {
                command: c.id,
                digest: c.digest(),
                member: c.member.clone(),
                expected_version: 0,
                events,
            }])
            .unwrap()
            .pop()
            .unwrap()
            .unwrap();
    }
    match Ledger::with_store(Box::new(store), None) {
        Err(Error::Corrupt { position: 2, why }) => assert!(why.contains("policy"), "{why}"),
        other => panic!("expected corrupt at 2, got {other:?}"),
    }
}

//! Two ledgers on one store, as two processes on one PostgreSQL ledger are: each sees what
//! the other appended, decides against it, and the chain stays one valid chain.

use std::sync::Arc;

use memberledger::domain::MemberId;
use memberledger::store::MemoryStore;
use memberledger::{Command, Ledger, Uuid};
use memberledger_testkit::SharedStore;

fn two_ledgers() -> (Ledger, Ledger) {
    let store = Arc::new(MemoryStore::new());
    let a =
        Ledger::with_shared_store(Box::new(SharedStore::new(Arc::clone(&store))), None).unwrap();
    let b = Ledger::with_shared_store(Box::new(SharedStore::new(store)), None).unwrap();
    assert!(a.is_shared() && b.is_shared());
    (a, b)
}

fn cmd(n: u128, json: &str) -> Command {
    Command::from_json(&format!(
        r#"{{"id":"{}","at":"2026-03-01T10:00:00Z","member":"M1","store":"S1",{json}}}"#,
        Uuid::from_u128(n)
    ))
    .unwrap()
}

#[test]
fn a_member_read_shows_what_another_writer_appended() {
    let (a, b) = two_ledgers();
    a.execute(&cmd(1, r#""type":"enroll""#)).unwrap();
    a.execute(&cmd(2, r#""type":"recharge","amount":"100.00""#))
        .unwrap();
    let m1 = MemberId::new("M1").unwrap();
    assert_eq!(b.member(&m1), a.member(&m1));
    assert_eq!(b.member_ids(), vec![m1]);
}

#[test]
fn a_writer_decides_against_what_another_appended_and_the_chain_stays_one() {
    let (a, b) = two_ledgers();
    a.execute(&cmd(1, r#""type":"enroll""#)).unwrap();
    // b never read M1: its batch catches up first, so M1 is known and at its real version.
    let r = b
        .execute(&cmd(2, r#""type":"recharge","amount":"100.00""#))
        .unwrap();
    assert!(!r.replayed);
    let r = a
        .execute(&cmd(3, r#""type":"recharge","amount":"50.00""#))
        .unwrap();
    assert!(!r.replayed);
    // The same command through the other ledger is a replay, not a second record.
    assert!(
        b.execute(&cmd(3, r#""type":"recharge","amount":"50.00""#))
            .unwrap()
            .replayed
    );
    let m1 = MemberId::new("M1").unwrap();
    assert_eq!(a.member(&m1).unwrap().principal.to_string(), "150.00");
    assert_eq!(a.member(&m1), b.member(&m1));
    let (ra, rb) = (a.verify().unwrap(), b.verify().unwrap());
    assert!(ra.ok() && rb.ok(), "{ra:?} {rb:?}");
    assert_eq!(ra.head, rb.head);
}

#[test]
fn a_ledger_alone_on_its_store_is_not_shared() {
    assert!(!Ledger::in_memory().is_shared());
    Ledger::in_memory().refresh().unwrap();
}

#[test]
fn a_refusal_decided_on_a_stale_member_is_decided_again_after_catching_up() {
    let store = Arc::new(MemoryStore::new());
    let shared = SharedStore::new(Arc::clone(&store));
    let a = Arc::new(Ledger::with_shared_store(Box::new(shared), None).unwrap());
    let (racing, hook) = SharedStore::racing(store);
    let b = Ledger::with_shared_store(Box::new(racing), None).unwrap();
    a.execute(&cmd(1, r#""type":"enroll""#)).unwrap();
    // b catches up before its batch and sees M1 without a balance; right then, a recharges.
    let a2 = Arc::clone(&a);
    *hook.lock().unwrap() = Some(Box::new(move || {
        a2.execute(&cmd(2, r#""type":"recharge","amount":"100.00""#))
            .unwrap();
    }));
    let consumed = b.execute(&cmd(3, r#""type":"consume","amount":"60.00""#));
    assert!(hook.lock().unwrap().is_none(), "the recharge ran mid-batch");
    let receipt = consumed.expect("decided again against the recharge, not refused");
    assert!(!receipt.replayed);
    let m1 = MemberId::new("M1").unwrap();
    assert_eq!(b.member(&m1).unwrap().principal.to_string(), "40.00");
    assert_eq!(a.member(&m1), b.member(&m1));
    assert!(b.verify().unwrap().ok());
}

#[test]
fn a_refusal_that_holds_against_the_store_is_answered() {
    let (a, b) = two_ledgers();
    a.execute(&cmd(1, r#""type":"enroll""#)).unwrap();
    a.execute(&cmd(2, r#""type":"recharge","amount":"10.00""#))
        .unwrap();
    let refused = b
        .execute(&cmd(3, r#""type":"consume","amount":"60.00""#))
        .unwrap_err();
    assert_eq!(refused.code(), "insufficient_balance");
}

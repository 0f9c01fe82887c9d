//! Two ledgers on one store, as two processes on one PostgreSQL ledger are: each sees what
//! the other appended, decides against it, and the chain stays one valid chain.

use std::sync::Arc;

use memberledger::domain::{MemberId, RecordedEvent};
use memberledger::store::{
    Append, AppendConflict, CommandRecord, EventStore, Head, MemoryStore, RawEvent, StoreError,
};
use memberledger::{Command, Ledger, Uuid};

/// One memory store behind two ledgers.
struct Shared(Arc<MemoryStore>);

impl EventStore for Shared {
    fn append(
        &self,
        batch: Vec<Append>,
    ) -> Result<Vec<Result<Vec<RecordedEvent>, AppendConflict>>, StoreError> {
        self.0.append(batch)
    }
    fn command(&self, id: Uuid) -> Result<Option<CommandRecord>, StoreError> {
        self.0.command(id)
    }
    fn head(&self) -> Result<Head, StoreError> {
        self.0.head()
    }
    fn read_raw(&self, from: u64, limit: usize) -> Result<Vec<RawEvent>, StoreError> {
        self.0.read_raw(from, limit)
    }
    fn member_positions(&self, member: &MemberId) -> Result<Vec<u64>, StoreError> {
        self.0.member_positions(member)
    }
    fn member_version(&self, member: &MemberId) -> Result<u64, StoreError> {
        self.0.member_version(member)
    }
    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.meta(key)
    }
    fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.0.set_meta(key, value)
    }
}

fn two_ledgers() -> (Ledger, Ledger) {
    let store = Arc::new(MemoryStore::new());
    let a = Ledger::with_shared_store(Box::new(Shared(Arc::clone(&store))), None).unwrap();
    let b = Ledger::with_shared_store(Box::new(Shared(store)), None).unwrap();
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

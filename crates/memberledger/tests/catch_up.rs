//! Recovery after a storage error catches up from the last position the ledger knows: it
//! reads only the events that follow it, not the whole log again.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use memberledger::domain::{MemberId as Id, RecordedEvent};
use memberledger::store::{
    Append, AppendConflict, CommandRecord, EventStore, Head, MemoryStore, RawEvent, StoreError,
};
use memberledger::{Command, Ledger, MemberId, Uuid};

/// A memory store that counts the events read from its log, and can lose the acknowledgement
/// of its next append (the write lands, the caller is told it failed).
struct Counting {
    inner: MemoryStore,
    read: Arc<AtomicUsize>,
    lose_next_ack: Arc<AtomicBool>,
}

type AppendResult = Result<Vec<Result<Vec<RecordedEvent>, AppendConflict>>, StoreError>;

impl EventStore for Counting {
    fn append(&self, batch: Vec<Append>) -> AppendResult {
        let written = self.inner.append(batch)?;
        if self.lose_next_ack.swap(false, Ordering::SeqCst) {
            return Err(StoreError::storage("the acknowledgement was lost"));
        }
        Ok(written)
    }
    fn command(&self, id: Uuid) -> Result<Option<CommandRecord>, StoreError> {
        self.inner.command(id)
    }
    fn head(&self) -> Result<Head, StoreError> {
        self.inner.head()
    }
    fn read_raw(&self, from: u64, limit: usize) -> Result<Vec<RawEvent>, StoreError> {
        let page = self.inner.read_raw(from, limit)?;
        self.read.fetch_add(page.len(), Ordering::SeqCst);
        Ok(page)
    }
    fn member_positions(&self, member: &Id) -> Result<Vec<u64>, StoreError> {
        self.inner.member_positions(member)
    }
    fn member_version(&self, member: &Id) -> Result<u64, StoreError> {
        self.inner.member_version(member)
    }
    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.meta(key)
    }
    fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner.set_meta(key, value)
    }
}

fn cmd(n: u128, minute: u32, rest: &str) -> Command {
    Command::from_json(&format!(
        r#"{{"id":"{}","at":"2026-03-01T10:{minute:02}:00Z","member":"M{}","store":"S1",{rest}}}"#,
        Uuid::from_u128(0x8b0e_4f2a_0000_4000_8000_0000_0000_0000 | n),
        n % 10
    ))
    .unwrap()
}

#[test]
fn a_lost_acknowledgement_catches_up_reading_only_the_new_tail() {
    let read = Arc::new(AtomicUsize::new(0));
    let lose_next_ack = Arc::new(AtomicBool::new(false));
    let store = Counting {
        inner: MemoryStore::new(),
        read: Arc::clone(&read),
        lose_next_ack: Arc::clone(&lose_next_ack),
    };
    let ledger = Ledger::with_store(Box::new(store), None).unwrap();
    for n in 0..10 {
        ledger.execute(&cmd(n, 0, r#""type":"enroll""#)).unwrap();
    }
    for n in 10..60 {
        let recharge = cmd(n, 1, r#""type":"recharge","amount":"100.00""#);
        ledger.execute(&recharge).unwrap();
    }
    let before = ledger.head().unwrap().position;
    read.store(0, Ordering::SeqCst);

    lose_next_ack.store(true, Ordering::SeqCst);
    let recharge = cmd(60, 2, r#""type":"recharge","amount":"100.00""#);
    let e = ledger.execute(&recharge).unwrap_err();
    assert_eq!(e.code(), "storage");
    assert!(e.is_retryable());

    let tail = ledger.head().unwrap().position - before;
    assert!(tail > 0, "the write landed");
    assert_eq!(
        read.load(Ordering::SeqCst),
        usize::try_from(tail).unwrap(),
        "only the {tail} events after position {before} were read, not the {before} before"
    );
    // The projections hold the write that landed: the retry is its original receipt, and the
    // ledger verifies (its cache equals a replay from genesis).
    let m0 = ledger.member(&MemberId::new("M0").unwrap()).unwrap();
    let again = ledger.execute(&recharge).unwrap();
    assert!(again.replayed);
    assert_eq!(ledger.member(&MemberId::new("M0").unwrap()).unwrap(), m0);
    assert!(ledger.verify().unwrap().ok());
}

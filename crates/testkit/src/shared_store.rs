//! [`SharedStore`]: one store behind several ledgers, as processes share one PostgreSQL
//! ledger, able to run a hook once at the moment a ledger has caught up (another writer
//! committing right then).

use std::sync::{Arc, Mutex};

use memberledger::domain::{MemberId, RecordedEvent};
use memberledger::store::{
    Append, AppendConflict, CommandRecord, EventStore, Head, RawEvent, StoreError,
};
use memberledger::Uuid;

/// Something to run once, the next time the log is read to its end.
pub type Hook = Box<dyn FnOnce() + Send>;

/// A handle on a store several ledgers share (give each ledger its own handle, through
/// `Ledger::with_shared_store`). Every call goes to the store; after a read that reaches the
/// end of the log, a hook set with [`SharedStore::racing`] runs once: what another process
/// committing right after this one caught up looks like.
pub struct SharedStore<S> {
    inner: Arc<S>,
    hook: Arc<Mutex<Option<Hook>>>,
}

impl<S: EventStore> SharedStore<S> {
    /// A handle that only forwards.
    pub fn new(inner: Arc<S>) -> SharedStore<S> {
        SharedStore {
            inner,
            hook: Arc::new(Mutex::new(None)),
        }
    }

    /// A handle and the slot of its hook: put a hook there, and it runs once after the next
    /// read that reaches the end of the log (the slot is empty again once it has run).
    pub fn racing(inner: Arc<S>) -> (SharedStore<S>, Arc<Mutex<Option<Hook>>>) {
        let store = SharedStore::new(inner);
        let slot = Arc::clone(&store.hook);
        (store, slot)
    }
}

impl<S: EventStore> EventStore for SharedStore<S> {
    fn append(
        &self,
        batch: Vec<Append>,
    ) -> Result<Vec<Result<Vec<RecordedEvent>, AppendConflict>>, StoreError> {
        self.inner.append(batch)
    }
    fn command(&self, id: Uuid) -> Result<Option<CommandRecord>, StoreError> {
        self.inner.command(id)
    }
    fn head(&self) -> Result<Head, StoreError> {
        self.inner.head()
    }
    fn read_raw(&self, from: u64, limit: usize) -> Result<Vec<RawEvent>, StoreError> {
        let page = self.inner.read_raw(from, limit)?;
        if page.is_empty() {
            // Taken before it runs, so the lock is not held while another ledger commits.
            let hook = self.hook.lock().expect("the hook's lock").take();
            if let Some(hook) = hook {
                hook();
            }
        }
        Ok(page)
    }
    fn member_positions(&self, member: &MemberId) -> Result<Vec<u64>, StoreError> {
        self.inner.member_positions(member)
    }
    fn member_version(&self, member: &MemberId) -> Result<u64, StoreError> {
        self.inner.member_version(member)
    }
    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.meta(key)
    }
    fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner.set_meta(key, value)
    }
}

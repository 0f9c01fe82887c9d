//! The memory store passes the conformance suite.

use memberledger_store::conformance::Harness;
use memberledger_store::MemoryStore;

struct Memory;

impl Harness for Memory {
    type Store = MemoryStore;
    fn fresh(&self) -> MemoryStore {
        MemoryStore::new()
    }
    fn reopen(&self, store: MemoryStore) -> MemoryStore {
        store
    }
}

memberledger_store::conformance_tests!(Memory);

//! The sled store passes the conformance suite, with a real reopen from disk.

use memberledger_store::conformance::Harness;
use memberledger_store_sled::SledStore;

struct Sled {
    dir: tempfile::TempDir,
}

impl Harness for Sled {
    type Store = SledStore;
    fn fresh(&self) -> SledStore {
        // Each case gets its own directory below the harness's.
        let dir = tempfile::tempdir_in(self.dir.path()).unwrap().keep();
        SledStore::open(dir).unwrap()
    }
    fn reopen(&self, store: SledStore) -> SledStore {
        let path = store.path().to_path_buf();
        drop(store);
        SledStore::open(path).unwrap()
    }
}

fn harness() -> Sled {
    Sled {
        dir: tempfile::tempdir().unwrap(),
    }
}

memberledger_store::conformance_tests!(harness());

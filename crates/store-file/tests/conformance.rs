//! The file store passes the conformance suite, with a real reopen from disk.

use memberledger_store::conformance::Harness;
use memberledger_store_file::FileStore;

struct Files {
    dir: tempfile::TempDir,
}

impl Harness for Files {
    type Store = FileStore;
    fn fresh(&self) -> FileStore {
        // Each case gets its own directory below the harness's.
        let dir = tempfile::tempdir_in(self.dir.path()).unwrap().keep();
        FileStore::open(dir).unwrap()
    }
    fn reopen(&self, store: FileStore) -> FileStore {
        let path = store.path().to_path_buf();
        drop(store);
        FileStore::open(path).unwrap()
    }
}

fn harness() -> Files {
    Files {
        dir: tempfile::tempdir().unwrap(),
    }
}

memberledger_store::conformance_tests!(harness());

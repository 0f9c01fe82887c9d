//! Settings: one file a key in the ledger's `meta` directory, named by the key's bytes in hex,
//! written whole or not at all (temporary file, sync, rename, directory sync).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use memberledger_store::checkpoint_files::write_atomically;
use memberledger_store::StoreError;

use crate::segments::storage;

const DIR: &str = "meta";

fn file(dir: &Path, key: &str) -> (PathBuf, String) {
    let mut name = String::with_capacity(key.len() * 2);
    for b in key.as_bytes() {
        let _ = write!(name, "{b:02x}");
    }
    (dir.join(DIR), name)
}

/// The setting `key`, if set.
pub(crate) fn read(dir: &Path, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let (meta, name) = file(dir, key);
    match std::fs::read(meta.join(name)) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(storage(&format!("cannot read the setting {key}"), e)),
    }
}

/// Sets `key` durably.
pub(crate) fn write(dir: &Path, key: &str, value: &[u8]) -> Result<(), StoreError> {
    let (meta, name) = file(dir, key);
    let fail = |e| storage(&format!("cannot write the setting {key}"), e);
    if !meta.exists() {
        std::fs::create_dir_all(&meta).map_err(fail)?;
        memberledger_store::checkpoint_files::sync_dir(dir).map_err(fail)?;
    }
    write_atomically(&meta, &name, value).map_err(fail)
}

/// Whether any setting is set.
pub(crate) fn any(dir: &Path) -> bool {
    std::fs::read_dir(dir.join(DIR)).is_ok_and(|mut entries| {
        entries.any(|e| e.is_ok_and(|e| !e.file_name().to_string_lossy().ends_with(".tmp")))
    })
}

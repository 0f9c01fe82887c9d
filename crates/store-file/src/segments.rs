//! The files of a ledger's directory: the `FORMAT` file that names the store, and the log's
//! segments (`segment-` and an eight-digit number), listed, created and read.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use memberledger_store::checkpoint_files::{sync_dir, write_atomically};
use memberledger_store::StoreError;

/// What the `FORMAT` file of a file store's directory holds.
pub const FORMAT: &str = "file-log 1\n";

/// The `FORMAT` file's name.
pub(crate) const FORMAT_FILE: &str = "FORMAT";

/// Once the last segment holds this many bytes, the next append starts a new one.
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

const PREFIX: &str = "segment-";

/// A segment's file name.
pub(crate) fn name(number: u32) -> String {
    format!("{PREFIX}{number:08}")
}

pub(crate) fn storage(what: &str, e: std::io::Error) -> StoreError {
    StoreError::storage_caused(what, e)
}

/// Whether `dir` holds a file store: its `FORMAT` file or a segment.
pub(crate) fn holds_store(dir: &Path) -> bool {
    dir.join(FORMAT_FILE).exists() || !numbers(dir).is_empty()
}

/// Whether `dir` holds the files of a sled ledger (its data file `db`, `conf`, a snapshot,
/// `blobs`, the head anchor), which a new file store must not be created over.
pub(crate) fn holds_sled_files(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        matches!(name.as_str(), "db" | "conf" | "blobs" | "memberledger.head")
            || name.starts_with("snap.")
    })
}

/// The segment numbers in `dir`, in order.
pub(crate) fn numbers(dir: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<u32> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let digits = name.strip_prefix(PREFIX)?;
            (digits.len() == 8).then(|| digits.parse().ok())?
        })
        .collect();
    found.sort_unstable();
    found
}

/// The segments of `dir`: numbered from 0 without a gap (`Corrupt` otherwise).
pub(crate) fn listed(dir: &Path) -> Result<Vec<u32>, StoreError> {
    let found = numbers(dir);
    for (expected, &n) in (0u32..).zip(&found) {
        if n != expected {
            return Err(StoreError::Corrupt {
                position: 0,
                why: format!(
                    "segment {} is missing from {} (the log has a hole)",
                    name(expected),
                    dir.display()
                ),
            });
        }
    }
    Ok(found)
}

/// Checks the `FORMAT` file of `dir`: absent (`Ok(false)`) or naming this store (`Ok(true)`).
pub(crate) fn check_format(dir: &Path) -> Result<bool, StoreError> {
    match std::fs::read(dir.join(FORMAT_FILE)) {
        Ok(text) if text == FORMAT.as_bytes() => Ok(true),
        Ok(text) => Err(StoreError::Corrupt {
            position: 0,
            why: format!(
                "{} names an unknown format ({:?}), not {FORMAT:?}",
                dir.join(FORMAT_FILE).display(),
                String::from_utf8_lossy(&text).trim()
            ),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(storage("cannot read the FORMAT file", e)),
    }
}

/// Writes the `FORMAT` file of a new store (atomically, durably).
pub(crate) fn write_format(dir: &Path) -> Result<(), StoreError> {
    write_atomically(dir, FORMAT_FILE, FORMAT.as_bytes())
        .map_err(|e| storage("cannot write the FORMAT file", e))
}

/// Opens segment `number` of `dir` for reading, and for appending when `write`.
pub(crate) fn open(dir: &Path, number: u32, write: bool) -> Result<File, StoreError> {
    let path = dir.join(name(number));
    OpenOptions::new()
        .read(true)
        .write(write)
        .open(&path)
        .map_err(|e| storage(&format!("cannot open {}", path.display()), e))
}

/// Creates segment `number` in `dir` (it must not exist) and makes its entry durable.
pub(crate) fn create(dir: &Path, number: u32) -> Result<File, StoreError> {
    let path: PathBuf = dir.join(name(number));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| storage(&format!("cannot create {}", path.display()), e))?;
    sync_dir(dir).map_err(|e| storage("cannot sync the ledger directory", e))?;
    Ok(file)
}

/// Reads `buf.len()` bytes at `offset` of `file`.
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// Writes `bytes` at `offset` of `file`.
pub(crate) fn write_at(file: &File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
}

//! The boundary between the store and sled: sled's errors and panics become [`StoreError`]s
//! that name the file involved.
//!
//! sled 0.34 panics on some damaged files (for instance a cut data file read without its
//! snapshot) and reports others with Rust debug text (`Some(Inline(6601715)) backtrace ()`).
//! Every call into sled goes through [`guarded`], which catches a panic (without printing the
//! default panic message for it) and turns it, like sled's own `Corruption`, into
//! `Corrupt` naming the file; an I/O failure is `Storage` naming the directory.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Once;

use memberledger_store::{Cause, StoreError};

thread_local! {
    /// Set while this thread is inside sled on the store's behalf: a panic there is reported
    /// as a store error, so the default panic message is not printed.
    static INSIDE_SLED: Cell<bool> = const { Cell::new(false) };
}

/// Installs (once) a panic hook that stays silent for panics caught at the store boundary and
/// defers to the hook before it for every other panic.
fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !INSIDE_SLED.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Restores the flag when the guarded call ends, however it ends.
struct Inside(bool);

impl Drop for Inside {
    fn drop(&mut self) {
        INSIDE_SLED.with(|f| f.set(self.0));
    }
}

/// Runs a call into sled, turning a panic into `Corrupt` naming sled's files in `dir`.
pub(crate) fn guarded<T>(
    dir: &Path,
    f: impl FnOnce() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    install_quiet_hook();
    let _restore = Inside(INSIDE_SLED.with(|flag| flag.replace(true)));
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            let what: String = what.chars().take(80).collect();
            Err(StoreError::Corrupt {
                position: 0,
                why: format!(
                    "sled's data file {} or a blob file under {} is damaged: sled failed reading it ({what}…)",
                    dir.join("db").display(),
                    dir.join("blobs").display()
                ),
            })
        }
    }
}

/// Maps an error of sled's to a store error: damage is `Corrupt` naming the file (sled's
/// data file `db` with the byte offset, a blob file, or its `conf`/snapshot files when sled
/// gives no place), a missing file is `Corrupt` naming what is missing, anything else is
/// `Storage` naming the directory.
pub(crate) fn sled_error(dir: &Path, what: &str, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Corruption { at, .. } => StoreError::Corrupt {
            position: 0,
            why: match at {
                Some(sled::DiskPtr::Inline(offset)) => format!(
                    "sled's data file {} is damaged at byte {offset}",
                    dir.join("db").display()
                ),
                Some(sled::DiskPtr::Blob(offset, blob)) => format!(
                    "sled's blob file {} (named at byte {offset} of {}) is damaged",
                    dir.join("blobs").join(blob.to_string()).display(),
                    dir.join("db").display()
                ),
                None => format!("{} is damaged", unplaced_damage(dir)),
            },
        },
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound => StoreError::Corrupt {
            position: 0,
            why: format!(
                "a file of sled's in {} is missing (a blob file under {}?): {io}",
                dir.display(),
                dir.join("blobs").display()
            ),
        },
        sled::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData
            ) =>
        {
            StoreError::Corrupt {
                position: 0,
                why: format!(
                    "sled's data file {} or a blob file under {} is cut short or damaged ({})",
                    dir.join("db").display(),
                    dir.join("blobs").display(),
                    io_message(&io)
                ),
            }
        }
        sled::Error::Io(io) => StoreError::Storage {
            why: format!(
                "{what} (sled's files in {}): {}",
                dir.display(),
                io_message(&io)
            ),
            source: Some(Cause::new(io)),
        },
        other => StoreError::Storage {
            why: format!("{what} (sled's files in {}): {other}", dir.display()),
            source: Some(Cause::new(other)),
        },
    }
}

/// An I/O error in words (sled sometimes wraps an OS error so that it prints as debug text).
pub(crate) fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::StorageFull => "no space left on the device".into(),
        std::io::ErrorKind::FileTooLarge => "a file grew beyond the size allowed".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::ReadOnlyFilesystem => "the file system is read-only".into(),
        _ => match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<std::io::Error>())
        {
            Some(inner) => inner.to_string(),
            None => e.to_string(),
        },
    }
}

/// The files sled may mean when it reports damage without a place: its data file, its
/// snapshot (`snap.*`) if there is one, else its `conf`.
fn unplaced_damage(dir: &Path) -> String {
    let snapshots: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("snap."))
        .map(|e| e.path().display().to_string())
        .collect();
    let other = if snapshots.is_empty() {
        format!("its configuration file {}", dir.join("conf").display())
    } else {
        format!("its snapshot {}", snapshots.join(", "))
    };
    format!("sled's data file {} or {other}", dir.join("db").display())
}

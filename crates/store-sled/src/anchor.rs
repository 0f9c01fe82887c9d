//! The head anchor: `memberledger.head` beside sled's files, the last acknowledged position and
//! hash, which turns a tail that sled silently dropped into `Corrupt`.
//!
//! The anchor is created atomically (a temporary file, synced, renamed into place, then the
//! directory synced), so it never exists empty; afterwards it is rewritten in place with a
//! line of fixed length (86 bytes at offset 0, never truncated), so it never is empty or
//! shorter either. The store also records in sled that it has an anchor ([`ANCHORED_KEY`],
//! written durably once the first anchor is in place): a ledger that had one and finds it
//! deleted or emptied reports that as `Corrupt`, never as a new ledger.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use memberledger_store::{Head, StoreError};

/// The anchor file, beside sled's files.
pub(crate) const ANCHOR_FILE: &str = "memberledger.head";

/// The sled key (under the settings prefix) recording that this ledger has an anchor.
pub(crate) const ANCHORED_KEY: &[u8] = b"m\0store.anchored";

/// The anchor's line for a head: fixed length, so rewriting it in place never shortens it.
pub(crate) fn anchor_line(head: Head) -> String {
    format!("{:020} {}\n", head.position, hex_hash(&head.hash))
}

pub(crate) fn hex_hash(h: &[u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates the anchor for `head` atomically: temporary file, sync, rename, directory sync.
pub(crate) fn create_anchor(dir: &Path, head: Head) -> Result<(), StoreError> {
    let fail = |e: std::io::Error| {
        StoreError::Storage(format!(
            "cannot write the head anchor {}: {e}",
            dir.join(ANCHOR_FILE).display()
        ))
    };
    let tmp = dir.join(format!("{ANCHOR_FILE}.tmp"));
    let mut f = File::create(&tmp).map_err(fail)?;
    f.write_all(anchor_line(head).as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(fail)?;
    drop(f);
    std::fs::rename(&tmp, dir.join(ANCHOR_FILE)).map_err(fail)?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(fail)
}

/// What the anchor file holds: `None` when there is no file.
pub(crate) fn read_anchor(dir: &Path) -> Result<Option<String>, StoreError> {
    let path = dir.join(ANCHOR_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::Storage(format!(
            "cannot read the head anchor {}: {e}",
            path.display()
        ))),
    }
}

/// The position an anchor's text names, if it is well formed.
pub(crate) fn position(text: Option<&str>) -> Option<u64> {
    text?.split_whitespace().next()?.parse().ok()
}

/// What opening finds of the anchor, and what to do.
pub(crate) enum Found {
    /// A new ledger (empty log, never anchored): create the anchor, then record it.
    New,
    /// An anchor to check the log against: its position and hash (hex).
    Anchored {
        /// The anchored position.
        position: u64,
        /// The anchored hash, in hex.
        hash: String,
    },
}

/// Judges the anchor file's text (`None`: no file) given whether sled records an anchor, the
/// log's head and the ledger files the directory held before sled opened it (`found`). A
/// missing or empty anchor is only new for an empty log never anchored, in a directory that
/// held none of a ledger's files.
pub(crate) fn judge(
    dir: &Path,
    text: Option<&str>,
    anchored: bool,
    head: Head,
    found: &[std::path::PathBuf],
) -> Result<Found, StoreError> {
    let path = dir.join(ANCHOR_FILE);
    let damaged = |why: &str| StoreError::Corrupt {
        position: 0,
        why: format!(
            "the head anchor {} {why}: the ledger cannot tell whether events it acknowledged \
             were lost (restore the file, or the ledger from a backup)",
            path.display()
        ),
    };
    let text = match text {
        None | Some("") if !anchored && head.position == 0 && found.is_empty() => {
            return Ok(Found::New)
        }
        None | Some("") if !anchored && head.position == 0 => {
            return Err(crate::existing::holds_no_ledger(
                dir,
                found,
                "no events and no head anchor",
            ))
        }
        None => return Err(damaged("is missing")),
        Some("") => return Err(damaged("is empty")),
        Some(t) => t,
    };
    let mut parts = text.split_whitespace();
    let (Some(pos), Some(hash), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(damaged("is damaged"));
    };
    let position = pos.parse().map_err(|_| damaged("is damaged"))?;
    if hash.len() != 64 {
        return Err(damaged("is damaged"));
    }
    Ok(Found::Anchored {
        position,
        hash: hash.to_owned(),
    })
}

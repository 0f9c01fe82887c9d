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
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use memberledger_store::{Head, StoreError};

use memberledger_store::EventStore;

use crate::{poisoned, storage, SledStore};

/// The anchor file, beside sled's files.
pub(crate) const ANCHOR_FILE: &str = "memberledger.head";

/// The sled key (under the settings prefix) recording that this ledger has an anchor.
pub(crate) const ANCHORED_KEY: &[u8] = b"m\0store.anchored";

/// Digits of the position in the anchor's line: enough for any `u64`.
const POSITION_DIGITS: usize = 20;
const _: () = assert!(u64::MAX.ilog10() + 1 == 20);

/// The length of every anchor line: the position, a space, the hash in hex, a newline.
pub(crate) const ANCHOR_LINE_LEN: usize = POSITION_DIGITS + 1 + 64 + 1;
const _: () = assert!(ANCHOR_LINE_LEN == 86);

/// The anchor's line for a head: fixed length ([`ANCHOR_LINE_LEN`]), so rewriting it in place
/// never shortens it.
pub(crate) fn anchor_line(head: Head) -> String {
    format!("{:020} {}\n", head.position, hex_hash(&head.hash))
}

pub(crate) fn hex_hash(h: &[u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates the anchor for `head` atomically: temporary file, sync, rename, directory sync.
pub(crate) fn create_anchor(dir: &Path, head: Head) -> Result<(), StoreError> {
    let fail = |e: std::io::Error| {
        StoreError::storage(format!(
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
        Err(e) => Err(StoreError::storage(format!(
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

/// How often the background thread makes a changed head anchor durable.
const ANCHOR_SYNC_EVERY: Duration = Duration::from_millis(200);

/// The thread that `fdatasync`s the head anchor after appends changed it.
///
/// The anchor is written (to the page cache) after every append, once sled's data is already
/// durable, so it never runs ahead of the durable log: a process that is killed leaves it
/// exact, and a machine that loses power leaves it at the last background sync, at most
/// [`ANCHOR_SYNC_EVERY`] behind, still a lower bound the log must reach.
pub(crate) struct AnchorSyncer {
    dirty: Arc<AtomicBool>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AnchorSyncer {
    pub(crate) fn start(file: File, failed: Arc<AtomicBool>) -> std::io::Result<AnchorSyncer> {
        let dirty = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let flag = Arc::clone(&dirty);
        let thread = std::thread::Builder::new()
            .name("memberledger-anchor".into())
            .spawn(move || loop {
                let last = !matches!(
                    stopped.recv_timeout(ANCHOR_SYNC_EVERY),
                    Err(mpsc::RecvTimeoutError::Timeout)
                );
                if flag.swap(false, Ordering::SeqCst) && file.sync_data().is_err() {
                    // A disk that cannot sync the anchor cannot be trusted with appends.
                    failed.store(true, Ordering::SeqCst);
                }
                if last {
                    return;
                }
            })?;
        Ok(AnchorSyncer {
            dirty,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for AnchorSyncer {
    /// Syncs a last time and stops the thread.
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The head anchor, kept by the store: settled on open, rewritten after each append.
impl SledStore {
    /// Checks the log against the head anchor (creating it for a new ledger, and recording in
    /// sled that the ledger has one), then opens it for the in-place rewrites of appends.
    pub(crate) fn settle_anchor(
        &mut self,
        text: Option<&str>,
        head: Head,
    ) -> Result<(), StoreError> {
        let anchored = self.raw_get(ANCHORED_KEY)?.is_some();
        match judge(&self.path, text, anchored, head, &self.found)? {
            Found::New => create_anchor(&self.path, head)?,
            Found::Anchored { position, hash } => {
                self.check_anchor(position, &hash, head)?;
            }
        }
        if !anchored {
            // Only once the anchor file is in place, so a crash between the two leaves an
            // anchor without the record of it (fine), never the record without the anchor.
            self.write_durably(move |db| db.insert(ANCHORED_KEY, &b"1"[..]).map(|_| ()))?;
        }
        let anchor_path = self.path.join(ANCHOR_FILE);
        let anchor = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&anchor_path)
            .map_err(|e| {
                storage(
                    &format!("cannot open the head anchor {}", anchor_path.display()),
                    e,
                )
            })?;
        let syncer = anchor
            .try_clone()
            .and_then(|f| AnchorSyncer::start(f, Arc::clone(&self.failed)))
            .map_err(|e| storage("cannot start the head anchor's syncer", e))?;
        *self.anchor.lock().map_err(|_| poisoned())? = Some(anchor);
        self.syncer = Some(syncer);
        Ok(())
    }

    /// Records the acknowledged head outside sled. sled recovers a damaged log by silently
    /// dropping everything after the damage; comparing its head with this anchor on open turns
    /// that loss into a `Corrupt` error instead of a shorter, valid-looking log. The write goes
    /// to the page cache, in place (a line of fixed length, so the file is never empty or
    /// short); the [`AnchorSyncer`] makes it durable shortly after.
    pub(crate) fn write_anchor(&self, head: Head) -> Result<(), StoreError> {
        let mut f = self.anchor.lock().map_err(|_| poisoned())?;
        let f = f
            .as_mut()
            .ok_or_else(|| StoreError::storage("the head anchor is not open"))?;
        f.seek(SeekFrom::Start(0))
            .and_then(|_| f.write_all(anchor_line(head).as_bytes()))
            .map_err(|e| storage("cannot write the head anchor", e))?;
        if let Some(s) = &self.syncer {
            s.dirty.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    /// Checks the log reaches the anchored head, with the anchored hash there. The log may be
    /// ahead of the anchor (a crash between sled's sync and the anchor's), never behind it.
    pub(crate) fn check_anchor(
        &self,
        anchored: u64,
        hash: &str,
        head: Head,
    ) -> Result<(), StoreError> {
        if anchored > head.position {
            return Err(StoreError::Corrupt {
                position: head.position + 1,
                why: format!(
                    "the log ends at {} but events up to {anchored} were acknowledged: the store lost them",
                    head.position
                ),
            });
        }
        if anchored > 0 {
            let at = self.read_raw(anchored, 1)?;
            if at.first().map(|r| hex_hash(&r.hash)).as_deref() != Some(hash) {
                return Err(StoreError::Corrupt {
                    position: anchored,
                    why: "the event differs from the one acknowledged there".into(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_anchor_line_has_the_same_length() {
        for position in [0, 1, 12_345, u64::MAX] {
            let line = anchor_line(Head {
                position,
                hash: [0xab; 32],
            });
            assert_eq!(line.len(), ANCHOR_LINE_LEN, "{line}");
        }
    }
}

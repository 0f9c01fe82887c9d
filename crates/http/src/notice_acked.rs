//! The durable record of notices a receiver acknowledged: one line `<id> <expires_at>` per
//! notice, so a restarted dispatcher never sends them again.
//!
//! Each acknowledged page is appended and synced before the next is sent (no rewrite of the
//! whole record per page, which would cost a million lines per page on a big chain). The record
//! is rewritten durably ([`write_durably`]: a synced temporary file renamed over it) when it
//! sheds notices whose expiry has passed (they can never be derived again), when appends left
//! it at more than twice its live size, and after a failed append; so it stays bounded by the
//! notices due within the policy's days. A crash during an append leaves at most an unfinished
//! last line: it is dropped on reading (those notices were not acknowledged durably and are
//! sent again: at least once), and the record rewritten before anything is appended to it.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use memberledger::notices::Notice;
use memberledger::{Timestamp, Uuid};

use crate::webhook::write_durably;

/// How many lines beyond twice the live ids the record may hold before it is rewritten.
const SLACK_LINES: usize = 1_024;

/// The acknowledged notices: each id with its expiry, as in the file.
#[derive(Debug)]
pub(crate) struct Acked {
    path: PathBuf,
    ids: HashMap<Uuid, Timestamp>,
    /// Lines in the file (duplicates included).
    lines: usize,
    /// The file may end in a torn line: rewrite it before appending.
    dirty: bool,
}

/// The acknowledged notices in the record at `path`, in file order (none when there is no
/// file yet). An unfinished last line (a crash during an append) is left out; a finished line
/// that does not hold `<id> <expires_at>` is an error: a record is never silently reset.
pub fn read_acked(path: &Path) -> Result<Vec<(Uuid, Timestamp)>, String> {
    Ok(parse(path)?.0)
}

/// The record's entries, and whether it ended in an unfinished line.
fn parse(path: &Path) -> Result<(Vec<(Uuid, Timestamp)>, bool), String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), false)),
        Err(e) => {
            return Err(format!(
                "cannot read the notice record {}: {e}",
                path.display()
            ))
        }
    };
    let (whole, torn) = match text.rfind('\n') {
        Some(end) => (&text[..=end], !text[end + 1..].is_empty()),
        None => ("", !text.is_empty()),
    };
    let entries = whole
        .lines()
        .enumerate()
        .map(|(i, line)| {
            entry(line).ok_or_else(|| {
                format!(
                    "the notice record {} line {} does not hold `<id> <expires_at>`: {line:?}",
                    path.display(),
                    i + 1
                )
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok((entries, torn))
}

fn entry(line: &str) -> Option<(Uuid, Timestamp)> {
    let (id, at) = line.split_once(' ')?;
    Some((id.parse().ok()?, at.parse().ok()?))
}

impl Acked {
    /// Reads the record at `path`; one that ended in an unfinished line is rewritten first.
    pub(crate) fn load(path: PathBuf) -> Result<Acked, String> {
        let (entries, torn) = parse(&path)?;
        let lines = entries.len();
        let mut acked = Acked {
            path,
            ids: entries.into_iter().collect(),
            lines,
            dirty: torn,
        };
        if torn {
            tracing::warn!(target: "memberledger_http::notice_hook", "the notice record {} ends in an unfinished line (a crash while appending): those notices are sent again", acked.path.display());
            acked.rewrite().map_err(|e| {
                format!(
                    "cannot rewrite the notice record {}: {e}",
                    acked.path.display()
                )
            })?;
        }
        Ok(acked)
    }

    /// Whether the notice `id` was acknowledged.
    pub(crate) fn contains(&self, id: &Uuid) -> bool {
        self.ids.contains_key(id)
    }

    /// Forgets the notices whose expiry is at or before `as_of` (never derived again), and
    /// rewrites the record when that or earlier appends call for it.
    pub(crate) fn prune(&mut self, as_of: Timestamp) -> std::io::Result<()> {
        let before = self.ids.len();
        self.ids.retain(|_, expires_at| *expires_at > as_of);
        let grown = self.lines > 2 * self.ids.len() + SLACK_LINES;
        if self.dirty || grown || self.ids.len() < before {
            self.rewrite()?;
        }
        Ok(())
    }

    /// Records `notices` as acknowledged: appended and synced. On an error none of them counts
    /// as acknowledged (they are sent again) and the record is rewritten before the next append.
    pub(crate) fn record(&mut self, notices: &[Notice]) -> std::io::Result<()> {
        let mut text = String::with_capacity(notices.len() * 64);
        for n in notices {
            text.push_str(&format!("{} {}\n", n.id, n.expires_at));
        }
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| {
                f.write_all(text.as_bytes())?;
                f.sync_data()
            });
        if let Err(e) = appended {
            self.dirty = true;
            return Err(e);
        }
        self.lines += notices.len();
        self.ids
            .extend(notices.iter().map(|n| (n.id, n.expires_at)));
        Ok(())
    }

    /// Writes the live ids as the whole record, durably.
    fn rewrite(&mut self) -> std::io::Result<()> {
        let mut entries: Vec<(&Uuid, &Timestamp)> = self.ids.iter().collect();
        entries.sort_by_key(|(id, at)| (**at, **id));
        let mut text = String::with_capacity(entries.len() * 64);
        for (id, at) in entries {
            text.push_str(&format!("{id} {at}\n"));
        }
        write_durably(&self.path, text.as_bytes())?;
        self.lines = self.ids.len();
        self.dirty = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn an_unfinished_last_line_is_dropped_and_a_malformed_line_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("acked");
        let id = Uuid::from_u128(7);
        std::fs::write(&path, format!("{id} 2026-03-31T10:00:00Z\n{id} 2026-0")).unwrap();
        assert_eq!(
            read_acked(&path).unwrap(),
            [(id, t("2026-03-31T10:00:00Z"))]
        );
        let acked = Acked::load(path.clone()).unwrap();
        assert!(acked.contains(&id));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{id} 2026-03-31T10:00:00Z\n"),
            "the torn line is gone before anything is appended"
        );
        std::fs::write(&path, "not an id\n").unwrap();
        let e = Acked::load(path).unwrap_err();
        assert!(e.contains("line 1 does not hold"), "{e}");
    }

    #[test]
    fn prune_forgets_notices_whose_expiry_has_passed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("acked");
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        std::fs::write(
            &path,
            format!("{a} 2026-03-31T10:00:00Z\n{b} 2026-04-30T10:00:00Z\n"),
        )
        .unwrap();
        let mut acked = Acked::load(path.clone()).unwrap();
        acked.prune(t("2026-03-31T10:00:00Z")).unwrap();
        assert!(!acked.contains(&a) && acked.contains(&b));
        assert_eq!(read_acked(&path).unwrap(), [(b, t("2026-04-30T10:00:00Z"))]);
    }
}

//! The way back: a ledger rebuilt from its `jsonl` export.
//!
//! An export line is an event's canonical JSON with its chain `hash` added (docs/AUDIT.md).
//! Restoring reads the lines in order and refuses the export at the first line that is not
//! exactly what an export writes: a line that is not the canonical export of the event it
//! holds, a position out of sequence (a dropped, inserted or moved line), a hash that does not
//! follow the chain, or a command whose events are not whole. The events are then appended
//! through the store, grouped by command as they were recorded, and each hash the store seals
//! must equal the exported one. The ledger is assembled with every check of
//! [`verify`](Ledger::verify) (ids, balanced journal entries, the replay folds), so a restored
//! ledger ends with the export's head, member views and reports.
//!
//! **Command digests.** The export does not carry the digest of each command's content, which
//! a ledger uses to tell a retry from an id reused for other content. A restored ledger records
//! every restored command with a digest no command has, so a command sent again with an id
//! recorded before the restore is refused with `idempotency_conflict` (its content cannot be
//! compared) and is never recorded twice.
//!
//! **The founding policy.** When the export's first event is the publication of policy
//! version 1, that is the founding policy; otherwise the caller names it (the built-in policy
//! when `None`).

use memberledger_core::events::PolicyPublished;
use std::io::{BufRead, Read};
#[cfg(feature = "sled")]
use std::path::Path;

use memberledger_core::{
    canonical_json, chain_hash, decode_event, Event, EventBody, Hash, Policy, RecordedEvent,
    Rejection, GENESIS_HASH,
};
use memberledger_store::{Append, EventStore};

use crate::{Error, Ledger, VerifyReport};

/// The digest recorded for every restored command (see the module documentation): it is no
/// command's SHA-256, so a retry of a restored command id is an `idempotency_conflict`.
pub(crate) const RESTORED_DIGEST: [u8; 32] = [0; 32];

/// The longest export line read (an event is far smaller; a longer line is refused unread).
const LINE_MAX: u64 = 1 << 20;

/// Events appended through the store at a time.
const APPEND_EVENTS: usize = 4096;

/// The most events one command records (the stores' bound on one append).
const COMMAND_EVENTS_MAX: usize = 10_000;

impl Ledger {
    /// Rebuilds a sled ledger at `path` from a `jsonl` export (in another store:
    /// [`restore_with`](Ledger::restore_with)).
    ///
    /// Every line must be exactly the canonical export of the event it holds, at the next
    /// position, with the hash that follows the chain; the events are appended through the
    /// store command by command, and each hash the store seals must equal the exported one;
    /// the ledger is then assembled with every check of [`verify`](Ledger::verify). It ends
    /// with the export's head, member views and reports. The first failed check is
    /// `Err(Error::Corrupt)` with its position, the message naming the export's line.
    ///
    /// The export does not carry the digest of each command's content: a restored ledger
    /// answers a command sent again with an id recorded before the restore with
    /// `idempotency_conflict` (its content cannot be compared), and never records it twice.
    ///
    /// `path` must not hold a ledger, or anything else: a directory that exists must be
    /// empty (else `Error::Storage`; `already_exists` when it holds a ledger). On any failure nothing is left at `path` (a directory
    /// this call created is removed again; one that was empty is emptied).
    ///
    /// `policy` is the founding policy when the export does not begin with one (the built-in
    /// policy when `None`); when it does, a `policy` given must equal it (`invalid_policy`).
    /// Returns the ledger and the report of its verification.
    ///
    /// ```
    /// use memberledger::{Command, Ledger};
    /// # let dir = tempfile::tempdir()?;
    /// let ledger = Ledger::in_memory();
    /// ledger.execute(&Command::from_json(r#"{"id":"8b0e4f2a-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#)?)?;
    /// let export: Vec<String> = ledger.events(1, 100).map(|e| e.map(|e| e.to_export_json())).collect::<Result<_, _>>()?;
    /// let (restored, report) = Ledger::restore(dir.path().join("copy"), None, (export.join("\n") + "\n").as_bytes())?;
    /// assert!(report.ok());
    /// assert_eq!(restored.member_ids().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "sled")]
    pub fn restore(
        path: impl AsRef<Path>,
        policy: Option<Policy>,
        export: impl BufRead,
    ) -> Result<(Ledger, VerifyReport), Error> {
        Ledger::restore_with(path, policy, export, &crate::LedgerOptions::default())
    }

    /// [`restore`](Ledger::restore) with options: the store the ledger is rebuilt in
    /// ([`LedgerOptions::with_store_kind`](crate::LedgerOptions::with_store_kind)), sled's cache.
    ///
    /// ```
    /// use memberledger::{Command, Ledger, LedgerOptions, StoreKind};
    /// # let dir = tempfile::tempdir()?;
    /// let ledger = Ledger::in_memory();
    /// ledger.execute(&Command::from_json(r#"{"id":"8b0e4f2a-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#)?)?;
    /// let export: Vec<String> = ledger.events(1, 100).map(|e| e.map(|e| e.to_export_json())).collect::<Result<_, _>>()?;
    /// let options = LedgerOptions::default().with_store_kind(StoreKind::File);
    /// let path = dir.path().join("copy");
    /// let (_, report) = Ledger::restore_with(&path, None, (export.join("\n") + "\n").as_bytes(), &options)?;
    /// assert!(report.ok());
    /// assert_eq!(StoreKind::at(&path), StoreKind::File);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "sled")]
    pub fn restore_with(
        path: impl AsRef<Path>,
        policy: Option<Policy>,
        export: impl BufRead,
        options: &crate::LedgerOptions,
    ) -> Result<(Ledger, VerifyReport), Error> {
        let path = path.as_ref();
        let created = match std::fs::read_dir(path) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    if crate::ledger::disk::Disk::exists(path) {
                        return Err(Error::AlreadyExists(format!(
                            "a ledger already exists at {}",
                            path.display()
                        )));
                    }
                    return Err(Error::storage(format!(
                        "restore needs a new or empty directory, not {}",
                        path.display()
                    )));
                }
                false
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(Error::storage(format!("{}: {e}", path.display()))),
        };
        let result =
            crate::ledger::disk::Disk::open(path, options, crate::ledger::disk::Mode::Write)
                .and_then(|disk| Ledger::restore_into(disk.boxed(), policy, export));
        if result.is_err() {
            // The store is closed by now: leave the directory as it was found.
            remove_restored(path, created);
        }
        result
    }

    /// Rebuilds a ledger from a `jsonl` export into an empty store (a
    /// [`MemoryStore`](crate::store::MemoryStore) to verify an export with no database at all), with
    /// every check of [`restore`](Ledger::restore). Returns the ledger and the report of its
    /// verification; a failed check is `Err(Error::Corrupt)` naming the first bad position.
    pub fn restore_into(
        store: Box<dyn EventStore>,
        policy: Option<Policy>,
        export: impl BufRead,
    ) -> Result<(Ledger, VerifyReport), Error> {
        let head = store.head()?;
        if head.position > 0 || store.meta(crate::ledger::POLICY_KEY)?.is_some() {
            return Err(Error::AlreadyExists(
                "restore needs an empty store; this one holds a ledger".into(),
            ));
        }
        let mut lines = ExportLines::new(export);
        let first = lines.next_event()?;
        let founding = match first.as_ref().and_then(founding_policy) {
            Some(carried) => {
                let carried = carried?;
                if policy.as_ref().is_some_and(|p| *p != carried) {
                    return Err(Rejection::InvalidPolicy(
                        "the export carries its founding policy, and it differs from the one given"
                            .into(),
                    )
                    .into());
                }
                carried
            }
            None => policy.unwrap_or_else(Policy::builtin),
        };
        founding.validate()?;
        store.set_meta(crate::ledger::POLICY_KEY, founding.to_json().as_bytes())?;
        let mut batch = Batch::default();
        let mut next = first;
        while let Some(line) = next {
            batch.push(line)?;
            if batch.events >= APPEND_EVENTS {
                batch.append(store.as_ref())?;
            }
            next = lines.next_event()?;
        }
        batch.close()?;
        batch.append(store.as_ref())?;
        // Assembled as for `verify`: nothing is written, so the restored log is the export's
        // (an old export without the founding record gets it on the first writable open).
        let (ledger, report) = Ledger::assemble_verified(store)?;
        if let Some(p) = &report.problem {
            return Err(Error::Corrupt {
                position: p.position,
                why: p.what.clone(),
            });
        }
        tiers_defined(&ledger)?;
        Ok((ledger, report))
    }
}

/// The founding policy an export carries: its first event, when that is the publication of
/// version 1.
fn founding_policy(first: &ExportLine) -> Option<Result<Policy, Error>> {
    match &first.rec.event.body {
        EventBody::PolicyPublished(PolicyPublished { policy, version: 1 }) => Some(
            Policy::from_json(&policy.to_string()).map_err(|e| Error::Corrupt {
                position: first.rec.position,
                why: format!("line {}: the founding policy: {e}", first.line),
            }),
        ),
        _ => None,
    }
}

/// Refuses a restored ledger whose members hold a tier its policy does not define: a
/// founding policy given for an export that carries none (taken on trust) must still define
/// every tier the log's members hold, or they would be charged by no tier.
fn tiers_defined(ledger: &Ledger) -> Result<(), Error> {
    let policy = ledger.policy();
    let mut missing: Option<(String, String)> = None;
    ledger.for_each_member(|m| {
        if missing.is_none() && policy.tier(&m.tier).is_none() {
            missing = Some((m.tier.to_string(), m.member.to_string()));
        }
    });
    match missing {
        None => Ok(()),
        Some((tier, member)) => Err(Rejection::InvalidPolicy(format!(
            "the policy does not define tier {tier:?}, which member {member} holds in the export; \
             give the ledger's own founding policy (--policy)"
        ))
        .into()),
    }
}

/// Removes what a failed restore wrote at `path`.
#[cfg(feature = "sled")]
fn remove_restored(path: &Path, created: bool) {
    if created {
        let _ = std::fs::remove_dir_all(path);
    } else if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            let p = entry.path();
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
}

/// One export line, checked on its own and against the chain before it.
struct ExportLine {
    /// Its line number, from 1.
    line: u64,
    rec: RecordedEvent,
}

/// Reads an export line by line: each must be the canonical export of its event, at the next
/// position, with the hash that follows the chain.
struct ExportLines<R> {
    reader: R,
    line: u64,
    prev: Hash,
    buf: Vec<u8>,
}

impl<R: BufRead> ExportLines<R> {
    fn new(reader: R) -> Self {
        ExportLines {
            reader,
            line: 0,
            prev: GENESIS_HASH,
            buf: Vec::new(),
        }
    }

    /// The next line's event, `None` at the end of the export.
    fn next_event(&mut self) -> Result<Option<ExportLine>, Error> {
        self.buf.clear();
        let n = (&mut self.reader)
            .take(LINE_MAX + 1)
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| Error::storage(format!("cannot read the export: {e}")))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        let (line, position) = (self.line, self.line);
        let bad = |why: String| Error::Corrupt {
            position,
            why: format!("line {line}: {why}"),
        };
        if self.buf.last() == Some(&b'\n') {
            // A line ends with LF, or CRLF (line endings frame the events; they are not hashed).
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        } else if u64::try_from(self.buf.len()).is_ok_and(|l| l > LINE_MAX) {
            return Err(bad(format!("longer than {LINE_MAX} bytes")));
        }
        let text = std::str::from_utf8(&self.buf).map_err(|_| bad("not UTF-8".into()))?;
        let (hash, event) = parse_line(text).map_err(bad)?;
        let rec = RecordedEvent {
            position: event.0,
            event: event.1,
            hash,
        };
        if rec.position != position {
            return Err(bad(format!(
                "holds position {} where position {position} belongs (a line dropped, inserted or moved)",
                rec.position
            )));
        }
        if rec.to_export_json() != text {
            return Err(bad("not the canonical export of the event it holds".into()));
        }
        let canonical = canonical_json(rec.position, &rec.event);
        if chain_hash(&self.prev, canonical.as_bytes()) != rec.hash {
            return Err(bad(
                "the hash does not follow the chain (the event was changed, or one before it)"
                    .into(),
            ));
        }
        self.prev = rec.hash;
        Ok(Some(ExportLine { line, rec }))
    }
}

/// Splits an export line into its hash and its event.
fn parse_line(text: &str) -> Result<(Hash, (u64, Event)), String> {
    let mut value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let hash = value
        .as_object_mut()
        .and_then(|o| o.remove("hash"))
        .ok_or("no \"hash\"")?;
    let hash = hash
        .as_str()
        .and_then(parse_hash)
        .ok_or("\"hash\" is not 64 lowercase hex digits")?;
    let event = decode_event(value.to_string().as_bytes())
        .map_err(|e| format!("the event does not decode: {e}"))?;
    Ok((hash, event))
}

fn parse_hash(hex: &str) -> Option<Hash> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut hash = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        hash[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(hash)
}

/// Commands gathered for one append: each command's events as they were recorded together.
#[derive(Default)]
struct Batch {
    /// Whole commands, with the export lines of their events.
    appends: Vec<(Append, Vec<ExportLine>)>,
    /// The command being read (its events are contiguous in the log).
    open: Option<Vec<ExportLine>>,
    /// Events gathered, closed commands and the open one.
    events: usize,
}

impl Batch {
    /// Adds a line: to the open command if it is that command's next event, else as the
    /// first event of the next command.
    fn push(&mut self, line: ExportLine) -> Result<(), Error> {
        let continues = self.open.as_ref().is_some_and(|open| {
            open.last()
                .is_some_and(|l| l.rec.event.command == line.rec.event.command)
        });
        if !continues {
            self.close()?;
        } else if self
            .open
            .as_ref()
            .is_some_and(|o| o.len() >= COMMAND_EVENTS_MAX)
        {
            return Err(Error::Corrupt {
                position: line.rec.position,
                why: format!(
                    "line {}: command {} has more than {COMMAND_EVENTS_MAX} events",
                    line.line, line.rec.event.command
                ),
            });
        }
        self.open.get_or_insert_with(Vec::new).push(line);
        self.events += 1;
        Ok(())
    }

    /// Closes the open command: its events must be whole and in order on one stream.
    fn close(&mut self) -> Result<(), Error> {
        let Some(lines) = self.open.take() else {
            return Ok(());
        };
        let first = &lines[0].rec.event;
        let expected_version = first.version.checked_sub(1);
        for (i, l) in lines.iter().enumerate() {
            let e = &l.rec.event;
            let whole = u32::try_from(i).is_ok_and(|i| e.index == i)
                && e.member == first.member
                && expected_version
                    .and_then(|v| v.checked_add(u64::try_from(i + 1).ok()?))
                    .is_some_and(|v| v == e.version);
            if !whole {
                return Err(Error::Corrupt {
                    position: l.rec.position,
                    why: format!(
                        "line {}: event {} of command {} (version {} of {}) does not follow the command's events before it",
                        l.line, e.index, e.command, e.version, e.member
                    ),
                });
            }
        }
        let append = Append {
            command: first.command,
            digest: RESTORED_DIGEST,
            member: first.member.clone(),
            expected_version: expected_version.unwrap_or(0),
            events: lines.iter().map(|l| l.rec.event.clone()).collect(),
        };
        self.appends.push((append, lines));
        Ok(())
    }

    /// Appends the closed commands through the store and checks that every hash it seals is
    /// the exported one.
    fn append(&mut self, store: &dyn EventStore) -> Result<(), Error> {
        if self.appends.is_empty() {
            return Ok(());
        }
        let (appends, lines): (Vec<Append>, Vec<Vec<ExportLine>>) =
            std::mem::take(&mut self.appends).into_iter().unzip();
        self.events = self.open.as_ref().map_or(0, Vec::len);
        let outcomes = store.append(appends)?;
        for (outcome, lines) in outcomes.into_iter().zip(&lines) {
            let first = &lines[0];
            let sealed = outcome.map_err(|conflict| Error::Corrupt {
                position: first.rec.position,
                why: format!(
                    "line {}: command {} cannot be recorded here: {conflict}",
                    first.line, first.rec.event.command
                ),
            })?;
            for (rec, l) in sealed.iter().zip(lines) {
                if rec.position != l.rec.position || rec.hash != l.rec.hash {
                    return Err(Error::Corrupt {
                        position: l.rec.position,
                        why: format!(
                            "line {}: the store sealed the event with another hash than the export's",
                            l.line
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

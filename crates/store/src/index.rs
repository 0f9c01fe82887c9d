//! The in-memory log index both built-in stores keep: head, command ids, member streams. It
//! checks an append batch and seals its events (positions and chain hashes) before a store
//! persists them, and is updated only after they are durable.

use std::collections::HashMap;

use memberledger_core::{Hash, MemberId, RecordedEvent, Uuid, GENESIS_HASH};

use crate::{Append, AppendConflict, CommandRecord, Head, StoreError};

/// A command's events sealed for writing: their recorded form and exact canonical bytes.
#[derive(Clone, Debug)]
pub struct Sealed {
    /// The command's record.
    pub record: CommandRecord,
    /// Its events with positions and hashes.
    pub events: Vec<RecordedEvent>,
    /// The canonical JSON of each event, as hashed.
    pub json: Vec<String>,
}

/// Head, command ids and member streams of a log.
#[derive(Debug)]
pub struct Index {
    head: Head,
    commands: HashMap<Uuid, CommandRecord>,
    members: HashMap<MemberId, Vec<u64>>,
}

impl Default for Index {
    fn default() -> Self {
        Index {
            head: Head {
                position: 0,
                hash: GENESIS_HASH,
            },
            commands: HashMap::new(),
            members: HashMap::new(),
        }
    }
}

impl Index {
    /// The end of the log.
    pub fn head(&self) -> Head {
        self.head
    }

    /// A command's record.
    pub fn command(&self, id: Uuid) -> Option<&CommandRecord> {
        self.commands.get(&id)
    }

    /// A member's event positions.
    pub fn member_positions(&self, member: &MemberId) -> &[u64] {
        self.members.get(member).map_or(&[], Vec::as_slice)
    }

    /// A member's version.
    pub fn member_version(&self, member: &MemberId) -> u64 {
        self.member_positions(member).len() as u64
    }

    /// Checks each append against the index (and the ones before it in the batch), and seals
    /// the accepted ones after the current head. Nothing changes until [`commit`](Self::commit).
    #[allow(clippy::type_complexity)]
    pub fn seal(
        &self,
        batch: Vec<Append>,
    ) -> Result<(Vec<Result<usize, AppendConflict>>, Vec<Sealed>), StoreError> {
        let mut outcome = Vec::with_capacity(batch.len());
        let mut sealed: Vec<Sealed> = Vec::new();
        let mut head = self.head;
        let mut versions: HashMap<&MemberId, u64> = HashMap::new();
        let mut ids = std::collections::HashSet::new();
        for a in &batch {
            check_shape(a)?;
            let actual = *versions
                .entry(&a.member)
                .or_insert_with(|| self.member_version(&a.member));
            if self.commands.contains_key(&a.command) || !ids.insert(a.command) {
                outcome.push(Err(AppendConflict::Duplicate(a.command)));
                continue;
            }
            if actual != a.expected_version {
                outcome.push(Err(AppendConflict::Version {
                    member: a.member.to_string(),
                    expected: a.expected_version,
                    actual,
                }));
                continue;
            }
            versions.insert(&a.member, actual + a.events.len() as u64);
            let mut events = Vec::with_capacity(a.events.len());
            let mut json = Vec::with_capacity(a.events.len());
            for e in &a.events {
                let (r, j) = RecordedEvent::seal(head.position + 1, e.clone(), &head.hash);
                head = Head {
                    position: r.position,
                    hash: r.hash,
                };
                events.push(r);
                json.push(j);
            }
            outcome.push(Ok(sealed.len()));
            sealed.push(Sealed {
                record: CommandRecord {
                    command: a.command,
                    member: a.member.clone(),
                    digest: a.digest,
                    first_position: events[0].position,
                    count: u32::try_from(events.len()).expect("checked in check_shape"),
                },
                events,
                json,
            });
        }
        Ok((outcome, sealed))
    }

    /// Records sealed commands as durable.
    pub fn commit(&mut self, sealed: &[Sealed]) {
        for s in sealed {
            self.add(
                s.record.clone(),
                s.events.iter().map(|e| (e.position, e.hash)),
            );
        }
    }

    /// Adds one command already in the log (when rebuilding the index on open). Positions must
    /// follow the head without a gap.
    pub fn add(&mut self, record: CommandRecord, events: impl Iterator<Item = (u64, Hash)>) {
        let positions = self.members.entry(record.member.clone()).or_default();
        for (position, hash) in events {
            debug_assert_eq!(position, self.head.position + 1, "positions are contiguous");
            positions.push(position);
            self.head = Head { position, hash };
        }
        self.commands.insert(record.command, record);
    }
}

/// An append must be well formed before anything is sealed: events of its member and command,
/// versions following the expected one, a bounded count.
fn check_shape(a: &Append) -> Result<(), StoreError> {
    let bad = |why: String| Err(StoreError::InvalidAppend(why));
    if a.events.is_empty() || a.events.len() > 10_000 {
        return bad(format!(
            "command {} has {} events",
            a.command,
            a.events.len()
        ));
    }
    for (i, e) in a.events.iter().enumerate() {
        if e.member != a.member || e.command != a.command || e.index as usize != i {
            return bad(format!("event {i} of command {} is not its own", a.command));
        }
        if e.version != a.expected_version + i as u64 + 1 {
            return bad(format!(
                "event {i} of command {} has version {}",
                a.command, e.version
            ));
        }
    }
    Ok(())
}

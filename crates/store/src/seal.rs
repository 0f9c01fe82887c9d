//! Sealing a batch of appends: each checked against the log (and the appends before it in the
//! batch), the accepted ones given positions after the head, their canonical JSON and their
//! chain hashes. Every store seals the same way; what it needs to know of its log is a
//! [`LogView`] (the in-memory [`Index`](crate::Index), or what a database store read under
//! its lock).

use std::collections::{HashMap, HashSet};

use memberledger_core::{
    canonical_json, chain_hash, write_binary_event, MemberId, RecordedEvent, Uuid,
};
use rayon::prelude::*;

use crate::{Append, AppendConflict, CommandRecord, Head, StoreError};

/// Batches with more events than this write their canonical JSON on every core.
const PARALLEL_SEAL_EVENTS: u64 = 64;

/// The most events one command may record.
pub const COMMAND_EVENTS_MAX: usize = 10_000;

/// A command's events sealed for writing: their recorded form and exact canonical bytes.
#[derive(Clone, Debug)]
pub struct Sealed {
    /// The command's record.
    pub record: CommandRecord,
    /// Its events with positions and hashes.
    pub events: Vec<RecordedEvent>,
    /// The canonical JSON of each event, as hashed.
    pub json: Vec<String>,
    /// The binary form of each event (`memberledger_core::write_binary_event`; empty for an
    /// event that has none), stored beside its JSON for a replay to read.
    pub bin: Vec<Vec<u8>>,
}

/// What sealing says of a batch: for each append, the index of its sealed command or its
/// conflict; and the sealed commands, in order.
pub type Sealing = (Vec<Result<usize, AppendConflict>>, Vec<Sealed>);

/// What sealing needs to know of a log.
pub trait LogView {
    /// The end of the log.
    fn head(&self) -> Head;
    /// A member's stream version (0 when not enrolled).
    fn member_version(&self, member: &MemberId) -> u64;
    /// Whether a command id is recorded.
    fn has_command(&self, id: Uuid) -> bool;
}

/// Checks each append against `log` (and the ones before it in the batch), and seals the
/// accepted ones after the log's head. A malformed append fails the whole call
/// (`InvalidAppend`); a duplicate command id or a stale version refuses that append only.
///
/// Positions are given out first; the canonical JSON of a large batch is then written on
/// every core, and the chain hashed in order.
pub fn seal(log: &impl LogView, batch: Vec<Append>) -> Result<Sealing, StoreError> {
    let head = log.head();
    let mut outcome = Vec::with_capacity(batch.len());
    let mut accepted: Vec<(Append, u64)> = Vec::new();
    let mut next = head.position + 1;
    // aHash, as the index's maps: filled on the write path, a command at a time.
    let hasher = ahash::RandomState::new();
    let mut versions: HashMap<MemberId, u64, _> =
        HashMap::with_capacity_and_hasher(batch.len(), hasher.clone());
    let mut ids = HashSet::with_capacity_and_hasher(batch.len(), hasher);
    for a in batch {
        check_shape(&a)?;
        let actual = match versions.get(&a.member) {
            Some(&v) => v,
            None => log.member_version(&a.member),
        };
        if log.has_command(a.command) || !ids.insert(a.command) {
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
        let count = event_count(&a);
        versions.insert(a.member.clone(), actual + count);
        outcome.push(Ok(accepted.len()));
        let first = next;
        next += count;
        accepted.push((a, first));
    }
    let json = encode(&accepted, next - head.position > PARALLEL_SEAL_EVENTS);
    Ok((outcome, chain(head, accepted, json)))
}

/// Each accepted append's events' canonical JSON and binary forms, on every core when
/// `parallel`.
fn encode(accepted: &[(Append, u64)], parallel: bool) -> Vec<Encoded> {
    let encode = |(a, first): &(Append, u64)| -> Encoded {
        a.events
            .iter()
            .zip(*first..)
            .map(|(e, position)| {
                let mut bin = Vec::new();
                write_binary_event(&mut bin, e);
                (canonical_json(position, e), bin)
            })
            .unzip()
    };
    if parallel {
        accepted.par_iter().with_min_len(16).map(encode).collect()
    } else {
        accepted.iter().map(encode).collect()
    }
}

/// An append's events' canonical JSON and binary forms.
type Encoded = (Vec<String>, Vec<Vec<u8>>);

/// Hashes the accepted appends' events into the chain after `head`, in order.
fn chain(head: Head, accepted: Vec<(Append, u64)>, encoded: Vec<Encoded>) -> Vec<Sealed> {
    let mut prev = head.hash;
    accepted
        .into_iter()
        .zip(encoded)
        .map(|((a, first), (json, bin))| {
            let events: Vec<RecordedEvent> = a
                .events
                .into_iter()
                .zip(first..)
                .zip(&json)
                .map(|((event, position), j)| {
                    let hash = chain_hash(&prev, j.as_bytes());
                    prev = hash;
                    RecordedEvent {
                        position,
                        event,
                        hash,
                    }
                })
                .collect();
            Sealed {
                record: CommandRecord {
                    command: a.command,
                    member: a.member,
                    digest: a.digest,
                    first_position: first,
                    count: u32::try_from(events.len()).expect("checked in check_shape"),
                },
                events,
                json,
                bin,
            }
        })
        .collect()
}

/// The result of each append of a batch once its sealed commands are durable: the recorded
/// events of an accepted one (moved out, in order), or its conflict.
pub fn outcomes(
    outcome: Vec<Result<usize, AppendConflict>>,
    sealed: Vec<Sealed>,
) -> Vec<Result<Vec<RecordedEvent>, AppendConflict>> {
    let mut events = sealed.into_iter().map(|s| s.events);
    outcome
        .into_iter()
        .map(|o| {
            o.map(|_| {
                events
                    .next()
                    .expect("one sealed command per accepted append")
            })
        })
        .collect()
}

/// How many events an append holds (bounded by [`check_shape`]).
fn event_count(a: &Append) -> u64 {
    u64::try_from(a.events.len()).expect("at most COMMAND_EVENTS_MAX events")
}

/// An append must be well formed before anything is sealed: events of its member and command,
/// versions following the expected one, a bounded count.
fn check_shape(a: &Append) -> Result<(), StoreError> {
    let bad = |why: String| Err(StoreError::InvalidAppend(why));
    if a.events.is_empty() || a.events.len() > COMMAND_EVENTS_MAX {
        return bad(format!(
            "command {} has {} events",
            a.command,
            a.events.len()
        ));
    }
    for ((i, e), version) in a.events.iter().enumerate().zip(a.expected_version + 1..) {
        let own_index = usize::try_from(e.index).is_ok_and(|x| x == i);
        if e.member != a.member || e.command != a.command || !own_index {
            return bad(format!("event {i} of command {} is not its own", a.command));
        }
        if e.version != version {
            return bad(format!(
                "event {i} of command {} has version {}",
                a.command, e.version
            ));
        }
    }
    Ok(())
}

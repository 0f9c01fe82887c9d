//! The in-memory log index both built-in stores keep: head, command ids, member streams. It
//! checks an append batch and seals its events (positions and chain hashes) before a store
//! persists them, and is updated only after they are durable.

use std::collections::HashMap;

/// Maps keyed by ids with aHash: several times faster than SipHash on uuids and ids, and still
/// keyed at random, so ids chosen to collide cannot slow a store down.
type Map<K, V> = HashMap<K, V, ahash::RandomState>;

use memberledger_core::{Hash, MemberId, RecordedEvent, Uuid, GENESIS_HASH};

use crate::seal::{LogView, Sealing};
use crate::{Append, AppendConflict, CommandRecord, Head, Sealed, StoreError};

mod audit;
mod bytes;

/// Where a command's events are: what the index keeps of each command. (The digest stays
/// with the store, which reads it back only for a command id used again.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandPlace {
    /// The member it was about.
    pub member: MemberId,
    /// The position of its first event.
    pub first_position: u64,
    /// How many events it recorded.
    pub count: u32,
}

/// One command in the index: 16 bytes beside its 16-byte id.
#[derive(Clone, Copy, Debug)]
struct Slot {
    first_position: u64,
    /// The member's number in `Index::streams`.
    member: u32,
    count: u32,
}

/// One member's stream: its event positions, delta-encoded as LEB128 varints (a command's
/// events are contiguous, so most deltas take one byte).
#[derive(Debug)]
struct Stream {
    id: MemberId,
    /// Deltas between successive positions (the first from 0).
    deltas: Vec<u8>,
    /// The last position (0 before the first event).
    last: u64,
    /// How many events (the stream version).
    version: u64,
}

impl Stream {
    fn push(&mut self, position: u64) {
        let mut d = position - self.last;
        loop {
            let byte = u8::try_from(d & 0x7f).expect("seven bits");
            d >>= 7;
            if d == 0 {
                self.deltas.push(byte);
                break;
            }
            self.deltas.push(byte | 0x80);
        }
        self.last = position;
        self.version += 1;
    }

    fn positions(&self) -> Vec<u64> {
        let mut out = Vec::with_capacity(usize::try_from(self.version).unwrap_or(0));
        let (mut at, mut d, mut shift) = (0u64, 0u64, 0u32);
        for &b in &self.deltas {
            d |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                at += d;
                out.push(at);
                d = 0;
                shift = 0;
            } else {
                shift += 7;
            }
        }
        out
    }
}

/// Head, command ids and member streams of a log, kept compact: about 32 bytes a command and,
/// a member, its id once plus a byte or three an event.
#[derive(Debug)]
pub struct Index {
    head: Head,
    commands: Map<Uuid, Slot>,
    members: Map<MemberId, u32>,
    streams: Vec<Stream>,
    /// Commands added by [`hold`](Index::hold) whose places are not in `commands` yet, in
    /// log order, in pieces of at most [`HELD_PIECE`] (one growing list would take fresh
    /// memory for every size it passes through, and copy itself at each).
    held: Vec<Vec<(Uuid, Slot)>>,
}

/// The most places of a piece of [`Index::held`] (2 MiB).
const HELD_PIECE: usize = 1 << 16;

impl Default for Index {
    fn default() -> Self {
        Index {
            head: Head {
                position: 0,
                hash: GENESIS_HASH,
            },
            commands: Map::default(),
            members: Map::default(),
            streams: Vec::new(),
            held: Vec::new(),
        }
    }
}

impl Index {
    /// The end of the log.
    pub fn head(&self) -> Head {
        self.head
    }

    /// Where a command's events are, if it is recorded.
    pub fn command(&self, id: Uuid) -> Option<CommandPlace> {
        debug_assert!(self.held.is_empty(), "places held: enter them first");
        self.commands.get(&id).map(|s| CommandPlace {
            member: self.streams[s.member as usize].id.clone(),
            first_position: s.first_position,
            count: s.count,
        })
    }

    /// True when the command id is recorded.
    pub fn has_command(&self, id: Uuid) -> bool {
        debug_assert!(self.held.is_empty(), "places held: enter them first");
        self.commands.contains_key(&id)
    }

    /// How many commands are recorded.
    pub fn commands(&self) -> usize {
        debug_assert!(self.held.is_empty(), "places held: enter them first");
        self.commands.len()
    }

    /// A member's event positions, in version order.
    pub fn member_positions(&self, member: &MemberId) -> Vec<u64> {
        self.stream(member).map_or_else(Vec::new, Stream::positions)
    }

    /// A member's version.
    pub fn member_version(&self, member: &MemberId) -> u64 {
        self.stream(member).map_or(0, |s| s.version)
    }

    fn stream(&self, member: &MemberId) -> Option<&Stream> {
        self.members.get(member).map(|&i| &self.streams[i as usize])
    }

    /// Gives back spare capacity (after rebuilding an index on open).
    pub fn shrink_to_fit(&mut self) {
        self.commands.shrink_to_fit();
        self.members.shrink_to_fit();
        self.streams.shrink_to_fit();
        for s in &mut self.streams {
            s.deltas.shrink_to_fit();
        }
    }

    /// Checks each append against the index (and the ones before it in the batch), and seals
    /// the accepted ones after the current head. Nothing changes until [`commit`](Self::commit).
    /// See [`seal`](crate::seal()).
    pub fn seal(&self, batch: Vec<Append>) -> Result<Sealing, StoreError> {
        debug_assert!(self.held.is_empty(), "places held: enter them first");
        crate::seal::seal(self, batch)
    }

    /// The result of each append of a batch once its sealed commands are durable: the
    /// recorded events of an accepted one (moved out, in order), or its conflict. See
    /// [`outcomes`](crate::outcomes).
    pub fn outcomes(
        outcome: Vec<Result<usize, AppendConflict>>,
        sealed: Vec<Sealed>,
    ) -> Vec<Result<Vec<RecordedEvent>, AppendConflict>> {
        crate::seal::outcomes(outcome, sealed)
    }

    /// Records sealed commands as durable.
    pub fn commit(&mut self, sealed: &[Sealed]) {
        for s in sealed {
            let added = self.add(
                s.record.clone(),
                s.events.iter().map(|e| (e.position, e.hash)),
            );
            debug_assert!(added, "sealing refuses a command id already recorded");
        }
    }

    /// Makes room for `commands` more commands in the command table at once: a scan that
    /// adds them one by one ([`add`](Self::add)) and knows about how many there will be
    /// spares the table the sizes it would grow through. Room that cannot be had is not
    /// taken: the table then grows as commands are added.
    pub fn reserve_commands(&mut self, commands: usize) {
        // Only an estimate: never more than a table that fits in memory could hold.
        let _ = self.commands.try_reserve(commands);
    }

    /// Adds one command already in the log (when rebuilding the index on open). Positions must
    /// follow the head without a gap. Whether it was added: `false` when the index already
    /// holds the command id (a log that records a command twice), and nothing is changed.
    #[must_use = "a command recorded twice is a damaged log"]
    pub fn add(
        &mut self,
        record: CommandRecord,
        events: impl Iterator<Item = (u64, Hash)>,
    ) -> bool {
        debug_assert!(self.held.is_empty(), "places held: enter them first");
        let slot = match self.members.get(&record.member) {
            Some(&i) => i,
            None => u32::try_from(self.streams.len()).expect("fewer than 2^32 members"),
        };
        // One probe of the table for the check and the insert.
        match self.commands.entry(record.command) {
            std::collections::hash_map::Entry::Occupied(_) => return false,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(Slot {
                    first_position: record.first_position,
                    member: slot,
                    count: record.count,
                });
            }
        }
        self.extend_stream(slot, record.member, events);
        true
    }

    /// Adds one command of a log read in order (a store's open scan) as [`add`](Self::add)
    /// does, but holds its place back from the command table, unchecked against the commands
    /// before it, until [`enter_held`](Self::enter_held) enters every held place at once into
    /// a table sized for them. Grown one doubling at a time, a table of hundreds of thousands
    /// of commands takes fresh memory at every size it passes through and moves every entry
    /// at each: most of an open scan's time went there. Until the places are entered, the
    /// index must not be asked about commands, sealed or written as bytes.
    pub fn hold(&mut self, record: CommandRecord, events: impl Iterator<Item = (u64, Hash)>) {
        let slot = match self.members.get(&record.member) {
            Some(&i) => i,
            None => u32::try_from(self.streams.len()).expect("fewer than 2^32 members"),
        };
        if self
            .held
            .last()
            .is_none_or(|piece| piece.len() == piece.capacity())
        {
            // A first small piece, for the small logs.
            let capacity = if self.held.is_empty() {
                1024
            } else {
                HELD_PIECE
            };
            self.held.push(Vec::with_capacity(capacity));
        }
        let piece = self.held.last_mut().expect("a piece with room");
        piece.push((
            record.command,
            Slot {
                first_position: record.first_position,
                member: slot,
                count: record.count,
            },
        ));
        self.extend_stream(slot, record.member, events);
    }

    /// Enters the places [`hold`](Self::hold) held back into the command table, in log
    /// order. `Err`: the first command whose id was recorded before it (a damaged log), with
    /// the position of its first event; the index is then incomplete.
    pub fn enter_held(&mut self) -> Result<(), (u64, Uuid)> {
        let held = std::mem::take(&mut self.held);
        self.commands.reserve(held.iter().map(Vec::len).sum());
        for (id, slot) in held.into_iter().flatten() {
            match self.commands.entry(id) {
                std::collections::hash_map::Entry::Occupied(_) => {
                    return Err((slot.first_position, id))
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(slot);
                }
            }
        }
        Ok(())
    }

    /// Appends a command's events to the stream numbered `slot` (a new one, for `member`,
    /// when it is the next number) and moves the head to the last of them.
    fn extend_stream(
        &mut self,
        slot: u32,
        member: MemberId,
        events: impl Iterator<Item = (u64, Hash)>,
    ) {
        if slot as usize == self.streams.len() {
            self.streams.push(Stream {
                id: member.clone(),
                deltas: Vec::new(),
                last: 0,
                version: 0,
            });
            self.members.insert(member, slot);
        }
        let stream = &mut self.streams[slot as usize];
        for (position, hash) in events {
            debug_assert_eq!(position, self.head.position + 1, "positions are contiguous");
            stream.push(position);
            self.head = Head { position, hash };
        }
    }
}

impl LogView for Index {
    fn head(&self) -> Head {
        self.head
    }

    fn member_version(&self, member: &MemberId) -> u64 {
        Index::member_version(self, member)
    }

    fn has_command(&self, id: Uuid) -> bool {
        Index::has_command(self, id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_through_the_varints() {
        let mut s = Stream {
            id: MemberId::new("m").unwrap(),
            deltas: Vec::new(),
            last: 0,
            version: 0,
        };
        let positions = [1, 2, 3, 130, 131, 20_000, 5_000_000_000, 5_000_000_001];
        for p in positions {
            s.push(p);
        }
        assert_eq!(s.positions(), positions);
        assert_eq!(s.version, positions.len() as u64);
    }

    #[test]
    fn a_command_added_twice_is_refused_and_changes_nothing() {
        let record = |command: u128, member: &str, first: u64| CommandRecord {
            command: Uuid::from_u128(command),
            member: MemberId::new(member).unwrap(),
            digest: [0; 32],
            first_position: first,
            count: 1,
        };
        let mut index = Index::default();
        assert!(index.add(record(1, "a", 1), [(1, [1; 32])].into_iter()));
        // The same id again, for a member not yet indexed: no stream is started for it.
        assert!(!index.add(record(1, "b", 2), [(2, [2; 32])].into_iter()));
        assert_eq!(
            index.head(),
            Head {
                position: 1,
                hash: [1; 32]
            }
        );
        assert_eq!(index.member_version(&MemberId::new("b").unwrap()), 0);
        assert_eq!(
            index.command(Uuid::from_u128(1)).unwrap().member.as_str(),
            "a"
        );
        assert!(index.add(record(2, "b", 2), [(2, [2; 32])].into_iter()));
        assert_eq!(
            index.member_positions(&MemberId::new("b").unwrap()),
            vec![2]
        );
    }

    proptest::proptest! {
        /// Commands held and entered at once make the index adding them one by one makes;
        /// with an id used twice, entering stops at the same command `add` refuses first.
        #[test]
        fn places_held_and_entered_are_the_places_added(
            commands in proptest::collection::vec((0u128..40, 0u8..6, 1u32..4), 0..60),
        ) {
            let (mut added, mut held) = (Index::default(), Index::default());
            let mut refused = None;
            let mut position = 1;
            for &(id, member, count) in &commands {
                let record = CommandRecord {
                    command: Uuid::from_u128(id),
                    member: MemberId::new(format!("m{member}")).unwrap(),
                    digest: [0; 32],
                    first_position: position,
                    count,
                };
                let events: Vec<(u64, Hash)> =
                    (position..position + u64::from(count)).map(|p| (p, [p.to_le_bytes()[0]; 32])).collect();
                position += u64::from(count);
                held.hold(record.clone(), events.clone().into_iter());
                if refused.is_none() && !added.add(record.clone(), events.into_iter()) {
                    refused = Some((record.first_position, record.command));
                }
            }
            let entered = held.enter_held();
            proptest::prop_assert_eq!(entered.err(), refused);
            if refused.is_none() {
                proptest::prop_assert_eq!(held.head(), added.head());
                proptest::prop_assert_eq!(held.commands(), added.commands());
                for id in 0..40 {
                    proptest::prop_assert_eq!(held.command(Uuid::from_u128(id)), added.command(Uuid::from_u128(id)));
                }
                for m in 0..6u8 {
                    let m = MemberId::new(format!("m{m}")).unwrap();
                    proptest::prop_assert_eq!(held.member_positions(&m), added.member_positions(&m));
                }
            }
        }
    }

    #[test]
    fn places_held_across_pieces_are_all_entered_and_a_late_repeat_is_found() {
        let record = |n: u64| CommandRecord {
            command: Uuid::from_u128(u128::from(n % 70_000)),
            member: MemberId::new(format!("m{}", n % 7)).unwrap(),
            digest: [0; 32],
            first_position: n + 1,
            count: 1,
        };
        let mut index = Index::default();
        for n in 0..70_000 {
            index.hold(record(n), [(n + 1, [0; 32])].into_iter());
        }
        assert_eq!(
            index.held.len(),
            3,
            "a small piece, then pieces of {HELD_PIECE}"
        );
        index.enter_held().unwrap();
        assert_eq!(index.commands(), 70_000);
        assert_eq!(
            index
                .command(Uuid::from_u128(69_999))
                .unwrap()
                .first_position,
            70_000
        );
        // The first command again, after them all.
        index.hold(record(70_000), [(70_001, [0; 32])].into_iter());
        assert_eq!(index.enter_held(), Err((70_001, Uuid::from_u128(0))));
    }

    #[test]
    fn an_index_round_trips_through_its_bytes_and_cut_bytes_are_refused() {
        let mut index = Index::default();
        for (i, member) in ["a", "b", "a", "c", "a"].into_iter().enumerate() {
            let n = u64::try_from(i).unwrap();
            let record = CommandRecord {
                command: Uuid::from_u128(u128::from(n) + 1),
                member: MemberId::new(member).unwrap(),
                digest: [0; 32],
                first_position: 2 * n + 1,
                count: 2,
            };
            assert!(index.add(
                record,
                [
                    (2 * n + 1, [1; 32]),
                    (2 * n + 2, [u8::try_from(n).unwrap(); 32]),
                ]
                .into_iter(),
            ));
        }
        let bytes = index.to_bytes();
        let back = Index::from_bytes(&bytes).unwrap();
        assert_eq!(back.head(), index.head());
        assert_eq!(back.to_bytes().len(), bytes.len());
        for member in ["a", "b", "c", "d"] {
            let m = MemberId::new(member).unwrap();
            assert_eq!(back.member_positions(&m), index.member_positions(&m));
        }
        for n in 1..=6 {
            let id = Uuid::from_u128(n);
            assert_eq!(back.command(id), index.command(id));
        }
        for cut in 0..bytes.len() {
            assert!(Index::from_bytes(&bytes[..cut]).is_none(), "cut at {cut}");
        }
    }
}

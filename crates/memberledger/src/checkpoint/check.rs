//! How `verify` holds a checkpoint to the replay at its position. The member projections are
//! most of a checkpoint, and decoding them cost more than a fifth of a full verify: instead
//! the replay's members are encoded as a checkpoint holds them (compact, by id, in the same
//! chunks) and the bytes compared, which allocates far less. The checkpoint is streamed from
//! the store a few chunks at a time into one buffer (its checksum taken as it goes), never
//! held whole: reading a large one into fresh memory cost more than comparing it. Only when
//! something differs (a checkpoint that does not equal the replay, a damaged one, or one an
//! earlier build wrote in its table's order) is it read whole and its chunks decoded and
//! compared member by member, to say what differs, or to find that nothing does.

use std::io::Read;

use memberledger_core::{Hash, MemberState};
use memberledger_store::EventStore;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::{
    another_version, checked, decode_chunks, sorted_members, split_payload, Range, Rest, State,
    CHECKPOINT_VERSION, HEADER, MAGIC, MEMBERS_PER_CHUNK,
};

/// Member chunks streamed and compared at a time (compared on every core; about 2 MB each).
const CHUNKS_AT_ONCE: usize = 8;

/// How the checkpoint the store keeps at `position` differs from the replay's `state` there,
/// whose stored hash is `hash`: `None` when it equals it, is gone, or is written in another
/// release's format (never used by an open, so nothing to hold against the log: a ledger
/// upgraded to a release with a new format verifies as before). `buf`: where it is streamed
/// to, kept from one checkpoint to the next.
pub(crate) fn difference(
    store: &dyn EventStore,
    (position, hash): (u64, &Hash),
    state: &State<'_>,
    buf: &mut Vec<u8>,
) -> Option<String> {
    match store.checkpoint_reader(position) {
        Ok(None) => return None,
        Ok(Some(mut reader)) => {
            if let Streamed::Equal | Streamed::OtherVersion =
                streamed(&mut reader, (position, hash), state, buf)
            {
                return None;
            }
        }
        Err(_) => {}
    }
    // Something differs, or it could not be streamed: read whole, to say what.
    match store.read_checkpoint(position) {
        Err(e) => Some(format!("it cannot be read: {e}")),
        Ok(None) => None,
        Ok(Some(bytes)) if another_version(&bytes) => None,
        Ok(Some(bytes)) => match Stored::read(position, bytes) {
            Err(why) => Some(why),
            Ok(stored) if stored.hash != *hash => {
                Some("its hash is not the log's at its position".into())
            }
            Ok(stored) => stored.differs(state),
        },
    }
}

/// What streaming a checkpoint found.
#[derive(Debug, PartialEq, Eq)]
enum Streamed {
    /// Every byte is what the replay's state makes, and the checksum holds.
    Equal,
    /// It is written in another format version.
    OtherVersion,
    /// Something differs or is damaged: read it whole to say what.
    Unsure,
}

/// Streams the checkpoint from `reader` against the replay's `state` at `position`, whose
/// stored hash is `hash`, into `buf`.
fn streamed(
    reader: &mut dyn Read,
    (position, hash): (u64, &Hash),
    state: &State<'_>,
    buf: &mut Vec<u8>,
) -> Streamed {
    let mut header = [0u8; HEADER];
    if reader.read_exact(&mut header).is_err() || &header[..8] != MAGIC {
        return Streamed::Unsure;
    }
    if header[8..12] != CHECKPOINT_VERSION.to_le_bytes() {
        return Streamed::OtherVersion;
    }
    if header[12..20] != position.to_le_bytes() || header[20..52] != hash[..] {
        return Streamed::Unsure;
    }
    let mut payload = Payload {
        reader,
        sha: Sha256::new(),
        buf,
    };
    let equal = payload.rest_equals(state)
        && payload.members_equal(state)
        && payload.sha.finalize().as_slice() == &header[52..84];
    if equal {
        Streamed::Equal
    } else {
        Streamed::Unsure
    }
}

/// A checkpoint's payload being streamed: its frames read into one buffer, as stored (each
/// after its length), and its checksum taken over the buffer once it is compared.
struct Payload<'r> {
    reader: &'r mut dyn Read,
    sha: Sha256,
    buf: &'r mut Vec<u8>,
}

impl Payload<'_> {
    /// Reads the next frame onto the end of the buffer, its length before it as stored:
    /// where its bytes are in the buffer, `None` at the end of the payload, `Err` when a
    /// frame is cut or cannot be read. The checksum is taken by the caller, over the buffer.
    fn frame(&mut self) -> Result<Option<Range<usize>>, ()> {
        let mut len = [0u8; 8];
        let mut got = 0;
        while got < len.len() {
            match self.reader.read(&mut len[got..]) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) | Err(_) => return Err(()),
                Ok(n) => got += n,
            }
        }
        self.buf.extend_from_slice(&len);
        let len = u64::from_le_bytes(len);
        let start = self.buf.len();
        // Read up to the end of the stream at most, whatever a damaged length says.
        let read = self.reader.take(len).read_to_end(self.buf);
        if read.ok().map(|n| n as u64) != Some(len) {
            return Err(());
        }
        Ok(Some(start..self.buf.len()))
    }

    /// Whether the first frame holds the projections other than the members as the replay
    /// has them.
    fn rest_equals(&mut self, state: &State<'_>) -> bool {
        self.buf.clear();
        let Ok(Some(range)) = self.frame() else {
            return false;
        };
        self.sha.update(&self.buf[..]);
        ciborium::from_reader::<Rest, _>(&self.buf[range])
            .is_ok_and(|rest| rest_difference(&rest, state).is_none())
    }

    /// Whether the member chunks that follow are, byte for byte, what the replay's members
    /// make, [`CHUNKS_AT_ONCE`] at a time.
    fn members_equal(&mut self, state: &State<'_>) -> bool {
        let spending = crate::projection::keeps_spending(state.history);
        let ours = sorted_members(state.members);
        let mut ours = ours.chunks(MEMBERS_PER_CHUNK);
        loop {
            self.buf.clear();
            let mut ranges = Vec::with_capacity(CHUNKS_AT_ONCE);
            while ranges.len() < CHUNKS_AT_ONCE {
                match self.frame() {
                    Ok(Some(range)) => ranges.push(range),
                    Ok(None) => break,
                    Err(()) => return false,
                }
            }
            if ranges.is_empty() {
                return ours.next().is_none();
            }
            let batch: Vec<&[&MemberState]> = ours.by_ref().take(ranges.len()).collect();
            let buf: &[u8] = self.buf;
            // The checksum on one core while the chunks are compared on the others (it
            // took a third of a comparison, one core idle, taken as the frames were read).
            let ((), same) = rayon::join(
                || self.sha.update(buf),
                || {
                    batch.len() == ranges.len()
                        && batch
                            .par_iter()
                            .zip(ranges.par_iter())
                            .all(|(chunk, r)| chunk_is(chunk, &buf[r.clone()], spending))
                },
            );
            if !same {
                return false;
            }
        }
    }
}

/// Whether a chunk of the replay's members, made compact as a ledger caches them, encodes
/// to `bytes`. Each member is encoded as its compact projection where it lies, uncopied, into
/// a small buffer the thread keeps (by hand for the common state, by serde for the rest),
/// and held to its place in `bytes` before the next is encoded: the chunk's encoding, a
/// megabyte or two, is never held.
fn chunk_is(chunk: &[&MemberState], bytes: &[u8], spending: bool) -> bool {
    let mut rest = Matching { rest: bytes };
    if ciborium::into_writer(&Len(chunk.len()), &mut rest).is_err() {
        return false;
    }
    MEMBER.with_borrow_mut(|one| {
        chunk.iter().all(|m| {
            one.clear();
            let compact = m.compact(spending);
            if !compact.write_cbor(one) {
                return ciborium::into_writer(&compact, &mut rest).is_ok();
            }
            std::io::Write::write_all(&mut rest, one).is_ok()
        })
    }) && rest.rest.is_empty()
}

thread_local! {
    /// Each thread's buffer for one member's encoding ([`chunk_is`]).
    static MEMBER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The head of a sequence of this many items, as serde writes it (a chunk's members are a
/// sequence of known length).
struct Len(usize);

impl serde::Serialize for Len {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde::ser::SerializeSeq::end(s.serialize_seq(Some(self.0))?)
    }
}

/// A writer that holds what is written to the bytes expected, taking them off the front as
/// they match; a write that does not match fails (and ends the encoding).
struct Matching<'a> {
    rest: &'a [u8],
}

impl std::io::Write for Matching<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.rest.strip_prefix(buf) {
            Some(rest) => {
                self.rest = rest;
                Ok(buf.len())
            }
            None => Err(std::io::ErrorKind::InvalidData.into()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// How the projections other than the members differ from the replay's, if they do.
fn rest_difference(rest: &Rest, state: &State<'_>) -> Option<String> {
    if rest.clearing != *state.clearing {
        return Some("the inter-store clearing differs".into());
    }
    if rest.cards != *state.cards {
        return Some("the card directory differs".into());
    }
    if rest.history != *state.history || rest.latest_at != state.latest_at {
        return Some("the policy history differs".into());
    }
    None
}

/// A checkpoint read whole for comparison with the replay: its header and checksum checked
/// and the projections other than the members decoded; the member chunks kept as written.
struct Stored {
    /// The log's stored hash at its position, as the checkpoint says.
    pub hash: Hash,
    rest: Rest,
    bytes: Vec<u8>,
    /// Where each chunk of members lies in `bytes`.
    chunks: Vec<Range<usize>>,
}

impl Stored {
    /// Reads the checkpoint the store keeps at `position` from its `bytes`, or says why it
    /// cannot be read.
    fn read(position: u64, bytes: Vec<u8>) -> Result<Stored, String> {
        let (hash, payload) = checked(position, &bytes)?;
        let offset = bytes.len() - payload.len();
        let (rest, chunks) = split_payload(payload)?;
        let chunks = chunks
            .into_iter()
            .map(|r| r.start + offset..r.end + offset)
            .collect();
        Ok(Stored {
            hash,
            rest,
            bytes,
            chunks,
        })
    }

    /// How the checkpoint differs from the replay's `state` at its position (whose members
    /// may keep consumption records: they are compared as the compact projection a ledger
    /// caches), or `None` when it equals it.
    fn differs(&self, state: &State<'_>) -> Option<String> {
        self.members_differ(state)
            .or_else(|| rest_difference(&self.rest, state))
    }

    /// Whether the member chunks are, byte for byte, what the replay's members make; when
    /// not, the first member that differs (decoding the chunks).
    fn members_differ(&self, state: &State<'_>) -> Option<String> {
        let spending = crate::projection::keeps_spending(state.history);
        let ours = sorted_members(state.members);
        let same = ours.len().div_ceil(MEMBERS_PER_CHUNK) == self.chunks.len()
            && ours
                .par_chunks(MEMBERS_PER_CHUNK)
                .zip(self.chunks.par_iter())
                .all(|(chunk, theirs)| chunk_is(chunk, &self.bytes[theirs.clone()], spending));
        if same {
            return None;
        }
        match decode_chunks(&self.bytes, &self.chunks) {
            Ok(members) => member_difference(&members, state, spending),
            Err(why) => Some(why),
        }
    }
}

/// The first of the checkpoint's `members` (in its order) that is not the replay's compact
/// projection of that member, or a count that differs.
fn member_difference(
    members: &[Vec<MemberState>],
    state: &State<'_>,
    spending: bool,
) -> Option<String> {
    let count: usize = members.iter().map(Vec::len).sum();
    if count != state.members.len() {
        return Some(format!(
            "it holds {count} members, the replay {}",
            state.members.len()
        ));
    }
    let different = members.par_iter().flatten().find_first(|m| {
        !state.members.get(&m.member).is_some_and(|fresh| {
            crate::projection::compact(fresh.clone_without_consumption_records(), spending) == **m
        })
    });
    different.map(|m| format!("member {} differs", m.member))
}

#[cfg(test)]
mod tests {
    use memberledger_core::{
        decide, CardDirectory, Clearing, Command, Context, Policy, PolicyHistory,
    };
    use proptest::prelude::*;

    use super::*;
    use crate::checkpoint::encode_in_order;
    use crate::replay::Members;

    /// Member `id` enrolled at `second` past 10:00 (a different second: a different state).
    fn enrolled(history: &PolicyHistory, id: u16, second: u8) -> MemberState {
        let enroll = Command::from_json(&format!(
            r#"{{"id":"00000000-0000-4000-8000-{id:06}{second:06}","at":"2026-03-01T10:00:{:02}Z","type":"enroll","member":"M{id}","store":"S1"}}"#,
            second % 60
        ))
        .unwrap();
        decide(&Context::new(history), &enroll)
            .unwrap()
            .member
            .unwrap()
    }

    proptest! {
        /// The comparison by bytes says what the comparison member by member says: equal
        /// whatever order the checkpoint holds its members in, and naming the member that
        /// differs when one does.
        #[test]
        fn a_checkpoint_equals_the_replay_in_any_order_and_names_the_member_that_differs(
            ids in prop::collection::btree_set(0u16..5000, 1..40),
            reversed in any::<bool>(),
            changed in any::<prop::sample::Index>(),
            change in any::<bool>(),
        ) {
            let history = PolicyHistory::new(Policy::builtin());
            let (clearing, cards) = (Clearing::default(), CardDirectory::default());
            let states: Vec<MemberState> = ids.iter().map(|&id| enrolled(&history, id, 1)).collect();
            let mut replayed = Members::default();
            for s in &states {
                replayed.insert(Box::new(s.clone()));
            }
            let replay = State { members: &replayed, clearing: &clearing, cards: &cards, history: &history, latest_at: None };
            // A checkpoint holds the compact projections a ledger caches.
            let spending = crate::projection::keeps_spending(&history);
            let compact = |s: MemberState| crate::projection::compact(s, spending);
            let mut written: Vec<MemberState> = states.iter().cloned().map(compact).collect();
            let at = changed.index(written.len());
            if change {
                written[at] = compact(enrolled(&history, *ids.iter().nth(at).unwrap(), 2));
            }
            let mut table = Members::default();
            for s in &written {
                table.insert(Box::new(s.clone()));
            }
            // As this release writes them (by id), or in another order (as a table's).
            let mut order = sorted_members(&table);
            if reversed {
                order.reverse();
            }
            let writer = State { members: &table, ..replay };
            let bytes = encode_in_order(9, &[7; 32], &writer, &order);
            let stored = Stored::read(9, bytes).unwrap();
            prop_assert_eq!(stored.hash, [7; 32]);
            let expected = change.then(|| format!("member {} differs", written[at].member));
            prop_assert_eq!(stored.differs(&replay), expected);
        }
    }

    /// A checkpoint of `n` enrolled members (ids from 1), with the state it was written from.
    fn written(n: u16, history: &PolicyHistory) -> (Members, Vec<u8>) {
        let spending = crate::projection::keeps_spending(history);
        let mut members = Members::default();
        for id in 1..=n {
            let cached = crate::projection::compact(enrolled(history, id, 1), spending);
            members.insert(Box::new(cached));
        }
        let (clearing, cards) = (Clearing::default(), CardDirectory::default());
        let state = State {
            members: &members,
            clearing: &clearing,
            cards: &cards,
            history,
            latest_at: None,
        };
        let bytes = super::super::encode(42, &[5; 32], &state);
        (members, bytes)
    }

    proptest! {
        // A case of more chunks than a batch enrols tens of thousands of members: few cases.
        #![proptest_config(ProptestConfig::with_cases(16))]
        /// Streamed, a checkpoint equals the state it was written from (over several batches
        /// of chunks); any byte changed, any cut or any byte more, and it does not.
        #[test]
        fn a_streamed_checkpoint_equals_its_state_and_nothing_else(
            n in prop_oneof![0u16..50, Just(u16::try_from(MEMBERS_PER_CHUNK * (CHUNKS_AT_ONCE + 1) + 3).unwrap())],
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let history = PolicyHistory::new(Policy::builtin());
            let (members, bytes) = written(n, &history);
            let (clearing, cards) = (Clearing::default(), CardDirectory::default());
            let state = State { members: &members, clearing: &clearing, cards: &cards, history: &history, latest_at: None };
            // One buffer for every comparison, as a replay keeps it from one checkpoint to
            // the next: what an earlier one left in it never counts.
            let mut buf = Vec::new();
            let mut at_place = |b: &[u8], place: (u64, &Hash)| streamed(&mut &b[..], place, &state, &mut buf);
            prop_assert_eq!(at_place(&bytes, (42, &[5; 32])), Streamed::Equal);
            prop_assert_eq!(at_place(&bytes, (42, &[6; 32])), Streamed::Unsure);
            prop_assert_eq!(at_place(&bytes, (41, &[5; 32])), Streamed::Unsure);
            let i = at.index(bytes.len());
            let mut changed = bytes.clone();
            changed[i] ^= flip;
            prop_assert_ne!(at_place(&changed, (42, &[5; 32])), Streamed::Equal);
            prop_assert_ne!(at_place(&bytes[..i], (42, &[5; 32])), Streamed::Equal);
            let mut longer = bytes.clone();
            longer.push(flip);
            prop_assert_ne!(at_place(&longer, (42, &[5; 32])), Streamed::Equal);
            prop_assert_eq!(at_place(&bytes, (42, &[5; 32])), Streamed::Equal);
        }
    }

    /// A working chain's members (lots from other stores, refunds with their consumption
    /// records, packages): each written by hand is what serde writes, most are written by
    /// hand, and streamed, a checkpoint of them equals them.
    #[test]
    fn a_working_chains_members_stream_equal_most_written_by_hand() {
        let ledger = crate::Ledger::in_memory();
        // Some of the workload's commands are refused (a spend past the balance): no matter.
        let results =
            ledger.execute_batch(&memberledger_testkit::steady::workload(3000, 200, 8, 5));
        assert!(results.iter().filter(|r| r.is_ok()).count() > 2000);
        let history = ledger.policy_history();
        let spending = crate::projection::keeps_spending(&history);
        // The replay's members keep their consumption records; a checkpoint holds them as a
        // ledger caches them.
        let (mut members, mut cached) = (Members::default(), Members::default());
        let mut by_hand = 0;
        for id in ledger.member_ids() {
            let state = ledger.member_state(&id).unwrap();
            let (mut ours, mut serdes) = (Vec::new(), Vec::new());
            ciborium::into_writer(&state.compact(spending), &mut serdes).unwrap();
            if state.compact(spending).write_cbor(&mut ours) {
                assert_eq!(ours, serdes, "member {id}");
                by_hand += 1;
            }
            cached.insert(Box::new(crate::projection::compact(
                state.clone(),
                spending,
            )));
            members.insert(Box::new(state));
        }
        assert!(
            by_hand * 10 > members.len() * 9,
            "{by_hand} of {}",
            members.len()
        );
        let (clearing, cards) = (Clearing::default(), CardDirectory::default());
        let state = State {
            members: &members,
            clearing: &clearing,
            cards: &cards,
            history: &history,
            latest_at: None,
        };
        let writer = State {
            members: &cached,
            ..state
        };
        let bytes = super::super::encode(42, &[5; 32], &writer);
        assert_eq!(
            streamed(&mut &bytes[..], (42, &[5; 32]), &state, &mut Vec::new()),
            Streamed::Equal
        );
    }

    #[test]
    fn a_checkpoint_of_another_version_is_not_compared() {
        let history = PolicyHistory::new(Policy::builtin());
        let (members, mut bytes) = written(3, &history);
        bytes[8..12].copy_from_slice(&(CHECKPOINT_VERSION + 1).to_le_bytes());
        let (clearing, cards) = (Clearing::default(), CardDirectory::default());
        let state = State {
            members: &members,
            clearing: &clearing,
            cards: &cards,
            history: &history,
            latest_at: None,
        };
        assert_eq!(
            streamed(&mut &bytes[..], (42, &[5; 32]), &state, &mut Vec::new()),
            Streamed::OtherVersion
        );
    }

    #[test]
    fn a_checkpoint_with_a_member_more_or_less_says_how_many() {
        let history = PolicyHistory::new(Policy::builtin());
        let (clearing, cards) = (Clearing::default(), CardDirectory::default());
        let (mut one, mut two) = (Members::default(), Members::default());
        let spending = crate::projection::keeps_spending(&history);
        let cached = crate::projection::compact(enrolled(&history, 1, 1), spending);
        one.insert(Box::new(cached));
        two.insert(Box::new(enrolled(&history, 1, 1)));
        two.insert(Box::new(enrolled(&history, 2, 1)));
        let written = State {
            members: &one,
            clearing: &clearing,
            cards: &cards,
            history: &history,
            latest_at: None,
        };
        let bytes = super::super::encode(3, &[0; 32], &written);
        let replay = State {
            members: &two,
            ..written
        };
        let stored = Stored::read(3, bytes).unwrap();
        assert_eq!(
            stored.differs(&replay).as_deref(),
            Some("it holds 1 members, the replay 2")
        );
    }
}

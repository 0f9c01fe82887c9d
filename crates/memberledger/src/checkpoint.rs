//! Verified checkpoints: the cached projections (members, clearing, card directory, policy
//! history, the latest event's time) as of a position of the log, tied to that position's
//! stored chain hash, kept by the store beside the log ([`EventStore::write_checkpoint`]).
//!
//! Layout (version 4): the magic `MLCHKPT\0`, the format version (u32, little-endian), the
//! position (u64), its chain hash (32 bytes), the SHA-256 of the payload (32 bytes), and the
//! payload: frames of a length (u64) and CBOR, the first the clearing, card directory, policy
//! history and latest time, each of the others a chunk of up to 4,096 member projections, in
//! the order of their ids (so the chunks are encoded and decoded on every core, and equal
//! projections are the same bytes). A checkpoint is never trusted: `open` uses the latest one
//! only when it decodes whole, its checksum holds, its position is in the log and the log's
//! hash there is its hash, and then replays the tail after it with every check of a replay; a
//! damaged, stale or mismatching one is ignored with a warning. `verify` replays from genesis
//! and checks that every checkpoint equals the replay at its position.

use std::ops::Range;

use memberledger_core::{
    CardDirectory, Clearing, Hash, MemberState, Policy, PolicyHistory, Timestamp,
};
use memberledger_store::EventStore;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::replay::{Members, Projections};

mod check;

pub(crate) use check::difference;

/// The format version this release writes and reads. Version 2: the member projection gained
/// the spending window's entries and the day its tier was reached (tiers by spending and
/// visits). Version 3: amounts are whole cents, times (seconds, nanoseconds) and a holding
/// an array, instead of text and maps (a checkpoint a third the size, decoded several times
/// faster). Version 4: a member's holdings are one byte string of packed entries (varints),
/// instead of an array of arrays: smaller, and read in one piece. A checkpoint of
/// another version is ignored with a warning and the log replayed.
pub const CHECKPOINT_VERSION: u32 = 4;

/// Events between two checkpoints unless a host sets otherwise
/// ([`LedgerOptions`](crate::LedgerOptions)).
pub const CHECKPOINT_EVERY: u64 = 100_000;

const MAGIC: &[u8; 8] = b"MLCHKPT\0";
const HEADER: usize = 8 + 4 + 8 + 32 + 32;

/// Members per chunk of a checkpoint's payload: the chunks are encoded and decoded on every
/// core.
const MEMBERS_PER_CHUNK: usize = 4096;

/// The projections other than the members, as written.
#[derive(Serialize)]
struct RestRef<'a> {
    clearing: &'a Clearing,
    cards: &'a CardDirectory,
    history: &'a PolicyHistory,
    latest_at: Option<Timestamp>,
}

/// The projections other than the members, as read back.
#[derive(Deserialize)]
struct Rest {
    clearing: Clearing,
    cards: CardDirectory,
    history: PolicyHistory,
    latest_at: Option<Timestamp>,
}

/// The projections as read back: the members in their chunks.
pub(crate) struct Snapshot {
    members: Vec<Vec<MemberState>>,
    clearing: Clearing,
    cards: CardDirectory,
    history: PolicyHistory,
    latest_at: Option<Timestamp>,
}

impl Snapshot {
    fn member_count(&self) -> usize {
        self.members.iter().map(Vec::len).sum()
    }
}

/// The parts of a ledger's state a checkpoint holds, borrowed.
pub(crate) struct State<'a> {
    pub members: &'a Members,
    pub clearing: &'a Clearing,
    pub cards: &'a CardDirectory,
    pub history: &'a PolicyHistory,
    pub latest_at: Option<Timestamp>,
}

/// The bytes of a checkpoint of `state` at `position`, whose stored hash is `hash`.
pub(crate) fn encode(position: u64, hash: &Hash, state: &State<'_>) -> Vec<u8> {
    encode_in_order(position, hash, state, &sorted_members(state.members))
}

/// [`encode`] with the members in the order `members` (of `state`'s) gives.
fn encode_in_order(
    position: u64,
    hash: &Hash,
    state: &State<'_>,
    members: &[&MemberState],
) -> Vec<u8> {
    let payload = encode_payload(state, members);
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&CHECKPOINT_VERSION.to_le_bytes());
    out.extend_from_slice(&position.to_le_bytes());
    out.extend_from_slice(hash);
    out.extend_from_slice(&Sha256::digest(&payload));
    out.extend_from_slice(&payload);
    out
}

/// The payload: frames of a length (u64, little-endian) and CBOR, the first the projections
/// other than the members, each of the others up to [`MEMBERS_PER_CHUNK`] members.
fn encode_payload(state: &State<'_>, members: &[&MemberState]) -> Vec<u8> {
    let chunks: Vec<Vec<u8>> = members.par_chunks(MEMBERS_PER_CHUNK).map(cbor).collect();
    let rest = cbor(&RestRef {
        clearing: state.clearing,
        cards: state.cards,
        history: state.history,
        latest_at: state.latest_at,
    });
    let mut out = Vec::with_capacity(
        8 * (1 + chunks.len()) + rest.len() + chunks.iter().map(Vec::len).sum::<usize>(),
    );
    for frame in std::iter::once(&rest).chain(&chunks) {
        out.extend_from_slice(&(frame.len() as u64).to_le_bytes());
        out.extend_from_slice(frame);
    }
    out
}

/// The member projections in the order a checkpoint holds them: by id, so that equal
/// projections are always the same bytes (the table's own order depends on its history).
/// `verify` compares a checkpoint with the replay by encoding the replay's members in this
/// order and comparing bytes ([`check`]).
fn sorted_members(members: &Members) -> Vec<&MemberState> {
    sorted_by_id(members.values().collect(), |m| m.member.as_str())
}

/// `items` sorted by their ids, on every core. Each id's first bytes are taken once and kept
/// beside its item, so that most comparisons read no item (a cache miss each, in a table of
/// a hundred thousand members and more); only ids alike in those bytes are compared whole.
fn sorted_by_id<T: Send + Sync>(items: Vec<T>, id: impl Fn(&T) -> &str + Sync) -> Vec<T> {
    let mut keyed: Vec<(u128, T)> = items.into_iter().map(|t| (id_prefix(id(&t)), t)).collect();
    keyed.par_sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| id(&a.1).cmp(id(&b.1))));
    keyed.into_iter().map(|(_, t)| t).collect()
}

/// The first 16 bytes of `id` as a big-endian number, zeros past its end: two ids whose
/// prefixes differ are ordered as their prefixes are (a shorter id that the other begins
/// with comes first, as its zeros do).
fn id_prefix(id: &str) -> u128 {
    let mut b = [0u8; 16];
    let n = id.len().min(16);
    b[..n].copy_from_slice(&id.as_bytes()[..n]);
    u128::from_be_bytes(b)
}

/// A value's CBOR.
fn cbor<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut bytes = Vec::new();
    ciborium::into_writer(value, &mut bytes).expect("projections encode to a Vec");
    bytes
}

/// Splits a payload into its frames: where each lies in it.
fn frames(payload: &[u8]) -> Result<Vec<Range<usize>>, String> {
    let mut frames = Vec::new();
    let mut at = 0;
    while at < payload.len() {
        let len = payload[at..]
            .first_chunk::<8>()
            .ok_or("it does not decode: a frame's length is cut")?;
        let len = usize::try_from(u64::from_le_bytes(*len)).unwrap_or(usize::MAX);
        let start = at + 8;
        if len > payload.len() - start {
            return Err("it does not decode: a frame runs past the end".into());
        }
        frames.push(start..start + len);
        at = start + len;
    }
    Ok(frames)
}

/// What a frame that does not decode is.
fn undecodable(e: ciborium::de::Error<std::io::Error>) -> String {
    format!("it does not decode: {e}")
}

/// A payload's first frame decoded (the projections other than the members), and where each
/// chunk of members lies in it.
fn split_payload(payload: &[u8]) -> Result<(Rest, Vec<Range<usize>>), String> {
    let mut frames = frames(payload)?;
    if frames.is_empty() {
        return Err("it does not decode: no projections".into());
    }
    let rest = frames.remove(0);
    let rest: Rest = ciborium::from_reader(&payload[rest]).map_err(undecodable)?;
    Ok((rest, frames))
}

/// The member chunks at `chunks` of `bytes`, decoded on every core.
fn decode_chunks(bytes: &[u8], chunks: &[Range<usize>]) -> Result<Vec<Vec<MemberState>>, String> {
    chunks
        .par_iter()
        .map(|chunk| ciborium::from_reader(&bytes[chunk.clone()]).map_err(undecodable))
        .collect()
}

/// Decodes a payload, its member chunks on every core.
fn decode_payload(payload: &[u8]) -> Result<Snapshot, String> {
    let (rest, chunks) = split_payload(payload)?;
    let members = decode_chunks(payload, &chunks)?;
    Ok(Snapshot {
        members,
        clearing: rest.clearing,
        cards: rest.cards,
        history: rest.history,
        latest_at: rest.latest_at,
    })
}

/// A checkpoint read back: where it stands and what it holds.
pub(crate) struct Decoded {
    pub hash: Hash,
    pub snapshot: Snapshot,
}

/// Whether `bytes` are a checkpoint (by its magic) in another format version than this
/// release's: the open passes it over with a warning, and `verify` does not compare it.
pub(crate) fn another_version(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER
        && &bytes[..8] == MAGIC
        && u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) != CHECKPOINT_VERSION
}

/// Decodes a checkpoint's bytes, checking its magic, version and checksum, and that it says
/// it is at `position` (where the store keeps it).
pub(crate) fn decode(position: u64, bytes: &[u8]) -> Result<Decoded, String> {
    let (hash, payload) = checked(position, bytes)?;
    let snapshot = decode_payload(payload)?;
    Ok(Decoded { hash, snapshot })
}

/// The stored chain hash and the payload of a checkpoint's bytes, once its magic, version,
/// position (`position`, where the store keeps it) and checksum are found sound.
fn checked(position: u64, bytes: &[u8]) -> Result<(Hash, &[u8]), String> {
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err("not a checkpoint (too short, or no magic)".into());
    }
    let word = |at: usize| -> [u8; 8] { bytes[at..at + 8].try_into().expect("8 bytes") };
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != CHECKPOINT_VERSION {
        return Err(format!(
            "format version {version}, this release reads {CHECKPOINT_VERSION}"
        ));
    }
    let at = u64::from_le_bytes(word(12));
    if at != position {
        return Err(format!("it says position {at}"));
    }
    let hash: Hash = bytes[20..52].try_into().expect("32 bytes");
    let payload = &bytes[HEADER..];
    if Sha256::digest(payload).as_slice() != &bytes[52..84] {
        return Err("its checksum does not match (damaged)".into());
    }
    Ok((hash, payload))
}

/// The projections of the latest checkpoint that can be used over this log: it decodes, its
/// checksum holds, its position is in the log (at most `head`), the log's stored hash there is
/// its hash, and its founding policy is the ledger's. Each one passed over is a note (a
/// warning); none usable is `None` (the caller replays from genesis). A checkpoint decoded
/// ahead ([`prefetch`]) is taken for its position instead of being read again, and checked
/// the same way.
pub(crate) fn load_latest(
    store: &dyn EventStore,
    founding: &Policy,
    head: u64,
    mut prefetched: Option<Prefetched>,
) -> (Option<Projections>, Vec<String>) {
    let mut notes = Vec::new();
    let positions = match store.checkpoint_positions() {
        Ok(p) => p,
        Err(e) => {
            notes.push(format!(
                "checkpoints cannot be listed ({e}); replaying from genesis"
            ));
            return (None, notes);
        }
    };
    for &position in positions.iter().rev() {
        let ahead = prefetched
            .take_if(|p| p.position == position)
            .map(|p| p.loaded);
        match usable(store, founding, head, position, ahead) {
            Ok(p) => return (Some(p), notes),
            Err(why) => notes.push(format!(
                "the checkpoint at position {position} is ignored: {why}"
            )),
        }
    }
    (None, notes)
}

/// The checkpoint at `position` (decoded ahead, or read from the store now) when it can be
/// used over this log.
fn usable(
    store: &dyn EventStore,
    founding: &Policy,
    head: u64,
    position: u64,
    ahead: Option<Result<Projections, String>>,
) -> Result<Projections, String> {
    if position == 0 || position > head {
        return Err(format!("the log ends at {head} (stale)"));
    }
    let p = match ahead {
        Some(loaded) => loaded?,
        None => {
            let bytes = store
                .read_checkpoint(position)
                .map_err(|e| format!("it cannot be read: {e}"))?
                .ok_or("it is gone")?;
            projections(position, &bytes)?
        }
    };
    let stored = store
        .read_raw(position, 1)
        .map_err(|e| format!("the log cannot be read there: {e}"))?;
    if stored.first().map(|r| (r.position, r.hash)) != Some((position, p.hash)) {
        return Err("its hash is not the log's at its position".into());
    }
    if p.history.versions().first().map(|v| &*v.policy) != Some(founding) {
        return Err("its founding policy is not the ledger's".into());
    }
    Ok(p)
}

/// A checkpoint's bytes decoded into the projections a ledger caches, not yet checked against
/// any log.
fn projections(position: u64, bytes: &[u8]) -> Result<Projections, String> {
    let d = decode(position, bytes)?;
    let s = d.snapshot;
    let mut members = Members::with_capacity(s.member_count());
    for m in s.members.into_iter().flatten() {
        members.insert(Box::new(m));
    }
    Ok(Projections {
        members,
        clearing: s.clearing,
        cards: s.cards,
        history: s.history,
        latest_at: s.latest_at,
        position,
        hash: d.hash,
    })
}

/// Where both embedded stores keep a ledger's checkpoints, in the ledger's directory (sled's
/// and the file store's `checkpoints/`; a test holds them to it).
#[cfg(feature = "sled")]
const CHECKPOINT_DIR: &str = "checkpoints";

/// The latest checkpoint in a ledger's directory, read and decoded before the store is open:
/// what [`prefetch`] returns, for [`load_latest`] to check against the log once it is.
pub(crate) struct Prefetched {
    position: u64,
    loaded: Result<Projections, String>,
}

/// Reads and decodes the latest checkpoint in the ledger's directory `dir`, beside the
/// store's own open (the index it loads and the tail it scans): at a million members the two
/// took seconds each, one after the other. Nothing is trusted here: [`load_latest`] checks
/// it against the log as any checkpoint. `None` when there is none, or it cannot be read now
/// (the store reads it again then, and says why).
#[cfg(feature = "sled")]
pub(crate) fn prefetch(dir: &std::path::Path) -> Option<Prefetched> {
    let files =
        memberledger_store::checkpoint_files::CheckpointFiles::new(dir.join(CHECKPOINT_DIR));
    let position = *files.positions().last()?;
    let bytes = files.read(position).ok().flatten()?;
    Some(Prefetched {
        position,
        loaded: projections(position, &bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn framed(parts: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in parts {
            out.extend_from_slice(&(p.len() as u64).to_le_bytes());
            out.extend_from_slice(p);
        }
        out
    }

    #[test]
    fn frames_split_as_written() {
        let payload = framed(&[b"abc", b"", b"defg"]);
        let split: Vec<&[u8]> = frames(&payload)
            .unwrap()
            .into_iter()
            .map(|r| &payload[r])
            .collect();
        assert_eq!(split, vec![&b"abc"[..], b"", b"defg"]);
        assert!(frames(&[]).unwrap().is_empty());
    }

    #[test]
    fn a_cut_or_overlong_frame_is_an_error() {
        let payload = framed(&[b"abc", b"defg"]);
        for cut in 1..payload.len() {
            if cut == 11 {
                continue; // the end of the first frame: a shorter but whole payload
            }
            assert!(frames(&payload[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = framed(&[b"abc"]);
        long[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(frames(&long).is_err());
    }

    #[test]
    fn a_payload_without_projections_does_not_decode() {
        assert!(decode_payload(&[]).is_err());
        assert!(decode_payload(&framed(&[b"\xff\x00"])).is_err());
    }

    /// Both embedded stores keep checkpoints where `prefetch` looks for them, and an open
    /// takes what it decodes ahead.
    #[cfg(feature = "sled")]
    #[test]
    fn prefetch_finds_the_stores_latest_checkpoint() {
        use crate::{Command, Ledger, LedgerOptions, StoreKind};
        for kind in [StoreKind::Sled, StoreKind::File] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("ledger");
            let options = LedgerOptions::default().with_store_kind(kind);
            let ledger = Ledger::create_with(&path, Policy::builtin(), &options).unwrap();
            assert!(prefetch(&path).is_none(), "{kind:?}: no checkpoint yet");
            let enroll = r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#;
            ledger
                .execute(&Command::from_json(enroll).unwrap())
                .unwrap();
            let at = ledger.checkpoint().unwrap().expect("a checkpoint");
            let ahead = prefetch(&path).expect("the checkpoint is found");
            assert_eq!(ahead.position, at, "{kind:?}");
            let ahead = ahead.loaded.expect("it decodes");
            assert_eq!((ahead.position, ahead.members.len()), (at, 1));
            assert_eq!(ahead.hash, ledger.head().unwrap().hash);
            ledger.close();
            let again = Ledger::open_existing(&path).unwrap();
            assert!(again.open_notes().is_empty(), "{:?}", again.open_notes());
            assert_eq!(again.member_ids().len(), 1);
        }
    }

    proptest! {
        #[test]
        fn ids_sorted_by_their_prefixes_first_are_in_the_order_of_the_ids(
            ids in proptest::collection::vec(
                prop_oneof!["[a-c]{0,20}", "[A-Za-z0-9_.-]{1,40}", "\\PC{0,20}", "a{15,17}[\\x00-\\x02]{0,2}"],
                0..300,
            ),
        ) {
            let mut expected = ids.clone();
            expected.sort();
            prop_assert_eq!(sorted_by_id(ids, |s| s.as_str()), expected);
        }

        #[test]
        fn any_payload_decodes_or_fails_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_payload(&bytes);
        }
    }
}

//! Verified checkpoints: the cached projections (members, clearing, card directory, policy
//! history, the latest event's time) as of a position of the log, tied to that position's
//! stored chain hash, kept by the store beside the log ([`EventStore::write_checkpoint`]).
//!
//! Layout (version 1): the magic `MLCHKPT\0`, the format version (u32, little-endian), the
//! position (u64), its chain hash (32 bytes), the SHA-256 of the payload (32 bytes), and the
//! payload: the projections in CBOR. A checkpoint is never trusted: `open` uses the latest one
//! only when it decodes whole, its checksum holds, its position is in the log and the log's
//! hash there is its hash, and then replays the tail after it with every check of a replay; a
//! damaged, stale or mismatching one is ignored with a warning. `verify` replays from genesis
//! and checks that every checkpoint equals the replay at its position.

use memberledger_core::{
    CardDirectory, Clearing, Hash, MemberState, Policy, PolicyHistory, Timestamp,
};
use memberledger_store::EventStore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::replay::{Members, Projections};

/// The format version this release writes and reads. Version 2: the member projection gained
/// the spending window's entries and the day its tier was reached (tiers by spending and
/// visits); a version-1 checkpoint is ignored with a warning and the log replayed.
pub const CHECKPOINT_VERSION: u32 = 2;

/// Events between two checkpoints unless a host sets otherwise
/// ([`LedgerOptions`](crate::LedgerOptions)).
pub const CHECKPOINT_EVERY: u64 = 100_000;

const MAGIC: &[u8; 8] = b"MLCHKPT\0";
const HEADER: usize = 8 + 4 + 8 + 32 + 32;

/// The projections as written.
#[derive(Serialize)]
struct SnapshotRef<'a> {
    members: Vec<&'a MemberState>,
    clearing: &'a Clearing,
    cards: &'a CardDirectory,
    history: &'a PolicyHistory,
    latest_at: Option<Timestamp>,
}

/// The projections as read back.
#[derive(Deserialize)]
pub(crate) struct Snapshot {
    members: Vec<MemberState>,
    clearing: Clearing,
    cards: CardDirectory,
    history: PolicyHistory,
    latest_at: Option<Timestamp>,
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
    let snapshot = SnapshotRef {
        members: state.members.values().map(|s| &**s).collect(),
        clearing: state.clearing,
        cards: state.cards,
        history: state.history,
        latest_at: state.latest_at,
    };
    let mut payload = Vec::new();
    ciborium::into_writer(&snapshot, &mut payload).expect("projections encode to a Vec");
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&CHECKPOINT_VERSION.to_le_bytes());
    out.extend_from_slice(&position.to_le_bytes());
    out.extend_from_slice(hash);
    out.extend_from_slice(&Sha256::digest(&payload));
    out.extend_from_slice(&payload);
    out
}

/// A checkpoint read back: where it stands and what it holds.
pub(crate) struct Decoded {
    pub hash: Hash,
    pub snapshot: Snapshot,
}

/// Decodes a checkpoint's bytes, checking its magic, version and checksum, and that it says
/// it is at `position` (where the store keeps it).
pub(crate) fn decode(position: u64, bytes: &[u8]) -> Result<Decoded, String> {
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
    let snapshot: Snapshot =
        ciborium::from_reader(payload).map_err(|e| format!("it does not decode: {e}"))?;
    Ok(Decoded { hash, snapshot })
}

/// The projections of the latest checkpoint that can be used over this log: it decodes, its
/// checksum holds, its position is in the log (at most `head`), the log's stored hash there is
/// its hash, and its founding policy is the ledger's. Each one passed over is a note (a
/// warning); none usable is `None` (the caller replays from genesis).
pub(crate) fn load_latest(
    store: &dyn EventStore,
    founding: &Policy,
    head: u64,
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
        match usable(store, founding, head, position) {
            Ok(p) => return (Some(p), notes),
            Err(why) => notes.push(format!(
                "the checkpoint at position {position} is ignored: {why}"
            )),
        }
    }
    (None, notes)
}

fn usable(
    store: &dyn EventStore,
    founding: &Policy,
    head: u64,
    position: u64,
) -> Result<Projections, String> {
    if position == 0 || position > head {
        return Err(format!("the log ends at {head} (stale)"));
    }
    let bytes = store
        .read_checkpoint(position)
        .map_err(|e| format!("it cannot be read: {e}"))?
        .ok_or("it is gone")?;
    let d = decode(position, &bytes)?;
    let stored = store
        .read_raw(position, 1)
        .map_err(|e| format!("the log cannot be read there: {e}"))?;
    if stored.first().map(|r| (r.position, r.hash)) != Some((position, d.hash)) {
        return Err("its hash is not the log's at its position".into());
    }
    let s = d.snapshot;
    if s.history.versions().first().map(|v| &*v.policy) != Some(founding) {
        return Err("its founding policy is not the ledger's".into());
    }
    Ok(Projections {
        members: s
            .members
            .into_iter()
            .map(|m| (m.member.clone(), Box::new(m)))
            .collect(),
        clearing: s.clearing,
        cards: s.cards,
        history: s.history,
        latest_at: s.latest_at,
        position,
        hash: d.hash,
    })
}

/// How a checkpoint differs from the replay's state at its position (`members` may keep
/// consumption records: they are compared as the compact projection a ledger caches), or
/// `None` when it equals it.
pub(crate) fn differs(snapshot: &Snapshot, state: &State<'_>) -> Option<String> {
    if snapshot.members.len() != state.members.len() {
        return Some(format!(
            "it holds {} members, the replay {}",
            snapshot.members.len(),
            state.members.len()
        ));
    }
    for m in &snapshot.members {
        let same = state.members.get(&m.member).is_some_and(|fresh| {
            let spending = crate::projection::keeps_spending(state.history);
            let compact = crate::projection::compact(MemberState::clone(fresh), spending);
            compact == *m
        });
        if !same {
            return Some(format!("member {} differs", m.member));
        }
    }
    if snapshot.clearing != *state.clearing {
        return Some("the inter-store clearing differs".into());
    }
    if snapshot.cards != *state.cards {
        return Some("the card directory differs".into());
    }
    if snapshot.history != *state.history || snapshot.latest_at != state.latest_at {
        return Some("the policy history differs".into());
    }
    None
}

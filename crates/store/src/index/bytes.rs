//! The index as bytes: what a store keeps in a snapshot beside a checkpoint, and reads back on
//! open instead of rebuilding the index from the log.

use memberledger_core::{MemberId, Uuid};

use super::{Index, Map, Slot, Stream};

/// A length as eight little-endian bytes.
fn len_bytes(n: usize) -> [u8; 8] {
    u64::try_from(n).unwrap_or(u64::MAX).to_le_bytes()
}

/// Reads the snapshot form of an index ([`Index::to_bytes`]).
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = self.0.split_at_checked(n)?;
        self.0 = b;
        Some(a)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.u64()?).ok()
    }
}

impl Index {
    /// The index as bytes, for a snapshot a store keeps beside a checkpoint (read back with
    /// [`from_bytes`](Index::from_bytes)): the head, each member's stream (id, last position,
    /// version, the varint deltas), each command's place. Not a checked format: the store
    /// closes it with its own checksum.
    pub fn to_bytes(&self) -> Vec<u8> {
        debug_assert!(self.held.is_empty(), "places held: enter them first");
        let mut v = Vec::with_capacity(48 + self.commands.len() * 32 + self.streams.len() * 48);
        v.extend_from_slice(&self.head.position.to_le_bytes());
        v.extend_from_slice(&self.head.hash);
        v.extend_from_slice(&len_bytes(self.streams.len()));
        for s in &self.streams {
            let id = s.id.as_str().as_bytes();
            v.extend_from_slice(&len_bytes(id.len()));
            v.extend_from_slice(id);
            v.extend_from_slice(&s.last.to_le_bytes());
            v.extend_from_slice(&s.version.to_le_bytes());
            v.extend_from_slice(&len_bytes(s.deltas.len()));
            v.extend_from_slice(&s.deltas);
        }
        v.extend_from_slice(&len_bytes(self.commands.len()));
        for (id, slot) in &self.commands {
            v.extend_from_slice(id.as_bytes());
            v.extend_from_slice(&slot.first_position.to_le_bytes());
            v.extend_from_slice(&slot.member.to_le_bytes());
            v.extend_from_slice(&slot.count.to_le_bytes());
        }
        v
    }

    /// The index [`to_bytes`](Index::to_bytes) wrote; `None` when the bytes are not one, or
    /// name a position past the head (an index a store could not go on appending to).
    ///
    /// The streams and the command table are read on two cores: the streams' part is found
    /// first by its lengths alone.
    pub fn from_bytes(bytes: &[u8]) -> Option<Index> {
        let mut b = Bytes(bytes);
        let mut index = Index::default();
        index.head.position = b.u64()?;
        index.head.hash = b.take(32)?.try_into().ok()?;
        let streams = b.len()?;
        let (streams_part, commands_part) = split_streams(b.0, streams)?;
        let head = index.head.position;
        let (read, commands) = rayon::join(
            || read_streams(streams_part, (streams, head)),
            || read_commands(commands_part, (streams, head)),
        );
        (index.members, index.streams) = read?;
        index.commands = commands?;
        Some(index)
    }
}

/// `bytes` cut where the `streams` streams that begin it end: the streams' part and the
/// commands' part.
fn split_streams(bytes: &[u8], streams: usize) -> Option<(&[u8], &[u8])> {
    let mut b = Bytes(bytes);
    for _ in 0..streams {
        let id_len = b.len()?;
        b.take(id_len.checked_add(16)?)?;
        let deltas_len = b.len()?;
        b.take(deltas_len)?;
    }
    Some(bytes.split_at(bytes.len() - b.0.len()))
}

/// The member map and the `streams` streams of the streams' part of an index's bytes, none
/// past the index's `head` position.
fn read_streams(
    bytes: &[u8],
    (streams, head): (usize, u64),
) -> Option<(Map<MemberId, u32>, Vec<Stream>)> {
    let mut b = Bytes(bytes);
    // Sized once (bounded by what the bytes can hold: a stream takes 25 bytes at least).
    let mut members = Map::default();
    members.reserve(streams.min(bytes.len() / 25));
    let mut list = Vec::with_capacity(streams.min(bytes.len() / 25));
    for i in 0..streams {
        let id_len = b.len()?;
        let id = MemberId::decode_str(std::str::from_utf8(b.take(id_len)?).ok()?).ok()?;
        let (last, version) = (b.u64()?, b.u64()?);
        if last > head || version > head {
            return None;
        }
        let deltas_len = b.len()?;
        let deltas = b.take(deltas_len)?.to_vec();
        members.insert(id.clone(), u32::try_from(i).ok()?);
        list.push(Stream {
            id,
            deltas,
            last,
            version,
        });
    }
    (members.len() == list.len()).then_some((members, list))
}

/// The command table of the commands' part of an index's bytes, each naming one of `streams`
/// and lying within the index's `head` position.
fn read_commands(bytes: &[u8], (streams, head): (usize, u64)) -> Option<Map<Uuid, Slot>> {
    let mut b = Bytes(bytes);
    let count = b.len()?;
    let mut commands = Map::default();
    commands.reserve(count.min(bytes.len() / 32));
    for _ in 0..count {
        let id = Uuid::from_slice(b.take(16)?).ok()?;
        let (first_position, member, count) = (b.u64()?, b.u32()?, b.u32()?);
        let end = first_position.checked_add(u64::from(count))?;
        if usize::try_from(member).ok()? >= streams
            || first_position == 0
            || count == 0
            || end > head.saturating_add(1)
        {
            return None;
        }
        commands.insert(
            id,
            Slot {
                first_position,
                member,
                count,
            },
        );
    }
    b.0.is_empty().then_some(commands)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::Index;

    /// An index of ten commands of one to three events, over four members.
    fn index() -> Index {
        let commands: Vec<(u8, u32)> = (0..10u8).map(|i| (i % 4, u32::from(i % 3) + 1)).collect();
        super::super::audit::tests::index(&commands)
    }

    proptest! {
        /// Any byte of an index's bytes changed: read back as no index, or as one whose
        /// positions lie within its head (what a store appends after), and never a panic,
        /// there or when its streams are held to its commands.
        #[test]
        fn an_index_read_from_any_bytes_names_no_position_past_its_head(
            pick in any::<proptest::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let mut bytes = index().to_bytes();
            let i = pick.index(bytes.len());
            bytes[i] ^= flip;
            if let Some(read) = Index::from_bytes(&bytes) {
                let head = read.head().position;
                prop_assert!(read.streams.iter().all(|s| s.last <= head && s.version <= head));
                prop_assert!(read
                    .commands
                    .values()
                    .all(|c| c.first_position >= 1 && c.first_position + u64::from(c.count) <= head + 1));
                let _ = read.streams_problem();
            }
        }
    }
}

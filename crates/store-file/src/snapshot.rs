//! Index snapshots: the index and the frame table as of a checkpoint's position, kept beside
//! the checkpoints (`index/`, one file a position, written whole or not at all, the latest two
//! kept), so a writable open loads the latest one and scans only the frames after it. A
//! snapshot is a speed-up, never trusted over the log: it must close with its CRC, name a
//! frame that is still in the log with the same last hash, and anything wrong with it means a
//! full scan (with a warning). A read-only open (what `verify` uses) always scans everything.
//!
//! Layout: `MLIDX1`, the frame count and each frame (first position, offset, segment, length),
//! then the index's bytes (`Index::to_bytes`), closed by a CRC-32 of all before it.

use memberledger_store::checkpoint_files::CheckpointFiles;
use memberledger_store::record::decode_chunk_with;
use memberledger_store::Index;

use crate::frame::{body, read_header};
use crate::scan::{FrameAt, Scanned};
use crate::segments;

const MAGIC: &[u8] = b"MLIDX1";

/// The snapshot bytes of `index` and `frames`.
pub(crate) fn encode(index: &Index, frames: &[FrameAt]) -> Vec<u8> {
    let ix = index.to_bytes();
    let mut v = Vec::with_capacity(MAGIC.len() + 12 + frames.len() * 24 + ix.len());
    v.extend_from_slice(MAGIC);
    v.extend_from_slice(
        &u64::try_from(frames.len())
            .unwrap_or(u64::MAX)
            .to_le_bytes(),
    );
    for f in frames {
        v.extend_from_slice(&f.first.to_le_bytes());
        v.extend_from_slice(&f.offset.to_le_bytes());
        v.extend_from_slice(&f.segment.to_le_bytes());
        v.extend_from_slice(&f.len.to_le_bytes());
    }
    v.extend_from_slice(&ix);
    let crc = crc32fast::hash(&v);
    v.extend_from_slice(&crc.to_le_bytes());
    v
}

/// The index and frame table in snapshot `bytes`, if they close with their CRC.
fn decode(bytes: &[u8]) -> Option<(Index, Vec<FrameAt>)> {
    let (v, crc) = bytes.split_at(bytes.len().checked_sub(4)?);
    if crc32fast::hash(v).to_le_bytes() != crc || !v.starts_with(MAGIC) {
        return None;
    }
    let mut rest = &v[MAGIC.len()..];
    let mut take = |n: usize| -> Option<&[u8]> {
        let (a, b) = rest.split_at_checked(n)?;
        rest = b;
        Some(a)
    };
    let u64_of = |b: &[u8]| b.try_into().ok().map(u64::from_le_bytes);
    let u32_of = |b: &[u8]| b.try_into().ok().map(u32::from_le_bytes);
    let count = usize::try_from(u64_of(take(8)?)?).ok()?;
    let mut frames = Vec::with_capacity(count.min(v.len() / 24));
    for _ in 0..count {
        let f = take(24)?;
        frames.push(FrameAt {
            first: u64_of(&f[..8])?,
            offset: u64_of(&f[8..16])?,
            segment: u32_of(&f[16..20])?,
            len: u32_of(&f[20..])?,
        });
    }
    Some((Index::from_bytes(rest)?, frames))
}

/// The latest usable snapshot in `files` for the log in `dir`: its index and frames, checked
/// against the log (the last frame is still there, whole, and ends at the index's head with
/// its hash). A snapshot that is not usable is passed over with a warning.
pub(crate) fn latest(dir: &std::path::Path, files: &CheckpointFiles) -> Option<Scanned> {
    let position = *files.positions().last()?;
    let usable = files
        .read(position)
        .ok()
        .flatten()
        .and_then(|bytes| decode(&bytes))
        .filter(|(index, frames)| index.head().position == position && agrees(dir, index, frames));
    let Some((index, frames)) = usable else {
        eprintln!(
            "memberledger: warning: the index snapshot at position {position} in {} is damaged or does not match the log; scanning the whole log",
            files.dir().display()
        );
        return None;
    };
    let last = frames.last().copied();
    Some(Scanned {
        index,
        frames,
        end: last.map_or(0, |f| f.offset + u64::from(f.len)),
        ..Scanned::default()
    })
}

/// Whether the snapshot's last frame is still in the log, whole, and ends at its head.
fn agrees(dir: &std::path::Path, index: &Index, frames: &[FrameAt]) -> bool {
    let Some(f) = frames.last() else {
        return index.head().position == 0;
    };
    let Ok(file) = segments::open(dir, f.segment, false) else {
        return false;
    };
    let mut bytes = vec![0u8; usize::try_from(f.len).unwrap_or(0)];
    if segments::read_at(&file, &mut bytes, f.offset).is_err() {
        return false;
    }
    let Some(records) = read_header(&bytes)
        .and_then(|h| body(&bytes, h))
        .and_then(|b| decode_chunk_with(f.first, b, false).ok())
    else {
        return false;
    };
    records.last().is_some_and(|r| {
        let end = r.record.first_position + u64::from(r.record.count) - 1;
        end == index.head().position
            && r.events
                .last()
                .is_some_and(|(h, _)| *h == index.head().hash)
    })
}

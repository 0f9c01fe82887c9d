//! Index snapshots: the index and the frame table as of a checkpoint's position, kept beside
//! the checkpoints (`index/`, one file a position, written whole or not at all, the latest two
//! kept), so a writable open loads the latest one and scans only the frames after it. A
//! snapshot is a speed-up, never trusted over the log: it must close with its CRC, its frames
//! must follow one another through the segments from position 1, its last frame must still be
//! in the log with the same last hash, and anything wrong with it means a full scan (with a
//! warning). A read-only open scans everything, except one for `verify`
//! ([`FileStore::open_to_verify`](crate::FileStore::open_to_verify)), whose replay reads the
//! whole log through the snapshot's index and frames and then holds them to it
//! ([`problem`]): a snapshot that does not match is `verify`'s problem, and it verifies again
//! from a full scan.
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
        .filter(|(index, frames)| {
            index.head().position == position
                && frames_problem(frames, &segment_lens(dir, frames)).is_none()
                && agrees(dir, index, frames)
        });
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
                .is_some_and(|(h, _, _)| *h == index.head().hash)
    })
}

/// What is wrong with an index loaded from a snapshot, held to the log a replay has just read
/// through it whole (every event placed by the index, each command's place and count checked),
/// or `None`: `commands` is how many commands the replay met. (The frames were held to the
/// segments when the snapshot was loaded, [`latest`].) With the replay's checks, an index
/// that passes is the one a scan of the log builds.
pub(crate) fn problem(index: &Index, commands: u64) -> Option<String> {
    let indexed = index.commands() as u64;
    if indexed != commands {
        return Some(format!(
            "its index holds {indexed} commands, the log {commands}"
        ));
    }
    index.streams_problem()
}

/// The lengths of the segments up to the last of `frames`, as far as they are there (a
/// forged frame may name any segment: the list ends at the first one missing, and a frame in
/// a segment past it follows nothing).
fn segment_lens(dir: &std::path::Path, frames: &[FrameAt]) -> Vec<u64> {
    let last = frames.last().map_or(0, |f| f.segment);
    (0..=last)
        .map_while(|n| std::fs::metadata(dir.join(segments::name(n))).ok())
        .map(|m| m.len())
        .collect()
}

/// What is wrong with `frames`, or `None`: they must follow one another from byte 0 of
/// segment 0 and position 1, ascending by position, filling each segment of `lens` but the
/// last to its length, and ending within the last (the open scans on from there). Held to the
/// segments when a snapshot is loaded: reads find events through the frames, and the bytes
/// they skipped would be bytes no scan read.
fn frames_problem(frames: &[FrameAt], lens: &[u64]) -> Option<String> {
    let Some(last) = lens.len().checked_sub(1) else {
        return (!frames.is_empty()).then(|| "its first segment is not there".into());
    };
    if frames.first().is_some_and(|f| f.first != 1) {
        return Some("its first frame is not at position 1".into());
    }
    let (mut segment, mut at, mut first) = (0usize, 0u64, 0u64);
    for f in frames {
        // The segments before this frame's: each whole.
        while (f.segment as usize) > segment && segment < last && at == lens[segment] {
            (segment, at) = (segment + 1, 0);
        }
        if f.segment as usize != segment || f.offset != at || f.first <= first {
            return Some(format!(
                "its frame of position {} (segment {}, byte {}) does not follow the one before",
                f.first,
                segments::name(f.segment),
                f.offset
            ));
        }
        (at, first) = (at.saturating_add(u64::from(f.len)), f.first);
    }
    (at > lens[segment]).then(|| {
        format!(
            "its frames end at segment {}, byte {at}, past the segment's end",
            segments::name(u32::try_from(segment).unwrap_or(u32::MAX)),
        )
    })
}

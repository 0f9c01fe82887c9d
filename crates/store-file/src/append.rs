//! The write path: a batch sealed against the index, its records framed (chunks of at most
//! `FRAME_BYTES`, the last frame flagged), written at the end of the last segment and synced,
//! then the index and frame table updated. A failure truncates the segment back to its
//! acknowledged length and records nothing.
//!
//! An append of several frames is made durable in two steps: the frames before its last are
//! written and synced, then the last one (the frame that says the append is finished). A
//! disk may keep the pages of one unsynced write in any order when the power fails; written
//! at once, an append's last frame could survive whole after an earlier frame was lost, and
//! the scan, finding a damaged frame with a finished append after it, would have to call the
//! log corrupt. In two steps, a finished append on disk always has every frame before it
//! whole: a crash leaves at most a torn tail, which the next open removes.

use std::sync::Arc;

use memberledger_core::RecordedEvent;
use memberledger_store::record::{chunk_layout, encode_chunk_into, record_len};
use memberledger_store::{Append, AppendConflict, Index, Sealed, StoreError};

use crate::faults::Fault;
use crate::frame::{self, FRAME_BYTES};
use crate::scan::FrameAt;
use crate::segments::{self, storage};
use crate::{poisoned, FileStore, Writer};

type Outcomes = Vec<Result<Vec<RecordedEvent>, AppendConflict>>;

impl FileStore {
    /// The writer, when this store may write (not read-only, no failure left undone).
    pub(crate) fn writable(&self) -> Result<std::sync::MutexGuard<'_, Writer>, StoreError> {
        if self.is_read_only() {
            return Err(StoreError::storage(format!(
                "the ledger at {} is read-only here: it was opened for reading; writes are refused",
                self.dir.display()
            )));
        }
        let writer = self.writer.lock().map_err(|_| poisoned())?;
        if let Some(why) = &writer.failed {
            return Err(StoreError::storage(format!(
                "an earlier write failed and could not be undone ({why}); reopen the ledger to continue"
            )));
        }
        Ok(writer)
    }

    pub(crate) fn append_inner(&self, batch: Vec<Append>) -> Result<Outcomes, StoreError> {
        let mut writer = self.writable()?;
        let fault = self.faults.take();
        let (outcome, sealed) = self.state()?.index.seal(batch)?;
        if sealed.is_empty() {
            return Ok(Index::outcomes(outcome, sealed));
        }
        let (bytes, frames) = framed(&sealed);
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if writer.end > 0 && writer.end.saturating_add(size) > writer.segment_bytes {
            self.start_segment(&mut writer)?;
        }
        let at = writer.end;
        let last = frames.last().map_or(0, |&(offset, _, _)| offset);
        self.write_synced(&mut writer, (&bytes, last), fault)?;
        let mut state = self.state.write().map_err(|_| poisoned())?;
        let mut first = state.index.head().position + 1;
        for (offset, len, events) in frames {
            state.frames.push(FrameAt {
                first,
                offset: at + offset,
                segment: writer.number,
                len,
            });
            first += events;
        }
        state.index.commit(&sealed);
        drop(state);
        Ok(Index::outcomes(outcome, sealed))
    }

    /// Starts the next segment (the directory synced), where appends go from now on.
    fn start_segment(&self, writer: &mut Writer) -> Result<(), StoreError> {
        let number = writer.number + 1;
        let file = Arc::new(segments::create(&self.dir, number)?);
        let mut state = self.state.write().map_err(|_| poisoned())?;
        state.segments.push(Arc::clone(&file));
        drop(state);
        writer.file = file;
        writer.number = number;
        writer.end = 0;
        Ok(())
    }

    /// Writes an append's `bytes` (its last frame from byte `last` on) at the acknowledged
    /// end and makes it durable ([`write_durably`]); on failure truncates back (and, if that
    /// fails too or a sync failed, refuses appends until a reopen).
    fn write_synced(
        &self,
        writer: &mut Writer,
        (bytes, last): (&[u8], u64),
        fault: Option<Fault>,
    ) -> Result<(), StoreError> {
        let mut file = Faulty {
            file: &writer.file,
            start: writer.end,
            fault,
        };
        let Err(e) = write_durably(&mut file, bytes, (writer.end, last)) else {
            writer.end += u64::try_from(bytes.len()).unwrap_or(u64::MAX);
            return Ok(());
        };
        let name = self.dir.join(segments::name(writer.number));
        let undone = writer
            .file
            .set_len(writer.end)
            .and_then(|()| writer.file.sync_data());
        if let Err(undo) = undone {
            writer.failed = Some(format!("cannot truncate {}: {undo}", name.display()));
        }
        Err(storage(
            &format!("cannot append to {} (nothing was recorded)", name.display()),
            e,
        ))
    }
}

/// Where an append is written: a segment, or in tests a record of what was done.
trait Medium {
    fn write_at(&mut self, bytes: &[u8], offset: u64) -> std::io::Result<()>;
    fn sync(&mut self) -> std::io::Result<()>;
}

/// Writes an append's `bytes` at byte `at` of `medium` and makes them durable: the frames
/// before its last one (from byte `last` of `bytes` on) written and synced first, then the
/// last frame written and synced, so a finished append is never on disk without every frame
/// before it (the module's doc).
fn write_durably(
    medium: &mut impl Medium,
    bytes: &[u8],
    (at, last): (u64, u64),
) -> std::io::Result<()> {
    let split = usize::try_from(last)
        .unwrap_or(bytes.len())
        .min(bytes.len());
    let (before, end) = bytes.split_at(split);
    if !before.is_empty() {
        medium.write_at(before, at)?;
        medium.sync()?;
    }
    medium.write_at(end, at + last)?;
    medium.sync()
}

/// A segment with the fault injected into this append, if any.
struct Faulty<'a> {
    file: &'a std::fs::File,
    /// Where the append starts (a fault counts its bytes from there).
    start: u64,
    fault: Option<Fault>,
}

impl Medium for Faulty<'_> {
    fn write_at(&mut self, bytes: &[u8], offset: u64) -> std::io::Result<()> {
        let Some(Fault::WriteFailsAfter(n)) = self.fault else {
            return segments::write_at(self.file, bytes, offset);
        };
        // The first `n` bytes of the append get through; the write that reaches past them (or
        // the append's last) fails.
        let from = usize::try_from(offset.saturating_sub(self.start)).unwrap_or(usize::MAX);
        let keep = n.saturating_sub(from).min(bytes.len());
        segments::write_at(self.file, &bytes[..keep], offset)?;
        if from.saturating_add(bytes.len()) >= n {
            return Err(std::io::Error::other("no space left on device (injected)"));
        }
        Ok(())
    }

    fn sync(&mut self) -> std::io::Result<()> {
        match self.fault {
            Some(Fault::SyncFails) => Err(std::io::Error::other("fdatasync failed (injected)")),
            _ => self.file.sync_data(),
        }
    }
}

/// The frames of sealed commands, as one buffer, and each frame's offset in it, length and
/// number of events. Each chunk's records are encoded straight into their frame.
fn framed(sealed: &[Sealed]) -> (Vec<u8>, Vec<(u64, u32, u64)>) {
    let chunks = chunk_layout(sealed, FRAME_BYTES);
    // Each record with its length, each chunk's format byte and frame header.
    let size = sealed.iter().map(|s| 4 + record_len(s)).sum::<usize>()
        + chunks.len() * (crate::frame::HEADER_LEN + 1);
    let mut bytes = Vec::with_capacity(size);
    let mut frames = Vec::with_capacity(chunks.len());
    let end = sealed
        .last()
        .map_or(0, |s| s.record.first_position + u64::from(s.record.count));
    for (i, (first, records)) in chunks.iter().enumerate() {
        let offset = bytes.len();
        let last = i + 1 == chunks.len();
        frame::framing(&mut bytes, last, |body| {
            encode_chunk_into(&sealed[records.clone()], body);
        });
        let next_first = chunks.get(i + 1).map_or(end, |(f, _)| *f);
        frames.push((
            u64::try_from(offset).unwrap_or(u64::MAX),
            u32::try_from(bytes.len() - offset).expect("bounded"),
            next_first - first,
        ));
    }
    debug_assert_eq!(
        bytes.len(),
        size,
        "the frames take what was reserved for them"
    );
    (bytes, frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What was done to the medium, in order: a write's offset and length, or a sync.
    #[derive(Debug, PartialEq, Eq)]
    enum Op {
        Write(u64, usize),
        Sync,
    }

    #[derive(Default)]
    struct Recorder(Vec<Op>);

    impl Medium for Recorder {
        fn write_at(&mut self, bytes: &[u8], offset: u64) -> std::io::Result<()> {
            self.0.push(Op::Write(offset, bytes.len()));
            Ok(())
        }
        fn sync(&mut self) -> std::io::Result<()> {
            self.0.push(Op::Sync);
            Ok(())
        }
    }

    #[test]
    fn the_last_frame_is_written_only_once_every_frame_before_it_is_synced() {
        let mut m = Recorder::default();
        write_durably(&mut m, &[7u8; 300], (1000, 200)).unwrap();
        assert_eq!(
            m.0,
            [
                Op::Write(1000, 200),
                Op::Sync,
                Op::Write(1200, 100),
                Op::Sync
            ]
        );
        // One frame: one write, one sync.
        let mut m = Recorder::default();
        write_durably(&mut m, &[7u8; 300], (1000, 0)).unwrap();
        assert_eq!(m.0, [Op::Write(1000, 300), Op::Sync]);
    }
}

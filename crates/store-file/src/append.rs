//! The write path: a batch sealed against the index, its records framed (chunks of at most
//! `FRAME_BYTES`, the last frame flagged), written with one `write` at the end of the last
//! segment and synced once, then the index and frame table updated. A failure truncates the
//! segment back to its acknowledged length and records nothing.

use std::sync::Arc;

use memberledger_core::RecordedEvent;
use memberledger_store::record::encode_chunks;
use memberledger_store::{Append, AppendConflict, Index, Sealed, StoreError};

use crate::faults::Fault;
use crate::frame::{push_frame, FRAME_BYTES};
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
        self.write_synced(&mut writer, &bytes, fault)?;
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

    /// Writes `bytes` at the acknowledged end and syncs; on failure truncates back (and, if
    /// that fails too or the sync failed, refuses appends until a reopen).
    fn write_synced(
        &self,
        writer: &mut Writer,
        bytes: &[u8],
        fault: Option<Fault>,
    ) -> Result<(), StoreError> {
        let written = match fault {
            Some(Fault::WriteFailsAfter(n)) => {
                let part = &bytes[..n.min(bytes.len())];
                segments::write_at(&writer.file, part, writer.end).and(Err(std::io::Error::other(
                    "no space left on device (injected)",
                )))
            }
            _ => segments::write_at(&writer.file, bytes, writer.end),
        };
        let synced = written.and_then(|()| match fault {
            Some(Fault::SyncFails) => Err(std::io::Error::other("fdatasync failed (injected)")),
            _ => writer.file.sync_data(),
        });
        let Err(e) = synced else {
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

/// The frames of sealed commands, as one buffer, and each frame's offset in it, length and
/// number of events.
fn framed(sealed: &[Sealed]) -> (Vec<u8>, Vec<(u64, u32, u64)>) {
    let chunks = encode_chunks(sealed, FRAME_BYTES);
    let size: usize = chunks
        .iter()
        .map(|(_, c)| c.len() + crate::frame::HEADER_LEN)
        .sum();
    let mut bytes = Vec::with_capacity(size);
    let mut frames = Vec::with_capacity(chunks.len());
    let next_first = |i: usize| {
        chunks.get(i + 1).map_or_else(
            || {
                let last = sealed.last().expect("not empty").record.clone();
                last.first_position + u64::from(last.count)
            },
            |(first, _)| *first,
        )
    };
    for (i, (first, chunk)) in chunks.iter().enumerate() {
        let offset = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        push_frame(&mut bytes, chunk, i + 1 == chunks.len());
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX) - offset;
        frames.push((
            offset,
            u32::try_from(len).expect("bounded"),
            next_first(i) - first,
        ));
    }
    (bytes, frames)
}

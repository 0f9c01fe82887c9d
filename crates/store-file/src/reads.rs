//! The reads behind the trait: a page of the log, events by position, a command's record. The
//! frame holding a position is found in the frame table (a binary search), read with `pread`
//! (consecutive frames of a segment in one read) and checked against its CRC before use.

use std::sync::Arc;

use memberledger_core::{RecordedEvent, Uuid};
use memberledger_store::record::{decode_chunk_events, record_at};
use memberledger_store::{CommandRecord, RawEvent, RawPage, StoreError};

use crate::frame::{body, read_header};
use crate::scan::FrameAt;
use crate::segments::{self, storage};
use crate::FileStore;

/// Pages read at once by `read_raw`, at most (consecutive frames of one segment).
const READ_BYTES: u64 = 4 * 1024 * 1024;

impl FileStore {
    pub(crate) fn read_raw_inner(
        &self,
        from: u64,
        limit: usize,
    ) -> Result<Vec<RawEvent>, StoreError> {
        let mut page = RawPage::default();
        self.read_raw_into_inner(from, limit, &mut page)?;
        Ok(page.to_raw_events())
    }

    /// Reads the events from `from` on, at most `limit`, into `page` (emptied first).
    pub(crate) fn read_raw_into_inner(
        &self,
        from: u64,
        limit: usize,
        page: &mut RawPage,
    ) -> Result<(), StoreError> {
        page.clear();
        let from = from.max(1);
        let (frames, files) = {
            let state = self.state()?;
            let head = state.index.head().position;
            if from > head || limit == 0 {
                return Ok(());
            }
            let i = state.frames.partition_point(|f| f.first <= from) - 1;
            let want = u64::try_from(limit).unwrap_or(u64::MAX);
            let end = state
                .frames
                .partition_point(|f| f.first < from.saturating_add(want));
            let frames: Vec<FrameAt> = state.frames[i..end].to_vec();
            (frames, state.segments.clone())
        };
        RUN.with_borrow_mut(|bytes| -> Result<(), StoreError> {
            for run in runs(&frames) {
                read_run_into(&files, run, bytes)?;
                for (f, chunk) in run.iter().zip(split(bytes, run)?) {
                    // Each event straight into the page, no record collected on the way.
                    decode_chunk_events(f.first, chunk, false, &mut |_| {}, &mut |p, h, j, b| {
                        if p >= from && page.len() < limit {
                            page.push_with_binary(p, *h, j, b);
                        }
                    })?;
                }
            }
            if bytes.capacity() as u64 > 2 * READ_BYTES {
                // A frame larger than a run's bound was read: not kept for the thread's life.
                *bytes = Vec::new();
            }
            Ok(())
        })
    }

    pub(crate) fn read_positions_inner(
        &self,
        positions: &[u64],
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut last: Option<(FrameAt, Vec<u8>)> = None;
        let mut out = Vec::with_capacity(positions.len());
        for &p in positions {
            let hit = match &last {
                Some((f, _)) => f.first <= p && self.frame_end(f).is_some_and(|end| p < end),
                None => false,
            };
            if !hit {
                let (f, files) = self.frame_of(p)?;
                let bytes = read_run(&files, &[f])?;
                last = Some((f, bytes));
            }
            let (f, bytes) = last.as_ref().expect("read above");
            let chunk = split(bytes, &[*f])?.remove(0);
            let rec = record_at(f.first, chunk, p)?;
            let at = usize::try_from(p - rec.record.first_position).unwrap_or(usize::MAX);
            let (hash, json, _) = rec.events.get(at).ok_or_else(|| missing(p))?;
            let raw = RawEvent {
                position: p,
                hash: *hash,
                json: json.to_vec(),
            };
            out.push(raw.decode()?);
        }
        Ok(out)
    }

    pub(crate) fn command_inner(&self, id: Uuid) -> Result<Option<CommandRecord>, StoreError> {
        let Some(place) = self.state()?.index.command(id) else {
            return Ok(None);
        };
        let p = place.first_position;
        let (f, files) = self.frame_of(p)?;
        let bytes = read_run(&files, &[f])?;
        let chunk = split(&bytes, &[f])?.remove(0);
        let rec = record_at(f.first, chunk, p)?;
        if rec.record.first_position != p || rec.record.command != id {
            return Err(StoreError::Corrupt {
                position: p,
                why: "indexed command is missing".into(),
            });
        }
        Ok(Some(rec.record))
    }

    /// The frame holding position `p` (which must be in the log), and the segments.
    fn frame_of(&self, p: u64) -> Result<(FrameAt, Vec<Arc<std::fs::File>>), StoreError> {
        let state = self.state()?;
        if p == 0 || p > state.index.head().position {
            return Err(missing(p));
        }
        let i = state.frames.partition_point(|f| f.first <= p) - 1;
        Ok((state.frames[i], state.segments.clone()))
    }

    /// The position after the last event of frame `f`.
    fn frame_end(&self, f: &FrameAt) -> Option<u64> {
        let state = self.state.read().ok()?;
        let i = state.frames.partition_point(|g| g.first <= f.first);
        Some(
            state
                .frames
                .get(i)
                .map_or(state.index.head().position + 1, |g| g.first),
        )
    }
}

fn missing(p: u64) -> StoreError {
    StoreError::Corrupt {
        position: p,
        why: "indexed event is missing".into(),
    }
}

/// `frames` cut into runs of consecutive frames of one segment, each at most `READ_BYTES`
/// (or one frame).
fn runs(frames: &[FrameAt]) -> Vec<&[FrameAt]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=frames.len() {
        let cut = frames.get(i).is_none_or(|f| {
            let a = frames[start];
            let prev = frames[i - 1];
            f.segment != a.segment
                || f.offset != prev.offset + u64::from(prev.len)
                || f.offset + u64::from(f.len) - a.offset > READ_BYTES
        });
        if cut {
            out.push(&frames[start..i]);
            start = i;
        }
    }
    out
}

thread_local! {
    /// Each thread's buffer for the runs `read_raw` reads: reused, so a scan of the log does
    /// not map, zero and free a fresh buffer of up to [`READ_BYTES`] for every run (that was
    /// a fifth of `verify`'s time, in the kernel).
    static RUN: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The bytes of a run of consecutive frames of one segment.
fn read_run(files: &[Arc<std::fs::File>], run: &[FrameAt]) -> Result<Vec<u8>, StoreError> {
    let mut bytes = Vec::new();
    read_run_into(files, run, &mut bytes)?;
    Ok(bytes)
}

/// Reads a run of consecutive frames of one segment into `bytes` (replacing what it held).
fn read_run_into(
    files: &[Arc<std::fs::File>],
    run: &[FrameAt],
    bytes: &mut Vec<u8>,
) -> Result<(), StoreError> {
    let (first, last) = (run[0], run[run.len() - 1]);
    let len = last.offset + u64::from(last.len) - first.offset;
    let len = usize::try_from(len).map_err(|_| missing(first.first))?;
    // Sized to the run without zeroing what the read overwrites, and grown only to the
    // largest run (not doubled past it).
    if bytes.len() >= len {
        bytes.truncate(len);
    } else {
        bytes.reserve_exact(len - bytes.len());
        bytes.resize(len, 0);
    }
    let file = files
        .get(usize::try_from(first.segment).unwrap_or(usize::MAX))
        .ok_or_else(|| missing(first.first))?;
    segments::read_at(file, bytes, first.offset).map_err(|e| {
        storage(
            &format!("cannot read segment {}", segments::name(first.segment)),
            e,
        )
    })
}

/// The bodies of a run's frames in `bytes`, each checked against its CRC.
fn split<'a>(bytes: &'a [u8], run: &[FrameAt]) -> Result<Vec<&'a [u8]>, StoreError> {
    let base = run[0].offset;
    run.iter()
        .map(|f| {
            let at = usize::try_from(f.offset - base).unwrap_or(usize::MAX);
            let frame = bytes.get(at..).unwrap_or_default();
            read_header(frame)
                .and_then(|h| body(frame, h))
                .ok_or_else(|| StoreError::Corrupt {
                    position: f.first,
                    why: format!(
                        "segment {}, byte {}: the frame no longer matches its checksum",
                        segments::name(f.segment),
                        f.offset
                    ),
                })
        })
        .collect()
}

//! The open scan: one sequential read of every segment that checks each frame, fills the log
//! index from the record headers (no JSON is parsed; the commands' places held back and
//! entered at once when the scan ends, [`Index::hold`]), and finds where appends go on. Only the
//! last segment may end in a torn tail, the part of an append that was never acknowledged:
//! an unfinished append (its last frame missing) or a damaged frame with no finished append
//! after it. Damage anywhere else is `Corrupt`, naming the position and the byte.

use std::sync::mpsc::{Receiver, SyncSender};

use memberledger_core::{Hash, Uuid};
use memberledger_store::record::decode_chunk_with;
use memberledger_store::{CommandRecord, Head, Index, StoreError};

use crate::frame::{body, read_header, Header};

/// Where a frame is: what a read finds an event by (24 bytes a frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FrameAt {
    /// The position of its first event.
    pub(crate) first: u64,
    /// Its byte offset in its segment.
    pub(crate) offset: u64,
    /// Its segment's number.
    pub(crate) segment: u32,
    /// Its length, header included.
    pub(crate) len: u32,
}

/// What the scan built.
#[derive(Debug, Default)]
pub(crate) struct Scanned {
    pub(crate) index: Index,
    pub(crate) frames: Vec<FrameAt>,
    /// The acknowledged length of the last segment scanned: where appends go on.
    pub(crate) end: u64,
    /// The length of the torn tail after `end`, if there is one.
    pub(crate) torn: Option<u64>,
    /// The last event scanned (`None`: the index's head).
    pub(crate) last: Option<Head>,
    /// Where the commands scanned go when the index is built beside the scan, on another
    /// thread (`None`: they are held in `index`).
    pub(crate) sink: Option<Sink>,
}

/// Commands a scan sends at a time to the thread building the index.
const BATCH: usize = 4096;

/// The commands a scan found, in log order: what it sends the thread building the index.
#[derive(Debug, Default)]
pub(crate) struct Commands {
    records: Vec<CommandRecord>,
    /// Each record's events' hashes, one record's after another's.
    hashes: Vec<Hash>,
    /// About how many commands the log holds (the first batch says): the command table is
    /// sized for them at once instead of growing through every size to there.
    expect: usize,
}

impl Commands {
    /// Adds the batch's commands to `index` in order; `Err`: the first one recorded before
    /// (its first position and id), with the index left as it was before that one.
    fn add_to(self, index: &mut Index) -> Result<(), (u64, Uuid)> {
        index.reserve_commands(self.expect);
        let mut hashes = self.hashes.iter();
        for record in self.records {
            let (first, command) = (record.first_position, record.command);
            let n = record.count as usize;
            let events = hashes.by_ref().take(n).zip(first..).map(|(h, p)| (p, *h));
            if !index.add(record, events) {
                return Err((first, command));
            }
        }
        Ok(())
    }
}

/// Adds the commands the scan sends to `index`, in log order, until it stops sending. `Err`:
/// the first command recorded before (a damaged log), with the position of its first event;
/// what is sent after it is taken and dropped.
pub(crate) fn index_commands(
    index: &mut Index,
    batches: Receiver<Commands>,
) -> Result<(), (u64, Uuid)> {
    let mut result = Ok(());
    for batch in batches {
        if result.is_ok() {
            result = batch.add_to(index);
        }
    }
    result
}

/// The sending end of a scan that builds the index beside it.
#[derive(Debug)]
pub(crate) struct Sink {
    sender: SyncSender<Commands>,
    batch: Commands,
    /// The bytes the scan is to read, and has read: what the first batch's expected count is
    /// worked out from.
    bytes: (u64, u64),
    /// Whether a batch was sent.
    sent: bool,
}

impl Sink {
    fn push(&mut self, record: CommandRecord, events: &[([u8; 32], &[u8])]) {
        self.batch.hashes.extend(events.iter().map(|(h, _)| *h));
        self.batch.records.push(record);
        if self.batch.records.len() == BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.batch.records.is_empty() {
            return;
        }
        if !self.sent {
            let (all, read) = self.bytes;
            let records = self.batch.records.len() as u128;
            // A twentieth more than the rate so far makes: a table sized just short would
            // grow once more, to twice the size.
            let expect = records * u128::from(all) * 21 / (20 * u128::from(read.max(1)));
            self.batch.expect = usize::try_from(expect).unwrap_or(usize::MAX);
            self.sent = true;
        }
        let batch = std::mem::replace(
            &mut self.batch,
            Commands {
                records: Vec::with_capacity(BATCH),
                hashes: Vec::new(),
                expect: 0,
            },
        );
        // A thread that stopped taking batches has failed: its join says so.
        let _ = self.sender.send(batch);
    }
}

impl Scanned {
    /// Sends the commands scanned from now on to `sender`, a batch at a time, instead of
    /// holding them in the index (which has moved to the thread taking them, at `head`);
    /// `bytes`: how many the scan is to read.
    pub(crate) fn send_to(&mut self, sender: SyncSender<Commands>, head: Head, bytes: u64) {
        self.last = Some(head);
        self.sink = Some(Sink {
            sender,
            batch: Commands::default(),
            bytes: (bytes, 0),
            sent: false,
        });
    }

    /// Sends what is left and stops sending: the thread taking the batches then finishes.
    pub(crate) fn stop_sending(&mut self) {
        if let Some(mut sink) = self.sink.take() {
            sink.flush();
        }
    }

    /// The last event scanned.
    fn head(&self) -> Head {
        self.last.unwrap_or_else(|| self.index.head())
    }

    /// Takes in one command's record and its events, as read.
    fn take(&mut self, record: CommandRecord, events: &[([u8; 32], &[u8])]) {
        let first = record.first_position;
        if let Some((hash, _)) = events.last() {
            let position = first + events.len() as u64 - 1;
            self.last = Some(Head {
                position,
                hash: *hash,
            });
        }
        match &mut self.sink {
            Some(sink) => sink.push(record, events),
            // Checked against the commands before it by `enter_held`, once the scan ends.
            None => {
                let hashes = events.iter().zip(first..).map(|((h, _), p)| (p, *h));
                self.index.hold(record, hashes);
            }
        }
    }

    /// Scans `bytes`, the part of segment `number` from its byte `base` on (`last`: the
    /// segment appends go to, and `bytes` runs to its end). A part that is not the rest of the
    /// last segment must end where an append ends.
    pub(crate) fn segment(
        &mut self,
        number: u32,
        (bytes, base): (&[u8], u64),
        last: bool,
        name: &str,
    ) -> Result<(), StoreError> {
        let at_base = Place { number, base, name };
        let mut at = 0;
        let mut append_start = 0;
        let mut pending: Vec<(usize, Header)> = Vec::new();
        while at < bytes.len() {
            let whole = read_header(&bytes[at..]).filter(|&h| body(&bytes[at..], h).is_some());
            let Some(h) = whole else {
                return self.damaged(bytes, at, append_start, last, &at_base);
            };
            pending.push((at, h));
            at += h.frame_len();
            if h.end {
                self.commit(bytes, &pending, &at_base)?;
                pending.clear();
                append_start = at;
            }
        }
        self.end = at_base.offset(append_start);
        if pending.is_empty() {
            return Ok(());
        }
        if !last {
            return Err(self.corrupt(&at_base, append_start, "an unfinished append"));
        }
        self.torn = Some(u64::try_from(bytes.len() - append_start).unwrap_or(u64::MAX));
        Ok(())
    }

    /// A frame at `at` that is not whole: the torn tail of the last segment when no finished
    /// append follows it; `Corrupt` otherwise.
    fn damaged(
        &mut self,
        bytes: &[u8],
        at: usize,
        append_start: usize,
        last: bool,
        place: &Place<'_>,
    ) -> Result<(), StoreError> {
        if !last {
            return Err(self.corrupt(place, at, "a damaged frame"));
        }
        if let Some(later) = finished_append_after(bytes, at) {
            return Err(self.corrupt(
                place,
                at,
                &format!(
                    "a damaged frame, with a finished append after it (at byte {})",
                    place.offset(later)
                ),
            ));
        }
        self.end = place.offset(append_start);
        self.torn = Some(u64::try_from(bytes.len() - append_start).unwrap_or(u64::MAX));
        Ok(())
    }

    /// Adds a finished append's frames to the index and the frame table.
    fn commit(
        &mut self,
        bytes: &[u8],
        frames: &[(usize, Header)],
        place: &Place<'_>,
    ) -> Result<(), StoreError> {
        for &(at, h) in frames {
            let first = self.head().position + 1;
            let chunk = body(&bytes[at..], h).expect("checked by the scan");
            let records = decode_chunk_with(first, chunk, false)
                .map_err(|e| self.corrupt(place, at, &format!("a frame does not decode: {e}")))?;
            self.frames.push(FrameAt {
                first,
                offset: place.offset(at),
                segment: place.number,
                len: u32::try_from(h.frame_len()).expect("bounded by BODY_MAX"),
            });
            if let Some(sink) = &mut self.sink {
                sink.bytes.1 += h.frame_len() as u64;
            }
            for rec in records {
                self.take(rec.record, &rec.events);
            }
        }
        Ok(())
    }

    fn corrupt(&self, place: &Place<'_>, at: usize, what: &str) -> StoreError {
        StoreError::Corrupt {
            position: self.head().position + 1,
            why: format!("segment {}, byte {}: {what}", place.name, place.offset(at)),
        }
    }
}

/// Where a part of a segment being scanned lies: the segment, and the byte the part starts at.
struct Place<'a> {
    number: u32,
    base: u64,
    name: &'a str,
}

impl Place<'_> {
    /// The segment's byte at byte `at` of the part.
    fn offset(&self, at: usize) -> u64 {
        self.base + u64::try_from(at).unwrap_or(u64::MAX - self.base)
    }
}

/// The length of the whole appends at the start of `bytes`, judged by their frame headers
/// alone (the scan checks the bodies): where a part of a segment may end. `None` when a
/// header there does not check, or no append ends within `bytes`.
pub(crate) fn appends_end(bytes: &[u8]) -> Option<usize> {
    let (mut at, mut end) = (0, None);
    while let Some(h) = bytes.get(at..).and_then(read_header) {
        if at + h.frame_len() > bytes.len() {
            break;
        }
        at += h.frame_len();
        if h.end {
            end = Some(at);
        }
    }
    end
}

/// The offset of the first whole frame closing an append that starts after `at`, found by
/// trying every offset (only on the recovery path, after a damaged frame).
fn finished_append_after(bytes: &[u8], at: usize) -> Option<usize> {
    (at + 1..bytes.len()).find(|&p| {
        read_header(&bytes[p..]).is_some_and(|h| h.end && body(&bytes[p..], h).is_some())
    })
}

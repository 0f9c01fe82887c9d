//! The open scan: one sequential read of every segment that checks each frame, fills the log
//! index from the record headers (no JSON is parsed; the commands' places held back and
//! entered at once when the scan ends, [`Index::hold`]), and finds where appends go on. Only the
//! last segment may end in a torn tail, the part of an append that was never acknowledged:
//! an unfinished append (its last frame missing) or a damaged frame with no finished append
//! after it. Damage anywhere else is `Corrupt`, naming the position and the byte.

use std::sync::mpsc::{Receiver, SyncSender};

use memberledger_core::{Hash, Uuid};
use memberledger_store::record::decode_chunk_events;
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
    /// The commands of the frames scanned, decoded straight into it, not yet added to the
    /// index or sent.
    pub(crate) pending: Commands,
    /// Where the commands scanned go when the index is built beside the scan, on another
    /// thread (`None`: they are added to `index` frame by frame).
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
    /// About how many commands the log holds in all (one batch says, [`Sink::expected`]): the
    /// command table is sized for them at once instead of growing through every size to there.
    expect: usize,
}

impl Commands {
    /// Adds the batch's commands to `index` in order, emptying it; `Err`: the first one
    /// recorded before (its first position and id), with the index left as it was before
    /// that one.
    fn add_to(&mut self, index: &mut Index) -> Result<(), (u64, Uuid)> {
        let expect = std::mem::take(&mut self.expect);
        index.reserve_commands(expect.saturating_sub(index.commands()));
        let mut hashes = self.hashes.drain(..);
        for record in self.records.drain(..) {
            let (first, command) = (record.first_position, record.command);
            let n = record.count as usize;
            let events = hashes.by_ref().take(n).zip(first..).map(|(h, p)| (p, h));
            if !index.add(record, events) {
                return Err((first, command));
            }
        }
        Ok(())
    }

    /// Decodes the records of a frame's `chunk` (its first event at `first`) onto the end;
    /// on an error, nothing of the frame is kept.
    fn decode(&mut self, first: u64, chunk: &[u8]) -> Result<(), StoreError> {
        let (records, hashes) = (self.records.len(), self.hashes.len());
        let (all, each) = (&mut self.records, &mut self.hashes);
        let decoded = decode_chunk_events(
            first,
            chunk,
            false,
            &mut |r| all.push(r),
            &mut |_, h, _, _| {
                each.push(*h);
            },
        );
        if decoded.is_err() {
            self.records.truncate(records);
            self.hashes.truncate(hashes);
        }
        decoded
    }

    /// The last event decoded.
    fn head(&self) -> Option<Head> {
        let (record, hash) = (self.records.last()?, self.hashes.last()?);
        Some(Head {
            position: record.first_position + u64::from(record.count) - 1,
            hash: *hash,
        })
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
    for mut batch in batches {
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
    /// The bytes the scan is to read, and has read: what the count of commands to expect is
    /// worked out from.
    bytes: (u64, u64),
    /// The commands sent so far.
    sent: u64,
    /// The bytes read and commands sent when an eighth of the bytes had been read: the start
    /// of the stretch whose rate sizes the command table.
    eighth: Option<(u64, u64)>,
    /// Whether the count of commands to expect was sent (once).
    sized: bool,
}

impl Sink {
    fn new(sender: SyncSender<Commands>, bytes: u64) -> Sink {
        Sink {
            sender,
            bytes: (bytes, 0),
            sent: 0,
            eighth: None,
            sized: false,
        }
    }

    /// Sends `batch` (left empty), with the count of commands to expect in all when it is
    /// known: see [`Sink::expected`].
    fn send(&mut self, batch: &mut Commands, last: bool) {
        if batch.records.is_empty() {
            return;
        }
        let records = batch.records.len() as u64;
        if let Some(expect) = self.expected(records, last) {
            batch.expect = usize::try_from(expect).unwrap_or(usize::MAX);
        }
        self.sent += records;
        let next = Commands {
            records: Vec::with_capacity(BATCH),
            hashes: Vec::with_capacity(batch.hashes.capacity()),
            expect: 0,
        };
        // A thread that stopped taking batches has failed: its join says so.
        let _ = self.sender.send(std::mem::replace(batch, next));
    }

    /// How many commands the log holds in all, once it can be told (once only): the commands
    /// sent by the time a quarter of the bytes is read, and a twentieth more than the rate of
    /// the second eighth makes of the rest (a table sized just short would grow once more, to
    /// twice the size). Not the rate from the start: a log often begins with every member's
    /// enrollment, a command of one short event, and the first batches made the table several
    /// times too large (29 million places for 10 million commands, rebuilt at the end). Until
    /// then the table grows as commands are added; a scan that ends in its first batch sizes
    /// it for that batch.
    fn expected(&mut self, records: u64, last: bool) -> Option<u64> {
        if self.sized {
            return None;
        }
        let (all, read) = self.bytes;
        let commands = self.sent + records;
        if last {
            self.sized = true;
            return (self.sent == 0).then_some(records);
        }
        if self.eighth.is_none() && read.saturating_mul(8) >= all {
            self.eighth = Some((read, commands));
        }
        let (from, before) = self.eighth?;
        if read.saturating_mul(4) < all || read <= from {
            return None;
        }
        self.sized = true;
        let rest = u128::from(all.saturating_sub(read));
        let more = u128::from(commands - before) * rest * 21 / (20 * u128::from(read - from));
        Some(u64::try_from(u128::from(commands) + more).unwrap_or(u64::MAX))
    }
}

impl Scanned {
    /// Sends the commands scanned from now on to `sender`, a batch at a time, instead of
    /// adding them to the index (which has moved to the thread taking them, at `head`);
    /// `bytes`: how many the scan is to read.
    pub(crate) fn send_to(&mut self, sender: SyncSender<Commands>, head: Head, bytes: u64) {
        self.last = Some(head);
        self.sink = Some(Sink::new(sender, bytes));
    }

    /// Sends what is left and stops sending: the thread taking the batches then finishes.
    pub(crate) fn stop_sending(&mut self) {
        if let Some(mut sink) = self.sink.take() {
            sink.send(&mut self.pending, true);
        }
    }

    /// The last event scanned.
    fn head(&self) -> Head {
        self.last.unwrap_or_else(|| self.index.head())
    }

    /// Hands the commands of the frames decoded so far on: a batch to the thread building
    /// the index when one is full, or to the index itself.
    fn hand_on(&mut self) -> Result<(), (u64, Uuid)> {
        match &mut self.sink {
            Some(sink) if self.pending.records.len() >= BATCH => {
                sink.send(&mut self.pending, false);
                Ok(())
            }
            Some(_) => Ok(()),
            None => self.pending.add_to(&mut self.index),
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
            self.pending
                .decode(first, chunk)
                .map_err(|e| self.corrupt(place, at, &format!("a frame does not decode: {e}")))?;
            self.last = self.pending.head().or(self.last);
            self.frames.push(FrameAt {
                first,
                offset: place.offset(at),
                segment: place.number,
                len: u32::try_from(h.frame_len()).expect("bounded by BODY_MAX"),
            });
            if let Some(sink) = &mut self.sink {
                sink.bytes.1 += h.frame_len() as u64;
            }
            self.hand_on()
                .map_err(|(position, command)| recorded_twice(position, command))?;
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

/// The damage of a log that records `command` twice, the second time at `position`.
pub(crate) fn recorded_twice(position: u64, command: Uuid) -> StoreError {
    StoreError::Corrupt {
        position,
        why: format!("command {command} is recorded twice"),
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

#[cfg(test)]
mod tests {
    use super::Sink;

    /// What `Sink::send` does with a batch of `records` once `read` bytes are read: whether it
    /// says how many commands to expect.
    fn batch(sink: &mut Sink, read: u64, records: u64, last: bool) -> Option<u64> {
        sink.bytes.1 = read;
        let expect = sink.expected(records, last);
        sink.sent += records;
        expect
    }

    #[test]
    fn the_command_table_is_sized_by_the_rate_after_the_first_eighth() {
        let (sender, _batches) = std::sync::mpsc::sync_channel(1);
        // 8,000 bytes: the first 1,000 one command each 5 (every member's enrollment), the
        // rest one each 20: 550 commands. The start's rate would say 1,600.
        let mut sink = Sink::new(sender, 8_000);
        assert_eq!(batch(&mut sink, 500, 100, false), None);
        assert_eq!(batch(&mut sink, 1_000, 100, false), None);
        assert_eq!(batch(&mut sink, 1_500, 25, false), None);
        // A quarter read: 250 commands, and the rest at the second eighth's rate, a
        // twentieth over: 250 + 300 * 21 / 20.
        assert_eq!(batch(&mut sink, 2_000, 25, false), Some(565));
        // Said once.
        assert_eq!(batch(&mut sink, 2_500, 25, false), None);
        assert_eq!(batch(&mut sink, 8_000, 25, true), None);
    }

    #[test]
    fn a_scan_that_ends_in_its_first_batch_sizes_the_table_for_it() {
        let (sender, _batches) = std::sync::mpsc::sync_channel(1);
        let mut sink = Sink::new(sender.clone(), 100);
        assert_eq!(batch(&mut sink, 100, 7, true), Some(7));
        // One that ends before a quarter is read leaves the table as it grew.
        let mut sink = Sink::new(sender, 100_000);
        assert_eq!(batch(&mut sink, 1_000, 50, false), None);
        assert_eq!(batch(&mut sink, 2_000, 50, true), None);
        // An empty log's sizes are no trouble either.
        let (sender, _batches) = std::sync::mpsc::sync_channel(1);
        let mut sink = Sink::new(sender, 0);
        assert_eq!(batch(&mut sink, 0, 3, false), None);
    }
}

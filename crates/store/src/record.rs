//! The record codec both embedded stores write: how one command's events are laid out as bytes,
//! and how the records of one append are packed into chunks of consecutive records. The sled
//! store keeps one chunk a key; the file store one chunk a frame.
//!
//! A record: the format byte, the command id (16 bytes), its digest (32), the member's length
//! (one byte) and bytes, the event count (u32), closed after the events by a SHA-256 checksum
//! of that header; each event is its chain hash (32 bytes), its length (u32) and its canonical
//! JSON, and in a record of [`RECORD_FORMAT_BINARY`] then its binary form's length (u32) and
//! bytes (`memberledger_core::write_binary_event`; none for an event without one), which a
//! replay reads instead of parsing the JSON. A chunk: the chunk format byte, then `(u32 length, record)` until the end of the value.
//! Everything the log index needs (command id, member, event count, each event's hash) is in
//! the record's header and event prefixes, so an index is rebuilt without parsing any JSON.

use std::ops::Range;

use memberledger_core::{MemberId, Uuid, ID_LEN_MAX};
use sha2::digest::typenum::Unsigned;
use sha2::digest::OutputSizeUser;
use sha2::{Digest, Sha256};

use crate::{CommandRecord, Sealed, StoreError};

/// The first byte of a record of the first layout (each event its hash and JSON; a single
/// record is the sled store's first layout of a value).
pub const RECORD_FORMAT: u8 = 1;

/// The first byte of a record whose events each carry their binary form after their JSON:
/// what this release writes.
pub const RECORD_FORMAT_BINARY: u8 = 3;

/// The first byte of a chunk: then `(u32 length, record)` until the end of the value.
pub const CHUNK_FORMAT: u8 = 2;

/// Bytes of the SHA-256 checksum that closes every record.
pub const CHECKSUM_LEN: usize = 32;
const _: () = assert!(CHECKSUM_LEN == <Sha256 as OutputSizeUser>::OutputSize::USIZE);

/// Where a record's header keeps the member id's length: after the format byte, the command
/// id and its digest.
const MEMBER_LEN_AT: usize = 1 + 16 + 32;
const _: () = assert!(MEMBER_LEN_AT == 49);

/// A member id's length is stored in one byte.
const _: () = assert!(ID_LEN_MAX <= u8::MAX as usize);

/// The most events one record may hold: a record claiming more is damaged.
pub const RECORD_EVENTS_MAX: u32 = 10_000;
/// Every command the store accepts fits in a record.
const _: () = assert!(crate::COMMAND_EVENTS_MAX <= RECORD_EVENTS_MAX as usize);

/// A command's record as stored: the command record and each event's hash, JSON and binary
/// form (borrowed from the stored value).
pub struct Record<'a> {
    /// The command's record.
    pub record: CommandRecord,
    /// Each event's chain hash, canonical JSON and binary form (empty in a record of the
    /// first layout, or for an event that has none).
    pub events: Vec<([u8; 32], &'a [u8], &'a [u8])>,
}

/// A sealed command's record.
pub fn encode_record(s: &Sealed) -> Vec<u8> {
    let mut v = Vec::with_capacity(record_len(s));
    encode_record_into(s, &mut v);
    v
}

/// The length of a sealed command's record ([`encode_record`]'s).
pub fn record_len(s: &Sealed) -> usize {
    1 + 16
        + 32
        + 1
        + s.record.member.as_str().len()
        + 4
        + CHECKSUM_LEN
        + s.json.iter().map(|j| 36 + j.len()).sum::<usize>()
        + s.bin.iter().map(|b| 4 + b.len()).sum::<usize>()
}

/// Appends a sealed command's record to `v`.
fn encode_record_into(s: &Sealed, v: &mut Vec<u8>) {
    let member = s.record.member.as_str().as_bytes();
    let start = v.len();
    v.push(RECORD_FORMAT_BINARY);
    v.extend_from_slice(s.record.command.as_bytes());
    v.extend_from_slice(&s.record.digest);
    v.push(u8::try_from(member.len()).expect("ids are at most 64 bytes"));
    v.extend_from_slice(member);
    v.extend_from_slice(&s.record.count.to_be_bytes());
    let header_end = v.len();
    let len = |b: &[u8]| {
        u32::try_from(b.len())
            .expect("events are small")
            .to_be_bytes()
    };
    for ((e, j), b) in s.events.iter().zip(&s.json).zip(&s.bin) {
        v.extend_from_slice(&e.hash);
        v.extend_from_slice(&len(j.as_bytes()));
        v.extend_from_slice(j.as_bytes());
        v.extend_from_slice(&len(b));
        v.extend_from_slice(b);
    }
    // The chain covers each event's JSON (and names the exact position of a damaged one) but
    // not the record's header (command id, digest, member, count) nor the binary forms. A
    // checksum of the header and the binary forms closes the record, so damage to them is
    // found too.
    let mut sum = Sha256::new();
    sum.update(&v[start..header_end]);
    for b in &s.bin {
        sum.update(b);
    }
    v.extend_from_slice(&sum.finalize());
}

/// How sealed records are laid out in chunks of at most `max_bytes` (a larger record alone):
/// each chunk's first position and the records it holds (a range of `sealed`), in order.
pub fn chunk_layout(sealed: &[Sealed], max_bytes: usize) -> Vec<(u64, Range<usize>)> {
    let mut chunks: Vec<(u64, Range<usize>)> = Vec::new();
    let mut bytes = 0;
    for (i, s) in sealed.iter().enumerate() {
        let len = 4 + record_len(s);
        match chunks.last_mut() {
            Some((_, records)) if bytes + len <= max_bytes => {
                records.end = i + 1;
                bytes += len;
            }
            _ => {
                chunks.push((s.record.first_position, i..i + 1));
                bytes = 1 + len;
            }
        }
    }
    chunks
}

/// Appends the chunk of `records` (one chunk of a [`chunk_layout`]) to `out`.
pub fn encode_chunk_into(records: &[Sealed], out: &mut Vec<u8>) {
    out.push(CHUNK_FORMAT);
    for s in records {
        let len = record_len(s);
        out.extend_from_slice(&u32::try_from(len).expect("records are small").to_be_bytes());
        let at = out.len();
        encode_record_into(s, out);
        debug_assert_eq!(out.len() - at, len, "record_len is the record's length");
    }
}

/// Lays sealed records out in chunks of at most `max_bytes` (a larger record alone): each
/// chunk's first position and value.
pub fn encode_chunks(sealed: &[Sealed], max_bytes: usize) -> Vec<(u64, Vec<u8>)> {
    chunk_layout(sealed, max_bytes)
        .into_iter()
        .map(|(first, records)| {
            let records = &sealed[records];
            let size = 1 + records.iter().map(|s| 4 + record_len(s)).sum::<usize>();
            let mut chunk = Vec::with_capacity(size);
            encode_chunk_into(records, &mut chunk);
            (first, chunk)
        })
        .collect()
}

/// The records of one stored value, the first at position `first`: a chunk, or a single
/// record of the first release's layout.
pub fn decode_chunk(first: u64, v: &[u8]) -> Result<Vec<Record<'_>>, StoreError> {
    decode_chunk_with(first, v, true)
}

/// [`decode_chunk`], checking each record's header against its checksum only when `check`.
pub fn decode_chunk_with(first: u64, v: &[u8], check: bool) -> Result<Vec<Record<'_>>, StoreError> {
    let mut records = Vec::new();
    walk_chunk(first, v, |position, bytes| {
        let rec = decode_record_with(position, bytes, check)?;
        let count = rec.record.count;
        records.push(rec);
        Ok(count)
    })?;
    Ok(records)
}

/// [`decode_chunk_with`] without collecting the records: each record's events are given to
/// `event` (position, chain hash, canonical JSON, binary form) as they are read, then its
/// command record to `record`. A damaged record is an error after what came before it was given: the caller
/// drops what it took of the value.
pub fn decode_chunk_events<'a>(
    first: u64,
    v: &'a [u8],
    check: bool,
    record: &mut impl FnMut(CommandRecord),
    event: &mut impl FnMut(u64, &[u8; 32], &'a [u8], &'a [u8]),
) -> Result<(), StoreError> {
    walk_chunk(first, v, |position, bytes| {
        let rec = decode_record_events(position, bytes, check, event)?;
        let count = rec.count;
        record(rec);
        Ok(count)
    })
}

/// Walks the records of a stored value whose first event is at `first` (a chunk, or a single
/// record of the first release's layout): `each` takes a record's first position and bytes
/// and says how many events it holds.
fn walk_chunk<'a>(
    first: u64,
    v: &'a [u8],
    mut each: impl FnMut(u64, &'a [u8]) -> Result<u32, StoreError>,
) -> Result<(), StoreError> {
    match v.first() {
        Some(&RECORD_FORMAT | &RECORD_FORMAT_BINARY) => return each(first, v).map(|_| ()),
        Some(&CHUNK_FORMAT) => {}
        _ => {
            return Err(StoreError::Corrupt {
                position: first,
                why: "stored record: unknown format".into(),
            })
        }
    }
    let mut rest = &v[1..];
    let mut position = first;
    let mut records = 0usize;
    while !rest.is_empty() {
        let truncated = || StoreError::Corrupt {
            position,
            why: "stored record: truncated".into(),
        };
        let len: [u8; 4] = rest
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(truncated)?;
        let len = usize::try_from(u32::from_be_bytes(len)).map_err(|_| truncated())?;
        let bytes = rest.get(4..4 + len).ok_or_else(truncated)?;
        rest = &rest[4 + len..];
        position += u64::from(each(position, bytes)?);
        records += 1;
    }
    if records == 0 {
        return Err(StoreError::Corrupt {
            position: first,
            why: "stored record: an empty chunk".into(),
        });
    }
    Ok(())
}

/// The record holding `position` in a stored value starting at `first`: the records before it
/// are stepped over by their lengths and event counts, and only this one is decoded and
/// checked (a member's events are read one chunk each).
pub fn record_at(first: u64, v: &[u8], position: u64) -> Result<Record<'_>, StoreError> {
    if v.first() != Some(&CHUNK_FORMAT) {
        return decode_record(first, v);
    }
    let mut rest = &v[1..];
    let mut at = first;
    while let Some(len) = rest.get(..4) {
        let len = usize::try_from(u32::from_be_bytes(len.try_into().expect("four bytes")))
            .unwrap_or(usize::MAX);
        let Some(bytes) = rest.get(4..4usize.saturating_add(len)) else {
            break;
        };
        // The event count, after format, command, digest and the member's length and bytes.
        let count = bytes.get(MEMBER_LEN_AT).and_then(|&m| {
            let from = MEMBER_LEN_AT + 1 + usize::from(m);
            bytes
                .get(from..from + 4)
                .map(|c| u64::from(u32::from_be_bytes(c.try_into().expect("four bytes"))))
        });
        match count {
            Some(n) if position < at + n => return decode_record(at, bytes),
            Some(n) if n > 0 => at += n,
            _ => return decode_record(at, bytes),
        }
        rest = &rest[4 + len..];
    }
    Err(StoreError::Corrupt {
        position,
        why: "indexed event is missing".into(),
    })
}

/// Decodes one record whose first event is at `first`, checking its header's checksum.
pub fn decode_record(first: u64, v: &[u8]) -> Result<Record<'_>, StoreError> {
    decode_record_with(first, v, true)
}

/// Decodes one record, checking its header against its checksum only when `check`.
pub fn decode_record_with(first: u64, v: &[u8], check: bool) -> Result<Record<'_>, StoreError> {
    let mut events = Vec::new();
    let record = decode_record_events(first, v, check, &mut |_, hash, json, bin| {
        events.push((*hash, json, bin));
    })?;
    Ok(Record { record, events })
}

/// [`decode_record_with`] without collecting the events: each is given to `event` (its
/// position, chain hash, canonical JSON and binary form, empty when it has none) as it is
/// read, and the command record returned once the whole record is read. A damaged record is
/// an error after some of its events may have been given.
pub fn decode_record_events<'a>(
    first: u64,
    v: &'a [u8],
    check: bool,
    event: &mut impl FnMut(u64, &[u8; 32], &'a [u8], &'a [u8]),
) -> Result<CommandRecord, StoreError> {
    let corrupt = |why: &str| StoreError::Corrupt {
        position: first,
        why: format!("stored record: {why}"),
    };
    let Some(split) = v.len().checked_sub(CHECKSUM_LEN) else {
        return Err(corrupt("truncated"));
    };
    let (whole, sum) = v.split_at(split);
    let mut v = whole;
    let h = read_header(&mut v).map_err(corrupt)?;
    // The checksum closes the header and, in a record of binary forms, those forms too: the
    // header is checked before any event is given, the forms once they are read.
    let mut checksum = Sha256::new();
    checksum.update(&whole[..whole.len() - v.len()]);
    if check && !h.binary && checksum.clone().finalize().as_slice() != sum {
        return Err(corrupt("the record header does not match its checksum"));
    }
    if h.count == 0 || h.count > RECORD_EVENTS_MAX {
        return Err(corrupt("bad event count"));
    }
    for position in first..first + u64::from(h.count) {
        let hash: &[u8; 32] = take(&mut v, 32)
            .and_then(|h| h.try_into().ok())
            .ok_or_else(|| corrupt("truncated"))?;
        let json = take_sized(&mut v).ok_or_else(|| corrupt("truncated"))?;
        let bin = match h.binary {
            true => take_sized(&mut v).ok_or_else(|| corrupt("truncated"))?,
            false => &[],
        };
        if check && h.binary {
            checksum.update(bin);
        }
        event(position, hash, json, bin);
    }
    if !v.is_empty() {
        return Err(corrupt("trailing bytes"));
    }
    if check && h.binary && checksum.finalize().as_slice() != sum {
        return Err(corrupt(
            "the record header or a binary form does not match its checksum",
        ));
    }
    Ok(CommandRecord {
        command: h.command,
        member: h.member,
        digest: h.digest,
        first_position: first,
        count: h.count,
    })
}

/// A record's header as read: whether its events carry binary forms, and its command record
/// but for the first position.
struct Header {
    binary: bool,
    command: Uuid,
    digest: [u8; 32],
    member: MemberId,
    count: u32,
}

/// Reads a record's header off the front of `v`, or says what is wrong with it.
fn read_header(v: &mut &[u8]) -> Result<Header, &'static str> {
    const SHORT: &str = "truncated";
    let binary = match take(v, 1).ok_or(SHORT)? {
        [RECORD_FORMAT] => false,
        [RECORD_FORMAT_BINARY] => true,
        _ => return Err("unknown record format"),
    };
    let command = Uuid::from_slice(take(v, 16).ok_or(SHORT)?).map_err(|_| SHORT)?;
    let digest: [u8; 32] = take(v, 32).ok_or(SHORT)?.try_into().map_err(|_| SHORT)?;
    let mlen = usize::from(take(v, 1).ok_or(SHORT)?[0]);
    let member = std::str::from_utf8(take(v, mlen).ok_or(SHORT)?)
        .ok()
        .and_then(|m| MemberId::decode_str(m).ok())
        .ok_or("bad member id")?;
    let count = u32::from_be_bytes(take(v, 4).ok_or(SHORT)?.try_into().map_err(|_| SHORT)?);
    Ok(Header {
        binary,
        command,
        digest,
        member,
        count,
    })
}

/// The next `n` bytes, taken off the front of `v`.
fn take<'a>(v: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if v.len() < n {
        return None;
    }
    let (a, b) = v.split_at(n);
    *v = b;
    Some(a)
}

/// Bytes after their length (u32, big-endian), taken off the front of `v`.
fn take_sized<'a>(v: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = u32::from_be_bytes(take(v, 4)?.try_into().ok()?);
    take(v, usize::try_from(len).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Append, Index};
    use memberledger_core::{decide, Command, Context, Decision, Policy};

    /// An event as `decode_chunk_events` gives it: position, hash, JSON, binary form.
    type Given<'a> = (u64, [u8; 32], &'a [u8], &'a [u8]);

    fn sealed(n: u32) -> Vec<Sealed> {
        let policy = Policy::builtin();
        let batch = (1..=n)
            .map(|i| {
                let c = Command::from_json(&format!(
                    r#"{{"id":"00000000-0000-4000-8000-{i:012}","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M{i}","store":"S1"}}"#
                ))
                .unwrap();
                Append {
                    command: c.id,
                    digest: c.digest(),
                    member: c.member.clone(),
                    expected_version: 0,
                    events: decide(&Context::founding(&policy).with_member(None), &c)
                        .map(Decision::into_events)
                        .unwrap(),
                }
            })
            .collect();
        Index::default().seal(batch).unwrap().1
    }

    /// A record as the first layout wrote it: no binary forms.
    fn first_layout(s: &Sealed) -> Vec<u8> {
        let member = s.record.member.as_str().as_bytes();
        let mut v = vec![RECORD_FORMAT];
        v.extend_from_slice(s.record.command.as_bytes());
        v.extend_from_slice(&s.record.digest);
        v.push(u8::try_from(member.len()).unwrap());
        v.extend_from_slice(member);
        v.extend_from_slice(&s.record.count.to_be_bytes());
        let sum = Sha256::digest(&v);
        for (e, j) in s.events.iter().zip(&s.json) {
            v.extend_from_slice(&e.hash);
            v.extend_from_slice(&u32::try_from(j.len()).unwrap().to_be_bytes());
            v.extend_from_slice(j.as_bytes());
        }
        v.extend_from_slice(&sum);
        v
    }

    #[test]
    fn a_single_record_of_the_first_layout_still_reads() {
        let s = sealed(1);
        let value = first_layout(&s[0]);
        let records = decode_chunk(1, &value).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].record, s[0].record);
        assert_eq!(records[0].events[0].1, s[0].json[0].as_bytes());
        assert!(records[0].events[0].2.is_empty(), "no binary form");
        // Within a chunk, beside a record of this release's layout.
        let mut chunk = vec![CHUNK_FORMAT];
        for record in [first_layout(&s[0]), encode_record(&s[0])] {
            chunk.extend_from_slice(&u32::try_from(record.len()).unwrap().to_be_bytes());
            chunk.extend_from_slice(&record);
        }
        let records = decode_chunk(1, &chunk).unwrap();
        assert!(records[0].events[0].2.is_empty());
        assert_eq!(records[1].events[0].2, s[0].bin[0].as_slice());
        assert!(!s[0].bin[0].is_empty(), "an enrolment has a binary form");
    }

    #[test]
    fn this_release_writes_each_events_binary_form_beside_its_json() {
        let s = sealed(3);
        let value = encode_record(&s[1]);
        assert_eq!(value[0], RECORD_FORMAT_BINARY);
        let records = decode_chunk(2, &value).unwrap();
        let (_, json, bin) = records[0].events[0];
        let event = memberledger_core::decode_binary_event(bin).unwrap();
        assert_eq!(event, s[1].events[0].event);
        assert_eq!(
            memberledger_core::canonical_json(2, &event).as_bytes(),
            json
        );
    }

    #[test]
    fn chunks_hold_consecutive_records_and_name_a_damaged_one() {
        let s = sealed(200);
        let chunks = encode_chunks(&s, 24 * 1024);
        assert!(chunks.len() > 1);
        let mut next = 1;
        for (first, value) in &chunks {
            assert_eq!(*first, next);
            let records = decode_chunk(*first, value).unwrap();
            next = records.last().unwrap().record.first_position + 1;
        }
        assert_eq!(next, 201);
        // A record's length cut short: the record it belongs to is named.
        let (first, value) = &chunks[1];
        let mut cut = value.clone();
        cut.truncate(value.len() - 10);
        let last = decode_chunk(*first, value)
            .unwrap()
            .last()
            .unwrap()
            .record
            .first_position;
        match decode_chunk(*first, &cut) {
            Err(StoreError::Corrupt { position, .. }) => assert_eq!(position, last),
            Err(other) => panic!("expected corrupt, got {other:?}"),
            Ok(_) => panic!("a truncated chunk decoded"),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// Given event by event, a chunk yields what it decodes to collected, sound, with any
        /// byte changed or cut short: the same records, hashes, JSON and positions, or the
        /// same error (events of the records before a damaged one may have been given).
        #[test]
        fn chunks_given_event_by_event_are_what_they_decode_to(
            n in 1u32..30,
            damage in proptest::option::of((proptest::prelude::any::<proptest::sample::Index>(), 1u8..=255)),
            cut in proptest::option::of(proptest::prelude::any::<proptest::sample::Index>()),
        ) {
            let s = sealed(n);
            let (first, mut value) = encode_chunks(&s, usize::MAX).remove(0);
            if let Some((at, flip)) = damage {
                let i = at.index(value.len());
                value[i] ^= flip;
            }
            if let Some(keep) = cut {
                value.truncate(keep.index(value.len()));
            }
            let (mut records, mut events) = (Vec::new(), Vec::new());
            let given = decode_chunk_events(first, &value, false, &mut |r| records.push(r), &mut |p, h, j, b| {
                events.push((p, *h, j, b));
            });
            match decode_chunk_with(first, &value, false) {
                Ok(collected) => {
                    proptest::prop_assert_eq!(given, Ok(()));
                    let expected: Vec<CommandRecord> = collected.iter().map(|r| r.record.clone()).collect();
                    proptest::prop_assert_eq!(records, expected);
                    let expected: Vec<Given<'_>> = collected
                        .iter()
                        .flat_map(|r| r.events.iter().zip(r.record.first_position..).map(|((h, j, b), p)| (p, *h, *j, *b)))
                        .collect();
                    proptest::prop_assert_eq!(events, expected);
                }
                Err(e) => proptest::prop_assert_eq!(given, Err(e)),
            }
        }

        /// However many records and however small a chunk's bound, the layout keeps every
        /// record once and in order; each chunk is within the bound (or one record alone) and
        /// takes every record that fits; each chunk decodes back to its records, as written.
        #[test]
        fn chunks_are_laid_out_whole_within_their_bound(n in 1u32..60, max in 1usize..4000) {
            let s = sealed(n);
            let layout = chunk_layout(&s, max);
            let chunks = encode_chunks(&s, max);
            proptest::prop_assert_eq!(layout.len(), chunks.len());
            let mut next = 0;
            for ((first, records), (first_again, value)) in layout.iter().zip(&chunks) {
                proptest::prop_assert_eq!(records.start, next);
                proptest::prop_assert_eq!(*first, s[records.start].record.first_position);
                proptest::prop_assert_eq!(first, first_again);
                proptest::prop_assert!(value.len() <= max || records.len() == 1);
                if let Some(after) = s.get(records.end) {
                    proptest::prop_assert!(value.len() + 4 + encode_record(after).len() > max);
                }
                let decoded = decode_chunk(*first, value).unwrap();
                proptest::prop_assert_eq!(decoded.len(), records.len());
                for (d, w) in decoded.iter().zip(&s[records.clone()]) {
                    proptest::prop_assert_eq!(&d.record, &w.record);
                    let json: Vec<&[u8]> = d.events.iter().map(|(_, j, _)| *j).collect();
                    let written: Vec<&[u8]> = w.json.iter().map(|j| j.as_bytes()).collect();
                    proptest::prop_assert_eq!(json, written);
                    let bin: Vec<&[u8]> = d.events.iter().map(|(_, _, b)| *b).collect();
                    let written: Vec<&[u8]> = w.bin.iter().map(Vec::as_slice).collect();
                    proptest::prop_assert_eq!(bin, written);
                }
                next = records.end;
            }
            proptest::prop_assert_eq!(next, s.len());
        }
    }
}

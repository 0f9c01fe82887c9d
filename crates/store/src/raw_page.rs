//! A page of stored events read into buffers the reader keeps from one page to the next
//! ([`EventStore::read_raw_into`](crate::EventStore::read_raw_into)): every event's bytes in
//! one buffer, not one allocation an event. A replay reads the whole log this way, a few
//! thousand events a page.

use std::ops::Range;

use memberledger_core::{Hash, RecordedEvent};

use crate::{RawEvent, StoreError};

/// Stored events, in position order: each one's position, chain hash, canonical JSON and
/// binary form (when the store keeps one).
///
/// ```
/// use memberledger_store::RawPage;
/// let mut page = RawPage::default();
/// page.push(7, [1; 32], br#"{"a":1}"#);
/// assert_eq!(page.len(), 1);
/// assert_eq!(page.event(0).json, br#"{"a":1}"#);
/// page.clear(); // the buffers are kept for the next page
/// assert!(page.is_empty());
/// ```
#[derive(Debug, Default)]
pub struct RawPage {
    /// The events' JSON and binary forms, one after another.
    bytes: Vec<u8>,
    /// Each event's position, hash, where its JSON lies in `bytes`, and where its binary form
    /// ends (it follows the JSON).
    events: Vec<(u64, Hash, Range<usize>, usize)>,
}

/// One event of a [`RawPage`], borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawEventRef<'a> {
    /// Global position, from 1.
    pub position: u64,
    /// The stored chain hash.
    pub hash: &'a Hash,
    /// The canonical JSON as stored.
    pub json: &'a [u8],
    /// The binary form as stored (`memberledger_core::write_binary_event`), empty when the
    /// store keeps none: what [`decode`](Self::decode) reads first.
    pub bin: &'a [u8],
}

impl RawPage {
    /// Empties the page, keeping its buffers.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.events.clear();
    }

    /// Adds the next event (a copy of its JSON), without a binary form.
    pub fn push(&mut self, position: u64, hash: Hash, json: &[u8]) {
        self.push_with_binary(position, hash, json, &[]);
    }

    /// Adds the next event with its binary form (copies of both; `bin` empty: none).
    pub fn push_with_binary(&mut self, position: u64, hash: Hash, json: &[u8], bin: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(json);
        let end = self.bytes.len();
        self.bytes.extend_from_slice(bin);
        self.events
            .push((position, hash, start..end, self.bytes.len()));
    }

    /// How many events it holds.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The `i`-th event. Panics when `i` is not below [`len`](Self::len).
    pub fn event(&self, i: usize) -> RawEventRef<'_> {
        let (position, hash, range, bin_end) = &self.events[i];
        RawEventRef {
            position: *position,
            hash,
            json: &self.bytes[range.clone()],
            bin: &self.bytes[range.end..*bin_end],
        }
    }

    /// Its events, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = RawEventRef<'_>> + '_ {
        (0..self.len()).map(|i| self.event(i))
    }

    /// Owned copies of its events (what [`EventStore::read_raw`](crate::EventStore::read_raw)
    /// answers).
    pub fn to_raw_events(&self) -> Vec<RawEvent> {
        self.iter().map(|e| e.to_raw_event()).collect()
    }
}

impl RawEventRef<'_> {
    /// Decodes the stored event: from its binary form when it has one, else from its JSON,
    /// checking the position inside matches (as [`RawEvent::decode`]). A binary form is
    /// trusted to say what the JSON says (both were written together, under the store's
    /// checksums): `verify` holds every event it decodes to the stored JSON, byte for byte. A
    /// binary form that does not read is damage, named at its position, unless the JSON does
    /// not read either (then the JSON's error, as without a binary form).
    pub fn decode(&self) -> Result<RecordedEvent, StoreError> {
        if self.bin.is_empty() {
            return crate::decode_stored(self.position, self.hash, self.json);
        }
        match memberledger_core::decode_binary_event(self.bin) {
            Some(event) => Ok(RecordedEvent {
                position: self.position,
                event,
                hash: *self.hash,
            }),
            None => {
                crate::decode_stored(self.position, self.hash, self.json)?;
                Err(StoreError::Corrupt {
                    position: self.position,
                    why: "the stored binary form of the event does not read".into(),
                })
            }
        }
    }

    /// An owned copy.
    pub fn to_raw_event(&self) -> RawEvent {
        RawEvent {
            position: self.position,
            hash: *self.hash,
            json: self.json.to_vec(),
        }
    }
}

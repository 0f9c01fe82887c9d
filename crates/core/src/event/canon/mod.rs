//! The canonical JSON of events, written and read directly, without serde's general machinery.
//!
//! Every event is written once and read back at every replay, so both directions are on the
//! ledger's hot paths. The writer appends straight into a byte buffer, in the sorted key order
//! every body struct declares. The reader expects exactly that layout (every key in its place,
//! no whitespace, integers without leading zeros) and gives up (`None`) at the first byte that
//! differs; [`decode_event`](crate::decode_event) then decodes with serde, which reads any
//! layout and says what is wrong. The reader is an accelerator, never the judge: `verify`
//! re-encodes each event with the writer and compares the bytes, and a test holds both
//! directions to serde's on every event type (`serde_and_canon_agree`).

/// A value with one canonical JSON form, and one binary form ([`binary`]).
pub(crate) trait Canon: Sized {
    /// Appends the canonical form.
    fn put(&self, out: &mut Vec<u8>);
    /// Reads the canonical form at the reader's place; `None` if the bytes are anything else.
    fn take(r: &mut Reader<'_>) -> Option<Self>;
    /// Appends the binary form.
    fn put_bin(&self, out: &mut Vec<u8>);
    /// Reads the binary form at the cursor's place; `None` if the bytes are anything else.
    fn take_bin(r: &mut Bin<'_>) -> Option<Self>;
}

#[macro_use]
mod macros;
mod binary;
mod event;
mod reader;
mod scalars;
mod table;

pub(crate) use binary::{put_event_bin, take_event_bin, Bin};
pub(crate) use event::{put_event, take_event};
pub(crate) use reader::Reader;

#[cfg(test)]
mod tests;

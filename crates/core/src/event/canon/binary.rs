//! The binary form of an event, stored beside its canonical JSON: the same fields in the same
//! order, each as its bytes (integers as LEB128 varints, signed ones zigzagged; a UUID's 16
//! bytes; a string after its length; an option or a list after a byte or a count; an enum's
//! or a body's place in its table) rather than text to find and parse. It reads back in a
//! fraction of the JSON's time. The JSON stays the contract: the chain hashes it, an export
//! carries it, and `verify` re-encodes every event it reads from its binary form and compares
//! the bytes with the stored JSON, so a binary form that says anything else is found.
//! A `policy_published` event (its policy free-form JSON) has no binary form.

use uuid::Uuid;

use super::table::{put_bin_data, take_bin_data};
use super::Canon;
use crate::event::Event;
use crate::id::{MemberId, StoreId};
pub(crate) use crate::member::{unzigzag, zigzag};
use crate::time::Timestamp;

/// The first byte of an event's binary form: its layout's version.
const BIN_VERSION: u8 = 1;

/// A cursor over an event's binary form.
pub(crate) struct Bin<'a> {
    b: &'a [u8],
}

impl<'a> Bin<'a> {
    /// The next byte.
    #[inline]
    pub(crate) fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.b.split_first()?;
        self.b = rest;
        Some(first)
    }

    /// The next `n` bytes.
    #[inline]
    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.b.len() < n {
            return None;
        }
        let (first, rest) = self.b.split_at(n);
        self.b = rest;
        Some(first)
    }

    /// An unsigned LEB128 varint, in its shortest form (a longer one is refused: each value
    /// has one form).
    #[inline]
    pub(crate) fn varint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let part = u64::from(b & 0x7f);
            if shift == 63 && part > 1 {
                return None;
            }
            n |= part << shift;
            if b & 0x80 == 0 {
                return (b != 0 || shift == 0).then_some(n);
            }
        }
        None
    }

    /// How many bytes are left.
    pub(crate) fn left(&self) -> usize {
        self.b.len()
    }

    /// A string after its length, borrowed.
    #[inline]
    pub(crate) fn str(&mut self) -> Option<&'a str> {
        let len = usize::try_from(self.varint()?).ok()?;
        std::str::from_utf8(self.bytes(len)?).ok()
    }
}

/// A whole byte string read as one varint (for the tests).
#[cfg(test)]
pub(super) fn tests_varint(b: &[u8]) -> Option<u64> {
    let mut r = Bin { b };
    r.varint().filter(|_| r.b.is_empty())
}

/// Appends an unsigned LEB128 varint.
#[inline]
pub(crate) fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n.to_le_bytes()[0] & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n.to_le_bytes()[0]);
}

/// Appends a string after its length.
#[inline]
pub(crate) fn put_bin_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// The place of `name` in `names` (a table's enum or body), for the byte that stands for it.
/// Evaluated when compiling: a name not in its table does not compile.
pub(super) const fn place(names: &[&str], name: &str) -> u8 {
    let mut i = 0;
    while i < names.len() {
        if same(names[i].as_bytes(), name.as_bytes()) {
            assert!(i < 256, "a table of at most 256 names");
            return i.to_le_bytes()[0];
        }
        i += 1;
    }
    panic!("a name not in its table")
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Appends the binary form of an event (its position is the store's to keep); false, with
/// nothing appended, for an event that has none (`policy_published`).
pub(crate) fn put_event_bin(out: &mut Vec<u8>, e: &Event) -> bool {
    let start = out.len();
    out.push(BIN_VERSION);
    e.at.put_bin(out);
    e.command.put_bin(out);
    if !put_bin_data(&e.body, out) {
        out.truncate(start);
        return false;
    }
    e.id.put_bin(out);
    e.index.put_bin(out);
    e.member.put_bin(out);
    e.occurred_at.put_bin(out);
    e.policy.put_bin(out);
    e.store.put_bin(out);
    e.v.put_bin(out);
    e.version.put_bin(out);
    true
}

/// Reads an event's binary form; `None` if the bytes are anything else (the caller then
/// reads the JSON). The schema rules are the caller's, as for the JSON.
pub(crate) fn take_event_bin(b: &[u8]) -> Option<Event> {
    let mut r = Bin { b };
    if r.byte()? != BIN_VERSION {
        return None;
    }
    let at = Timestamp::take_bin(&mut r)?;
    let command = Uuid::take_bin(&mut r)?;
    let body = take_bin_data(&mut r)?;
    let event = Event {
        at,
        command,
        body,
        id: Uuid::take_bin(&mut r)?,
        index: u32::take_bin(&mut r)?,
        member: MemberId::take_bin(&mut r)?,
        occurred_at: Option::take_bin(&mut r)?,
        policy: u32::take_bin(&mut r)?,
        store: StoreId::take_bin(&mut r)?,
        v: u16::take_bin(&mut r)?,
        version: u64::take_bin(&mut r)?,
    };
    r.b.is_empty().then_some(event)
}

//! The canonical form of the values inside events: integers, booleans, strings, amounts,
//! times, UUIDs, decimals, ids, and options and lists of them.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::binary::{put_bin_str, put_varint, unzigzag, zigzag};
use super::{Bin, Canon, Reader};
use crate::id::{MemberId, StaffId, StoreId};
use crate::money::Money;
use crate::time::Timestamp;

/// Appends a string as serde_json writes it: `"` and `\` escaped, control characters as
/// `\b \t \n \f \r` or `\u00xx`, everything else as is.
pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let b = s.as_bytes();
    let mut from = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0a => b"\\n",
            0x0c => b"\\f",
            0x0d => b"\\r",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&b[from..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(c >> 4)]);
            out.push(HEX[usize::from(c & 0xf)]);
        } else {
            out.extend_from_slice(esc);
        }
        from = i + 1;
    }
    out.extend_from_slice(&b[from..]);
    out.push(b'"');
}

fn put_uint(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

macro_rules! canon_uint {
    ($($t:ty),*) => {$(
        impl Canon for $t {
            fn put(&self, out: &mut Vec<u8>) {
                put_uint(out, *self);
            }
            fn take(r: &mut Reader<'_>) -> Option<Self> {
                <$t>::try_from(r.uint()?).ok()
            }
            fn put_bin(&self, out: &mut Vec<u8>) {
                put_varint(out, u64::from(*self));
            }
            fn take_bin(r: &mut Bin<'_>) -> Option<Self> {
                <$t>::try_from(r.varint()?).ok()
            }
        }
    )*};
}
canon_uint!(u16, u32, u64);

impl Canon for bool {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if *self { b"true" } else { b"false" });
    }
    fn take(r: &mut Reader<'_>) -> Option<Self> {
        if r.eat(b"true") {
            Some(true)
        } else {
            r.lit(b"false").map(|()| false)
        }
    }
    fn put_bin(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn take_bin(r: &mut Bin<'_>) -> Option<Self> {
        match r.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

impl Canon for String {
    fn put(&self, out: &mut Vec<u8>) {
        put_str(out, self);
    }
    fn take(r: &mut Reader<'_>) -> Option<Self> {
        r.plain_str().map(str::to_owned)
    }
    fn put_bin(&self, out: &mut Vec<u8>) {
        put_bin_str(out, self);
    }
    fn take_bin(r: &mut Bin<'_>) -> Option<Self> {
        r.str().map(str::to_owned)
    }
}

impl Canon for Money {
    fn put(&self, out: &mut Vec<u8>) {
        let c = self.cents();
        out.push(b'"');
        if c < 0 {
            out.push(b'-');
        }
        let abs = c.unsigned_abs();
        put_uint(out, abs / 100);
        out.push(b'.');
        let frac = u8::try_from(abs % 100).expect("below 100");
        out.extend_from_slice(&[b'0' + frac / 10, b'0' + frac % 10]);
        out.push(b'"');
    }
    fn take(r: &mut Reader<'_>) -> Option<Self> {
        Money::parse_canonical(r.plain_str()?.as_bytes())
    }
    fn put_bin(&self, out: &mut Vec<u8>) {
        put_varint(out, zigzag(self.cents()));
    }
    fn take_bin(r: &mut Bin<'_>) -> Option<Self> {
        Some(Money::from_cents(unzigzag(r.varint()?)))
    }
}

impl Canon for Timestamp {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(b'"');
        self.write_to(out);
        out.push(b'"');
    }
    fn take(r: &mut Reader<'_>) -> Option<Self> {
        r.plain_str()?.parse().ok()
    }
    fn put_bin(&self, out: &mut Vec<u8>) {
        let (secs, nanos) = self.secs_nanos();
        put_varint(out, zigzag(secs));
        put_varint(out, u64::from(nanos));
    }
    fn take_bin(r: &mut Bin<'_>) -> Option<Self> {
        let secs = unzigzag(r.varint()?);
        Timestamp::from_secs_nanos(secs, u32::try_from(r.varint()?).ok()?)
    }
}

impl Canon for Uuid {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(b'"');
        out.extend_from_slice(
            self.hyphenated()
                .encode_lower(&mut Uuid::encode_buffer())
                .as_bytes(),
        );
        out.push(b'"');
    }
    fn take(r: &mut Reader<'_>) -> Option<Self> {
        Uuid::try_parse(r.plain_str()?).ok()
    }
    fn put_bin(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
    fn take_bin(r: &mut Bin<'_>) -> Option<Self> {
        Some(Uuid::from_bytes(r.bytes(16)?.try_into().ok()?))
    }
}

impl Canon for Decimal {
    fn put(&self, out: &mut Vec<u8>) {
        put_str(out, &self.to_string());
    }
    fn take(r: &mut Reader<'_>) -> Option<Self> {
        r.plain_str()?.parse().ok()
    }
    // As its text: rare in events, and read back only as written (one text a value).
    fn put_bin(&self, out: &mut Vec<u8>) {
        put_bin_str(out, &self.to_string());
    }
    fn take_bin(r: &mut Bin<'_>) -> Option<Self> {
        let s = r.str()?;
        s.parse().ok().filter(|d: &Decimal| d.to_string() == s)
    }
}

macro_rules! canon_id {
    ($($t:ty),*) => {$(
        impl Canon for $t {
            fn put(&self, out: &mut Vec<u8>) {
                // Ids are `[A-Za-z0-9_.-]` (and `@` for the two streams): nothing to escape.
                out.push(b'"');
                out.extend_from_slice(self.as_str().as_bytes());
                out.push(b'"');
            }
            fn take(r: &mut Reader<'_>) -> Option<Self> {
                <$t>::decode_str(r.plain_str()?).ok()
            }
            fn put_bin(&self, out: &mut Vec<u8>) {
                put_bin_str(out, self.as_str());
            }
            fn take_bin(r: &mut Bin<'_>) -> Option<Self> {
                <$t>::decode_str(r.str()?).ok()
            }
        }
    )*};
}
canon_id!(MemberId, StoreId, StaffId);

impl<T: Canon> Canon for Option<T> {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            Some(v) => v.put(out),
            None => out.extend_from_slice(b"null"),
        }
    }
    fn take(r: &mut Reader<'_>) -> Option<Self> {
        if r.eat(b"null") {
            Some(None)
        } else {
            T::take(r).map(Some)
        }
    }
    fn put_bin(&self, out: &mut Vec<u8>) {
        match self {
            Some(v) => {
                out.push(1);
                v.put_bin(out);
            }
            None => out.push(0),
        }
    }
    fn take_bin(r: &mut Bin<'_>) -> Option<Self> {
        match r.byte()? {
            0 => Some(None),
            1 => T::take_bin(r).map(Some),
            _ => None,
        }
    }
}

impl<T: Canon> Canon for Vec<T> {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            v.put(out);
        }
        out.push(b']');
    }
    fn take(r: &mut Reader<'_>) -> Option<Self> {
        r.lit(b"[")?;
        let mut items = Vec::new();
        if r.eat(b"]") {
            return Some(items);
        }
        loop {
            items.push(T::take(r)?);
            if r.eat(b"]") {
                return Some(items);
            }
            r.lit(b",")?;
        }
    }
    fn put_bin(&self, out: &mut Vec<u8>) {
        put_varint(out, self.len() as u64);
        for v in self {
            v.put_bin(out);
        }
    }
    fn take_bin(r: &mut Bin<'_>) -> Option<Self> {
        let n = usize::try_from(r.varint()?).ok()?;
        // Every item takes a byte at least: a count past the bytes left is refused before
        // anything is allocated for it.
        let mut items = Vec::with_capacity(n.min(r.left()));
        for _ in 0..n {
            items.push(T::take_bin(r)?);
        }
        Some(items)
    }
}

//! The canonical form of the values inside events: integers, booleans, strings, amounts,
//! times, UUIDs, decimals, ids, and options and lists of them.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::{Canon, Reader};
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
}

impl Canon for String {
    fn put(&self, out: &mut Vec<u8>) {
        put_str(out, self);
    }
    fn take(r: &mut Reader<'_>) -> Option<Self> {
        r.plain_str().map(str::to_owned)
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
}

impl Canon for Decimal {
    fn put(&self, out: &mut Vec<u8>) {
        put_str(out, &self.to_string());
    }
    fn take(r: &mut Reader<'_>) -> Option<Self> {
        r.plain_str()?.parse().ok()
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
}

//! A member's holdings in a checkpoint: packed into one byte string, about 13 bytes a
//! holding (a checkpoint is mostly holdings, and a byte string is read in one piece where a
//! CBOR array of arrays is read an item at a time: the decode of a million members took
//! seconds). Text forms (JSON) keep the array of `[time, amount, lot, origin, kind]`.

use serde::{Deserialize, Deserializer, Serializer};

use super::holdings::{Holding, HoldingKind};
use crate::time::Timestamp;

/// Bytes of one packed holding, at most: the kind and whether it has a time (one byte: the
/// kind's number in declaration order times two, plus one with a time), then the time's
/// seconds (zigzag) and nanoseconds, the amount (its eight bytes as an `i64`, zigzag), the
/// lot and the origin, each a LEB128 varint: about 13 bytes for a typical lot.
pub(super) const PACKED_MAX: usize = 1 + 10 + 5 + 10 + 5 + 3;

pub(super) fn serialize<S: Serializer>(h: &[Holding], s: S) -> Result<S::Ok, S::Error> {
    serialize_where(h, |_| true, s)
}

/// [`serialize`] of only the holdings `keep` keeps, as if the others were not in the list
/// (the compact projection of a state that keeps more, without copying it).
pub(super) fn serialize_where<S: Serializer>(
    h: &[Holding],
    keep: impl Fn(&Holding) -> bool,
    s: S,
) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        return s.collect_seq(h.iter().filter(|h| keep(h)).collect::<Vec<_>>());
    }
    // Packed into a buffer the thread keeps: a checkpoint packs every member's holdings, and
    // `verify` packs them again for every checkpoint it compares.
    PACKED.with(|buf| match buf.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            pack_into(h, &keep, &mut buf);
            s.serialize_bytes(&buf)
        }
        // Only if a serializer packed holdings while packing others: never in this crate.
        Err(_) => {
            let mut own = Vec::new();
            pack_into(h, &keep, &mut own);
            s.serialize_bytes(&own)
        }
    })
}

thread_local! {
    /// The buffer [`serialize`] packs into.
    static PACKED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Holding>, D::Error> {
    if d.is_human_readable() {
        return Vec::<Holding>::deserialize(d);
    }
    d.deserialize_byte_buf(Packed)
}

struct Packed;

impl serde::de::Visitor<'_> for Packed {
    type Value = Vec<Holding>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("packed holdings")
    }

    fn visit_bytes<E: serde::de::Error>(self, b: &[u8]) -> Result<Vec<Holding>, E> {
        unpack(b).map_err(E::custom)
    }

    fn visit_byte_buf<E: serde::de::Error>(self, b: Vec<u8>) -> Result<Vec<Holding>, E> {
        unpack(&b).map_err(E::custom)
    }
}

/// The packed form of `holdings`.
#[cfg(test)]
fn pack(holdings: &[Holding]) -> Vec<u8> {
    let mut out = Vec::new();
    pack_into(holdings, &|_| true, &mut out);
    out
}

/// Appends the packed form of the `holdings` that `keep` keeps to `out`, each laid out in a
/// few words on the stack and copied in at once.
pub(super) fn pack_into(holdings: &[Holding], keep: &impl Fn(&Holding) -> bool, out: &mut Vec<u8>) {
    out.reserve(holdings.len() * PACKED_MAX);
    for h in holdings.iter().filter(|h| keep(h)) {
        let mut one = [0u8; PACKED_MAX];
        one[0] = ((h.kind as u8) << 1) | u8::from(h.time.is_some());
        let mut at = 1;
        if let Some(t) = h.time {
            let (secs, nanos) = t.secs_nanos();
            at = put(&mut one, at, zigzag(secs));
            at = put(&mut one, at, u64::from(nanos));
        }
        at = put(&mut one, at, zigzag(i64::from_ne_bytes(h.amount)));
        at = put(&mut one, at, u64::from(h.lot));
        at = put(&mut one, at, u64::from(h.origin));
        out.extend_from_slice(&one[..at]);
    }
}

/// The holdings packed in `b`, or what is wrong with them.
pub(super) fn unpack(mut b: &[u8]) -> Result<Vec<Holding>, String> {
    let mut out = Vec::with_capacity(b.len() / 8);
    while let Some((&head, rest)) = b.split_first() {
        b = rest;
        out.push(unpack_one(head, &mut b).ok_or("damaged packed holdings")?);
    }
    Ok(out)
}

/// One holding after its first byte `head`, read from the front of `b`.
fn unpack_one(head: u8, b: &mut &[u8]) -> Option<Holding> {
    let kind = match head >> 1 {
        0 => HoldingKind::Principal,
        1 => HoldingKind::Bonus,
        2 => HoldingKind::Points,
        3 => HoldingKind::Recharge,
        4 => HoldingKind::Spend,
        _ => return None,
    };
    let time = if head & 1 == 1 {
        let secs = unzigzag(take(b)?);
        let nanos = u32::try_from(take(b)?).ok()?;
        Some(Timestamp::from_secs_nanos(secs, nanos)?)
    } else {
        None
    };
    Some(Holding {
        time,
        amount: unzigzag(take(b)?).to_ne_bytes(),
        lot: u32::try_from(take(b)?).ok()?,
        origin: u16::try_from(take(b)?).ok()?,
        kind,
    })
}

/// A signed integer as an unsigned one, small either side of zero (for a varint).
pub(crate) fn zigzag(n: i64) -> u64 {
    u64::from_ne_bytes(((n << 1) ^ (n >> 63)).to_ne_bytes())
}

/// [`zigzag`] undone.
pub(crate) fn unzigzag(n: u64) -> i64 {
    let half = i64::from_ne_bytes((n >> 1).to_ne_bytes());
    half ^ -i64::from_ne_bytes((n & 1).to_ne_bytes())
}

/// Writes `n` as a LEB128 varint into `out` at `at` (room for ten bytes, the most a u64
/// takes); returns where it ends.
fn put(out: &mut [u8; PACKED_MAX], mut at: usize, mut n: u64) -> usize {
    while n >= 0x80 {
        out[at] = n.to_le_bytes()[0] | 0x80;
        n >>= 7;
        at += 1;
    }
    out[at] = n.to_le_bytes()[0];
    at + 1
}

/// Takes a LEB128 varint from the front of `b`; `None` when cut short or longer than a u64.
fn take(b: &mut &[u8]) -> Option<u64> {
    let mut n = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        let bits = u64::from(byte & 0x7f);
        if i == 9 && bits > 1 {
            return None;
        }
        n |= bits << (7 * i);
        if byte & 0x80 == 0 {
            *b = &b[i + 1..];
            return Some(n);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kind(k: u8) -> HoldingKind {
        [
            HoldingKind::Principal,
            HoldingKind::Bonus,
            HoldingKind::Points,
            HoldingKind::Recharge,
            HoldingKind::Spend,
        ][usize::from(k % 5)]
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Wrap(#[serde(with = "super")] Vec<Holding>);

    /// A byte string as serde writes one (what the packed holdings are encoded as).
    fn serde_bytes_of(b: &[u8]) -> impl serde::Serialize + '_ {
        struct Bytes<'a>(&'a [u8]);
        impl serde::Serialize for Bytes<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
        Bytes(b)
    }

    fn cbor_round_trip(h: Vec<Holding>) -> Vec<Holding> {
        let mut out = Vec::new();
        ciborium::into_writer(&Wrap(h), &mut out).unwrap();
        ciborium::from_reader::<Wrap, _>(out.as_slice()).unwrap().0
    }

    /// Lists of holdings of every kind, with and without a time, any figures.
    fn holdings() -> impl Strategy<Value = Vec<Holding>> {
        let entry = (
            proptest::option::of((0i64..253_402_300_799, 0u32..1_000_000_000)),
            any::<i64>(),
            any::<u32>(),
            any::<u16>(),
            any::<u8>(),
        );
        proptest::collection::vec(entry, 0..40).prop_map(|entries| {
            entries
                .into_iter()
                .map(|(time, amount, lot, origin, k)| Holding {
                    time: time.map(|(s, n)| Timestamp::from_secs_nanos(s, n).unwrap()),
                    amount: amount.to_ne_bytes(),
                    lot,
                    origin,
                    kind: kind(k),
                })
                .collect()
        })
    }

    proptest! {
        /// Every holding reads back exactly, through the CBOR of a checkpoint.
        #[test]
        fn holdings_read_back_exactly(holdings in holdings()) {
            prop_assert_eq!(cbor_round_trip(holdings.clone()), holdings);
        }

        /// Packed through the thread's buffer, holdings give the bytes of the layout written
        /// one byte at a time (what every checkpoint written so far holds).
        #[test]
        fn holdings_pack_to_the_bytes_of_the_layout(holdings in holdings()) {
            let mut expected = Vec::new();
            let varint = |out: &mut Vec<u8>, mut n: u64| {
                while n >= 0x80 {
                    out.push(u8::try_from(n & 0x7f).unwrap() | 0x80);
                    n >>= 7;
                }
                out.push(u8::try_from(n).unwrap());
            };
            for h in &holdings {
                expected.push(((h.kind as u8) << 1) | u8::from(h.time.is_some()));
                if let Some(t) = h.time {
                    let (secs, nanos) = t.secs_nanos();
                    varint(&mut expected, zigzag(secs));
                    varint(&mut expected, u64::from(nanos));
                }
                varint(&mut expected, zigzag(i64::from_ne_bytes(h.amount)));
                varint(&mut expected, u64::from(h.lot));
                varint(&mut expected, u64::from(h.origin));
            }
            prop_assert_eq!(&pack(&holdings), &expected);
            let mut cbor = Vec::new();
            ciborium::into_writer(&Wrap(holdings), &mut cbor).unwrap();
            let mut bytes = Vec::new();
            ciborium::into_writer(&serde_bytes_of(&expected), &mut bytes).unwrap();
            prop_assert_eq!(cbor, bytes);
        }

        /// Any bytes unpack or fail with a reason, never a panic.
        #[test]
        fn any_bytes_unpack_or_fail(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = unpack(&bytes);
        }
    }

    #[test]
    fn a_damaged_entry_is_refused() {
        let h = Holding {
            time: Timestamp::from_secs_nanos(1_767_225_600, 0),
            amount: (-5i64).to_ne_bytes(),
            lot: 300,
            origin: 2,
            kind: HoldingKind::Bonus,
        };
        let b = pack(&[h]);
        // The kind and time flag, 5 bytes of seconds, 1 of nanoseconds, then -5, 300 and 2.
        assert_eq!(b.len(), 1 + 5 + 1 + 1 + 2 + 1, "{b:?}");
        assert_eq!(unpack(&b).unwrap(), vec![h]);
        for cut in 1..b.len() {
            assert!(unpack(&b[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = b.clone();
        bad[0] = 5 << 1;
        assert!(unpack(&bad).is_err(), "no sixth kind");
        bad = b.clone();
        bad[b.len() - 1] = 0xff;
        assert!(unpack(&bad).is_err(), "an unfinished varint");
        assert!(take(&mut &[0xff; 10][..]).is_none(), "longer than a u64");
        assert_eq!(
            take(&mut &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01][..]),
            Some(u64::MAX)
        );
        // JSON keeps the array form.
        let json = serde_json::to_string(&Wrap(vec![h])).unwrap();
        assert_eq!(json, "[[\"2026-01-01T00:00:00Z\",-5,300,2,1]]");
    }
}

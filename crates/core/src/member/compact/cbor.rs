//! The CBOR of a compact projection written by hand, byte for byte what serde and ciborium
//! write for it: `verify` encodes every member at every checkpoint it compares, and the
//! general machinery (a text key and a dispatch a field) cost several times the bytes.
//! Only the common states are written here, those whose rare part holds nothing but other
//! stores once its consumption records are dropped (no package, card, hold or coupon); the
//! rest are left to serde. Tests hold the two to each other on every state they fold.

use super::super::holdings::HoldingKind;
use super::super::packed;
use super::Compact;
use crate::id::StoreId;

/// CBOR's major types used here.
const UNSIGNED: u8 = 0;
const NEGATIVE: u8 = 1;
const BYTES: u8 = 2;
const TEXT: u8 = 3;
const ARRAY: u8 = 4;
const MAP: u8 = 5;
const FALSE: u8 = 0xf4;
const TRUE: u8 = 0xf5;
const NULL: u8 = 0xf6;

/// The fields of a state, as its derived form has them.
const FIELDS: u64 = 15;

impl Compact<'_> {
    /// Appends the CBOR that serde and ciborium write for this projection (a checkpoint's
    /// form of a member) and says `true`; writes nothing and says `false` for a state with a
    /// package, card, hold or coupon (serde's, then).
    ///
    /// ```
    /// use memberledger_core::{decide, Command, Context, Policy, PolicyHistory};
    /// let history = PolicyHistory::new(Policy::builtin());
    /// let enroll = Command::from_json(
    ///     r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#,
    /// )?;
    /// let state = decide(&Context::new(&history), &enroll)?.member.unwrap();
    /// let compact = state.compact(false);
    /// let mut ours = Vec::new();
    /// assert!(compact.write_cbor(&mut ours));
    /// let mut serdes = Vec::new();
    /// ciborium::into_writer(&compact, &mut serdes)?;
    /// assert_eq!(ours, serdes);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_cbor(&self, out: &mut Vec<u8>) -> bool {
        let m = self.state;
        // The rare part's other stores, when it holds nothing else once its records are
        // dropped (`None`: none to write).
        let stores = match m.rare.as_deref() {
            Some(r) if r.is_only_records() => None,
            Some(r) if r.holds_only_stores() => Some(&r.stores),
            Some(_) => return false,
            None => None,
        };
        let drop_window = !self.spending && m.keeps_spending;
        head(out, MAP, FIELDS);
        key(out, "member");
        text(out, m.member.as_str());
        key(out, "home_store");
        text(out, m.home_store.as_str());
        key(out, "tier");
        text(out, m.tier.as_str());
        key(out, "frozen");
        out.push(if m.frozen { TRUE } else { FALSE });
        key(out, "keeps_consumptions");
        out.push(FALSE);
        key(out, "keeps_spending");
        out.push(if m.keeps_spending && !drop_window {
            TRUE
        } else {
            FALSE
        });
        key(out, "version");
        head(out, UNSIGNED, m.version);
        key(out, "last_at");
        let (secs, nanos) = m.last_at.secs_nanos();
        head(out, ARRAY, 2);
        int(out, secs);
        head(out, UNSIGNED, u64::from(nanos));
        key(out, "next_lot");
        head(out, UNSIGNED, u64::from(m.next_lot));
        key(out, "bonus_spent");
        int(out, m.bonus_spent.cents());
        key(out, "credited_principal");
        int(out, m.credited_principal.cents());
        key(out, "credited_bonus");
        int(out, m.credited_bonus.cents());
        key(out, "tier_since");
        head(out, UNSIGNED, u64::from(m.tier_since));
        key(out, "holdings");
        holdings(out, self, drop_window);
        key(out, "rare");
        match stores {
            None => out.push(NULL),
            Some(stores) => rare_stores(out, stores),
        }
        true
    }
}

/// A rare part that holds only other stores, as its compact form writes it: the stores, and
/// every other field empty (maps and sequences as their types are).
fn rare_stores(out: &mut Vec<u8>, stores: &[StoreId]) {
    head(out, MAP, 7);
    key(out, "stores");
    head(out, ARRAY, stores.len() as u64);
    for s in stores {
        text(out, s.as_str());
    }
    for (name, empty) in [
        ("consumptions", MAP),
        ("packages", ARRAY),
        ("refunded_in_full", ARRAY),
        ("cards", MAP),
        ("holds", MAP),
        ("coupons", MAP),
    ] {
        key(out, name);
        head(out, empty, 0);
    }
}

/// The holdings as one byte string, packed where they go and given their head after.
fn holdings(out: &mut Vec<u8>, c: &Compact<'_>, drop_window: bool) {
    let at = out.len();
    packed::pack_into(
        &c.state.holdings,
        &|h| !drop_window || h.kind != HoldingKind::Spend,
        out,
    );
    // The head goes after the bytes, then is turned round to before them (no buffer a member).
    let len = out.len() - at;
    head(out, BYTES, len as u64);
    let head_len = out.len() - at - len;
    out[at..].rotate_right(head_len);
}

/// A map's key: its text.
fn key(out: &mut Vec<u8>, name: &str) {
    text(out, name);
}

fn text(out: &mut Vec<u8>, s: &str) {
    head(out, TEXT, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// A signed integer: unsigned when not negative, else the negative type's `-1 - n`.
fn int(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        head(out, NEGATIVE, (!n).unsigned_abs());
    } else {
        head(out, UNSIGNED, n.unsigned_abs());
    }
}

/// An item's head: its major type and argument, in the fewest bytes.
fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let major = major << 5;
    let b = n.to_be_bytes();
    match n {
        0..=23 => out.push(major | b[7]),
        24..=0xff => out.extend_from_slice(&[major | 24, b[7]]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&b[6..]);
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend_from_slice(&b[4..]);
        }
        _ => {
            out.push(major | 27);
            out.extend_from_slice(&b);
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// Every head, integer and text is what ciborium writes for it.
        #[test]
        fn heads_integers_and_texts_are_ciboriums(n in any::<i64>(), u in any::<u64>(), s in ".{0,300}") {
            let serdes = |v: &dyn erased::Erased| v.cbor();
            let mut ours = Vec::new();
            super::int(&mut ours, n);
            prop_assert_eq!(&ours, &serdes(&n));
            ours.clear();
            super::head(&mut ours, super::UNSIGNED, u);
            prop_assert_eq!(&ours, &serdes(&u));
            ours.clear();
            super::text(&mut ours, &s);
            prop_assert_eq!(&ours, &serdes(&s.as_str()));
        }
    }

    mod erased {
        /// A value ciborium writes.
        pub trait Erased {
            fn cbor(&self) -> Vec<u8>;
        }
        impl<T: serde::Serialize> Erased for T {
            fn cbor(&self) -> Vec<u8> {
                let mut out = Vec::new();
                ciborium::into_writer(self, &mut out).expect("a Vec takes it");
                out
            }
        }
    }
}

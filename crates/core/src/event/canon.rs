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

use rust_decimal::Decimal;
use uuid::Uuid;

use crate::command::{Balance, Direction, PaidFrom};
use crate::event::coupons::{CouponIssued, CouponKind, CouponReturn, CouponUse, PackageGranted};
use crate::event::data::*;
use crate::event::external::{External, Given, GivenKind};
use crate::event::opened::{OpenedLot, OpenedPackage, OpenedPoints};
use crate::event::{Draw, Event, EventBody, Hash, LotKind, PointsDraw, Restore};
use crate::id::{MemberId, StaffId, StoreId};
use crate::money::Money;
use crate::policy::{PointsEarnedOn, RefundFormula};
use crate::time::Timestamp;

/// A value with one canonical JSON form.
pub(crate) trait Canon: Sized {
    /// Appends the canonical form.
    fn put(&self, out: &mut Vec<u8>);
    /// Reads the canonical form at the reader's place; `None` if the bytes are anything else.
    fn take(r: &mut Reader<'_>) -> Option<Self>;
}

/// A cursor over canonical JSON.
pub(crate) struct Reader<'a> {
    s: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(s: &'a str) -> Reader<'a> {
        Reader { s, at: 0 }
    }

    fn rest(&self) -> &'a [u8] {
        &self.s.as_bytes()[self.at..]
    }

    /// Expects exactly these bytes next.
    fn lit(&mut self, lit: &[u8]) -> Option<()> {
        self.rest().starts_with(lit).then(|| self.at += lit.len())
    }

    /// Whether these bytes come next (consumed if they do).
    fn eat(&mut self, lit: &[u8]) -> bool {
        self.lit(lit).is_some()
    }

    /// A string with nothing escaped, borrowed; `None` for any escape (left to serde).
    fn plain_str(&mut self) -> Option<&'a str> {
        self.lit(b"\"")?;
        let start = self.at;
        let len = self
            .rest()
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if self.rest()[len] != b'"' {
            return None;
        }
        self.at += len + 1;
        Some(&self.s[start..start + len])
    }

    /// An unsigned integer in canonical form: `0`, or digits without a leading zero.
    fn uint(&mut self) -> Option<u64> {
        let digits = self
            .rest()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || digits > 20 || (digits > 1 && self.rest()[0] == b'0') {
            return None;
        }
        let n = self.rest()[..digits].iter().try_fold(0u64, |n, &b| {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        })?;
        self.at += digits;
        Some(n)
    }

    /// Whether every byte was read.
    fn done(&self) -> bool {
        self.at == self.s.len()
    }
}

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

/// Unit enums written as their snake_case names.
macro_rules! canon_names {
    ($t:ident { $($v:ident => $name:literal),* $(,)? }) => {
        impl Canon for $t {
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(match self { $($t::$v => concat!("\"", $name, "\"").as_bytes()),* });
            }
            fn take(r: &mut Reader<'_>) -> Option<Self> {
                match r.plain_str()? { $($name => Some($t::$v),)* _ => None }
            }
        }
    };
}
canon_names!(LotKind { Principal => "principal", Bonus => "bonus" });
canon_names!(PaidFrom { Cash => "cash", Balance => "balance" });
canon_names!(Balance { Principal => "principal", Bonus => "bonus", Points => "points" });
canon_names!(Direction { Credit => "credit", Debit => "debit" });
canon_names!(GivenKind { Service => "service", Gift => "gift" });
canon_names!(CouponKind { Amount => "amount", Percent => "percent", Threshold => "threshold" });
canon_names!(RefundFormula {
    ClawBackUsedBonus => "claw_back_used_bonus",
    ProRata => "pro_rata",
    None => "none"
});
canon_names!(PointsEarnedOn {
    Principal => "principal",
    PrincipalAndExternal => "principal_and_external",
    All => "all",
});

/// An object's fields, in the order declared (which must be sorted: the tests check it
/// against serde's sorted output).
macro_rules! canon_struct {
    ($t:ident { $($f:ident $(: $omit:ident)?),* }) => {
        impl Canon for $t {
            fn put(&self, out: &mut Vec<u8>) {
                let $t { $($f),* } = self;
                out.push(b'{');
                $(put_field!(out, $f $(, $omit)?);)*
                out.push(b'}');
            }
            fn take(r: &mut Reader<'_>) -> Option<Self> {
                r.lit(b"{")?;
                let mut first = true;
                $(let $f = take_field!(r, first, $f $(, $omit)?);)*
                let _ = first;
                r.lit(b"}")?;
                Some($t { $($f),* })
            }
        }
    };
}

/// One field of an object: its key (after a comma unless it is the first) and value. A field
/// marked `omit` (an optional field born at a later schema version) is left out, key and all,
/// when absent, so an event without it keeps the bytes it had before the field was born.
macro_rules! put_field {
    ($out:ident, $f:ident) => {
        if $out.last() != Some(&b'{') {
            $out.push(b',');
        }
        $out.extend_from_slice(concat!("\"", stringify!($f), "\":").as_bytes());
        $f.put($out);
    };
    ($out:ident, $f:ident, omit) => {
        if let Some(value) = $f {
            if $out.last() != Some(&b'{') {
                $out.push(b',');
            }
            $out.extend_from_slice(concat!("\"", stringify!($f), "\":").as_bytes());
            value.put($out);
        }
    };
}

/// Reads one field written by [`put_field`]: `None` (for the whole object) if the bytes differ;
/// an `omit` field absent is `None` as a value.
macro_rules! take_field {
    ($r:ident, $first:ident, $f:ident) => {{
        if !$first {
            $r.lit(b",")?;
        }
        $first = false;
        $r.lit(concat!("\"", stringify!($f), "\":").as_bytes())?;
        Canon::take($r)?
    }};
    ($r:ident, $first:ident, $f:ident, omit) => {{
        let present = if $first {
            $r.eat(concat!("\"", stringify!($f), "\":").as_bytes())
        } else {
            $r.eat(concat!(",\"", stringify!($f), "\":").as_bytes())
        };
        if present {
            $first = false;
            Some(Canon::take($r)?)
        } else {
            None
        }
    }};
}

canon_struct!(Draw {
    amount,
    expires_at,
    kind,
    lot,
    origin_store
});
canon_struct!(Restore {
    amount,
    expires_at,
    forfeited,
    kind,
    lot,
    origin_store
});
canon_struct!(PointsDraw { lot, points });
canon_struct!(OpenedLot {
    amount,
    expires_at,
    lot,
    origin_store
});
canon_struct!(OpenedPoints {
    expires_at,
    lot,
    points
});
canon_struct!(OpenedPackage {
    expires_at,
    origin_store,
    package,
    price,
    service,
    session_price,
    sessions
});
canon_struct!(External { amount, method });
canon_struct!(Given { item, kind, value });
canon_struct!(CouponUse { coupon, discount });
canon_struct!(CouponReturn {
    coupon,
    discount,
    restored
});
canon_struct!(RefundComputation {
    bonus_granted,
    name,
    paid,
    remaining,
    result
});

/// Every body but `policy_published` (its policy is free-form JSON, left to serde): the
/// variant (and its struct), its type name and its fields in sorted order.
macro_rules! canon_bodies {
    ($($v:ident $name:literal { $($f:ident $(: $omit:ident)?),* }),* $(,)?) => {
        $(canon_struct!($v { $($f $(: $omit)?),* });)*

        /// Appends the body's `data` object; false for a body left to serde.
        fn put_data(body: &EventBody, out: &mut Vec<u8>) -> bool {
            match body {
                $(EventBody::$v(data) => {
                    data.put(out);
                    true
                })*
                _ => false,
            }
        }

        /// Reads the `data` object of a body of this type.
        fn take_data(kind: &str, r: &mut Reader<'_>) -> Option<EventBody> {
            match kind {
                $($name => Some(EventBody::$v(Canon::take(r)?)),)*
                _ => None,
            }
        }
    };
}

canon_bodies! {
    MemberEnrolled "member_enrolled" { home_store, tier },
    Recharged "recharged" { amount, lot, staff },
    BonusGranted "bonus_granted" { amount, expires_at, lot, reason, rule },
    Consumed "consumed" {
        bonus, charged, coupon: omit, discount, draws, external: omit, points_earned, points_expires_at,
        points_lot, points_on: omit, price, principal, service, staff, tier
    },
    ConsumptionRefunded "consumption_refunded" {
        amount, bonus, consumption, coupon: omit, external: omit, points_forgiven, points_reversed,
        principal, restored, service_store
    },
    BalanceRefunded "balance_refunded" {
        bonus_forfeited, bonus_spent, clawback, draws, formula: omit, payout, principal
    },
    TierChanged "tier_changed" { from, reason, to },
    BonusExpired "bonus_expired" { amount, expires_at, lot, origin_store },
    PointsExpired "points_expired" { expires_at, lot, points },
    MemberFrozen "member_frozen" { reason },
    MemberUnfrozen "member_unfrozen" { reason },
    PointsRedeemed "points_redeemed" { draws, given: omit, points, reason },
    Adjusted "adjusted" {
        amount, balance, corrects: omit, direction, draws, expires_at, lot, operator, points,
        points_draws, reason
    },
    Settled "settled" { amount, creditor },
    PackagePurchased "package_purchased" {
        bonus, cash, draws, expires_at, external: omit, package, price, principal, service,
        session_price, sessions, staff
    },
    SessionRedeemed "session_redeemed" {
        amount, bonus, origin_store, package, principal, session, sessions_left, staff
    },
    PackageRefunded "package_refunded" {
        amount, bonus, bonus_lot, bonus_unspent, expires_at, external: omit, lot, origin_store,
        package, principal, reason, sessions, to
    },
    PackageExpired "package_expired" {
        amount, bonus, expires_at, origin_store, package, principal, sessions
    },
    PeriodClosed "period_closed" { through },
    BalanceOpened "balance_opened" { bonus, packages, points, principal },
    CardLinked "card_linked" { card },
    CardReportedLost "card_reported_lost" { card, reason },
    CardReplaced "card_replaced" { new_card, old_card },
    CardUnlinked "card_unlinked" { card },
    CardUsed "card_used" { card },
    HoldAuthorized "hold_authorized" { amount, expires_at, hold },
    HoldCaptured "hold_captured" { amount, captured, hold, released },
    HoldVoided "hold_voided" { amount, hold, reason },
    HoldExpired "hold_expired" { amount, expires_at, hold },
    CouponIssued "coupon_issued" {
        amount, cap, coupon, expires_at, kind, percent, reason, threshold
    },
    PackageGranted "package_granted" { expires_at, package, reason, service, sessions },
}

/// Appends the canonical JSON of an event at a position (with `hash` for the export form).
pub(crate) fn put_event(out: &mut Vec<u8>, position: u64, e: &Event, hash: Option<&Hash>) {
    out.extend_from_slice(b"{\"at\":");
    e.at.put(out);
    out.extend_from_slice(b",\"command\":");
    e.command.put(out);
    out.extend_from_slice(b",\"data\":");
    if !put_data(&e.body, out) {
        // serde_json writes an adjacently tagged enum as {"type":…,"data":…}.
        let body = serde_json::to_vec(&e.body).expect("events serialise");
        let prefix = br#"{"type":"","data":"#.len() + e.body.type_name().len();
        out.extend_from_slice(&body[prefix..body.len() - 1]);
    }
    if let Some(h) = hash {
        out.extend_from_slice(b",\"hash\":\"");
        let mut hex = [0u8; 64];
        hex::encode_to_slice(h, &mut hex).expect("64 hex digits");
        out.extend_from_slice(&hex);
        out.push(b'"');
    }
    out.extend_from_slice(b",\"id\":");
    e.id.put(out);
    out.extend_from_slice(b",\"index\":");
    e.index.put(out);
    out.extend_from_slice(b",\"member\":");
    e.member.put(out);
    // Born at schema 3, and only on a late command's events: absent, the bytes are as before.
    if let Some(t) = e.occurred_at {
        out.extend_from_slice(b",\"occurred_at\":");
        t.put(out);
    }
    // Schema 1 predates the field: its bytes are kept exactly as they were written.
    if e.v >= 2 {
        out.extend_from_slice(b",\"policy\":");
        e.policy.put(out);
    }
    out.extend_from_slice(b",\"position\":");
    position.put(out);
    out.extend_from_slice(b",\"store\":");
    e.store.put(out);
    out.extend_from_slice(b",\"type\":\"");
    out.extend_from_slice(e.body.type_name().as_bytes());
    out.extend_from_slice(b"\",\"v\":");
    e.v.put(out);
    out.extend_from_slice(b",\"version\":");
    e.version.put(out);
    out.push(b'}');
}

/// An event's fields as read, before the schema rules are applied.
pub(crate) struct Read {
    pub position: u64,
    pub event: Event,
    /// `policy` was present (schema 2 has it, schema 1 has not).
    pub policy_present: bool,
}

/// Reads an event in exactly its canonical layout; `None` if anything differs (serde then
/// decodes it, or says what is wrong). The schema rules (versions, which types exist at
/// which version) are the caller's.
pub(crate) fn take_event(s: &str) -> Option<Read> {
    // `type` is written after `data`, so it is found from the end first: only `v` and
    // `version`, two integers, follow it.
    const TYPE_KEY: &str = ",\"type\":\"";
    let b = s.as_bytes();
    let t = (0..b.len().saturating_sub(TYPE_KEY.len()))
        .rev()
        .find(|&i| b[i..].starts_with(TYPE_KEY.as_bytes()))?
        + TYPE_KEY.len();
    let kind = &s[t..t + s[t..].find('"')?];
    let mut r = Reader::new(s);
    r.lit(b"{\"at\":")?;
    let at = Timestamp::take(&mut r)?;
    r.lit(b",\"command\":")?;
    let command = Uuid::take(&mut r)?;
    r.lit(b",\"data\":")?;
    let body = take_data(kind, &mut r)?;
    r.lit(b",\"id\":")?;
    let id = Uuid::take(&mut r)?;
    r.lit(b",\"index\":")?;
    let index = u32::take(&mut r)?;
    r.lit(b",\"member\":")?;
    let member = MemberId::take(&mut r)?;
    let occurred_at = if r.eat(b",\"occurred_at\":") {
        Some(Timestamp::take(&mut r)?)
    } else {
        None
    };
    let policy = if r.eat(b",\"policy\":") {
        Some(u32::take(&mut r)?)
    } else {
        None
    };
    r.lit(b",\"position\":")?;
    let position = u64::take(&mut r)?;
    r.lit(b",\"store\":")?;
    let store = StoreId::take(&mut r)?;
    r.lit(TYPE_KEY.as_bytes())?;
    r.lit(kind.as_bytes())?;
    r.lit(b"\",\"v\":")?;
    let v = u16::take(&mut r)?;
    r.lit(b",\"version\":")?;
    let version = u64::take(&mut r)?;
    r.lit(b"}")?;
    if !r.done() {
        return None;
    }
    Some(Read {
        position,
        event: Event {
            id,
            command,
            index,
            member,
            version,
            at,
            occurred_at,
            store,
            v,
            policy: policy.unwrap_or(0),
            body,
        },
        policy_present: policy.is_some(),
    })
}

#[cfg(test)]
#[path = "canon_tests.rs"]
mod tests;

//! Events: the immutable facts a command records, with every derived figure.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::canon;
use crate::id::{MemberId, StaffId, StoreId};
use crate::money::Money;
use crate::time::Timestamp;

/// The schema version every event of this release is written with. docs/EVENTS.md lists
/// every version and what changed; [`decode_event`] reads them all (upcasting older ones).
///
/// - 1: the first release's shape (14 event types).
/// - 2: the envelope names the policy version the event was decided under (`policy`), and
///   the package and policy events are added.
pub const EVENT_SCHEMA_VERSION: u16 = 2;

/// The event types that exist at schema version 1.
const V1_TYPES: [&str; 14] = [
    "member_enrolled",
    "recharged",
    "bonus_granted",
    "consumed",
    "consumption_refunded",
    "balance_refunded",
    "tier_changed",
    "bonus_expired",
    "points_expired",
    "settled",
    "member_frozen",
    "member_unfrozen",
    "points_redeemed",
    "adjusted",
];

/// Which balance a lot belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LotKind {
    /// Money the member paid in.
    Principal,
    /// Promotional credit.
    Bonus,
}

/// An amount drawn from one lot (by a consumption or a balance refund).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draw {
    /// How much was taken.
    pub amount: Money,
    /// When the lot lapses (bonus only).
    pub expires_at: Option<Timestamp>,
    /// Principal or bonus.
    pub kind: LotKind,
    /// The lot's number within the member.
    pub lot: u32,
    /// The store that took the cash (principal) or granted the credit (bonus).
    pub origin_store: StoreId,
}

/// An amount given back to one lot by a consumption refund.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restore {
    /// How much is given back.
    pub amount: Money,
    /// The lot's expiry.
    pub expires_at: Option<Timestamp>,
    /// True when the lot had already expired at the refund: the amount is forfeited, not
    /// credited to the member.
    pub forfeited: bool,
    /// Principal or bonus.
    pub kind: LotKind,
    /// The lot's number within the member.
    pub lot: u32,
    /// The lot's origin store.
    pub origin_store: StoreId,
}

/// Points taken from one point lot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsDraw {
    /// The point lot's number.
    pub lot: u32,
    /// Points taken.
    pub points: u64,
}

/// What happened. Each variant carries every figure a fold needs; nothing is re-derived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    content = "data",
    rename_all = "snake_case",
    deny_unknown_fields
)]
#[non_exhaustive]
pub enum EventBody {
    /// A card was opened.
    MemberEnrolled {
        /// The store that opened it.
        home_store: StoreId,
        /// Starting tier.
        tier: String,
    },
    /// Cash was paid into a new principal lot at the event's store.
    Recharged {
        /// Paid in.
        amount: Money,
        /// The new lot's number.
        lot: u32,
        /// Who took the payment.
        staff: Option<StaffId>,
    },
    /// Bonus credit was granted into a new bonus lot.
    BonusGranted {
        /// Granted.
        amount: Money,
        /// When it lapses.
        expires_at: Option<Timestamp>,
        /// The new lot's number.
        lot: u32,
        /// `recharge` for a recharge bonus, else the caller's reason.
        reason: String,
        /// The index of the policy's recharge-bonus rule that applied, for a recharge bonus.
        rule: Option<u32>,
    },
    /// A service was paid for from the card.
    Consumed {
        /// The part paid from bonus.
        bonus: Money,
        /// `round(price × discount)`: what the card paid.
        charged: Money,
        /// The tier's discount.
        discount: rust_decimal::Decimal,
        /// The lots drawn, in the order drawn.
        draws: Vec<Draw>,
        /// Points earned: `floor(principal × points_per_yuan)`.
        points_earned: u64,
        /// When those points lapse.
        points_expires_at: Option<Timestamp>,
        /// The point lot created (when points were earned).
        points_lot: Option<u32>,
        /// List price.
        price: Money,
        /// The part paid from principal.
        principal: Money,
        /// What was served.
        service: Option<String>,
        /// Who served.
        staff: Option<StaffId>,
        /// The tier the member held.
        tier: String,
    },
    /// All or part of a consumption went back to the card.
    ConsumptionRefunded {
        /// The part of the charged amount refunded.
        amount: Money,
        /// Of which bonus (including any forfeited).
        bonus: Money,
        /// The consume command's id.
        consumption: Uuid,
        /// Points that were due back but the member no longer held (never below zero).
        points_forgiven: u64,
        /// Points taken back from the member.
        points_reversed: Vec<PointsDraw>,
        /// Of which principal.
        principal: Money,
        /// The lots given back to, in the order restored: principal lots last-drawn first,
        /// then bonus lots last-drawn first.
        restored: Vec<Restore>,
        /// The store that delivered the consumption, whose revenue the refund reverses.
        service_store: StoreId,
    },
    /// 退卡: the principal was paid out (less claw-back) and all bonus forfeited.
    BalanceRefunded {
        /// Bonus held before the refund, now forfeited.
        bonus_forfeited: Money,
        /// Bonus spent since enrollment or the last balance refund.
        bonus_spent: Money,
        /// Principal kept back for the bonus spent (when the policy says so).
        clawback: Money,
        /// Every lot emptied, principal then bonus.
        draws: Vec<Draw>,
        /// Cash paid to the member at the event's store.
        payout: Money,
        /// Principal held before the refund.
        principal: Money,
    },
    /// The member's tier changed.
    TierChanged {
        /// Tier before.
        from: String,
        /// `upgrade:single_recharge`, `upgrade:recharged_within_365d`, or the caller's reason.
        reason: String,
        /// Tier after.
        to: String,
    },
    /// A bonus lot passed its expiry.
    BonusExpired {
        /// What was left in it.
        amount: Money,
        /// Its expiry.
        expires_at: Timestamp,
        /// The lot's number.
        lot: u32,
        /// The store that granted it.
        origin_store: StoreId,
    },
    /// A point lot passed its expiry.
    PointsExpired {
        /// Its expiry.
        expires_at: Timestamp,
        /// The point lot's number.
        lot: u32,
        /// Points left in it.
        points: u64,
    },
    /// The card was frozen.
    MemberFrozen {
        /// Why.
        reason: String,
    },
    /// The card was unfrozen.
    MemberUnfrozen {
        /// Why.
        reason: String,
    },
    /// Points were spent, drawn from point lots earliest expiry first.
    PointsRedeemed {
        /// The point lots drawn, in order.
        draws: Vec<PointsDraw>,
        /// Points spent.
        points: u64,
        /// What for.
        reason: Option<String>,
    },
    /// A balance was corrected by hand. A credit opens lot `lot`; a debit lists the lots drawn.
    Adjusted {
        /// The money moved (principal and bonus), or null.
        amount: Option<Money>,
        /// Which balance.
        balance: crate::command::Balance,
        /// Credit or debit.
        direction: crate::command::Direction,
        /// Money lots drawn by a debit (principal or bonus).
        draws: Vec<Draw>,
        /// When a credited bonus or points lot lapses.
        expires_at: Option<Timestamp>,
        /// The lot a credit opened.
        lot: Option<u32>,
        /// Who made the correction.
        operator: StaffId,
        /// The points moved (points), or null.
        points: Option<u64>,
        /// Point lots drawn by a points debit.
        points_draws: Vec<PointsDraw>,
        /// Why.
        reason: String,
    },
    /// The event's store (the debtor) paid another store what it owed it, or part of it.
    /// Recorded in the settlements stream.
    Settled {
        /// Paid.
        amount: Money,
        /// The store paid.
        creditor: StoreId,
    },
    /// A package was bought at the event's store (its origin store), known by the command id.
    PackagePurchased {
        /// Paid from bonus.
        bonus: Money,
        /// Paid in cash at the event's store.
        cash: Money,
        /// Lots drawn when paid from the balance, in the order drawn.
        draws: Vec<Draw>,
        /// When unredeemed sessions lapse.
        expires_at: Option<Timestamp>,
        /// The package's id (the purchase command's id).
        package: Uuid,
        /// The price: `cash + principal + bonus`.
        price: Money,
        /// Paid from principal.
        principal: Money,
        /// The service.
        service: String,
        /// Revenue of each session but the last: `floor(price / sessions)` to the cent; the
        /// last takes the remainder.
        session_price: Money,
        /// Sessions bought.
        sessions: u32,
        /// Who sold it.
        staff: Option<StaffId>,
    },
    /// One session of a package was delivered at the event's store.
    SessionRedeemed {
        /// Revenue recognised: `principal + bonus`.
        amount: Money,
        /// The share funded by bonus.
        bonus: Money,
        /// The store that sold the package (and holds its cash).
        origin_store: StoreId,
        /// The package.
        package: Uuid,
        /// The share funded by cash or principal, cleared between stores like principal.
        principal: Money,
        /// This session's number, from 1.
        session: u32,
        /// Sessions left after this one.
        sessions_left: u32,
        /// Who served.
        staff: Option<StaffId>,
    },
    /// The unredeemed sessions of a package were refunded at the event's store.
    PackageRefunded {
        /// The unredeemed value: `principal + bonus`.
        amount: Money,
        /// Its bonus-funded share: back as a bonus lot (`to` balance) or forfeited (`to` cash).
        bonus: Money,
        /// The bonus lot opened (`to` balance, bonus share above zero).
        bonus_lot: Option<u32>,
        /// How much the member's bonus-spent figure goes down (the bonus share, at most what
        /// the figure holds).
        bonus_unspent: Money,
        /// When the bonus lot lapses.
        expires_at: Option<Timestamp>,
        /// The principal lot opened (`to` balance, principal share above zero).
        lot: Option<u32>,
        /// The store that sold the package.
        origin_store: StoreId,
        /// The package.
        package: Uuid,
        /// Its share funded by cash or principal: paid out (`to` cash) or back as principal.
        principal: Money,
        /// Why.
        reason: Option<String>,
        /// Sessions refunded.
        sessions: u32,
        /// Where the value went.
        to: crate::command::PaidFrom,
    },
    /// A package passed its expiry with sessions left; their value is breakage.
    PackageExpired {
        /// The value left: `principal + bonus`.
        amount: Money,
        /// Of which bonus-funded.
        bonus: Money,
        /// Its expiry.
        expires_at: Timestamp,
        /// The store that sold the package.
        origin_store: StoreId,
        /// The package.
        package: Uuid,
        /// Of which funded by cash or principal.
        principal: Money,
        /// Sessions that lapsed.
        sessions: u32,
    },
    /// A new policy version was published, in force from the event's time. Recorded in the
    /// policy stream.
    PolicyPublished {
        /// The complete policy, every default filled in (canonical JSON, keys sorted).
        policy: serde_json::Value,
        /// Its version number: the founding policy is 1, each publication adds one.
        version: u32,
    },
}

impl EventBody {
    /// The wire name of the event type.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventBody::MemberEnrolled { .. } => "member_enrolled",
            EventBody::Recharged { .. } => "recharged",
            EventBody::BonusGranted { .. } => "bonus_granted",
            EventBody::Consumed { .. } => "consumed",
            EventBody::ConsumptionRefunded { .. } => "consumption_refunded",
            EventBody::BalanceRefunded { .. } => "balance_refunded",
            EventBody::TierChanged { .. } => "tier_changed",
            EventBody::BonusExpired { .. } => "bonus_expired",
            EventBody::PointsExpired { .. } => "points_expired",
            EventBody::Settled { .. } => "settled",
            EventBody::MemberFrozen { .. } => "member_frozen",
            EventBody::MemberUnfrozen { .. } => "member_unfrozen",
            EventBody::PointsRedeemed { .. } => "points_redeemed",
            EventBody::Adjusted { .. } => "adjusted",
            EventBody::PackagePurchased { .. } => "package_purchased",
            EventBody::SessionRedeemed { .. } => "session_redeemed",
            EventBody::PackageRefunded { .. } => "package_refunded",
            EventBody::PackageExpired { .. } => "package_expired",
            EventBody::PolicyPublished { .. } => "policy_published",
        }
    }
}

/// An event as a command decided it: the body plus who, when, where and which command.
///
/// Its JSON form is [`canonical_json`]; there is no other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// `UUID v5(namespace = command id, name = index as decimal ASCII)`.
    pub id: Uuid,
    /// The command that recorded it.
    pub command: Uuid,
    /// Its index within the command's events, from 0.
    pub index: u32,
    /// The member stream.
    pub member: MemberId,
    /// The member stream's version after this event, from 1.
    pub version: u64,
    /// The command's time.
    pub at: Timestamp,
    /// The command's store.
    pub store: StoreId,
    /// The schema version it is encoded with (see [`EVENT_SCHEMA_VERSION`]).
    pub v: u16,
    /// The version of the policy it was decided under (1 for every event of schema 1, which
    /// predates policy history: they were all decided under the founding policy).
    pub policy: u32,
    /// What happened.
    pub body: EventBody,
}

/// The id of the `index`-th event of a command.
pub fn event_id(command: Uuid, index: u32) -> Uuid {
    Uuid::new_v5(&command, itoa::Buffer::new().format(index).as_bytes())
}

/// A SHA-256 chain hash.
pub type Hash = [u8; 32];

/// The hash before the first event: 32 zero bytes.
pub const GENESIS_HASH: Hash = [0; 32];

/// An event in the log: its global position (from 1) and chain hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Global position in the ledger's log, from 1, without gaps.
    pub position: u64,
    /// The event.
    pub event: Event,
    /// `SHA-256(previous hash ‖ canonical JSON)`.
    pub hash: Hash,
}

/// The canonical JSON of an event at a position: the event's fields and `position`, keys
/// sorted by their UTF-8 bytes at every level, no whitespace, amounts and times as strings,
/// integers as integers. This is exactly what the chain hashes (see docs/AUDIT.md).
///
/// Written directly rather than through a sorted map: every struct of an event body declares
/// its fields in sorted order, and the envelope below is written in sorted order by hand. The
/// golden files and `verify` (which re-encodes every stored event) hold it to that.
pub fn canonical_json(position: u64, event: &Event) -> String {
    let mut out = Vec::with_capacity(640);
    canon::put_event(&mut out, position, event, None);
    String::from_utf8(out).expect("canonical JSON is UTF-8")
}

/// Appends [`canonical_json`] to a buffer the caller reuses (no allocation once it is large
/// enough): what `verify` compares every stored event with.
pub fn write_canonical_json(out: &mut Vec<u8>, position: u64, event: &Event) {
    canon::put_event(out, position, event, None);
}

/// The envelope as decoded: the body's `data` is kept raw and decoded once its type is known.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeIn<'a> {
    at: Timestamp,
    command: Uuid,
    #[serde(borrow)]
    data: &'a serde_json::value::RawValue,
    id: Uuid,
    index: u32,
    member: MemberId,
    #[serde(default)]
    policy: Option<u32>,
    position: u64,
    store: StoreId,
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    v: u16,
    version: u64,
}

/// Decodes canonical JSON of any schema version back into a position and an event. Unknown
/// fields are refused.
///
/// Older versions are upcast to today's [`Event`] (the rule is in docs/EVENTS.md): a schema-1
/// event gets `policy = 1`, and keeps `v = 1` so that [`canonical_json`] gives back its exact
/// bytes (the chain hashes them).
pub fn decode_event(json: &[u8]) -> Result<(u64, Event), String> {
    // The canonical layout is read directly; anything else goes through serde, which reads
    // any layout and says what is wrong.
    if let Some(read) = std::str::from_utf8(json).ok().and_then(canon::take_event) {
        let kind = read.event.body.type_name();
        let policy = schema_policy(
            read.event.v,
            read.policy_present.then_some(read.event.policy),
            kind,
        )?;
        crate::bounds::check_event(&read.event.body)?;
        return Ok((
            read.position,
            Event {
                policy,
                ..read.event
            },
        ));
    }
    decode_event_serde(json)
}

/// [`decode_event`] through serde alone: any layout of the same JSON, with serde's words for
/// what is wrong.
pub(crate) fn decode_event_serde(json: &[u8]) -> Result<(u64, Event), String> {
    let e: EnvelopeIn<'_> = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    let policy = schema_policy(e.v, e.policy, &e.kind)?;
    let body = EventBody::deserialize(Tagged {
        kind: &e.kind,
        data: e.data.get(),
        at: 0,
    })
    .map_err(|err| err.to_string())?;
    crate::bounds::check_event(&body)?;
    if let EventBody::PolicyPublished { policy, .. } = &body {
        jcs_numbers(policy)?;
    }
    let event = Event {
        id: e.id,
        command: e.command,
        index: e.index,
        member: e.member,
        version: e.version,
        at: e.at,
        store: e.store,
        v: e.v,
        policy,
        body,
    };
    Ok((e.position, event))
}

/// The largest integer written the same way by every JSON writer, RFC 8785 (JCS) included:
/// 2^53 - 1, the last integer an IEEE 754 double holds exactly.
pub const JSON_INTEGER_MAX: u64 = (1 << 53) - 1;

/// Refuses a number in a policy's free-form JSON that is not an integer within
/// ±[`JSON_INTEGER_MAX`]. Every number a valid policy holds is such an integer (expiry days);
/// within that range serde_json and JCS write numbers identically, so an event's canonical
/// bytes are its JCS bytes (docs/AUDIT.md). A float or a larger integer would be written
/// differently by a JCS library (`1e+21`, `1.5e-7`), so it is refused when decoded.
fn jcs_numbers(v: &serde_json::Value) -> Result<(), String> {
    match v {
        serde_json::Value::Number(n) => {
            let fits = n.as_u64().is_some_and(|n| n <= JSON_INTEGER_MAX)
                || n.as_i64()
                    .is_some_and(|n| n.unsigned_abs() <= JSON_INTEGER_MAX);
            if fits {
                Ok(())
            } else {
                Err(format!(
                    "the policy holds the number {n}: only integers up to 2^53 - 1 in size are allowed"
                ))
            }
        }
        serde_json::Value::Array(items) => items.iter().try_for_each(jcs_numbers),
        serde_json::Value::Object(map) => map.values().try_for_each(jcs_numbers),
        _ => Ok(()),
    }
}

/// The policy version an event of schema `v` names, by the rules of each schema version
/// (docs/EVENTS.md): schema 1 has no `policy` (upcast to 1) and only its 14 types; schema 2
/// names a version of at least 1.
fn schema_policy(v: u16, policy: Option<u32>, kind: &str) -> Result<u32, String> {
    Ok(match (v, policy) {
        (1, None) if V1_TYPES.contains(&kind) => 1,
        (1, None) => return Err(format!("event type {kind:?} does not exist at schema 1")),
        (1, Some(_)) => return Err("schema 1 has no field `policy`".into()),
        (2, Some(p)) if p >= 1 => p,
        (2, _) => return Err("schema 2 needs a policy version of at least 1".into()),
        (v, _) => return Err(format!("unknown event schema version {v}")),
    })
}

/// The adjacently tagged form of a body, `{"type": kind, "data": …}`, presented to serde
/// without writing it out: the type first, so the derived decoder reads `data` straight from
/// the stored bytes without buffering.
struct Tagged<'a> {
    kind: &'a str,
    data: &'a str,
    /// Entries handed out so far.
    at: u8,
}

impl<'de> serde::Deserializer<'de> for Tagged<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de> serde::de::MapAccess<'de> for Tagged<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let key = match self.at {
            0 => "type",
            1 => "data",
            _ => return Ok(None),
        };
        seed.deserialize(serde::de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        self.at += 1;
        if self.at == 1 {
            return seed.deserialize(serde::de::value::BorrowedStrDeserializer::new(self.kind));
        }
        let mut de = serde_json::Deserializer::from_str(self.data);
        let value = seed.deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }
}

/// The chain rule: `SHA-256(prev ‖ canonical_json)`.
pub fn chain_hash(prev: &Hash, canonical: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical);
    h.finalize().into()
}

impl RecordedEvent {
    /// The export line: the canonical JSON with `hash` (lowercase hex) added, keys still sorted.
    pub fn to_export_json(&self) -> String {
        let mut out = Vec::with_capacity(720);
        canon::put_event(&mut out, self.position, &self.event, Some(&self.hash));
        String::from_utf8(out).expect("canonical JSON is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"at":"2026-03-01T10:05:00Z","command":"00000000-0000-4000-8000-000000000002","data":{"amount":"1000.00","lot":1,"staff":"E7"},"id":"8d2ab1e5-a4b0-5b7a-a3c8-d2a59ba0e1c4","index":0,"member":"M1","policy":3,"position":2,"store":"S1","type":"recharged","v":2,"version":2}"#;

    #[test]
    fn decodes_and_re_encodes_to_the_same_bytes() {
        let (position, event) = decode_event(LINE.as_bytes()).unwrap();
        assert_eq!(position, 2);
        assert_eq!(canonical_json(position, &event), LINE);
        let rec = RecordedEvent {
            position,
            event,
            hash: [0xab; 32],
        };
        let export = rec.to_export_json();
        let v: serde_json::Value = serde_json::from_str(&export).unwrap();
        assert_eq!(v["hash"].as_str().unwrap(), "ab".repeat(32));
        // The export is still sorted canonical JSON.
        assert_eq!(v.to_string(), export);
    }

    #[test]
    fn upcasts_schema_1_and_keeps_its_bytes() {
        let v1 = LINE
            .replace(r#""policy":3,"#, "")
            .replace(r#""v":2"#, r#""v":1"#);
        let (position, event) = decode_event(v1.as_bytes()).unwrap();
        assert_eq!((event.v, event.policy), (1, 1));
        assert_eq!(canonical_json(position, &event), v1);
        // A type born at schema 2 has no schema-1 form.
        let born_later = v1.replace("recharged", "session_redeemed");
        assert!(decode_event(born_later.as_bytes()).is_err());
    }

    #[test]
    fn a_published_policy_holds_only_numbers_that_jcs_writes_alike() {
        // A float (a number beyond u64 is read as one) or an integer beyond 2^53 - 1 in a
        // published policy's free-form JSON would be written differently by a JCS library:
        // refused, so the canonical form stays JCS (docs/AUDIT.md).
        let line = r#"{"at":"2026-07-01T00:00:00Z","command":"00000000-0000-4000-8000-000000000199","data":{"policy":{"x":N},"version":2},"id":"01daa897-4160-5efd-8f53-d38646f0fe5c","index":0,"member":"@policy","policy":2,"position":28,"store":"HQ","type":"policy_published","v":2,"version":1}"#;
        for bad in [
            "8888888888888888888888888888888888888888888888888888888888882",
            "1.5",
            "1e3",
            "-0",
            "9007199254740992",
            "[1,{\"y\":0.1}]",
        ] {
            let json = line.replace('N', bad);
            let e = decode_event(json.as_bytes()).unwrap_err();
            assert!(e.contains("only integers"), "{bad}: {e}");
        }
        for good in [
            "9007199254740991",
            "-9007199254740991",
            "365",
            "[1,{\"y\":null}]",
        ] {
            let json = line.replace('N', good);
            let (position, event) = decode_event(json.as_bytes()).unwrap();
            assert_eq!(canonical_json(position, &event), json, "{good}");
        }
    }

    #[test]
    fn refuses_unknown_fields_types_and_versions() {
        let extra_top = LINE.replace(r#""v":2"#, r#""v":2,"x":1"#);
        let extra_data = LINE.replace(r#""lot":1"#, r#""lot":1,"x":1"#);
        let bad_type = LINE.replace("recharged", "teleported");
        let future = LINE.replace(r#""v":2"#, r#""v":9"#);
        let no_policy = LINE.replace(r#""policy":3,"#, "");
        let v1_with_policy = LINE.replace(r#""v":2"#, r#""v":1"#);
        // Beyond any figure a ledger records: refused, so no sum of cents can overflow later.
        let huge = LINE.replace(
            r#""amount":"1000.00""#,
            r#""amount":"99999999999999999.00""#,
        );
        assert!(decode_event(huge.as_bytes()).is_err());
        for bad in [
            extra_top,
            extra_data,
            bad_type,
            future,
            no_policy,
            v1_with_policy,
        ] {
            assert!(decode_event(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}

//! Events: the immutable facts a command records, with every derived figure.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::id::{MemberId, StaffId, StoreId};
use crate::money::Money;
use crate::time::Timestamp;

/// The schema version every event of this release is written with.
pub const EVENT_SCHEMA_VERSION: u16 = 1;

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
    /// The schema version of this event's type.
    pub v: u16,
    /// What happened.
    pub body: EventBody,
}

/// The id of the `index`-th event of a command.
pub fn event_id(command: Uuid, index: u32) -> Uuid {
    Uuid::new_v5(&command, index.to_string().as_bytes())
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
    envelope_json(position, event, None)
}

fn envelope_json(position: u64, event: &Event, hash: Option<&Hash>) -> String {
    // serde_json writes an adjacently tagged enum as {"type":…,"data":…}; the data part is
    // what goes under "data".
    let body = serde_json::to_string(&event.body).expect("events serialise");
    let type_name = event.body.type_name();
    let prefix_len = r#"{"type":"","data":"#.len() + type_name.len();
    debug_assert!(body.starts_with(&format!(r#"{{"type":"{type_name}","data":"#)));
    let data = &body[prefix_len..body.len() - 1];
    let mut s = String::with_capacity(body.len() + 320);
    // Ids are [A-Za-z0-9_.-], uuids and times have nothing to escape.
    s.push_str(r#"{"at":""#);
    s.push_str(&event.at.to_string());
    s.push_str(r#"","command":""#);
    s.push_str(
        event
            .command
            .hyphenated()
            .encode_lower(&mut Uuid::encode_buffer()),
    );
    s.push_str(r#"","data":"#);
    s.push_str(data);
    if let Some(h) = hash {
        s.push_str(r#","hash":""#);
        s.push_str(&hex::encode(h));
        s.push('"');
    }
    s.push_str(r#","id":""#);
    s.push_str(
        event
            .id
            .hyphenated()
            .encode_lower(&mut Uuid::encode_buffer()),
    );
    s.push_str(&format!(
        r#"","index":{},"member":"{}","position":{position},"store":"{}","type":"{type_name}","v":{},"version":{}}}"#,
        event.index, event.member, event.store, event.v, event.version
    ));
    s
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
    position: u64,
    store: StoreId,
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    v: u16,
    version: u64,
}

/// Decodes canonical JSON back into a position and an event. Unknown fields are refused.
pub fn decode_event(json: &[u8]) -> Result<(u64, Event), String> {
    let e: EnvelopeIn<'_> = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    if e.v == 0 || e.v > EVENT_SCHEMA_VERSION {
        return Err(format!("unknown event schema version {}", e.v));
    }
    // Re-wrap as the adjacently tagged form, type first, which serde decodes without buffering.
    let kind = serde_json::to_string(&e.kind).expect("a string serialises");
    let tagged = format!(r#"{{"type":{kind},"data":{}}}"#, e.data.get());
    let body: EventBody = serde_json::from_str(&tagged).map_err(|err| err.to_string())?;
    let event = Event {
        id: e.id,
        command: e.command,
        index: e.index,
        member: e.member,
        version: e.version,
        at: e.at,
        store: e.store,
        v: e.v,
        body,
    };
    Ok((e.position, event))
}

/// The chain rule: `SHA-256(prev ‖ canonical_json)`.
pub fn chain_hash(prev: &Hash, canonical: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical);
    h.finalize().into()
}

impl RecordedEvent {
    /// Seals an event at a position after `prev`.
    pub fn seal(position: u64, event: Event, prev: &Hash) -> (RecordedEvent, String) {
        let json = canonical_json(position, &event);
        let hash = chain_hash(prev, json.as_bytes());
        (
            RecordedEvent {
                position,
                event,
                hash,
            },
            json,
        )
    }

    /// The export line: the canonical JSON with `hash` (lowercase hex) added, keys still sorted.
    pub fn to_export_json(&self) -> String {
        envelope_json(self.position, &self.event, Some(&self.hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"at":"2026-03-01T10:05:00Z","command":"00000000-0000-4000-8000-000000000002","data":{"amount":"1000.00","lot":1,"staff":"E7"},"id":"8d2ab1e5-a4b0-5b7a-a3c8-d2a59ba0e1c4","index":0,"member":"M1","position":2,"store":"S1","type":"recharged","v":1,"version":2}"#;

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
    fn refuses_unknown_fields_types_and_versions() {
        let extra_top = LINE.replace(r#""v":1"#, r#""v":1,"x":1"#);
        let extra_data = LINE.replace(r#""lot":1"#, r#""lot":1,"x":1"#);
        let bad_type = LINE.replace("recharged", "teleported");
        let future = LINE.replace(r#""v":1"#, r#""v":9"#);
        // Beyond any figure a ledger records: refused, so no sum of cents can overflow later.
        let huge = LINE.replace(
            r#""amount":"1000.00""#,
            r#""amount":"99999999999999999.00""#,
        );
        assert!(decode_event(huge.as_bytes()).is_err());
        for bad in [extra_top, extra_data, bad_type, future] {
            assert!(decode_event(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}

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
    /// The lot's number within the member.
    pub lot: u32,
    /// Principal or bonus.
    pub kind: LotKind,
    /// How much was taken.
    pub amount: Money,
    /// The store that took the cash (principal) or granted the credit (bonus).
    pub origin_store: StoreId,
    /// When the lot lapses (bonus only).
    pub expires_at: Option<Timestamp>,
}

/// An amount given back to one lot by a consumption refund.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restore {
    /// The lot's number within the member.
    pub lot: u32,
    /// Principal or bonus.
    pub kind: LotKind,
    /// How much is given back.
    pub amount: Money,
    /// The lot's origin store.
    pub origin_store: StoreId,
    /// The lot's expiry.
    pub expires_at: Option<Timestamp>,
    /// True when the lot had already expired at the refund: the amount is forfeited, not
    /// credited to the member.
    pub forfeited: bool,
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
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
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
        /// The new lot's number.
        lot: u32,
        /// When it lapses.
        expires_at: Option<Timestamp>,
        /// `recharge` for a recharge bonus, else the caller's reason.
        reason: String,
        /// The index of the policy's recharge-bonus rule that applied, for a recharge bonus.
        rule: Option<u32>,
    },
    /// A service was paid for from the card.
    Consumed {
        /// What was served.
        service: Option<String>,
        /// Who served.
        staff: Option<StaffId>,
        /// The tier the member held.
        tier: String,
        /// List price.
        price: Money,
        /// The tier's discount.
        discount: rust_decimal::Decimal,
        /// `round(price × discount)`: what the card paid.
        charged: Money,
        /// The part paid from principal.
        principal: Money,
        /// The part paid from bonus.
        bonus: Money,
        /// The lots drawn, in the order drawn.
        draws: Vec<Draw>,
        /// Points earned: `floor(principal × points_per_yuan)`.
        points_earned: u64,
        /// The point lot created (when points were earned).
        points_lot: Option<u32>,
        /// When those points lapse.
        points_expires_at: Option<Timestamp>,
    },
    /// All or part of a consumption went back to the card.
    ConsumptionRefunded {
        /// The consume command's id.
        consumption: Uuid,
        /// The part of the charged amount refunded.
        amount: Money,
        /// Of which principal.
        principal: Money,
        /// Of which bonus (including any forfeited).
        bonus: Money,
        /// The lots given back to, in the order restored (reverse of drawing).
        restored: Vec<Restore>,
        /// Points taken back from the member.
        points_reversed: Vec<PointsDraw>,
        /// Points that were due back but the member no longer held (never below zero).
        points_forgiven: u64,
    },
    /// 退卡: the principal was paid out (less claw-back) and all bonus forfeited.
    BalanceRefunded {
        /// Principal held before the refund.
        principal: Money,
        /// Bonus held before the refund, now forfeited.
        bonus_forfeited: Money,
        /// Bonus spent since enrollment or the last balance refund.
        bonus_spent: Money,
        /// Principal kept back for the bonus spent (when the policy says so).
        clawback: Money,
        /// Cash paid to the member at the event's store.
        payout: Money,
        /// Every lot emptied, principal then bonus.
        draws: Vec<Draw>,
    },
    /// The member's tier changed.
    TierChanged {
        /// Tier before.
        from: String,
        /// Tier after.
        to: String,
        /// `upgrade:single_recharge`, `upgrade:recharged_within_365d`, or the caller's reason.
        reason: String,
    },
    /// A bonus lot passed its expiry.
    BonusExpired {
        /// The lot's number.
        lot: u32,
        /// What was left in it.
        amount: Money,
        /// The store that granted it.
        origin_store: StoreId,
        /// Its expiry.
        expires_at: Timestamp,
    },
    /// A point lot passed its expiry.
    PointsExpired {
        /// The point lot's number.
        lot: u32,
        /// Points left in it.
        points: u64,
        /// Its expiry.
        expires_at: Timestamp,
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
        }
    }
}

/// An event as a command decided it: the body plus who, when, where and which command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(flatten)]
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

#[derive(Serialize, Deserialize)]
struct Positioned<E> {
    position: u64,
    #[serde(flatten)]
    event: E,
}

/// The canonical JSON of an event at a position: the event's fields and `position`, keys
/// sorted by their UTF-8 bytes, no whitespace, amounts and times as strings, integers as
/// integers. This is exactly what the chain hashes (see docs/AUDIT.md).
pub fn canonical_json(position: u64, event: &Event) -> String {
    // serde_json's Value keeps object keys in a BTreeMap, so printing it sorts every level.
    serde_json::to_value(Positioned { position, event })
        .expect("events serialise")
        .to_string()
}

/// Decodes canonical JSON back into a position and an event.
pub fn decode_event(json: &[u8]) -> Result<(u64, Event), String> {
    let p: Positioned<Event> = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    if p.event.v == 0 || p.event.v > EVENT_SCHEMA_VERSION {
        return Err(format!("unknown event schema version {}", p.event.v));
    }
    Ok((p.position, p.event))
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
        let mut v = serde_json::to_value(Positioned {
            position: self.position,
            event: &self.event,
        })
        .expect("events serialise");
        v.as_object_mut()
            .expect("an event is an object")
            .insert("hash".into(), hex::encode(self.hash).into());
        v.to_string()
    }
}

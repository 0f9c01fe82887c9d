//! One struct per event type: every figure the event records. Each declares its fields in
//! sorted order (the canonical JSON writes them in that order; `canon` tests hold it to it).
//! A field added here is a schema change (docs/EVENTS.md): these structs are the wire shape.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::draws::{Draw, PointsDraw, Restore};
use super::external::{External, Given};
use crate::id::{StaffId, StoreId};
use crate::money::Money;
use crate::time::Timestamp;

/// A card was opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberEnrolled {
    /// The store that opened it.
    pub home_store: StoreId,
    /// Starting tier.
    pub tier: String,
}

/// Cash was paid into a new principal lot at the event's store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recharged {
    /// Paid in.
    pub amount: Money,
    /// The new lot's number.
    pub lot: u32,
    /// Who took the payment.
    pub staff: Option<StaffId>,
}

/// Bonus credit was granted into a new bonus lot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BonusGranted {
    /// Granted.
    pub amount: Money,
    /// When it lapses.
    pub expires_at: Option<Timestamp>,
    /// The new lot's number.
    pub lot: u32,
    /// `recharge` for a recharge bonus, else the caller's reason.
    pub reason: String,
    /// The index of the policy's recharge-bonus rule that applied, for a recharge bonus.
    pub rule: Option<u32>,
}

/// A service was paid for from the card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consumed {
    /// The part paid from bonus.
    pub bonus: Money,
    /// `round(price × discount)` less any coupon's discount: what the member paid (card and
    /// outside it).
    pub charged: Money,
    /// The coupon redeemed and what it took off (born at 3; absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon: Option<super::coupons::CouponUse>,
    /// The tier's discount.
    pub discount: rust_decimal::Decimal,
    /// The lots drawn, in the order drawn.
    pub draws: Vec<Draw>,
    /// The part paid outside the card, and how (born at 3; absent: the card paid it all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<External>,
    /// Points earned: `floor(base × points_per_yuan)`, the base being the parts the policy's
    /// `points_earned_on` names (principal alone by default).
    pub points_earned: u64,
    /// When those points lapse.
    pub points_expires_at: Option<Timestamp>,
    /// The point lot created (when points were earned).
    pub points_lot: Option<u32>,
    /// The parts that earned the points, when not principal alone (born at 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_on: Option<crate::policy::PointsEarnedOn>,
    /// List price.
    pub price: Money,
    /// The part paid from principal.
    pub principal: Money,
    /// What was served.
    pub service: Option<String>,
    /// Who served.
    pub staff: Option<StaffId>,
    /// The tier the member held.
    pub tier: String,
}

/// All or part of a consumption went back to the card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumptionRefunded {
    /// The part of the charged amount refunded.
    pub amount: Money,
    /// Of which bonus (including any forfeited).
    pub bonus: Money,
    /// The consume command's id.
    pub consumption: Uuid,
    /// On the refund that completes a visit that redeemed a coupon: its discount reversed and
    /// whether the coupon is given back (born at 3; absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon: Option<super::coupons::CouponReturn>,
    /// Of which paid back outside the card, by the method the consumption's external part
    /// was paid with (born at 3; absent: all went back to the card).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<External>,
    /// Points that were due back but the member no longer held (never below zero).
    pub points_forgiven: u64,
    /// Points taken back from the member.
    pub points_reversed: Vec<PointsDraw>,
    /// Of which principal.
    pub principal: Money,
    /// The lots given back to, in the order restored: principal lots last-drawn first,
    /// then bonus lots last-drawn first.
    pub restored: Vec<Restore>,
    /// The store that delivered the consumption, whose revenue the refund reverses.
    pub service_store: StoreId,
}

/// 退卡: the principal was paid out (less claw-back) and all bonus forfeited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BalanceRefunded {
    /// Bonus held before the refund, now forfeited.
    pub bonus_forfeited: Money,
    /// Bonus spent since enrollment or the last balance refund.
    pub bonus_spent: Money,
    /// Principal kept back for the bonus spent (when the policy says so).
    pub clawback: Money,
    /// Every lot emptied, principal then bonus.
    pub draws: Vec<Draw>,
    /// How the payout was computed, when the policy's formula is not claw-back (born at
    /// schema 3; absent for claw-back, so those events keep their bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<RefundComputation>,
    /// Cash paid to the member at the event's store.
    pub payout: Money,
    /// Principal held before the refund.
    pub principal: Money,
}

/// A balance refund's formula and its inputs, as recorded on `balance_refunded`: the payout
/// is `min(result, principal)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RefundComputation {
    /// Bonus credited since enrollment or the last balance refund (grants, bonus credits by
    /// adjustment, bonus given back by package refunds).
    pub bonus_granted: Money,
    /// The formula.
    pub name: crate::policy::RefundFormula,
    /// Principal credited over the same span (recharges, principal credits by adjustment,
    /// principal given back by package refunds): what the member paid in.
    pub paid: Money,
    /// Principal and bonus held before the refund.
    pub remaining: Money,
    /// The formula's figure: `round(remaining × paid ÷ (paid + bonus_granted))` for
    /// `pro_rata` (`remaining` when nothing was paid or granted), the principal for `none`.
    pub result: Money,
}

impl RefundComputation {
    /// A computation from its parts (the formula's figure is the caller's).
    pub fn new(
        name: crate::policy::RefundFormula,
        paid: Money,
        bonus_granted: Money,
        remaining: Money,
        result: Money,
    ) -> RefundComputation {
        RefundComputation {
            bonus_granted,
            name,
            paid,
            remaining,
            result,
        }
    }
}

/// The member's tier changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierChanged {
    /// Tier before.
    pub from: String,
    /// `upgrade:single_recharge`, `upgrade:recharged_within_365d`, or the caller's reason.
    pub reason: String,
    /// Tier after.
    pub to: String,
}

/// A bonus lot passed its expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BonusExpired {
    /// What was left in it.
    pub amount: Money,
    /// Its expiry.
    pub expires_at: Timestamp,
    /// The lot's number.
    pub lot: u32,
    /// The store that granted it.
    pub origin_store: StoreId,
}

/// A point lot passed its expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsExpired {
    /// Its expiry.
    pub expires_at: Timestamp,
    /// The point lot's number.
    pub lot: u32,
    /// Points left in it.
    pub points: u64,
}

/// The card was frozen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberFrozen {
    /// Why.
    pub reason: String,
}

/// The card was unfrozen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberUnfrozen {
    /// Why.
    pub reason: String,
}

/// Points were spent, drawn from point lots earliest expiry first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsRedeemed {
    /// The point lots drawn, in order.
    pub draws: Vec<PointsDraw>,
    /// What was given for them, and its value (born at 3; absent: not named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given: Option<Given>,
    /// Points spent.
    pub points: u64,
    /// What for.
    pub reason: Option<String>,
}

/// A balance was corrected by hand. A credit opens lot `lot`; a debit lists the lots drawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adjusted {
    /// The money moved (principal and bonus), or null.
    pub amount: Option<Money>,
    /// Which balance.
    pub balance: crate::command::Balance,
    /// What it corrects: an event id or a command id (born at schema 3; absent when not
    /// given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<Uuid>,
    /// Credit or debit.
    pub direction: crate::command::Direction,
    /// Money lots drawn by a debit (principal or bonus).
    pub draws: Vec<Draw>,
    /// When a credited bonus or points lot lapses.
    pub expires_at: Option<Timestamp>,
    /// The lot a credit opened.
    pub lot: Option<u32>,
    /// Who made the correction.
    pub operator: StaffId,
    /// The points moved (points), or null.
    pub points: Option<u64>,
    /// Point lots drawn by a points debit.
    pub points_draws: Vec<PointsDraw>,
    /// Why.
    pub reason: String,
}

/// The event's store (the debtor) paid another store what it owed it, or part of it.
/// Recorded in the settlements stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settled {
    /// Paid.
    pub amount: Money,
    /// The store paid.
    pub creditor: StoreId,
}

/// A package was bought at the event's store (its origin store), known by the command id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagePurchased {
    /// Paid from bonus.
    pub bonus: Money,
    /// Paid in cash at the event's store.
    pub cash: Money,
    /// Lots drawn when paid from the balance, in the order drawn.
    pub draws: Vec<Draw>,
    /// When unredeemed sessions lapse.
    pub expires_at: Option<Timestamp>,
    /// The part paid outside the card, and how (born at 3; absent: paid in cash or wholly
    /// from the balance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<External>,
    /// The package's id (the purchase command's id).
    pub package: Uuid,
    /// The price: `cash + principal + bonus + external`.
    pub price: Money,
    /// Paid from principal.
    pub principal: Money,
    /// The service.
    pub service: String,
    /// Revenue of each session but the last: `floor(price / sessions)` to the cent; the
    /// last takes the remainder.
    pub session_price: Money,
    /// Sessions bought.
    pub sessions: u32,
    /// Who sold it.
    pub staff: Option<StaffId>,
}

/// One session of a package was delivered at the event's store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRedeemed {
    /// Revenue recognised: `principal + bonus`.
    pub amount: Money,
    /// The share funded by bonus.
    pub bonus: Money,
    /// The store that sold the package (and holds its cash).
    pub origin_store: StoreId,
    /// The package.
    pub package: Uuid,
    /// The share funded by cash or principal, cleared between stores like principal.
    pub principal: Money,
    /// This session's number, from 1.
    pub session: u32,
    /// Sessions left after this one.
    pub sessions_left: u32,
    /// Who served.
    pub staff: Option<StaffId>,
}

/// The unredeemed sessions of a package were refunded at the event's store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageRefunded {
    /// The unredeemed value: `principal + bonus + external`.
    pub amount: Money,
    /// Its bonus-funded share: back as a bonus lot (`to` balance) or forfeited (`to` cash).
    pub bonus: Money,
    /// The bonus lot opened (`to` balance, bonus share above zero).
    pub bonus_lot: Option<u32>,
    /// How much the member's bonus-spent figure goes down (the bonus share, at most what
    /// the figure holds).
    pub bonus_unspent: Money,
    /// When the bonus lot lapses.
    pub expires_at: Option<Timestamp>,
    /// Of the unredeemed value, the share paid back by the method the purchase's external
    /// part came in (born at 3; absent: none). Not part of `principal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<External>,
    /// The principal lot opened (`to` balance, principal share above zero).
    pub lot: Option<u32>,
    /// The store that sold the package.
    pub origin_store: StoreId,
    /// The package.
    pub package: Uuid,
    /// Its share funded by cash or principal: paid out (`to` cash) or back as principal.
    pub principal: Money,
    /// Why.
    pub reason: Option<String>,
    /// Sessions refunded.
    pub sessions: u32,
    /// Where the value went.
    pub to: crate::command::PaidFrom,
}

/// A package passed its expiry with sessions left; their value is breakage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageExpired {
    /// The value left: `principal + bonus`.
    pub amount: Money,
    /// Of which bonus-funded.
    pub bonus: Money,
    /// Its expiry.
    pub expires_at: Timestamp,
    /// The store that sold the package.
    pub origin_store: StoreId,
    /// The package.
    pub package: Uuid,
    /// Of which funded by cash or principal.
    pub principal: Money,
    /// Sessions that lapsed.
    pub sessions: u32,
}

/// A new policy version was published, in force from the event's time. Recorded in the
/// policy stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyPublished {
    /// The complete policy, every default filled in (canonical JSON, keys sorted).
    pub policy: serde_json::Value,
    /// Its version number: the founding policy is 1, each publication adds one.
    pub version: u32,
}

/// Every period through `through` was closed: no later event takes effect at or before it.
/// Recorded in the policy stream (born at schema 3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodClosed {
    /// The last instant of the closed period.
    pub through: Timestamp,
}

/// A member moving from another system opened with what it held there (right after its
/// `member_enrolled`, in the same command). Lots are numbered principal first, then bonus,
/// then points; each is booked against `Equity:OpeningBalances:<origin store>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BalanceOpened {
    /// Bonus lots opened.
    pub bonus: Vec<super::opened::OpenedLot>,
    /// Packages opened.
    pub packages: Vec<super::opened::OpenedPackage>,
    /// Point lots opened.
    pub points: Vec<super::opened::OpenedPoints>,
    /// Principal lots opened.
    pub principal: Vec<super::opened::OpenedLot>,
}

/// A card was linked to the member (its number, or its keyed hash: see docs/EVENTS.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardLinked {
    /// The card, as recorded.
    pub card: String,
}

/// A card was reported lost: it is refused wherever it is named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardReportedLost {
    /// The card, as recorded.
    pub card: String,
    /// Why.
    pub reason: Option<String>,
}

/// A card (lost or old) was replaced by a new one, linked in its place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardReplaced {
    /// The new card, as recorded.
    pub new_card: String,
    /// The card replaced, refused from now on.
    pub old_card: String,
}

/// A card was unlinked from the member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardUnlinked {
    /// The card, as recorded.
    pub card: String,
}

/// The command was made with this card of the member (recorded before the command's other
/// events, after the expiries due).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardUsed {
    /// The card, as recorded.
    pub card: String,
}

/// Money was held for the event's store: no longer available, not yet spent. Posts nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldAuthorized {
    /// Held.
    pub amount: Money,
    /// When the hold lapses.
    pub expires_at: Timestamp,
    /// The hold's id (the authorize command's id).
    pub hold: Uuid,
}

/// A hold was captured: `captured` is charged by the `consumed` event that follows in the
/// same command, `released` goes back to available. Posts nothing itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldCaptured {
    /// What the hold held.
    pub amount: Money,
    /// What the consumption charges: at most `amount`.
    pub captured: Money,
    /// The hold.
    pub hold: Uuid,
    /// `amount - captured`, released.
    pub released: Money,
}

/// A hold was released whole. Posts nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldVoided {
    /// What the hold held.
    pub amount: Money,
    /// The hold.
    pub hold: Uuid,
    /// Why.
    pub reason: Option<String>,
}

/// A hold passed its expiry and was released whole. Posts nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldExpired {
    /// What the hold held.
    pub amount: Money,
    /// Its expiry.
    pub expires_at: Timestamp,
    /// The hold.
    pub hold: Uuid,
}

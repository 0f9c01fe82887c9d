//! The event body: one variant per event type, each wrapping its own struct (in
//! [`crate::events`]), so a fold or a report takes the struct whole.

use serde::{Deserialize, Serialize};

use super::data::*;

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
    MemberEnrolled(MemberEnrolled),
    /// Cash was paid into a new principal lot at the event's store.
    Recharged(Recharged),
    /// Bonus credit was granted into a new bonus lot.
    BonusGranted(BonusGranted),
    /// A service was paid for from the card.
    Consumed(Consumed),
    /// All or part of a consumption went back to the card.
    ConsumptionRefunded(ConsumptionRefunded),
    /// 退卡: the principal was paid out (less claw-back) and all bonus forfeited.
    BalanceRefunded(BalanceRefunded),
    /// The member's tier changed.
    TierChanged(TierChanged),
    /// A bonus lot passed its expiry.
    BonusExpired(BonusExpired),
    /// A point lot passed its expiry.
    PointsExpired(PointsExpired),
    /// The card was frozen.
    MemberFrozen(MemberFrozen),
    /// The card was unfrozen.
    MemberUnfrozen(MemberUnfrozen),
    /// Points were spent, drawn from point lots earliest expiry first.
    PointsRedeemed(PointsRedeemed),
    /// A balance was corrected by hand. A credit opens lot `lot`; a debit lists the lots drawn.
    Adjusted(Adjusted),
    /// The event's store (the debtor) paid another store what it owed it, or part of it.
    /// Recorded in the settlements stream.
    Settled(Settled),
    /// A package was bought at the event's store (its origin store), known by the command id.
    PackagePurchased(PackagePurchased),
    /// One session of a package was delivered at the event's store.
    SessionRedeemed(SessionRedeemed),
    /// The unredeemed sessions of a package were refunded at the event's store.
    PackageRefunded(PackageRefunded),
    /// A package passed its expiry with sessions left; their value is breakage.
    PackageExpired(PackageExpired),
    /// A new policy version was published, in force from the event's time. Recorded in the
    /// policy stream.
    PolicyPublished(PolicyPublished),
    /// Every period through a time was closed (born at schema 3). Recorded in the policy
    /// stream.
    PeriodClosed(PeriodClosed),
    /// A member moving from another system opened with what it held there.
    BalanceOpened(BalanceOpened),
    /// A card was linked to the member.
    CardLinked(CardLinked),
    /// A card was reported lost.
    CardReportedLost(CardReportedLost),
    /// A card was replaced by a new one.
    CardReplaced(CardReplaced),
    /// A card was unlinked.
    CardUnlinked(CardUnlinked),
    /// The command was made with this card.
    CardUsed(CardUsed),
    /// Money was held for a store.
    HoldAuthorized(HoldAuthorized),
    /// A hold was captured (the `consumed` event follows).
    HoldCaptured(HoldCaptured),
    /// A hold was released.
    HoldVoided(HoldVoided),
    /// A hold lapsed.
    HoldExpired(HoldExpired),
    /// A discount coupon was issued (born at schema 3).
    CouponIssued(crate::event::coupons::CouponIssued),
    /// A package of free sessions was granted (born at schema 3).
    PackageGranted(crate::event::coupons::PackageGranted),
}

impl EventBody {
    /// The first field born at schema 3 that this body holds, if any (an event of an older
    /// schema holding one is refused when decoded).
    pub fn field_born_at_3(&self) -> Option<&'static str> {
        match self {
            EventBody::Consumed(b) if b.external.is_some() => Some("external"),
            EventBody::Consumed(b) if b.points_on.is_some() => Some("points_on"),
            EventBody::Consumed(b) if b.coupon.is_some() => Some("coupon"),
            EventBody::ConsumptionRefunded(b) if b.external.is_some() => Some("external"),
            EventBody::ConsumptionRefunded(b) if b.coupon.is_some() => Some("coupon"),
            EventBody::PointsRedeemed(b) if b.given.is_some() => Some("given"),
            EventBody::BalanceRefunded(b) if b.formula.is_some() => Some("formula"),
            EventBody::Adjusted(b) if b.corrects.is_some() => Some("corrects"),
            EventBody::PackagePurchased(b) if b.external.is_some() => Some("external"),
            EventBody::PackageRefunded(b) if b.external.is_some() => Some("external"),
            EventBody::PolicyPublished(b) => crate::policy::tier_rule_born_at_3(&b.policy),
            _ => None,
        }
    }

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
            EventBody::PeriodClosed { .. } => "period_closed",
            EventBody::BalanceOpened { .. } => "balance_opened",
            EventBody::CardLinked { .. } => "card_linked",
            EventBody::CardReportedLost { .. } => "card_reported_lost",
            EventBody::CardReplaced { .. } => "card_replaced",
            EventBody::CardUnlinked { .. } => "card_unlinked",
            EventBody::CardUsed { .. } => "card_used",
            EventBody::HoldAuthorized { .. } => "hold_authorized",
            EventBody::HoldCaptured { .. } => "hold_captured",
            EventBody::HoldVoided { .. } => "hold_voided",
            EventBody::HoldExpired { .. } => "hold_expired",
            EventBody::CouponIssued { .. } => "coupon_issued",
            EventBody::PackageGranted { .. } => "package_granted",
        }
    }
}

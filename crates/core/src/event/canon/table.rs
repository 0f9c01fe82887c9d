//! The table of canonical forms: every enum by its names, every part of a body and every body
//! (but `policy_published`) by its fields in sorted order. A new event type or field is added
//! here, in its family's group; the writer and reader follow from the table.

use super::binary::place;
use super::{Bin, Canon, Reader};
use crate::command::{Balance, Direction, PaidFrom};
use crate::event::coupons::{CouponIssued, CouponKind, CouponReturn, CouponUse, PackageGranted};
use crate::event::data::*;
use crate::event::external::{External, Given, GivenKind};
use crate::event::opened::{OpenedLot, OpenedPackage, OpenedPoints};
use crate::event::{Draw, EventBody, LotKind, PointsDraw, Restore};
use crate::policy::{PointsEarnedOn, RefundFormula};

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

canon_bodies! {
    // The member.
    MemberEnrolled "member_enrolled" { home_store, tier },
    // Stored value.
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
    // The member's standing.
    TierChanged "tier_changed" { from, reason, to },
    // Expiry, points and corrections.
    BonusExpired "bonus_expired" { amount, expires_at, lot, origin_store },
    PointsExpired "points_expired" { expires_at, lot, points },
    MemberFrozen "member_frozen" { reason },
    MemberUnfrozen "member_unfrozen" { reason },
    PointsRedeemed "points_redeemed" { draws, given: omit, points, reason },
    Adjusted "adjusted" {
        amount, balance, corrects: omit, direction, draws, expires_at, lot, operator, points,
        points_draws, reason
    },
    // The chain's own.
    Settled "settled" { amount, creditor },
    // Packages.
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
    // The chain's own, and an imported member's opening.
    PeriodClosed "period_closed" { through },
    BalanceOpened "balance_opened" { bonus, packages, points, principal },
    // Cards.
    CardLinked "card_linked" { card },
    CardReportedLost "card_reported_lost" { card, reason },
    CardReplaced "card_replaced" { new_card, old_card },
    CardUnlinked "card_unlinked" { card },
    CardUsed "card_used" { card },
    // Holds.
    HoldAuthorized "hold_authorized" { amount, expires_at, hold },
    HoldCaptured "hold_captured" { amount, captured, hold, released },
    HoldVoided "hold_voided" { amount, hold, reason },
    HoldExpired "hold_expired" { amount, expires_at, hold },
    // Coupons and free sessions.
    CouponIssued "coupon_issued" {
        amount, cap, coupon, expires_at, kind, percent, reason, threshold
    },
    PackageGranted "package_granted" { expires_at, package, reason, service, sessions },
}

//! What the coupon events record (born at schema 3): a coupon issued to a member, a package of
//! free sessions granted, and the coupon a visit redeemed or its refund gave back.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::Money;
use crate::time::Timestamp;

/// How a discount coupon takes money off a visit's charge (the charge at the tier's discount).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponKind {
    /// A fixed amount off (`amount`).
    Amount,
    /// A percentage off (`percent`, `0 < percent < 100`), at most `cap`.
    Percent,
    /// 满减: `amount` off a charge of at least `threshold`.
    Threshold,
}

/// A discount coupon was issued to the member, known by the issuing command's id. Nothing is
/// booked: a discount is promotion expense only when a visit redeems it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CouponIssued {
    /// The money off (`amount` and `threshold` coupons).
    pub amount: Option<Money>,
    /// The most a `percent` coupon takes off.
    pub cap: Option<Money>,
    /// The coupon's id: the `issue_coupon` command's id.
    pub coupon: Uuid,
    /// When it lapses: a visit at or after this time cannot redeem it.
    pub expires_at: Timestamp,
    /// How it takes money off.
    pub kind: CouponKind,
    /// The percentage off (`percent` coupons), e.g. `"20"` for 20 % off.
    pub percent: Option<Decimal>,
    /// The campaign or reason (新人礼券, a 满减 campaign, …).
    pub reason: String,
    /// The least charge a `threshold` coupon applies to.
    pub threshold: Option<Money>,
}

/// A package of free sessions was granted (price zero), known by the granting command's id:
/// by `grant_package`, or by `issue_coupon` for a free session of a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageGranted {
    /// When unredeemed sessions lapse; never when absent.
    pub expires_at: Option<Timestamp>,
    /// The package's id: the granting command's id.
    pub package: Uuid,
    /// Why (a reward, a campaign).
    pub reason: String,
    /// The service the sessions are of.
    pub service: String,
    /// How many sessions.
    pub sessions: u32,
}

/// The coupon a visit redeemed and what it took off (a `consumed` event's `coupon`, born at 3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CouponUse {
    /// The coupon's id.
    pub coupon: Uuid,
    /// What it took off the charge: promotion expense of the visit's store.
    pub discount: Money,
}

/// What a refund in full did with the visit's coupon (a `consumption_refunded` event's
/// `coupon`, born at 3): the promotion expense is reversed, and the coupon is given back
/// unless it has expired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CouponReturn {
    /// The coupon's id.
    pub coupon: Uuid,
    /// The discount the visit took, reversed.
    pub discount: Money,
    /// Whether the coupon is usable again (false: it had expired by the refund).
    pub restored: bool,
}

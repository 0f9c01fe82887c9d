//! Coupons: issued to a member (no money booked), redeemed by a visit for money off its
//! charge, given back by the visit's refund in full; and packages of free sessions granted.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::consume::beyond;
use super::draft::Draft;
use crate::command::CouponOffer;
use crate::error::Rejection;
use crate::event::coupons::{CouponIssued, CouponReturn, CouponUse, PackageGranted};
use crate::event::{CouponKind, EventBody};
use crate::member::ConsumptionRecord;
use crate::money::Money;
use crate::policy::Policy;
use crate::time::Timestamp;

/// The most unused coupons a member may hold: issuing one more is `limit_exceeded`.
pub(crate) const COUPONS_OPEN_MAX: usize = 1_000;

impl Draft<'_> {
    /// A coupon command: issuing a coupon, granting free sessions.
    pub(super) fn coupon_action(&mut self) -> Result<(), Rejection> {
        match &self.cmd.action {
            crate::command::Action::IssueCoupon {
                offer,
                reason,
                expires_at,
            } => self.issue_coupon(offer, reason, *expires_at),
            crate::command::Action::GrantPackage {
                service,
                sessions,
                expires_at,
                reason,
            } => self.grant_package(service, *sessions, *expires_at, reason),
            _ => Ok(()),
        }
    }

    /// Issues a coupon: a discount (`coupon_issued`, nothing booked) or a free session
    /// (`package_granted`, one session at price zero).
    pub(super) fn issue_coupon(
        &mut self,
        offer: &CouponOffer,
        reason: &str,
        expires_at: Timestamp,
    ) -> Result<(), Rejection> {
        let id = self.cmd.id;
        if self.state.coupon(&id).is_some() || self.state.packages().contains_key(&id) {
            return Err(Rejection::IdempotencyConflict(id.to_string()));
        }
        let (kind, amount, percent, cap, threshold) = match offer {
            CouponOffer::Session { service } => {
                return self.grant_package(service, 1, Some(expires_at), reason)
            }
            CouponOffer::Amount(a) => (CouponKind::Amount, Some(*a), None, None, None),
            CouponOffer::Percent { percent, cap } => (
                CouponKind::Percent,
                None,
                Some(percent.normalize()),
                Some(*cap),
                None,
            ),
            CouponOffer::Threshold { threshold, amount } => (
                CouponKind::Threshold,
                Some(*amount),
                None,
                None,
                Some(*threshold),
            ),
        };
        // A late command takes effect at the member's current point: its coupon must still be
        // open there.
        expires_after(expires_at, self.cmd.at)?;
        if self.state.unused_coupon_count() >= COUPONS_OPEN_MAX {
            return Err(Rejection::LimitExceeded(format!(
                "member {} holds {COUPONS_OPEN_MAX} unused coupons, the most a member may hold",
                self.cmd.member
            )));
        }
        self.record(EventBody::CouponIssued(CouponIssued {
            amount,
            cap,
            coupon: id,
            expires_at,
            kind,
            percent,
            reason: reason.to_owned(),
            threshold,
        }))
    }

    /// Grants a package of `sessions` free sessions of `service`, known by the command's id.
    pub(super) fn grant_package(
        &mut self,
        service: &str,
        sessions: u32,
        expires_at: Option<Timestamp>,
        reason: &str,
    ) -> Result<(), Rejection> {
        let id = self.cmd.id;
        if self.state.packages().contains_key(&id) || self.state.coupon(&id).is_some() {
            return Err(Rejection::IdempotencyConflict(id.to_string()));
        }
        if let Some(e) = expires_at {
            expires_after(e, self.cmd.at)?;
        }
        self.record(EventBody::PackageGranted(PackageGranted {
            expires_at,
            package: id,
            reason: reason.to_owned(),
            service: service.to_owned(),
            sessions,
        }))
    }

    /// What coupon `id` takes off a charge of `charge` (at the tier's discount) at the
    /// command's time, or why it cannot: never more than the charge.
    pub(super) fn coupon_discount(
        &self,
        id: Uuid,
        charge: Money,
        policy: &Policy,
    ) -> Result<CouponUse, Rejection> {
        let member = &self.cmd.member;
        let c = self.state.coupon(&id).ok_or_else(|| {
            Rejection::UnknownCoupon(format!("member {member} has no coupon {id}"))
        })?;
        if let Some(by) = c.used_by {
            return Err(Rejection::CouponUsed(format!(
                "coupon {id} was redeemed by consumption {by}"
            )));
        }
        let t = &c.terms;
        if t.expires_at <= self.cmd.at {
            return Err(Rejection::CouponExpired(format!(
                "coupon {id} expired at {}",
                t.expires_at
            )));
        }
        let off = match t.kind {
            CouponKind::Amount => t.amount.unwrap_or(Money::ZERO),
            CouponKind::Threshold => {
                let threshold = t.threshold.unwrap_or(Money::ZERO);
                if charge < threshold {
                    return Err(Rejection::CouponNotApplicable(format!(
                        "coupon {id} applies to a charge of at least {threshold}, not {charge}"
                    )));
                }
                t.amount.unwrap_or(Money::ZERO)
            }
            CouponKind::Percent => {
                let rate = t.percent.unwrap_or(Decimal::ZERO) / Decimal::ONE_HUNDRED;
                charge
                    .checked_times(rate, policy.rounding)
                    .ok_or_else(|| beyond("the coupon's discount"))?
                    .min(t.cap.unwrap_or(Money::ZERO))
            }
        };
        let discount = off.min(charge);
        if !discount.is_positive() {
            return Err(Rejection::CouponNotApplicable(format!(
                "coupon {id} takes nothing off a charge of {charge}"
            )));
        }
        Ok(CouponUse {
            coupon: id,
            discount,
        })
    }

    /// What a refund of `amount` of consumption `rec` does with its coupon: the refund that
    /// completes the visit gives it back (unless expired by now) and reverses its discount; a
    /// partial refund keeps it used. A refund of nothing only completes a visit the coupon
    /// paid whole.
    pub(super) fn coupon_back(
        &self,
        rec: &ConsumptionRecord,
        amount: Money,
    ) -> Result<Option<CouponReturn>, Rejection> {
        let completes = rec.refunded.plus(amount) == rec.charged;
        let back = rec
            .coupon
            .as_ref()
            .filter(|_| completes)
            .map(|u| CouponReturn {
                coupon: u.coupon,
                discount: u.discount,
                restored: self
                    .state
                    .coupon(&u.coupon)
                    .is_some_and(|c| c.terms.expires_at > self.cmd.at),
            });
        if !amount.is_positive() && back.is_none() {
            return Err(Rejection::InvalidAmount(
                "a refund of nothing gives nothing back".into(),
            ));
        }
        Ok(back)
    }
}

/// An expiry after the time a command takes effect (a late command's is the member's current
/// point), else `invalid_command`.
fn expires_after(expires_at: Timestamp, at: Timestamp) -> Result<(), Rejection> {
    if expires_at <= at {
        return Err(Rejection::InvalidCommand(format!(
            "expires_at {expires_at} must be after {at}, when the command takes effect"
        )));
    }
    Ok(())
}

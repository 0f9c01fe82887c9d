//! Coupons and free sessions: issued (nothing booked), redeemed by a visit for money off its
//! charge at the tier's discount (never more than the charge), given back by a refund in
//! full; free sessions as packages of price zero.

use memberledger::Uuid;

use super::super::member::{Coupon, Off, Package, PkgStatus};
use super::super::policy::half_up;
use super::super::spec::{Ext, ExtAmount, Offer};
use super::Draft;

impl Draft<'_> {
    /// `issue_coupon`: a discount coupon, or a free session (a package of one session).
    pub(crate) fn issue_coupon(&mut self, offer: &Offer, expires: i64) -> Result<(), &'static str> {
        if self.w.coupons.contains_key(&self.spec.id) || self.w.packages.contains_key(&self.spec.id)
        {
            return Err("idempotency_conflict");
        }
        let off = match *offer {
            Offer::Session(_) => return self.grant_package(1, Some(expires), false),
            Offer::Amount(a) => Off::Amount(a),
            Offer::Percent { percent_x100, cap } => Off::Percent { percent_x100, cap },
            Offer::Threshold { threshold, amount } => Off::Threshold { threshold, amount },
        };
        if expires <= self.at() {
            return Err("invalid_command");
        }
        let open = self
            .w
            .coupons
            .values()
            .filter(|c| c.used_by.is_none())
            .count();
        if open >= 1_000 {
            return Err("limit_exceeded");
        }
        self.w.coupons.insert(
            self.spec.id,
            Coupon {
                off,
                expires,
                used_by: None,
            },
        );
        Ok(())
    }

    /// `grant_package` (and a free-session coupon): sessions at price zero.
    pub(crate) fn grant_package(
        &mut self,
        sessions: u32,
        expires: Option<i64>,
        check_id: bool,
    ) -> Result<(), &'static str> {
        if check_id
            && (self.w.packages.contains_key(&self.spec.id)
                || self.w.coupons.contains_key(&self.spec.id))
        {
            return Err("idempotency_conflict");
        }
        if expires.is_some_and(|e| e <= self.at()) {
            return Err("invalid_command");
        }
        let store = self.store();
        self.w.packages.insert(
            self.spec.id,
            Package {
                store,
                cash: true,
                sessions,
                sessions_left: sessions,
                session_price: 0,
                price: 0,
                bonus_paid: 0,
                principal_left: 0,
                bonus_left: 0,
                expires,
                bonus_expires: None,
                bonus_counted: 0,
                status: PkgStatus::Open,
                external: None,
            },
        );
        Ok(())
    }

    /// A visit naming a coupon: the charge at the tier's discount, less what the coupon takes
    /// (never more than the charge), paid like any visit.
    pub(crate) fn consume_coupon(
        &mut self,
        cents: i64,
        coupon: Uuid,
        external: Option<&Ext>,
        seq: u64,
    ) -> Result<(), &'static str> {
        if self.w.consumptions.contains_key(&self.spec.id) {
            return Err("idempotency_conflict");
        }
        let charge = self.charge(cents)?;
        let c = self.w.coupons.get(&coupon).ok_or("unknown_coupon")?;
        if c.used_by.is_some() {
            return Err("coupon_used");
        }
        if c.expires <= self.at() {
            return Err("coupon_expired");
        }
        let off = match c.off {
            Off::Amount(a) => a,
            // The charge × percent ÷ 100, rounded half up to the cent (the built-in policy's
            // rounding), exactly: in hundredths of a percent, ÷ 10,000.
            Off::Percent { percent_x100, cap } => {
                half_up(i128::from(charge) * i128::from(percent_x100), 10_000).min(cap)
            }
            Off::Threshold { threshold, .. } if charge < threshold => {
                return Err("coupon_not_applicable")
            }
            Off::Threshold { amount, .. } => amount,
        };
        let discount = off.min(charge);
        if discount <= 0 {
            return Err("coupon_not_applicable");
        }
        let paid = charge - discount;
        let ext = match external {
            None => None,
            Some(x) => {
                let part = match x.amount {
                    ExtAmount::Rest => (paid - self.w.available()).max(0),
                    ExtAmount::All => paid,
                    ExtAmount::Cents(c) if c > paid => return Err("invalid_amount"),
                    ExtAmount::Cents(c) => c,
                };
                (part > 0).then(|| (x.method.clone(), part))
            }
        };
        self.pay_visit(paid, ext, seq)?;
        let id = self.spec.id;
        self.w
            .consumptions
            .get_mut(&id)
            .expect("the visit was just recorded")
            .coupon = Some((coupon, discount));
        self.w
            .coupons
            .get_mut(&coupon)
            .expect("found above")
            .used_by = Some(id);
        Ok(())
    }

    /// What a refund of `amount` does with the visit's coupon: the refund that completes the
    /// visit gives it back unless expired; a refund of nothing only completes a visit the
    /// coupon paid whole.
    pub(crate) fn coupon_back(
        &mut self,
        coupon: Option<(Uuid, i64)>,
        completes: bool,
        amount: i64,
    ) -> Result<(), &'static str> {
        let back = coupon.filter(|_| completes);
        if amount <= 0 && back.is_none() {
            return Err("invalid_amount");
        }
        if let Some((id, _)) = back {
            let at = self.at();
            let c = self
                .w
                .coupons
                .get_mut(&id)
                .expect("a redeemed coupon is the member's");
            if c.expires > at {
                c.used_by = None;
            }
        }
        Ok(())
    }
}

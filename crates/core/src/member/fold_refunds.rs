//! Folding the refunds: a consumption refund (with or without the consumption's record).

use crate::event::LotKind;
use crate::events::*;
use crate::money::Money;

use super::holdings::add_restored;
use super::MemberState;

impl MemberState {
    pub(super) fn fold_refund(&mut self, b: &ConsumptionRefunded) -> Result<(), String> {
        let ConsumptionRefunded {
            service_store,
            restored,
            points_reversed,
            ..
        } = b;
        let (consumption, amount, principal, bonus) =
            (b.consumption, b.amount, b.principal, b.bonus);
        let external = b.external.as_ref().map_or(Money::ZERO, |x| x.amount);
        let points_forgiven = b.points_forgiven;
        if let Some(r) = &b.coupon {
            self.return_coupon(consumption, r)?;
        }
        if !self.keeps_consumptions {
            return self.fold_refund_without_record(
                (principal, bonus, external, amount),
                b.coupon.is_some(),
                restored,
                points_reversed,
            );
        }
        let mut rec = self
            .consumptions()
            .get(&consumption)
            .cloned()
            .ok_or_else(|| format!("no refundable consumption {consumption}"))?;
        if rec.store != *service_store {
            return Err(format!(
                "consumption {consumption} was delivered at {}, not {service_store}",
                rec.store
            ));
        }
        if principal.plus(bonus).plus(external) != amount || rec.refunded.plus(amount) > rec.charged
        {
            return Err("refund does not add up or exceeds the consumption".into());
        }
        check_external_back(&mut rec, b.external.as_ref())?;
        rec.refunded = rec.refunded.plus(amount);
        rec.principal_restored = rec.principal_restored.plus(principal);
        rec.bonus_restored = rec.bonus_restored.plus(bonus);
        if rec.principal_restored > rec.principal || rec.bonus_restored > rec.bonus {
            return Err("refund restores more than was drawn".into());
        }
        let sums = self.fold_restores(&mut rec, restored, consumption)?;
        if sums != (principal, bonus) {
            return Err("restored lots do not add up to the refund".into());
        }
        let taken = self.take_points(points_reversed)?;
        rec.points_reversed = rec
            .points_reversed
            .checked_add(taken)
            .and_then(|p| p.checked_add(points_forgiven))
            .filter(|p| *p <= rec.points_earned)
            .ok_or("more points reversed than earned")?;
        self.bonus_spent = self.bonus_spent.minus(bonus);
        if self.bonus_spent.is_negative() {
            return Err("bonus spent goes below zero".into());
        }
        if b.coupon.as_ref().map(|r| (r.coupon, r.discount))
            != rec
                .coupon
                .as_ref()
                .filter(|_| rec.refunded == rec.charged)
                .map(|u| (u.coupon, u.discount))
        {
            return Err("the refund completing a visit gives its coupon back, and no other".into());
        }
        let consumptions = &mut self.rare_mut().consumptions;
        if rec.refunded == rec.charged {
            consumptions.remove(&consumption);
            self.rare_mut().refunded_in_full.insert(consumption);
        } else {
            consumptions.insert(consumption, rec);
        }
        self.tidy_rare();
        Ok(())
    }
}

/// A refund's external part goes back by the consumption's own method, within what it paid.
fn check_external_back(
    rec: &mut crate::member::ConsumptionRecord,
    back: Option<&crate::event::External>,
) -> Result<(), String> {
    let Some(back) = back else {
        return Ok(());
    };
    let paid = rec
        .external
        .as_ref()
        .ok_or("no external part to pay back")?;
    rec.external_refunded = rec.external_refunded.plus(back.amount);
    if back.method != paid.method
        || !back.amount.is_positive()
        || rec.external_refunded > paid.amount
    {
        return Err("the external part is paid back beyond or unlike how it was paid".into());
    }
    Ok(())
}

impl MemberState {
    /// Gives each restore back to the lot the consumption drew (unless forfeited), within what
    /// it drew; returns the principal and bonus restored.
    fn fold_restores(
        &mut self,
        rec: &mut crate::member::ConsumptionRecord,
        restored: &[crate::event::Restore],
        consumption: uuid::Uuid,
    ) -> Result<(Money, Money), String> {
        let mut sums = (Money::ZERO, Money::ZERO);
        for r in restored {
            let drawn = rec
                .draws
                .iter_mut()
                .find(|d| d.draw.lot == r.lot && d.draw.kind == r.kind)
                .ok_or_else(|| format!("lot {} was not drawn by {consumption}", r.lot))?;
            drawn.restored = drawn.restored.plus(r.amount);
            if drawn.restored > drawn.draw.amount
                || r.origin_store != drawn.draw.origin_store
                || r.expires_at != drawn.draw.expires_at
            {
                return Err(format!("lot {} restored beyond or unlike its draw", r.lot));
            }
            match r.kind {
                LotKind::Principal => sums.0 = add_restored(sums.0, r)?,
                LotKind::Bonus => sums.1 = add_restored(sums.1, r)?,
            }
            if !r.forfeited {
                self.give_back_to_lot(r)?;
            }
        }
        Ok(sums)
    }

    /// A consumption refund folded without the consumption's record: the figures must add up
    /// and the restores re-open their lots; what the record would check (never more than was
    /// drawn) was checked when it was decided, and `verify` checks it again with records.
    fn fold_refund_without_record(
        &mut self,
        (principal, bonus, external, amount): (Money, Money, Money, Money),
        coupon_back: bool,
        restored: &[crate::event::Restore],
        points_reversed: &[crate::event::PointsDraw],
    ) -> Result<(), String> {
        // A refund of nothing only gives back the coupon that paid a visit whole.
        if principal.plus(bonus).plus(external) != amount || !(amount.is_positive() || coupon_back)
        {
            return Err("refund does not add up".into());
        }
        let mut sums = (Money::ZERO, Money::ZERO);
        for r in restored {
            if !r.amount.is_positive() {
                return Err(format!("lot {} is restored nothing", r.lot));
            }
            match r.kind {
                LotKind::Principal => sums.0 = add_restored(sums.0, r)?,
                LotKind::Bonus => sums.1 = add_restored(sums.1, r)?,
            }
            if !r.forfeited {
                self.give_back_to_lot(r)?;
            }
        }
        if sums != (principal, bonus) {
            return Err("restored lots do not add up to the refund".into());
        }
        self.take_points(points_reversed)?;
        self.bonus_spent = self.bonus_spent.minus(bonus);
        if self.bonus_spent.is_negative() {
            return Err("bonus spent goes below zero".into());
        }
        Ok(())
    }
}

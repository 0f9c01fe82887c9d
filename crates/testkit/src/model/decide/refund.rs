//! Money back: a consumption refunded (in part or whole), the balance refunded in cash.

use memberledger::Uuid;

use super::super::member::Consumption;
use super::super::policy::{half_up, UPGRADE_WINDOW};
use super::Draft;

impl Draft<'_> {
    /// A consumption refund: split like the consumption was (bonus proportionally, clamped),
    /// given back to the lots it drew from (latest draw first; expired bonus is forfeited),
    /// with the points it earned taken back in proportion.
    pub(crate) fn refund_consumption(
        &mut self,
        consumption: Uuid,
        cents: Option<i64>,
    ) -> Result<(), &'static str> {
        if self.w.refunded_in_full.contains(&consumption) {
            return Err("refund_exceeds_original");
        }
        let mut rec = self
            .w
            .consumptions
            .get(&consumption)
            .cloned()
            .ok_or("unknown_consumption")?;
        let left = rec.charged - rec.refunded;
        let amount = cents.unwrap_or(left);
        if amount > left {
            return Err("refund_exceeds_original");
        }
        self.coupon_back(rec.coupon, rec.refunded + amount == rec.charged, amount)?;
        let principal_left = rec.principal - rec.principal_restored;
        let bonus_left = rec.bonus - rec.bonus_restored;
        // The external part goes back in proportion, within what is left of each part.
        let external = rec.external.as_ref().map_or(0, |x| x.1);
        let card_left = principal_left + bonus_left;
        let external_back = if external == 0 {
            0
        } else {
            half_up(
                i128::from(amount) * i128::from(external),
                i128::from(rec.charged),
            )
            .max(amount - card_left)
            .min((external - rec.external_refunded).min(amount))
            .max(0)
        };
        rec.external_refunded += external_back;
        let card = amount - external_back;
        let card_charged = rec.principal + rec.bonus;
        let proportional = if card_charged == 0 {
            0
        } else {
            half_up(
                i128::from(card) * i128::from(rec.bonus),
                i128::from(card_charged),
            )
        };
        let bonus = proportional
            .max((card - principal_left).max(0))
            .min(bonus_left.min(card));
        let principal = card - bonus;
        self.restore(&mut rec, true, principal);
        self.restore(&mut rec, false, bonus);
        self.reverse_points(&mut rec, amount, principal);
        rec.refunded += amount;
        rec.principal_restored += principal;
        rec.bonus_restored += bonus;
        self.w.bonus_spent -= bonus;
        self.w.spend.push((self.at(), -amount, false));
        if rec.refunded == rec.charged {
            self.w.consumptions.remove(&consumption);
            self.w.refunded_in_full.insert(consumption);
        } else {
            self.w.consumptions.insert(consumption, rec);
        }
        Ok(())
    }

    /// Gives `want` of one kind (principal or bonus) back to the lots `rec` drew from, latest
    /// draw first. Principal given back is owed back by the store that took it.
    fn restore(&mut self, rec: &mut Consumption, principal: bool, mut want: i64) {
        let at = self.at();
        for i in (0..rec.draws.len()).rev() {
            let d = &rec.draws[i];
            if d.principal != principal {
                continue;
            }
            let give = (d.cents - d.restored).min(want);
            if give <= 0 {
                continue;
            }
            want -= give;
            let d = d.clone();
            rec.draws[i].restored += give;
            if principal {
                self.w.give_back(true, &d, give);
                self.owe(&d.store, &rec.store, -give);
            } else if d.expires.is_none_or(|e| e > at) {
                self.w.give_back(false, &d, give);
            }
        }
        assert_eq!(want, 0, "model: a refund splits within what was drawn");
    }

    /// Takes back the points a refund of `amount` (`principal` of it principal) undoes: all
    /// of them on the last refund, else in proportion to the principal restored.
    fn reverse_points(&mut self, rec: &mut Consumption, amount: i64, principal: i64) {
        let restored_total = rec.principal_restored + principal;
        let target = if rec.refunded + amount == rec.charged {
            rec.points_earned
        } else if rec.principal > 0 {
            u64::try_from(
                i128::from(rec.points_earned) * i128::from(restored_total)
                    / i128::from(rec.principal),
            )
            .expect("points")
        } else {
            0
        };
        let due = target.saturating_sub(rec.points_reversed);
        let mut owed = due;
        for l in &mut self.w.points {
            let take = l.points.min(owed);
            l.points -= take;
            owed -= take;
        }
        self.w.points.retain(|l| l.points > 0);
        rec.points_reversed += due;
    }

    /// A balance refund pays out the principal less the bonus spent (the claw-back), each
    /// lot's store paying its share, and closes every lot and open consumption.
    pub(crate) fn refund_balance(&mut self) -> Result<(), &'static str> {
        if self.w.held_total() > 0 {
            return Err("holds_open");
        }
        let (at, store) = (self.at(), self.store());
        let (p, b) = (self.w.principal_total(), self.w.bonus_total());
        if p == 0 && b == 0 {
            return Err("insufficient_balance");
        }
        let mut to_pay = p - self.w.bonus_spent.min(p);
        for l in std::mem::take(&mut self.w.principal) {
            let paid = l.cents.min(to_pay);
            to_pay -= paid;
            self.owe(&l.store, &store, paid);
        }
        let w = &mut self.w;
        w.bonus.clear();
        w.consumptions.clear();
        for p in w.packages.values_mut() {
            p.bonus_counted = 0;
        }
        w.bonus_spent = 0;
        w.window.retain(|(t, _)| *t > at - UPGRADE_WINDOW);
        w.window.push((at, -p));
        Ok(())
    }
}

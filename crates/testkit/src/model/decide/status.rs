//! The card's standing: tier changes, freezing, point redemptions and corrections by hand.

use super::super::member::{bonus_order, draw, Lot, PointLot};
use super::super::policy::{tier_index, BONUS_EXPIRY, POINTS_EXPIRY};
use super::super::spec::Bal;
use super::Draft;

impl Draft<'_> {
    /// A tier change by hand to a tier the policy has, other than the one held (issue 11).
    pub(crate) fn change_tier(&mut self, tier: &str) -> Result<(), &'static str> {
        let to = tier_index(tier).ok_or("unknown_tier")?;
        if to == self.w.tier {
            return Err("invalid_command");
        }
        self.set_tier(to);
        Ok(())
    }

    /// Freezing a frozen card is refused as `member_frozen`.
    pub(crate) fn freeze(&mut self) -> Result<(), &'static str> {
        if self.w.frozen {
            return Err("member_frozen");
        }
        self.w.frozen = true;
        Ok(())
    }

    /// Unfreezing a card that is not frozen is an `invalid_command`.
    pub(crate) fn unfreeze(&mut self) -> Result<(), &'static str> {
        if !self.w.frozen {
            return Err("invalid_command");
        }
        self.w.frozen = false;
        Ok(())
    }

    /// A correction by hand: a credit opens a lot (bonus and points expire as the policy
    /// says), a debit draws like a consumption would and may not exceed what is held.
    pub(crate) fn adjust(
        &mut self,
        balance: Bal,
        credit: bool,
        qty: i64,
    ) -> Result<(), &'static str> {
        let (at, store) = (self.at(), self.store());
        let w = &mut self.w;
        match (credit, balance) {
            (true, Bal::Points) => {
                let lot = w.new_lot();
                w.points.push(PointLot {
                    lot,
                    points: u64::try_from(qty).expect("positive"),
                    expires: Some(at + POINTS_EXPIRY),
                });
            }
            (true, b) => {
                let lot = w.new_lot();
                let l = Lot {
                    lot,
                    store,
                    cents: qty,
                    expires: (b == Bal::Bonus).then_some(at + BONUS_EXPIRY),
                };
                if b == Bal::Principal {
                    w.principal.push(l);
                } else {
                    w.bonus.push(l);
                }
            }
            (false, Bal::Points) => w.spend_points(u64::try_from(qty).expect("positive"))?,
            (false, Bal::Principal) => {
                if qty > w.principal_total() || qty > w.available() {
                    return Err("insufficient_balance");
                }
                let order: Vec<usize> = (0..w.principal.len()).collect();
                draw(&mut w.principal, &order, qty, true);
            }
            (false, Bal::Bonus) => {
                if qty > w.bonus_total() || qty > w.available() {
                    return Err("insufficient_balance");
                }
                let order = bonus_order(&w.bonus);
                draw(&mut w.bonus, &order, qty, false);
            }
        }
        Ok(())
    }
}

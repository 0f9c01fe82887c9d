//! Money in and out of the balance: recharge (with its bonus and upgrade), grant, consume.

use super::super::member::{Consumption, Lot, PointLot};
use super::super::policy::{half_up, BONUS_EXPIRY, LADDER, POINTS_EXPIRY, TIERS, UPGRADE_WINDOW};
use super::super::spec::{Ext, ExtAmount};
use super::Draft;

impl Draft<'_> {
    /// A recharge opens a principal lot, a bonus lot if the ladder gives one, and may upgrade.
    pub(crate) fn recharge(&mut self, cents: i64) {
        let (at, store) = (self.at(), self.store());
        let tier_before = self.w.tier;
        let lot = self.w.new_lot();
        self.w.principal.push(Lot {
            lot,
            store: store.clone(),
            cents,
            expires: None,
        });
        let bonus = recharge_bonus(cents, tier_before);
        if bonus > 0 {
            let lot = self.w.new_lot();
            self.w.bonus.push(Lot {
                lot,
                store,
                cents: bonus,
                expires: Some(at + BONUS_EXPIRY),
            });
            self.events += 1;
        }
        self.upgrade(cents);
    }

    /// The highest tier a recharge of `cents` (alone, or with the window's) reaches.
    fn upgrade(&mut self, cents: i64) {
        let at = self.at();
        let w = &mut self.w;
        w.window.retain(|(t, _)| *t > at - UPGRADE_WINDOW);
        w.window.push((at, cents));
        let within: i64 = w
            .window
            .iter()
            .filter(|(t, _)| *t > at - UPGRADE_WINDOW && *t <= at)
            .map(|(_, c)| c)
            .sum::<i64>()
            .max(0);
        if let Some(up) = (self.w.tier + 1..TIERS.len()).rev().find(|&t| {
            cents >= TIERS[t].single || within >= TIERS[t].within || self.visit_upgrade_holds(t)
        }) {
            self.set_tier(up);
            self.events += 1;
        }
    }

    /// A grant opens a bonus lot, expiring when the command says or as the policy says.
    pub(crate) fn grant(&mut self, cents: i64, expires: Option<i64>) -> Result<(), &'static str> {
        let at = self.at();
        if expires.is_some_and(|e| e <= at) {
            return Err("invalid_command");
        }
        let lot = self.w.new_lot();
        let store = self.store();
        self.w.bonus.push(Lot {
            lot,
            store,
            cents,
            expires: Some(expires.unwrap_or(at + BONUS_EXPIRY)),
        });
        Ok(())
    }

    /// A consumption charges the list price less the tier's discount, pays it from the
    /// balance, earns points on the principal part, and leaves a record to refund against.
    pub(crate) fn consume(&mut self, cents: i64, seq: u64) -> Result<(), &'static str> {
        let charged = self.charge(cents)?;
        self.pay_visit(charged, None, seq)
    }

    /// A consumption paid partly or wholly outside the card: the external part (what the card
    /// cannot cover, all, or a fixed amount no larger than the charge), the rest from the card.
    pub(crate) fn consume_mixed(
        &mut self,
        cents: i64,
        x: &Ext,
        seq: u64,
    ) -> Result<(), &'static str> {
        let charged = self.charge(cents)?;
        let balance = self.w.available();
        let external = match x.amount {
            ExtAmount::Rest => (charged - balance).max(0),
            ExtAmount::All => charged,
            ExtAmount::Cents(c) if c > charged => return Err("invalid_amount"),
            ExtAmount::Cents(c) => c,
        };
        let ext = (external > 0).then(|| (x.method.clone(), external));
        self.pay_visit(charged, ext, seq)
    }

    /// The list price less the tier's discount; nothing charged is `invalid_amount`.
    pub(crate) fn charge(&self, cents: i64) -> Result<i64, &'static str> {
        let tier = &TIERS[self.w.tier];
        let charged = half_up(i128::from(cents) * i128::from(tier.discount), 100);
        if charged == 0 {
            return Err("invalid_amount");
        }
        Ok(charged)
    }

    /// Pays a charge: the external part as given, the rest from the card; points on the
    /// principal part (the built-in policy's `points_earned_on`).
    pub(crate) fn pay_visit(
        &mut self,
        charged: i64,
        external: Option<(String, i64)>,
        seq: u64,
    ) -> Result<(), &'static str> {
        let (at, store) = (self.at(), self.store());
        let tier = &TIERS[self.w.tier];
        let card = charged - external.as_ref().map_or(0, |x| x.1);
        let (principal, bonus, draws) = self.w.pay(card)?;
        for d in draws.iter().filter(|d| d.principal) {
            self.owe(&d.store, &store, d.cents);
        }
        let points = u64::try_from(principal * tier.points_x10 / 1000).expect("points");
        if points > 0 {
            let lot = self.w.new_lot();
            self.w.points.push(PointLot {
                lot,
                points,
                expires: Some(at + POINTS_EXPIRY),
            });
        }
        self.w.bonus_spent += bonus;
        self.w.consumptions.insert(
            self.spec.id,
            Consumption {
                seq,
                store,
                charged,
                principal,
                bonus,
                refunded: 0,
                principal_restored: 0,
                bonus_restored: 0,
                draws,
                points_earned: points,
                points_reversed: 0,
                external,
                external_refunded: 0,
                coupon: None,
            },
        );
        self.visited(charged);
        Ok(())
    }
}

/// The ladder's bonus for a recharge of `cents` by a member of tier `tier`: the highest rung
/// reached (rate rungs only for gold and above).
fn recharge_bonus(cents: i64, tier: usize) -> i64 {
    let rule = LADDER
        .iter()
        .filter(|r| r.0 <= cents && (!r.3 || tier >= 2))
        .max_by_key(|r| r.0);
    match rule {
        Some(&(_, fixed, 0, _)) => fixed,
        Some(&(_, _, rate, _)) => half_up(i128::from(cents) * i128::from(rate), 100),
        None => 0,
    }
}

//! Refunds and claw-back: a consumption refund restores the lots it drew (points reversed);
//! a balance refund pays out principal less the bonus spent (claw-back), bonus forfeited.

use super::consume::share;
use super::draft::Draft;
use super::points::draw_points;
use crate::error::Rejection;
use crate::event::{Draw, EventBody, External, LotKind, Restore};
use crate::events::*;
use crate::member::ConsumptionRecord;
use crate::money::Money;
use crate::policy::{pro_rata_refund, Policy, RefundFormula};

/// The points due back in total once a refund of `amount` (`principal` and `bonus` of it to the
/// card, `external` outside it) is made: floor(earned × base restored so far / base), the base
/// being what earned them (principal by default); a refund that completes the consumption
/// reverses all that was earned.
fn points_due(
    rec: &ConsumptionRecord,
    (amount, principal, bonus): (Money, Money, Money),
    external: Option<&External>,
) -> u64 {
    let external_paid = rec.external.as_ref().map_or(Money::ZERO, |x| x.amount);
    let base = rec.points_on.base(rec.principal, rec.bonus, external_paid);
    let restored_total = rec.points_on.base(
        rec.principal_restored.plus(principal),
        rec.bonus_restored.plus(bonus),
        rec.external_refunded
            .plus(external.map_or(Money::ZERO, |x| x.amount)),
    );
    if rec.refunded.plus(amount) == rec.charged {
        rec.points_earned
    } else if base.is_positive() {
        u64::try_from(
            i128::from(rec.points_earned) * i128::from(restored_total.cents())
                / i128::from(base.cents()),
        )
        .expect("points fit")
    } else {
        0
    }
}

/// The part of a refund of `amount` paid back outside the card, by the consumption's method:
/// `round(amount × external / charged)`, within what is left of each part (a refund of all
/// that is left returns each part exactly). Returns it and the card's part of the refund.
fn external_back(
    rec: &ConsumptionRecord,
    amount: Money,
    policy: &Policy,
) -> (Option<External>, Money) {
    let Some(paid) = &rec.external else {
        return (None, amount);
    };
    let left = paid.amount.minus(rec.external_refunded);
    let card_left = rec
        .principal
        .plus(rec.bonus)
        .minus(rec.principal_restored)
        .minus(rec.bonus_restored);
    let back = share(amount, paid.amount, rec.charged, policy)
        .max(amount.minus(card_left))
        .min(left.min(amount))
        .max(Money::ZERO);
    let external = back.is_positive().then(|| External {
        amount: back,
        method: paid.method.clone(),
    });
    (external, amount.minus(back))
}

impl Draft<'_> {
    pub(super) fn refund_consumption(
        &mut self,
        consumption: uuid::Uuid,
        amount: Option<Money>,
        policy: &Policy,
    ) -> Result<(), Rejection> {
        if !self.state.keeps_consumptions {
            return Err(Rejection::InvalidCommand(
                "a refund is decided on a member folded with its consumption records".into(),
            ));
        }
        if self.state.refunded_in_full(&consumption) {
            return Err(Rejection::RefundExceedsOriginal(format!(
                "consumption {consumption} is already refunded in full"
            )));
        }
        let rec = self.state.consumptions().get(&consumption).cloned().ok_or_else(|| {
            Rejection::UnknownConsumption(format!(
                "member {} has no refundable consumption {consumption} (never made, or closed by a balance refund)",
                self.cmd.member
            ))
        })?;
        let left = rec.charged.minus(rec.refunded);
        let amount = amount.unwrap_or(left);
        if amount > left {
            return Err(Rejection::RefundExceedsOriginal(format!(
                "refund {amount} exceeds the {left} left unrefunded of {} charged",
                rec.charged
            )));
        }
        let coupon = self.coupon_back(&rec, amount)?;
        let (external, card) = external_back(&rec, amount, policy);
        let principal_left = rec.principal.minus(rec.principal_restored);
        let bonus_left = rec.bonus.minus(rec.bonus_restored);
        let card_charged = rec.principal.plus(rec.bonus);
        let proportional = if card_charged.is_zero() {
            Money::ZERO
        } else {
            share(card, rec.bonus, card_charged, policy)
        };
        let floor = card.minus(principal_left).max(Money::ZERO);
        let bonus = proportional.max(floor).min(bonus_left.min(card));
        let principal = card.minus(bonus);

        let at = self.cmd.at;
        let mut restored = Vec::new();
        for kind in [LotKind::Principal, LotKind::Bonus] {
            let mut want = if kind == LotKind::Principal {
                principal
            } else {
                bonus
            };
            for d in rec.draws.iter().rev().filter(|d| d.draw.kind == kind) {
                let give = d.draw.amount.minus(d.restored).min(want);
                if give.is_positive() {
                    want = want.minus(give);
                    restored.push(Restore {
                        lot: d.draw.lot,
                        kind,
                        amount: give,
                        origin_store: d.draw.origin_store.clone(),
                        expires_at: d.draw.expires_at,
                        forfeited: d.draw.expires_at.is_some_and(|e| e <= at),
                    });
                }
            }
            assert!(want.is_zero(), "refund split within what was drawn");
        }

        let target = points_due(&rec, (amount, principal, bonus), external.as_ref());
        let due = target.saturating_sub(rec.points_reversed);
        // Taken back from the oldest point lots; what the member no longer holds is forgiven.
        let (points_reversed, owed) = draw_points(&self.state.point_lots(), due);
        self.record(EventBody::ConsumptionRefunded(ConsumptionRefunded {
            consumption,
            coupon,
            external,
            amount,
            principal,
            bonus,
            restored,
            points_reversed,
            points_forgiven: owed,
            service_store: rec.store.clone(),
        }))?;
        Ok(())
    }

    pub(super) fn refund_balance(&mut self, policy: &Policy) -> Result<(), Rejection> {
        self.no_open_holds()?;
        let (p, b) = (self.state.principal(), self.state.bonus());
        if p.is_zero() && b.is_zero() {
            return Err(Rejection::InsufficientBalance(format!(
                "member {} holds no balance to refund",
                self.cmd.member
            )));
        }
        let spent = self.state.bonus_spent;
        let (clawback, formula) = self.refund_formula(policy, spent);
        let draws = self
            .state
            .principal_lots()
            .iter()
            .chain(&self.state.bonus_lots())
            .map(|l| Draw {
                lot: l.lot,
                kind: l.kind,
                amount: l.remaining,
                origin_store: l.origin_store.clone(),
                expires_at: l.expires_at,
            })
            .collect();
        self.record(EventBody::BalanceRefunded(BalanceRefunded {
            principal: p,
            bonus_forfeited: b,
            bonus_spent: spent,
            clawback,
            payout: p.minus(clawback),
            draws,
            formula,
        }))?;
        Ok(())
    }

    /// The principal kept back and, for a formula the policy names other than claw-back, the
    /// record of its computation. A policy that names none keeps today's rule and bytes
    /// (claw-back, or nothing kept when `claw_back_used_bonus` is false).
    fn refund_formula(&self, policy: &Policy, spent: Money) -> (Money, Option<RefundComputation>) {
        let (p, b) = (self.state.principal(), self.state.bonus());
        let formula = policy.refund.formula();
        if policy.refund.formula.is_none() || formula == RefundFormula::ClawBackUsedBonus {
            let clawback = if formula == RefundFormula::ClawBackUsedBonus {
                spent.min(p)
            } else {
                Money::ZERO
            };
            return (clawback, None);
        }
        let (paid, granted) = (self.state.credited_principal, self.state.credited_bonus);
        let remaining = p.plus(b);
        let result = match formula {
            RefundFormula::ProRata => pro_rata_refund(paid, granted, remaining, policy.rounding),
            _ => p,
        };
        let payout = result.min(p);
        (
            p.minus(payout),
            Some(RefundComputation::new(
                formula, paid, granted, remaining, result,
            )),
        )
    }
}

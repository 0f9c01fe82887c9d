//! Refunds and claw-back: a consumption refund restores the lots it drew (points reversed);
//! a balance refund pays out principal less the bonus spent (claw-back), bonus forfeited.

use super::consume::share;
use super::draft::Draft;
use super::points::draw_points;
use crate::error::Rejection;
use crate::event::{Draw, EventBody, LotKind, Restore};
use crate::events::*;
use crate::money::Money;
use crate::policy::Policy;

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
        let rec = self.state.consumptions().get(&consumption).cloned().ok_or_else(|| {
            Rejection::UnknownConsumption(format!(
                "member {} has no refundable consumption {consumption} (never made, fully refunded, or closed by a balance refund)",
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
        let principal_left = rec.principal.minus(rec.principal_restored);
        let bonus_left = rec.bonus.minus(rec.bonus_restored);
        let proportional = share(amount, rec.bonus, rec.charged, policy);
        let floor = amount.minus(principal_left).max(Money::ZERO);
        let bonus = proportional.max(floor).min(bonus_left.min(amount));
        let principal = amount.minus(bonus);

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

        // Points reversed so far = floor(earned × principal restored so far / principal part);
        // a refund that completes the consumption reverses all that was earned.
        let restored_total = rec.principal_restored.plus(principal);
        let target = if rec.refunded.plus(amount) == rec.charged {
            rec.points_earned
        } else if rec.principal.is_positive() {
            u64::try_from(
                i128::from(rec.points_earned) * i128::from(restored_total.cents())
                    / i128::from(rec.principal.cents()),
            )
            .expect("points fit")
        } else {
            0
        };
        let due = target.saturating_sub(rec.points_reversed);
        // Taken back from the oldest point lots; what the member no longer holds is forgiven.
        let (points_reversed, owed) = draw_points(&self.state.point_lots(), due);
        self.record(EventBody::ConsumptionRefunded(ConsumptionRefunded {
            consumption,
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
        let clawback = if policy.refund.claw_back_used_bonus {
            spent.min(p)
        } else {
            Money::ZERO
        };
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
        }))?;
        Ok(())
    }
}

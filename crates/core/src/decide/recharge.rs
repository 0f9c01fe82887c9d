//! Recharge and bonus: a recharge opens a principal lot, the policy's bonus rule for the tier
//! grants bonus, and the tier may upgrade; a bonus grant by hand.

use super::consume::beyond;
use super::draft::Draft;
use crate::error::Rejection;
use crate::event::EventBody;
use crate::events::*;
use crate::id::StaffId;
use crate::money::Money;
use crate::policy::Policy;
use crate::time::Timestamp;

impl Draft<'_> {
    pub(super) fn recharge(
        &mut self,
        amount: Money,
        staff: Option<&StaffId>,
        policy: &Policy,
    ) -> Result<(), Rejection> {
        let tier_before = self.state.tier.clone();
        self.record(EventBody::Recharged(Recharged {
            amount,
            lot: self.next_lot(),
            staff: staff.cloned(),
        }))?;
        if let Some((i, rule)) =
            policy.bonus_rule_for(&tier_before, amount, &self.cmd.member, self.cmd.at)
        {
            let bonus = match (rule.bonus, rule.bonus_rate) {
                (Some(b), _) => b,
                (None, Some(rate)) => amount
                    .checked_times(rate, policy.rounding)
                    .ok_or_else(|| beyond("the recharge bonus"))?,
                (None, None) => Money::ZERO,
            };
            if bonus.is_positive() {
                self.record(EventBody::BonusGranted(BonusGranted {
                    amount: bonus,
                    lot: self.next_lot(),
                    expires_at: policy.bonus_expiry_days.map(|d| self.cmd.at.plus_days(d)),
                    reason: "recharge".into(),
                    rule: Some(u32::try_from(i).expect("at most 256 rules")),
                }))?;
            }
        }
        self.upgrade(Some(amount), policy)
    }

    pub(super) fn grant_bonus(
        &mut self,
        amount: Money,
        reason: &str,
        expires_at: Option<Timestamp>,
        policy: &Policy,
    ) -> Result<(), Rejection> {
        if expires_at.is_some_and(|e| e <= self.cmd.at) {
            return Err(Rejection::InvalidCommand(format!(
                "expires_at must be after the command's time {}",
                self.cmd.at
            )));
        }
        let expires_at =
            expires_at.or_else(|| policy.bonus_expiry_days.map(|d| self.cmd.at.plus_days(d)));
        self.record(EventBody::BonusGranted(BonusGranted {
            amount,
            lot: self.next_lot(),
            expires_at,
            reason: reason.to_owned(),
            rule: None,
        }))?;
        Ok(())
    }
}

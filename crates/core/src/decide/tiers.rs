//! Tiers: the upgrade a recharge earns, and a change by hand.

use super::draft::Draft;
use crate::error::Rejection;
use crate::event::EventBody;
use crate::events::*;
use crate::money::Money;
use crate::policy::Policy;

impl Draft<'_> {
    /// The highest tier above the current one whose upgrade condition holds.
    pub(super) fn upgrade_after_recharge(
        &mut self,
        amount: Money,
        policy: &Policy,
    ) -> Result<(), Rejection> {
        // A tier the policy no longer lists counts as the lowest.
        let current = policy.tier_index(&self.state.tier).unwrap_or(0);
        let window = self.state.recharged_within_365d(self.cmd.at);
        let target = policy
            .tiers
            .iter()
            .enumerate()
            .skip(current + 1)
            .rev()
            .find_map(|(_, t)| {
                let u = t.upgrade.as_ref()?;
                if u.single_recharge.is_some_and(|x| amount >= x) {
                    Some((t, "upgrade:single_recharge"))
                } else if u.recharged_within_365d.is_some_and(|x| window >= x) {
                    Some((t, "upgrade:recharged_within_365d"))
                } else {
                    None
                }
            });
        if let Some((t, reason)) = target {
            self.record(EventBody::TierChanged(TierChanged {
                from: self.state.tier.to_string(),
                to: t.name.clone(),
                reason: reason.into(),
            }))?;
        }
        Ok(())
    }

    pub(super) fn change_tier(
        &mut self,
        tier: &str,
        reason: Option<&str>,
        policy: &Policy,
    ) -> Result<(), Rejection> {
        if policy.tier(tier).is_none() {
            return Err(Rejection::UnknownTier(tier.to_owned()));
        }
        if self.state.tier == tier {
            return Err(Rejection::InvalidCommand(format!(
                "member {} already holds tier {tier}: there is nothing to change",
                self.cmd.member
            )));
        }
        self.record(EventBody::TierChanged(TierChanged {
            from: self.state.tier.to_string(),
            to: tier.to_owned(),
            reason: reason.unwrap_or("manual").to_owned(),
        }))?;
        Ok(())
    }
}

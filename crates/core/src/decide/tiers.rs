//! Tiers: the upgrade a recharge or a visit earns, the tier review, and a change by hand.

use super::draft::Draft;
use crate::error::Rejection;
use crate::event::EventBody;
use crate::events::*;
use crate::money::Money;
use crate::policy::Policy;

/// The reason of a `tier_changed` a tier review records.
pub const REVIEW_DOWNGRADE: &str = "review:downgrade";

impl Draft<'_> {
    /// The highest tier above the current one whose upgrade condition holds, after a recharge
    /// of `recharge` (every condition weighed) or a visit (`None`: spending and visits alone).
    pub(super) fn upgrade(
        &mut self,
        recharge: Option<Money>,
        policy: &Policy,
    ) -> Result<(), Rejection> {
        let target = policy.upgrade_target(&self.state, self.cmd.at, recharge);
        if let Some((t, reason)) = target {
            self.record(EventBody::TierChanged(TierChanged {
                from: self.state.tier.to_string(),
                to: t.name.clone(),
                reason: reason.into(),
            }))?;
        }
        Ok(())
    }

    /// The tier review as of the command's time: lowers the member by the policy's retain
    /// rules, or refuses (`invalid_command`) when the tier is kept, so a review records
    /// nothing it need not.
    pub(super) fn review_tier(&mut self, policy: &Policy) -> Result<(), Rejection> {
        let Some(to) = policy.review_target(&self.state, self.cmd.at) else {
            return Err(Rejection::InvalidCommand(format!(
                "member {} keeps tier {} at the review of {}: there is nothing to change",
                self.cmd.member, self.state.tier, self.cmd.at
            )));
        };
        let to = to.name.clone();
        self.record(EventBody::TierChanged(TierChanged {
            from: self.state.tier.to_string(),
            to,
            reason: REVIEW_DOWNGRADE.into(),
        }))
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

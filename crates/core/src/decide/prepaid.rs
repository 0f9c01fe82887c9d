//! The prepaid-card guards of the policy's `prepaid` section: the cap on the stored value a
//! member may hold, and the shortest life of a bonus or package.

use super::draft::Draft;
use crate::command::Action;
use crate::error::Rejection;
use crate::money::Money;
use crate::policy::Policy;
use crate::time::Timestamp;

impl Draft<'_> {
    /// The member's stored value: principal and bonus held.
    pub(super) fn stored_value(&self) -> Money {
        self.state.principal().plus(self.state.bonus())
    }

    /// Refuses a recharge or bonus that took the stored value beyond the policy's cap (`before`:
    /// the stored value before the command's own credits). A member already beyond it (a cap
    /// published later) may still spend it down.
    pub(super) fn check_cap(&self, before: Money, policy: &Policy) -> Result<(), Rejection> {
        let Some(cap) = policy.prepaid.as_ref().and_then(|p| p.stored_value_cap) else {
            return Ok(());
        };
        let after = self.stored_value();
        if after > cap && after > before {
            return Err(Rejection::StoredValueCapExceeded(format!(
                "member {} would hold {after} of stored value (principal and bonus), above the policy's cap of {cap}",
                self.cmd.member
            )));
        }
        Ok(())
    }

    /// Refuses a bonus or package whose own `expires_at` comes sooner than the policy's
    /// `prepaid.min_expiry_days` after the command.
    pub(super) fn check_min_expiry(&self, policy: &Policy) -> Result<(), Rejection> {
        let expires_at: Option<Timestamp> = match &self.cmd.action {
            Action::GrantBonus { expires_at, .. } | Action::PurchasePackage { expires_at, .. } => {
                *expires_at
            }
            _ => None,
        };
        let min = policy.prepaid.as_ref().and_then(|p| p.min_expiry_days);
        match (expires_at, min) {
            (Some(e), Some(days)) if e < self.cmd.at.plus_days(days) => {
                Err(Rejection::ExpiryTooShort(format!(
                    "expires_at {e} is sooner than the policy's minimum of {days} days after {}",
                    self.cmd.at
                )))
            }
            _ => Ok(()),
        }
    }
}

//! A member's status: frozen and unfrozen, and what a frozen member may not do.

use super::draft::Draft;
use crate::command::{Action, PaidFrom};
use crate::error::Rejection;
use crate::event::EventBody;
use crate::events::*;
use crate::policy::Policy;

impl Draft<'_> {
    /// What a frozen card may not do: spend, always; recharge and be refunded, when the
    /// policy says so.
    pub(super) fn frozen_gate(&self, action: &Action, policy: &Policy) -> Result<(), Rejection> {
        if !self.state.frozen {
            return Ok(());
        }
        let refused = match action {
            Action::Consume { .. }
            | Action::Authorize { .. }
            | Action::Capture { .. }
            | Action::RedeemPoints { .. }
            | Action::RedeemSession { .. }
            | Action::PurchasePackage {
                paid_from: PaidFrom::Balance,
                ..
            } => true,
            Action::Recharge { .. }
            | Action::PurchasePackage {
                paid_from: PaidFrom::Cash,
                ..
            } => !policy.freeze.allow_recharge,
            Action::RefundConsumption { .. }
            | Action::RefundBalance
            | Action::RefundPackage { .. } => !policy.freeze.allow_refunds,
            _ => false,
        };
        if refused {
            return Err(Rejection::MemberFrozen(self.cmd.member.to_string()));
        }
        Ok(())
    }

    pub(super) fn freeze(&mut self, reason: Option<&str>) -> Result<(), Rejection> {
        if self.state.frozen {
            return Err(Rejection::MemberFrozen(self.cmd.member.to_string()));
        }
        self.record(EventBody::MemberFrozen(MemberFrozen {
            reason: reason.unwrap_or("lost card").to_owned(),
        }))?;
        Ok(())
    }

    pub(super) fn unfreeze(&mut self, reason: Option<&str>) -> Result<(), Rejection> {
        if !self.state.frozen {
            return Err(Rejection::InvalidCommand(format!(
                "member {} is not frozen",
                self.cmd.member
            )));
        }
        self.record(EventBody::MemberUnfrozen(MemberUnfrozen {
            reason: reason.unwrap_or("card found").to_owned(),
        }))?;
        Ok(())
    }
}

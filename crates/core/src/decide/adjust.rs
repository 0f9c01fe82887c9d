//! Corrections by hand: a credit opens a lot, a debit draws lots.

use uuid::Uuid;

use super::consume::{bonus_spend_order, draw_fifo};
use super::draft::Draft;
use crate::command::{Balance, Direction};
use crate::error::Rejection;
use crate::event::EventBody;
use crate::events::*;
use crate::id::StaffId;
use crate::money::Money;
use crate::policy::Policy;

impl Draft<'_> {
    /// A correction by hand: a credit opens a lot (bonus and points with the policy's expiry),
    /// a debit draws lots in the order a consumption would.
    pub(super) fn adjust(
        &mut self,
        (balance, direction): (Balance, Direction),
        (amount, points): (Option<Money>, Option<u64>),
        (reason, operator, corrects): (&str, &StaffId, Option<Uuid>),
        policy: &Policy,
    ) -> Result<(), Rejection> {
        let at = self.cmd.at;
        let mut adjusted = Adjusted {
            amount,
            balance,
            corrects,
            direction,
            draws: Vec::new(),
            expires_at: None,
            lot: None,
            operator: operator.clone(),
            points,
            points_draws: Vec::new(),
            reason: reason.to_owned(),
        };
        match (direction, balance) {
            (Direction::Credit, b) => {
                adjusted.lot = Some(self.next_lot());
                adjusted.expires_at = match b {
                    Balance::Principal => None,
                    Balance::Bonus => policy.bonus_expiry_days.map(|d| at.plus_days(d)),
                    Balance::Points => policy.points_expiry_days.map(|d| at.plus_days(d)),
                };
            }
            (Direction::Debit, Balance::Points) => {
                adjusted.points_draws = self.spend_points(points.unwrap_or(0))?;
            }
            (Direction::Debit, b) => {
                let want = amount.unwrap_or(Money::ZERO);
                let (held, lots) = if b == Balance::Principal {
                    (self.state.principal(), self.state.principal_lots())
                } else {
                    (
                        self.state.bonus(),
                        bonus_spend_order(&self.state.bonus_lots()),
                    )
                };
                if want > held {
                    return Err(Rejection::InsufficientBalance(format!(
                        "member {} holds {held} of that balance, not {want}",
                        self.cmd.member
                    )));
                }
                // Held money stays held: a debit takes only what is available.
                self.check_available(want, "debit")?;
                adjusted.draws = draw_fifo(&lots, want);
            }
        }
        self.record(EventBody::Adjusted(adjusted))?;
        Ok(())
    }
}

//! Points: redeemed from point lots, earliest expiry first.

use super::draft::Draft;
use crate::error::Rejection;
use crate::event::{EventBody, Given, PointsDraw};
use crate::events::*;
use crate::member::PointLot;

impl Draft<'_> {
    /// Draws points to spend, earliest expiry first, then first-in first-out; refused when
    /// the member holds fewer.
    pub(super) fn spend_points(&self, want: u64) -> Result<Vec<PointsDraw>, Rejection> {
        let held = self.state.points();
        if want > held {
            return Err(Rejection::InsufficientPoints(format!(
                "member {} holds {held} points, not {want}",
                self.cmd.member
            )));
        }
        let mut lots = self.state.point_lots();
        lots.sort_by_key(|l| (l.expires_at.is_none(), l.expires_at, l.lot));
        Ok(draw_points(&lots, want).0)
    }

    /// Spends points from point lots, earliest expiry first, then first-in first-out.
    pub(super) fn redeem_points(
        &mut self,
        points: u64,
        reason: Option<&str>,
        given: Option<&Given>,
    ) -> Result<(), Rejection> {
        let draws = self.spend_points(points)?;
        self.record(EventBody::PointsRedeemed(PointsRedeemed {
            draws,
            given: given.cloned(),
            points,
            reason: reason.map(str::to_owned),
        }))?;
        Ok(())
    }
}

/// Draws `want` points from point lots in the order given; returns the draws and what the
/// lots could not cover.
pub(super) fn draw_points(lots: &[PointLot], want: u64) -> (Vec<PointsDraw>, u64) {
    let mut owed = want;
    let mut draws = Vec::new();
    for l in lots {
        if owed == 0 {
            break;
        }
        let take = l.remaining.min(owed);
        owed -= take;
        draws.push(PointsDraw {
            lot: l.lot,
            points: take,
        });
    }
    (draws, owed)
}

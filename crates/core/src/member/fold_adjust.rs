//! Folding a correction by hand (`adjusted`).

use crate::command::{Balance, Direction};
use crate::event::{Event, LotKind};
use crate::events::*;

use super::holdings::check_draws_sum;
use super::MemberState;

impl MemberState {
    pub(super) fn fold_adjusted(&mut self, event: &Event, b: &Adjusted) -> Result<(), String> {
        let Adjusted {
            draws,
            points_draws,
            ..
        } = b;
        let (amount, points, lot, expires_at) = (b.amount, b.points, b.lot, b.expires_at);
        let money = || {
            amount
                .filter(|a| a.is_positive())
                .ok_or("the adjustment moves no money")
        };
        match (b.direction, b.balance) {
            (Direction::Credit, Balance::Points) => {
                let lot = lot.ok_or("a credit names its lot")?;
                self.new_lot(lot)?;
                let n = points
                    .filter(|p| *p > 0)
                    .ok_or("the adjustment moves no points")?;
                self.push_point_lot(lot, n, expires_at);
            }
            (Direction::Credit, b) => {
                let lot = lot.ok_or("a credit names its lot")?;
                self.new_lot(lot)?;
                let kind = if b == Balance::Principal {
                    LotKind::Principal
                } else {
                    LotKind::Bonus
                };
                self.push_lot(kind, lot, &event.store, money()?, expires_at)?;
            }
            (Direction::Debit, Balance::Points) => {
                if Some(self.take_points(points_draws)?) != points {
                    return Err("the point draws do not add up".into());
                }
            }
            (Direction::Debit, b) => {
                let kind = if b == Balance::Principal {
                    LotKind::Principal
                } else {
                    LotKind::Bonus
                };
                check_draws_sum(draws, kind, money()?)?;
                for d in draws {
                    self.take_from_lot(d.kind, d.lot, d.amount)?;
                }
            }
        }
        Ok(())
    }

    pub(super) fn fold_points_redeemed(&mut self, b: &PointsRedeemed) -> Result<(), String> {
        let taken = self.take_points(&b.draws)?;
        if taken != b.points {
            return Err(format!("draws give {taken} points, not {}", b.points));
        }
        Ok(())
    }
}

//! Expiries: every bonus lot, point lot and package due by the command's time expires first;
//! the sweep's `expire` command is only that.

use super::draft::Draft;
use crate::error::Rejection;
use crate::event::{EventBody, LotKind};
use crate::events::*;
use crate::member::{Lot, Package, PackageStatus};
use crate::time::Timestamp;

impl Draft<'_> {
    /// Every bonus and point lot whose expiry is at or before the command's time expires first.
    pub(super) fn expire(&mut self) -> Result<(), Rejection> {
        let at = self.cmd.at;
        if self.state.next_expiry().is_none_or(|e| e > at) {
            return Ok(());
        }
        let due: Vec<Lot> = self
            .state
            .lots(LotKind::Bonus)
            .filter(|l| l.expires_at.is_some_and(|e| e <= at))
            .collect();
        for l in due {
            self.record(EventBody::BonusExpired(BonusExpired {
                lot: l.lot,
                amount: l.remaining,
                origin_store: l.origin_store,
                expires_at: l.expires_at.expect("filtered on expiry"),
            }))?;
        }
        let due: Vec<(u32, u64, Timestamp)> = self
            .state
            .point_lots()
            .iter()
            .filter_map(|l| {
                l.expires_at
                    .filter(|e| *e <= at)
                    .map(|e| (l.lot, l.remaining, e))
            })
            .collect();
        for (lot, points, expires_at) in due {
            self.record(EventBody::PointsExpired(PointsExpired {
                lot,
                points,
                expires_at,
            }))?;
        }
        let due: Vec<Package> = self
            .state
            .packages()
            .values()
            .filter(|p| p.status == PackageStatus::Open && p.expires_at.is_some_and(|e| e <= at))
            .map(|p| (**p).clone())
            .collect();
        for p in due {
            self.record(EventBody::PackageExpired(PackageExpired {
                amount: p.value_left(),
                bonus: p.bonus_left,
                expires_at: p.expires_at.expect("filtered on expiry"),
                origin_store: p.origin_store,
                package: p.package,
                principal: p.principal_left,
                sessions: p.sessions_left,
            }))?;
        }
        self.expire_holds()
    }

    /// The sweep: the expiries recorded before every command are the whole command.
    pub(super) fn expire_only(&mut self) -> Result<(), Rejection> {
        if self.events.is_empty() {
            return Err(Rejection::InvalidCommand(format!(
                "member {} has nothing due to expire at {}",
                self.cmd.member, self.cmd.at
            )));
        }
        Ok(())
    }
}

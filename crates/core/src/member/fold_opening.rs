//! Folding `balance_opened`: the lots and packages a member carried over from another system,
//! opened right after its enrollment.

use crate::command::{PaidFrom, SESSIONS_MAX};
use crate::event::{Event, LotKind};
use crate::events::BalanceOpened;
use crate::money::Money;

use super::{MemberState, Package, PackageStatus};

impl MemberState {
    pub(super) fn fold_balance_opened(
        &mut self,
        event: &Event,
        b: &BalanceOpened,
    ) -> Result<(), String> {
        if self.version != 1 || self.next_lot != 1 {
            return Err("an opening balance comes right after its enrollment".into());
        }
        let after = |e: Option<crate::time::Timestamp>| e.is_none_or(|t| t > event.at);
        for l in &b.principal {
            if l.expires_at.is_some() || !l.amount.is_positive() {
                return Err(format!(
                    "principal lot {} is not a positive lot without expiry",
                    l.lot
                ));
            }
            self.new_lot(l.lot)?;
            self.push_lot(LotKind::Principal, l.lot, &l.origin_store, l.amount, None)?;
        }
        for l in &b.bonus {
            if !after(l.expires_at) || !l.amount.is_positive() {
                return Err(format!(
                    "bonus lot {} is empty or expires before it opens",
                    l.lot
                ));
            }
            self.new_lot(l.lot)?;
            self.push_lot(
                LotKind::Bonus,
                l.lot,
                &l.origin_store,
                l.amount,
                l.expires_at,
            )?;
        }
        for p in &b.points {
            if !after(p.expires_at) || p.points == 0 {
                return Err(format!(
                    "point lot {} is empty or expires before it opens",
                    p.lot
                ));
            }
            self.new_lot(p.lot)?;
            self.push_point_lot(p.lot, p.points, p.expires_at);
        }
        for p in &b.packages {
            let price = Money::from_cents(
                p.session_price
                    .cents()
                    .checked_mul(i64::from(p.sessions))
                    .ok_or("a package's price overflows")?,
            );
            if p.sessions == 0
                || p.sessions > SESSIONS_MAX
                || !p.session_price.is_positive()
                || price != p.price
                || !after(p.expires_at)
                || p.package.is_nil()
                || self.packages().contains_key(&p.package)
            {
                return Err(format!("package {} does not open as recorded", p.package));
            }
            self.packages_mut().insert(
                p.package,
                Box::new(Package {
                    package: p.package,
                    service: p.service.clone(),
                    origin_store: p.origin_store.clone(),
                    paid_from: PaidFrom::Cash,
                    sessions: p.sessions,
                    sessions_left: p.sessions,
                    session_price: p.session_price,
                    price,
                    bonus_paid: Money::ZERO,
                    principal_left: price,
                    bonus_left: Money::ZERO,
                    expires_at: p.expires_at,
                    bonus_expires_at: None,
                    status: PackageStatus::Open,
                    bonus_counted: Money::ZERO,
                    external: None,
                }),
            );
        }
        Ok(())
    }
}

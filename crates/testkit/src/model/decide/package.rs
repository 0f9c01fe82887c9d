//! Packages (次卡/疗程卡): bought in cash or from the balance, redeemed a session at a time,
//! refunded the way they were paid.

use memberledger::Uuid;

use super::super::member::{Lot, Package, PkgStatus};
use super::super::policy::{half_up, RefundTo, PACKAGE_REFUND_TO};
use super::super::spec::{Ext, ExtAmount};
use super::{open_package, Draft};

impl Draft<'_> {
    /// A purchase: in cash (the selling store holds it), or paid from the balance like a
    /// consumption (the bonus part counts as spent), any external part outside the card (the
    /// selling store holds it, like cash).
    pub(crate) fn purchase_package(
        &mut self,
        (cents, cash, x): (i64, bool, Option<&Ext>),
        sessions: u32,
        expires: Option<i64>,
    ) -> Result<(), &'static str> {
        let store = self.store();
        if expires.is_some_and(|e| e <= self.at()) || (cash && x.is_some()) {
            return Err("invalid_command");
        }
        let external = match x.map(|x| (x, x.amount)) {
            None => None,
            Some((_, ExtAmount::Cents(c))) if c > cents => return Err("invalid_amount"),
            Some((x, amount)) => {
                let part = match amount {
                    ExtAmount::Rest => (cents - self.w.available()).max(0),
                    ExtAmount::All => cents,
                    ExtAmount::Cents(c) => c,
                };
                (part > 0).then(|| (x.method.clone(), part))
            }
        };
        let card = cents - external.as_ref().map_or(0, |x| x.1);
        let (bonus, bonus_expires) = if cash {
            (0, None)
        } else {
            let (_, bonus, draws) = self.w.pay(card)?;
            for d in draws.iter().filter(|d| d.principal) {
                self.owe(&d.store, &store, d.cents);
            }
            let earliest = draws
                .iter()
                .filter(|d| !d.principal)
                .filter_map(|d| d.expires)
                .min();
            (bonus, earliest)
        };
        self.w.bonus_spent += bonus;
        self.w.packages.insert(
            self.spec.id,
            Package {
                store,
                cash,
                sessions,
                sessions_left: sessions,
                session_price: cents / i64::from(sessions),
                price: cents,
                bonus_paid: bonus,
                principal_left: cents - bonus,
                bonus_left: bonus,
                expires,
                bonus_expires,
                bonus_counted: bonus,
                status: PkgStatus::Open,
                external,
            },
        );
        Ok(())
    }

    /// A session recognises `floor(price / sessions)` (the last one what is left), its bonus
    /// share in proportion; the selling store owes the serving store the principal part.
    pub(crate) fn redeem_session(&mut self, package: Uuid) -> Result<(), &'static str> {
        let store = self.store();
        let p = open_package(&mut self.w, package)?;
        // A granted package (price zero) recognises nothing.
        let (amount, bonus) = if p.sessions_left == 1 || p.price == 0 {
            (p.value_left(), p.bonus_left)
        } else {
            let amount = p.session_price;
            let share = half_up(
                i128::from(amount) * i128::from(p.bonus_paid),
                i128::from(p.price),
            );
            let bonus = share
                .max((amount - p.principal_left).max(0))
                .min(p.bonus_left.min(amount));
            (amount, bonus)
        };
        let principal = amount - bonus;
        p.principal_left -= principal;
        p.bonus_left -= bonus;
        p.sessions_left -= 1;
        assert!(
            p.principal_left >= 0 && p.bonus_left >= 0,
            "model: a session takes no more than its package holds"
        );
        if p.sessions_left == 0 {
            assert_eq!(p.value_left(), 0, "model: the sessions add up to the price");
            p.close(PkgStatus::Used);
        }
        let seller = p.store.clone();
        self.owe(&seller, &store, principal);
        Ok(())
    }

    /// A refund of what a package has left: in cash, or back to the balance as new lots (the
    /// bonus share keeps the expiry of the bonus that paid for it, and is forfeited once
    /// that has passed).
    pub(crate) fn refund_package(&mut self, package: Uuid) -> Result<(), &'static str> {
        let (at, store) = (self.at(), self.store());
        let p = open_package(&mut self.w, package)?.clone();
        let to_cash = match PACKAGE_REFUND_TO {
            RefundTo::Original => p.cash,
            RefundTo::Cash => true,
            RefundTo::Balance => false,
        };
        // The external part goes back by its method, in proportion to what is left.
        let back = p.external.as_ref().map_or(0, |(_, paid)| {
            half_up(
                i128::from(p.principal_left) * i128::from(*paid),
                i128::from(p.price - p.bonus_paid),
            )
            .min(*paid)
            .min(p.principal_left)
        });
        let principal = p.principal_left - back;
        let w = &mut self.w;
        let unspent = p.bonus_left.min(p.bonus_counted).min(w.bonus_spent);
        w.bonus_spent -= unspent;
        if !to_cash {
            if principal > 0 {
                let lot = w.new_lot();
                w.principal.push(Lot {
                    lot,
                    store: p.store.clone(),
                    cents: principal,
                    expires: None,
                });
            }
            if p.bonus_left > 0 && p.bonus_expires.is_none_or(|e| e > at) {
                let lot = w.new_lot();
                w.bonus.push(Lot {
                    lot,
                    store: p.store.clone(),
                    cents: p.bonus_left,
                    expires: p.bonus_expires,
                });
            }
        }
        w.packages
            .get_mut(&package)
            .expect("found above")
            .close(PkgStatus::Refunded);
        if to_cash {
            // The selling store holds the cash; the paying store pays it out.
            self.owe(&p.store, &store, principal);
        }
        Ok(())
    }
}

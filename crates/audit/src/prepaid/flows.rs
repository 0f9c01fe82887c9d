//! The movement of paid prepaid value (principal and the paid part of packages) in a period,
//! by issuing entity: what was sold, consumed, refunded, kept back, expired, corrected by hand
//! and moved between entities. Bonus is never paid, so it has no part here.

use std::collections::BTreeMap;

use memberledger::domain::events::{
    Adjusted, BalanceRefunded, Consumed, ConsumptionRefunded, PackageExpired, PackagePurchased,
    PackageRefunded, Recharged, SessionRedeemed,
};
use memberledger::domain::{Balance, Direction, Draw, Event, EventBody, LotKind, PaidFrom};
use memberledger::Money;
use serde::Serialize;

/// The movement of one entity's paid value in the period, in cents while folded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Cents {
    sold: i128,
    consumed: i128,
    refunded: i128,
    clawed_back: i128,
    expired: i128,
    adjusted: i128,
    transferred: i128,
}

/// The movement of paid value in a quarter. Always `opening + sold − consumed − refunded −
/// clawed_back − expired + adjusted + transferred = closing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Movement {
    /// Cash taken: recharges and packages bought in cash.
    pub sold: Money,
    /// Principal spent on services and package sessions, less consumption refunds.
    pub consumed: Money,
    /// Principal paid out in cash: balance refunds (退卡) and packages refunded in cash.
    pub refunded: Money,
    /// Principal kept back on balance refunds for bonus used (claw-back, or the formula's).
    pub clawed_back: Money,
    /// The paid value of packages that lapsed with sessions left.
    pub expired: Money,
    /// Net corrections by hand of principal (credits less debits).
    pub adjusted: Money,
    /// Net paid value moved in from other entities (a package bought at this entity's store
    /// with principal collected at another's); zero chain-wide.
    pub transferred: Money,
}

impl Cents {
    /// The figures as money (a period's flows of one entity fit an `i64` of cents whenever
    /// its balances do; beyond is saturated, never wrapped).
    pub(super) fn money(self) -> Movement {
        let m = |c: i128| Money::from_cents(i64::try_from(c).unwrap_or(i64::MAX));
        Movement {
            sold: m(self.sold),
            consumed: m(self.consumed),
            refunded: m(self.refunded),
            clawed_back: m(self.clawed_back),
            expired: m(self.expired),
            adjusted: m(self.adjusted),
            transferred: m(self.transferred),
        }
    }

    /// What the movement makes of an opening balance.
    pub(super) fn closing(self, opening: i128) -> i128 {
        opening + self.sold - self.consumed - self.refunded - self.clawed_back - self.expired
            + self.adjusted
            + self.transferred
    }
}

/// Folds events into each entity's movement; `entity_of` maps a store to its entity.
pub(super) struct Flows<'a> {
    pub(super) by_entity: BTreeMap<String, Cents>,
    entity_of: &'a dyn Fn(&str) -> String,
}

fn principal_draws(draws: &[Draw]) -> impl Iterator<Item = &Draw> {
    draws.iter().filter(|d| d.kind == LotKind::Principal)
}

impl<'a> Flows<'a> {
    pub(super) fn new(entity_of: &'a dyn Fn(&str) -> String) -> Flows<'a> {
        Flows {
            by_entity: BTreeMap::new(),
            entity_of,
        }
    }

    fn at(&mut self, store: &str) -> &mut Cents {
        let e = (self.entity_of)(store);
        self.by_entity.entry(e).or_default()
    }

    /// One event of the period.
    pub(super) fn fold(&mut self, e: &Event) {
        let store = e.store.as_str();
        match &e.body {
            EventBody::Recharged(Recharged { amount, .. }) => self.at(store).sold += c(*amount),
            EventBody::PackagePurchased(p) => self.package_purchased(store, p),
            EventBody::Consumed(Consumed { draws, .. }) => {
                for d in principal_draws(draws) {
                    self.at(d.origin_store.as_str()).consumed += c(d.amount);
                }
            }
            EventBody::ConsumptionRefunded(ConsumptionRefunded { restored, .. }) => {
                for r in restored.iter().filter(|r| r.kind == LotKind::Principal) {
                    self.at(r.origin_store.as_str()).consumed -= c(r.amount);
                }
            }
            EventBody::SessionRedeemed(SessionRedeemed {
                principal,
                origin_store,
                ..
            }) => self.at(origin_store.as_str()).consumed += c(*principal),
            EventBody::BalanceRefunded(b) => self.balance_refunded(b),
            EventBody::PackageRefunded(PackageRefunded {
                principal,
                origin_store,
                to: PaidFrom::Cash,
                ..
            }) => self.at(origin_store.as_str()).refunded += c(*principal),
            EventBody::PackageExpired(PackageExpired {
                principal,
                origin_store,
                ..
            }) => self.at(origin_store.as_str()).expired += c(*principal),
            EventBody::Adjusted(a) => self.adjusted(store, a),
            _ => {}
        }
    }

    fn package_purchased(&mut self, store: &str, p: &PackagePurchased) {
        if p.cash.is_positive() {
            self.at(store).sold += c(p.cash);
            return;
        }
        // Paid from the balance: principal leaves the lots' entities for the package's.
        for d in principal_draws(&p.draws) {
            self.at(d.origin_store.as_str()).transferred -= c(d.amount);
        }
        self.at(store).transferred += c(p.principal);
    }

    /// The principal emptied, lot by lot: the claw-back is taken from the first lots drawn,
    /// the rest paid out, so each entity's share is exact.
    fn balance_refunded(&mut self, b: &BalanceRefunded) {
        let mut keep = c(b.clawback);
        for d in principal_draws(&b.draws) {
            let kept = keep.min(c(d.amount));
            keep -= kept;
            let at = self.at(d.origin_store.as_str());
            at.clawed_back += kept;
            at.refunded += c(d.amount) - kept;
        }
    }

    fn adjusted(&mut self, store: &str, a: &Adjusted) {
        if a.balance != Balance::Principal {
            return;
        }
        match a.direction {
            Direction::Credit => self.at(store).adjusted += a.amount.map_or(0, c),
            Direction::Debit => {
                for d in principal_draws(&a.draws) {
                    self.at(d.origin_store.as_str()).adjusted -= c(d.amount);
                }
            }
        }
    }
}

fn c(m: Money) -> i128 {
    i128::from(m.cents())
}

//! The books and projections as of a time, folded from the log.

use memberledger::domain::events::{BalanceRefunded, PackagePurchased, PackageRefunded, Recharged};
use std::collections::{BTreeMap, HashMap};

use memberledger::domain::{postings, Account, EventBody, LotKind, MemberState};
use memberledger::{Error, Ledger, MemberId, Money, StoreId, Timestamp};
use serde::Serialize;

/// The ledger as of a time: every account's balance, every member's state, and each store's
/// flows, from the events recorded at or before it.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The time, or `None` for everything recorded.
    pub as_of: Option<Timestamp>,
    /// Events folded.
    pub events: u64,
    accounts: BTreeMap<Account, i128>,
    members: HashMap<MemberId, MemberState>,
    flows: BTreeMap<StoreId, Flows>,
    /// Inter-store debts accrued per (debtor, creditor), in cents.
    accrued: BTreeMap<(StoreId, StoreId), i128>,
    /// The position of the last event folded: where a total beyond the recorded bounds is
    /// reported.
    last_position: u64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Flows {
    cash_taken: i128,
    cash_paid_out: i128,
}

/// One account's balance in a trial balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountBalance {
    /// The account name (`Assets:Cash:S1`).
    pub account: String,
    /// Signed balance, debit positive: `"-826.09"`.
    pub balance: Money,
}

/// One store's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreReport {
    /// The store.
    pub store: String,
    /// Cash taken for recharges.
    pub cash_taken: Money,
    /// Cash paid out on balance refunds.
    pub cash_paid_out: Money,
    /// Revenue of services delivered here, less refunds.
    pub revenue: Money,
    /// Bonus granted here.
    pub bonus_granted: Money,
    /// Bonus granted here that expired or was forfeited.
    pub breakage: Money,
    /// Principal kept back on balance refunds for bonus spent.
    pub clawback: Money,
    /// Net corrections by hand credited to members here (listed apart for review).
    pub adjustments: Money,
    /// What this store owes other stores now, each pair netted as in the settlement report.
    pub owed: Money,
    /// What other stores owe this store now, each pair netted.
    pub owed_to: Money,
}

/// What one store owes another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PairSettlement {
    /// The store that owes (it holds the cash).
    pub debtor: String,
    /// The store owed (it delivered the service or paid out).
    pub creditor: String,
    /// Accrued by cross-store spending and refunds.
    pub owed: Money,
    /// Paid by settlements.
    pub settled: Money,
    /// Still to pay.
    pub outstanding: Money,
}

/// Stored value held for members by one store (by the store that took the cash or granted
/// the credit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreLiability {
    /// The store.
    pub store: String,
    /// Principal of lots collected here.
    pub principal: Money,
    /// Bonus of lots granted here.
    pub bonus: Money,
    /// Unredeemed value of packages sold here.
    pub packages: Money,
}

/// The chain's stored-value liability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Liability {
    /// Members with a card.
    pub members: u64,
    /// Principal owed to members.
    pub principal: Money,
    /// Bonus members may still spend.
    pub bonus: Money,
    /// The unredeemed value of members' packages.
    pub packages: Money,
    /// Points held (a `u128`: the sum over any number of members at the recorded bound).
    pub points: u128,
    /// By store.
    pub stores: Vec<StoreLiability>,
}

impl Snapshot {
    /// Folds every event recorded at or before `as_of` (all of them for `None`). Streams the
    /// log; memory grows with members and accounts, not with events.
    pub fn as_of(ledger: &Ledger, as_of: Option<Timestamp>) -> Result<Snapshot, Error> {
        let mut s = Snapshot {
            as_of,
            ..Snapshot::default()
        };
        for rec in ledger.events(1, 4096) {
            let rec = rec?;
            let e = &rec.event;
            if as_of.is_some_and(|t| e.at > t) {
                continue;
            }
            s.events += 1;
            s.last_position = rec.position;
            let entry = postings(e);
            memberledger::domain::check_balanced(&entry).map_err(|why| Error::Corrupt {
                position: rec.position,
                why,
            })?;
            // What stores owe each other accrues with every event but a settlement, which
            // pays it down.
            let settlement = matches!(e.body, EventBody::Settled { .. });
            for p in entry {
                if let Account::InterStorePayable { debtor, creditor } = &p.account {
                    if !settlement {
                        *s.accrued
                            .entry((debtor.clone(), creditor.clone()))
                            .or_default() -= i128::from(p.cents);
                    }
                }
                *s.accounts.entry(p.account).or_default() += i128::from(p.cents);
            }
            match &e.body {
                EventBody::Recharged(Recharged { amount, .. }) => {
                    s.flows.entry(e.store.clone()).or_default().cash_taken +=
                        i128::from(amount.cents());
                }
                EventBody::BalanceRefunded(BalanceRefunded { payout, .. }) => {
                    s.flows.entry(e.store.clone()).or_default().cash_paid_out +=
                        i128::from(payout.cents());
                }
                EventBody::PackagePurchased(PackagePurchased { cash, .. })
                    if cash.is_positive() =>
                {
                    s.flows.entry(e.store.clone()).or_default().cash_taken +=
                        i128::from(cash.cents());
                }
                EventBody::PackageRefunded(PackageRefunded {
                    principal,
                    to: memberledger::domain::PaidFrom::Cash,
                    ..
                }) => {
                    s.flows.entry(e.store.clone()).or_default().cash_paid_out +=
                        i128::from(principal.cents());
                }
                _ => {}
            }
            if !e.member.is_member() {
                continue;
            }
            MemberState::fold_next(s.members.get_mut(&e.member), e)
                .map(|started| {
                    if let Some(m) = started {
                        s.members.insert(e.member.clone(), m);
                    }
                })
                .map_err(|f| Error::Corrupt {
                    position: rec.position,
                    why: f.to_string(),
                })?;
        }
        Ok(s)
    }

    /// A sum of cents as [`Money`]. The recorded bounds keep every member's figures inside
    /// `i64`; a chain-wide total beyond it is reported as [`Error::Corrupt`] at the last
    /// position folded, never rounded or saturated.
    fn money(&self, cents: i128) -> Result<Money, Error> {
        i64::try_from(cents)
            .map(Money::from_cents)
            .map_err(|_| Error::Corrupt {
                position: self.last_position,
                why: format!("a total of {cents} cents is beyond what a report can hold"),
            })
    }

    /// The balance of one account, in cents (debit positive).
    pub fn balance(&self, account: &Account) -> i128 {
        self.accounts.get(account).copied().unwrap_or(0)
    }

    /// Every account with a non-zero balance, by name.
    pub fn trial_balance(&self) -> Result<Vec<AccountBalance>, Error> {
        let mut rows = self
            .accounts
            .iter()
            .filter(|(_, c)| **c != 0)
            .map(|(a, c)| {
                Ok(AccountBalance {
                    account: a.to_string(),
                    balance: self.money(*c)?,
                })
            })
            .collect::<Result<Vec<AccountBalance>, Error>>()?;
        rows.sort_by(|a, b| a.account.cmp(&b.account));
        Ok(rows)
    }

    /// The sum of every account: zero in balanced books.
    pub fn trial_balance_total(&self) -> i128 {
        self.accounts.values().sum()
    }

    /// Every account's balance in cents, by account.
    pub fn accounts(&self) -> &BTreeMap<Account, i128> {
        &self.accounts
    }

    /// Every member enrolled by then, with its state (in no particular order).
    pub fn members(&self) -> impl Iterator<Item = (&MemberId, &MemberState)> {
        self.members.iter()
    }

    /// A member's state as of the snapshot.
    pub fn member(&self, id: &MemberId) -> Option<&MemberState> {
        self.members.get(id)
    }

    /// Every store that appears in the books.
    pub fn stores(&self) -> Vec<StoreId> {
        let mut stores: Vec<StoreId> = self
            .accounts
            .keys()
            .flat_map(|a| match a {
                Account::Cash(s)
                | Account::Services(s)
                | Account::Breakage(s)
                | Account::Clawback(s)
                | Account::Promotion(s)
                | Account::Adjustments(s)
                | Account::OpeningBalances(s) => vec![s.clone()],
                Account::InterStoreReceivable { creditor, debtor }
                | Account::InterStorePayable { debtor, creditor } => {
                    vec![creditor.clone(), debtor.clone()]
                }
                _ => vec![],
            })
            .chain(self.flows.keys().cloned())
            .collect();
        stores.sort();
        stores.dedup();
        stores
    }

    /// Each store's figures, by store id.
    pub fn store_reports(&self) -> Result<Vec<StoreReport>, Error> {
        // Net of what the other store owes back, as the settlement report shows it.
        let mut owed: HashMap<&StoreId, i128> = HashMap::new();
        let mut owed_to: HashMap<&StoreId, i128> = HashMap::new();
        for (debtor, creditor, _, outstanding) in self.net_pairs() {
            *owed.entry(debtor).or_default() += outstanding;
            *owed_to.entry(creditor).or_default() += outstanding;
        }
        self.stores()
            .iter()
            .map(|s| {
                let f = self.flows.get(s).copied().unwrap_or_default();
                let account = |a: fn(StoreId) -> Account| self.balance(&a(s.clone()));
                Ok(StoreReport {
                    store: s.to_string(),
                    cash_taken: self.money(f.cash_taken)?,
                    cash_paid_out: self.money(f.cash_paid_out)?,
                    revenue: self.money(-account(Account::Services))?,
                    bonus_granted: self.money(account(Account::Promotion))?,
                    breakage: self.money(-account(Account::Breakage))?,
                    clawback: self.money(-account(Account::Clawback))?,
                    adjustments: self.money(account(Account::Adjustments))?,
                    owed: self.money(owed.get(s).copied().unwrap_or(0))?,
                    owed_to: self.money(owed_to.get(s).copied().unwrap_or(0))?,
                })
            })
            .collect()
    }

    /// What each store owes each other store: accrued, settled, outstanding.
    pub fn settlement(&self) -> Result<Vec<PairSettlement>, Error> {
        self.net_pairs()
            .into_iter()
            .map(|(debtor, creditor, owed, outstanding)| {
                Ok(PairSettlement {
                    debtor: debtor.to_string(),
                    creditor: creditor.to_string(),
                    owed: self.money(owed)?,
                    settled: self.money(owed - outstanding)?,
                    outstanding: self.money(outstanding)?,
                })
            })
            .collect()
    }

    /// Each pair of stores with dealings, netted: (debtor, creditor, owed, outstanding) in
    /// cents. Debts run both ways between two stores (each spends the other's members'
    /// principal, and refunds reverse it); the store that owes on the net is the debtor (when
    /// all is settled, the one that owed on the net).
    fn net_pairs(&self) -> Vec<(&StoreId, &StoreId, i128, i128)> {
        let mut raw: BTreeMap<(&StoreId, &StoreId), (i128, i128)> = BTreeMap::new();
        for (a, c) in &self.accounts {
            if let Account::InterStorePayable { debtor, creditor } = a {
                let accrued = self
                    .accrued
                    .get(&(debtor.clone(), creditor.clone()))
                    .copied()
                    .unwrap_or(0);
                raw.insert((debtor, creditor), (accrued, -c));
            }
        }
        let mut rows = Vec::new();
        for (&(a, b), &(accrued_ab, out_ab)) in &raw {
            let (accrued_ba, out_ba) = raw.get(&(b, a)).copied().unwrap_or((0, 0));
            if raw.contains_key(&(b, a)) && a > b {
                continue; // the pair was reported from the other side
            }
            let net = match out_ab - out_ba {
                0 => accrued_ab - accrued_ba,
                n => n,
            };
            let (debtor, creditor, sign) = if net >= 0 { (a, b, 1) } else { (b, a, -1) };
            rows.push((
                debtor,
                creditor,
                sign * (accrued_ab - accrued_ba),
                sign * (out_ab - out_ba),
            ));
        }
        rows.sort();
        rows
    }

    /// The stored value the chain holds for members, in total and by store (the store that
    /// holds a lot's cash, granted its bonus, or sold a package).
    pub fn liability(&self) -> Result<Liability, Error> {
        // In i128 (points in u128): any number of members at the recorded bound sum exactly.
        let mut by_store: BTreeMap<StoreId, (i128, i128, i128)> = BTreeMap::new();
        let (mut principal, mut bonus, mut packages, mut points) = (0i128, 0i128, 0i128, 0u128);
        for m in self.members.values() {
            for p in m.packages().values() {
                let value = i128::from(p.value_left().cents());
                by_store.entry(p.origin_store.clone()).or_default().2 += value;
                packages += value;
            }
            for l in m.lots(LotKind::Principal).chain(m.lots(LotKind::Bonus)) {
                let e = by_store.entry(l.origin_store).or_default();
                let cents = i128::from(l.remaining.cents());
                match l.kind {
                    LotKind::Principal => {
                        e.0 += cents;
                        principal += cents;
                    }
                    LotKind::Bonus => {
                        e.1 += cents;
                        bonus += cents;
                    }
                }
            }
            points += u128::from(m.points());
        }
        Ok(Liability {
            members: self.members.len() as u64,
            principal: self.money(principal)?,
            bonus: self.money(bonus)?,
            packages: self.money(packages)?,
            points,
            stores: by_store
                .into_iter()
                .map(|(s, (p, b, k))| {
                    Ok(StoreLiability {
                        store: s.to_string(),
                        principal: self.money(p)?,
                        bonus: self.money(b)?,
                        packages: self.money(k)?,
                    })
                })
                .collect::<Result<Vec<StoreLiability>, Error>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_total_beyond_i64_is_reported_corrupt_not_saturated() {
        let s = Snapshot {
            last_position: 7,
            ..Snapshot::default()
        };
        let beyond = i128::from(i64::MAX) + 1;
        match s.money(beyond) {
            Err(Error::Corrupt { position, why }) => {
                assert_eq!(position, 7);
                assert!(why.contains(&beyond.to_string()), "{why}");
            }
            other => panic!("expected corrupt, got {other:?}"),
        }
        assert_eq!(s.money(-12_345), Ok(Money::from_cents(-12_345)));
        assert_eq!(
            s.money(i128::from(i64::MIN)),
            Ok(Money::from_cents(i64::MIN))
        );
    }
}

//! The books and projections as of a time, folded from the log.

use memberledger::domain::events::{BalanceRefunded, PackagePurchased, PackageRefunded, Recharged};
use std::collections::{BTreeMap, HashMap};

use memberledger::domain::{format_cents, postings, Account, EventBody, LotKind, MemberState};
use memberledger::{Error, Ledger, MemberId, StoreId, Timestamp};
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
    pub balance: String,
}

/// One store's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreReport {
    /// The store.
    pub store: String,
    /// Cash taken for recharges.
    pub cash_taken: String,
    /// Cash paid out on balance refunds.
    pub cash_paid_out: String,
    /// Revenue of services delivered here, less refunds.
    pub revenue: String,
    /// Bonus granted here.
    pub bonus_granted: String,
    /// Bonus granted here that expired or was forfeited.
    pub breakage: String,
    /// Principal kept back on balance refunds for bonus spent.
    pub clawback: String,
    /// Net corrections by hand credited to members here (listed apart for review).
    pub adjustments: String,
    /// What this store owes other stores now, each pair netted as in the settlement report.
    pub owed: String,
    /// What other stores owe this store now, each pair netted.
    pub owed_to: String,
}

/// What one store owes another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PairSettlement {
    /// The store that owes (it holds the cash).
    pub debtor: String,
    /// The store owed (it delivered the service or paid out).
    pub creditor: String,
    /// Accrued by cross-store spending and refunds.
    pub owed: String,
    /// Paid by settlements.
    pub settled: String,
    /// Still to pay.
    pub outstanding: String,
}

/// Stored value held for members by one store (by the store that took the cash or granted
/// the credit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreLiability {
    /// The store.
    pub store: String,
    /// Principal of lots collected here.
    pub principal: String,
    /// Bonus of lots granted here.
    pub bonus: String,
    /// Unredeemed value of packages sold here.
    pub packages: String,
}

/// The chain's stored-value liability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Liability {
    /// Members with a card.
    pub members: u64,
    /// Principal owed to members.
    pub principal: String,
    /// Bonus members may still spend.
    pub bonus: String,
    /// The unredeemed value of members' packages.
    pub packages: String,
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

    /// The balance of one account, in cents (debit positive).
    pub fn balance(&self, account: &Account) -> i128 {
        self.accounts.get(account).copied().unwrap_or(0)
    }

    /// Every account with a non-zero balance, by name.
    pub fn trial_balance(&self) -> Vec<AccountBalance> {
        let mut rows: Vec<AccountBalance> = self
            .accounts
            .iter()
            .filter(|(_, c)| **c != 0)
            .map(|(a, c)| AccountBalance {
                account: a.to_string(),
                balance: format_cents(*c),
            })
            .collect();
        rows.sort_by(|a, b| a.account.cmp(&b.account));
        rows
    }

    /// The sum of every account: zero in balanced books.
    pub fn trial_balance_total(&self) -> i128 {
        self.accounts.values().sum()
    }

    /// Every account's balance in cents, by account.
    pub fn accounts(&self) -> &BTreeMap<Account, i128> {
        &self.accounts
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
                | Account::Adjustments(s) => vec![s.clone()],
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
    pub fn store_reports(&self) -> Vec<StoreReport> {
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
                StoreReport {
                    store: s.to_string(),
                    cash_taken: format_cents(f.cash_taken),
                    cash_paid_out: format_cents(f.cash_paid_out),
                    revenue: format_cents(-self.balance(&Account::Services(s.clone()))),
                    bonus_granted: format_cents(self.balance(&Account::Promotion(s.clone()))),
                    breakage: format_cents(-self.balance(&Account::Breakage(s.clone()))),
                    clawback: format_cents(-self.balance(&Account::Clawback(s.clone()))),
                    adjustments: format_cents(self.balance(&Account::Adjustments(s.clone()))),
                    owed: format_cents(owed.get(s).copied().unwrap_or(0)),
                    owed_to: format_cents(owed_to.get(s).copied().unwrap_or(0)),
                }
            })
            .collect()
    }

    /// What each store owes each other store: accrued, settled, outstanding.
    pub fn settlement(&self) -> Vec<PairSettlement> {
        self.net_pairs()
            .into_iter()
            .map(|(debtor, creditor, owed, outstanding)| PairSettlement {
                debtor: debtor.to_string(),
                creditor: creditor.to_string(),
                owed: format_cents(owed),
                settled: format_cents(owed - outstanding),
                outstanding: format_cents(outstanding),
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
    pub fn liability(&self) -> Liability {
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
        Liability {
            members: self.members.len() as u64,
            principal: format_cents(principal),
            bonus: format_cents(bonus),
            packages: format_cents(packages),
            points,
            stores: by_store
                .into_iter()
                .map(|(s, (p, b, k))| StoreLiability {
                    store: s.to_string(),
                    principal: format_cents(p),
                    bonus: format_cents(b),
                    packages: format_cents(k),
                })
                .collect(),
        }
    }
}

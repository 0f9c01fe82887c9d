//! The books: every event posts a balanced journal entry, derived from the event alone.
//!
//! Amounts are signed cents, debits positive and credits negative, so an entry balances when
//! its postings sum to zero. Accounts (docs/RULES.md §20, with a store under each income and expense
//! so every store's figures can be read off the books):
//!
//! | account | what it holds |
//! |---|---|
//! | `Assets:Cash:<store>` | cash a store took (recharges, settlements received, the cash part of a visit) or paid out |
//! | `Assets:Receivable:<method>:<store>` | what a payment provider owes the store for a visit's part paid by `method` (wechat, alipay, bank_card, …) |
//! | `Liabilities:Principal:<member>` | principal the chain owes the member |
//! | `Liabilities:Bonus:<member>` | bonus credit the member may still spend |
//! | `Liabilities:Package:<member>` | the unredeemed value of the member's packages |
//! | `Income:Services:<store>` | revenue where the service was delivered |
//! | `Expenses:Promotion:<store>` | bonus granted by the store; coupon discounts it gave |
//! | `Expenses:Adjustments:<store>` | corrections by hand of principal and bonus, for review |
//! | `Expenses:Loyalty:<store>` | the value of what a store gave for points (a service, a gift) |
//! | `Income:Breakage:<store>` | bonus that expired or was forfeited, by the store that granted it |
//! | `Income:Clawback:<store>` | principal kept back on a balance refund for bonus spent |
//! | `Assets:InterStore:<creditor>:<debtor>` | what the debtor store owes the creditor store |
//! | `Equity:OpeningBalances:<store>` | balances carried over from another system, by the store that holds their cash or granted them |
//! | `Liabilities:InterStore:<debtor>:<creditor>` | the same debt, on the debtor's side |
//!
//! Inter-store clearing: principal collected at store A and spent at store B leaves A holding
//! cash for a service B delivered, so A owes B that amount, lot by lot. A balance refund paid at
//! store R from principal collected at A makes A owe R what R paid out for it.

pub(crate) mod clearing;

use std::fmt;

use crate::command::{Balance, Direction, PaidFrom};
use crate::event::{Draw, Event, EventBody, LotKind};
use crate::events::*;
use crate::id::{MemberId, StoreId};

/// A ledger account.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Account {
    /// `Assets:Cash:<store>`.
    Cash(StoreId),
    /// `Assets:InterStore:<creditor>:<debtor>`: owed to `creditor` by `debtor`.
    InterStoreReceivable {
        /// The store owed.
        creditor: StoreId,
        /// The store that owes.
        debtor: StoreId,
    },
    /// `Liabilities:Principal:<member>`.
    Principal(MemberId),
    /// `Liabilities:Bonus:<member>`.
    Bonus(MemberId),
    /// `Liabilities:Package:<member>`.
    Package(MemberId),
    /// `Liabilities:InterStore:<debtor>:<creditor>`: owed by `debtor` to `creditor`.
    InterStorePayable {
        /// The store that owes.
        debtor: StoreId,
        /// The store owed.
        creditor: StoreId,
    },
    /// `Income:Services:<store>`.
    Services(StoreId),
    /// `Income:Breakage:<store>`.
    Breakage(StoreId),
    /// `Income:Clawback:<store>`.
    Clawback(StoreId),
    /// `Expenses:Promotion:<store>`.
    Promotion(StoreId),
    /// `Expenses:Adjustments:<store>`: corrections by hand, kept apart for review.
    Adjustments(StoreId),
    /// `Equity:OpeningBalances:<store>`: balances carried over from another system
    /// (`balance_opened`), by origin store.
    OpeningBalances(StoreId),
    /// `Assets:Receivable:<method>:<store>`: owed to the store by the provider of a payment
    /// method other than cash.
    Receivable {
        /// The payment method (`wechat`, `alipay`, `bank_card`, …).
        method: String,
        /// The store paid.
        store: StoreId,
    },
    /// `Expenses:Loyalty:<store>`: what the store gave for points.
    Loyalty(StoreId),
}

impl Account {
    /// Where a part paid by `method` at `store` is booked: the till for cash, else what the
    /// method's provider owes the store.
    pub fn external(method: &str, store: &StoreId) -> Account {
        if method == crate::event::CASH_METHOD {
            Account::Cash(store.clone())
        } else {
            Account::Receivable {
                method: method.to_owned(),
                store: store.clone(),
            }
        }
    }
}

impl Account {
    /// The account's name as segments: the root, the kind, then ids.
    pub fn segments(&self) -> Vec<&str> {
        match self {
            Account::Cash(s) => vec!["Assets", "Cash", s.as_str()],
            Account::InterStoreReceivable { creditor, debtor } => {
                vec!["Assets", "InterStore", creditor.as_str(), debtor.as_str()]
            }
            Account::Principal(m) => vec!["Liabilities", "Principal", m.as_str()],
            Account::Bonus(m) => vec!["Liabilities", "Bonus", m.as_str()],
            Account::Package(m) => vec!["Liabilities", "Package", m.as_str()],
            Account::InterStorePayable { debtor, creditor } => {
                vec![
                    "Liabilities",
                    "InterStore",
                    debtor.as_str(),
                    creditor.as_str(),
                ]
            }
            Account::Services(s) => vec!["Income", "Services", s.as_str()],
            Account::Breakage(s) => vec!["Income", "Breakage", s.as_str()],
            Account::Clawback(s) => vec!["Income", "Clawback", s.as_str()],
            Account::Promotion(s) => vec!["Expenses", "Promotion", s.as_str()],
            Account::Adjustments(s) => vec!["Expenses", "Adjustments", s.as_str()],
            Account::OpeningBalances(s) => vec!["Equity", "OpeningBalances", s.as_str()],
            Account::Receivable { method, store } => {
                vec!["Assets", "Receivable", method.as_str(), store.as_str()]
            }
            Account::Loyalty(s) => vec!["Expenses", "Loyalty", s.as_str()],
        }
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments().join(":"))
    }
}

/// One line of a journal entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posting {
    /// The account.
    pub account: Account,
    /// Signed cents: debit positive, credit negative.
    pub cents: i64,
}

/// Collects postings, merging lines of the same account and dropping those that net to zero.
#[derive(Default)]
struct Entry(Vec<Posting>);

impl Entry {
    fn post(&mut self, account: Account, cents: i64) {
        match self.0.iter_mut().find(|p| p.account == account) {
            Some(p) => p.cents += cents,
            None => self.0.push(Posting { account, cents }),
        }
    }

    /// Books `cents` of principal drawn from a lot collected at `origin` against a service or
    /// payout at `at_store`: `origin` owes `at_store` (a negative amount reverses it).
    fn clear(&mut self, origin: &StoreId, at_store: &StoreId, cents: i64) {
        if origin != at_store {
            self.post(
                Account::InterStoreReceivable {
                    creditor: at_store.clone(),
                    debtor: origin.clone(),
                },
                cents,
            );
            self.post(
                Account::InterStorePayable {
                    debtor: origin.clone(),
                    creditor: at_store.clone(),
                },
                -cents,
            );
        }
    }

    /// Books lots drawn to pay at `store` (a consumption, a package from the balance): each
    /// lot's liability goes down, and principal collected at another store clears to `store`.
    fn spend(&mut self, member: &MemberId, store: &StoreId, draws: &[Draw]) {
        for d in draws {
            match d.kind {
                LotKind::Principal => {
                    self.post(Account::Principal(member.clone()), d.amount.cents());
                    self.clear(&d.origin_store, store, d.amount.cents());
                }
                LotKind::Bonus => self.post(Account::Bonus(member.clone()), d.amount.cents()),
            }
        }
    }

    fn finish(mut self) -> Vec<Posting> {
        self.0.retain(|p| p.cents != 0);
        self.0
    }
}

/// The journal entry an event posts. Derived from the event alone; balanced (checked by
/// [`check_balanced`] here and again by `verify` when read back). Events that move no money
/// (enrollment, tier changes, points) post nothing.
pub fn postings(event: &Event) -> Vec<Posting> {
    let mut out = Vec::new();
    postings_into(event, &mut out);
    out
}

/// [`postings`] into `out`, emptied first: its room is kept from one event to the next (what
/// `verify` does for every event of the log).
pub fn postings_into(event: &Event, out: &mut Vec<Posting>) {
    out.clear();
    let member = &event.member;
    let store = &event.store;
    let mut e = Entry(std::mem::take(out));
    match &event.body {
        EventBody::Recharged(Recharged { amount, .. }) => {
            e.post(Account::Cash(store.clone()), amount.cents());
            e.post(Account::Principal(member.clone()), -amount.cents());
        }
        EventBody::BonusGranted(BonusGranted { amount, .. }) => {
            e.post(Account::Promotion(store.clone()), amount.cents());
            e.post(Account::Bonus(member.clone()), -amount.cents());
        }
        EventBody::Consumed(b) => e.consumed(member, store, b),
        EventBody::ConsumptionRefunded(b) => e.consumption_refunded(member, b),
        EventBody::BalanceRefunded(b) => e.balance_refunded(member, store, b),
        EventBody::BonusExpired(BonusExpired {
            amount,
            origin_store,
            ..
        }) => {
            e.post(Account::Bonus(member.clone()), amount.cents());
            e.post(Account::Breakage(origin_store.clone()), -amount.cents());
        }
        EventBody::Adjusted(b) => e.adjusted(member, store, b),
        EventBody::PackagePurchased(b) => e.package_purchased(member, store, b),
        EventBody::SessionRedeemed(SessionRedeemed {
            amount,
            origin_store,
            principal,
            ..
        }) => {
            e.post(Account::Package(member.clone()), amount.cents());
            e.post(Account::Services(store.clone()), -amount.cents());
            e.clear(origin_store, store, principal.cents());
        }
        EventBody::PackageRefunded(b) => e.package_refunded(member, store, b),
        EventBody::BalanceOpened(b) => e.balance_opened(member, b),
        EventBody::PackageExpired(PackageExpired {
            amount,
            origin_store,
            ..
        }) => {
            e.post(Account::Package(member.clone()), amount.cents());
            e.post(Account::Breakage(origin_store.clone()), -amount.cents());
        }
        EventBody::PointsRedeemed(PointsRedeemed { given: Some(g), .. }) => {
            // Points are not money, but what the store gave for them is: its value is a
            // loyalty expense, and the service (or goods) delivered is the store's revenue.
            e.post(Account::Loyalty(store.clone()), g.value.cents());
            e.post(Account::Services(store.clone()), -g.value.cents());
        }
        EventBody::Settled(b) => e.settled(store, b),
        // Points are not money, and a freeze moves none; nor do cards, nor holds until a
        // capture's `consumed` event books the charge, nor a coupon until a visit redeems it
        // (no liability), nor a granted package (no price: its sessions book no revenue).
        EventBody::CardLinked { .. }
        | EventBody::CardReportedLost { .. }
        | EventBody::CardReplaced { .. }
        | EventBody::CardUnlinked { .. }
        | EventBody::CardUsed { .. }
        | EventBody::HoldAuthorized { .. }
        | EventBody::HoldCaptured { .. }
        | EventBody::HoldVoided { .. }
        | EventBody::HoldExpired { .. }
        | EventBody::MemberEnrolled { .. }
        | EventBody::TierChanged { .. }
        | EventBody::PointsExpired { .. }
        | EventBody::PointsRedeemed(PointsRedeemed { given: None, .. })
        | EventBody::MemberFrozen { .. }
        | EventBody::MemberUnfrozen { .. }
        | EventBody::PolicyPublished { .. }
        | EventBody::PeriodClosed { .. }
        | EventBody::CouponIssued { .. }
        | EventBody::PackageGranted { .. } => {}
    }
    *out = e.finish();
}

impl Entry {
    /// A settlement: the debtor (the event's store) pays cash to the creditor, and the debt
    /// between them goes down.
    fn settled(&mut self, store: &StoreId, b: &Settled) {
        let cents = b.amount.cents();
        self.post(Account::Cash(store.clone()), -cents);
        self.post(Account::Cash(b.creditor.clone()), cents);
        self.clear(store, &b.creditor, -cents);
    }

    /// A visit: the card's part drawn by the spend order, any part paid outside the card to
    /// its method's account, the whole charge the store's service revenue.
    fn consumed(&mut self, member: &MemberId, store: &StoreId, b: &Consumed) {
        self.spend(member, store, &b.draws);
        if let Some(x) = &b.external {
            self.post(Account::external(&x.method, store), x.amount.cents());
        }
        // A coupon's discount is the store's promotion expense, so revenue shows the full
        // charge at the tier's discount.
        let discount = b.coupon.as_ref().map_or(0, |c| c.discount.cents());
        self.post(Account::Promotion(store.clone()), discount);
        self.post(
            Account::Services(store.clone()),
            -(b.charged.cents() + discount),
        );
    }

    /// An opening balance: each lot's and package's liability against the opening equity of
    /// the store that holds its cash or granted it.
    fn balance_opened(&mut self, member: &MemberId, b: &BalanceOpened) {
        let opened = b
            .principal
            .iter()
            .map(|l| {
                (
                    Account::Principal(member.clone()),
                    &l.origin_store,
                    l.amount,
                )
            })
            .chain(
                b.bonus
                    .iter()
                    .map(|l| (Account::Bonus(member.clone()), &l.origin_store, l.amount)),
            )
            .chain(
                b.packages
                    .iter()
                    .map(|p| (Account::Package(member.clone()), &p.origin_store, p.price)),
            );
        for (liability, origin, amount) in opened {
            self.post(Account::OpeningBalances(origin.clone()), amount.cents());
            self.post(liability, -amount.cents());
        }
    }

    /// A consumption refund: the service's revenue goes down, each restored lot's liability
    /// up (or, past its expiry, the store that granted it keeps it as breakage).
    fn consumption_refunded(&mut self, member: &MemberId, b: &ConsumptionRefunded) {
        let service_store = &b.service_store;
        self.post(Account::Services(service_store.clone()), b.amount.cents());
        if let Some(c) = &b.coupon {
            // The visit is undone: its coupon's discount is no longer revenue nor expense.
            self.post(Account::Services(service_store.clone()), c.discount.cents());
            self.post(
                Account::Promotion(service_store.clone()),
                -c.discount.cents(),
            );
        }
        if let Some(x) = &b.external {
            // Paid back by the method it came in, at the store that took it.
            self.post(
                Account::external(&x.method, service_store),
                -x.amount.cents(),
            );
        }
        for r in &b.restored {
            let cents = r.amount.cents();
            match (r.kind, r.forfeited) {
                (_, true) => self.post(Account::Breakage(r.origin_store.clone()), -cents),
                (LotKind::Principal, false) => {
                    self.post(Account::Principal(member.clone()), -cents)
                }
                (LotKind::Bonus, false) => self.post(Account::Bonus(member.clone()), -cents),
            }
            if r.kind == LotKind::Principal {
                self.clear(&r.origin_store, service_store, -cents);
            }
        }
    }

    /// A balance refund: the payout is allocated to principal lots in the order drawn; what a
    /// lot does not pay out is kept by the store that holds its cash, as claw-back income.
    fn balance_refunded(&mut self, member: &MemberId, store: &StoreId, b: &BalanceRefunded) {
        let mut to_pay = b.payout;
        for d in &b.draws {
            let cents = d.amount.cents();
            match d.kind {
                LotKind::Principal => {
                    self.post(Account::Principal(member.clone()), cents);
                    let paid = d.amount.min(to_pay);
                    to_pay = to_pay.minus(paid);
                    self.post(Account::Cash(store.clone()), -paid.cents());
                    self.clear(&d.origin_store, store, paid.cents());
                    self.post(
                        Account::Clawback(d.origin_store.clone()),
                        -(cents - paid.cents()),
                    );
                }
                LotKind::Bonus => {
                    self.post(Account::Bonus(member.clone()), cents);
                    self.post(Account::Breakage(d.origin_store.clone()), -cents);
                }
            }
        }
    }

    /// A correction of money (a points correction posts nothing).
    fn adjusted(&mut self, member: &MemberId, store: &StoreId, b: &Adjusted) {
        let Some(amount) = b.amount.filter(|_| b.balance != Balance::Points) else {
            return;
        };
        let liability = if b.balance == Balance::Principal {
            Account::Principal(member.clone())
        } else {
            Account::Bonus(member.clone())
        };
        let cents = match b.direction {
            Direction::Credit => amount.cents(),
            Direction::Debit => -amount.cents(),
        };
        self.post(Account::Adjustments(store.clone()), cents);
        self.post(liability, -cents);
    }

    /// A package bought: cash taken at the store, or balance moved into the package (any part
    /// paid outside the card to its method's account); principal drawn from another store's
    /// lots clears to the selling store, which now owes the sessions.
    fn package_purchased(&mut self, member: &MemberId, store: &StoreId, b: &PackagePurchased) {
        self.post(Account::Cash(store.clone()), b.cash.cents());
        self.spend(member, store, &b.draws);
        if let Some(x) = &b.external {
            self.post(Account::external(&x.method, store), x.amount.cents());
        }
        self.post(Account::Package(member.clone()), -b.price.cents());
    }

    /// A package refund: paid out in cash (the bonus share forfeited) or back to the balance
    /// (the bonus share forfeited when past its expiry).
    fn package_refunded(&mut self, member: &MemberId, store: &StoreId, b: &PackageRefunded) {
        let (origin_store, principal, bonus) = (&b.origin_store, b.principal, b.bonus);
        self.post(Account::Package(member.clone()), b.amount.cents());
        if let Some(x) = &b.external {
            // Paid back by the method it came in, by the store that took it.
            self.post(
                Account::external(&x.method, origin_store),
                -x.amount.cents(),
            );
        }
        match b.to {
            PaidFrom::Cash => {
                self.post(Account::Cash(store.clone()), -principal.cents());
                self.clear(origin_store, store, principal.cents());
                self.post(Account::Breakage(origin_store.clone()), -bonus.cents());
            }
            PaidFrom::Balance => {
                self.post(Account::Principal(member.clone()), -principal.cents());
                if b.bonus_lot.is_some() {
                    self.post(Account::Bonus(member.clone()), -bonus.cents());
                } else {
                    // Past its expiry: forfeited.
                    self.post(Account::Breakage(origin_store.clone()), -bonus.cents());
                }
            }
        }
    }
}

/// Checks that postings sum to zero.
pub fn check_balanced(postings: &[Posting]) -> Result<(), String> {
    let sum: i128 = postings.iter().map(|p| i128::from(p.cents)).sum();
    if sum != 0 {
        return Err(format!(
            "the entry does not balance: debits and credits differ by {}",
            format_cents(sum)
        ));
    }
    Ok(())
}

/// Signed cents as a decimal with two places: `-1006` → `"-10.06"`. Takes any integer up to
/// `i128`, so sums over a whole chain print without overflow.
pub fn format_cents(cents: impl Into<i128>) -> String {
    let cents: i128 = cents.into();
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

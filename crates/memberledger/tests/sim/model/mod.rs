//! The reference model: what docs/RULES.md (§6-§21) says a ledger with the built-in policy holds, written
//! from the rules alone, in whole cents and seconds. It never calls `decide` or `apply`.
//!
//! Per member: principal lots (first-in first-out), bonus lots with expiry, point lots with
//! expiry, the tier, whether the card is frozen, the open consumptions (for refunds), the
//! packages bought (sessions and value left, by how they were paid), the bonus spent (for the
//! claw-back) and the recharges of the last 365 days (for upgrades). Between stores: what each
//! owes each.
//! Lots are numbered as docs/RULES.md §6 numbers them (one sequence per member for principal, bonus
//! and point lots), so the model's lots can be compared one for one with the ledger's.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use memberledger::Uuid;

use super::spec::{Bal, Kind, Spec};

mod member;

pub const DAY: i64 = 86_400;
const BONUS_EXPIRY: i64 = 365 * DAY;
const POINTS_EXPIRY: i64 = 730 * DAY;
const UPGRADE_WINDOW: i64 = 365 * DAY;

/// DEFAULT_POLICY_JSON's `freeze`: a frozen card may still be recharged (and sold a package for
/// cash), and refunded. Spending is always refused.
pub const FREEZE_ALLOWS_RECHARGE: bool = true;
pub const FREEZE_ALLOWS_REFUNDS: bool = true;

/// Where a refunded package's value goes (`packages.refund_to`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundTo {
    /// The way it was paid.
    Original,
    Cash,
    Balance,
}

/// DEFAULT_POLICY_JSON's `packages.refund_to`.
pub const PACKAGE_REFUND_TO: RefundTo = RefundTo::Original;

/// A tier of the built-in policy.
pub struct TierDef {
    pub name: &'static str,
    /// The discount in hundredths (`0.95` → 95).
    pub discount: i64,
    /// Points per yuan in tenths (`1.5` → 15).
    pub points_x10: i64,
    /// Upgrade conditions in cents: one recharge of at least, or within 365 days at least.
    pub single: i64,
    pub within: i64,
}

/// DEFAULT_POLICY_JSON's tiers, lowest first.
pub const TIERS: [TierDef; 4] = [
    TierDef {
        name: "standard",
        discount: 100,
        points_x10: 10,
        single: i64::MAX,
        within: i64::MAX,
    },
    TierDef {
        name: "silver",
        discount: 95,
        points_x10: 10,
        single: 200_000,
        within: 500_000,
    },
    TierDef {
        name: "gold",
        discount: 90,
        points_x10: 15,
        single: 500_000,
        within: 1_000_000,
    },
    TierDef {
        name: "diamond",
        discount: 85,
        points_x10: 20,
        single: 2_000_000,
        within: 3_000_000,
    },
];

/// The recharge-bonus ladder: (min, fixed bonus, rate in percent, gold and diamond only).
const LADDER: [(i64, i64, i64, bool); 5] = [
    (50_000, 5_000, 0, false),
    (100_000, 15_000, 0, false),
    (300_000, 50_000, 0, false),
    (500_000, 100_000, 0, false),
    (1_000_000, 0, 25, true),
];

pub fn tier_index(name: &str) -> Option<usize> {
    TIERS.iter().position(|t| t.name == name)
}

/// `num / den` rounded half up (`num >= 0`, `den > 0`).
fn half_up(num: i128, den: i128) -> i64 {
    assert!(num >= 0 && den > 0);
    let q = num / den;
    let r = num % den;
    i64::try_from(q + i128::from(2 * r >= den)).expect("cents fit")
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lot {
    pub lot: u32,
    pub store: String,
    pub cents: i64,
    pub expires: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointLot {
    pub lot: u32,
    pub points: u64,
    pub expires: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drawn {
    pub principal: bool,
    pub lot: u32,
    pub store: String,
    pub expires: Option<i64>,
    pub cents: i64,
    pub restored: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumption {
    /// The order consumptions were made in (the generator picks by it, not by id).
    pub seq: u64,
    pub store: String,
    pub charged: i64,
    pub principal: i64,
    pub bonus: i64,
    pub refunded: i64,
    pub principal_restored: i64,
    pub bonus_restored: i64,
    pub draws: Vec<Drawn>,
    pub points_earned: u64,
    pub points_reversed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PkgStatus {
    Open,
    Used,
    Refunded,
    Expired,
}

impl PkgStatus {
    pub fn name(self) -> &'static str {
        match self {
            PkgStatus::Open => "open",
            PkgStatus::Used => "used",
            PkgStatus::Refunded => "refunded",
            PkgStatus::Expired => "expired",
        }
    }
}

/// A package (次卡/疗程卡): sessions of a service, with the value not yet recognised split by
/// what funded it (cash or principal, and bonus).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// The store that sold it.
    pub store: String,
    pub cash: bool,
    pub sessions: u32,
    pub sessions_left: u32,
    /// `floor(price / sessions)`: every session but the last.
    pub session_price: i64,
    pub price: i64,
    pub bonus_paid: i64,
    pub principal_left: i64,
    pub bonus_left: i64,
    pub expires: Option<i64>,
    /// The earliest expiry of the bonus lots that paid for it: the bonus share refunded to
    /// the balance keeps it.
    pub bonus_expires: Option<i64>,
    /// The bonus it drew that still counts in `bonus_spent`: zero once a balance refund
    /// settled the period it was bought in.
    pub bonus_counted: i64,
    pub status: PkgStatus,
}

impl Package {
    pub fn value_left(&self) -> i64 {
        self.principal_left + self.bonus_left
    }

    /// Closed packages hold nothing.
    fn close(&mut self, status: PkgStatus) {
        self.status = status;
        self.sessions_left = 0;
        self.principal_left = 0;
        self.bonus_left = 0;
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub home: String,
    pub tier: usize,
    pub last_at: i64,
    pub version: u64,
    pub next_lot: u32,
    pub principal: Vec<Lot>,
    pub bonus: Vec<Lot>,
    pub points: Vec<PointLot>,
    pub consumptions: BTreeMap<Uuid, Consumption>,
    pub frozen: bool,
    /// Every package bought, by its purchase command's id.
    pub packages: BTreeMap<Uuid, Package>,
    pub bonus_spent: i64,
    /// Principal recharged (+) and refunded (−), by time.
    pub window: Vec<(i64, i64)>,
}

impl Member {
    pub fn principal_total(&self) -> i64 {
        self.principal.iter().map(|l| l.cents).sum()
    }

    pub fn bonus_total(&self) -> i64 {
        self.bonus.iter().map(|l| l.cents).sum()
    }

    pub fn points_total(&self) -> u64 {
        self.points.iter().map(|l| l.points).sum()
    }

    /// The value left in open packages.
    pub fn package_value(&self) -> i64 {
        self.packages.values().map(Package::value_left).sum()
    }

    fn new_lot(&mut self) -> u32 {
        let n = self.next_lot;
        self.next_lot += 1;
        n
    }

    /// Lots and open packages due at `at` expire; returns how many events that records.
    fn expire(&mut self, at: i64) -> u64 {
        let before = self.bonus.len() + self.points.len();
        self.bonus.retain(|l| l.expires.is_none_or(|e| e > at));
        self.points.retain(|l| l.expires.is_none_or(|e| e > at));
        let mut n = u64::try_from(before - self.bonus.len() - self.points.len()).expect("few");
        for p in self.packages.values_mut() {
            if p.status == PkgStatus::Open && p.expires.is_some_and(|e| e <= at) {
                p.close(PkgStatus::Expired);
                n += 1;
            }
        }
        n
    }

    /// Pays `charged` from the balance (a consumption, a package): bonus part
    /// `round(charged × B / (P + B))` clamped to what each balance can pay, principal drawn
    /// first-in first-out, bonus earliest expiry first. Returns (principal, bonus, draws).
    fn pay(&mut self, charged: i64) -> Result<(i64, i64, Vec<Drawn>), &'static str> {
        let (p, b) = (self.principal_total(), self.bonus_total());
        if charged > p + b {
            return Err("insufficient_balance");
        }
        let low = (charged - p).max(0);
        let high = b.min(charged);
        let bonus = half_up(i128::from(charged) * i128::from(b), i128::from(p + b))
            .max(low)
            .min(high);
        let principal = charged - bonus;
        let order: Vec<usize> = (0..self.principal.len()).collect();
        let mut draws = draw(&mut self.principal, &order, principal, true);
        let order = bonus_order(&self.bonus);
        draws.extend(draw(&mut self.bonus, &order, bonus, false));
        Ok((principal, bonus, draws))
    }

    /// Spends points, earliest expiry first (then lot order; lots without expiry last).
    fn spend_points(&mut self, want: u64) -> Result<(), &'static str> {
        if want > self.points_total() {
            return Err("insufficient_points");
        }
        let mut order: Vec<usize> = (0..self.points.len()).collect();
        order.sort_by_key(|&i| {
            let l = &self.points[i];
            (l.expires.is_none(), l.expires, l.lot)
        });
        let mut owed = want;
        for i in order {
            let take = self.points[i].points.min(owed);
            self.points[i].points -= take;
            owed -= take;
        }
        self.points.retain(|l| l.points > 0);
        Ok(())
    }

    fn give_back(&mut self, principal: bool, d: &Drawn, cents: i64) {
        let lots = if principal {
            &mut self.principal
        } else {
            &mut self.bonus
        };
        match lots.iter_mut().find(|l| l.lot == d.lot) {
            Some(l) => l.cents += cents,
            None => {
                let at = lots
                    .iter()
                    .position(|l| l.lot > d.lot)
                    .unwrap_or(lots.len());
                lots.insert(
                    at,
                    Lot {
                        lot: d.lot,
                        store: d.store.clone(),
                        cents,
                        expires: d.expires,
                    },
                );
            }
        }
    }
}

/// Bonus lots in spend order: earliest expiry first, then lot order, lots without expiry last.
fn bonus_order(lots: &[Lot]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..lots.len()).collect();
    order.sort_by_key(|&i| {
        let l = &lots[i];
        (l.expires.is_none(), l.expires, l.lot)
    });
    order
}

/// Takes `want` from lots in the order given by `order` (indexes into `lots`), dropping emptied
/// lots, and returns the draws.
fn draw(lots: &mut Vec<Lot>, order: &[usize], mut want: i64, principal: bool) -> Vec<Drawn> {
    let mut out = Vec::new();
    for &i in order {
        if want == 0 {
            break;
        }
        let l = &mut lots[i];
        let take = l.cents.min(want);
        if take > 0 {
            want -= take;
            l.cents -= take;
            out.push(Drawn {
                principal,
                lot: l.lot,
                store: l.store.clone(),
                expires: l.expires,
                cents: take,
                restored: 0,
            });
        }
    }
    assert_eq!(want, 0, "model: lots cover a checked amount");
    lots.retain(|l| l.cents > 0);
    out
}

/// What the model says of a command.
#[derive(Debug)]
pub enum Verdict {
    /// Recorded, with the number of events it records.
    Accept(Box<Change>, u64),
    /// A retry of a recorded command: its original receipt, nothing recorded.
    Replay,
    /// Refused with this code, nothing recorded.
    Reject(&'static str),
}

/// The effect of an accepted command.
#[derive(Debug)]
pub struct Change {
    member: Option<(String, Member)>,
    debts: Vec<(String, String, i64)>,
    /// The command's time: when its debts moved.
    at: i64,
    settled_at: Option<i64>,
    consumed: bool,
}

/// The commands recorded so far, by id (the base), plus those recorded earlier in the step
/// being checked (the overlay).
pub struct Ids<'a, R> {
    pub base: &'a HashMap<Uuid, R>,
    pub spec_of: fn(&R) -> &Spec,
    pub overlay: &'a [&'a Spec],
}

impl<R> Ids<'_, R> {
    fn get(&self, id: Uuid) -> Option<&Spec> {
        self.overlay
            .iter()
            .rev()
            .find(|s| s.id == id)
            .copied()
            .or_else(|| self.base.get(&id).map(self.spec_of))
    }
}

/// The whole brand. Members sit behind `Arc` so a snapshot per step is cheap.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub members: BTreeMap<String, Arc<Member>>,
    /// Net debt between two stores, keyed (a, b) with a < b: positive when a owes b.
    pub debts: BTreeMap<(String, String), i64>,
    pub settled_at: Option<i64>,
    /// The latest time debt moved between two stores, keyed (a, b) with a < b.
    pub moved_at: BTreeMap<(String, String), i64>,
    /// Consumptions made so far (their `seq`).
    pub consumptions_made: u64,
    /// The ledger's clock (seconds): a command dated more than [`MAX_SKEW_SECS`] after it is
    /// refused as `future_time`.
    pub now: i64,
}

/// The ledger's default skew: commands may be dated up to an hour ahead of its clock.
pub const MAX_SKEW_SECS: i64 = 3_600;

impl Model {
    pub fn member(&self, m: &str) -> Option<&Member> {
        self.members.get(m).map(AsRef::as_ref)
    }

    /// What `debtor` owes `creditor` on the net (never below zero).
    pub fn owed(&self, debtor: &str, creditor: &str) -> i64 {
        if debtor == creditor {
            return 0;
        }
        let net = if debtor < creditor {
            self.debts
                .get(&(debtor.to_owned(), creditor.to_owned()))
                .copied()
                .unwrap_or(0)
        } else {
            -self
                .debts
                .get(&(creditor.to_owned(), debtor.to_owned()))
                .copied()
                .unwrap_or(0)
        };
        net.max(0)
    }

    fn add_debt(debts: &mut BTreeMap<(String, String), i64>, d: &str, c: &str, cents: i64) {
        if d == c || cents == 0 {
            return;
        }
        let (key, signed) = if d < c {
            ((d.to_owned(), c.to_owned()), cents)
        } else {
            ((c.to_owned(), d.to_owned()), -cents)
        };
        *debts.entry(key).or_insert(0) += signed;
    }

    /// Judges a command against the state, without changing it.
    pub fn judge<R>(&self, spec: &Spec, ids: &Ids<'_, R>) -> Verdict {
        // Idempotency comes first: a recorded id is a replay or a conflict, whatever else.
        if let Some(first) = ids.get(spec.id) {
            return if first.same_content(spec) {
                Verdict::Replay
            } else {
                Verdict::Reject("idempotency_conflict")
            };
        }
        if spec.at > self.now + MAX_SKEW_SECS {
            return Verdict::Reject("future_time");
        }
        let result = match &spec.member {
            None => self.settle(spec),
            Some(m) => self.member_command(m, spec),
        };
        match result {
            Ok((change, events)) => Verdict::Accept(Box::new(change), events),
            Err(code) => Verdict::Reject(code),
        }
    }

    pub fn commit(&mut self, change: Change) {
        if let Some((m, state)) = change.member {
            self.members.insert(m, Arc::new(state));
        }
        // A movement is what the command posts to one store's debt to another, net.
        let mut moved: BTreeMap<(String, String), i64> = BTreeMap::new();
        for (d, c, cents) in &change.debts {
            if d != c {
                *moved.entry((d.clone(), c.clone())).or_insert(0) += cents;
            }
        }
        for ((d, c), _) in moved.into_iter().filter(|(_, net)| *net != 0) {
            let pair = if d < c { (d, c) } else { (c, d) };
            let t = self.moved_at.entry(pair).or_insert(change.at);
            *t = (*t).max(change.at);
        }
        for (d, c, cents) in change.debts {
            Model::add_debt(&mut self.debts, &d, &c, cents);
        }
        self.debts.retain(|_, v| *v != 0);
        if let Some(at) = change.settled_at {
            self.settled_at = Some(at);
        }
        self.consumptions_made += u64::from(change.consumed);
    }

    /// A correction by hand: a credit opens a lot (bonus and points expire as the policy
    /// says), a debit draws like a consumption would and may not exceed what is held.
    fn adjust(
        w: &mut Member,
        balance: Bal,
        credit: bool,
        qty: i64,
        spec: &Spec,
    ) -> Result<(), &'static str> {
        let at = spec.at;
        match (credit, balance) {
            (true, Bal::Points) => {
                let lot = w.new_lot();
                w.points.push(PointLot {
                    lot,
                    points: u64::try_from(qty).expect("positive"),
                    expires: Some(at + POINTS_EXPIRY),
                });
            }
            (true, b) => {
                let lot = w.new_lot();
                let l = Lot {
                    lot,
                    store: spec.store.clone(),
                    cents: qty,
                    expires: (b == Bal::Bonus).then_some(at + BONUS_EXPIRY),
                };
                if b == Bal::Principal {
                    w.principal.push(l);
                } else {
                    w.bonus.push(l);
                }
            }
            (false, Bal::Points) => w.spend_points(u64::try_from(qty).expect("positive"))?,
            (false, Bal::Principal) => {
                if qty > w.principal_total() {
                    return Err("insufficient_balance");
                }
                let order: Vec<usize> = (0..w.principal.len()).collect();
                draw(&mut w.principal, &order, qty, true);
            }
            (false, Bal::Bonus) => {
                if qty > w.bonus_total() {
                    return Err("insufficient_balance");
                }
                let order = bonus_order(&w.bonus);
                draw(&mut w.bonus, &order, qty, false);
            }
        }
        Ok(())
    }

    fn settle(&self, spec: &Spec) -> Result<(Change, u64), &'static str> {
        let Kind::Settle { to, cents } = &spec.kind else {
            unreachable!("only settlements have no member")
        };
        if *to == spec.store {
            return Err("invalid_command");
        }
        if self.settled_at.is_some_and(|t| spec.at < t) {
            return Err("out_of_order");
        }
        // Never dated before the pair's last movement (issue 11, item 8).
        let pair = if spec.store < *to {
            (spec.store.clone(), to.clone())
        } else {
            (to.clone(), spec.store.clone())
        };
        if self.moved_at.get(&pair).is_some_and(|t| spec.at < *t) {
            return Err("out_of_order");
        }
        let owed = self.owed(&spec.store, to);
        let amount = cents.unwrap_or(owed);
        if amount == 0 || amount > owed {
            return Err("settlement_exceeds_owed");
        }
        Ok((
            Change {
                member: None,
                debts: vec![(spec.store.clone(), to.clone(), -amount)],
                at: spec.at,
                settled_at: Some(spec.at),
                consumed: false,
            },
            1,
        ))
    }
}

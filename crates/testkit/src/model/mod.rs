//! The reference model: what docs/RULES.md §2-§21 say a ledger with the built-in policy holds, written
//! from the design alone, in whole cents and seconds. It never calls `decide` or `apply`.
//!
//! Per member: principal lots (first-in first-out), bonus lots with expiry, point lots with
//! expiry, the tier, whether the card is frozen, the open consumptions (for refunds), the
//! packages bought (sessions and value left, by how they were paid), the bonus spent (for the
//! claw-back) and the recharges of the last 365 days (for upgrades). Between stores: what each
//! owes each.
//! Lots are numbered as the design numbers them (one sequence per member for principal, bonus
//! and point lots), so the model's lots can be compared one for one with the ledger's.
//!
//! Commands reach it as a [`Spec`]: the content of a command in cents and seconds, which
//! writes itself as the wire form ([`Spec::render`]) and converts to the real
//! [`Command`](memberledger::domain::Command) ([`Spec::command`]). [`Model::judge`] says what
//! the ledger must answer ([`Verdict`]); [`Model::commit`] records an accepted command.
//!
//! ```
//! use memberledger::Uuid;
//! use memberledger_testkit::model::{Ids, Kind, Model, Spec, Verdict};
//! use std::collections::HashMap;
//!
//! let mut model = Model { now: 1_767_225_600, ..Model::default() };
//! let spec = |n: u128, kind: Kind| Spec {
//!     id: Uuid::from_u128(n),
//!     at: 1_767_225_600,
//!     member: Some("M1".to_owned()),
//!     store: "S1".to_owned(),
//!     kind,
//! };
//! let recorded: HashMap<Uuid, Spec> = HashMap::new();
//! let ids = Ids { base: &recorded, spec_of: |s| s, overlay: &[] };
//! let Verdict::Accept(change, 1) = model.judge(&spec(1, Kind::Enroll { tier: None }), &ids) else {
//!     panic!("a new member enrols");
//! };
//! model.commit(*change);
//! let consume = spec(2, Kind::Consume { cents: 100, staff: None, service: None, external: None });
//! assert!(matches!(model.judge(&consume, &ids), Verdict::Reject("insufficient_balance")));
//! // The same command as the ledger's own type.
//! assert_eq!(consume.command().unwrap().id, Uuid::from_u128(2));
//! ```
//!
//! Why it is written again rather than calling the core: a model that calls `decide` agrees
//! with it by construction. This one is written from docs/RULES.md alone, for the built-in
//! policy only (DEFAULT_POLICY_JSON), so the simulation and the property tests compare two
//! independent readings of the rules.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use memberledger::Uuid;

mod decide;
mod from_command;
mod member;
mod opening;
mod policy;
mod spec;

pub use member::{
    CardState, Consumption, Coupon, Drawn, Held, Lot, Member, Off, Package, PkgStatus, PointLot,
};
pub use opening::OpeningSpec;
pub use policy::{
    tier_index, RefundTo, TierDef, VisitRule, BONUS_EXPIRY, DAY, FREEZE_ALLOWS_RECHARGE,
    FREEZE_ALLOWS_REFUNDS, PACKAGE_REFUND_TO, POINTS_EXPIRY, TIERS, UPGRADE_WINDOW, VISIT_RULES,
    VISIT_RULES_JSON,
};
pub use spec::{
    money, render_fields, time, timestamp, Bal, Ext, ExtAmount, Gift, Kind, Offer, Spec, Spelling,
};

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
    /// A period's close: the new end of the closed periods.
    closes: Option<i64>,
}

/// The commands recorded so far, by id (the base), plus those recorded earlier in the step
/// being checked (the overlay).
pub struct Ids<'a, R> {
    /// The commands recorded before the step, by id.
    pub base: &'a HashMap<Uuid, R>,
    /// How to read a recorded command's spec.
    pub spec_of: fn(&R) -> &Spec,
    /// Commands recorded earlier in the step, oldest first.
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
    /// Every member, by id.
    pub members: BTreeMap<String, Arc<Member>>,
    /// Net debt between two stores, keyed (a, b) with a < b: positive when a owes b.
    pub debts: BTreeMap<(String, String), i64>,
    /// The time of the latest settlement.
    pub settled_at: Option<i64>,
    /// The latest time debt moved between two stores, keyed (a, b) with a < b.
    pub moved_at: BTreeMap<(String, String), i64>,
    /// Consumptions made so far (their `seq`).
    pub consumptions_made: u64,
    /// The ledger's clock (seconds): a command dated more than [`MAX_SKEW_SECS`] after it is
    /// refused as `future_time`.
    pub now: i64,
    /// The policy's `late_window_hours` in seconds: a member's command this much older than
    /// the member's last event, or less, takes effect at that event's time; `None` (the
    /// built-in policy): every older command is `out_of_order`.
    pub late_window: Option<i64>,
    /// The policy adds [`VISIT_RULES`](policy::VISIT_RULES) to the built-in tiers (upgrades
    /// on spending and visits, retain rules for the tier review); `false` for the built-in
    /// policy, whose tiers upgrade on recharges alone and are never reviewed down.
    pub visit_tiers: bool,
    /// The end of the closed periods (`close_period`): no command dated at or before it takes
    /// effect (`period_closed`).
    pub closed_through: Option<i64>,
}

/// The ledger's default skew: commands may be dated up to an hour ahead of its clock.
pub const MAX_SKEW_SECS: i64 = 3_600;

impl Model {
    /// The member `m`, if enrolled.
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
        // A closed period refuses every command dated in it, before anything else is asked
        // of the command (a well-formed one: the generator writes nothing else).
        if self.closed_through.is_some_and(|t| spec.at <= t) {
            return Verdict::Reject("period_closed");
        }
        let result = match (&spec.member, &spec.kind) {
            (None, Kind::ClosePeriod { through }) => self.close_period(spec, *through),
            (None, _) => self.settle(spec),
            (Some(m), _) => self.member_command(m, spec),
        };
        match result {
            Ok((change, events)) => Verdict::Accept(Box::new(change), events),
            Err(code) => Verdict::Reject(code),
        }
    }

    /// Records an accepted command's change.
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
        if let Some(through) = change.closes {
            self.closed_through = Some(through);
        }
        self.consumptions_made += u64::from(change.consumed);
    }
}

//! The model's answer to a member's command: what it records, or the code it refuses with.
//! One file per command family, as core's `decide/` is laid out: money in
//! ([`balance`]: recharge, grant, consume), money back ([`refund`]), the card's standing
//! ([`status`]: tier, freeze, points, adjustments), [`package`]s, and settlements between
//! stores ([`settle`]).

use std::collections::BTreeMap;

use memberledger::Uuid;

use super::member::{Member, Package, PkgStatus};
use super::policy::{tier_index, FREEZE_ALLOWS_RECHARGE, FREEZE_ALLOWS_REFUNDS};
use super::spec::{Kind, Spec};
use super::{Change, Model};

mod balance;
mod cards;
mod coupons;
mod package;
mod periods;
mod refund;
mod settle;
mod status;
mod tiers;

/// What the model says of a command it judged: the change and how many events it records, or
/// the code it is refused with.
pub(crate) type Outcome = Result<(Change, u64), &'static str>;

/// A member's command under way: the member as the command changes them, the events counted
/// so far (expiries first) and what stores come to owe each other.
pub(crate) struct Draft<'a> {
    pub(crate) w: Member,
    /// When the command takes effect: its own time, or for a late command (within the late
    /// window) the member's last event's.
    pub(crate) at: i64,
    pub(crate) events: u64,
    pub(crate) debts: Vec<(String, String, i64)>,
    pub(crate) spec: &'a Spec,
    /// The policy has the simulation's tier rules on spending and visits ([`Model::visit_tiers`]).
    pub(crate) visit_tiers: bool,
}

impl Draft<'_> {
    /// The command's time.
    pub(crate) fn at(&self) -> i64 {
        self.at
    }

    /// The store the command is made at.
    pub(crate) fn store(&self) -> String {
        self.spec.store.clone()
    }

    /// `debtor` comes to owe `creditor` this much (negative: owes less).
    pub(crate) fn owe(&mut self, debtor: &str, creditor: &str, cents: i64) {
        self.debts
            .push((debtor.to_owned(), creditor.to_owned(), cents));
    }

    /// Every accepted member command records one event of its own, after the expiries and
    /// before what it triggers (a recharge's bonus and upgrade count themselves).
    fn finish(mut self, m: &str) -> (Change, u64) {
        self.events += 1;
        self.w.last_at = self.at;
        self.w.version += self.events;
        let change = Change {
            member: Some((m.to_owned(), self.w)),
            debts: self.debts,
            at: self.at,
            settled_at: None,
            consumed: matches!(
                self.spec.kind,
                Kind::Consume { .. } | Kind::ConsumeCoupon { .. } | Kind::Capture { .. }
            ),
            closes: None,
        };
        (change, self.events)
    }
}

impl Model {
    /// Judges a member's command (idempotency and the clock already checked).
    pub(crate) fn member_command(&self, m: &str, spec: &Spec) -> Outcome {
        let Some(before) = self.member(m) else {
            if let Kind::OpenBalance { tier, opening } = &spec.kind {
                return super::opening::open_balance(m, spec, tier.as_deref(), opening);
            }
            return enroll(m, spec);
        };
        if let Kind::Enroll { .. } | Kind::OpenBalance { .. } = spec.kind {
            return Err("member_exists");
        }
        let late = spec.at < before.last_at;
        if late
            && self
                .late_window
                .is_none_or(|w| spec.at + w < before.last_at)
        {
            return Err("out_of_order");
        }
        let at = spec.at.max(before.last_at);
        let mut w = before.clone();
        let events = w.expire(at);
        if w.frozen && frozen_refuses(&spec.kind) {
            return Err("member_frozen");
        }
        let mut d = Draft {
            w,
            at,
            events,
            debts: Vec::new(),
            spec,
            visit_tiers: self.visit_tiers,
        };
        self.dispatch(&mut d)?;
        Ok(d.finish(m))
    }

    /// Routes a member's command to its family.
    fn dispatch(&self, d: &mut Draft<'_>) -> Result<(), &'static str> {
        match &d.spec.kind {
            Kind::Enroll { .. }
            | Kind::Settle { .. }
            | Kind::OpenBalance { .. }
            | Kind::ClosePeriod { .. } => Err("invalid_command"),
            Kind::Recharge { cents, .. } => {
                d.recharge(*cents);
                Ok(())
            }
            Kind::Grant { cents, expires, .. } => d.grant(*cents, *expires),
            Kind::Refund { consumption, cents } => d.refund_consumption(*consumption, *cents),
            Kind::RefundBalance => d.refund_balance(),
            Kind::ChangeTier { tier, .. } => d.change_tier(tier),
            Kind::ReviewTier => d.review_tier(),
            Kind::Freeze { .. } => d.freeze(),
            Kind::Unfreeze { .. } => d.unfreeze(),
            Kind::RedeemPoints { points, .. } => d.w.spend_points(*points),
            Kind::Consume {
                cents,
                external: Some(x),
                ..
            } => d.consume_mixed(*cents, x, self.consumptions_made),
            Kind::Consume { cents, .. } => d.consume(*cents, self.consumptions_made),
            Kind::Adjust {
                balance,
                credit,
                qty,
                ..
            } => d.adjust(*balance, *credit, *qty),
            Kind::PurchasePackage {
                cents,
                cash,
                sessions,
                expires,
                external,
                ..
            } => d.purchase_package((*cents, *cash, external.as_ref()), *sessions, *expires),
            Kind::RedeemSession { package, .. } => d.redeem_session(*package),
            Kind::RefundPackage { package, .. } => d.refund_package(*package),
            Kind::LinkCard { .. }
            | Kind::ReportLost { .. }
            | Kind::ReplaceCard { .. }
            | Kind::UnlinkCard { .. } => d.card(&self.members),
            Kind::Authorize { cents, expires } => d.authorize(*cents, *expires),
            Kind::Capture { hold, cents } => d.capture(*hold, *cents, self.consumptions_made),
            Kind::Void { hold } => d.void(*hold),
            Kind::IssueCoupon { offer, expires, .. } => d.issue_coupon(offer, *expires),
            Kind::GrantPackage {
                sessions, expires, ..
            } => d.grant_package(*sessions, *expires, true),
            Kind::ConsumeCoupon {
                cents,
                coupon,
                external,
            } => d.consume_coupon(*cents, *coupon, external.as_ref(), self.consumptions_made),
        }
    }
}

/// A first command: only an enrolment in a tier the policy has is accepted.
fn enroll(m: &str, spec: &Spec) -> Outcome {
    let Kind::Enroll { tier } = &spec.kind else {
        return Err("member_not_found");
    };
    let tier = match tier {
        None => 0,
        Some(t) => tier_index(t).ok_or("unknown_tier")?,
    };
    let state = Member {
        home: spec.store.clone(),
        tier,
        last_at: spec.at,
        version: 1,
        next_lot: 1,
        principal: Vec::new(),
        bonus: Vec::new(),
        points: Vec::new(),
        consumptions: BTreeMap::new(),
        frozen: false,
        packages: BTreeMap::new(),
        bonus_spent: 0,
        window: Vec::new(),
        refunded_in_full: std::collections::BTreeSet::new(),
        cards: BTreeMap::new(),
        holds: BTreeMap::new(),
        coupons: BTreeMap::new(),
        spend: Vec::new(),
        tier_since: spec.at,
    };
    let change = Change {
        member: Some((m.to_owned(), state)),
        debts: Vec::new(),
        at: spec.at,
        settled_at: None,
        consumed: false,
        closes: None,
    };
    Ok((change, 1))
}

/// What a frozen card refuses: every spend; recharges and refunds as the policy says.
fn frozen_refuses(kind: &Kind) -> bool {
    match kind {
        Kind::Consume { .. }
        | Kind::ConsumeCoupon { .. }
        | Kind::Authorize { .. }
        | Kind::Capture { .. }
        | Kind::RedeemPoints { .. }
        | Kind::RedeemSession { .. }
        | Kind::PurchasePackage { cash: false, .. } => true,
        Kind::Recharge { .. } | Kind::PurchasePackage { cash: true, .. } => !FREEZE_ALLOWS_RECHARGE,
        Kind::Refund { .. } | Kind::RefundBalance | Kind::RefundPackage { .. } => {
            !FREEZE_ALLOWS_REFUNDS
        }
        _ => false,
    }
}

/// The open package `id` of a member, or why it cannot be used.
fn open_package(w: &mut Member, id: Uuid) -> Result<&mut Package, &'static str> {
    let p = w.packages.get_mut(&id).ok_or("unknown_package")?;
    match p.status {
        PkgStatus::Open => Ok(p),
        PkgStatus::Used | PkgStatus::Refunded => Err("package_exhausted"),
        PkgStatus::Expired => Err("package_expired"),
    }
}

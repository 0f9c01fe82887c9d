//! The member projection: a member as the fold of its events.
//!
//! - [`holdings`]: the compact list of lots and recharge-window entries, and the lot operations
//!   a fold uses, and [`packed`], their binary form in a checkpoint;
//! - [`fold`]: folding one event (no business rule: every figure comes from the event), with
//!   [`fold_refunds`], [`fold_packages`] and [`fold_adjust`] for the larger event families;
//! - [`view`]: lots, packages and the member view as read;
//! - [`compact`]: a state serialized as the compact projection a ledger caches, uncopied.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use crate::event::{Event, EventBody, LotKind};
use crate::events::*;
use crate::id::{MemberId, StoreId};
use crate::money::Money;
use crate::time::Timestamp;

mod compact;
mod coupons;
mod fold;
mod fold_adjust;
mod fold_cards;
mod fold_holds;
mod fold_opening;
mod fold_packages;
mod fold_refunds;
mod holdings;
mod packed;
mod tier_name;
mod view;
mod visits;

pub use compact::Compact;
pub use coupons::Coupon;
use fold::fold_error;
pub use fold::FoldError;
pub use fold_cards::{Card, CardStatus};
pub use fold_holds::Hold;
use holdings::{Holding, HoldingKind};
pub(crate) use packed::{unzigzag, zigzag};
pub use tier_name::TierName;
pub use view::{ConsumptionRecord, DrawnLot, Lot, MemberView, Package, PackageStatus, PointLot};
pub use visits::SpendDay;

/// A member as the fold of its events.
///
/// Compact, since a ledger caches one for every member: the lots, point lots and recharge
/// window live in one list of 28-byte entries (a lot's origin store is a number into the
/// member's own table of stores, the home store being 0), and the rarely used parts (packages,
/// refundable consumptions, origin stores other than home) sit behind one optional box. Read
/// them with [`principal_lots`](Self::principal_lots), [`bonus_lots`](Self::bonus_lots),
/// [`point_lots`](Self::point_lots), [`recharge_window`](Self::recharge_window),
/// [`packages`](Self::packages) and [`consumptions`](Self::consumptions). A member's lots may come
/// from up to 65,535 stores other than its home store; a log beyond that does not fold.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemberState {
    /// The member.
    pub member: MemberId,
    /// The store that opened the card.
    pub home_store: StoreId,
    /// The tier held (inline up to 24 bytes: no allocation for a tier name).
    pub tier: TierName,
    /// Whether the card is frozen.
    pub frozen: bool,
    /// Whether the refundable-consumption records are kept. A state folded without them (see
    /// [`MemberState::without_consumption_records`]) is the compact projection a ledger caches
    /// for every member; it cannot decide a consumption refund, for which the member's own
    /// events are folded again with the records.
    pub keeps_consumptions: bool,
    /// Whether the spending and visit window is kept (see
    /// [`MemberState::without_spending_window`]): a ledger whose policies name no spending or
    /// visit rule caches its members without it.
    keeps_spending: bool,
    /// The member stream's version: the number of events folded.
    pub version: u64,
    /// The time of the last event.
    pub last_at: Timestamp,
    /// The next lot number to give out.
    pub next_lot: u32,
    /// Bonus drawn by consumptions and package purchases less bonus given back, since
    /// enrollment or the last balance refund.
    pub bonus_spent: Money,
    /// Principal credited (recharges, principal credits by adjustment, principal given back
    /// by package refunds) since enrollment or the last balance refund: a pro-rata refund's
    /// "paid".
    pub credited_principal: Money,
    /// Bonus credited over the same span: a pro-rata refund's "bonus granted".
    pub credited_bonus: Money,
    /// The UTC day (see [`Timestamp::day`]) the member reached the tier held: enrollment's,
    /// or the last `tier_changed`'s. A tier review gives grace to a tier reached within the
    /// window it reviews.
    tier_since: u32,
    /// Open lots of every kind, the recharge window and the spending window: each kind's lots
    /// by lot number, each window's entries oldest first.
    #[serde(with = "packed")]
    holdings: Vec<Holding>,
    /// Packages, refundable consumptions and origin stores other than home; `None` while all
    /// are empty.
    rare: Option<Box<Rare>>,
}

/// What a member holds that few members have.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Rare {
    /// Origin stores of lots other than the home store: store number `i + 1` is `stores[i]`.
    stores: Vec<StoreId>,
    /// Consumptions that can still be refunded, by consume command id. Boxed: a map's node
    /// holds room for eleven values, so a member with one record would carry ten records'
    /// worth of empty room (about 2 KB) beside it; boxed, that room is eleven pointers.
    consumptions: BTreeMap<Uuid, Box<ConsumptionRecord>>,
    /// Every package bought, open or closed, by id. Boxed, as the consumption records: a
    /// map's node holds room for eleven packages.
    #[serde(with = "view::packages_codec")]
    packages: BTreeMap<Uuid, Box<Package>>,
    /// Consumptions refunded in full (kept with the consumption records): a further refund
    /// of one is `refund_exceeds_original`, not `unknown_consumption`.
    refunded_in_full: BTreeSet<Uuid>,
    /// The member's cards (recorded form) and where each stands.
    cards: BTreeMap<String, CardStatus>,
    /// Open holds, by id.
    holds: BTreeMap<Uuid, Hold>,
    /// Every coupon issued, open or used, by id. Boxed, as the packages.
    coupons: BTreeMap<Uuid, Box<Coupon>>,
}

impl Rare {
    fn is_empty(&self) -> bool {
        self.consumptions.is_empty() && self.refunded_in_full.is_empty() && self.is_only_records()
    }

    /// Whether it holds nothing but the refundable-consumption records (none of which a
    /// compact projection keeps).
    fn is_only_records(&self) -> bool {
        self.stores.is_empty() && self.holds_only_stores()
    }

    /// Whether it holds nothing but other stores and consumption records (no package, card,
    /// hold or coupon).
    fn holds_only_stores(&self) -> bool {
        self.packages.is_empty()
            && self.cards.is_empty()
            && self.holds.is_empty()
            && self.coupons.is_empty()
    }
}

static NO_PACKAGES: BTreeMap<Uuid, Box<Package>> = BTreeMap::new();
static NO_CONSUMPTIONS: BTreeMap<Uuid, Box<ConsumptionRecord>> = BTreeMap::new();

/// Days in the upgrade window.
pub const UPGRADE_WINDOW_DAYS: u32 = 365;

impl MemberState {
    /// The principal balance: the sum of principal lots.
    pub fn principal(&self) -> Money {
        self.sum_of(HoldingKind::Principal)
    }

    /// The bonus balance: the sum of bonus lots.
    pub fn bonus(&self) -> Money {
        self.sum_of(HoldingKind::Bonus)
    }

    /// The sum of one kind's lots; never panics, saturating at `i64::MAX` cents (a sum no
    /// ledger records: `decide` keeps every total within [`crate::RECORDED_MAX`]).
    fn sum_of(&self, kind: HoldingKind) -> Money {
        let sum: i128 = self
            .holdings
            .iter()
            .filter(|h| h.kind == kind)
            .map(|h| i128::from(h.cents().cents()))
            .sum();
        Money::from_cents(i64::try_from(sum).unwrap_or(i64::MAX))
    }

    /// Every running total, summed in one pass without overflow: what `decide` holds to the
    /// bounds.
    pub(crate) fn totals(&self) -> crate::bounds::Totals {
        let mut t = crate::bounds::Totals::default();
        for h in &self.holdings {
            let cents = i128::from(h.cents().cents());
            match h.kind {
                HoldingKind::Principal => t.principal += cents,
                HoldingKind::Bonus => t.bonus += cents,
                HoldingKind::Recharge => t.window += cents,
                HoldingKind::Spend => {}
                HoldingKind::Points => t.points += u128::from(h.points()),
            }
        }
        t.bonus_spent = i128::from(self.bonus_spent.cents());
        t.package_value = self
            .packages()
            .values()
            .map(|p| i128::from(p.principal_left.cents()) + i128::from(p.bonus_left.cents()))
            .sum();
        t
    }

    /// Value held in open packages (saturating like [`principal`](Self::principal)).
    pub fn package_value(&self) -> Money {
        Money::from_cents(i64::try_from(self.totals().package_value).unwrap_or(i64::MAX))
    }

    /// Points held: the sum of point lots (saturating at `u64::MAX`, which no ledger records).
    pub fn points(&self) -> u64 {
        let sum: u128 = self
            .holdings
            .iter()
            .filter(|h| h.kind == HoldingKind::Points)
            .map(|h| u128::from(h.points()))
            .sum();
        u64::try_from(sum).unwrap_or(u64::MAX)
    }

    /// Open principal lots, by lot number (first-in first-out).
    pub fn principal_lots(&self) -> Vec<Lot> {
        self.lots(LotKind::Principal).collect()
    }

    /// Open bonus lots, by lot number.
    pub fn bonus_lots(&self) -> Vec<Lot> {
        self.lots(LotKind::Bonus).collect()
    }

    /// Open lots of one kind, by lot number, without collecting them.
    pub fn lots(&self, kind: LotKind) -> impl Iterator<Item = Lot> + '_ {
        let hk = HoldingKind::from(kind);
        self.holdings
            .iter()
            .filter(move |h| h.kind == hk)
            .map(move |h| Lot {
                lot: h.lot,
                kind,
                origin_store: self.store(h.origin).clone(),
                remaining: h.cents(),
                expires_at: h.time,
            })
    }

    /// Open point lots, by lot number.
    pub fn point_lots(&self) -> Vec<PointLot> {
        self.holdings
            .iter()
            .filter(|h| h.kind == HoldingKind::Points)
            .map(|h| PointLot {
                lot: h.lot,
                remaining: h.points(),
                expires_at: h.time,
            })
            .collect()
    }

    /// Principal recharged (positive cents) and removed by balance refunds (negative) within
    /// the last 365 days of the latest event, oldest first.
    pub fn recharge_window(&self) -> Vec<(Timestamp, i64)> {
        self.window().collect()
    }

    fn window(&self) -> impl Iterator<Item = (Timestamp, i64)> + '_ {
        self.holdings
            .iter()
            .filter(|h| h.kind == HoldingKind::Recharge)
            .filter_map(|h| h.time.map(|t| (t, h.cents().cents())))
    }

    /// Every package bought, open or closed, by id.
    pub fn packages(&self) -> &BTreeMap<Uuid, Box<Package>> {
        self.rare.as_ref().map_or(&NO_PACKAGES, |r| &r.packages)
    }

    /// Consumptions that can still be refunded, by consume command id (always empty when
    /// [`keeps_consumptions`](Self::keeps_consumptions) is false).
    pub fn consumptions(&self) -> &BTreeMap<Uuid, Box<ConsumptionRecord>> {
        self.rare
            .as_ref()
            .map_or(&NO_CONSUMPTIONS, |r| &r.consumptions)
    }

    /// The earliest expiry of an open bonus lot, point lot, package or hold: from then on, the
    /// member has something to expire.
    pub fn next_expiry(&self) -> Option<Timestamp> {
        let lots = self
            .holdings
            .iter()
            .filter(|h| matches!(h.kind, HoldingKind::Bonus | HoldingKind::Points))
            .filter_map(|h| h.time);
        let packages = self
            .packages()
            .values()
            .filter(|p| p.status == PackageStatus::Open)
            .filter_map(|p| p.expires_at);
        lots.chain(packages).chain(self.next_hold_expiry()).min()
    }

    /// Principal recharged less principal removed by balance refunds in `(at − 365 days, at]`.
    pub fn recharged_within_365d(&self, at: Timestamp) -> Money {
        let from = at.minus_days(UPGRADE_WINDOW_DAYS);
        let cents: i128 = self
            .window()
            .filter(|(t, _)| *t > from && *t <= at)
            .map(|(_, c)| i128::from(c))
            .sum();
        Money::from_cents(i64::try_from(cents.max(0)).unwrap_or(i64::MAX))
    }

    /// Starts a member from its first event, which must be `member_enrolled` (see
    /// [`fold_next`](Self::fold_next), which starts or extends a member).
    pub fn enrolled(event: &Event) -> Result<MemberState, FoldError> {
        let EventBody::MemberEnrolled(MemberEnrolled { home_store, tier }) = &event.body else {
            return Err(fold_error(
                event,
                "the first event of a member must be member_enrolled".into(),
            ));
        };
        if event.version != 1 {
            return Err(fold_error(
                event,
                "member_enrolled must be version 1".into(),
            ));
        }
        Ok(MemberState {
            member: event.member.clone(),
            home_store: home_store.clone(),
            tier: TierName::from(tier.as_str()),
            frozen: false,
            keeps_consumptions: true,
            keeps_spending: true,
            version: 1,
            last_at: event.at,
            next_lot: 1,
            bonus_spent: Money::ZERO,
            credited_principal: Money::ZERO,
            credited_bonus: Money::ZERO,
            tier_since: event.at.day(),
            holdings: Vec::new(),
            rare: None,
        })
    }

    /// The one place a member's fold starts or goes on: the first event of a member (no state
    /// yet) starts it (it must be `member_enrolled`, version 1), any later one is
    /// [`apply`](Self::apply)'d onto `state` in place. Returns the state a first event started,
    /// `None` when it extended `state`.
    ///
    /// ```
    /// use memberledger_core::{decide, Command, Context, MemberState, Policy};
    /// let policy = Policy::builtin();
    /// let enroll = Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#).unwrap();
    /// let events = decide(&Context::founding(&policy), &enroll).unwrap().events;
    /// let mut state = None;
    /// for e in &events {
    ///     MemberState::fold_onto(&mut state, e).unwrap();
    /// }
    /// assert_eq!(state.unwrap().version, 1);
    /// ```
    pub fn fold_next(
        state: Option<&mut MemberState>,
        event: &Event,
    ) -> Result<Option<MemberState>, FoldError> {
        match state {
            Some(s) => s.apply(event).map(|()| None),
            None => MemberState::enrolled(event).map(Some),
        }
    }

    /// [`fold_next`](Self::fold_next) onto an optional state: starts it from the first event,
    /// extends it with every later one.
    pub fn fold_onto(slot: &mut Option<MemberState>, event: &Event) -> Result<(), FoldError> {
        if let Some(started) = MemberState::fold_next(slot.as_mut(), event)? {
            *slot = Some(started);
        }
        Ok(())
    }

    /// A member folded from its events, in order (`None` for no events).
    pub fn replay<'e>(
        events: impl IntoIterator<Item = &'e Event>,
    ) -> Result<Option<MemberState>, FoldError> {
        let mut state = None;
        for e in events {
            MemberState::fold_onto(&mut state, e)?;
        }
        Ok(state)
    }

    /// The same member without the refundable-consumption records, folding on without them:
    /// what a ledger keeps in memory for every member (a consumption refund, rare, re-reads
    /// the member's events). Balances, lots, points and packages are the same either way.
    pub fn without_consumption_records(mut self) -> MemberState {
        self.drop_consumption_records();
        self
    }

    /// A copy without the refundable-consumption records: what
    /// `self.clone().without_consumption_records()` gives, without copying the records only
    /// to drop them (what `verify` compares a checkpoint's members with).
    ///
    /// ```
    /// # use memberledger_core::MemberState;
    /// # fn check(state: &MemberState) {
    /// assert_eq!(
    ///     state.clone_without_consumption_records(),
    ///     state.clone().without_consumption_records()
    /// );
    /// # }
    /// ```
    pub fn clone_without_consumption_records(&self) -> MemberState {
        let rare = self.rare.as_ref().map(|r| {
            Box::new(Rare {
                stores: r.stores.clone(),
                consumptions: BTreeMap::new(),
                packages: r.packages.clone(),
                refunded_in_full: BTreeSet::new(),
                cards: r.cards.clone(),
                holds: r.holds.clone(),
                coupons: r.coupons.clone(),
            })
        });
        let mut copy = MemberState {
            member: self.member.clone(),
            home_store: self.home_store.clone(),
            tier: self.tier.clone(),
            frozen: self.frozen,
            keeps_consumptions: self.keeps_consumptions,
            keeps_spending: self.keeps_spending,
            version: self.version,
            last_at: self.last_at,
            next_lot: self.next_lot,
            bonus_spent: self.bonus_spent,
            credited_principal: self.credited_principal,
            credited_bonus: self.credited_bonus,
            tier_since: self.tier_since,
            holdings: self.holdings.clone(),
            rare,
        };
        copy.drop_consumption_records();
        copy
    }

    /// [`without_consumption_records`](Self::without_consumption_records) in place.
    pub fn drop_consumption_records(&mut self) {
        if let Some(r) = &mut self.rare {
            r.consumptions = BTreeMap::new();
            r.refunded_in_full = BTreeSet::new();
        }
        self.tidy_rare();
        self.keeps_consumptions = false;
    }

    /// Whether the consumption was refunded in full (known with the consumption records).
    pub fn refunded_in_full(&self, consumption: &Uuid) -> bool {
        self.rare
            .as_ref()
            .is_some_and(|r| r.refunded_in_full.contains(consumption))
    }

    /// Gives back the spare capacity of every list: a ledger does it to each member once the
    /// log is replayed, since most members are not touched again soon.
    pub fn shrink_to_fit(&mut self) {
        self.holdings.shrink_to_fit();
        self.tier.shrink_to_fit();
        if let Some(r) = &mut self.rare {
            r.stores.shrink_to_fit();
        }
    }
}

// A ledger caches one `MemberState` for every member: it stays compact (a lot or window entry
// in 28 bytes, the state in 160: 144 before the two credit totals of pro-rata refunds), checked when the crate compiles.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Holding>() == 28);
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<MemberState>() == 160);

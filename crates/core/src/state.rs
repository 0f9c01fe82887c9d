//! The member projection and the fold: `apply` folds one event and holds no rules.

use std::collections::BTreeMap;

use compact_str::CompactString;
use serde::Serialize;
use uuid::Uuid;

use crate::command::{Balance, Direction, PaidFrom};
use crate::event::{Draw, Event, EventBody, LotKind};
use crate::events::*;
use crate::id::{MemberId, StoreId};
use crate::money::Money;
use crate::time::Timestamp;

/// A lot of principal or bonus, as read from a member ([`MemberState::lots`]; the state keeps
/// it in a compact form).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lot {
    /// The lot's number within the member (shared numbering with point lots).
    pub lot: u32,
    /// Principal or bonus.
    pub kind: LotKind,
    /// The store that took the cash or granted the credit.
    pub origin_store: StoreId,
    /// What is left.
    pub remaining: Money,
    /// When it lapses (bonus only).
    pub expires_at: Option<Timestamp>,
}

/// A lot of points, as read from a member ([`MemberState::point_lots`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PointLot {
    /// The lot's number.
    pub lot: u32,
    /// Points left.
    pub remaining: u64,
    /// When they lapse.
    pub expires_at: Option<Timestamp>,
}

/// Where a package stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageStatus {
    /// Sessions left to redeem.
    Open,
    /// Every session redeemed.
    Used,
    /// The unredeemed sessions were refunded.
    Refunded,
    /// It lapsed with sessions left.
    Expired,
}

/// A package (次卡/疗程卡) the member bought: a lot of sessions with its origin store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Package {
    /// Its id: the purchase command's id.
    pub package: Uuid,
    /// The service.
    pub service: String,
    /// The store that sold it (and holds its cash).
    pub origin_store: StoreId,
    /// How it was paid.
    pub paid_from: PaidFrom,
    /// Sessions bought.
    pub sessions: u32,
    /// Sessions not yet redeemed (zero once closed).
    pub sessions_left: u32,
    /// Revenue of each session but the last.
    pub session_price: Money,
    /// The price.
    pub price: Money,
    /// Of the price, paid from bonus.
    pub bonus_paid: Money,
    /// Value not yet recognised, funded by cash or principal.
    pub principal_left: Money,
    /// Value not yet recognised, funded by bonus.
    pub bonus_left: Money,
    /// When unredeemed sessions lapse.
    pub expires_at: Option<Timestamp>,
    /// The earliest expiry of the bonus lots drawn to pay for it: the bonus share refunded to
    /// the balance keeps it (and is forfeited once it has passed).
    pub bonus_expires_at: Option<Timestamp>,
    /// Where it stands.
    pub status: PackageStatus,
    /// The bonus it drew that still counts in the member's `bonus_spent`: what it drew when
    /// bought, and zero once a balance refund closed the period it was bought in (its bonus
    /// was settled by that refund's claw-back). A refund of the package gives back no more
    /// than this to `bonus_spent`.
    #[serde(skip)]
    pub bonus_counted: Money,
}

impl Package {
    /// The value not yet recognised: `principal_left + bonus_left`.
    pub fn value_left(&self) -> Money {
        self.principal_left.plus(self.bonus_left)
    }
}

/// A drawn lot as a consumption remembers it, with what has been given back so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrawnLot {
    /// The draw as recorded.
    pub draw: Draw,
    /// Restored so far (credited or forfeited).
    pub restored: Money,
}

/// What a consumption left behind for later refunds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumptionRecord {
    /// The store that delivered it.
    pub store: StoreId,
    /// What the card paid.
    pub charged: Money,
    /// Of which principal.
    pub principal: Money,
    /// Of which bonus.
    pub bonus: Money,
    /// Refunded so far.
    pub refunded: Money,
    /// Principal restored so far.
    pub principal_restored: Money,
    /// Bonus restored so far (including forfeited).
    pub bonus_restored: Money,
    /// Lots drawn, in drawing order.
    pub draws: Vec<DrawnLot>,
    /// Points earned.
    pub points_earned: u64,
    /// Points accounted for by refunds so far (reversed plus forgiven).
    pub points_reversed: u64,
}

/// Why a stored event cannot be folded onto the state: the log is inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {event_type} v{version} of member {member} does not fold: {why}")]
pub struct FoldError {
    /// The member.
    pub member: String,
    /// The event's member version.
    pub version: u64,
    /// The event's type.
    pub event_type: &'static str,
    /// What is wrong.
    pub why: String,
}

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberState {
    /// The member.
    pub member: MemberId,
    /// The store that opened the card.
    pub home_store: StoreId,
    /// The tier held (inline up to 24 bytes: no allocation for a tier name).
    pub tier: CompactString,
    /// Whether the card is frozen.
    pub frozen: bool,
    /// Whether the refundable-consumption records are kept. A state folded without them (see
    /// [`MemberState::without_consumption_records`]) is the compact projection a ledger caches
    /// for every member; it cannot decide a consumption refund, for which the member's own
    /// events are folded again with the records.
    pub keeps_consumptions: bool,
    /// The member stream's version: the number of events folded.
    pub version: u64,
    /// The time of the last event.
    pub last_at: Timestamp,
    /// The next lot number to give out.
    pub next_lot: u32,
    /// Bonus drawn by consumptions and package purchases less bonus given back, since
    /// enrollment or the last balance refund.
    pub bonus_spent: Money,
    /// Open lots of every kind and the recharge window: each kind's lots by lot number, the
    /// window's entries oldest first.
    holdings: Vec<Holding>,
    /// Packages, refundable consumptions and origin stores other than home; `None` while all
    /// are empty.
    rare: Option<Box<Rare>>,
}

/// What a member holds that few members have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Rare {
    /// Origin stores of lots other than the home store: store number `i + 1` is `stores[i]`.
    stores: Vec<StoreId>,
    /// Consumptions that can still be refunded, by consume command id.
    consumptions: BTreeMap<Uuid, ConsumptionRecord>,
    /// Every package bought, open or closed, by id.
    packages: BTreeMap<Uuid, Package>,
}

impl Rare {
    fn is_empty(&self) -> bool {
        self.stores.is_empty() && self.consumptions.is_empty() && self.packages.is_empty()
    }
}

/// What one entry of [`MemberState`]'s holdings is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HoldingKind {
    Principal,
    Bonus,
    Points,
    /// An entry of the recharge window: `time` is when, `amount` the signed cents.
    Recharge,
}

impl From<LotKind> for HoldingKind {
    fn from(k: LotKind) -> HoldingKind {
        match k {
            LotKind::Principal => HoldingKind::Principal,
            LotKind::Bonus => HoldingKind::Bonus,
        }
    }
}

/// One lot (principal, bonus or points) or one recharge-window entry, in 28 bytes: the
/// figure is kept as bytes so the entry aligns on 4 (Timestamps do), and the origin store as
/// the member's store number. Exact: every figure and time is kept whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Holding {
    /// A lot's expiry, or a window entry's time.
    time: Option<Timestamp>,
    /// Cents (`i64`, lots of money and window entries) or points (`u64`), native-endian.
    amount: [u8; 8],
    /// The lot number (0 for a window entry).
    lot: u32,
    /// The origin store's number: 0 is the home store (0 for points and window entries).
    origin: u16,
    kind: HoldingKind,
}

impl Holding {
    fn cents(&self) -> Money {
        Money::from_cents(i64::from_ne_bytes(self.amount))
    }

    fn set_cents(&mut self, m: Money) {
        self.amount = m.cents().to_ne_bytes();
    }

    fn points(&self) -> u64 {
        u64::from_ne_bytes(self.amount)
    }

    fn set_points(&mut self, p: u64) {
        self.amount = p.to_ne_bytes();
    }

    fn is_lot(&self, kind: HoldingKind, lot: u32) -> bool {
        self.kind == kind && self.lot == lot
    }
}

static NO_PACKAGES: BTreeMap<Uuid, Package> = BTreeMap::new();
static NO_CONSUMPTIONS: BTreeMap<Uuid, ConsumptionRecord> = BTreeMap::new();

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
    pub fn packages(&self) -> &BTreeMap<Uuid, Package> {
        self.rare.as_ref().map_or(&NO_PACKAGES, |r| &r.packages)
    }

    /// Consumptions that can still be refunded, by consume command id (always empty when
    /// [`keeps_consumptions`](Self::keeps_consumptions) is false).
    pub fn consumptions(&self) -> &BTreeMap<Uuid, ConsumptionRecord> {
        self.rare
            .as_ref()
            .map_or(&NO_CONSUMPTIONS, |r| &r.consumptions)
    }

    /// The earliest expiry of an open bonus lot, point lot or package: from then on, the
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
        lots.chain(packages).min()
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

    /// The store numbered `n` in this member's table (0 is the home store).
    fn store(&self, n: u16) -> &StoreId {
        match n.checked_sub(1) {
            None => &self.home_store,
            Some(i) => &self.rare.as_ref().expect("a numbered store").stores[usize::from(i)],
        }
    }

    /// Whether a lot may open with `store` as its origin: the home store, a store already in
    /// the member's table, or a new one while the table has room (65,535 stores besides home).
    pub(crate) fn can_hold_lots_from(&self, store: &StoreId) -> bool {
        *store == self.home_store
            || self
                .rare
                .as_ref()
                .is_none_or(|r| r.stores.len() < usize::from(u16::MAX) || r.stores.contains(store))
    }

    /// The number of `store` in this member's table, adding it if it is new.
    fn store_number(&mut self, store: &StoreId) -> Result<u16, String> {
        if *store == self.home_store {
            return Ok(0);
        }
        let stores = &mut self.rare_mut().stores;
        let i = match stores.iter().position(|s| s == store) {
            Some(i) => i,
            None => {
                stores.push(store.clone());
                stores.len() - 1
            }
        };
        u16::try_from(i + 1).map_err(|_| "a member's lots come from too many stores".to_owned())
    }

    fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// Drops the box of rare parts once it holds nothing, so equal members compare equal.
    fn tidy_rare(&mut self) {
        if self.rare.as_ref().is_some_and(|r| r.is_empty()) {
            self.rare = None;
        }
    }

    fn packages_mut(&mut self) -> &mut BTreeMap<Uuid, Package> {
        &mut self.rare_mut().packages
    }

    /// Opens a lot of money at the end of its kind's lots.
    fn push_lot(
        &mut self,
        kind: LotKind,
        lot: u32,
        origin_store: &StoreId,
        remaining: Money,
        expires_at: Option<Timestamp>,
    ) -> Result<(), String> {
        let origin = self.store_number(origin_store)?;
        self.holdings.push(Holding {
            time: expires_at,
            amount: remaining.cents().to_ne_bytes(),
            lot,
            origin,
            kind: kind.into(),
        });
        Ok(())
    }

    fn push_point_lot(&mut self, lot: u32, points: u64, expires_at: Option<Timestamp>) {
        self.holdings.push(Holding {
            time: expires_at,
            amount: points.to_ne_bytes(),
            lot,
            origin: 0,
            kind: HoldingKind::Points,
        });
    }

    /// Starts a member from its first event, which must be `member_enrolled`.
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
            tier: CompactString::new(tier),
            frozen: false,
            keeps_consumptions: true,
            version: 1,
            last_at: event.at,
            next_lot: 1,
            bonus_spent: Money::ZERO,
            holdings: Vec::new(),
            rare: None,
        })
    }

    /// The same member without the refundable-consumption records, folding on without them:
    /// what a ledger keeps in memory for every member (a consumption refund, rare, re-reads
    /// the member's events). Balances, lots, points and packages are the same either way.
    pub fn without_consumption_records(mut self) -> MemberState {
        self.drop_consumption_records();
        self
    }

    /// [`without_consumption_records`](Self::without_consumption_records) in place.
    pub fn drop_consumption_records(&mut self) {
        if let Some(r) = &mut self.rare {
            r.consumptions = BTreeMap::new();
        }
        self.tidy_rare();
        self.keeps_consumptions = false;
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

    /// Folds one event onto the state. Holds no business rule: every figure comes from the
    /// event. Checks that the event fits (versions, lots, amounts) and refuses it otherwise.
    ///
    /// A refused event means the log is inconsistent; the state is then left part-way and must
    /// be discarded. (Folding in place, without a defensive copy, is what makes replay fast;
    /// `decide` works on its own copy, so a live state never sees a refused event.)
    pub fn apply(&mut self, event: &Event) -> Result<(), FoldError> {
        if event.member != self.member {
            return Err(fold_error(
                event,
                format!("belongs to member {}", event.member),
            ));
        }
        if event.version != self.version + 1 {
            return Err(fold_error(
                event,
                format!("expected version {}", self.version + 1),
            ));
        }
        if event.at < self.last_at {
            return Err(fold_error(
                event,
                format!("time goes back from {}", self.last_at),
            ));
        }
        self.fold(event).map_err(|why| fold_error(event, why))?;
        self.version = event.version;
        self.last_at = event.at;
        Ok(())
    }

    fn fold(&mut self, event: &Event) -> Result<(), String> {
        match &event.body {
            EventBody::MemberEnrolled { .. } => Err("member is already enrolled".into()),
            EventBody::Settled { .. } => Err("a settlement is not a member's event".into()),
            EventBody::PolicyPublished { .. } => Err("a policy is not a member's event".into()),
            EventBody::PackagePurchased { .. } => self.fold_package_purchased(event),
            EventBody::SessionRedeemed { .. } => self.fold_session_redeemed(event),
            EventBody::PackageRefunded { .. } => self.fold_package_refunded(event),
            EventBody::PackageExpired(PackageExpired {
                amount,
                bonus,
                expires_at,
                origin_store,
                package,
                principal,
                sessions,
            }) => {
                let p = self.open_package(*package)?;
                if p.expires_at != Some(*expires_at)
                    || *expires_at > event.at
                    || *origin_store != p.origin_store
                {
                    return Err(format!("package {package} does not expire as recorded"));
                }
                if (*sessions, *principal, *bonus)
                    != (p.sessions_left, p.principal_left, p.bonus_left)
                    || principal.plus(*bonus) != *amount
                {
                    return Err(format!("package {package} holds other figures"));
                }
                p.close(PackageStatus::Expired);
                Ok(())
            }
            EventBody::MemberFrozen { .. } => {
                if self.frozen {
                    return Err("the member is already frozen".into());
                }
                self.frozen = true;
                Ok(())
            }
            EventBody::MemberUnfrozen { .. } => {
                if !self.frozen {
                    return Err("the member is not frozen".into());
                }
                self.frozen = false;
                Ok(())
            }
            EventBody::Adjusted(Adjusted {
                amount,
                balance,
                direction,
                draws,
                expires_at,
                lot,
                points,
                points_draws,
                ..
            }) => self.fold_adjusted(
                event,
                (*balance, *direction),
                (*amount, *points),
                draws,
                points_draws,
                (*lot, *expires_at),
            ),
            EventBody::PointsRedeemed(PointsRedeemed { draws, points, .. }) => {
                let taken = self.take_points(draws)?;
                if taken != *points {
                    return Err(format!("draws give {taken} points, not {points}"));
                }
                Ok(())
            }
            EventBody::Recharged(Recharged { amount, lot, .. }) => {
                self.new_lot(*lot)?;
                self.push_lot(LotKind::Principal, *lot, &event.store, *amount, None)?;
                self.push_window(event.at, amount.cents());
                Ok(())
            }
            EventBody::BonusGranted(BonusGranted {
                amount,
                lot,
                expires_at,
                ..
            }) => {
                self.new_lot(*lot)?;
                self.push_lot(LotKind::Bonus, *lot, &event.store, *amount, *expires_at)
            }
            EventBody::Consumed(Consumed {
                charged,
                principal,
                bonus,
                draws,
                points_earned,
                points_lot,
                points_expires_at,
                ..
            }) => {
                if principal.plus(*bonus) != *charged {
                    return Err("principal + bonus != charged".into());
                }
                check_draws_sum(draws, LotKind::Principal, *principal)?;
                check_draws_sum(draws, LotKind::Bonus, *bonus)?;
                for d in draws {
                    self.take_from_lot(d.kind, d.lot, d.amount)?;
                }
                match (points_lot, *points_earned) {
                    (Some(lot), n) if n > 0 => {
                        self.new_lot(*lot)?;
                        self.push_point_lot(*lot, n, *points_expires_at);
                    }
                    (None, 0) => {}
                    _ => return Err("points_earned and points_lot disagree".into()),
                }
                self.add_bonus_spent(*bonus)?;
                if !self.keeps_consumptions {
                    return Ok(());
                }
                let record = ConsumptionRecord {
                    store: event.store.clone(),
                    charged: *charged,
                    principal: *principal,
                    bonus: *bonus,
                    refunded: Money::ZERO,
                    principal_restored: Money::ZERO,
                    bonus_restored: Money::ZERO,
                    draws: draws
                        .iter()
                        .map(|d| DrawnLot {
                            draw: d.clone(),
                            restored: Money::ZERO,
                        })
                        .collect(),
                    points_earned: *points_earned,
                    points_reversed: 0,
                };
                if self
                    .rare_mut()
                    .consumptions
                    .insert(event.command, record)
                    .is_some()
                {
                    return Err("the consumption is recorded twice".into());
                }
                Ok(())
            }
            EventBody::ConsumptionRefunded(ConsumptionRefunded {
                consumption,
                amount,
                principal,
                bonus,
                restored,
                points_reversed,
                points_forgiven,
                service_store,
            }) => self.fold_refund(
                service_store,
                *consumption,
                *amount,
                *principal,
                *bonus,
                restored,
                points_reversed,
                *points_forgiven,
            ),
            EventBody::BalanceRefunded(BalanceRefunded {
                principal,
                bonus_forfeited,
                bonus_spent,
                clawback,
                payout,
                draws,
            }) => {
                if *principal != self.principal() || *bonus_forfeited != self.bonus() {
                    return Err("balances differ from the state".into());
                }
                if *bonus_spent != self.bonus_spent || payout.plus(*clawback) != *principal {
                    return Err("payout + clawback != principal, or bonus_spent differs".into());
                }
                check_draws_sum(draws, LotKind::Principal, *principal)?;
                check_draws_sum(draws, LotKind::Bonus, *bonus_forfeited)?;
                for d in draws {
                    self.take_from_lot(d.kind, d.lot, d.amount)?;
                }
                if let Some(r) = &mut self.rare {
                    r.consumptions.clear();
                    // Open packages stay open, their bonus settled by this claw-back.
                    for p in r.packages.values_mut() {
                        p.bonus_counted = Money::ZERO;
                    }
                }
                self.tidy_rare();
                self.bonus_spent = Money::ZERO;
                self.push_window(event.at, -principal.cents());
                Ok(())
            }
            EventBody::TierChanged(TierChanged { from, to, .. }) => {
                if *from != self.tier {
                    return Err(format!("tier is {}, not {from}", self.tier));
                }
                self.tier = CompactString::new(to);
                Ok(())
            }
            EventBody::BonusExpired(BonusExpired {
                lot,
                amount,
                expires_at,
                origin_store,
            }) => {
                let l = self.find_lot(LotKind::Bonus, *lot)?;
                if l.cents() != *amount
                    || l.time != Some(*expires_at)
                    || self.store(l.origin) != origin_store
                    || *expires_at > event.at
                {
                    return Err(format!("bonus lot {lot} does not expire as recorded"));
                }
                self.take_from_lot(LotKind::Bonus, *lot, *amount)
            }
            EventBody::PointsExpired(PointsExpired {
                lot,
                points,
                expires_at,
            }) => {
                let i = self
                    .holdings
                    .iter()
                    .position(|l| l.is_lot(HoldingKind::Points, *lot))
                    .ok_or_else(|| format!("no point lot {lot}"))?;
                let l = &self.holdings[i];
                if l.points() != *points || l.time != Some(*expires_at) || *expires_at > event.at {
                    return Err(format!("point lot {lot} does not expire as recorded"));
                }
                self.holdings.remove(i);
                Ok(())
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn fold_refund(
        &mut self,
        service_store: &StoreId,
        consumption: Uuid,
        amount: Money,
        principal: Money,
        bonus: Money,
        restored: &[crate::event::Restore],
        points_reversed: &[crate::event::PointsDraw],
        points_forgiven: u64,
    ) -> Result<(), String> {
        if !self.keeps_consumptions {
            return self.fold_refund_without_record(
                (principal, bonus, amount),
                restored,
                points_reversed,
            );
        }
        let mut rec = self
            .consumptions()
            .get(&consumption)
            .cloned()
            .ok_or_else(|| format!("no refundable consumption {consumption}"))?;
        if rec.store != *service_store {
            return Err(format!(
                "consumption {consumption} was delivered at {}, not {service_store}",
                rec.store
            ));
        }
        if principal.plus(bonus) != amount || rec.refunded.plus(amount) > rec.charged {
            return Err("refund does not add up or exceeds the consumption".into());
        }
        rec.refunded = rec.refunded.plus(amount);
        rec.principal_restored = rec.principal_restored.plus(principal);
        rec.bonus_restored = rec.bonus_restored.plus(bonus);
        if rec.principal_restored > rec.principal || rec.bonus_restored > rec.bonus {
            return Err("refund restores more than was drawn".into());
        }
        let mut sums = (Money::ZERO, Money::ZERO);
        for r in restored {
            let drawn = rec
                .draws
                .iter_mut()
                .find(|d| d.draw.lot == r.lot && d.draw.kind == r.kind)
                .ok_or_else(|| format!("lot {} was not drawn by {consumption}", r.lot))?;
            drawn.restored = drawn.restored.plus(r.amount);
            if drawn.restored > drawn.draw.amount
                || r.origin_store != drawn.draw.origin_store
                || r.expires_at != drawn.draw.expires_at
            {
                return Err(format!("lot {} restored beyond or unlike its draw", r.lot));
            }
            match r.kind {
                LotKind::Principal => sums.0 = add_restored(sums.0, r)?,
                LotKind::Bonus => sums.1 = add_restored(sums.1, r)?,
            }
            if !r.forfeited {
                self.give_back_to_lot(r)?;
            }
        }
        if sums != (principal, bonus) {
            return Err("restored lots do not add up to the refund".into());
        }
        let taken = self.take_points(points_reversed)?;
        rec.points_reversed = rec
            .points_reversed
            .checked_add(taken)
            .and_then(|p| p.checked_add(points_forgiven))
            .filter(|p| *p <= rec.points_earned)
            .ok_or("more points reversed than earned")?;
        self.bonus_spent = self.bonus_spent.minus(bonus);
        if self.bonus_spent.is_negative() {
            return Err("bonus spent goes below zero".into());
        }
        let consumptions = &mut self.rare_mut().consumptions;
        if rec.refunded == rec.charged {
            consumptions.remove(&consumption);
        } else {
            consumptions.insert(consumption, rec);
        }
        self.tidy_rare();
        Ok(())
    }

    /// A consumption refund folded without the consumption's record: the figures must add up
    /// and the restores re-open their lots; what the record would check (never more than was
    /// drawn) was checked when it was decided, and `verify` checks it again with records.
    fn fold_refund_without_record(
        &mut self,
        (principal, bonus, amount): (Money, Money, Money),
        restored: &[crate::event::Restore],
        points_reversed: &[crate::event::PointsDraw],
    ) -> Result<(), String> {
        if principal.plus(bonus) != amount || !amount.is_positive() {
            return Err("refund does not add up".into());
        }
        let mut sums = (Money::ZERO, Money::ZERO);
        for r in restored {
            if !r.amount.is_positive() {
                return Err(format!("lot {} is restored nothing", r.lot));
            }
            match r.kind {
                LotKind::Principal => sums.0 = add_restored(sums.0, r)?,
                LotKind::Bonus => sums.1 = add_restored(sums.1, r)?,
            }
            if !r.forfeited {
                self.give_back_to_lot(r)?;
            }
        }
        if sums != (principal, bonus) {
            return Err("restored lots do not add up to the refund".into());
        }
        self.take_points(points_reversed)?;
        self.bonus_spent = self.bonus_spent.minus(bonus);
        if self.bonus_spent.is_negative() {
            return Err("bonus spent goes below zero".into());
        }
        Ok(())
    }

    fn fold_adjusted(
        &mut self,
        event: &Event,
        (balance, direction): (Balance, Direction),
        (amount, points): (Option<Money>, Option<u64>),
        draws: &[Draw],
        points_draws: &[crate::event::PointsDraw],
        (lot, expires_at): (Option<u32>, Option<Timestamp>),
    ) -> Result<(), String> {
        let money = || {
            amount
                .filter(|a| a.is_positive())
                .ok_or("the adjustment moves no money")
        };
        match (direction, balance) {
            (Direction::Credit, Balance::Points) => {
                let lot = lot.ok_or("a credit names its lot")?;
                self.new_lot(lot)?;
                let n = points
                    .filter(|p| *p > 0)
                    .ok_or("the adjustment moves no points")?;
                self.push_point_lot(lot, n, expires_at);
            }
            (Direction::Credit, b) => {
                let lot = lot.ok_or("a credit names its lot")?;
                self.new_lot(lot)?;
                let kind = if b == Balance::Principal {
                    LotKind::Principal
                } else {
                    LotKind::Bonus
                };
                self.push_lot(kind, lot, &event.store, money()?, expires_at)?;
            }
            (Direction::Debit, Balance::Points) => {
                if Some(self.take_points(points_draws)?) != points {
                    return Err("the point draws do not add up".into());
                }
            }
            (Direction::Debit, b) => {
                let kind = if b == Balance::Principal {
                    LotKind::Principal
                } else {
                    LotKind::Bonus
                };
                check_draws_sum(draws, kind, money()?)?;
                for d in draws {
                    self.take_from_lot(d.kind, d.lot, d.amount)?;
                }
            }
        }
        Ok(())
    }

    /// The open package `id`, for folding onto.
    fn open_package(&mut self, id: Uuid) -> Result<&mut Package, String> {
        self.rare
            .as_mut()
            .and_then(|r| r.packages.get_mut(&id))
            .filter(|p| p.status == PackageStatus::Open)
            .ok_or_else(|| format!("no open package {id}"))
    }

    fn fold_package_purchased(&mut self, event: &Event) -> Result<(), String> {
        let EventBody::PackagePurchased(PackagePurchased {
            bonus,
            cash,
            draws,
            expires_at,
            package,
            price,
            principal,
            service,
            session_price,
            sessions,
            ..
        }) = &event.body
        else {
            unreachable!("called for package_purchased")
        };
        if *package != event.command || self.packages().contains_key(package) {
            return Err(format!(
                "package {package} is not its purchase command's id, or is bought twice"
            ));
        }
        if cash.plus(*principal).plus(*bonus) != *price || !price.is_positive() {
            return Err("cash + principal + bonus != price".into());
        }
        let paid_from = if cash.is_positive() {
            if !(principal.is_zero() && bonus.is_zero() && draws.is_empty()) {
                return Err("a package is paid in cash or from the balance, not both".into());
            }
            PaidFrom::Cash
        } else {
            PaidFrom::Balance
        };
        if *sessions == 0
            || *sessions > crate::command::SESSIONS_MAX
            || session_price.cents() != price.cents() / i64::from(*sessions)
            || !session_price.is_positive()
        {
            return Err("session_price is not floor(price / sessions) of a valid count".into());
        }
        if expires_at.is_some_and(|t| t <= event.at) {
            return Err("the package expires before it is bought".into());
        }
        check_draws_sum(draws, LotKind::Principal, *principal)?;
        check_draws_sum(draws, LotKind::Bonus, *bonus)?;
        for d in draws {
            self.take_from_lot(d.kind, d.lot, d.amount)?;
        }
        self.add_bonus_spent(*bonus)?;
        self.packages_mut().insert(
            *package,
            Package {
                package: *package,
                service: service.clone(),
                origin_store: event.store.clone(),
                paid_from,
                sessions: *sessions,
                sessions_left: *sessions,
                session_price: *session_price,
                price: *price,
                bonus_paid: *bonus,
                principal_left: price.minus(*bonus),
                bonus_left: *bonus,
                expires_at: *expires_at,
                bonus_expires_at: draws
                    .iter()
                    .filter(|d| d.kind == LotKind::Bonus)
                    .filter_map(|d| d.expires_at)
                    .min(),
                status: PackageStatus::Open,
                bonus_counted: *bonus,
            },
        );
        Ok(())
    }

    fn fold_session_redeemed(&mut self, event: &Event) -> Result<(), String> {
        let EventBody::SessionRedeemed(SessionRedeemed {
            amount,
            bonus,
            origin_store,
            package,
            principal,
            session,
            sessions_left,
            ..
        }) = &event.body
        else {
            unreachable!("called for session_redeemed")
        };
        let p = self.open_package(*package)?;
        if p.expires_at.is_some_and(|t| t <= event.at) {
            return Err(format!("package {package} has expired"));
        }
        if *origin_store != p.origin_store
            || *session != p.sessions - p.sessions_left + 1
            || *sessions_left + 1 != p.sessions_left
        {
            return Err(format!(
                "session {session} does not follow package {package}"
            ));
        }
        let due = if *sessions_left == 0 {
            p.value_left()
        } else {
            p.session_price
        };
        if principal.plus(*bonus) != *amount || *amount != due {
            return Err(format!(
                "session {session} of package {package} is worth {due}"
            ));
        }
        if *principal > p.principal_left || *bonus > p.bonus_left {
            return Err(format!(
                "session {session} takes more than package {package} holds"
            ));
        }
        p.principal_left = p.principal_left.minus(*principal);
        p.bonus_left = p.bonus_left.minus(*bonus);
        p.sessions_left = *sessions_left;
        if p.sessions_left == 0 {
            p.close(PackageStatus::Used);
        }
        Ok(())
    }

    fn fold_package_refunded(&mut self, event: &Event) -> Result<(), String> {
        let EventBody::PackageRefunded(PackageRefunded {
            amount,
            bonus,
            bonus_lot,
            bonus_unspent,
            expires_at,
            lot,
            origin_store,
            package,
            principal,
            sessions,
            to,
            ..
        }) = &event.body
        else {
            unreachable!("called for package_refunded")
        };
        let p = self.open_package(*package)?;
        if p.expires_at.is_some_and(|t| t <= event.at) {
            return Err(format!("package {package} has expired"));
        }
        if (*sessions, *principal, *bonus) != (p.sessions_left, p.principal_left, p.bonus_left)
            || principal.plus(*bonus) != *amount
            || *origin_store != p.origin_store
        {
            return Err(format!("package {package} holds other figures"));
        }
        let bonus_expires_at = p.bonus_expires_at;
        p.close(PackageStatus::Refunded);
        if *bonus_unspent > *bonus || *bonus_unspent > self.bonus_spent {
            return Err("bonus_unspent exceeds the bonus share or the bonus spent".into());
        }
        self.bonus_spent = self.bonus_spent.minus(*bonus_unspent);
        match to {
            PaidFrom::Cash => {
                if lot.is_some() || bonus_lot.is_some() || expires_at.is_some() {
                    return Err("a refund to cash opens no lot".into());
                }
            }
            PaidFrom::Balance => {
                // The bonus share keeps the expiry of the bonus that paid for it; past it, the
                // share is forfeited and opens no lot.
                let bonus_expiry = bonus.is_positive().then_some(bonus_expires_at).flatten();
                let forfeited = bonus_expiry.is_some_and(|t| t <= event.at);
                if *expires_at != bonus_expiry {
                    return Err("the bonus share's expiry is not its bonus's".into());
                }
                for (kind, share, lot, expires_at) in [
                    (LotKind::Principal, *principal, *lot, None),
                    (LotKind::Bonus, *bonus, *bonus_lot, *expires_at),
                ] {
                    match lot {
                        None if kind == LotKind::Bonus && forfeited => {}
                        Some(n)
                            if share.is_positive() && !(kind == LotKind::Bonus && forfeited) =>
                        {
                            self.new_lot(n)?;
                            self.push_lot(kind, n, origin_store, share, expires_at)?;
                        }
                        None if share.is_zero() => {}
                        _ => return Err(format!("the {kind:?} share and its lot disagree")),
                    }
                }
            }
        }
        Ok(())
    }

    /// Takes each draw's points from its point lot (emptied lots close); returns the total.
    fn take_points(&mut self, draws: &[crate::event::PointsDraw]) -> Result<u64, String> {
        let mut taken = 0u64;
        for d in draws {
            let l = self
                .holdings
                .iter_mut()
                .find(|l| {
                    l.is_lot(HoldingKind::Points, d.lot) && l.points() >= d.points && d.points > 0
                })
                .ok_or_else(|| format!("point lot {} cannot give {} points", d.lot, d.points))?;
            l.set_points(l.points() - d.points);
            taken = taken
                .checked_add(d.points)
                .ok_or("the point draws overflow")?;
        }
        if !draws.is_empty() {
            self.holdings
                .retain(|l| l.kind != HoldingKind::Points || l.points() > 0);
        }
        Ok(taken)
    }

    fn new_lot(&mut self, lot: u32) -> Result<(), String> {
        if lot != self.next_lot {
            return Err(format!("expected lot number {}, got {lot}", self.next_lot));
        }
        self.next_lot = lot
            .checked_add(1)
            .ok_or("a member's lot numbers are exhausted")?;
        Ok(())
    }

    fn find_lot(&self, kind: LotKind, lot: u32) -> Result<&Holding, String> {
        self.holdings
            .iter()
            .find(|l| l.is_lot(kind.into(), lot))
            .ok_or_else(|| format!("no open {kind:?} lot {lot}"))
    }

    /// Takes an amount from a lot; an emptied lot is dropped (a refund re-creates it).
    fn take_from_lot(&mut self, kind: LotKind, lot: u32, amount: Money) -> Result<(), String> {
        let i = self
            .holdings
            .iter()
            .position(|l| l.is_lot(kind.into(), lot))
            .ok_or_else(|| format!("no open {kind:?} lot {lot}"))?;
        let left = self.holdings[i].cents().minus(amount);
        if left.is_negative() || !amount.is_positive() {
            return Err(format!("cannot take {amount} from {kind:?} lot {lot}"));
        }
        if left.is_zero() {
            self.holdings.remove(i);
        } else {
            self.holdings[i].set_cents(left);
        }
        Ok(())
    }

    /// Gives a restore's amount back to its lot, re-opening it in lot order if it was emptied.
    fn give_back_to_lot(&mut self, r: &crate::event::Restore) -> Result<(), String> {
        let kind = HoldingKind::from(r.kind);
        if let Some(l) = self.holdings.iter_mut().find(|l| l.is_lot(kind, r.lot)) {
            let sum = l.cents().checked_plus(r.amount);
            l.set_cents(sum.ok_or_else(|| format!("lot {} overflows", r.lot))?);
            return Ok(());
        }
        let origin = self.store_number(&r.origin_store)?;
        let at = self
            .holdings
            .iter()
            .position(|l| l.kind == kind && l.lot > r.lot)
            .unwrap_or(self.holdings.len());
        self.holdings.insert(
            at,
            Holding {
                time: r.expires_at,
                amount: r.amount.cents().to_ne_bytes(),
                lot: r.lot,
                origin,
                kind,
            },
        );
        Ok(())
    }

    /// Adds bonus drawn to the bonus spent, refusing an overflow (only a forged log reaches
    /// one: `decide` keeps it within the bounds).
    fn add_bonus_spent(&mut self, bonus: Money) -> Result<(), String> {
        self.bonus_spent = self
            .bonus_spent
            .checked_plus(bonus)
            .ok_or("bonus spent overflows")?;
        Ok(())
    }

    fn push_window(&mut self, at: Timestamp, cents: i64) {
        let from = at.minus_days(UPGRADE_WINDOW_DAYS);
        self.holdings
            .retain(|h| h.kind != HoldingKind::Recharge || h.time.is_some_and(|t| t > from));
        self.holdings.push(Holding {
            time: Some(at),
            amount: cents.to_ne_bytes(),
            lot: 0,
            origin: 0,
            kind: HoldingKind::Recharge,
        });
    }
}

impl Package {
    fn close(&mut self, status: PackageStatus) {
        self.status = status;
        self.sessions_left = 0;
        self.principal_left = Money::ZERO;
        self.bonus_left = Money::ZERO;
    }
}

fn check_draws_sum(draws: &[Draw], kind: LotKind, want: Money) -> Result<(), String> {
    let got: i128 = draws
        .iter()
        .filter(|d| d.kind == kind)
        .map(|d| i128::from(d.amount.cents()))
        .sum();
    if got != i128::from(want.cents()) {
        let got = i64::try_from(got).map_or_else(
            |_| format!("{got} cents"),
            |c| Money::from_cents(c).to_string(),
        );
        return Err(format!("{kind:?} draws add up to {got}, not {want}"));
    }
    Ok(())
}

/// Adds a restore to a running sum, refusing an overflow (only a forged log reaches one).
fn add_restored(sum: Money, r: &crate::event::Restore) -> Result<Money, String> {
    sum.checked_plus(r.amount)
        .ok_or_else(|| "restored lots overflow".to_owned())
}

fn fold_error(event: &Event, why: String) -> FoldError {
    FoldError {
        member: event.member.to_string(),
        version: event.version,
        event_type: event.body.type_name(),
        why,
    }
}

/// What a member holds, as shown to people and adapters (DESIGN §7's member view).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberView {
    /// The member.
    pub member: MemberId,
    /// The store that opened the card.
    pub home_store: StoreId,
    /// The tier held.
    pub tier: String,
    /// Principal held.
    pub principal: Money,
    /// Bonus held.
    pub bonus: Money,
    /// Points held.
    pub points: u64,
    /// Events folded.
    pub version: u64,
    /// Whether the card is frozen.
    pub frozen: bool,
    /// Open principal and bonus lots, principal first.
    pub lots: Vec<Lot>,
    /// Open point lots.
    pub point_lots: Vec<PointLot>,
    /// Value held in open packages.
    pub package_value: Money,
    /// Packages bought, open ones first, then by id.
    pub packages: Vec<Package>,
}

impl From<&MemberState> for MemberView {
    fn from(s: &MemberState) -> MemberView {
        MemberView {
            member: s.member.clone(),
            home_store: s.home_store.clone(),
            tier: s.tier.to_string(),
            principal: s.principal(),
            bonus: s.bonus(),
            points: s.points(),
            version: s.version,
            frozen: s.frozen,
            lots: s
                .lots(LotKind::Principal)
                .chain(s.lots(LotKind::Bonus))
                .collect(),
            point_lots: s.point_lots(),
            package_value: s.package_value(),
            packages: {
                let mut v: Vec<Package> = s.packages().values().cloned().collect();
                v.sort_by_key(|p| p.status != PackageStatus::Open);
                v
            },
        }
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use super::*;

    /// A ledger caches one `MemberState` for every member: keep it compact.
    #[test]
    fn the_projection_stays_compact() {
        assert_eq!(std::mem::size_of::<Holding>(), 28);
        assert_eq!(std::mem::size_of::<MemberState>(), 144);
    }
}

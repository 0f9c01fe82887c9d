//! A member's holdings: every open lot (principal, bonus, points) and the recharge window in
//! one compact list, and the lot operations the fold uses.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::event::{Draw, LotKind};
use crate::id::StoreId;
use crate::money::Money;
use crate::time::Timestamp;

use super::{MemberState, Package, Rare, UPGRADE_WINDOW_DAYS};

/// What one entry of [`MemberState`]'s holdings is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum HoldingKind {
    Principal,
    Bonus,
    Points,
    /// An entry of the recharge window: `time` is when, `amount` the signed cents.
    Recharge,
    /// A day of the spending and visit window: `time` is the day's first instant, `amount`
    /// the signed cents charged less refunded that day, `lot` the visits that day.
    Spend,
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
pub(super) struct Holding {
    /// A lot's expiry, or a window entry's time.
    pub(super) time: Option<Timestamp>,
    /// Cents (`i64`, lots of money and window entries) or points (`u64`), native-endian.
    pub(super) amount: [u8; 8],
    /// The lot number (0 for a recharge-window entry, the day's visits for a spending one).
    pub(super) lot: u32,
    /// The origin store's number: 0 is the home store (0 for points and window entries).
    pub(super) origin: u16,
    pub(super) kind: HoldingKind,
}

/// A holding is written as the array `[time, amount, lot, origin, kind]` (the amount's eight
/// bytes as one integer, the kind its number in declaration order): a member's checkpointed projection is mostly holdings, and an array
/// carries no field names.
impl serde::Serialize for Holding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let amount = i64::from_ne_bytes(self.amount);
        (self.time, amount, self.lot, self.origin, self.kind as u8).serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Holding {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Holding, D::Error> {
        let (time, amount, lot, origin, kind) =
            <(Option<Timestamp>, i64, u32, u16, u8)>::deserialize(d)?;
        let kind = match kind {
            0 => HoldingKind::Principal,
            1 => HoldingKind::Bonus,
            2 => HoldingKind::Points,
            3 => HoldingKind::Recharge,
            4 => HoldingKind::Spend,
            _ => return Err(serde::de::Error::custom(format!("holding kind {kind}"))),
        };
        Ok(Holding {
            time,
            amount: amount.to_ne_bytes(),
            lot,
            origin,
            kind,
        })
    }
}

impl Holding {
    pub(super) fn cents(&self) -> Money {
        Money::from_cents(i64::from_ne_bytes(self.amount))
    }

    pub(super) fn set_cents(&mut self, m: Money) {
        self.amount = m.cents().to_ne_bytes();
    }

    pub(super) fn points(&self) -> u64 {
        u64::from_ne_bytes(self.amount)
    }

    pub(super) fn set_points(&mut self, p: u64) {
        self.amount = p.to_ne_bytes();
    }

    pub(super) fn is_lot(&self, kind: HoldingKind, lot: u32) -> bool {
        self.kind == kind && self.lot == lot
    }
}

impl MemberState {
    /// The store numbered `n` in this member's table (0 is the home store).
    pub(super) fn store(&self, n: u16) -> &StoreId {
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
    pub(super) fn store_number(&mut self, store: &StoreId) -> Result<u16, String> {
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

    pub(super) fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// Drops the box of rare parts once it holds nothing, so equal members compare equal.
    pub(super) fn tidy_rare(&mut self) {
        if self.rare.as_ref().is_some_and(|r| r.is_empty()) {
            self.rare = None;
        }
    }

    pub(super) fn packages_mut(&mut self) -> &mut BTreeMap<Uuid, Box<Package>> {
        &mut self.rare_mut().packages
    }

    /// Opens a lot of money at the end of its kind's lots.
    pub(super) fn push_lot(
        &mut self,
        kind: LotKind,
        lot: u32,
        origin_store: &StoreId,
        remaining: Money,
        expires_at: Option<Timestamp>,
    ) -> Result<(), String> {
        let origin = self.store_number(origin_store)?;
        // Every lot opened is a credit: what a pro-rata balance refund counts as paid in
        // (principal) or granted (bonus), held within what an event may record.
        let credited = match kind {
            LotKind::Principal => &mut self.credited_principal,
            LotKind::Bonus => &mut self.credited_bonus,
        };
        *credited = credited
            .checked_plus(remaining)
            .unwrap_or(crate::bounds::RECORDED_MAX)
            .min(crate::bounds::RECORDED_MAX);
        self.holdings.push(Holding {
            time: expires_at,
            amount: remaining.cents().to_ne_bytes(),
            lot,
            origin,
            kind: kind.into(),
        });
        Ok(())
    }

    pub(super) fn push_point_lot(&mut self, lot: u32, points: u64, expires_at: Option<Timestamp>) {
        self.holdings.push(Holding {
            time: expires_at,
            amount: points.to_ne_bytes(),
            lot,
            origin: 0,
            kind: HoldingKind::Points,
        });
    }

    /// Takes each draw's points from its point lot (emptied lots close); returns the total.
    pub(super) fn take_points(
        &mut self,
        draws: &[crate::event::PointsDraw],
    ) -> Result<u64, String> {
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

    pub(super) fn new_lot(&mut self, lot: u32) -> Result<(), String> {
        if lot != self.next_lot {
            return Err(format!("expected lot number {}, got {lot}", self.next_lot));
        }
        self.next_lot = lot
            .checked_add(1)
            .ok_or("a member's lot numbers are exhausted")?;
        Ok(())
    }

    pub(super) fn find_lot(&self, kind: LotKind, lot: u32) -> Result<&Holding, String> {
        self.holdings
            .iter()
            .find(|l| l.is_lot(kind.into(), lot))
            .ok_or_else(|| format!("no open {kind:?} lot {lot}"))
    }

    /// Takes an amount from a lot; an emptied lot is dropped (a refund re-creates it).
    pub(super) fn take_from_lot(
        &mut self,
        kind: LotKind,
        lot: u32,
        amount: Money,
    ) -> Result<(), String> {
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
    pub(super) fn give_back_to_lot(&mut self, r: &crate::event::Restore) -> Result<(), String> {
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
    pub(super) fn add_bonus_spent(&mut self, bonus: Money) -> Result<(), String> {
        self.bonus_spent = self
            .bonus_spent
            .checked_plus(bonus)
            .ok_or("bonus spent overflows")?;
        Ok(())
    }

    pub(super) fn push_window(&mut self, at: Timestamp, cents: i64) {
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

pub(super) fn check_draws_sum(draws: &[Draw], kind: LotKind, want: Money) -> Result<(), String> {
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
pub(super) fn add_restored(sum: Money, r: &crate::event::Restore) -> Result<Money, String> {
    sum.checked_plus(r.amount)
        .ok_or_else(|| "restored lots overflow".to_owned())
}

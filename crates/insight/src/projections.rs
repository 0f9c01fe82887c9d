//! The projections: one fold over the log, fed an event at a time.

use std::collections::{BTreeMap, HashMap};

use memberledger::domain::{Event, RecordedEvent, StaffId};
use memberledger::{Error, Ledger, MemberId, StoreId, Timestamp, Uuid};

use crate::calendar::{Calendar, Month};
use crate::campaign::{CampaignKey, CampaignStats, LastRecharge, LotKey};
use crate::member::MemberStats;
use crate::service::ServiceStats;
use crate::staff::{StaffDay, StaffKey};
use crate::store_month::StoreMonth;

/// Events read per page when catching up with a ledger.
const PAGE: usize = 4096;

/// Who delivered a consumption, to charge its refund to them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sale {
    pub(crate) staff: Option<StaffId>,
    pub(crate) service: Option<String>,
    /// The policy version it was made under and the member's tier then: what its refund
    /// takes commission back at.
    pub(crate) policy: u32,
    pub(crate) tier: Option<String>,
}

/// A staff day's sales by the policy version in force and the member's tier at each sale:
/// what commission is paid at.
pub type SaleKey = (StaffKey, u32, Option<String>);

/// Every projection the reports read, folded from recorded events.
///
/// Feed it with [`apply`](Projections::apply) in log order, from genesis or from where it
/// stopped ([`position`](Projections::position)); it equals a replay from genesis either
/// way. With an `as_of` time, events dated after it are passed over (as the books'
/// snapshots do), so the projections are those of that time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Projections {
    pub(crate) calendar: Calendar,
    pub(crate) as_of: Option<Timestamp>,
    pub(crate) position: u64,
    pub(crate) events: u64,
    pub(crate) latest: Option<Timestamp>,
    pub(crate) members: BTreeMap<MemberId, MemberStats>,
    pub(crate) months: BTreeMap<(StoreId, Month), StoreMonth>,
    pub(crate) staff: BTreeMap<StaffKey, StaffDay>,
    pub(crate) services: BTreeMap<String, ServiceStats>,
    pub(crate) consumptions: HashMap<Uuid, Sale>,
    pub(crate) packages: HashMap<Uuid, Sale>,
    pub(crate) sales: BTreeMap<SaleKey, StaffDay>,
    pub(crate) campaigns: BTreeMap<CampaignKey, CampaignStats>,
    pub(crate) lots: HashMap<LotKey, CampaignKey>,
    pub(crate) last_recharge: Option<LastRecharge>,
}

impl Projections {
    /// Empty projections in `calendar`'s local time, of everything (`as_of` `None`) or of
    /// what was recorded at or before `as_of`.
    #[must_use]
    pub fn new(calendar: Calendar, as_of: Option<Timestamp>) -> Projections {
        Projections {
            calendar,
            as_of,
            ..Projections::default()
        }
    }

    /// The projections of a ledger (UTC), folded from genesis.
    pub fn build(ledger: &Ledger, as_of: Option<Timestamp>) -> Result<Projections, Error> {
        let mut p = Projections::new(Calendar::utc(), as_of);
        p.catch_up(ledger)?;
        Ok(p)
    }

    /// Folds what the ledger recorded after [`position`](Projections::position).
    pub fn catch_up(&mut self, ledger: &Ledger) -> Result<(), Error> {
        for rec in ledger.events(self.position + 1, PAGE) {
            self.apply(&rec?);
        }
        Ok(())
    }

    /// The position of the last event fed (0 before any).
    #[must_use]
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Events folded (those fed and not after `as_of`).
    #[must_use]
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The latest event time folded: the "now" of a ledger that is not being written to.
    #[must_use]
    pub fn latest(&self) -> Option<Timestamp> {
        self.latest
    }

    /// The calendar the projections use.
    #[must_use]
    pub fn calendar(&self) -> Calendar {
        self.calendar
    }

    /// Each member's figures.
    #[must_use]
    pub fn members(&self) -> &BTreeMap<MemberId, MemberStats> {
        &self.members
    }

    /// Each store's flows of stored value by month.
    #[must_use]
    pub fn store_months(&self) -> &BTreeMap<(StoreId, Month), StoreMonth> {
        &self.months
    }

    /// Each staff member's figures by store and day.
    #[must_use]
    pub fn staff_days(&self) -> &BTreeMap<StaffKey, StaffDay> {
        &self.staff
    }

    /// Each staff day's figures by the policy version and the member's tier at each sale.
    #[must_use]
    pub fn staff_sales(&self) -> &BTreeMap<SaleKey, StaffDay> {
        &self.sales
    }

    /// Each member's recharges by policy version and bonus rule, and their lots since.
    #[must_use]
    pub fn campaigns(&self) -> &BTreeMap<CampaignKey, CampaignStats> {
        &self.campaigns
    }

    /// Each service's visits and revenue by weekday and hour.
    #[must_use]
    pub fn services(&self) -> &BTreeMap<String, ServiceStats> {
        &self.services
    }

    /// Folds one recorded event. Events must come in log order with none missed; one at or
    /// before [`position`](Projections::position) is ignored, so feeding twice is harmless.
    pub fn apply(&mut self, rec: &RecordedEvent) {
        if rec.position <= self.position {
            return;
        }
        self.position = rec.position;
        let e = &rec.event;
        if self.as_of.is_some_and(|t| e.at > t) || !e.member.is_member() {
            return;
        }
        self.events += 1;
        self.latest = Some(self.latest.map_or(e.at, |t| t.max(e.at)));
        self.fold(e);
    }

    /// The stored value `store` holds for the member moved by `cents`, with `flow` the
    /// month's figure it adds to.
    pub(crate) fn hold(
        &mut self,
        e: &Event,
        store: &StoreId,
        cents: i128,
        flow: fn(&mut StoreMonth) -> &mut i128,
    ) {
        let month = self.calendar.month(e.at);
        let m = self.months.entry((store.clone(), month)).or_default();
        *flow(m) += cents.abs();
        self.member(&e.member).hold(store, cents);
    }

    pub(crate) fn member(&mut self, id: &MemberId) -> &mut MemberStats {
        self.members.entry(id.clone()).or_default()
    }

    /// A sale or service by `staff` at `store` on the event's local day, made under policy
    /// `version` to a member of `tier`: `f` adds it to the day's figures.
    pub(crate) fn staff_day(
        &mut self,
        e: &Event,
        staff: Option<&StaffId>,
        store: &StoreId,
        (version, tier): (u32, Option<String>),
        f: impl Fn(&mut StaffDay),
    ) {
        let key: StaffKey = (staff.cloned(), store.clone(), self.calendar.date(e.at));
        f(self.staff.entry(key.clone()).or_default());
        f(self.sales.entry((key, version, tier)).or_default());
    }

    /// The policy version of the event and the member's tier now: a sale's terms.
    pub(crate) fn terms(&self, e: &Event) -> (u32, Option<String>) {
        let tier = self.members.get(&e.member).and_then(|m| m.tier.clone());
        (e.policy, tier)
    }
}

//! The quarterly deposit and filing report (《单用途商业预付卡管理办法》, deposits art. 26;
//! docs/COMPLIANCE.md): by issuing entity, the outstanding prepaid balance at the quarter's
//! end, the deposit its ratio requires, the quarter's movement, members over the cap and the
//! thresholds crossed.

use std::collections::BTreeMap;

use memberledger::domain::{
    Decimal, EntityKind, LotKind, Policy, PrepaidPolicy, DEFAULT_DEPOSIT_RATIO,
};
use memberledger::{Error, Ledger, Money, Timestamp};
use serde::Serialize;

use super::flows::{Cents, Flows, Movement};
use super::quarter::Quarter;
use crate::Snapshot;

/// What an entity owes its members at an instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Outstanding {
    /// Principal held on cards (paid, unused).
    pub principal: Money,
    /// The paid part of packages' unused sessions.
    pub packages: Money,
    /// What members paid and have not used: `principal + packages` (预收资金余额).
    pub paid: Money,
    /// Bonus held, on cards and in packages: shown apart, never paid.
    pub bonus: Money,
}

/// A member whose stored value is above the policy's cap at the quarter's end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct OverCap {
    /// The member.
    pub member: String,
    /// Principal and bonus held.
    pub stored_value: Money,
    /// The cap.
    pub cap: Money,
}

/// One issuing entity's figures for the quarter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EntityReport {
    /// The entity's id (`default` for stores no entity lists).
    pub entity: String,
    /// Its registered name (none for the default entity).
    pub name: Option<String>,
    /// Its class (none for the default entity).
    pub kind: Option<EntityKind>,
    /// The share of the previous quarter's outstanding balance it holds in deposit.
    pub deposit_ratio: Decimal,
    /// The outstanding balance at the previous quarter's end.
    pub previous: Outstanding,
    /// The outstanding balance at this quarter's end.
    pub outstanding: Outstanding,
    /// The deposit to hold during this quarter: `round(ratio × previous.paid)`.
    pub deposit_required: Money,
    /// The deposit to hold during the next quarter: `round(ratio × outstanding.paid)`.
    pub deposit_required_next: Money,
    /// The quarter's movement of paid value.
    pub movement: Movement,
    /// Members of its stores (by home store) above the cap at the quarter's end.
    pub members_over_cap: Vec<OverCap>,
    /// Thresholds its outstanding paid balance reached.
    pub thresholds_crossed: Vec<String>,
}

/// The report: every entity with figures or listed by the policy in force at the quarter's
/// end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PrepaidReport {
    /// The quarter (`2026Q3`).
    pub quarter: String,
    /// Its first instant.
    pub from: Timestamp,
    /// Its last instant (a nanosecond before the next quarter).
    pub to: Timestamp,
    /// By entity, in id order (`default` among them).
    pub entities: Vec<EntityReport>,
}

/// Outstanding figures in cents by store: principal, paid package value, bonus.
type ByStore = BTreeMap<String, [i128; 3]>;

fn by_store(s: &Snapshot) -> ByStore {
    let mut out = ByStore::new();
    for (_, m) in s.members() {
        for l in m.lots(LotKind::Principal).chain(m.lots(LotKind::Bonus)) {
            let slot = if l.kind == LotKind::Principal { 0 } else { 2 };
            out.entry(l.origin_store.to_string()).or_default()[slot] +=
                i128::from(l.remaining.cents());
        }
        for p in m.packages().values() {
            let e = out.entry(p.origin_store.to_string()).or_default();
            e[1] += i128::from(p.principal_left.cents());
            e[2] += i128::from(p.bonus_left.cents());
        }
    }
    out
}

fn money(cents: i128) -> Result<Money, Error> {
    i64::try_from(cents)
        .map(Money::from_cents)
        .map_err(|_| Error::Corrupt {
            position: 0,
            why: format!("a total of {cents} cents is beyond what a report can hold"),
        })
}

fn by_entity(stores: &ByStore, prepaid: &PrepaidPolicy) -> BTreeMap<String, [i128; 3]> {
    let mut out: BTreeMap<String, [i128; 3]> = BTreeMap::new();
    for (store, figures) in stores {
        let e = out.entry(prepaid.entity_of(store).to_owned()).or_default();
        for (a, b) in e.iter_mut().zip(figures) {
            *a += b;
        }
    }
    out
}

fn outstanding(f: [i128; 3]) -> Result<Outstanding, Error> {
    Ok(Outstanding {
        principal: money(f[0])?,
        packages: money(f[1])?,
        paid: money(f[0] + f[1])?,
        bonus: money(f[2])?,
    })
}

/// The prepaid report for `quarter`, its quarters bounded at `utc_offset_secs` east of UTC,
/// under the policy in force at the quarter's end; `entity` keeps one entity.
pub fn prepaid_report(
    ledger: &Ledger,
    quarter: Quarter,
    utc_offset_secs: i32,
    entity: Option<&str>,
) -> Result<PrepaidReport, Error> {
    let (from, to) = (quarter.start(utc_offset_secs), quarter.end(utc_offset_secs));
    let prev_end = quarter.previous().end(utc_offset_secs);
    let policy = ledger.policy_at(to).policy;
    let prepaid = policy.prepaid.clone().unwrap_or_default();
    let opening = by_entity(
        &by_store(&Snapshot::as_of(ledger, Some(prev_end))?),
        &prepaid,
    );
    let closing_snapshot = Snapshot::as_of(ledger, Some(to))?;
    let closing = by_entity(&by_store(&closing_snapshot), &prepaid);
    let entity_of = |s: &str| prepaid.entity_of(s).to_owned();
    let mut flows = Flows::new(&entity_of);
    for rec in ledger.events(1, 4096) {
        let rec = rec?;
        if rec.event.at >= from && rec.event.at <= to {
            flows.fold(&rec.event);
        }
    }
    let over_cap = over_cap(&closing_snapshot, &policy, &prepaid);
    let mut ids: Vec<String> = prepaid.entities.iter().map(|e| e.id.clone()).collect();
    ids.extend(opening.keys().chain(closing.keys()).cloned());
    ids.extend(flows.by_entity.keys().cloned());
    ids.sort();
    ids.dedup();
    let mut entities = Vec::new();
    for id in ids.into_iter().filter(|id| entity.is_none_or(|e| e == id)) {
        let open = opening.get(&id).copied().unwrap_or_default();
        let close = closing.get(&id).copied().unwrap_or_default();
        let moved = flows.by_entity.get(&id).copied().unwrap_or_default();
        entities.push(entity_report(
            &id,
            &policy,
            &prepaid,
            (open, close, moved),
            over_cap.get(&id).cloned().unwrap_or_default(),
        )?);
    }
    Ok(PrepaidReport {
        quarter: quarter.to_string(),
        from,
        to,
        entities,
    })
}

fn entity_report(
    id: &str,
    policy: &Policy,
    prepaid: &PrepaidPolicy,
    (open, close, moved): ([i128; 3], [i128; 3], Cents),
    members_over_cap: Vec<OverCap>,
) -> Result<EntityReport, Error> {
    let listed = prepaid.entities.iter().find(|e| e.id == id);
    let ratio = listed.map_or(DEFAULT_DEPOSIT_RATIO, |e| e.deposit_ratio);
    let (previous, outstanding) = (outstanding(open)?, outstanding(close)?);
    if moved.closing(open[0] + open[1]) != close[0] + close[1] {
        return Err(Error::Corrupt {
            position: 0,
            why: format!("entity {id}: the quarter's movement does not lead from the opening to the closing balance"),
        });
    }
    let deposit = |m: Money| {
        m.checked_times(ratio, policy.rounding)
            .ok_or_else(|| Error::Corrupt {
                position: 0,
                why: format!("entity {id}: a deposit beyond what a report can hold"),
            })
    };
    Ok(EntityReport {
        entity: id.to_owned(),
        name: listed.map(|e| e.name.clone()),
        kind: listed.map(|e| e.kind),
        deposit_ratio: ratio,
        deposit_required: deposit(previous.paid)?,
        deposit_required_next: deposit(outstanding.paid)?,
        previous,
        outstanding,
        movement: moved.money(),
        members_over_cap,
        thresholds_crossed: prepaid
            .thresholds
            .iter()
            .filter(|t| outstanding.paid >= t.outstanding)
            .map(|t| t.name.clone())
            .collect(),
    })
}

/// Members above the cap, by the entity of their home store.
fn over_cap(
    s: &Snapshot,
    policy: &Policy,
    prepaid: &PrepaidPolicy,
) -> BTreeMap<String, Vec<OverCap>> {
    let mut out: BTreeMap<String, Vec<OverCap>> = BTreeMap::new();
    let Some(cap) = policy.prepaid.as_ref().and_then(|p| p.stored_value_cap) else {
        return out;
    };
    for (id, m) in s.members() {
        let held = m.principal().plus(m.bonus());
        if held > cap {
            out.entry(prepaid.entity_of(m.home_store.as_str()).to_owned())
                .or_default()
                .push(OverCap {
                    member: id.to_string(),
                    stored_value: held,
                    cap,
                });
        }
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| a.member.cmp(&b.member));
    }
    out
}

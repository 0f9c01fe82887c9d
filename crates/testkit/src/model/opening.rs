//! `open_balance` in the model: a member moving from another system is enrolled with the lots
//! and packages it held there (principal lots numbered first, then bonus, then points), in two
//! events.

use std::collections::BTreeMap;

use memberledger::domain::opened_package_id;
use serde_json::{json, Value};

use super::member::{Lot, Member, Package, PkgStatus, PointLot};
use super::policy::tier_index;
use super::spec::{money, time, Spec};
use super::Change;

/// What an opening carries, as the model writes it (cents, seconds).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpeningSpec {
    /// Principal lots: origin store, cents.
    pub principal: Vec<(String, i64)>,
    /// Bonus lots: origin store, cents, expiry.
    pub bonus: Vec<(String, i64, Option<i64>)>,
    /// Point lots: points, expiry.
    pub points: Vec<(u64, Option<i64>)>,
    /// Packages: origin store, service, session price in cents, sessions left, expiry.
    pub packages: Vec<(String, String, i64, u32, Option<i64>)>,
}

impl OpeningSpec {
    /// The wire form's `opening` object.
    pub fn to_value(&self) -> Value {
        let exp = |e: &Option<i64>| e.map(time);
        let mut o = serde_json::Map::new();
        let mut put = |k: &str, v: Vec<Value>| {
            if !v.is_empty() {
                o.insert(k.to_owned(), Value::Array(v));
            }
        };
        put(
            "principal",
            self.principal
                .iter()
                .map(|(s, c)| json!({"amount": money(*c), "origin_store": s}))
                .collect(),
        );
        put(
            "bonus",
            self.bonus
                .iter()
                .map(|(s, c, e)| match exp(e) {
                    Some(t) => json!({"amount": money(*c), "origin_store": s, "expires_at": t}),
                    None => json!({"amount": money(*c), "origin_store": s}),
                })
                .collect(),
        );
        put(
            "points",
            self.points
                .iter()
                .map(|(p, e)| match exp(e) {
                    Some(t) => json!({"points": p, "expires_at": t}),
                    None => json!({"points": p}),
                })
                .collect(),
        );
        put(
            "packages",
            self.packages
                .iter()
                .map(|(s, svc, c, n, e)| {
                    let mut v = json!({"origin_store": s, "service": svc, "session_price": money(*c), "sessions": n});
                    if let Some(t) = exp(e) {
                        v["expires_at"] = Value::from(t);
                    }
                    v
                })
                .collect(),
        );
        Value::Object(o)
    }

    /// Every expiry after the command's time (else `invalid_command`).
    fn check(&self, at: i64) -> Result<(), &'static str> {
        let expiries = self
            .bonus
            .iter()
            .map(|b| b.2)
            .chain(self.points.iter().map(|p| p.1))
            .chain(self.packages.iter().map(|p| p.4));
        if expiries.flatten().any(|e| e <= at) {
            return Err("invalid_command");
        }
        Ok(())
    }
}

/// A never-enrolled member's `open_balance`: the member with its lots and packages, and its
/// two events.
/// A member enrolled by an opening (stream version 2 once opened), holding nothing yet.
fn opened_member(spec: &Spec, tier: usize) -> Member {
    Member {
        home: spec.store.clone(),
        tier,
        last_at: spec.at,
        version: 2,
        next_lot: 1,
        principal: Vec::new(),
        bonus: Vec::new(),
        points: Vec::new(),
        consumptions: BTreeMap::new(),
        frozen: false,
        packages: BTreeMap::new(),
        bonus_spent: 0,
        window: Vec::new(),
        refunded_in_full: Default::default(),
        cards: BTreeMap::new(),
        holds: BTreeMap::new(),
        coupons: BTreeMap::new(),
        spend: Vec::new(),
        tier_since: spec.at,
    }
}

pub(crate) fn open_balance(
    m: &str,
    spec: &Spec,
    tier: Option<&str>,
    o: &OpeningSpec,
) -> Result<(Change, u64), &'static str> {
    let tier = match tier {
        None => 0,
        Some(t) => tier_index(t).ok_or("unknown_tier")?,
    };
    o.check(spec.at)?;
    let mut w = opened_member(spec, tier);
    for (store, cents) in &o.principal {
        let lot = w.new_lot();
        w.principal.push(Lot {
            lot,
            store: store.clone(),
            cents: *cents,
            expires: None,
        });
    }
    for (store, cents, expires) in &o.bonus {
        let lot = w.new_lot();
        w.bonus.push(Lot {
            lot,
            store: store.clone(),
            cents: *cents,
            expires: *expires,
        });
    }
    for (points, expires) in &o.points {
        let lot = w.new_lot();
        w.points.push(PointLot {
            lot,
            points: *points,
            expires: *expires,
        });
    }
    for (i, (store, _, price, sessions, expires)) in o.packages.iter().enumerate() {
        let value = price * i64::from(*sessions);
        w.packages.insert(
            opened_package_id(spec.id, i),
            Package {
                store: store.clone(),
                cash: true,
                sessions: *sessions,
                sessions_left: *sessions,
                session_price: *price,
                price: value,
                bonus_paid: 0,
                principal_left: value,
                bonus_left: 0,
                expires: *expires,
                bonus_expires: None,
                bonus_counted: 0,
                status: PkgStatus::Open,
                external: None,
            },
        );
    }
    let change = Change {
        member: Some((m.to_owned(), w)),
        debts: Vec::new(),
        at: spec.at,
        settled_at: None,
        consumed: false,
        closes: None,
    };
    Ok((change, 2))
}

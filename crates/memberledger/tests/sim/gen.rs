//! The generator of realistic command streams: members enrol and recharge around the bonus
//! ladder, spend at any store, get refunds (partial, full, too much, of the wrong thing), cash
//! out, change tier, lose their card (freeze) and find it again, redeem points, have balances
//! corrected by hand, buy packages (in cash or from the balance) and redeem their sessions at
//! any store or get them refunded; stores settle what they owe. Clients retry with the same
//! command id, sometimes with the content changed; the clock jumps onto expiry edges (bonus,
//! points, packages, the upgrade window); bad input is mixed in.

use memberledger::Uuid;
use serde_json::Value;

use super::driver::{Sim, EPOCH};
use super::model::{Member, PkgStatus, DAY, TIERS};
use super::spec::{money, render_fields, Bal, Kind, Spec, Spelling};

pub enum Gen {
    Valid(Spec),
    /// A line the parser must refuse, and the code it must give.
    Bad(String, &'static str),
}

const RECHARGE_EDGES: [i64; 13] = [
    49_999, 50_000, 99_999, 100_000, 199_999, 200_000, 299_999, 300_000, 499_999, 500_000, 999_999,
    1_000_000, 2_000_000,
];

/// The smallest price whose charge at `discount` (hundredths) is above `cents`, and the
/// largest whose charge is at most `cents`.
fn price_edges(cents: i64, discount: i64) -> (i64, i64) {
    let charge = |p: i64| (p * discount * 2 + 100) / 200;
    let mut p = (cents * 100 / discount).max(1);
    while p > 1 && charge(p) > cents {
        p -= 1;
    }
    while charge(p + 1) <= cents {
        p += 1;
    }
    (p + 1, p)
}

impl Sim {
    pub(super) fn new_id(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.rng.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.rng.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// One of `ids` at random, or a fresh id when there are none.
    fn pick_or_new(&mut self, ids: &[Uuid]) -> Uuid {
        if ids.is_empty() {
            self.new_id()
        } else {
            ids[self.rng.index(ids.len())]
        }
    }

    pub(super) fn spelling(&mut self) -> Spelling {
        if self.rng.chance(700) {
            return Spelling::default();
        }
        Spelling {
            short_amounts: self.rng.chance(500),
            offset_time: self.rng.chance(500),
            rotate: self.rng.index(6),
        }
    }

    fn enrolled(&self) -> Vec<String> {
        self.model.members.keys().cloned().collect()
    }

    fn store(&mut self) -> String {
        let i = self.rng.index(self.stores.len());
        self.stores[i].clone()
    }

    /// Moves the clock: mostly a little, sometimes days or months, and sometimes exactly onto
    /// (or a second either side of) a lot's expiry or the edge of a member's 365-day window.
    /// Returns the member whose edge it is, to act on.
    pub(super) fn advance_clock(&mut self) -> Option<String> {
        if self.rng.chance(120) {
            let mut edges: Vec<(i64, String)> = Vec::new();
            let near = |t: i64, clock: i64| t > clock && t - clock <= 45 * DAY;
            for (m, s) in &self.model.members {
                let times = s
                    .bonus
                    .iter()
                    .filter_map(|l| l.expires)
                    .chain(s.points.iter().filter_map(|l| l.expires))
                    .chain(
                        s.packages
                            .values()
                            .filter(|p| p.status == PkgStatus::Open)
                            .filter_map(|p| p.expires),
                    )
                    .chain(
                        s.window
                            .iter()
                            .filter(|(_, c)| *c > 0)
                            .map(|(t, _)| t + 365 * DAY),
                    );
                for t in times {
                    if near(t, self.clock) {
                        edges.push((t, m.clone()));
                    }
                }
            }
            if !edges.is_empty() {
                edges.sort();
                let (t, m) = edges[self.rng.index(edges.len())].clone();
                let off = self.rng.weighted(&[1, 2, 1]);
                self.clock = t + i64::try_from(off).expect("small") - 1;
                self.stats.edges[off] += 1;
                return Some(m);
            }
        }
        let dt = match self.rng.weighted(&[300, 400, 200, 75, 20, 5]) {
            0 => 0,
            1 => self.rng.range(1, 3_600),
            2 => self.rng.range(3_600, DAY),
            3 => self.rng.range(DAY, 10 * DAY),
            4 => self.rng.range(30 * DAY, 120 * DAY),
            _ => self.rng.range(200 * DAY, 400 * DAY),
        };
        self.clock += dt;
        None
    }

    pub(super) fn gen_single(&mut self, focus: Option<String>) -> Gen {
        let roll = self.rng.below(1000);
        if roll < 60 && !self.history.is_empty() {
            // A retry with the same content: replayed if it was recorded.
            let i = self.rng.index(self.history.len());
            return Gen::Valid(self.history[i].clone());
        }
        if roll < 90 && !self.history.is_empty() {
            let i = self.rng.index(self.history.len());
            let spec = self.history[i].clone();
            return Gen::Valid(self.changed(spec));
        }
        if roll < 170 {
            return self.gen_bad();
        }
        let spec = self.gen_fresh(focus.as_deref(), false);
        self.remember(&spec);
        Gen::Valid(spec)
    }

    pub(super) fn remember(&mut self, spec: &Spec) {
        if self.history.len() >= 400 {
            self.history.remove(0);
        }
        self.history.push(spec.clone());
    }

    /// The same command id with other content: an idempotency conflict if it was recorded.
    fn changed(&mut self, mut spec: Spec) -> Spec {
        let bump = |c: &mut i64| *c += 1;
        match &mut spec.kind {
            Kind::Recharge { cents, .. }
            | Kind::Grant { cents, .. }
            | Kind::Consume { cents, .. } => {
                bump(cents);
            }
            Kind::Refund { cents, .. } | Kind::Settle { cents, .. } => {
                *cents = Some(cents.map_or(1, |c| c + 1));
            }
            Kind::Enroll { tier } => {
                *tier = Some(if tier.as_deref() == Some("gold") {
                    "silver".into()
                } else {
                    "gold".into()
                });
            }
            Kind::ChangeTier { reason, .. } => *reason = Some("changed".into()),
            Kind::RefundBalance => spec.at += 1,
            Kind::Freeze { reason }
            | Kind::Unfreeze { reason }
            | Kind::RefundPackage { reason, .. } => {
                *reason = if reason.as_deref() == Some("changed") {
                    None
                } else {
                    Some("changed".into())
                };
            }
            Kind::RedeemPoints { points, .. } => *points += 1,
            Kind::Adjust { qty, .. } => bump(qty),
            Kind::PurchasePackage { cents, .. } => bump(cents),
            Kind::RedeemSession { staff, .. } => {
                *staff = if staff.is_some() {
                    None
                } else {
                    Some("E9".into())
                };
            }
        }
        spec
    }

    /// A fresh command. `concurrent` keeps to commands whose outcome does not depend on other
    /// clients (no settlements, no unknown members, no times in the past).
    pub(super) fn gen_fresh(&mut self, focus: Option<&str>, concurrent: bool) -> Spec {
        let id = self.new_id();
        let at = self.clock;
        let enrolled = self.enrolled();
        let unenrolled: Vec<String> = self
            .members
            .iter()
            .filter(|m| !self.model.members.contains_key(*m))
            .cloned()
            .collect();
        if focus.is_none()
            && !concurrent
            && !unenrolled.is_empty()
            && (enrolled.len() < 6 || self.rng.chance(60))
        {
            let member = unenrolled[self.rng.index(unenrolled.len())].clone();
            let tier = match self.rng.weighted(&[70, 25, 5]) {
                0 => None,
                1 => Some(TIERS[self.rng.index(TIERS.len())].name.to_owned()),
                _ => Some("platinum".to_owned()),
            };
            return Spec {
                id,
                at,
                member: Some(member),
                store: self.store(),
                kind: Kind::Enroll { tier },
            };
        }
        if focus.is_none() && !concurrent && self.rng.chance(50) {
            return self.gen_settle(id, at);
        }
        let member = match focus {
            Some(m) => m.to_owned(),
            None if enrolled.is_empty() => self.members[0].clone(),
            None => enrolled[self.rng.index(enrolled.len())].clone(),
        };
        let Some(state) = self.model.member(&member).cloned() else {
            return Spec {
                id,
                at,
                member: Some(member),
                store: self.store(),
                kind: Kind::Enroll { tier: None },
            };
        };
        let at = if !concurrent && self.rng.chance(30) && state.last_at > EPOCH {
            state.last_at - self.rng.range(1, 2 * DAY)
        } else if !concurrent && self.rng.chance(8) {
            // A terminal whose clock runs ahead: within the ledger's skew it is accepted, beyond
            // it refused (`future_time`), never recorded to lock the member out.
            at + self.rng.range(3_000, 400 * DAY)
        } else {
            at
        };
        let store = if self.rng.chance(500) {
            state.home.clone()
        } else {
            self.store()
        };
        let staff = |sim: &mut Sim| {
            sim.rng
                .chance(500)
                .then(|| format!("E{}", sim.rng.range(1, 9)))
        };
        // An open package that lapses within a second of now (the clock may have stepped onto
        // its edge): redeem or refund it, half the time.
        let edge_package = state
            .packages
            .iter()
            .find(|(_, p)| {
                p.status == PkgStatus::Open && p.expires.is_some_and(|e| (e - at).abs() <= 1)
            })
            .map(|(id, _)| *id);
        if let Some(package) = edge_package.filter(|_| self.rng.chance(500)) {
            let kind = if self.rng.chance(800) {
                Kind::RedeemSession {
                    package,
                    staff: staff(self),
                }
            } else {
                Kind::RefundPackage {
                    package,
                    reason: None,
                }
            };
            return Spec {
                id,
                at,
                member: Some(member),
                store,
                kind,
            };
        }
        // A lost card is usually found again within a few commands. Members with points redeem
        // them now and then; members with open packages come back for their sessions.
        let has_points = state.points_total() > 0;
        let has_package = state.packages.values().any(|p| p.status == PkgStatus::Open);
        let pick = if state.frozen && self.rng.chance(250) {
            7
        } else {
            // recharge, grant_bonus, consume, refund_consumption, refund_balance, change_tier,
            // enroll (again), freeze or unfreeze, redeem_points, adjust, purchase_package,
            // redeem_session, refund_package.
            self.rng.weighted(&[
                22,
                8,
                30,
                13,
                2,
                3,
                1,
                3,
                if has_points { 5 } else { 1 },
                2,
                5,
                if has_package { 30 } else { 1 },
                if has_package { 3 } else { 1 },
            ])
        };
        let kind = match pick {
            0 => {
                let cents = if self.rng.chance(400) {
                    *self.rng.pick(&RECHARGE_EDGES)
                } else {
                    self.rng.range(100, 300_000)
                };
                Kind::Recharge {
                    cents,
                    staff: staff(self),
                }
            }
            1 => {
                let expires = match self.rng.weighted(&[35, 50, 10, 5]) {
                    0 => None,
                    1 => Some(at + *self.rng.pick(&[1, 60, 3_600, DAY, 7 * DAY, 30 * DAY])),
                    2 => Some(at),
                    _ => Some(at - 3_600),
                };
                Kind::Grant {
                    cents: self.rng.range(1, 30_000),
                    reason: (*self.rng.pick(&["birthday", "campaign", "apology"])).to_owned(),
                    expires,
                }
            }
            2 => Kind::Consume {
                cents: self.consume_price(&state),
                staff: staff(self),
                service: self
                    .rng
                    .chance(700)
                    .then(|| (*self.rng.pick(&["facial", "nails", "massage"])).to_owned()),
            },
            3 => self.gen_refund(&member, &state),
            4 => Kind::RefundBalance,
            5 => {
                let names = ["standard", "silver", "gold", "diamond", "platinum"];
                Kind::ChangeTier {
                    tier: (*self.rng.pick(&names)).to_owned(),
                    reason: self.rng.chance(500).then(|| "vip".to_owned()),
                }
            }
            6 => Kind::Enroll { tier: None },
            7 => self.gen_freeze(&state),
            8 => self.gen_redeem_points(&state),
            9 => self.gen_adjust(&state),
            10 => self.gen_purchase(&state, at),
            11 => Kind::RedeemSession {
                package: self.pick_package(&member, &state),
                staff: staff(self),
            },
            _ => Kind::RefundPackage {
                package: self.pick_package(&member, &state),
                reason: self
                    .rng
                    .chance(400)
                    .then(|| (*self.rng.pick(&["moving away", "unhappy", "duplicate"])).to_owned()),
            },
        };
        // Now and then the command names a member who was never enrolled (who never is).
        let member = if !concurrent && !matches!(kind, Kind::Enroll { .. }) && self.rng.chance(25) {
            self.ghosts += 1;
            format!("G{}", self.ghosts % 5)
        } else {
            member
        };
        Spec {
            id,
            at,
            member: Some(member),
            store,
            kind,
        }
    }

    fn consume_price(&mut self, m: &Member) -> i64 {
        let balance = m.principal_total() + m.bonus_total();
        let discount = TIERS[m.tier].discount;
        if balance == 0 {
            return self.rng.range(1, 50_000);
        }
        let (over, exact) = price_edges(balance, discount);
        match self.rng.weighted(&[8, 7, 85]) {
            0 => exact,
            1 => over,
            _ => {
                let cap = (exact * 6 / 10).max(1);
                if self.rng.chance(500) {
                    self.rng.range(1, cap.min(20_000))
                } else {
                    self.rng.range(1, cap)
                }
            }
        }
    }

    fn gen_refund(&mut self, member: &str, m: &Member) -> Kind {
        let mut open: Vec<(u64, Uuid)> =
            m.consumptions.iter().map(|(id, c)| (c.seq, *id)).collect();
        open.sort();
        let consumption = match self.rng.weighted(&[70, 10, 8, 12]) {
            0 if !open.is_empty() => open[self.rng.index(open.len())].1,
            1 => {
                let made: Vec<Uuid> = self
                    .history
                    .iter()
                    .filter(|s| {
                        s.member.as_deref() == Some(member)
                            && matches!(s.kind, Kind::Consume { .. })
                    })
                    .map(|s| s.id)
                    .collect();
                self.pick_or_new(&made)
            }
            2 => {
                let others: Vec<Uuid> = self
                    .model
                    .members
                    .iter()
                    .filter(|(id, _)| id.as_str() != member)
                    .flat_map(|(_, s)| s.consumptions.keys().copied())
                    .collect();
                self.pick_or_new(&others)
            }
            _ => self.new_id(),
        };
        let left = m
            .consumptions
            .get(&consumption)
            .map_or(10_000, |c| c.charged - c.refunded);
        let cents = match self.rng.weighted(&[40, 45, 8, 7]) {
            0 => None,
            1 => Some(self.rng.range(1, left)),
            2 => Some(left),
            _ => Some(left + 1),
        };
        Kind::Refund { consumption, cents }
    }

    /// Freezes an unfrozen card and unfreezes a frozen one, mostly; the other way round now
    /// and then (`member_frozen`, `invalid_command`).
    fn gen_freeze(&mut self, m: &Member) -> Kind {
        let freeze = if m.frozen {
            self.rng.chance(200)
        } else {
            self.rng.chance(850)
        };
        if freeze {
            Kind::Freeze {
                reason: self
                    .rng
                    .chance(600)
                    .then(|| (*self.rng.pick(&["lost card", "suspicious activity"])).to_owned()),
            }
        } else {
            Kind::Unfreeze {
                reason: self
                    .rng
                    .chance(500)
                    .then(|| (*self.rng.pick(&["card found", "verified"])).to_owned()),
            }
        }
    }

    /// Points for a gift or a service: mostly what the member holds, sometimes all of it or
    /// one more.
    fn gen_redeem_points(&mut self, m: &Member) -> Kind {
        let held = m.points_total();
        let points = if held == 0 {
            u64::try_from(self.rng.range(1, 500)).expect("positive")
        } else {
            let h = i64::try_from(held).expect("points fit");
            let p = match self.rng.weighted(&[65, 15, 12, 8]) {
                0 => self.rng.range(1, h.min(3_000)),
                1 => h,
                2 => h + 1,
                _ => *self.rng.pick(&[100, 500, 1_000, 5_000]),
            };
            u64::try_from(p).expect("positive")
        };
        Kind::RedeemPoints {
            points,
            reason: self
                .rng
                .chance(600)
                .then(|| (*self.rng.pick(&["gift", "service", "voucher"])).to_owned()),
        }
    }

    /// A correction by hand: a credit, or a debit of what is held (all of it, or one more).
    fn gen_adjust(&mut self, m: &Member) -> Kind {
        let balance = [Bal::Principal, Bal::Bonus, Bal::Points][self.rng.weighted(&[40, 35, 25])];
        let credit = self.rng.chance(550);
        let held = match balance {
            Bal::Principal => m.principal_total(),
            Bal::Bonus => m.bonus_total(),
            Bal::Points => i64::try_from(m.points_total()).expect("points fit"),
        };
        let qty = if credit {
            if balance == Bal::Points {
                self.rng.range(1, 2_000)
            } else {
                self.rng.range(1, 50_000)
            }
        } else if held == 0 {
            self.rng.range(1, 1_000)
        } else {
            match self.rng.weighted(&[65, 20, 15]) {
                0 => self.rng.range(1, held),
                1 => held,
                _ => held + 1,
            }
        };
        Kind::Adjust {
            balance,
            credit,
            qty,
            reason: (*self
                .rng
                .pick(&["correction", "system error", "goodwill", "audit"]))
            .to_owned(),
            operator: format!("OP{}", self.rng.range(1, 3)),
        }
    }

    /// A package: 1-1000 sessions at a realistic price (or one cent a session), in cash or
    /// from the balance (mostly within it; sometimes all of it or a cent more), with or without
    /// an expiry (now and then one at or before the command's time).
    fn gen_purchase(&mut self, m: &Member, at: i64) -> Kind {
        let sessions: u32 = match self.rng.weighted(&[20, 30, 22, 16, 8, 4]) {
            0 => *self.rng.pick(&[1, 2]),
            1 => *self.rng.pick(&[3, 5, 6]),
            2 => *self.rng.pick(&[10, 12]),
            3 => u32::try_from(self.rng.range(2, 30)).expect("small"),
            4 => u32::try_from(self.rng.range(31, 200)).expect("small"),
            _ => *self.rng.pick(&[999, 1_000]),
        };
        let n = i64::from(sessions);
        let balance = m.principal_total() + m.bonus_total();
        let cash = if balance < n {
            self.rng.chance(900)
        } else {
            self.rng.chance(400)
        };
        let mut cents = if self.rng.chance(50) {
            n
        } else {
            self.rng.range(3_000, 60_000) * n + self.rng.range(0, 99)
        };
        if !cash && balance >= n {
            cents = match self.rng.weighted(&[70, 10, 8, 12]) {
                0 => cents.min(self.rng.range(n, balance)),
                1 => balance,
                2 => balance + 1,
                _ => cents,
            };
        }
        let expires = match self.rng.weighted(&[45, 33, 14, 5, 3]) {
            0 => None,
            1 => Some(at + *self.rng.pick(&[30, 60, 90, 180, 365]) * DAY),
            2 => Some(at + *self.rng.pick(&[3_600, DAY, 3 * DAY, 7 * DAY])),
            3 => Some(at),
            _ => Some(at - 3_600),
        };
        Kind::PurchasePackage {
            cents,
            cash,
            service: (*self
                .rng
                .pick(&["massage", "facial", "nails", "spa", "hair"]))
            .to_owned(),
            sessions,
            expires,
            staff: self
                .rng
                .chance(500)
                .then(|| format!("E{}", self.rng.range(1, 9))),
        }
    }

    /// A package to redeem or refund: mostly an open one of the member's, sometimes a closed
    /// one, one bought in a command that may not have been recorded, another member's, or none.
    fn pick_package(&mut self, member: &str, m: &Member) -> Uuid {
        let (open, closed): (Vec<(&Uuid, _)>, Vec<_>) = m
            .packages
            .iter()
            .partition(|(_, p)| p.status == PkgStatus::Open);
        let open: Vec<Uuid> = open.into_iter().map(|(id, _)| *id).collect();
        let closed: Vec<Uuid> = closed.into_iter().map(|(id, _)| *id).collect();
        match self.rng.weighted(&[75, 8, 7, 5, 5]) {
            0 if !open.is_empty() => open[self.rng.index(open.len())],
            1 if !closed.is_empty() => closed[self.rng.index(closed.len())],
            2 => {
                let bought: Vec<Uuid> = self
                    .history
                    .iter()
                    .filter(|s| {
                        s.member.as_deref() == Some(member)
                            && matches!(s.kind, Kind::PurchasePackage { .. })
                    })
                    .map(|s| s.id)
                    .collect();
                self.pick_or_new(&bought)
            }
            3 => {
                let others: Vec<Uuid> = self
                    .model
                    .members
                    .iter()
                    .filter(|(id, _)| id.as_str() != member)
                    .flat_map(|(_, s)| s.packages.keys().copied())
                    .collect();
                self.pick_or_new(&others)
            }
            _ => self.new_id(),
        }
    }

    fn gen_settle(&mut self, id: Uuid, clock: i64) -> Spec {
        let mut debts = Vec::new();
        for d in &self.stores {
            for c in &self.stores {
                let owed = self.model.owed(d, c);
                if owed > 0 {
                    debts.push((d.clone(), c.clone(), owed));
                }
            }
        }
        let at = match self.model.settled_at {
            Some(t) if self.rng.chance(80) => t - self.rng.range(1, DAY),
            _ => clock,
        };
        let (store, to, cents) = if debts.is_empty() || self.rng.chance(100) {
            let d = self.store();
            let c = self.store();
            (d, c, self.rng.chance(500).then(|| self.rng.range(1, 1_000)))
        } else {
            let (d, c, owed) = debts[self.rng.index(debts.len())].clone();
            match self.rng.weighted(&[40, 35, 10, 7]) {
                0 => (d, c, None),
                1 => (d, c, Some(self.rng.range(1, owed))),
                2 => (d, c, Some(owed + 1)),
                _ => (d.clone(), d, None),
            }
        };
        // Now and then dated before the pair's last movement: refused (issue 11, item 8).
        let pair = if store < to {
            (store.clone(), to.clone())
        } else {
            (to.clone(), store.clone())
        };
        let at = match self.model.moved_at.get(&pair) {
            Some(&t) if self.rng.chance(100) => t - self.rng.range(1, DAY),
            _ => at,
        };
        Spec {
            id,
            at,
            member: None,
            store,
            kind: Kind::Settle { to, cents },
        }
    }

    /// A line with one defect, and the code the parser must give it.
    fn gen_bad(&mut self) -> Gen {
        let spec = self.gen_fresh(None, false);
        let mut f = spec.fields(Spelling::default());
        let set = |f: &mut Vec<(String, Value)>, k: &str, v: Value| match f
            .iter_mut()
            .find(|(key, _)| key == k)
        {
            Some(e) => e.1 = v,
            None => f.push((k.to_owned(), v)),
        };
        let has = |f: &[(String, Value)], k: &str| f.iter().any(|(key, _)| key == k);
        // Bad amounts are drawn twice as often as the other defects.
        let code = match self.rng.below(17) {
            0 => {
                let line = render_fields(&f);
                let bad = match self.rng.below(5) {
                    0 => line[..line.len() - 1].to_owned(),
                    1 => "{not json".to_owned(),
                    2 => "[]".to_owned(),
                    3 => String::new(),
                    _ => format!("{line}}}"),
                };
                return Gen::Bad(bad, "invalid_command");
            }
            1 | 13 | 14 if has(&f, "amount") => {
                let bad = *self.rng.pick(&[
                    "1.001",
                    "-1",
                    "0",
                    "0.00",
                    "-0.01",
                    "1e3",
                    "abc",
                    "100000000.00",
                    "+5",
                    "",
                    " 1",
                    "1,000",
                ]);
                set(&mut f, "amount", bad.into());
                "invalid_amount"
            }
            2 if has(&f, "amount") => {
                set(&mut f, "amount", 100.into());
                "invalid_command"
            }
            3 if has(&f, "member") => {
                let long = "x".repeat(65);
                let bad = self
                    .rng
                    .pick(&["M 1", "张三", "a:b", "", long.as_str()])
                    .to_string();
                set(&mut f, "member", bad.into());
                "invalid_id"
            }
            3 => {
                set(&mut f, "member", "M01".into());
                "invalid_command"
            }
            4 => {
                set(
                    &mut f,
                    "store",
                    (*self.rng.pick(&["S/1", "S 1", ""])).into(),
                );
                "invalid_id"
            }
            5 => {
                let bad =
                    *self
                        .rng
                        .pick(&["not-a-uuid", "00000000-0000-0000-0000-000000000000", ""]);
                set(&mut f, "id", bad.into());
                "invalid_command"
            }
            6 => {
                let (k, v) = *self
                    .rng
                    .pick(&[("colour", "red"), ("phone", "13800000000")]);
                set(&mut f, k, v.into());
                "invalid_command"
            }
            7 => {
                // A field the type does not take.
                match spec.kind {
                    Kind::Enroll { .. } | Kind::RefundBalance => {
                        set(&mut f, "amount", "1.00".into());
                    }
                    Kind::ChangeTier { .. } => set(&mut f, "staff", "E1".into()),
                    _ => set(&mut f, "tier", "gold".into()),
                }
                "invalid_command"
            }
            8 => {
                let k = *self.rng.pick(&["id", "at", "type", "store"]);
                f.retain(|(key, _)| key != k);
                "invalid_command"
            }
            9 => {
                let bad = *self.rng.pick(&[
                    "yesterday",
                    "2026-13-01T00:00:00Z",
                    "2026-03-01 10:00:00",
                    "1969-12-31T23:59:59Z",
                ]);
                set(&mut f, "at", bad.into());
                "invalid_command"
            }
            10 if matches!(
                spec.kind,
                Kind::Recharge { .. }
                    | Kind::Consume { .. }
                    | Kind::PurchasePackage { .. }
                    | Kind::RedeemSession { .. }
            ) =>
            {
                set(&mut f, "staff", "a b".into());
                "invalid_id"
            }
            10 if matches!(spec.kind, Kind::Adjust { .. }) => {
                set(&mut f, "operator", "a b".into());
                "invalid_id"
            }
            11 if matches!(
                spec.kind,
                Kind::Consume { .. } | Kind::PurchasePackage { .. }
            ) =>
            {
                set(&mut f, "service", "".into());
                "invalid_command"
            }
            11 if matches!(
                spec.kind,
                Kind::Grant { .. }
                    | Kind::Adjust { .. }
                    | Kind::Freeze { .. }
                    | Kind::Unfreeze { .. }
                    | Kind::RedeemPoints { .. }
                    | Kind::RefundPackage { .. }
            ) =>
            {
                set(&mut f, "reason", "bell\u{7}".into());
                "invalid_command"
            }
            12 if matches!(spec.kind, Kind::Refund { .. }) => {
                set(&mut f, "consumption", "xyz".into());
                "invalid_command"
            }
            12 if matches!(
                spec.kind,
                Kind::RedeemSession { .. } | Kind::RefundPackage { .. }
            ) =>
            {
                let bad = *self
                    .rng
                    .pick(&["xyz", "00000000-0000-0000-0000-000000000000"]);
                set(&mut f, "package", bad.into());
                "invalid_command"
            }
            15 | 16
                if !matches!(
                    spec.kind,
                    Kind::RedeemPoints { .. } | Kind::Adjust { .. } | Kind::PurchasePackage { .. }
                ) =>
            {
                set(&mut f, "type", "teleport".into());
                "invalid_command"
            }
            15 | 16 => {
                let (k, v, code) = self.bad_number(&spec.kind);
                match v {
                    Some(v) => set(&mut f, k, v),
                    None => f.retain(|(key, _)| key != k),
                }
                code
            }
            _ => {
                set(&mut f, "type", "teleport".into());
                "invalid_command"
            }
        };
        Gen::Bad(render_fields(&f), code)
    }

    /// A defect in a field of the newer commands (points, sessions, the adjustment's fields):
    /// the field, its bad value (`None`: left out) and the code the parser must give.
    fn bad_number(&mut self, kind: &Kind) -> (&'static str, Option<Value>, &'static str) {
        match kind {
            Kind::RedeemPoints { .. } => self
                .rng
                .pick(&[
                    ("points", Some(Value::from(0)), "invalid_amount"),
                    (
                        "points",
                        Some(Value::from(1_000_000_001u64)),
                        "invalid_amount",
                    ),
                    ("points", Some(Value::from(-5)), "invalid_command"),
                    ("points", Some(Value::from("10")), "invalid_command"),
                    ("points", None, "invalid_command"),
                ])
                .clone(),
            Kind::PurchasePackage { sessions, .. } => {
                let below = (*sessions > 1).then(|| money(i64::from(*sessions) - 1));
                match (self.rng.below(7), below) {
                    (0, Some(b)) => ("amount", Some(b.into()), "invalid_amount"),
                    (0 | 1, _) => ("sessions", Some(0.into()), "invalid_amount"),
                    (2, _) => ("sessions", Some(1_001.into()), "invalid_amount"),
                    (3, _) => ("sessions", Some((-1).into()), "invalid_command"),
                    (4, _) => ("paid_from", Some("card".into()), "invalid_command"),
                    (5, _) => ("paid_from", None, "invalid_command"),
                    _ => ("expires_at", Some("soon".into()), "invalid_command"),
                }
            }
            Kind::Adjust { balance, .. } => match (self.rng.below(6), balance) {
                (0, _) => ("reason", None, "invalid_command"),
                (1, _) => ("operator", None, "invalid_command"),
                (2, _) => ("direction", Some("sideways".into()), "invalid_command"),
                (3, _) => ("balance", Some("cash".into()), "invalid_command"),
                (_, Bal::Points) if self.rng.chance(500) => {
                    ("points", Some(0.into()), "invalid_amount")
                }
                // A points adjustment takes no amount, a money one no points.
                (_, Bal::Points) => ("amount", Some("1.00".into()), "invalid_command"),
                _ => ("points", Some(5.into()), "invalid_command"),
            },
            _ => unreachable!("only for the kinds with such fields"),
        }
    }

    /// A batch for one `execute_batch` call: fresh commands, repeats of earlier ones of the
    /// same batch (same or changed content), and retries of older ones.
    pub(super) fn gen_batch(&mut self) -> Vec<Spec> {
        // Now and then a batch large enough to be decided by member on every core (64
        // commands).
        let n = if self.rng.below(25) == 0 {
            self.rng.range(64, 600)
        } else {
            self.rng.range(2, 8)
        };
        let mut out: Vec<Spec> = Vec::new();
        for _ in 0..n {
            let roll = self.rng.below(100);
            let spec = if roll < 12 && !out.is_empty() {
                out[self.rng.index(out.len())].clone()
            } else if roll < 18 && !out.is_empty() {
                let s = out[self.rng.index(out.len())].clone();
                self.changed(s)
            } else if roll < 25 && !self.history.is_empty() {
                self.history[self.rng.index(self.history.len())].clone()
            } else {
                let s = self.gen_fresh(None, false);
                self.remember(&s);
                s
            };
            out.push(spec);
        }
        out
    }

    /// Scripts for 2-4 concurrent clients: each has members of its own, and all of them send
    /// one command about a shared member, either the same command (same id: one records it, the
    /// others get its receipt) or the same content under different ids (they race for it).
    /// Built so that the end state does not depend on how the threads interleave, which keeps
    /// a seed reproducible.
    pub(super) fn gen_concurrent(&mut self) -> Option<Vec<Vec<Spec>>> {
        let threads = usize::try_from(self.rng.range(2, 4)).expect("small");
        let mut pool = self.enrolled();
        if pool.len() < 2 * threads + 1 {
            return None;
        }
        let mut take = |rng: &mut super::rng::Rng| pool.remove(rng.index(pool.len()));
        let shared = take(&mut self.rng);
        let own: Vec<Vec<String>> = (0..threads)
            .map(|_| {
                let k = self.rng.range(1, 2);
                (0..k).map(|_| take(&mut self.rng)).collect()
            })
            .collect();
        let burst = {
            let state = self.model.member(&shared).cloned().expect("enrolled");
            let id = self.new_id();
            let store = self.store();
            let kind = match self.rng.weighted(&[35, 25, 40]) {
                0 => Kind::Recharge {
                    cents: self.rng.range(100, 120_000),
                    staff: None,
                },
                1 => Kind::Grant {
                    cents: self.rng.range(1, 10_000),
                    reason: "campaign".into(),
                    expires: Some(self.clock + 7 * DAY),
                },
                _ => Kind::Consume {
                    cents: self.consume_price(&state),
                    staff: None,
                    service: None,
                },
            };
            Spec {
                id,
                at: self.clock,
                member: Some(shared),
                store,
                kind,
            }
        };
        let same_id = self.rng.chance(400);
        if same_id || !matches!(burst.kind, Kind::Consume { .. }) {
            // Which of several racing consumptions gets recorded depends on the interleaving;
            // a later retry of one would then too.
            self.remember(&burst);
        }
        let mut scripts = Vec::new();
        for members in own {
            let mut script = Vec::new();
            for m in members {
                for _ in 0..self.rng.range(1, 2) {
                    let s = self.gen_fresh(Some(&m), true);
                    self.remember(&s);
                    script.push(s);
                }
            }
            let mut b = burst.clone();
            if !same_id {
                b.id = self.new_id();
                if !matches!(b.kind, Kind::Consume { .. }) {
                    self.remember(&b);
                }
            }
            let at = self.rng.index(script.len() + 1);
            script.insert(at, b);
            scripts.push(script);
        }
        Some(scripts)
    }
}

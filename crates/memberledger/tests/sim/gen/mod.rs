//! The generator of realistic command streams: members enrol and recharge around the bonus
//! ladder, spend at any store, get refunds (partial, full, too much, of the wrong thing), cash
//! out, change tier, lose their card (freeze) and find it again, redeem points, have balances
//! corrected by hand, buy packages (in cash or from the balance) and redeem their sessions at
//! any store or get them refunded, link, lose and replace cards, have money held before a
//! service and captured or voided after it; stores settle what they owe. Clients retry with the same
//! command id, sometimes with the content changed; the clock jumps onto expiry edges (bonus,
//! points, packages, the upgrade window); bad input is mixed in.

use memberledger::Uuid;
use serde_json::Value;

use super::driver::{Sim, EPOCH};
use super::model::{money, render_fields, Bal, Ext, ExtAmount, Gift, Kind, Spec, Spelling};
use super::model::{Member, PkgStatus, DAY, TIERS};

mod cards;
mod coupons;
mod kinds;
mod opening;
mod periods;

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

    pub(crate) fn store(&mut self) -> String {
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
        if let Some(spec) = self.gen_period() {
            self.remember(&spec);
            return Gen::Valid(spec);
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
            Kind::Enroll { tier } | Kind::OpenBalance { tier, .. } => {
                *tier = Some(if tier.as_deref() == Some("gold") {
                    "silver".into()
                } else {
                    "gold".into()
                });
            }
            Kind::ChangeTier { reason, .. } => *reason = Some("changed".into()),
            Kind::RefundBalance | Kind::ReviewTier => spec.at += 1,
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
            Kind::Authorize { cents, .. } | Kind::Capture { cents, .. } => bump(cents),
            Kind::LinkCard { card }
            | Kind::ReportLost { card }
            | Kind::UnlinkCard { card }
            | Kind::ReplaceCard { new_card: card, .. } => card.push('z'),
            Kind::Void { .. } => spec.at += 1,
            Kind::PurchasePackage { cents, .. } | Kind::ConsumeCoupon { cents, .. } => bump(cents),
            Kind::ClosePeriod { through } => *through -= 1,
            Kind::IssueCoupon { reason, .. } | Kind::GrantPackage { reason, .. } => {
                reason.push('x');
            }
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
            // Now and then the member moves from another system with what it held there.
            let kind = if self.rng.chance(250) {
                Kind::OpenBalance {
                    tier,
                    opening: self.gen_opening(at),
                }
            } else {
                Kind::Enroll { tier }
            };
            return Spec {
                id,
                at,
                member: Some(member),
                store: self.store(),
                kind,
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
        // Now and then a command from a terminal that was offline: older than the member's last
        // event, within the late window (taking effect at that event) or beyond it
        // (`out_of_order`).
        let at = if !concurrent && self.rng.chance(30) && state.last_at > EPOCH {
            state.last_at - self.rng.range(1, 5 * DAY)
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
        let has_coupon = state.coupons.values().any(|c| c.used_by.is_none());
        let pick = if state.frozen && self.rng.chance(250) {
            7
        } else {
            // recharge, grant_bonus, consume, refund_consumption, refund_balance, change_tier,
            // enroll (again), freeze or unfreeze, redeem_points, adjust, purchase_package,
            // redeem_session, refund_package, a card command, a hold command, issue_coupon,
            // a visit with a coupon, review_tier.
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
                if state.cards.is_empty() { 3 } else { 5 },
                if state.holds.is_empty() { 5 } else { 40 },
                4,
                if has_coupon { 12 } else { 1 },
                3,
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
                external: self.gen_external(),
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
            13 => self.gen_card(&member, &state, concurrent),
            14 => self.gen_hold(&state, at),
            15 => self.gen_coupon(at),
            16 => self.gen_coupon_visit(&member, &state),
            17 => Kind::ReviewTier,
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
}

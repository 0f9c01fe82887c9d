//! A member as the model holds it: lots, open consumptions, packages, and how a payment draws.

use std::collections::BTreeMap;

use memberledger::Uuid;

use super::policy::half_up;

/// A principal or bonus lot: what is left of one recharge, grant or restored draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lot {
    /// The lot's number in the member's sequence.
    pub lot: u32,
    /// The store that took the money (principal) or granted it (bonus).
    pub store: String,
    /// What is left, in cents.
    pub cents: i64,
    /// When it expires (seconds); principal never does.
    pub expires: Option<i64>,
}

/// A lot of points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointLot {
    /// The lot's number in the member's sequence.
    pub lot: u32,
    /// The points left.
    pub points: u64,
    /// When they expire (seconds).
    pub expires: Option<i64>,
}

/// What one payment took from one lot (so a refund can give it back to the same lot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drawn {
    /// From a principal lot (else a bonus lot).
    pub principal: bool,
    /// The lot drawn from.
    pub lot: u32,
    /// The lot's store.
    pub store: String,
    /// The lot's expiry.
    pub expires: Option<i64>,
    /// Cents taken.
    pub cents: i64,
    /// Cents given back by refunds so far.
    pub restored: i64,
}

/// A consumption that may still be refunded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumption {
    /// The order consumptions were made in (the generator picks by it, not by id).
    pub seq: u64,
    /// The store that served it.
    pub store: String,
    /// What the member was charged (after the tier's discount).
    pub charged: i64,
    /// The principal part of `charged`.
    pub principal: i64,
    /// The bonus part of `charged`.
    pub bonus: i64,
    /// Refunded so far.
    pub refunded: i64,
    /// Principal given back so far.
    pub principal_restored: i64,
    /// Bonus given back so far.
    pub bonus_restored: i64,
    /// The lots it drew from.
    pub draws: Vec<Drawn>,
    /// The points it earned.
    pub points_earned: u64,
    /// The points refunds took back so far.
    pub points_reversed: u64,
    /// The part paid outside the card: its method and cents (`charged` includes it).
    pub external: Option<(String, i64)>,
    /// Of the external part, paid back so far.
    pub external_refunded: i64,
    /// The coupon it redeemed and the cents it took off (`charged` is after it).
    pub coupon: Option<(Uuid, i64)>,
}

/// How a coupon takes money off a charge (the charge at the tier's discount), in cents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Off {
    /// A fixed amount.
    Amount(i64),
    /// A percentage in hundredths of a percent (1 to 9,999: `12.5 %` is 1,250), at most `cap`.
    Percent {
        /// The percentage in hundredths.
        percent_x100: u32,
        /// The most it takes.
        cap: i64,
    },
    /// `amount` off a charge of at least `threshold` (满减).
    Threshold {
        /// The least charge.
        threshold: i64,
        /// The money off.
        amount: i64,
    },
}

/// A coupon the member was issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coupon {
    /// What it takes off.
    pub off: Off,
    /// When it lapses (a visit at or after it cannot redeem it).
    pub expires: i64,
    /// The visit that redeemed it (none while open).
    pub used_by: Option<Uuid>,
}

/// Where a package stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PkgStatus {
    /// Sessions left and not expired.
    Open,
    /// Every session redeemed.
    Used,
    /// Refunded.
    Refunded,
    /// Expired with sessions left.
    Expired,
}

impl PkgStatus {
    /// The status as the ledger's views spell it.
    pub fn name(self) -> &'static str {
        match self {
            PkgStatus::Open => "open",
            PkgStatus::Used => "used",
            PkgStatus::Refunded => "refunded",
            PkgStatus::Expired => "expired",
        }
    }
}

/// A package (次卡/疗程卡): sessions of a service, with the value not yet recognised split by
/// what funded it (cash or principal, and bonus).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// The store that sold it.
    pub store: String,
    /// Paid in cash (else from the balance).
    pub cash: bool,
    /// Sessions bought.
    pub sessions: u32,
    /// Sessions not yet redeemed.
    pub sessions_left: u32,
    /// `floor(price / sessions)`: every session but the last.
    pub session_price: i64,
    /// The price paid.
    pub price: i64,
    /// The bonus part of the price.
    pub bonus_paid: i64,
    /// Cash or principal not yet recognised.
    pub principal_left: i64,
    /// Bonus not yet recognised.
    pub bonus_left: i64,
    /// When it expires.
    pub expires: Option<i64>,
    /// The earliest expiry of the bonus lots that paid for it: the bonus share refunded to
    /// the balance keeps it.
    pub bonus_expires: Option<i64>,
    /// The bonus it drew that still counts in `bonus_spent`: zero once a balance refund
    /// settled the period it was bought in.
    pub bonus_counted: i64,
    /// Where it stands.
    pub status: PkgStatus,
    /// The part paid outside the card: its method and cents (counted in `principal_left`).
    pub external: Option<(String, i64)>,
}

impl Package {
    /// The value not yet recognised.
    pub fn value_left(&self) -> i64 {
        self.principal_left + self.bonus_left
    }

    /// Closed packages hold nothing.
    pub(crate) fn close(&mut self, status: PkgStatus) {
        self.status = status;
        self.sessions_left = 0;
        self.principal_left = 0;
        self.bonus_left = 0;
    }
}

/// One member's holdings and standing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The store that enrolled the member.
    pub home: String,
    /// The tier, an index into [`TIERS`](super::TIERS).
    pub tier: usize,
    /// The time of the member's latest command.
    pub last_at: i64,
    /// How many events the member's stream holds.
    pub version: u64,
    /// The number the next lot takes.
    pub next_lot: u32,
    /// Principal lots, first-in first-out.
    pub principal: Vec<Lot>,
    /// Bonus lots, in lot order.
    pub bonus: Vec<Lot>,
    /// Point lots, in lot order.
    pub points: Vec<PointLot>,
    /// Consumptions that may still be refunded, by command id.
    pub consumptions: BTreeMap<Uuid, Consumption>,
    /// The card is frozen.
    pub frozen: bool,
    /// Every package bought, by its purchase command's id.
    pub packages: BTreeMap<Uuid, Package>,
    /// Bonus spent since the last balance refund (what a balance refund claws back).
    pub bonus_spent: i64,
    /// Principal recharged (+) and refunded (−), by time.
    pub window: Vec<(i64, i64)>,
    /// Consumptions refunded in full: refunding one again is `refund_exceeds_original`.
    pub refunded_in_full: std::collections::BTreeSet<Uuid>,
    /// The member's cards and where each stands.
    pub cards: BTreeMap<String, CardState>,
    /// Open holds, by the authorize command's id.
    pub holds: BTreeMap<Uuid, Held>,
    /// Every coupon issued, by the issuing command's id.
    pub coupons: BTreeMap<Uuid, Coupon>,
    /// What each visit was charged (+, at its time) and each consumption refund returned (−),
    /// and whether it was a visit: the spending and visit window, unpruned.
    pub spend: Vec<(i64, i64, bool)>,
    /// When the member reached the tier held (enrolment or the last tier change).
    pub tier_since: i64,
}

/// Where a member's card stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardState {
    /// Usable.
    Active,
    /// Reported lost.
    Lost,
    /// Replaced by a new card.
    Replaced,
}

/// An open hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    /// Cents held.
    pub cents: i64,
    /// When it lapses.
    pub expires: i64,
}

impl Member {
    /// Cents held by open holds.
    pub fn held_total(&self) -> i64 {
        self.holds.values().map(|h| h.cents).sum()
    }

    /// What may be spent: the balance less what is held.
    pub fn available(&self) -> i64 {
        (self.principal_total() + self.bonus_total() - self.held_total()).max(0)
    }

    /// Principal held.
    pub fn principal_total(&self) -> i64 {
        self.principal.iter().map(|l| l.cents).sum()
    }

    /// Bonus held.
    pub fn bonus_total(&self) -> i64 {
        self.bonus.iter().map(|l| l.cents).sum()
    }

    /// Points held.
    pub fn points_total(&self) -> u64 {
        self.points.iter().map(|l| l.points).sum()
    }

    /// The value left in open packages.
    pub fn package_value(&self) -> i64 {
        self.packages.values().map(Package::value_left).sum()
    }

    pub(crate) fn new_lot(&mut self) -> u32 {
        let n = self.next_lot;
        self.next_lot += 1;
        n
    }

    /// Lots and open packages due at `at` expire; returns how many events that records.
    pub(crate) fn expire(&mut self, at: i64) -> u64 {
        let before = self.bonus.len() + self.points.len();
        self.bonus.retain(|l| l.expires.is_none_or(|e| e > at));
        self.points.retain(|l| l.expires.is_none_or(|e| e > at));
        let mut n = u64::try_from(before - self.bonus.len() - self.points.len()).expect("few");
        for p in self.packages.values_mut() {
            if p.status == PkgStatus::Open && p.expires.is_some_and(|e| e <= at) {
                p.close(PkgStatus::Expired);
                n += 1;
            }
        }
        let holds = self.holds.len();
        self.holds.retain(|_, h| h.expires > at);
        n + u64::try_from(holds - self.holds.len()).expect("few")
    }

    /// Pays `charged` from the balance (a consumption, a package): bonus part
    /// `round(charged × B / (P + B))` clamped to what each balance can pay, principal drawn
    /// first-in first-out, bonus earliest expiry first. Returns (principal, bonus, draws).
    pub(crate) fn pay(&mut self, charged: i64) -> Result<(i64, i64, Vec<Drawn>), &'static str> {
        if charged == 0 {
            return Ok((0, 0, Vec::new()));
        }
        let (p, b) = (self.principal_total(), self.bonus_total());
        if charged > self.available() {
            return Err("insufficient_balance");
        }
        let low = (charged - p).max(0);
        let high = b.min(charged);
        let bonus = half_up(i128::from(charged) * i128::from(b), i128::from(p + b))
            .max(low)
            .min(high);
        let principal = charged - bonus;
        let order: Vec<usize> = (0..self.principal.len()).collect();
        let mut draws = draw(&mut self.principal, &order, principal, true);
        let order = bonus_order(&self.bonus);
        draws.extend(draw(&mut self.bonus, &order, bonus, false));
        Ok((principal, bonus, draws))
    }

    /// Spends points, earliest expiry first (then lot order; lots without expiry last).
    pub(crate) fn spend_points(&mut self, want: u64) -> Result<(), &'static str> {
        if want > self.points_total() {
            return Err("insufficient_points");
        }
        let mut order: Vec<usize> = (0..self.points.len()).collect();
        order.sort_by_key(|&i| {
            let l = &self.points[i];
            (l.expires.is_none(), l.expires, l.lot)
        });
        let mut owed = want;
        for i in order {
            let take = self.points[i].points.min(owed);
            self.points[i].points -= take;
            owed -= take;
        }
        self.points.retain(|l| l.points > 0);
        Ok(())
    }

    pub(crate) fn give_back(&mut self, principal: bool, d: &Drawn, cents: i64) {
        let lots = if principal {
            &mut self.principal
        } else {
            &mut self.bonus
        };
        match lots.iter_mut().find(|l| l.lot == d.lot) {
            Some(l) => l.cents += cents,
            None => {
                let at = lots
                    .iter()
                    .position(|l| l.lot > d.lot)
                    .unwrap_or(lots.len());
                lots.insert(
                    at,
                    Lot {
                        lot: d.lot,
                        store: d.store.clone(),
                        cents,
                        expires: d.expires,
                    },
                );
            }
        }
    }
}

/// Bonus lots in spend order: earliest expiry first, then lot order, lots without expiry last.
pub(crate) fn bonus_order(lots: &[Lot]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..lots.len()).collect();
    order.sort_by_key(|&i| {
        let l = &lots[i];
        (l.expires.is_none(), l.expires, l.lot)
    });
    order
}

/// Takes `want` from lots in the order given by `order` (indexes into `lots`), dropping emptied
/// lots, and returns the draws.
pub(crate) fn draw(
    lots: &mut Vec<Lot>,
    order: &[usize],
    mut want: i64,
    principal: bool,
) -> Vec<Drawn> {
    let mut out = Vec::new();
    for &i in order {
        if want == 0 {
            break;
        }
        let l = &mut lots[i];
        let take = l.cents.min(want);
        if take > 0 {
            want -= take;
            l.cents -= take;
            out.push(Drawn {
                principal,
                lot: l.lot,
                store: l.store.clone(),
                expires: l.expires,
                cents: take,
                restored: 0,
            });
        }
    }
    assert_eq!(want, 0, "model: lots cover a checked amount");
    lots.retain(|l| l.cents > 0);
    out
}

//! The bounds of every figure an event records, and the one check both sides use: `decide`
//! refuses a command whose events or running totals would pass them (`limit_exceeded`), and
//! `decode_event` refuses a stored event that passes them. So whatever a ledger records, it
//! can read back.
//!
//! - money: `0` to [`RECORDED_MAX`] cents, in every field of every event and in every running
//!   total a member's fold keeps (principal, bonus, bonus spent, package value, the net
//!   recharge window), so a later event that records a total (a balance refund's principal)
//!   still decodes;
//! - points: `0` to [`POINTS_RECORDED_MAX`], in every field and in the points a member holds;
//! - lot numbers (`u32`) and stream versions (`u64`): a member is refused a command once its
//!   next lot number or version would leave the type (see `Draft::record` in decide).

use crate::event::{validate_method, Draw, EventBody, External, PointsDraw, Restore};
use crate::events::*;
use crate::money::Money;

/// The largest figure an event may record (a balance, a payout): `999999999999.99`. A log
/// holding more was not written by a ledger; refusing it on decode keeps every sum of cents
/// inside `i64`.
pub const RECORDED_MAX: Money = Money::from_cents(99_999_999_999_999);

/// The most points an event may record, and a member may hold: `999999999999999`.
pub const POINTS_RECORDED_MAX: u64 = 999_999_999_999_999;

// The relations between the limits, checked when the crate compiles:
// - an amount a command may carry can be recorded;
const _: () = assert!(crate::money::AMOUNT_MAX.cents() <= RECORDED_MAX.cents());
// - the points a command may redeem can be recorded;
const _: () = assert!(crate::command::POINTS_MAX <= POINTS_RECORDED_MAX);
// - every recorded figure is an integer every JSON writer (RFC 8785 included) writes alike
//   (cents are written as decimal strings, but a sum of them is compared as an integer by
//   readers that parse it), so canonical bytes are JCS bytes (docs/AUDIT.md);
const _: () = assert!(POINTS_RECORDED_MAX <= crate::event::JSON_INTEGER_MAX);
const _: () = assert!(RECORDED_MAX.cents().unsigned_abs() <= crate::event::JSON_INTEGER_MAX);
// - a member's running totals (at most five of them, each within RECORDED_MAX) sum inside i64.
const _: () = assert!(RECORDED_MAX.cents() <= i64::MAX / 5);

/// True when an amount of cents lies within what an event may record: `0..=RECORDED_MAX`.
/// The one test of a recorded amount: the money decoder and [`check_event`] both use it.
pub const fn money_recordable(cents: i64) -> bool {
    cents >= 0 && cents <= RECORDED_MAX.cents()
}

/// Checks every money and points figure of an event body against the bounds. The one
/// check of an event's figures: `decide` runs it on every event it makes and
/// [`decode_event`](crate::decode_event) on every event it reads.
pub fn check_event(body: &EventBody) -> Result<(), String> {
    let mut c = Checker(Ok(()));
    figures(body, &mut c);
    c.0
}

/// Collects the first figure beyond its bound.
struct Checker(Result<(), String>);

impl Checker {
    fn money(&mut self, name: &str, m: Money) {
        if self.0.is_ok() && !money_recordable(m.cents()) {
            self.0 = Err(money_beyond(name, "is", i128::from(m.cents())));
        }
    }

    fn moneys(&mut self, figures: &[(&str, Money)]) {
        for (name, m) in figures {
            self.money(name, *m);
        }
    }

    fn points(&mut self, name: &str, p: u64) {
        if self.0.is_ok() && p > POINTS_RECORDED_MAX {
            self.0 = Err(points_beyond(name, "is", u128::from(p)));
        }
    }

    /// An external part: its amount, and a method named like an account.
    fn external(&mut self, x: Option<&External>) {
        if let Some(x) = x {
            self.money("the external part", x.amount);
            if self.0.is_ok() {
                if let Err(e) = validate_method(&x.method) {
                    self.0 = Err(e);
                }
            }
        }
    }

    fn draws(&mut self, draws: &[Draw]) {
        for d in draws {
            self.money("a draw's amount", d.amount);
        }
    }

    fn restores(&mut self, restored: &[Restore]) {
        for r in restored {
            self.money("a restored amount", r.amount);
        }
    }

    fn point_draws(&mut self, draws: &[PointsDraw]) {
        for d in draws {
            self.points("a point draw", d.points);
        }
    }
}

/// The message for a money figure beyond the bound.
pub(crate) fn money_beyond(name: &str, verb: &str, cents: i128) -> String {
    let shown = i64::try_from(cents).map_or_else(
        |_| format!("{cents} cents"),
        |c| Money::from_cents(c).to_string(),
    );
    format!("{name} {verb} {shown}, outside what an event may record (0.00 to {RECORDED_MAX})")
}

/// The message for a points figure beyond the bound.
pub(crate) fn points_beyond(name: &str, verb: &str, points: u128) -> String {
    format!("{name} {verb} {points} points, above what an event may record ({POINTS_RECORDED_MAX})")
}

/// Hands every figure of a body to the checker.
fn figures(body: &EventBody, c: &mut Checker) {
    match body {
        EventBody::MemberEnrolled(_)
        | EventBody::TierChanged(_)
        | EventBody::MemberFrozen(_)
        | EventBody::MemberUnfrozen(_)
        | EventBody::PolicyPublished(_)
        | EventBody::PeriodClosed(_) => {}
        EventBody::Recharged(Recharged { amount, .. })
        | EventBody::BonusGranted(BonusGranted { amount, .. })
        | EventBody::BonusExpired(BonusExpired { amount, .. })
        | EventBody::Settled(Settled { amount, .. }) => c.money("amount", *amount),
        EventBody::Consumed(b) => {
            c.moneys(&[
                ("bonus", b.bonus),
                ("charged", b.charged),
                ("price", b.price),
                ("principal", b.principal),
            ]);
            c.draws(&b.draws);
            c.points("points earned", b.points_earned);
            c.external(b.external.as_ref());
            if let Some(u) = &b.coupon {
                c.money("coupon discount", u.discount);
            }
        }
        EventBody::ConsumptionRefunded(b) => {
            c.moneys(&[
                ("amount", b.amount),
                ("bonus", b.bonus),
                ("principal", b.principal),
            ]);
            c.restores(&b.restored);
            c.points("points forgiven", b.points_forgiven);
            c.point_draws(&b.points_reversed);
            c.external(b.external.as_ref());
            if let Some(r) = &b.coupon {
                c.money("coupon discount", r.discount);
            }
        }
        EventBody::BalanceRefunded(b) => {
            c.moneys(&[
                ("bonus forfeited", b.bonus_forfeited),
                ("bonus spent", b.bonus_spent),
                ("clawback", b.clawback),
                ("payout", b.payout),
                ("principal", b.principal),
            ]);
            c.draws(&b.draws);
            if let Some(f) = &b.formula {
                c.moneys(&[
                    ("bonus granted", f.bonus_granted),
                    ("paid", f.paid),
                    ("remaining", f.remaining),
                    ("result", f.result),
                ]);
            }
        }
        EventBody::PointsExpired(b) => c.points("points", b.points),
        EventBody::PointsRedeemed(b) => {
            c.points("points", b.points);
            c.point_draws(&b.draws);
            if let Some(g) = &b.given {
                c.money("the value given", g.value);
            }
        }
        EventBody::Adjusted(b) => {
            if let Some(a) = b.amount {
                c.money("amount", a);
            }
            if let Some(p) = b.points {
                c.points("points", p);
            }
            c.draws(&b.draws);
            c.point_draws(&b.points_draws);
        }
        _ => package_figures(body, c),
    }
}

/// [`figures`] for the package, opening and hold events.
fn package_figures(body: &EventBody, c: &mut Checker) {
    match body {
        EventBody::PackagePurchased(b) => {
            c.moneys(&[
                ("bonus", b.bonus),
                ("cash", b.cash),
                ("price", b.price),
                ("principal", b.principal),
                ("session price", b.session_price),
            ]);
            c.draws(&b.draws);
            c.external(b.external.as_ref());
        }
        EventBody::SessionRedeemed(SessionRedeemed {
            amount,
            bonus,
            principal,
            ..
        })
        | EventBody::PackageExpired(PackageExpired {
            amount,
            bonus,
            principal,
            ..
        }) => c.moneys(&[
            ("amount", *amount),
            ("bonus", *bonus),
            ("principal", *principal),
        ]),
        EventBody::PackageRefunded(b) => {
            c.moneys(&[
                ("amount", b.amount),
                ("bonus", b.bonus),
                ("principal", b.principal),
                ("bonus unspent", b.bonus_unspent),
            ]);
            c.external(b.external.as_ref());
        }
        EventBody::BalanceOpened(b) => {
            for l in b.principal.iter().chain(&b.bonus) {
                c.money("an opened lot's amount", l.amount);
            }
            for p in &b.points {
                c.points("an opened point lot", p.points);
            }
            for p in &b.packages {
                c.moneys(&[
                    ("an opened package's price", p.price),
                    ("an opened package's session price", p.session_price),
                ]);
            }
        }
        EventBody::HoldAuthorized(HoldAuthorized { amount, .. })
        | EventBody::HoldVoided(HoldVoided { amount, .. })
        | EventBody::HoldExpired(HoldExpired { amount, .. }) => c.money("amount", *amount),
        EventBody::HoldCaptured(b) => c.moneys(&[
            ("amount", b.amount),
            ("captured", b.captured),
            ("released", b.released),
        ]),
        EventBody::CouponIssued(b) => {
            for (name, m) in [
                ("amount", b.amount),
                ("cap", b.cap),
                ("threshold", b.threshold),
            ] {
                if let Some(m) = m {
                    c.money(name, m);
                }
            }
        }
        // Cards and granted packages move no money; every other body is matched by `figures`.
        _ => {}
    }
}

/// A member's running totals, summed without overflow: what `decide` compares with the
/// bounds after each event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub principal: i128,
    pub bonus: i128,
    pub bonus_spent: i128,
    pub package_value: i128,
    /// Principal recharged less principal refunded, over the recharge window kept.
    pub window: i128,
    pub points: u128,
}

impl Totals {
    /// Refuses a total beyond its bound that this event made larger (a member a ledger of an
    /// earlier release let pass the bound may still bring it down).
    pub fn check_growth(&self, before: &Totals, member: &str) -> Result<(), String> {
        let max = i128::from(RECORDED_MAX.cents());
        let money = [
            ("principal balance", self.principal, before.principal),
            ("bonus balance", self.bonus, before.bonus),
            ("bonus spent", self.bonus_spent, before.bonus_spent),
            (
                "value held in packages",
                self.package_value,
                before.package_value,
            ),
            (
                "principal recharged within 365 days",
                self.window,
                before.window,
            ),
        ];
        for (name, now, was) in money {
            if now > max && now > was {
                return Err(money_beyond(
                    &format!("member {member}'s {name}"),
                    "would be",
                    now,
                ));
            }
        }
        if self.points > u128::from(POINTS_RECORDED_MAX) && self.points > before.points {
            return Err(points_beyond(
                &format!("member {member}'s points"),
                "would be",
                self.points,
            ));
        }
        Ok(())
    }
}

//! Member statements (对账单): every movement of a period with running balances.

use memberledger::domain::events::{
    Adjusted, BalanceRefunded, BonusExpired, BonusGranted, Consumed, ConsumptionRefunded,
    MemberEnrolled, MemberFrozen, MemberUnfrozen, PackageExpired, PackagePurchased,
    PackageRefunded, PointsExpired, PointsRedeemed, Recharged, SessionRedeemed, TierChanged,
};
use memberledger::domain::{EventBody, External, MemberState};
use memberledger::{Error, Ledger, MemberId, Money, Timestamp};
use serde::Serialize;

/// A member's balances at a point of the statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balances {
    /// Principal.
    pub principal: Money,
    /// Bonus.
    pub bonus: Money,
    /// Points.
    pub points: u64,
    /// Unredeemed value of open packages.
    pub packages: Money,
    /// Tier.
    pub tier: String,
}

impl Balances {
    fn of(s: Option<&MemberState>) -> Balances {
        match s {
            Some(s) => Balances {
                principal: s.principal(),
                bonus: s.bonus(),
                points: s.points(),
                packages: s.package_value(),
                tier: s.tier.to_string(),
            },
            None => Balances {
                principal: Money::ZERO,
                bonus: Money::ZERO,
                points: 0,
                packages: Money::ZERO,
                tier: String::new(),
            },
        }
    }
}

/// One movement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementLine {
    /// When it took effect.
    pub at: Timestamp,
    /// For a late command from an offline terminal, when it happened (before `at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<Timestamp>,
    /// The event's position in the log.
    pub position: u64,
    /// The store.
    pub store: String,
    /// The event type.
    pub kind: &'static str,
    /// What happened, for people.
    pub description: String,
    /// Principal change, signed.
    pub principal_change: Money,
    /// Bonus change, signed.
    pub bonus_change: Money,
    /// Points change, signed.
    pub points_change: i64,
    /// Package value change, signed.
    pub packages_change: Money,
    /// Balances after it.
    pub balance: Balances,
}

/// A member's statement for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// The member.
    pub member: MemberId,
    /// Start of the period (inclusive), if bounded.
    pub from: Option<Timestamp>,
    /// End of the period (inclusive), if bounded.
    pub to: Option<Timestamp>,
    /// Balances before the period.
    pub opening: Balances,
    /// Movements in the period.
    pub lines: Vec<StatementLine>,
    /// Balances at the end of the period.
    pub closing: Balances,
}

/// A change between two balances. Each lies in `0..=RECORDED_MAX`, so the difference
/// fits in `i64` whatever its sign.
fn signed(after: Money, before: Money) -> Money {
    after.minus(before)
}

fn describe(body: &EventBody) -> String {
    match body {
        EventBody::MemberEnrolled(MemberEnrolled { tier, .. }) => format!("card opened, tier {tier}"),
        EventBody::Recharged(Recharged { amount, .. }) => format!("recharge {amount}"),
        EventBody::BonusGranted(BonusGranted { amount, reason, expires_at, .. }) => format!(
            "bonus {amount} ({reason}){}",
            expires_at.map(|t| format!(", expires {t}")).unwrap_or_default()
        ),
        EventBody::Consumed(Consumed { service, price, charged, external, coupon, .. }) => format!(
            "{} price {price}, charged {charged}{}{}",
            service.as_deref().unwrap_or("service"),
            coupon.as_ref().map(|c| format!(", coupon {} off", c.discount)).unwrap_or_default(),
            outside(external.as_ref(), "paid by")
        ),
        EventBody::ConsumptionRefunded(ConsumptionRefunded { consumption, amount, external, coupon, .. }) => {
            format!(
                "refund {amount} of consumption {consumption}{}{}",
                outside(external.as_ref(), "paid back by"),
                coupon
                    .as_ref()
                    .map(|c| if c.restored { ", coupon given back" } else { ", coupon expired" })
                    .unwrap_or_default()
            )
        }
        EventBody::BalanceRefunded(b @ BalanceRefunded { formula: Some(_), .. }) => refund_formula_line(b),
        EventBody::BalanceRefunded(BalanceRefunded { payout, clawback, bonus_forfeited, .. }) => format!(
            "card refunded: paid out {payout} (kept {clawback} for bonus used, {bonus_forfeited} bonus forfeited)"
        ),
        EventBody::TierChanged(TierChanged { from, to, reason }) => format!("tier {from} → {to} ({reason})"),
        EventBody::BonusExpired(BonusExpired { amount, .. }) => format!("bonus {amount} expired"),
        EventBody::PointsExpired(PointsExpired { points, .. }) => format!("{points} points expired"),
        EventBody::PackagePurchased(PackagePurchased {
            service,
            sessions,
            price,
            cash,
            external,
            ..
        }) => format!(
            "package {service} × {sessions} for {price}, paid {}{}",
            if cash.is_positive() { "in cash" } else { "from the balance" },
            outside(external.as_ref(), "paid by")
        ),
        EventBody::SessionRedeemed(SessionRedeemed {
            session,
            sessions_left,
            amount,
            ..
        }) => format!("package session {session} redeemed ({amount}), {sessions_left} left"),
        EventBody::PackageRefunded(PackageRefunded {
            sessions,
            amount,
            to,
            external,
            ..
        }) => format!(
            "package refunded: {sessions} sessions, {amount} to {}{}",
            match to {
                memberledger::domain::PaidFrom::Cash => "cash",
                memberledger::domain::PaidFrom::Balance => "the balance",
            },
            outside(external.as_ref(), "paid back by")
        ),
        EventBody::PointsRedeemed(PointsRedeemed { points, reason, given, .. }) => format!(
            "{points} points redeemed{}{}",
            given
                .as_ref()
                .map(|g| format!(" for {} ({})", g.item, g.value))
                .unwrap_or_default(),
            reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
        ),
        EventBody::Adjusted(Adjusted {
            balance,
            direction,
            reason,
            operator,
            ..
        }) => format!("adjustment: {direction:?} of {balance:?} by {operator} ({reason})"),
        _ => describe_more(body),
    }
}

/// The lines of the card's standing and the coupon events; the type's name for the rest.
fn describe_more(body: &EventBody) -> String {
    match body {
        EventBody::PackageExpired(PackageExpired {
            sessions, amount, ..
        }) => format!("package expired with {sessions} sessions ({amount}) left"),
        EventBody::MemberFrozen(MemberFrozen { reason }) => format!("card frozen ({reason})"),
        EventBody::MemberUnfrozen(MemberUnfrozen { reason }) => format!("card unfrozen ({reason})"),
        EventBody::CouponIssued(c) => format!(
            "coupon issued: {} ({:?}), expires {}",
            c.reason, c.kind, c.expires_at
        ),
        EventBody::PackageGranted(g) => format!(
            "free sessions granted: {} × {} ({})",
            g.service, g.sessions, g.reason
        ),
        _ => body.type_name().to_owned(),
    }
}

/// The part of a visit (or its refund) paid outside the card: ", of which ¥x paid by cash".
fn outside(external: Option<&External>, verb: &str) -> String {
    external
        .map(|x| format!(", of which {} {verb} {}", x.amount, x.method))
        .unwrap_or_default()
}

/// A balance refund under a named formula, with its inputs: how the payout was computed.
fn refund_formula_line(b: &BalanceRefunded) -> String {
    let Some(f) = &b.formula else {
        return String::new();
    };
    let how = match f.name {
        memberledger::domain::RefundFormula::ProRata => format!(
            "pro rata: remaining {} × paid {} ÷ (paid {} + bonus granted {}) = {}",
            f.remaining, f.paid, f.paid, f.bonus_granted, f.result
        ),
        _ => format!("{}: the principal, {}", f.name.as_str(), f.result),
    };
    let cap = if f.result > b.principal {
        format!(", at most the principal held, {}", b.principal)
    } else {
        String::new()
    };
    format!(
        "card refunded: paid out {} ({how}{cap}; {} bonus forfeited)",
        b.payout, b.bonus_forfeited
    )
}

/// The statement of a member for `[from, to]` (either end open when `None`).
pub fn statement(
    ledger: &Ledger,
    member: &MemberId,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> Result<Option<Statement>, Error> {
    let events = ledger.member_events(member)?;
    if events.is_empty() {
        return Ok(None);
    }
    let mut state: Option<MemberState> = None;
    let mut opening = None;
    let mut lines = Vec::new();
    for rec in &events {
        let e = &rec.event;
        if to.is_some_and(|t| e.at > t) {
            break;
        }
        let in_period = from.is_none_or(|f| e.at >= f);
        if in_period && opening.is_none() {
            opening = Some(Balances::of(state.as_ref()));
        }
        let before = Balances::of(state.as_ref());
        MemberState::fold_onto(&mut state, e).map_err(|f| Error::Corrupt {
            position: rec.position,
            why: f.to_string(),
        })?;
        if in_period {
            let after = Balances::of(state.as_ref());
            lines.push(StatementLine {
                at: e.at,
                occurred_at: e.occurred_at,
                position: rec.position,
                store: e.store.to_string(),
                kind: e.body.type_name(),
                description: describe(&e.body),
                principal_change: signed(after.principal, before.principal),
                bonus_change: signed(after.bonus, before.bonus),
                points_change: i64::try_from(after.points).unwrap_or(i64::MAX)
                    - i64::try_from(before.points).unwrap_or(i64::MAX),
                packages_change: signed(after.packages, before.packages),
                balance: after,
            });
        }
    }
    let closing = Balances::of(state.as_ref());
    Ok(Some(Statement {
        member: member.clone(),
        from,
        to,
        opening: opening.unwrap_or_else(|| closing.clone()),
        lines,
        closing,
    }))
}

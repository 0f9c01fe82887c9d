//! Checks of an accepted command: lots, events, and the command's effect.

use super::*;
use memberledger_core::events::{
    BalanceRefunded, BonusExpired, BonusGranted, Consumed, ConsumptionRefunded, MemberEnrolled,
    PointsExpired, Recharged, TierChanged,
};

pub(super) fn sum(amounts: impl IntoIterator<Item = Money>) -> Money {
    amounts.into_iter().fold(Money::ZERO, Money::plus)
}

/// Every open lot holds something; no balance is negative.
pub(super) fn check_lots(s: &MemberState) {
    for l in s.principal_lots().iter().chain(&s.bonus_lots()) {
        assert!(
            l.remaining.is_positive(),
            "lot {} holds {}",
            l.lot,
            l.remaining
        );
    }
    for l in &s.point_lots() {
        assert!(l.remaining > 0, "point lot {} is empty", l.lot);
    }
    assert!(
        !s.principal().is_negative() && !s.bonus().is_negative() && !s.bonus_spent.is_negative()
    );
    assert!(
        s.principal_lots().windows(2).all(|w| w[0].lot < w[1].lot),
        "principal lots in lot order"
    );
    assert!(s.bonus_lots().iter().all(|l| l.kind == LotKind::Bonus));
    assert!(s
        .principal_lots()
        .iter()
        .all(|l| l.kind == LotKind::Principal && l.expires_at.is_none()));
}

/// Folds the events one by one, checking each against the state it lands on, and returns the
/// member after the command.
pub(super) fn check_accepted(
    before: Option<&MemberState>,
    cmd: &Command,
    events: &[Event],
    policy: &Policy,
    history: &[(Timestamp, i64)],
) -> MemberState {
    assert!(!events.is_empty(), "an accepted command records something");
    let v0 = before.map_or(0, |s| s.version);
    let mut cur: Option<MemberState> = before.cloned();
    let mut pre_main: Option<Option<MemberState>> = None;
    let mut main = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let index = u32::try_from(i).expect("few events");
        assert_eq!(e.id, event_id(cmd.id, index));
        assert_eq!(
            (e.command, e.index, e.version),
            (cmd.id, index, v0 + u64::from(index) + 1)
        );
        assert_eq!(
            (&e.member, e.at, &e.store),
            (&cmd.member, cmd.at, &cmd.store)
        );
        let prev = cur.clone();
        match &mut cur {
            None => cur = Some(MemberState::enrolled(e).expect("the first event enrolls")),
            Some(s) => s
                .apply(e)
                .unwrap_or_else(|err| panic!("decided event does not fold: {err}")),
        }
        let now = cur.as_ref().expect("enrolled");
        check_lots(now);
        let expiry = matches!(
            e.body,
            EventBody::BonusExpired(BonusExpired { .. })
                | EventBody::PointsExpired(PointsExpired { .. })
        );
        if expiry {
            assert!(
                pre_main.is_none(),
                "expiries are recorded before the command's own events"
            );
        } else {
            if pre_main.is_none() {
                pre_main = Some(prev.clone());
            }
            main.push(e);
        }
        if let Some(prev) = &prev {
            check_event(prev, now, e, cmd.at, policy);
        } else {
            assert!(matches!(
                e.body,
                EventBody::MemberEnrolled(MemberEnrolled { .. })
            ));
        }
    }
    let pre = pre_main.expect("a command records its own event");
    if let Some(pre) = &pre {
        // After the expiries, nothing due is left.
        assert!(
            pre.bonus_lots().iter().all(|l| !due(l.expires_at, cmd.at)),
            "a due bonus lot did not expire"
        );
        assert!(
            pre.point_lots().iter().all(|l| !due(l.expires_at, cmd.at)),
            "a due point lot did not expire"
        );
    }
    let after = cur.expect("enrolled");
    check_command(pre.as_ref(), &after, cmd, &main, policy, history);
    after
}

/// What one event does to the balances, exactly as its figures say.
pub(super) fn check_event(
    prev: &MemberState,
    now: &MemberState,
    e: &Event,
    at: Timestamp,
    policy: &Policy,
) {
    let (p0, b0, n0) = (prev.principal(), prev.bonus(), prev.points());
    let (p1, b1, n1) = (now.principal(), now.bonus(), now.points());
    match &e.body {
        EventBody::MemberEnrolled(MemberEnrolled { .. }) => {
            panic!("member_enrolled on an enrolled member")
        }
        EventBody::Recharged(Recharged { amount, lot, .. }) => {
            assert!(amount.is_positive());
            assert_eq!((p1, b1, n1), (p0.plus(*amount), b0, n0));
            let l = now.principal_lots().pop().expect("the new lot");
            assert_eq!(
                (l.lot, l.remaining, &l.origin_store),
                (*lot, *amount, &e.store)
            );
        }
        EventBody::BonusGranted(BonusGranted {
            amount,
            lot,
            expires_at,
            ..
        }) => {
            assert!(amount.is_positive());
            assert!(
                expires_at.is_none_or(|x| x > at),
                "a bonus granted already expired"
            );
            assert_eq!((p1, b1, n1), (p0, b0.plus(*amount), n0));
            let l = now
                .bonus_lots()
                .into_iter()
                .find(|l| l.lot == *lot)
                .expect("the new lot");
            assert_eq!(
                (l.remaining, &l.origin_store, l.expires_at),
                (*amount, &e.store, *expires_at)
            );
        }
        EventBody::Consumed(Consumed {
            charged,
            principal,
            bonus,
            draws,
            points_earned,
            ..
        }) => {
            assert_eq!(
                principal.plus(*bonus),
                *charged,
                "principal + bonus = charged"
            );
            let drawn = |k: LotKind| sum(draws.iter().filter(|d| d.kind == k).map(|d| d.amount));
            assert_eq!(
                drawn(LotKind::Principal),
                *principal,
                "principal draws add up"
            );
            assert_eq!(drawn(LotKind::Bonus), *bonus, "bonus draws add up");
            for d in draws {
                assert!(d.amount.is_positive());
                let lots = if d.kind == LotKind::Principal {
                    &prev.principal_lots()
                } else {
                    &prev.bonus_lots()
                };
                let l = lots
                    .iter()
                    .find(|l| l.lot == d.lot)
                    .expect("a drawn lot was open");
                assert!(
                    l.remaining >= d.amount
                        && l.origin_store == d.origin_store
                        && l.expires_at == d.expires_at
                );
            }
            assert_eq!(
                (p1, b1, n1),
                (p0.minus(*principal), b0.minus(*bonus), n0 + points_earned)
            );
            assert_eq!(now.bonus_spent, prev.bonus_spent.plus(*bonus));
        }
        EventBody::ConsumptionRefunded(ConsumptionRefunded {
            amount,
            principal,
            bonus,
            restored,
            points_reversed,
            points_forgiven,
            ..
        }) => {
            assert!(amount.is_positive());
            assert_eq!(
                principal.plus(*bonus),
                *amount,
                "principal + bonus = amount"
            );
            let part = |k: LotKind| sum(restored.iter().filter(|r| r.kind == k).map(|r| r.amount));
            assert_eq!(
                part(LotKind::Principal),
                *principal,
                "principal restores add up"
            );
            assert_eq!(part(LotKind::Bonus), *bonus, "bonus restores add up");
            for r in restored {
                assert!(r.amount.is_positive());
                assert_eq!(
                    r.forfeited,
                    due(r.expires_at, at),
                    "forfeited exactly when the lot has expired"
                );
            }
            let credited = sum(restored
                .iter()
                .filter(|r| r.kind == LotKind::Bonus && !r.forfeited)
                .map(|r| r.amount));
            let taken: u64 = points_reversed.iter().map(|p| p.points).sum();
            assert!(points_reversed.iter().all(|p| p.points > 0));
            assert_eq!(
                (p1, b1, n1 + taken),
                (p0.plus(*principal), b0.plus(credited), n0)
            );
            if *points_forgiven > 0 {
                assert_eq!(
                    n1, 0,
                    "points are forgiven only when the member has none left"
                );
            }
            assert_eq!(now.bonus_spent, prev.bonus_spent.minus(*bonus));
        }
        EventBody::BalanceRefunded(BalanceRefunded {
            principal,
            bonus_forfeited,
            bonus_spent,
            clawback,
            payout,
            draws,
            formula,
        }) => {
            assert_eq!(
                (*principal, *bonus_forfeited, *bonus_spent),
                (p0, b0, prev.bonus_spent)
            );
            assert_eq!(
                payout.plus(*clawback),
                *principal,
                "payout + clawback = principal"
            );
            let want = match formula {
                // A named formula: its figure within the principal, never above what was paid.
                Some(f) => {
                    assert!(
                        *payout <= f.paid || f.paid.is_zero(),
                        "refund within what was paid"
                    );
                    f.result.min(p0)
                }
                None if policy.refund.claw_back_used_bonus => {
                    p0.minus(prev.bonus_spent).max(Money::ZERO)
                }
                None => p0,
            };
            assert_eq!(
                *payout, want,
                "payout = max(0, P − bonus spent) with claw-back, else P"
            );
            assert_eq!(
                draws.len(),
                prev.principal_lots().len() + prev.bonus_lots().len()
            );
            assert_eq!((p1, b1, n1), (Money::ZERO, Money::ZERO, n0));
            assert!(
                now.principal_lots().is_empty()
                    && now.bonus_lots().is_empty()
                    && now.consumptions().is_empty()
            );
            assert!(now.bonus_spent.is_zero());
        }
        EventBody::TierChanged(TierChanged { from, to, .. }) => {
            assert_eq!(
                (from.as_str(), to.as_str()),
                (prev.tier.as_str(), now.tier.as_str())
            );
            assert!(policy.tier(to).is_some());
            assert_eq!((p1, b1, n1), (p0, b0, n0));
        }
        EventBody::BonusExpired(BonusExpired {
            amount,
            expires_at,
            lot,
            ..
        }) => {
            assert!(*expires_at <= at);
            assert_eq!((p1, b1, n1), (p0, b0.minus(*amount), n0));
            assert!(now.bonus_lots().iter().all(|l| l.lot != *lot));
        }
        EventBody::PointsExpired(PointsExpired {
            points, expires_at, ..
        }) => {
            assert!(*expires_at <= at && *points > 0);
            assert_eq!((p1, b1, n1 + points), (p0, b0, n0));
        }
        other => panic!("unexpected event {other:?}"),
    }
}

/// The command's own events (after expiries) are the ones §3 lists, with the figures it gives.
pub(super) fn check_command(
    pre: Option<&MemberState>,
    after: &MemberState,
    cmd: &Command,
    main: &[&Event],
    policy: &Policy,
    history: &[(Timestamp, i64)],
) {
    let bodies: Vec<&EventBody> = main.iter().map(|e| &e.body).collect();
    let Some(pre) = pre else {
        let Action::Enroll { tier } = &cmd.action else {
            panic!("only enroll starts a member")
        };
        let want = tier.clone().unwrap_or_else(|| policy.tiers[0].name.clone());
        assert!(
            matches!(bodies.as_slice(), [EventBody::MemberEnrolled(MemberEnrolled { tier, home_store })] if *tier == want && *home_store == cmd.store)
        );
        return;
    };
    match &cmd.action {
        Action::Recharge { amount, .. } => {
            let [EventBody::Recharged(Recharged { amount: a, .. }), rest @ ..] = bodies.as_slice()
            else {
                panic!("recharge records recharged first: {bodies:?}")
            };
            assert_eq!(a, amount);
            let mut rest = rest.iter();
            let mut next = rest.next();
            if let Some((i, rule)) = policy.bonus_rule_for(&pre.tier, *amount, &cmd.member, cmd.at)
            {
                let want = match (rule.bonus, rule.bonus_rate) {
                    (Some(b), _) => b,
                    (None, Some(rate)) => Money::round(amount.as_decimal() * rate, policy.rounding),
                    (None, None) => unreachable!("validated policy"),
                };
                let Some(EventBody::BonusGranted(BonusGranted {
                    amount: b,
                    rule: r,
                    reason,
                    expires_at,
                    ..
                })) = next
                else {
                    panic!("a recharge bonus is due: {bodies:?}")
                };
                assert_eq!(
                    (*b, *r, reason.as_str()),
                    (want, Some(u32::try_from(i).expect("rule")), "recharge")
                );
                assert_eq!(
                    *expires_at,
                    policy.bonus_expiry_days.map(|d| cmd.at.plus_days(d))
                );
                next = rest.next();
            }
            let from = policy.tier_index(&pre.tier).expect("policy tier");
            let single = |t: usize| {
                policy.tiers[t]
                    .upgrade
                    .as_ref()
                    .and_then(|u| u.single_recharge)
                    .is_some_and(|x| *amount >= x)
            };
            // Recharged in (at − 365 days, at], this one included, less balance-refund payouts
            // in that window; never below zero. Modelled from the history, not the state.
            let window_start = cmd.at.as_datetime() - Duration::days(365);
            let cents: i64 = history
                .iter()
                .filter(|(t, _)| t.as_datetime() > window_start && *t <= cmd.at)
                .map(|(_, c)| *c)
                .sum::<i64>()
                + amount.cents();
            let window = Money::from_cents(cents.max(0));
            assert_eq!(
                after.recharged_within_365d(cmd.at),
                window,
                "the 365-day window"
            );
            let by_window = |t: usize| {
                policy.tiers[t]
                    .upgrade
                    .as_ref()
                    .and_then(|u| u.recharged_within_365d)
                    .is_some_and(|x| window >= x)
            };
            let highest = (from + 1..policy.tiers.len())
                .rev()
                .find(|&t| single(t) || by_window(t));
            match (next, highest) {
                (None, None) => {}
                (
                    Some(EventBody::TierChanged(TierChanged {
                        from: f,
                        to,
                        reason,
                    })),
                    Some(t),
                ) => {
                    assert_eq!(
                        (f.as_str(), to.as_str()),
                        (pre.tier.as_str(), policy.tiers[t].name.as_str())
                    );
                    let want = if single(t) {
                        "upgrade:single_recharge"
                    } else {
                        "upgrade:recharged_within_365d"
                    };
                    assert_eq!(reason, want);
                    assert!(rest.next().is_none());
                }
                (got, want) => panic!("tier upgrade: got {got:?}, expected tier {want:?}"),
            }
            // Never downgraded.
            assert!(policy.tier_index(&after.tier) >= policy.tier_index(&pre.tier));
        }
        Action::GrantBonus {
            amount,
            reason,
            expires_at,
        } => {
            let want = expires_at.or_else(|| policy.bonus_expiry_days.map(|d| cmd.at.plus_days(d)));
            assert!(
                matches!(bodies.as_slice(), [EventBody::BonusGranted(BonusGranted { amount: a, reason: r, rule: None, expires_at: x, .. })]
                if a == amount && r == reason && *x == want)
            );
        }
        Action::Consume { amount, .. } => {
            let [EventBody::Consumed(Consumed {
                tier,
                price,
                discount,
                charged,
                principal,
                bonus,
                draws,
                points_earned,
                points_lot,
                points_expires_at,
                ..
            })] = bodies.as_slice()
            else {
                panic!("consume records consumed: {bodies:?}")
            };
            let t = policy.tier(&pre.tier).expect("policy tier");
            assert_eq!(
                (tier.as_str(), price, discount),
                (pre.tier.as_str(), amount, &t.discount)
            );
            assert_eq!(
                *charged,
                Money::round(amount.as_decimal() * t.discount, policy.rounding)
            );
            assert_eq!(
                *bonus,
                split_bonus(*charged, pre.principal(), pre.bonus(), policy)
            );
            let points = (principal.as_decimal() * t.points_per_yuan).floor();
            assert_eq!(
                Decimal::from(*points_earned),
                points,
                "points = floor(principal × points_per_yuan)"
            );
            assert_eq!(points_lot.is_some(), *points_earned > 0);
            assert_eq!(
                *points_expires_at,
                points_lot
                    .and(policy.points_expiry_days)
                    .map(|d| cmd.at.plus_days(d))
            );
            // The draws are principal lots first-in first-out, then bonus lots earliest expiry
            // first, first-in first-out among equals, lots without expiry last.
            let mut plots = pre.principal_lots();
            plots.sort_by_key(|l| l.lot);
            let mut blots = pre.bonus_lots();
            blots.sort_by(|a, b| match (a.expires_at, b.expires_at) {
                (Some(x), Some(y)) => x.cmp(&y).then(a.lot.cmp(&b.lot)),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => a.lot.cmp(&b.lot),
            });
            let mut want = Vec::new();
            for (lots, mut left) in [(plots, *principal), (blots, *bonus)] {
                for l in lots {
                    if left.is_zero() {
                        break;
                    }
                    let take = l.remaining.min(left);
                    left = left.minus(take);
                    want.push((l.lot, l.kind, take));
                }
            }
            let got: Vec<_> = draws.iter().map(|d| (d.lot, d.kind, d.amount)).collect();
            assert_eq!(got, want, "draw order");
            assert!(after.consumptions().contains_key(&cmd.id));
        }
        Action::RefundConsumption {
            consumption,
            amount,
        } => {
            let [EventBody::ConsumptionRefunded(ConsumptionRefunded {
                consumption: c,
                amount: a,
                principal,
                bonus,
                restored,
                points_reversed,
                points_forgiven,
                ..
            })] = bodies.as_slice()
            else {
                panic!("refund records consumption_refunded: {bodies:?}")
            };
            let rec = pre.consumptions().get(consumption).expect("refundable");
            let left = rec.charged.minus(rec.refunded);
            assert_eq!((c, *a), (consumption, amount.unwrap_or(left)));
            let principal_left = rec.principal.minus(rec.principal_restored);
            let bonus_left = rec.bonus.minus(rec.bonus_restored);
            let low = a.minus(principal_left).max(Money::ZERO);
            let high = bonus_left.min(*a);
            assert!(
                low <= *bonus && *bonus <= high,
                "bonus restored {bonus} within [{low}, {high}]"
            );
            let proportional = Money::round(
                a.as_decimal() * rec.bonus.as_decimal() / rec.charged.as_decimal(),
                policy.rounding,
            );
            assert_eq!(
                *bonus,
                proportional.max(low).min(high),
                "bonus = round(amount × bonus part / charged), clamped"
            );
            assert!(*principal <= principal_left);
            // Restored: principal lots then bonus lots, each last-drawn first, each draw given
            // back in full before the next.
            let mut want = Vec::new();
            for (kind, mut left) in [(LotKind::Principal, *principal), (LotKind::Bonus, *bonus)] {
                for d in rec.draws.iter().rev().filter(|d| d.draw.kind == kind) {
                    let give = d.draw.amount.minus(d.restored).min(left);
                    if give.is_positive() {
                        left = left.minus(give);
                        want.push((d.draw.lot, kind, give));
                    }
                }
            }
            let got: Vec<_> = restored.iter().map(|r| (r.lot, r.kind, r.amount)).collect();
            assert_eq!(got, want, "restore order");
            // Points: so far = floor(earned × principal restored so far / principal part); all
            // of it once the consumption is refunded in full.
            let taken: u64 = points_reversed.iter().map(|p| p.points).sum();
            let accounted = rec.points_reversed + taken + points_forgiven;
            let complete = rec.refunded.plus(*a) == rec.charged;
            let target = if complete {
                rec.points_earned
            } else if rec.principal.is_zero() {
                0
            } else {
                let restored_so_far = rec.principal_restored.plus(*principal);
                u64::try_from(
                    i128::from(rec.points_earned) * i128::from(restored_so_far.cents())
                        / i128::from(rec.principal.cents()),
                )
                .expect("points")
            };
            assert_eq!(
                accounted,
                target.max(rec.points_reversed),
                "points reversed so far"
            );
            assert!(accounted <= rec.points_earned);
            assert_eq!(after.consumptions().contains_key(consumption), !complete);
        }
        Action::RefundBalance => {
            assert!(matches!(
                bodies.as_slice(),
                [EventBody::BalanceRefunded(BalanceRefunded { .. })]
            ));
        }
        Action::ChangeTier { tier, reason } => {
            let want = reason.clone().unwrap_or_else(|| "manual".into());
            assert!(
                matches!(bodies.as_slice(), [EventBody::TierChanged(TierChanged { from, to, reason: r })]
                if *from == pre.tier && to == tier && *r == want)
            );
        }
        other => panic!("unexpected command {other:?}"),
    }
}

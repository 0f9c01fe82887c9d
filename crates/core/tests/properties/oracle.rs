//! The rejection oracle: what docs/RULES.md says a command is refused for, from the state alone.

use super::*;

pub(super) fn due(expires_at: Option<Timestamp>, at: Timestamp) -> bool {
    expires_at.is_some_and(|e| e <= at)
}

pub(super) fn expected_rejection(
    state: Option<&MemberState>,
    cmd: &Command,
    policy: &Policy,
) -> Option<&'static str> {
    let Some(s) = state else {
        return match &cmd.action {
            Action::Enroll { tier: Some(t) } if policy.tier(t).is_none() => Some("unknown_tier"),
            Action::Enroll { .. } => None,
            _ => Some("member_not_found"),
        };
    };
    if let Action::Enroll { .. } = cmd.action {
        return Some("member_exists");
    }
    if cmd.at < s.last_at {
        return Some("out_of_order");
    }
    let live_bonus = s
        .bonus_lots()
        .iter()
        .filter(|l| !due(l.expires_at, cmd.at))
        .fold(Money::ZERO, |a, l| a.plus(l.remaining));
    let principal = s.principal();
    match &cmd.action {
        Action::Recharge { .. } => None,
        Action::GrantBonus { expires_at, .. } => expires_at
            .is_some_and(|e| e <= cmd.at)
            .then_some("invalid_command"),
        Action::Consume { amount, .. } => {
            let discount = policy
                .tier(&s.tier)
                .expect("member tiers are policy tiers")
                .discount;
            let charged = Money::round(amount.as_decimal() * discount, policy.rounding);
            if charged.is_zero() {
                Some("invalid_amount")
            } else if charged > principal.plus(live_bonus) {
                Some("insufficient_balance")
            } else {
                None
            }
        }
        Action::RefundConsumption {
            consumption,
            amount,
        } => match s.consumptions().get(consumption) {
            // Refunded in full already: nothing is left to refund (issue 14, item 7).
            None if s.refunded_in_full(consumption) => Some("refund_exceeds_original"),
            None => Some("unknown_consumption"),
            Some(r) if amount.is_some_and(|a| a > r.charged.minus(r.refunded)) => {
                Some("refund_exceeds_original")
            }
            Some(_) => None,
        },
        Action::RefundBalance => {
            (principal.is_zero() && live_bonus.is_zero()).then_some("insufficient_balance")
        }
        Action::ChangeTier { tier, .. } => {
            if policy.tier(tier).is_none() {
                Some("unknown_tier")
            } else {
                // The tier already held: nothing to change (issue 11, item 15).
                (s.tier == tier.as_str()).then_some("invalid_command")
            }
        }
        _ => panic!("no such command is generated"),
    }
}

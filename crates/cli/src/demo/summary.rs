//! What the demo prints once the year is recorded: the summary of the ledger and the tally.

use std::collections::HashMap;

use memberledger::{Ledger, Money};
use memberledger_testkit::year::GROUP;

use super::tally::{StoreStats, Tally};

/// Commands the demo records on top of the generated ones.
#[derive(Default)]
pub(super) struct Extra {
    pub(super) settlements: u64,
    pub(super) publications: u64,
    pub(super) sweeps: u64,
    /// Members the year-end tier review looked at, and those it lowered.
    pub(super) reviewed: u64,
    pub(super) lowered: u64,
}

impl Extra {
    /// What was recorded on top of the generated commands.
    pub(super) fn describe(
        &self,
        t: &Tally,
        commands: u64,
        published: Option<memberledger::Timestamp>,
        year_end: memberledger::Timestamp,
        expired_before: Money,
    ) -> String {
        let mut o = String::new();
        o.push_str(&format!(
            "of which {} generated (--commands {}); on top: {} month-end settlements, {} policy publication, {} members' expiries in the year-end sweep, {} members lowered by the year-end tier review\n",
            t.recorded - self.settlements - self.publications - self.sweeps - self.lowered,
            commands,
            self.settlements,
            self.publications,
            self.sweeps,
            self.lowered
        ));
        if let Some(at) = published {
            o.push_str(&format!(
                "policy version 2 published at {at}: a richer recharge-bonus ladder, packages refunded to the card; earlier recharges kept their bonus\n"
            ));
        }
        o.push_str(&format!(
            "year-end expiry sweep at {year_end}: {} members, bonus expired {}\n",
            self.sweeps,
            t.bonus_expired.minus(expired_before)
        ));
        o.push_str(&format!(
            "year-end tier review at {year_end}: {} members reviewed, {} kept, {} lowered (their tier's retain rule failed)\n",
            self.reviewed,
            self.reviewed - self.lowered,
            self.lowered
        ));
        o
    }
}

pub(super) fn summary(ledger: &Ledger, t: &Tally, secs: f64) -> String {
    let mut tiers: HashMap<String, u64> = HashMap::new();
    let (mut principal, mut bonus, mut points) = (Money::ZERO, Money::ZERO, 0u64);
    let mut packages = Money::ZERO;
    ledger.for_each_member(|m| {
        *tiers.entry(m.tier.to_string()).or_default() += 1;
        principal = principal.plus(m.principal());
        bonus = bonus.plus(m.bonus());
        points += m.points();
        packages = packages.plus(m.package_value());
    });
    let rejected: u64 = t.rejected.values().sum();
    let mut s = format!(
        "\nrecorded {} commands as {} events in {:.1} s ({:.0} commands/s, durable in groups of {GROUP})\n",
        t.recorded,
        t.events,
        secs,
        t.recorded as f64 / secs.max(1e-9)
    );
    if rejected > 0 {
        let why: Vec<String> = t.rejected.iter().map(|(k, v)| format!("{k} {v}")).collect();
        s.push_str(&format!(
            "rejected {rejected} (recorded nothing): {}\n",
            why.join(", ")
        ));
    }
    s.push_str("\nmembers by tier\n");
    for tier in &ledger.policy().tiers {
        s.push_str(&format!(
            "  {:<10} {:>8}\n",
            tier.name,
            tiers.get(&tier.name).copied().unwrap_or(0)
        ));
    }
    s.push_str(&format!(
        "\nbalances held (the chain's stored-value liability)\n  principal  {:>14}\n  bonus      {:>14}\n  packages   {:>14}\n  points     {:>14}\n",
        principal.to_string(),
        bonus.to_string(),
        packages.to_string(),
        points
    ));
    s.push_str("\nwhat happened\n");
    for (k, v) in &t.by_type {
        s.push_str(&format!("  {k:<22} {v:>8}\n"));
    }
    s.push_str(&format!(
        "  bonus granted {} · bonus expired {} · cash paid out on balance refunds {}\n  settled between stores at month ends {}\n",
        t.bonus_granted, t.bonus_expired, t.refunded_cash, t.settled
    ));
    s.push_str(&outside_the_card(t));
    let reasons: Vec<String> = t
        .tier_changes
        .iter()
        .map(|(reason, n)| format!("{reason} {n}"))
        .collect();
    s.push_str(&format!(
        "  tier changes by reason: {}\n",
        if reasons.is_empty() {
            "none".to_owned()
        } else {
            reasons.join(", ")
        }
    ));
    s.push_str(&busiest(t));
    s
}

/// Visits paid outside the card, by method; late commands from offline tills; free services
/// given for points.
fn outside_the_card(t: &Tally) -> String {
    let by: Vec<String> = t
        .external
        .iter()
        .map(|(method, amount)| format!("{method} {amount}"))
        .collect();
    format!(
        "  visits paid partly outside the card {} · wholly outside it {} · paid outside the card: {}
  late commands from offline tills (recorded with their own time) {} · services given for points {} worth {}
  coupons issued {} · visits that redeemed one {} · their discounts (promotion expense) {}
",
        t.mixed_visits,
        t.external_visits,
        if by.is_empty() { "nothing".to_owned() } else { by.join(", ") },
        t.late,
        t.rewards,
        t.rewards_value,
        t.coupons_issued,
        t.coupons_redeemed,
        t.coupon_discounts
    )
}

/// The five stores that delivered the most, by revenue.
fn busiest(t: &Tally) -> String {
    let mut s = String::new();
    let mut busiest: Vec<(&String, &StoreStats)> = t.stores.iter().collect();
    busiest.sort_by(|a, b| b.1.revenue.cmp(&a.1.revenue).then(a.0.cmp(b.0)));
    s.push_str("\nbusiest stores (by services delivered)\n  store    services        revenue   cross-store   recharged\n");
    for (id, st) in busiest.iter().take(5) {
        s.push_str(&format!(
            "  {:<6} {:>10} {:>14} {:>12}% {:>11}\n",
            id,
            st.consumptions,
            st.revenue.to_string(),
            (st.cross_store * 100)
                .checked_div(st.consumptions)
                .unwrap_or(0),
            st.recharged.to_string()
        ));
    }
    s
}

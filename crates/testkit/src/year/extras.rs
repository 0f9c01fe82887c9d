//! The commands of a year that no member sends: head office's policy publication and the
//! month-end settlements between stores.

use memberledger::domain::DEFAULT_POLICY_JSON;
use memberledger::{Command, Ledger, Policy, Timestamp, Uuid};

use crate::Rng;

/// How late a till that was offline may send a sale: three days (the year's policy).
pub const YEAR_LATE_WINDOW_HOURS: u32 = 72;

/// The year's founding policy: the built-in one, with a late window for offline terminals,
/// points earned on what a visit paid in cash or by phone as well as from the card, and tiers
/// earned by visits and spending as well as recharges, kept by retain rules the year-end tier
/// review checks ([`with_visit_tiers`]).
#[must_use]
pub fn year_policy() -> Policy {
    let mut policy: serde_json::Value =
        serde_json::from_str(DEFAULT_POLICY_JSON).expect("the built-in policy");
    policy["late_window_hours"] = YEAR_LATE_WINDOW_HOURS.into();
    policy["points_earned_on"] = "principal_and_external".into();
    with_visit_tiers(&mut policy);
    Policy::from_value(policy).expect("the year's policy is valid")
}

/// Adds the year's tier rules on visits and spending to a policy with the built-in tiers:
/// silver also after 6 visits within 90 days, gold after 3,000.00 spent within 180 days; a
/// silver member is kept while visiting twice in 180 days, a gold one while spending 1,000.00
/// in 180 days; diamond has no retain rule.
pub fn with_visit_tiers(policy: &mut serde_json::Value) {
    let tiers = &mut policy["tiers"];
    tiers[1]["upgrade"]["visits_within"] = 6.into();
    tiers[1]["upgrade"]["window_days"] = 90.into();
    tiers[1]["retain"] = serde_json::json!({"visits_within": 2, "window_days": 180});
    tiers[2]["upgrade"]["spent_within"] = "3000.00".into();
    tiers[2]["upgrade"]["window_days"] = 180.into();
    tiers[2]["retain"] = serde_json::json!({"spent_within": "1000.00", "window_days": 180});
}

/// The second-half policy: the built-in one with a richer recharge-bonus ladder, and package
/// refunds going back to the card.
#[must_use]
pub fn summer_policy(id: Uuid, at: Timestamp) -> Command {
    let mut policy: serde_json::Value =
        serde_json::from_str(DEFAULT_POLICY_JSON).expect("the built-in policy");
    policy["late_window_hours"] = YEAR_LATE_WINDOW_HOURS.into();
    policy["points_earned_on"] = "principal_and_external".into();
    policy["recharge_bonus"] = serde_json::json!([
        {"min": "500.00", "bonus": "80.00"},
        {"min": "1000.00", "bonus": "200.00"},
        {"min": "3000.00", "bonus": "650.00"},
        {"min": "5000.00", "bonus": "1250.00"},
        {"min": "10000.00", "bonus_rate": "0.30", "tiers": ["gold", "diamond"]}
    ]);
    policy["packages"] = serde_json::json!({"refund_to": "balance"});
    with_visit_tiers(&mut policy);
    let line = format!(
        r#"{{"id":"{id}","at":"{at}","type":"publish_policy","store":"HQ","policy":{policy}}}"#
    );
    Command::from_json(&line).expect("the generator writes valid commands")
}

/// A `settle` for every debt between stores in the ledger, at `at`, with ids from `rng`.
pub fn settlements(ledger: &Ledger, rng: &mut Rng, at: Timestamp) -> Vec<Command> {
    ledger
        .clearing()
        .debts()
        .into_iter()
        .map(|(debtor, creditor, amount)| {
            let line = format!(
                r#"{{"id":"{}","at":"{at}","type":"settle","store":"{debtor}","to":"{creditor}","amount":"{amount}"}}"#,
                rng.uuid()
            );
            Command::from_json(&line).expect("the generator writes valid commands")
        })
        .collect()
}

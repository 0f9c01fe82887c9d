//! Given/when/then tests for every business rule of docs/RULES.md, with worked numbers.
//!
//! The harness at the top folds `given` commands (JSON lines, with short names for ids) through
//! `decide` and `MemberState::apply` under a policy written out in JSON below, then decides the
//! `when` command and checks the events it records (`then_events`, a field-by-field match of
//! the fields written, arrays compared in full) or its rejection code (`then_rejected`).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use memberledger_core::{
    decide, event_id, split_bonus, Command, Context, Decision, Event, MemberState, MemberView,
    Money, Policy, Rejection, Timestamp, Uuid,
};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// Policies, written out so the numbers in the tests are obvious.
// ---------------------------------------------------------------------------------------------

/// The recharge-bonus ladder: two fixed rules, a rate rule, and a gold-only rate rule.
/// No upgrade conditions, so recharges never change the tier here.
const BONUS_LADDER: &str = r#"{
  "rounding": "half_up", "spend_order": "proportional",
  "tiers": [
    {"name": "standard", "discount": "1.00", "points_per_yuan": "1"},
    {"name": "gold", "discount": "0.90", "points_per_yuan": "1.5"}
  ],
  "recharge_bonus": [
    {"min": "500.00", "bonus": "50.00"},
    {"min": "1000.00", "bonus": "150.00"},
    {"min": "3000.00", "bonus_rate": "0.125"},
    {"min": "5000.00", "bonus_rate": "0.30", "tiers": ["gold"]}
  ],
  "bonus_expiry_days": 365
}"#;

/// A gold-only bonus rule together with an upgrade into gold on the same recharge.
const BONUS_AND_UPGRADE: &str = r#"{
  "tiers": [
    {"name": "standard", "discount": "1.00", "points_per_yuan": "1"},
    {"name": "gold", "discount": "0.90", "points_per_yuan": "1.5",
     "upgrade": {"single_recharge": "5000.00"}}
  ],
  "recharge_bonus": [
    {"min": "1000.00", "bonus": "150.00"},
    {"min": "5000.00", "bonus_rate": "0.30", "tiers": ["gold"]}
  ],
  "bonus_expiry_days": null
}"#;

/// Spending: recharging 1000.00 gives 150.00 bonus that never expires; three tiers with
/// discounts and points, no upgrades; points never expire.
const SPEND: &str = r#"{
  "rounding": "half_up", "spend_order": "proportional",
  "tiers": [
    {"name": "standard", "discount": "1.00", "points_per_yuan": "1"},
    {"name": "silver", "discount": "0.95", "points_per_yuan": "1"},
    {"name": "gold", "discount": "0.90", "points_per_yuan": "1.5"},
    {"name": "cheap", "discount": "0.40", "points_per_yuan": "0"}
  ],
  "recharge_bonus": [{"min": "1000.00", "bonus": "150.00"}],
  "bonus_expiry_days": null, "points_expiry_days": null,
  "refund": {"claw_back_used_bonus": true}
}"#;

/// No recharge bonus at all, one point per yuan, nothing expires by policy: lots are plain.
const PLAIN: &str = r#"{
  "rounding": "half_up", "spend_order": "principal_first",
  "tiers": [{"name": "standard", "discount": "1.00", "points_per_yuan": "1"}],
  "recharge_bonus": [],
  "bonus_expiry_days": null, "points_expiry_days": null
}"#;

/// Upgrades only: no bonus, so recharges record Recharged and maybe TierChanged.
const TIERS: &str = r#"{
  "tiers": [
    {"name": "standard", "discount": "1.00", "points_per_yuan": "1"},
    {"name": "silver", "discount": "0.95", "points_per_yuan": "1",
     "upgrade": {"single_recharge": "2000.00", "recharged_within_365d": "5000.00"}},
    {"name": "gold", "discount": "0.90", "points_per_yuan": "1.5",
     "upgrade": {"single_recharge": "5000.00", "recharged_within_365d": "10000.00"}}
  ],
  "recharge_bonus": []
}"#;

/// Expiry: recharge bonus lives 30 days, points 60 days.
const EXPIRY: &str = r#"{
  "rounding": "half_up", "spend_order": "proportional",
  "tiers": [{"name": "standard", "discount": "1.00", "points_per_yuan": "1"}],
  "recharge_bonus": [{"min": "1000.00", "bonus": "150.00"}],
  "bonus_expiry_days": 30, "points_expiry_days": 60
}"#;

/// A policy with some top-level fields replaced.
fn with(policy: &str, overrides: Value) -> String {
    let mut p: Value = serde_json::from_str(policy).expect("test policy is JSON");
    for (k, v) in overrides.as_object().expect("overrides are an object") {
        p[k.as_str()] = v.clone();
    }
    p.to_string()
}

// ---------------------------------------------------------------------------------------------
// The harness.
// ---------------------------------------------------------------------------------------------

const NAMES: Uuid = Uuid::from_u128(0x6f1c_2a48_3d6b_4f7e_9a51_0c2d_8e4b_7a10);

/// The UUID a test calls by a short name (`"c1"`); a real UUID stands for itself.
fn uuid(name: &str) -> Uuid {
    Uuid::try_parse(name).unwrap_or_else(|_| Uuid::new_v5(&NAMES, name.as_bytes()))
}

fn money(s: &str) -> Money {
    s.parse().expect("test amount parses")
}

/// Members as the fold of what was accepted, a clock for commands that give no `at`.
struct Spec {
    policy: Policy,
    members: BTreeMap<String, MemberState>,
    clock: DateTime<Utc>,
    seq: u32,
}

/// The outcome of a `when`, to be checked.
struct Then<'a> {
    spec: &'a mut Spec,
    cmd: Command,
    result: Result<Vec<Event>, Rejection>,
}

/// Folds `lines` under `policy`; every one of them must be accepted.
fn given(policy: &str, lines: &[&str]) -> Spec {
    let policy = Policy::from_json(policy).expect("test policy is valid");
    let mut spec = Spec {
        policy,
        members: BTreeMap::new(),
        clock: "2026-01-01T09:00:00Z"
            .parse::<Timestamp>()
            .expect("time")
            .as_datetime(),
        seq: 0,
    };
    for line in lines {
        let cmd = spec.command(line);
        match spec.decide(&cmd) {
            Ok(events) => spec.record(&events),
            Err(e) => panic!("given {line} was rejected: {} {e}", e.code()),
        }
    }
    spec
}

impl Spec {
    /// Completes a short command line: `id` (a name or none), `member` M1, `store` S1, `at`
    /// one minute after the previous command, and a `consumption` given by name.
    fn command(&mut self, line: &str) -> Command {
        let mut v: Value = serde_json::from_str(line).expect("test command is JSON");
        let o = v.as_object_mut().expect("test command is an object");
        self.seq += 1;
        let id = match o.get("id").and_then(Value::as_str) {
            Some(name) => uuid(name),
            None => uuid(&format!("command-{}", self.seq)),
        };
        o.insert("id".into(), id.to_string().into());
        for field in ["consumption", "package"] {
            if let Some(c) = o.get(field).and_then(Value::as_str) {
                let c = uuid(c).to_string();
                o.insert(field.into(), c.into());
            }
        }
        o.entry("member").or_insert_with(|| "M1".into());
        o.entry("store").or_insert_with(|| "S1".into());
        let at = match o.get("at").and_then(Value::as_str) {
            Some(at) => at.parse::<Timestamp>().expect("test time").as_datetime(),
            None => self.clock + Duration::minutes(1),
        };
        self.clock = self.clock.max(at);
        o.insert(
            "at".into(),
            Timestamp::from_datetime(at)
                .expect("time")
                .to_string()
                .into(),
        );
        Command::from_json(&v.to_string()).expect("test command parses")
    }

    fn decide(&self, cmd: &Command) -> Result<Vec<Event>, Rejection> {
        decide(
            &Context::founding(&self.policy).with_member(self.members.get(cmd.member.as_str())),
            cmd,
        )
        .map(Decision::into_events)
    }

    fn record(&mut self, events: &[Event]) {
        for e in events {
            match self.members.get_mut(e.member.as_str()) {
                Some(s) => s.apply(e).expect("decided events fold"),
                None => {
                    let s = MemberState::enrolled(e).expect("first event enrolls");
                    self.members.insert(e.member.to_string(), s);
                }
            }
        }
    }

    fn when(&mut self, line: &str) -> Then<'_> {
        let cmd = self.command(line);
        let result = self.decide(&cmd);
        Then {
            spec: self,
            cmd,
            result,
        }
    }

    /// Runs more commands that must be accepted.
    fn and(&mut self, lines: &[&str]) -> &mut Spec {
        for line in lines {
            self.when(line).then_accepted();
        }
        self
    }

    fn member(&self, id: &str) -> &MemberState {
        self.members
            .get(id)
            .unwrap_or_else(|| panic!("member {id} is not enrolled"))
    }

    /// Checks the member view of M1 (principal, bonus, points, tier, lots…) field by field.
    fn then_view(&self, expected: Value) {
        self.then_view_of("M1", expected);
    }

    fn then_view_of(&self, id: &str, expected: Value) {
        let view = serde_json::to_value(MemberView::from(self.member(id))).expect("view");
        assert_matches(&expected, &view, "view");
    }
}

impl Then<'_> {
    /// The command was accepted; its events are recorded and returned.
    fn then_accepted(self) -> Vec<Event> {
        let events = match self.result {
            Ok(events) => events,
            Err(e) => panic!("{} was rejected: {} {e}", self.cmd.to_json(), e.code()),
        };
        // The envelope every event of a command carries.
        let version = self
            .spec
            .members
            .get(self.cmd.member.as_str())
            .map_or(0, |s| s.version);
        for (i, e) in events.iter().enumerate() {
            let index = u32::try_from(i).expect("few events");
            assert_eq!(e.id, event_id(self.cmd.id, index));
            assert_eq!((e.command, e.index), (self.cmd.id, index));
            assert_eq!(e.version, version + u64::from(index) + 1);
            assert_eq!(
                (&e.member, e.at, &e.store),
                (&self.cmd.member, self.cmd.at, &self.cmd.store)
            );
        }
        self.spec.record(&events);
        events
    }

    /// The command was accepted and recorded exactly these events (each given field matches;
    /// fields not written are not checked; arrays must match in full).
    fn then_events(self, expected: Value) -> Vec<Event> {
        let events = self.then_accepted();
        let actual = Value::Array(events.iter().map(flat).collect());
        assert_matches(&expected, &actual, "events");
        events
    }

    /// The command was rejected with this code, and the member is as before.
    fn then_rejected(self, code: &str) {
        match self.result {
            Ok(events) => panic!(
                "{} was accepted, expected {code}: {}",
                self.cmd.to_json(),
                serde_json::to_string(&events.iter().map(flat).collect::<Vec<_>>()).expect("json")
            ),
            Err(e) => assert_eq!(e.code(), code, "{}: {e}", self.cmd.to_json()),
        }
    }
}

/// An event body as one flat object: its fields plus `type`.
fn flat(e: &Event) -> Value {
    let v = serde_json::to_value(&e.body).expect("event serialises");
    let mut data = v["data"].clone();
    data.as_object_mut()
        .expect("event data is an object")
        .insert("type".into(), v["type"].clone());
    data
}

/// `expected` ⊆ `actual`: every key written in an expected object matches; arrays match in
/// length and element by element; anything else is equal.
fn assert_matches(expected: &Value, actual: &Value, path: &str) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let av = a
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k} is missing from {actual}"));
                assert_matches(ev, av, &format!("{path}.{k}"));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(
                e.len(),
                a.len(),
                "{path} has {} items, expected {}: {actual}",
                a.len(),
                e.len()
            );
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                assert_matches(ev, av, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(expected, actual, "at {path}"),
    }
}

const ENROLL: &str = r#"{"type":"enroll"}"#;

// ---------------------------------------------------------------------------------------------
// enroll, member_exists, member_not_found
// ---------------------------------------------------------------------------------------------

#[test]
fn enroll_starts_in_the_lowest_tier_at_the_home_store() {
    let mut s = given(TIERS, &[]);
    s.when(r#"{"type":"enroll","store":"S7"}"#)
        .then_events(json!([{"type":"member_enrolled","home_store":"S7","tier":"standard"}]));
    s.then_view(
        json!({"member":"M1","home_store":"S7","tier":"standard","principal":"0.00",
        "bonus":"0.00","points":0,"version":1,"lots":[]}),
    );
}

#[test]
fn enroll_in_a_named_tier() {
    given(TIERS, &[])
        .when(r#"{"type":"enroll","tier":"gold"}"#)
        .then_events(json!([{"type":"member_enrolled","home_store":"S1","tier":"gold"}]));
}

#[test]
fn enroll_in_an_unknown_tier_is_unknown_tier() {
    given(TIERS, &[])
        .when(r#"{"type":"enroll","tier":"platinum"}"#)
        .then_rejected("unknown_tier");
}

#[test]
fn enroll_twice_is_member_exists() {
    let mut s = given(TIERS, &[ENROLL]);
    s.when(ENROLL).then_rejected("member_exists");
    s.when(r#"{"type":"enroll","store":"S2","tier":"gold"}"#)
        .then_rejected("member_exists");
    // Another member is a different stream.
    s.when(r#"{"type":"enroll","member":"M2"}"#)
        .then_events(json!([{"type":"member_enrolled"}]));
}

#[test]
fn every_command_for_an_unenrolled_member_is_member_not_found() {
    let mut s = given(
        SPEND,
        &[ENROLL, r#"{"type":"recharge","amount":"1000.00"}"#],
    );
    for line in [
        r#"{"member":"M9","type":"recharge","amount":"100.00"}"#,
        r#"{"member":"M9","type":"grant_bonus","amount":"10.00","reason":"birthday"}"#,
        r#"{"member":"M9","type":"consume","amount":"10.00"}"#,
        r#"{"member":"M9","type":"refund_consumption","consumption":"c1"}"#,
        r#"{"member":"M9","type":"refund_balance"}"#,
        r#"{"member":"M9","type":"change_tier","tier":"gold"}"#,
    ] {
        s.when(line).then_rejected("member_not_found");
    }
}

// ---------------------------------------------------------------------------------------------
// recharge: the bonus ladder
// ---------------------------------------------------------------------------------------------

#[test]
fn recharge_below_the_lowest_rule_gets_no_bonus() {
    given(BONUS_LADDER, &[ENROLL])
        .when(r#"{"type":"recharge","amount":"499.99","staff":"E7"}"#)
        .then_events(json!([{"type":"recharged","amount":"499.99","lot":1,"staff":"E7"}]));
}

#[test]
fn recharge_at_exactly_a_rules_min_gets_that_rule() {
    given(BONUS_LADDER, &[ENROLL])
        .when(r#"{"type":"recharge","amount":"500.00","at":"2026-03-01T10:00:00Z"}"#)
        .then_events(json!([
            {"type":"recharged","amount":"500.00","lot":1,"staff":null},
            {"type":"bonus_granted","amount":"50.00","lot":2,"rule":0,"reason":"recharge",
             "expires_at":"2027-03-01T10:00:00Z"}
        ]));
}

#[test]
fn recharge_bonus_takes_the_highest_min_not_above_the_amount_without_stacking() {
    // 2999.99 qualifies for the 500 and the 1000 rules: only the 1000 rule applies (150, not 200).
    let mut s = given(BONUS_LADDER, &[ENROLL]);
    s.when(r#"{"type":"recharge","amount":"2999.99"}"#)
        .then_events(json!([
            {"type":"recharged","amount":"2999.99","lot":1},
            {"type":"bonus_granted","amount":"150.00","lot":2,"rule":1}
        ]));
    s.then_view(json!({"principal":"2999.99","bonus":"150.00"}));
}

#[test]
fn recharge_bonus_rate_is_rounded_half_up() {
    // 3000.04 × 0.125 = 375.005 → 375.01 half up.
    given(BONUS_LADDER, &[ENROLL])
        .when(r#"{"type":"recharge","amount":"3000.04"}"#)
        .then_events(json!([
            {"type":"recharged","amount":"3000.04"},
            {"type":"bonus_granted","amount":"375.01","rule":2}
        ]));
}

#[test]
fn recharge_bonus_rate_is_rounded_half_even_when_the_policy_says_so() {
    // 3000.04 × 0.125 = 375.005 → 375.00 half even (0 is the even neighbour).
    let policy = with(BONUS_LADDER, json!({"rounding":"half_even"}));
    given(&policy, &[ENROLL])
        .when(r#"{"type":"recharge","amount":"3000.04"}"#)
        .then_events(json!([
            {"type":"recharged","amount":"3000.04"},
            {"type":"bonus_granted","amount":"375.00","rule":2}
        ]));
}

#[test]
fn tier_restricted_bonus_rule_applies_only_to_its_tier() {
    // Standard: 5000 falls to the 3000 rate rule, 5000 × 0.125 = 625.
    given(BONUS_LADDER, &[ENROLL])
        .when(r#"{"type":"recharge","amount":"5000.00"}"#)
        .then_events(
            json!([{"type":"recharged"}, {"type":"bonus_granted","amount":"625.00","rule":2}]),
        );
    // Gold: the gold-only 5000 rule, 5000 × 0.30 = 1500.
    given(BONUS_LADDER, &[r#"{"type":"enroll","tier":"gold"}"#])
        .when(r#"{"type":"recharge","amount":"5000.00"}"#)
        .then_events(
            json!([{"type":"recharged"}, {"type":"bonus_granted","amount":"1500.00","rule":3}]),
        );
}

#[test]
fn recharge_bonus_uses_the_tier_held_before_the_recharge() {
    // The 5000 recharge upgrades standard → gold, but the bonus is the standard one (150);
    // the next 5000 recharge, as gold, gets the gold-only 30% rule (1500) and no tier change.
    let mut s = given(BONUS_AND_UPGRADE, &[ENROLL]);
    s.when(r#"{"type":"recharge","amount":"5000.00"}"#)
        .then_events(json!([
            {"type":"recharged","amount":"5000.00","lot":1},
            {"type":"bonus_granted","amount":"150.00","lot":2,"rule":0,"expires_at":null},
            {"type":"tier_changed","from":"standard","to":"gold","reason":"upgrade:single_recharge"}
        ]));
    s.when(r#"{"type":"recharge","amount":"5000.00"}"#)
        .then_events(json!([
            {"type":"recharged","amount":"5000.00","lot":3},
            {"type":"bonus_granted","amount":"1500.00","lot":4,"rule":1}
        ]));
    s.then_view(json!({"tier":"gold","principal":"10000.00","bonus":"1650.00"}));
}

#[test]
fn recharge_bonus_rules_with_equal_min_take_the_first_listed() {
    let policy = with(
        BONUS_LADDER,
        json!({"recharge_bonus":[{"min":"100.00","bonus":"7.00"},{"min":"100.00","bonus":"9.00"}]}),
    );
    given(&policy, &[ENROLL])
        .when(r#"{"type":"recharge","amount":"100.00"}"#)
        .then_events(
            json!([{"type":"recharged"}, {"type":"bonus_granted","amount":"7.00","rule":0}]),
        );
}

// ---------------------------------------------------------------------------------------------
// grant_bonus
// ---------------------------------------------------------------------------------------------

#[test]
fn grant_bonus_records_the_reason_and_the_given_expiry() {
    let mut s = given(BONUS_LADDER, &[ENROLL]);
    s.when(r#"{"type":"grant_bonus","amount":"50.00","reason":"birthday","expires_at":"2026-12-31T23:59:59Z"}"#)
        .then_events(json!([{"type":"bonus_granted","amount":"50.00","lot":1,"reason":"birthday",
            "rule":null,"expires_at":"2026-12-31T23:59:59Z"}]));
    s.then_view(json!({"principal":"0.00","bonus":"50.00",
        "lots":[{"kind":"bonus","lot":1,"origin_store":"S1","remaining":"50.00","expires_at":"2026-12-31T23:59:59Z"}]}));
}

#[test]
fn grant_bonus_without_expiry_uses_the_policys_bonus_expiry_days() {
    given(BONUS_LADDER, &[ENROLL])
        .when(r#"{"type":"grant_bonus","amount":"20.00","reason":"campaign","at":"2026-02-01T12:00:00Z"}"#)
        .then_events(json!([{"type":"bonus_granted","expires_at":"2027-02-01T12:00:00Z"}]));
    given(PLAIN, &[ENROLL])
        .when(r#"{"type":"grant_bonus","amount":"20.00","reason":"campaign"}"#)
        .then_events(json!([{"type":"bonus_granted","expires_at":null}]));
}

#[test]
fn grant_bonus_rejects_an_expiry_at_or_before_the_command_time() {
    let mut s = given(PLAIN, &[ENROLL]);
    s.when(r#"{"type":"grant_bonus","amount":"20.00","reason":"x","at":"2026-05-01T00:00:00Z","expires_at":"2026-05-01T00:00:00Z"}"#)
        .then_rejected("invalid_command");
    s.when(r#"{"type":"grant_bonus","amount":"20.00","reason":"x","at":"2026-05-01T00:00:00Z","expires_at":"2026-04-30T00:00:00Z"}"#)
        .then_rejected("invalid_command");
    s.when(r#"{"type":"grant_bonus","amount":"20.00","reason":"x","at":"2026-05-01T00:00:00Z","expires_at":"2026-05-01T00:00:01Z"}"#)
        .then_events(json!([{"type":"bonus_granted","expires_at":"2026-05-01T00:00:01Z"}]));
}

// ---------------------------------------------------------------------------------------------
// consume: spend orders
// ---------------------------------------------------------------------------------------------

const FUNDED: &[&str] = &[ENROLL, r#"{"type":"recharge","amount":"1000.00"}"#];

#[test]
fn consume_proportional_splits_by_the_balances_held() {
    // P = 1000, B = 150: bonus = round(300 × 150 / 1150) = round(39.1304…) = 39.13.
    let mut s = given(SPEND, FUNDED);
    s.when(r#"{"type":"consume","amount":"300.00","store":"S2","staff":"E9","service":"facial"}"#)
        .then_events(json!([{"type":"consumed","service":"facial","staff":"E9","tier":"standard",
            "price":"300.00","discount":"1.00","charged":"300.00","principal":"260.87","bonus":"39.13",
            "draws":[
                {"lot":1,"kind":"principal","amount":"260.87","origin_store":"S1","expires_at":null},
                {"lot":2,"kind":"bonus","amount":"39.13","origin_store":"S1","expires_at":null}],
            "points_earned":260,"points_lot":3,"points_expires_at":null}]));
    s.then_view(json!({"principal":"739.13","bonus":"110.87","points":260}));
}

#[test]
fn consume_principal_first_spends_principal_until_it_runs_out() {
    let policy = with(SPEND, json!({"spend_order":"principal_first"}));
    let mut s = given(&policy, FUNDED);
    s.when(r#"{"type":"consume","amount":"300.00"}"#)
        .then_events(
            json!([{"type":"consumed","principal":"300.00","bonus":"0.00",
            "draws":[{"lot":1,"kind":"principal","amount":"300.00"}]}]),
        );
    // 700 principal left; 800 takes all of it and 100 of the bonus.
    s.when(r#"{"type":"consume","amount":"800.00"}"#)
        .then_events(json!([{"type":"consumed","principal":"700.00","bonus":"100.00",
            "draws":[{"lot":1,"kind":"principal","amount":"700.00"},{"lot":2,"kind":"bonus","amount":"100.00"}],
            "points_earned":700}]));
    s.then_view(json!({"principal":"0.00","bonus":"50.00","points":1000}));
}

#[test]
fn consume_bonus_first_spends_bonus_until_it_runs_out() {
    let policy = with(SPEND, json!({"spend_order":"bonus_first"}));
    let mut s = given(&policy, FUNDED);
    s.when(r#"{"type":"consume","amount":"100.00"}"#)
        .then_events(
            json!([{"type":"consumed","principal":"0.00","bonus":"100.00",
            "draws":[{"lot":2,"kind":"bonus","amount":"100.00"}],
            "points_earned":0,"points_lot":null,"points_expires_at":null}]),
        );
    s.when(r#"{"type":"consume","amount":"300.00"}"#)
        .then_events(json!([{"type":"consumed","principal":"250.00","bonus":"50.00",
            "draws":[{"lot":1,"kind":"principal","amount":"250.00"},{"lot":2,"kind":"bonus","amount":"50.00"}],
            "points_earned":250,"points_lot":3}]));
}

#[test]
fn proportional_split_is_clamped_to_what_each_balance_can_pay() {
    let p = Policy::from_json(SPEND).expect("policy");
    let m = money;
    // The worked example.
    assert_eq!(
        split_bonus(m("300.00"), m("1000.00"), m("150.00"), &p),
        m("39.13")
    );
    // Spending everything takes all of both.
    assert_eq!(
        split_bonus(m("1150.00"), m("1000.00"), m("150.00"), &p),
        m("150.00")
    );
    // One side empty.
    assert_eq!(
        split_bonus(m("10.00"), m("0.00"), m("50.00"), &p),
        m("10.00")
    );
    assert_eq!(
        split_bonus(m("10.00"), m("50.00"), m("0.00"), &p),
        m("0.00")
    );
    // A half cent: 0.01 × 1 / 2 = 0.005 → 0.01 half up, 0.00 half even; both within [0, 0.01].
    assert_eq!(split_bonus(m("0.01"), m("0.01"), m("0.01"), &p), m("0.01"));
    let even = Policy::from_json(&with(SPEND, json!({"rounding":"half_even"}))).expect("policy");
    assert_eq!(
        split_bonus(m("0.01"), m("0.01"), m("0.01"), &even),
        m("0.00")
    );
    // At the edges of the clamp [max(0, charged − P), min(B, charged)] = [1.00, 1.01]:
    // 2.00 from P = 1.00, B = 1.01 → 2 × 1.01 / 2.01 = 1.00497… → 1.01 with `up` (all the
    // bonus), 1.00 with `down` (all the principal).
    let up = Policy::from_json(&with(SPEND, json!({"rounding":"up"}))).expect("policy");
    let down = Policy::from_json(&with(SPEND, json!({"rounding":"down"}))).expect("policy");
    assert_eq!(split_bonus(m("2.00"), m("1.00"), m("1.01"), &up), m("1.01"));
    assert_eq!(
        split_bonus(m("2.00"), m("1.00"), m("1.01"), &down),
        m("1.00")
    );
    // Principal-first and bonus-first are the two ends of the clamp.
    let pf = Policy::from_json(&with(SPEND, json!({"spend_order":"principal_first"}))).expect("p");
    let bf = Policy::from_json(&with(SPEND, json!({"spend_order":"bonus_first"}))).expect("p");
    assert_eq!(
        split_bonus(m("1100.00"), m("1000.00"), m("150.00"), &pf),
        m("100.00")
    );
    assert_eq!(
        split_bonus(m("1100.00"), m("1000.00"), m("150.00"), &bf),
        m("150.00")
    );
}

// ---------------------------------------------------------------------------------------------
// consume: tier discounts and rounding, points, rejections
// ---------------------------------------------------------------------------------------------

#[test]
fn consume_charges_the_tier_discount_rounded_half_up() {
    // Silver 0.95: 10.10 → 9.595 → 9.60; 10.30 → 9.785 → 9.79.
    let policy = with(SPEND, json!({"spend_order":"principal_first"}));
    let mut s = given(
        &policy,
        &[
            r#"{"type":"enroll","tier":"silver"}"#,
            r#"{"type":"recharge","amount":"100.00"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"10.10"}"#)
        .then_events(json!([{"type":"consumed","tier":"silver","price":"10.10","discount":"0.95","charged":"9.60","principal":"9.60"}]));
    s.when(r#"{"type":"consume","amount":"10.30"}"#)
        .then_events(json!([{"type":"consumed","price":"10.30","charged":"9.79"}]));
    s.then_view(json!({"principal":"80.61"}));
}

#[test]
fn consume_charges_the_tier_discount_rounded_half_even() {
    // 9.595 → 9.60 (0 is even, so half even agrees with half up here); 9.785 → 9.78.
    let policy = with(
        SPEND,
        json!({"spend_order":"principal_first","rounding":"half_even"}),
    );
    let mut s = given(
        &policy,
        &[
            r#"{"type":"enroll","tier":"silver"}"#,
            r#"{"type":"recharge","amount":"100.00"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"10.10"}"#)
        .then_events(json!([{"type":"consumed","charged":"9.60"}]));
    s.when(r#"{"type":"consume","amount":"10.30"}"#)
        .then_events(json!([{"type":"consumed","charged":"9.78"}]));
}

#[test]
fn consume_earns_floor_of_principal_times_points_per_yuan_of_the_tier_held() {
    // Gold: 300 × 0.90 = 270.00; bonus = round(270 × 150 / 1150) = round(35.217…) = 35.22;
    // principal 234.78; points = floor(234.78 × 1.5) = floor(352.17) = 352.
    given(
        SPEND,
        &[
            r#"{"type":"enroll","tier":"gold"}"#,
            r#"{"type":"recharge","amount":"1000.00"}"#,
        ],
    )
    .when(r#"{"type":"consume","amount":"300.00"}"#)
    .then_events(
        json!([{"type":"consumed","tier":"gold","discount":"0.90","charged":"270.00",
            "principal":"234.78","bonus":"35.22","points_earned":352,"points_lot":3}]),
    );
}

#[test]
fn consume_rejects_when_balance_short() {
    // P 1000 + B 150 = 1150 covers 1150.00 but not 1150.01.
    let mut s = given(SPEND, FUNDED);
    let before = s.member("M1").clone();
    s.when(r#"{"type":"consume","amount":"1150.01"}"#)
        .then_rejected("insufficient_balance");
    assert_eq!(s.member("M1"), &before, "a rejection records nothing");
    s.when(r#"{"type":"consume","amount":"1150.00"}"#)
        .then_events(
            json!([{"type":"consumed","charged":"1150.00","principal":"1000.00","bonus":"150.00"}]),
        );
    s.then_view(json!({"principal":"0.00","bonus":"0.00","lots":[],"points":1000}));
    s.when(r#"{"type":"consume","amount":"0.01"}"#)
        .then_rejected("insufficient_balance");
}

#[test]
fn insufficient_balance_records_nothing_not_even_the_expiry_before_it() {
    // The bonus lot expires at the consume's time; the consume is then short and rejected, so
    // the BonusExpired that would have preceded it is not recorded either.
    let mut s = given(
        EXPIRY,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00","at":"2026-03-01T10:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"1100.00","at":"2026-03-31T10:00:00Z"}"#)
        .then_rejected("insufficient_balance");
    s.then_view(json!({"principal":"1000.00","bonus":"150.00","version":3}));
    // Just before the expiry the same consume is covered.
    s.when(r#"{"type":"consume","amount":"1100.00","at":"2026-03-31T09:59:59Z"}"#)
        .then_events(json!([{"type":"consumed","charged":"1100.00"}]));
}

#[test]
fn consume_whose_discounted_price_rounds_to_zero_is_invalid_amount() {
    // Tier "cheap" 0.40: 0.01 × 0.40 = 0.004 → 0.00.
    let mut s = given(
        SPEND,
        &[
            r#"{"type":"enroll","tier":"cheap"}"#,
            r#"{"type":"recharge","amount":"10.00"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"0.01"}"#)
        .then_rejected("invalid_amount");
    // 0.02 × 0.40 = 0.008 → 0.01.
    s.when(r#"{"type":"consume","amount":"0.02"}"#).then_events(
        json!([{"type":"consumed","charged":"0.01","points_earned":0,"points_lot":null}]),
    );
}

// ---------------------------------------------------------------------------------------------
// Lot draws
// ---------------------------------------------------------------------------------------------

#[test]
fn principal_is_drawn_first_in_first_out_across_lots_with_their_origin_stores() {
    let mut s = given(
        PLAIN,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"600.00","store":"S1"}"#,
            r#"{"type":"recharge","amount":"600.00","store":"S2"}"#,
            r#"{"type":"recharge","amount":"600.00","store":"S3"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"800.00","store":"S4"}"#)
        .then_events(json!([{"type":"consumed","principal":"800.00","draws":[
            {"lot":1,"kind":"principal","amount":"600.00","origin_store":"S1"},
            {"lot":2,"kind":"principal","amount":"200.00","origin_store":"S2"}]}]));
    // Lot 1 is emptied; lot 2 keeps 400, lot 3 is untouched.
    s.then_view(json!({"principal":"1000.00","lots":[
        {"lot":2,"kind":"principal","origin_store":"S2","remaining":"400.00"},
        {"lot":3,"kind":"principal","origin_store":"S3","remaining":"600.00"}]}));
    s.when(r#"{"type":"consume","amount":"500.00","store":"S1"}"#)
        .then_events(json!([{"type":"consumed","draws":[
            {"lot":2,"amount":"400.00","origin_store":"S2"},
            {"lot":3,"amount":"100.00","origin_store":"S3"}]}]));
}

#[test]
fn bonus_is_drawn_earliest_expiry_first_then_first_in_first_out_and_no_expiry_last() {
    let policy = with(PLAIN, json!({"spend_order":"bonus_first"}));
    let mut s = given(
        &policy,
        &[
            ENROLL,
            r#"{"type":"grant_bonus","amount":"50.00","reason":"forever","store":"S1"}"#,
            r#"{"type":"grant_bonus","amount":"30.00","reason":"late","store":"S2","expires_at":"2026-12-31T00:00:00Z"}"#,
            r#"{"type":"grant_bonus","amount":"20.00","reason":"early","store":"S3","expires_at":"2026-06-30T00:00:00Z"}"#,
            r#"{"type":"grant_bonus","amount":"10.00","reason":"early2","store":"S4","expires_at":"2026-06-30T00:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"75.00"}"#)
        .then_events(json!([{"type":"consumed","principal":"0.00","bonus":"75.00","draws":[
            {"lot":3,"kind":"bonus","amount":"20.00","origin_store":"S3","expires_at":"2026-06-30T00:00:00Z"},
            {"lot":4,"kind":"bonus","amount":"10.00","origin_store":"S4","expires_at":"2026-06-30T00:00:00Z"},
            {"lot":2,"kind":"bonus","amount":"30.00","origin_store":"S2","expires_at":"2026-12-31T00:00:00Z"},
            {"lot":1,"kind":"bonus","amount":"15.00","origin_store":"S1","expires_at":null}]}]));
    s.then_view(json!({"bonus":"35.00","lots":[{"lot":1,"kind":"bonus","remaining":"35.00"}]}));
}

// ---------------------------------------------------------------------------------------------
// Expiry before a command
// ---------------------------------------------------------------------------------------------

#[test]
fn a_bonus_lot_expires_when_the_command_time_reaches_its_expires_at() {
    // Recharge at 03-01 10:00 → bonus lot 2 expires 30 days later, 03-31 10:00.
    let mut s = given(
        EXPIRY,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00","store":"S2","at":"2026-03-01T10:00:00Z"}"#,
            r#"{"type":"consume","amount":"300.00","at":"2026-03-02T10:00:00Z"}"#,
        ],
    );
    s.then_view(json!({"principal":"739.13","bonus":"110.87","points":260}));
    // One second before: nothing expires.
    s.when(r#"{"type":"recharge","amount":"1.00","at":"2026-03-31T09:59:59Z"}"#)
        .then_events(json!([{"type":"recharged","lot":4}]));
    // At exactly expires_at the rest of the lot expires first, then the command.
    s.when(r#"{"type":"recharge","amount":"1.00","at":"2026-03-31T10:00:00Z"}"#)
        .then_events(json!([
            {"type":"bonus_expired","lot":2,"amount":"110.87","origin_store":"S2","expires_at":"2026-03-31T10:00:00Z"},
            {"type":"recharged","amount":"1.00","lot":5}]));
    s.then_view(json!({"principal":"741.13","bonus":"0.00","points":260}));
}

#[test]
fn expired_bonus_cannot_be_spent() {
    let policy = with(EXPIRY, json!({"spend_order":"bonus_first"}));
    given(&policy, &[ENROLL, r#"{"type":"recharge","amount":"1000.00","at":"2026-03-01T10:00:00Z"}"#])
        .when(r#"{"type":"consume","amount":"100.00","at":"2026-04-15T10:00:00Z"}"#)
        .then_events(json!([
            {"type":"bonus_expired","lot":2,"amount":"150.00"},
            {"type":"consumed","principal":"100.00","bonus":"0.00","draws":[{"lot":1,"kind":"principal","amount":"100.00"}]}]));
}

#[test]
fn points_expire_at_their_expires_at_after_bonus_and_before_the_command() {
    // Points earned 03-02 10:00 expire 60 days later, 05-01 10:00; the bonus expired 03-31.
    let mut s = given(
        EXPIRY,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00","at":"2026-03-01T10:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"300.00","at":"2026-03-02T10:00:00Z"}"#)
        .then_events(json!([{"type":"consumed","points_earned":260,"points_lot":3,"points_expires_at":"2026-05-01T10:00:00Z"}]));
    s.when(r#"{"type":"grant_bonus","amount":"5.00","reason":"x","at":"2026-05-01T10:00:00Z"}"#)
        .then_events(json!([
            {"type":"bonus_expired","lot":2,"amount":"110.87","expires_at":"2026-03-31T10:00:00Z"},
            {"type":"points_expired","lot":3,"points":260,"expires_at":"2026-05-01T10:00:00Z"},
            {"type":"bonus_granted","lot":4,"amount":"5.00","expires_at":"2026-05-31T10:00:00Z"}]));
    s.then_view(json!({"points":0,"bonus":"5.00","point_lots":[]}));
}

// ---------------------------------------------------------------------------------------------
// refund_consumption
// ---------------------------------------------------------------------------------------------

/// P 1000 + B 150, then c1 = consume 300: principal 260.87, bonus 39.13, 260 points (lot 3).
const CONSUMED: &[&str] = &[
    ENROLL,
    r#"{"type":"recharge","amount":"1000.00"}"#,
    r#"{"type":"consume","amount":"300.00","id":"c1","store":"S2"}"#,
];

#[test]
fn full_refund_restores_exactly_what_was_drawn_and_reverses_all_points() {
    let mut s = given(SPEND, CONSUMED);
    s.when(r#"{"type":"refund_consumption","consumption":"c1","store":"S2"}"#)
        .then_events(json!([{"type":"consumption_refunded","consumption":uuid("c1").to_string(),
            "amount":"300.00","principal":"260.87","bonus":"39.13",
            "restored":[
                {"lot":1,"kind":"principal","amount":"260.87","origin_store":"S1","expires_at":null,"forfeited":false},
                {"lot":2,"kind":"bonus","amount":"39.13","origin_store":"S1","expires_at":null,"forfeited":false}],
            "points_reversed":[{"lot":3,"points":260}],"points_forgiven":0}]));
    s.then_view(json!({"principal":"1000.00","bonus":"150.00","points":0,"point_lots":[]}));
    // Fully refunded: nothing is left to refund.
    s.when(r#"{"type":"refund_consumption","consumption":"c1"}"#)
        .then_rejected("unknown_consumption");
}

#[test]
fn partial_refund_restores_bonus_in_proportion_and_reverses_points_floored() {
    // bonus = round(100 × 39.13 / 300) = round(13.0433) = 13.04; principal 86.96;
    // points reversed = floor(260 × 86.96 / 260.87) = floor(86.669…) = 86.
    let mut s = given(SPEND, CONSUMED);
    s.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"100.00"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"100.00","principal":"86.96","bonus":"13.04",
            "restored":[{"lot":1,"kind":"principal","amount":"86.96"},{"lot":2,"kind":"bonus","amount":"13.04"}],
            "points_reversed":[{"lot":3,"points":86}],"points_forgiven":0}]));
    s.then_view(json!({"principal":"826.09","bonus":"123.91","points":174}));
}

#[test]
fn a_second_partial_refund_then_the_remainder_equals_one_full_refund() {
    let mut full = given(SPEND, CONSUMED);
    full.and(&[r#"{"type":"refund_consumption","consumption":"c1"}"#]);

    let mut parts = given(SPEND, CONSUMED);
    parts.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"100.00"}"#)
        .then_events(json!([{"type":"consumption_refunded","principal":"86.96","bonus":"13.04","points_reversed":[{"points":86}]}]));
    // 50 more: bonus = round(50 × 39.13 / 300) = round(6.5216) = 6.52; principal 43.48;
    // points so far = floor(260 × 130.44 / 260.87) = floor(130.004…) = 130, so 44 more.
    parts.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"50.00"}"#)
        .then_events(json!([{"type":"consumption_refunded","principal":"43.48","bonus":"6.52","points_reversed":[{"points":44}]}]));
    // The remainder, 150: bonus 39.13 − 19.56 = 19.57, principal 130.43, points 260 − 130.
    parts.when(r#"{"type":"refund_consumption","consumption":"c1"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"150.00","principal":"130.43","bonus":"19.57",
            "points_reversed":[{"lot":3,"points":130}]}]));

    let (a, b) = (full.member("M1"), parts.member("M1"));
    assert_eq!(a.principal_lots(), b.principal_lots());
    assert_eq!(a.bonus_lots(), b.bonus_lots());
    assert_eq!(a.point_lots(), b.point_lots());
    assert_eq!(a.bonus_spent, b.bonus_spent);
    assert_eq!(
        (b.principal(), b.bonus(), b.points()),
        (money("1000.00"), money("150.00"), 0)
    );
    assert!(b.consumptions().is_empty());
}

#[test]
fn refund_above_what_is_left_unrefunded_is_refund_exceeds_original() {
    let mut s = given(SPEND, CONSUMED);
    s.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"300.01"}"#)
        .then_rejected("refund_exceeds_original");
    s.and(&[r#"{"type":"refund_consumption","consumption":"c1","amount":"100.00"}"#]);
    s.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"200.01"}"#)
        .then_rejected("refund_exceeds_original");
    s.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"200.00"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"200.00","principal":"173.91","bonus":"26.09"}]));
}

#[test]
fn refund_of_an_unknown_consumption_is_unknown_consumption() {
    let mut s = given(SPEND, CONSUMED);
    s.when(r#"{"type":"refund_consumption","consumption":"c2"}"#)
        .then_rejected("unknown_consumption");
    // Another member's consumption is not this member's.
    s.and(&[r#"{"type":"enroll","member":"M2"}"#]);
    s.when(r#"{"type":"refund_consumption","member":"M2","consumption":"c1"}"#)
        .then_rejected("unknown_consumption");
}

#[test]
fn refund_restores_principal_lots_in_reverse_order_of_drawing() {
    // Draws: lot 1 (S1) 600, lot 2 (S2) 200. A refund of 250 gives 200 back to lot 2 first,
    // then 50 to lot 1, which was emptied and comes back with its origin store.
    let mut s = given(
        PLAIN,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"600.00","store":"S1"}"#,
            r#"{"type":"recharge","amount":"600.00","store":"S2"}"#,
            r#"{"type":"consume","amount":"800.00","store":"S3","id":"c1"}"#,
        ],
    );
    s.then_view(json!({"principal":"400.00","points":800,"lots":[{"lot":2,"remaining":"400.00"}]}));
    s.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"250.00"}"#)
        .then_events(
            json!([{"type":"consumption_refunded","principal":"250.00","bonus":"0.00","restored":[
            {"lot":2,"kind":"principal","amount":"200.00","origin_store":"S2"},
            {"lot":1,"kind":"principal","amount":"50.00","origin_store":"S1"}],
            "points_reversed":[{"lot":3,"points":250}]}]),
        );
    s.then_view(json!({"principal":"650.00","points":550,"lots":[
        {"lot":1,"kind":"principal","origin_store":"S1","remaining":"50.00"},
        {"lot":2,"kind":"principal","origin_store":"S2","remaining":"600.00"}]}));
    s.when(r#"{"type":"refund_consumption","consumption":"c1"}"#)
        .then_events(
            json!([{"type":"consumption_refunded","amount":"550.00","restored":[
            {"lot":1,"amount":"550.00"}],"points_reversed":[{"lot":3,"points":550}]}]),
        );
    s.then_view(json!({"principal":"1200.00","points":0,"lots":[
        {"lot":1,"remaining":"600.00"},{"lot":2,"remaining":"600.00"}]}));
}

#[test]
fn refund_restores_lots_in_reverse_order_of_drawing_within_each_kind() {
    // Two recharges at S1 and S2, each 1000 + 150. Consume 1500, proportional:
    // bonus = round(1500 × 300 / 2300) = round(195.652) = 195.65, principal 1304.35.
    // Drawn: lot 1 P 1000, lot 3 P 304.35, lot 2 B 150, lot 4 B 45.65. Restored: principal
    // lots last-drawn first (3, 1), then bonus lots last-drawn first (4, 2); this is the
    // order the v1 golden file pins (crates/core/tests/golden/v1/consumption_refunded.json).
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00","store":"S1"}"#,
            r#"{"type":"recharge","amount":"1000.00","store":"S2"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"1500.00","id":"c1"}"#)
        .then_events(
            json!([{"type":"consumed","principal":"1304.35","bonus":"195.65","draws":[
            {"lot":1,"kind":"principal","amount":"1000.00"},
            {"lot":3,"kind":"principal","amount":"304.35"},
            {"lot":2,"kind":"bonus","amount":"150.00"},
            {"lot":4,"kind":"bonus","amount":"45.65"}]}]),
        );
    // Partial 100: bonus = round(100 × 195.65 / 1500) = round(13.043) = 13.04 from the last
    // bonus lot drawn (4), principal 86.96 from the last principal lot drawn (3).
    s.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"100.00"}"#)
        .then_events(
            json!([{"type":"consumption_refunded","principal":"86.96","bonus":"13.04","restored":[
            {"lot":3,"kind":"principal","amount":"86.96","origin_store":"S2"},
            {"lot":4,"kind":"bonus","amount":"13.04","origin_store":"S2"}]}]),
        );
    s.when(r#"{"type":"refund_consumption","consumption":"c1"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"1400.00","principal":"1217.39","bonus":"182.61","restored":[
            {"lot":3,"kind":"principal","amount":"217.39"},
            {"lot":1,"kind":"principal","amount":"1000.00","origin_store":"S1"},
            {"lot":4,"kind":"bonus","amount":"32.61"},
            {"lot":2,"kind":"bonus","amount":"150.00","origin_store":"S1"}]}]));
    s.then_view(
        json!({"principal":"2000.00","bonus":"300.00","points":0,"lots":[
        {"lot":1,"remaining":"1000.00"},{"lot":3,"remaining":"1000.00"},
        {"lot":2,"remaining":"150.00"},{"lot":4,"remaining":"150.00"}]}),
    );
}

#[test]
fn refund_forfeits_bonus_whose_lot_has_expired_by_the_refund() {
    // Bonus first: consume 150 draws all 100 of the bonus lot (expiring 03-10) and 50 principal.
    let policy = with(PLAIN, json!({"spend_order":"bonus_first"}));
    let mut s = given(
        &policy,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"100.00","at":"2026-03-01T10:00:00Z"}"#,
            r#"{"type":"grant_bonus","amount":"100.00","reason":"promo","store":"S3","expires_at":"2026-03-10T00:00:00Z"}"#,
            r#"{"type":"consume","amount":"150.00","id":"c1","at":"2026-03-05T10:00:00Z"}"#,
        ],
    );
    s.then_view(json!({"principal":"50.00","bonus":"0.00","points":50}));
    // The lot was emptied, so nothing is left to expire; the refund forfeits its 100.
    s.when(r#"{"type":"refund_consumption","consumption":"c1","at":"2026-03-10T00:00:00Z"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"150.00","principal":"50.00","bonus":"100.00",
            "restored":[
                {"lot":1,"kind":"principal","amount":"50.00","forfeited":false},
                {"lot":2,"kind":"bonus","amount":"100.00","origin_store":"S3","expires_at":"2026-03-10T00:00:00Z","forfeited":true}],
            "points_reversed":[{"lot":3,"points":50}]}]));
    s.then_view(json!({"principal":"100.00","bonus":"0.00","points":0,"lots":[{"lot":1,"kind":"principal"}]}));
}

#[test]
fn refund_before_the_bonus_lot_expires_gives_it_back_with_its_expiry() {
    let policy = with(PLAIN, json!({"spend_order":"bonus_first"}));
    let mut s = given(
        &policy,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"100.00","at":"2026-03-01T10:00:00Z"}"#,
            r#"{"type":"grant_bonus","amount":"100.00","reason":"promo","expires_at":"2026-03-10T00:00:00Z"}"#,
            r#"{"type":"consume","amount":"80.00","id":"c1","at":"2026-03-05T10:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"refund_consumption","consumption":"c1","at":"2026-03-09T23:59:59Z"}"#)
        .then_events(
            json!([{"type":"consumption_refunded","bonus":"80.00","restored":[
            {"lot":2,"kind":"bonus","amount":"80.00","forfeited":false}]}]),
        );
    s.then_view(json!({"bonus":"100.00","lots":[{"lot":1},{"lot":2,"remaining":"100.00","expires_at":"2026-03-10T00:00:00Z"}]}));
}

#[test]
fn refund_at_expiry_expires_the_rest_of_the_lot_first_and_forfeits_the_restored_part() {
    let policy = with(PLAIN, json!({"spend_order":"bonus_first"}));
    let mut s = given(
        &policy,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"100.00","at":"2026-03-01T10:00:00Z"}"#,
            r#"{"type":"grant_bonus","amount":"100.00","reason":"promo","expires_at":"2026-03-10T00:00:00Z"}"#,
            r#"{"type":"consume","amount":"80.00","id":"c1","at":"2026-03-05T10:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"30.00","at":"2026-03-10T00:00:00Z"}"#)
        .then_events(json!([
            {"type":"bonus_expired","lot":2,"amount":"20.00"},
            {"type":"consumption_refunded","amount":"30.00","principal":"0.00","bonus":"30.00","restored":[
                {"lot":2,"kind":"bonus","amount":"30.00","forfeited":true}]}]));
    s.then_view(json!({"principal":"100.00","bonus":"0.00"}));
}

#[test]
fn points_reversal_never_takes_points_below_zero_and_forgives_the_rest() {
    // c1 earns 100 points (lot 2) that expire after 30 days; c2 then earns 50 (lot 3).
    let policy = with(PLAIN, json!({"points_expiry_days":30}));
    let mut s = given(
        &policy,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00","at":"2026-03-01T10:00:00Z"}"#,
            r#"{"type":"consume","amount":"100.00","id":"c1","at":"2026-03-01T11:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"50.00","id":"c2","at":"2026-04-01T10:00:00Z"}"#)
        .then_events(json!([
            {"type":"points_expired","lot":2,"points":100,"expires_at":"2026-03-31T11:00:00Z"},
            {"type":"consumed","points_earned":50,"points_lot":3}]));
    // c1 is due 100 back; the member holds 50: 50 reversed, 50 forgiven.
    s.when(r#"{"type":"refund_consumption","consumption":"c1"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"100.00",
            "points_reversed":[{"lot":3,"points":50}],"points_forgiven":50}]));
    s.then_view(json!({"points":0,"principal":"950.00"}));
    // c2 is due 50 back; the member holds none.
    s.when(r#"{"type":"refund_consumption","consumption":"c2"}"#)
        .then_events(
            json!([{"type":"consumption_refunded","points_reversed":[],"points_forgiven":50}]),
        );
    s.then_view(json!({"points":0,"principal":"1000.00"}));
}

// ---------------------------------------------------------------------------------------------
// refund_balance and claw-back
// ---------------------------------------------------------------------------------------------

#[test]
fn refund_balance_claws_back_the_bonus_spent_and_forfeits_the_rest() {
    // After c1: P 739.13, B 110.87, bonus spent 39.13 → payout 739.13 − 39.13 = 700.00.
    let mut s = given(SPEND, CONSUMED);
    s.when(r#"{"type":"refund_balance","store":"S3"}"#)
        .then_events(
            json!([{"type":"balance_refunded","principal":"739.13","bonus_forfeited":"110.87",
            "bonus_spent":"39.13","clawback":"39.13","payout":"700.00","draws":[
                {"lot":1,"kind":"principal","amount":"739.13","origin_store":"S1"},
                {"lot":2,"kind":"bonus","amount":"110.87","origin_store":"S1"}]}]),
        );
    s.then_view(json!({"principal":"0.00","bonus":"0.00","lots":[],"points":260}));
    // The balance is closed: its consumptions cannot be refunded, nothing is left to pay out.
    s.when(r#"{"type":"refund_consumption","consumption":"c1"}"#)
        .then_rejected("unknown_consumption");
    s.when(r#"{"type":"refund_balance"}"#)
        .then_rejected("insufficient_balance");
}

#[test]
fn refund_balance_without_claw_back_pays_all_the_principal() {
    let policy = with(SPEND, json!({"refund":{"claw_back_used_bonus":false}}));
    given(&policy, CONSUMED)
        .when(r#"{"type":"refund_balance"}"#)
        .then_events(
            json!([{"type":"balance_refunded","principal":"739.13","bonus_forfeited":"110.87",
            "bonus_spent":"39.13","clawback":"0.00","payout":"739.13"}]),
        );
}

#[test]
fn refund_balance_payout_is_never_below_zero() {
    // Bonus first: consume 250 takes all 200 bonus and 50 principal; P 50 < bonus spent 200.
    let policy = with(PLAIN, json!({"spend_order":"bonus_first"}));
    given(
        &policy,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"100.00"}"#,
            r#"{"type":"grant_bonus","amount":"200.00","reason":"vip"}"#,
            r#"{"type":"consume","amount":"250.00"}"#,
        ],
    )
    .when(r#"{"type":"refund_balance"}"#)
    .then_events(
        json!([{"type":"balance_refunded","principal":"50.00","bonus_forfeited":"0.00",
        "bonus_spent":"200.00","clawback":"50.00","payout":"0.00"}]),
    );
}

#[test]
fn refund_balance_counts_restored_bonus_back_out_of_the_bonus_spent() {
    // c1 spent 39.13 bonus; a refund of 100 restored 13.04 → spent 26.09.
    // P = 739.13 + 86.96 = 826.09 → payout 826.09 − 26.09 = 800.00.
    let mut s = given(SPEND, CONSUMED);
    s.and(&[r#"{"type":"refund_consumption","consumption":"c1","amount":"100.00"}"#]);
    s.when(r#"{"type":"refund_balance"}"#).then_events(
        json!([{"type":"balance_refunded","principal":"826.09","bonus_forfeited":"123.91",
            "bonus_spent":"26.09","clawback":"26.09","payout":"800.00"}]),
    );
}

#[test]
fn refund_balance_after_a_full_consumption_refund_claws_back_nothing() {
    let mut s = given(SPEND, CONSUMED);
    s.and(&[r#"{"type":"refund_consumption","consumption":"c1"}"#]);
    s.when(r#"{"type":"refund_balance"}"#).then_events(
        json!([{"type":"balance_refunded","principal":"1000.00","bonus_forfeited":"150.00",
            "bonus_spent":"0.00","clawback":"0.00","payout":"1000.00"}]),
    );
}

#[test]
fn refund_balance_counts_bonus_spent_only_since_the_last_balance_refund() {
    let mut s = given(SPEND, CONSUMED);
    s.and(&[
        r#"{"type":"refund_balance"}"#,
        r#"{"type":"recharge","amount":"500.00"}"#,
    ]);
    s.when(r#"{"type":"refund_balance"}"#)
        .then_events(json!([{"type":"balance_refunded","principal":"500.00","bonus_forfeited":"0.00",
            "bonus_spent":"0.00","clawback":"0.00","payout":"500.00","draws":[{"lot":4,"kind":"principal","amount":"500.00"}]}]));
}

#[test]
fn refund_balance_with_nothing_held_is_insufficient_balance() {
    given(SPEND, &[ENROLL])
        .when(r#"{"type":"refund_balance"}"#)
        .then_rejected("insufficient_balance");
}

#[test]
fn refund_balance_of_bonus_only_pays_nothing_and_forfeits_the_bonus() {
    given(SPEND, &[ENROLL, r#"{"type":"grant_bonus","amount":"30.00","reason":"welcome"}"#])
        .when(r#"{"type":"refund_balance"}"#)
        .then_events(json!([{"type":"balance_refunded","principal":"0.00","bonus_forfeited":"30.00",
            "clawback":"0.00","payout":"0.00","draws":[{"lot":1,"kind":"bonus","amount":"30.00"}]}]));
}

// ---------------------------------------------------------------------------------------------
// Tier upgrades and change_tier
// ---------------------------------------------------------------------------------------------

#[test]
fn a_single_recharge_upgrades_to_the_highest_qualifying_tier() {
    // 5000 meets both silver's (2000) and gold's (5000) single_recharge: gold, in one step.
    given(TIERS, &[ENROLL])
        .when(r#"{"type":"recharge","amount":"5000.00"}"#)
        .then_events(json!([
            {"type":"recharged","amount":"5000.00"},
            {"type":"tier_changed","from":"standard","to":"gold","reason":"upgrade:single_recharge"}]));
}

#[test]
fn a_single_recharge_just_below_the_threshold_does_not_upgrade() {
    let mut s = given(TIERS, &[ENROLL]);
    s.when(r#"{"type":"recharge","amount":"1999.99"}"#)
        .then_events(json!([{"type":"recharged"}]));
    s.when(r#"{"type":"recharge","amount":"2000.00"}"#).then_events(json!([
        {"type":"recharged"},
        {"type":"tier_changed","from":"standard","to":"silver","reason":"upgrade:single_recharge"}]));
    // Already silver: another 2000 does not record a change.
    s.when(r#"{"type":"recharge","amount":"2000.00"}"#)
        .then_events(json!([{"type":"recharged"}]));
}

const THREE_RECHARGES_BEFORE: &[&str] = &[
    r#"{"type":"enroll","at":"2025-01-01T00:00:00Z"}"#,
    r#"{"type":"recharge","amount":"1800.00","at":"2025-01-10T10:00:00Z"}"#,
    r#"{"type":"recharge","amount":"1800.00","at":"2025-06-01T10:00:00Z"}"#,
];

#[test]
fn recharged_within_365d_counts_recharges_in_the_window_including_this_one() {
    // 1800 + 1800 + 1800 = 5400 ≥ 5000 while the first is still inside (at − 365 d, at].
    given(TIERS, THREE_RECHARGES_BEFORE)
        .when(r#"{"type":"recharge","amount":"1800.00","at":"2026-01-10T09:59:59Z"}"#)
        .then_events(json!([
            {"type":"recharged"},
            {"type":"tier_changed","from":"standard","to":"silver","reason":"upgrade:recharged_within_365d"}]));
}

#[test]
fn recharged_within_365d_excludes_a_recharge_exactly_365_days_before() {
    // 2025-01-10T10:00 is exactly 365 days before 2026-01-10T10:00: outside, 3600 < 5000.
    let mut s = given(TIERS, THREE_RECHARGES_BEFORE);
    s.when(r#"{"type":"recharge","amount":"1800.00","at":"2026-01-10T10:00:00Z"}"#)
        .then_events(json!([{"type":"recharged"}]));
    assert_eq!(s.member("M1").tier, "standard");
    assert_eq!(
        s.member("M1")
            .recharged_within_365d("2026-01-10T10:00:00Z".parse().expect("time")),
        money("3600.00")
    );
}

#[test]
fn recharged_within_365d_is_less_principal_removed_by_balance_refunds() {
    // 1800 + 1800 − 3600 (paid out) + 1800 = 1800 < 5000: no upgrade.
    let mut s = given(TIERS, THREE_RECHARGES_BEFORE);
    s.and(&[r#"{"type":"refund_balance","at":"2025-07-01T10:00:00Z"}"#]);
    s.when(r#"{"type":"recharge","amount":"1800.00","at":"2025-08-01T10:00:00Z"}"#)
        .then_events(json!([{"type":"recharged"}]));
    // 1800 × 4 − 3600 = 3600 < 5000; then 1800 × 5 − 3600 = 5400 ≥ 5000.
    s.when(r#"{"type":"recharge","amount":"1800.00","at":"2025-08-02T10:00:00Z"}"#)
        .then_events(json!([{"type":"recharged"}]));
    s.when(r#"{"type":"recharge","amount":"1800.00","at":"2025-08-03T10:00:00Z"}"#)
        .then_events(json!([{"type":"recharged"},
            {"type":"tier_changed","to":"silver","reason":"upgrade:recharged_within_365d"}]));
}

#[test]
fn tiers_are_never_downgraded_automatically() {
    let mut s = given(
        TIERS,
        &[ENROLL, r#"{"type":"recharge","amount":"5000.00"}"#],
    );
    s.then_view(json!({"tier":"gold"}));
    s.and(&[r#"{"type":"refund_balance"}"#]);
    s.when(r#"{"type":"recharge","amount":"10.00","at":"2028-01-01T00:00:00Z"}"#)
        .then_events(json!([{"type":"recharged"}]));
    s.then_view(json!({"tier":"gold"}));
    // A manually assigned higher tier is kept too.
    given(TIERS, &[r#"{"type":"enroll","tier":"gold"}"#])
        .when(r#"{"type":"recharge","amount":"2000.00"}"#)
        .then_events(json!([{"type":"recharged"}]));
}

#[test]
fn change_tier_records_the_manual_change_with_its_reason() {
    let mut s = given(TIERS, &[ENROLL]);
    s.when(r#"{"type":"change_tier","tier":"gold","reason":"vip"}"#)
        .then_events(json!([{"type":"tier_changed","from":"standard","to":"gold","reason":"vip"}]));
    // Downward by hand is allowed; without a reason it says manual.
    s.when(r#"{"type":"change_tier","tier":"silver"}"#)
        .then_events(
            json!([{"type":"tier_changed","from":"gold","to":"silver","reason":"manual"}]),
        );
    s.then_view(json!({"tier":"silver"}));
}

#[test]
fn change_tier_to_an_undefined_tier_is_unknown_tier() {
    let mut s = given(TIERS, &[ENROLL]);
    s.when(r#"{"type":"change_tier","tier":"platinum"}"#)
        .then_rejected("unknown_tier");
    s.then_view(json!({"tier":"standard","version":1}));
}

// ---------------------------------------------------------------------------------------------
// Time order
// ---------------------------------------------------------------------------------------------

#[test]
fn a_command_older_than_the_members_last_event_is_out_of_order() {
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00","at":"2026-03-01T10:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"10.00","at":"2026-03-01T09:59:59Z"}"#)
        .then_rejected("out_of_order");
    s.when(r#"{"type":"recharge","amount":"10.00","at":"2026-02-01T00:00:00Z"}"#)
        .then_rejected("out_of_order");
    // Another member has its own clock.
    s.when(r#"{"type":"enroll","member":"M2","at":"2026-02-01T00:00:00Z"}"#)
        .then_events(json!([{"type":"member_enrolled"}]));
}

#[test]
fn a_command_at_the_same_time_as_the_last_event_is_accepted() {
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00","at":"2026-03-01T10:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"10.00","at":"2026-03-01T10:00:00Z"}"#)
        .then_events(json!([{"type":"consumed","charged":"10.00"}]));
    s.then_view(json!({"version":4}));
}

// ---------------------------------------------------------------------------------------------
// packages (次卡/疗程卡): purchase_package, redeem_session, refund_package, expiry
// ---------------------------------------------------------------------------------------------

const BUY_CASH: &str = r#"{"id":"p1","type":"purchase_package","service":"massage","sessions":3,"amount":"100.00","paid_from":"cash"}"#;

#[test]
fn a_package_bought_in_cash_holds_its_price_and_leaves_the_balance_alone() {
    let mut s = given(SPEND, &[ENROLL]);
    s.when(BUY_CASH).then_events(json!([{
        "type": "package_purchased", "cash": "100.00", "principal": "0.00", "bonus": "0.00",
        "draws": [], "price": "100.00", "sessions": 3, "session_price": "33.33",
        "service": "massage", "package": uuid("p1").to_string(), "expires_at": null
    }]));
    s.then_view(json!({"principal": "0.00", "bonus": "0.00", "package_value": "100.00",
        "packages": [{"sessions_left": 3, "status": "open", "origin_store": "S1", "paid_from": "cash"}]}));
}

#[test]
fn a_package_bought_from_the_balance_splits_by_the_spend_order() {
    // 1000.00 principal and 150.00 bonus; 345.00 proportional: bonus = round(345 × 150 / 1150)
    // = 45.00, principal 300.00 — no tier discount, no points.
    let mut s = given(
        SPEND,
        &[ENROLL, r#"{"type":"recharge","amount":"1000.00"}"#],
    );
    s.when(r#"{"id":"p1","type":"purchase_package","service":"facial","sessions":5,"amount":"345.00","paid_from":"balance"}"#)
        .then_events(json!([{
            "type": "package_purchased", "cash": "0.00", "principal": "300.00", "bonus": "45.00",
            "price": "345.00", "session_price": "69.00",
            "draws": [
                {"kind": "principal", "lot": 1, "amount": "300.00", "origin_store": "S1"},
                {"kind": "bonus", "lot": 2, "amount": "45.00", "origin_store": "S1"}
            ]
        }]));
    s.then_view(
        json!({"principal": "700.00", "bonus": "105.00", "points": 0, "package_value": "345.00"}),
    );
}

#[test]
fn a_package_dearer_than_the_balance_is_insufficient_balance() {
    let mut s = given(SPEND, &[ENROLL, r#"{"type":"recharge","amount":"100.00"}"#]);
    s.when(r#"{"type":"purchase_package","service":"facial","sessions":2,"amount":"100.01","paid_from":"balance"}"#)
        .then_rejected("insufficient_balance");
}

#[test]
fn sessions_recognise_price_over_n_and_the_last_takes_the_remainder() {
    let mut s = given(SPEND, &[ENROLL, BUY_CASH]);
    for (n, amount, left) in [(1, "33.33", 2), (2, "33.33", 1), (3, "33.34", 0)] {
        s.when(r#"{"type":"redeem_session","package":"p1"}"#)
            .then_events(json!([{
                "type": "session_redeemed", "session": n, "sessions_left": left, "amount": amount,
                "principal": amount, "bonus": "0.00", "origin_store": "S1"
            }]));
    }
    s.then_view(
        json!({"package_value": "0.00", "packages": [{"status": "used", "sessions_left": 0}]}),
    );
    s.when(r#"{"type":"redeem_session","package":"p1"}"#)
        .then_rejected("package_exhausted");
}

#[test]
fn a_session_redeemed_at_another_store_names_the_selling_store() {
    let mut s = given(SPEND, &[ENROLL, BUY_CASH]);
    let events = s
        .when(r#"{"type":"redeem_session","package":"p1","store":"S2","staff":"E4"}"#)
        .then_events(json!([{"type": "session_redeemed", "origin_store": "S1", "staff": "E4"}]));
    assert_eq!(events[0].store.as_str(), "S2");
}

#[test]
fn the_bonus_share_of_each_session_follows_how_the_package_was_paid() {
    // 1000 + 150 bonus; a 115.00 package from the balance: bonus 15.00, principal 100.00.
    // Each of 2 sessions: 57.50; bonus share round(57.50 × 15 / 115) = 7.50; the last takes
    // what is left (7.50).
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00"}"#,
            r#"{"id":"p1","type":"purchase_package","service":"facial","sessions":2,"amount":"115.00","paid_from":"balance"}"#,
        ],
    );
    for _ in 0..2 {
        s.when(r#"{"type":"redeem_session","package":"p1"}"#)
            .then_events(json!([{
                "amount": "57.50", "bonus": "7.50", "principal": "50.00"
            }]));
    }
}

#[test]
fn refunding_a_cash_package_pays_the_unredeemed_value_in_cash() {
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            BUY_CASH,
            r#"{"type":"redeem_session","package":"p1"}"#,
        ],
    );
    s.when(r#"{"type":"refund_package","package":"p1","reason":"moving away"}"#)
        .then_events(json!([{
            "type": "package_refunded", "to": "cash", "sessions": 2, "amount": "66.67",
            "principal": "66.67", "bonus": "0.00", "lot": null, "bonus_lot": null
        }]));
    s.then_view(
        json!({"principal": "0.00", "package_value": "0.00", "packages": [{"status": "refunded"}]}),
    );
    s.when(r#"{"type":"redeem_session","package":"p1"}"#)
        .then_rejected("package_exhausted");
    s.when(r#"{"type":"refund_package","package":"p1"}"#)
        .then_rejected("package_exhausted");
}

#[test]
fn refunding_a_balance_package_gives_both_shares_back_as_new_lots() {
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00"}"#,
            r#"{"id":"p1","type":"purchase_package","service":"facial","sessions":2,"amount":"115.00","paid_from":"balance"}"#,
            r#"{"type":"redeem_session","package":"p1"}"#,
        ],
    );
    s.when(r#"{"type":"refund_package","package":"p1"}"#)
        .then_events(json!([{
            "type": "package_refunded", "to": "balance", "amount": "57.50", "principal": "50.00",
            "bonus": "7.50", "lot": 3, "bonus_lot": 4, "bonus_unspent": "7.50"
        }]));
    // 900.00 + 50.00 principal; 135.00 + 7.50 bonus.
    s.then_view(json!({"principal": "950.00", "bonus": "142.50", "package_value": "0.00"}));
}

#[test]
fn a_policy_of_refunds_to_cash_forfeits_the_bonus_share() {
    let policy = with(SPEND, json!({"packages": {"refund_to": "cash"}}));
    let mut s = given(
        &policy,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00"}"#,
            r#"{"id":"p1","type":"purchase_package","service":"facial","sessions":2,"amount":"115.00","paid_from":"balance"}"#,
        ],
    );
    s.when(r#"{"type":"refund_package","package":"p1"}"#)
        .then_events(json!([{
            "type": "package_refunded", "to": "cash", "amount": "115.00", "principal": "100.00",
            "bonus": "15.00", "lot": null, "bonus_lot": null
        }]));
    s.then_view(json!({"principal": "900.00", "bonus": "135.00"}));
}

#[test]
fn a_package_past_its_expiry_expires_first_and_cannot_be_redeemed() {
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"id":"p1","at":"2026-02-01T09:00:00Z","type":"purchase_package","service":"massage","sessions":4,"amount":"200.00","paid_from":"cash","expires_at":"2026-03-01T00:00:00Z"}"#,
            r#"{"at":"2026-02-02T09:00:00Z","type":"redeem_session","package":"p1"}"#,
        ],
    );
    s.when(r#"{"at":"2026-03-01T00:00:00Z","type":"redeem_session","package":"p1"}"#)
        .then_rejected("package_expired");
    s.when(r#"{"at":"2026-03-02T00:00:00Z","type":"recharge","amount":"10.00"}"#)
        .then_events(json!([
            {"type": "package_expired", "sessions": 3, "amount": "150.00", "principal": "150.00",
             "bonus": "0.00", "expires_at": "2026-03-01T00:00:00Z", "origin_store": "S1"},
            {"type": "recharged", "amount": "10.00"}
        ]));
    s.then_view(json!({"package_value": "0.00", "packages": [{"status": "expired"}]}));
    s.when(r#"{"type":"refund_package","package":"p1"}"#)
        .then_rejected("package_expired");
}

#[test]
fn package_commands_refuse_what_does_not_exist_or_does_not_fit() {
    let mut s = given(SPEND, &[ENROLL]);
    s.when(r#"{"type":"redeem_session","package":"nope"}"#)
        .then_rejected("unknown_package");
    s.when(r#"{"type":"refund_package","package":"nope"}"#)
        .then_rejected("unknown_package");
    s.when(r#"{"type":"purchase_package","service":"x","sessions":3,"amount":"0.03","paid_from":"cash","expires_at":"2025-01-01T00:00:00Z"}"#)
        .then_rejected("invalid_command");
}

#[test]
fn package_commands_are_validated_on_the_wire() {
    for (line, code) in [
        (
            r#"{"type":"purchase_package","service":"x","sessions":0,"amount":"1.00","paid_from":"cash"}"#,
            "invalid_amount",
        ),
        (
            r#"{"type":"purchase_package","service":"x","sessions":1001,"amount":"100.00","paid_from":"cash"}"#,
            "invalid_amount",
        ),
        (
            r#"{"type":"purchase_package","service":"x","sessions":3,"amount":"0.02","paid_from":"cash"}"#,
            "invalid_amount",
        ),
        (
            r#"{"type":"purchase_package","service":"x","sessions":2,"amount":"1.00"}"#,
            "invalid_command",
        ),
        (
            r#"{"type":"purchase_package","service":"x","sessions":2,"amount":"1.00","paid_from":"card"}"#,
            "invalid_command",
        ),
        (
            r#"{"type":"purchase_package","sessions":2,"amount":"1.00","paid_from":"cash"}"#,
            "invalid_command",
        ),
        (
            r#"{"type":"redeem_session","package":"not-a-uuid"}"#,
            "invalid_command",
        ),
        (r#"{"type":"redeem_session"}"#, "invalid_command"),
    ] {
        let mut v: Value = serde_json::from_str(line).unwrap();
        let o = v.as_object_mut().unwrap();
        o.insert("id".into(), uuid("x").to_string().into());
        o.insert("at".into(), "2026-03-01T10:00:00Z".into());
        o.insert("member".into(), "M1".into());
        o.insert("store".into(), "S1".into());
        let e = Command::from_json(&v.to_string()).unwrap_err();
        assert_eq!(e.code(), code, "{line}: {e}");
    }
}

#[test]
fn a_frozen_card_cannot_use_packages_but_may_buy_one_in_cash() {
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00"}"#,
            BUY_CASH,
            r#"{"type":"freeze"}"#,
        ],
    );
    s.when(r#"{"type":"redeem_session","package":"p1"}"#)
        .then_rejected("member_frozen");
    s.when(r#"{"type":"purchase_package","service":"x","sessions":1,"amount":"10.00","paid_from":"balance"}"#)
        .then_rejected("member_frozen");
    s.when(r#"{"type":"purchase_package","service":"x","sessions":1,"amount":"10.00","paid_from":"cash"}"#)
        .then_accepted();
    s.when(r#"{"type":"refund_package","package":"p1"}"#)
        .then_accepted();
}

#[test]
fn a_package_refund_to_the_balance_never_renews_bonus() {
    // 1000.00 recharged with 150.00 bonus expiring in 365 days (2027-01-01T09:02); a 115.00
    // package from the balance takes 15.00 of it. Refunded within the year, the bonus share
    // comes back with that same expiry; refunded after it, it is forfeited.
    let policy = with(SPEND, json!({"bonus_expiry_days": 365}));
    let buy = [
        ENROLL,
        r#"{"type":"recharge","amount":"1000.00"}"#,
        r#"{"id":"p1","type":"purchase_package","service":"facial","sessions":2,"amount":"115.00","paid_from":"balance"}"#,
    ];
    let mut s = given(&policy, &buy);
    s.when(r#"{"at":"2026-06-01T00:00:00Z","type":"refund_package","package":"p1"}"#)
        .then_events(json!([{
            "type": "package_refunded", "to": "balance", "bonus": "15.00", "bonus_lot": 4,
            "expires_at": "2027-01-01T09:02:00Z"
        }]));
    let mut s = given(&policy, &buy);
    s.when(r#"{"at":"2027-02-01T00:00:00Z","type":"refund_package","package":"p1"}"#)
        .then_events(json!([
            {"type": "bonus_expired", "amount": "135.00"},
            {"type": "package_refunded", "to": "balance", "principal": "100.00", "bonus": "15.00",
             "lot": 3, "bonus_lot": null, "expires_at": "2027-01-01T09:02:00Z"}
        ]));
    s.then_view(json!({"principal": "1000.00", "bonus": "0.00"}));
}

#[test]
fn a_package_bought_before_a_balance_refund_gives_no_bonus_back_to_the_next_period() {
    // The balance refund settled the package's 15.00 bonus (claw-back); a consumption after it
    // draws bonus of the new period. Refunding the package must not take its old bonus off the
    // new period's `bonus_spent`, or refunding that consumption would take it below zero.
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00"}"#,
            r#"{"id":"p1","type":"purchase_package","service":"facial","sessions":2,"amount":"115.00","paid_from":"balance"}"#,
            r#"{"type":"refund_balance"}"#,
            r#"{"type":"recharge","amount":"1000.00"}"#,
            r#"{"id":"c1","type":"consume","amount":"115.00"}"#,
        ],
    );
    let spent = s.member("M1").bonus_spent;
    assert!(spent.is_positive(), "the consumption drew bonus: {spent:?}");
    s.when(r#"{"type":"refund_package","package":"p1"}"#)
        .then_events(json!([{
            "type": "package_refunded", "to": "balance", "bonus": "15.00", "bonus_unspent": "0.00"
        }]));
    assert_eq!(s.member("M1").bonus_spent, spent);
    s.when(r#"{"type":"refund_consumption","consumption":"c1"}"#)
        .then_events(json!([{"type": "consumption_refunded", "amount": "115.00"}]));
    assert_eq!(s.member("M1").bonus_spent, Money::ZERO);
}

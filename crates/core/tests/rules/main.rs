//! Given/when/then tests for every business rule of docs/RULES.md, with worked numbers.
//!
//! The harness at the top folds `given` commands (JSON lines, with short names for ids) through
//! `decide` and `MemberState::apply` under a policy written out in JSON below, then decides the
//! `when` command and checks the events it records (`then_events`, a field-by-field match of
//! the fields written, arrays compared in full) or its rejection code (`then_rejected`).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use memberledger_core::{
    decide, event_id, split_bonus, CardDirectory, Command, Context, Decision, Event, MemberState,
    MemberView, Money, Policy, Rejection, Timestamp, Uuid,
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
    /// Which member holds which card, as a ledger keeps it.
    cards: CardDirectory,
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
        cards: CardDirectory::default(),
        clock: "2026-01-01T09:00:00Z"
            .parse::<Timestamp>()
            .expect("time")
            .as_datetime(),
        seq: 0,
    };
    for line in lines {
        let cmd = spec.command(line);
        match spec.decide_resolved(cmd).1 {
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
        for field in ["consumption", "package", "hold", "coupon"] {
            if let Some(c) = o.get(field).and_then(Value::as_str) {
                let c = uuid(c).to_string();
                o.insert(field.into(), c.into());
            }
        }
        // `"member": null` leaves the member out (a command named by its card).
        if o.get("member") == Some(&Value::Null) {
            o.remove("member");
        } else {
            o.entry("member").or_insert_with(|| "M1".into());
        }
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

    /// Decides a command without recording it.
    fn decide(&self, cmd: &Command) -> Result<Vec<Event>, Rejection> {
        self.decide_resolved(cmd.clone()).1
    }

    /// Resolves a command named by its card (as a ledger does), then decides it.
    fn decide_resolved(&self, raw: Command) -> (Command, Result<Vec<Event>, Rejection>) {
        let ctx = Context::founding(&self.policy)
            .with_cards(&self.cards)
            .with_card_key(Some(b"test-key"));
        match ctx.resolve(&raw) {
            Ok(cmd) => {
                let result = decide(
                    &ctx.with_member(self.members.get(cmd.member.as_str())),
                    &cmd,
                )
                .map(Decision::into_events);
                (cmd, result)
            }
            Err(e) => (raw, Err(e)),
        }
    }

    fn record(&mut self, events: &[Event]) {
        for e in events {
            self.cards.fold(e);
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
        let raw = self.command(line);
        let (cmd, result) = self.decide_resolved(raw);
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

mod campaigns;
mod cards;
mod consume;
mod coupons;
mod enroll;
mod expiry;
mod holds;
mod packages;
mod prepaid;
mod recharge;
mod refunds;
mod salon;
mod tiers;
mod visit_tiers;

//! Golden files pin the encoded form of every event type at every schema version: today's
//! encoder must write exactly these bytes, and every version's files must keep decoding to the
//! same events (re-encoding them gives the same bytes back).
//!
//! To regenerate after an intended change of a *new* version: `UPDATE_GOLDEN=1 cargo test -p
//! memberledger-core --test golden`, then review the diff. Files of released versions never
//! change.

// The scripted scenario reads best as one story, event type by event type.
#![allow(clippy::too_many_lines)]

use memberledger_core::events::PolicyPublished;
use std::collections::BTreeMap;
use std::path::PathBuf;

use memberledger_core::{
    canonical_json, decide, decode_event, event_id, postings, Clearing, Command, Context, Event,
    EventBody, MemberId, MemberState, Policy, PolicyHistory, StoreId, Uuid, EVENT_SCHEMA_VERSION,
};

const POLICY: &str = r#"{
  "tiers": [
    {"name": "standard", "discount": "1.00", "points_per_yuan": "1"},
    {"name": "gold", "discount": "0.90", "points_per_yuan": "1.5", "upgrade": {"single_recharge": "5000.00"}}
  ],
  "recharge_bonus": [{"min": "1000.00", "bonus": "150.00"}],
  "bonus_expiry_days": 365,
  "points_expiry_days": 30
}"#;

/// Schema 3's commands of the scenario: cards and holds.
const CARDS_AND_HOLDS: [&str; 10] = [
    r#""at":"2026-07-02T09:00:00Z","type":"link_card","store":"S1","card":"C-1001""#,
    r#""at":"2026-07-02T10:00:00Z","type":"consume","store":"S1","card":"C-1001","amount":"10.00""#,
    r#""at":"2026-07-03T09:00:00Z","type":"authorize","store":"S2","amount":"100.00","expires_at":"2026-07-10T00:00:00Z""#,
    r#""at":"2026-07-03T11:00:00Z","type":"capture","store":"S2","hold":"00000000-0000-4000-8000-000000000203","amount":"50.00","staff":"E9","service":"facial""#,
    r#""at":"2026-07-04T09:00:00Z","type":"authorize","store":"S1","amount":"20.00""#,
    r#""at":"2026-07-04T10:00:00Z","type":"void","store":"S1","hold":"00000000-0000-4000-8000-000000000205","reason":"customer left""#,
    r#""at":"2026-07-05T09:00:00Z","type":"authorize","store":"S1","amount":"30.00","expires_at":"2026-07-06T00:00:00Z""#,
    r#""at":"2026-07-07T09:00:00Z","type":"replace_card","store":"S1","card":"C-1001","new_card":"C-2002""#,
    r#""at":"2026-07-08T09:00:00Z","type":"report_lost","store":"S1","card":"C-2002","reason":"left on a bus""#,
    r#""at":"2026-07-09T09:00:00Z","type":"unlink_card","store":"S1","card":"C-2002""#,
];

/// Schema 3's commands of the scenario: a coupon issued, a free session granted.
const COUPONS: [&str; 2] = [
    r#""at":"2026-07-10T09:00:00Z","type":"issue_coupon","store":"S1","threshold":"100.00","amount":"20.00","reason":"满100减20","expires_at":"2026-08-01T00:00:00Z""#,
    r#""at":"2026-07-10T09:05:00Z","type":"grant_package","store":"S1","service":"bubble facial","sessions":1,"reason":"third visit","expires_at":"2026-10-01T00:00:00Z""#,
];

/// A scripted member history that records every event type at least once. The types of
/// schema 1 come first, in the order they were first pinned, so their positions never move.
fn scenario() -> Vec<Event> {
    let policy = Policy::from_json(POLICY).unwrap();
    let mut state: Option<MemberState> = None;
    let mut all = Vec::new();
    let mut run = |lines: &[&str], first: usize, all: &mut Vec<Event>| {
        for (i, rest) in lines.iter().enumerate() {
            let line = format!(
                r#"{{"id":"00000000-0000-4000-8000-{:012}","member":"M1",{rest}}}"#,
                first + i
            );
            let cmd = Command::from_json(&line).unwrap();
            let d = decide(
                &Context::founding(&policy).with_member(state.as_ref()),
                &cmd,
            );
            let events = d.unwrap().events;
            for e in &events {
                MemberState::fold_onto(&mut state, e).unwrap();
            }
            all.extend(events);
        }
    };
    let schema_1 = [
        r#""at":"2026-03-01T10:00:00Z","type":"enroll","store":"S1""#,
        r#""at":"2026-03-01T10:05:00Z","type":"recharge","store":"S1","amount":"1000.00","staff":"E7""#,
        r#""at":"2026-03-02T15:00:00Z","type":"consume","store":"S2","amount":"300.00","staff":"E9","service":"facial""#,
        r#""at":"2026-03-03T09:00:00Z","type":"refund_consumption","store":"S2","consumption":"00000000-0000-4000-8000-000000000003","amount":"100.00""#,
        r#""at":"2026-03-03T10:00:00Z","type":"redeem_points","store":"S1","points":100,"reason":"gift""#,
        r#""at":"2026-03-04T09:00:00Z","type":"grant_bonus","store":"S1","amount":"50.00","reason":"birthday","expires_at":"2026-03-20T00:00:00Z""#,
        r#""at":"2026-04-10T09:00:00Z","type":"recharge","store":"S1","amount":"5000.00""#,
        r#""at":"2026-04-11T09:00:00Z","type":"change_tier","store":"S1","tier":"standard","reason":"vip-review""#,
        r#""at":"2026-04-11T10:30:00Z","type":"adjust","store":"S1","balance":"principal","direction":"credit","amount":"10.00","reason":"till error","operator":"E7""#,
        r#""at":"2026-04-11T11:00:00Z","type":"freeze","store":"S1","reason":"lost card""#,
        r#""at":"2026-04-11T12:00:00Z","type":"unfreeze","store":"S1""#,
        r#""at":"2026-04-12T09:00:00Z","type":"refund_balance","store":"S1""#,
    ];
    run(&schema_1, 1, &mut all);
    // The consumption at S2 drew principal collected at S1: S1 settles with S2.
    let mut clearing = Clearing::default();
    for e in &all {
        clearing.fold_postings(e.at, &postings(e));
    }
    let settle = Command::from_json(
        r#"{"id":"00000000-0000-4000-8000-000000000099","at":"2026-04-30T18:00:00Z","type":"settle","store":"S1","to":"S2","amount":"100.00"}"#,
    )
    .unwrap();
    all.extend(settled(&clearing, &settle));
    // Schema 2: packages (commands 101-), then a policy publication.
    let packages = [
        r#""at":"2026-04-13T09:00:00Z","type":"recharge","store":"S1","amount":"2000.00""#,
        r#""at":"2026-04-14T09:00:00Z","type":"purchase_package","store":"S2","service":"massage","sessions":10,"amount":"1000.00","paid_from":"cash","expires_at":"2026-06-01T00:00:00Z","staff":"E9""#,
        r#""at":"2026-04-15T09:00:00Z","type":"purchase_package","store":"S1","service":"facial","sessions":3,"amount":"100.00","paid_from":"balance""#,
        r#""at":"2026-04-16T09:00:00Z","type":"redeem_session","store":"S3","package":"00000000-0000-4000-8000-000000000103","staff":"E3""#,
        r#""at":"2026-04-17T09:00:00Z","type":"refund_package","store":"S1","package":"00000000-0000-4000-8000-000000000103","reason":"moved away""#,
        r#""at":"2026-04-18T09:00:00Z","type":"redeem_session","store":"S2","package":"00000000-0000-4000-8000-000000000102""#,
        r#""at":"2026-06-02T09:00:00Z","type":"consume","store":"S1","amount":"10.00""#,
    ];
    run(&packages, 101, &mut all);
    // This publication drops the tiers silver and gold, which `decide` refuses since issue 11
    // (item 10): the event is written out as a ledger of an earlier release recorded it, and
    // its bytes stay pinned. `PolicyHistory::apply` still folds it.
    let published = Policy::from_json(
        r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"2"}],"recharge_bonus":[{"min":"1000.00","bonus_rate":"0.2"}]}"#,
    )
    .unwrap();
    let command = Uuid::parse_str("00000000-0000-4000-8000-000000000199").unwrap();
    let event = Event {
        id: event_id(command, 0),
        command,
        index: 0,
        member: MemberId::policy_stream(),
        version: 1,
        at: "2026-07-01T00:00:00Z".parse().unwrap(),
        occurred_at: None,
        store: StoreId::new("HQ").unwrap(),
        v: EVENT_SCHEMA_VERSION,
        policy: 2,
        body: EventBody::PolicyPublished(PolicyPublished {
            policy: serde_json::to_value(&published).unwrap(),
            version: 2,
        }),
    };
    let mut history = PolicyHistory::new(policy.clone());
    history.apply(&event).unwrap();
    all.push(event);
    all.extend(schema_3(&mut history));
    all.extend(opening(&history));
    // Schema 3: cards and holds (commands 201-).
    run(&CARDS_AND_HOLDS, 201, &mut all);
    // Schema 3: coupons and free sessions (commands 401-).
    run(&COUPONS, 401, &mut all);
    all
}

/// Schema 3: a member moving from another system (command 302).
fn opening(history: &PolicyHistory) -> Vec<Event> {
    let open = Command::from_json(
        r#"{"id":"00000000-0000-4000-8000-000000000302","at":"2026-07-02T00:00:00Z","type":"open_balance","member":"M2","store":"S1","opening":{"principal":[{"amount":"500.00"},{"amount":"120.50","origin_store":"S2"}],"bonus":[{"amount":"40.00","expires_at":"2026-09-30T00:00:00Z"}],"points":[{"points":1200,"expires_at":"2026-12-31T00:00:00Z"}],"packages":[{"service":"facial","sessions":4,"session_price":"80.00","origin_store":"S2","expires_at":"2027-01-01T00:00:00Z"}]}}"#,
    )
    .unwrap();
    decide(&Context::new(history), &open).unwrap().events
}

/// Schema 3: a period closed through the end of June, in the policy stream.
fn schema_3(history: &mut PolicyHistory) -> Vec<Event> {
    let close = Command::from_json(
        r#"{"id":"00000000-0000-4000-8000-000000000301","at":"2026-07-02T09:00:00Z","type":"close_period","store":"HQ","through":"2026-06-30T23:59:59Z"}"#,
    )
    .unwrap();
    let events = decide(&Context::new(history), &close).unwrap().events;
    history.apply(&events[0]).unwrap();
    events
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

#[test]
fn every_event_type_encodes_to_its_golden_bytes() {
    let mut first_of_type: BTreeMap<&str, (u64, Event)> = BTreeMap::new();
    for (i, e) in scenario().into_iter().enumerate() {
        first_of_type
            .entry(e.body.type_name())
            .or_insert((i as u64 + 1, e));
    }
    assert_eq!(
        first_of_type.len(),
        32,
        "the scenario covers every event type: {:?}",
        first_of_type.keys()
    );
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let dir = golden_dir().join(format!("v{EVENT_SCHEMA_VERSION}"));
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    for (name, (position, event)) in &first_of_type {
        let path = dir.join(format!("{name}.json"));
        let encoded = canonical_json(*position, event) + "\n";
        if update {
            std::fs::write(&path, &encoded).unwrap();
        }
        let golden =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            encoded,
            golden,
            "{name} encodes differently from {}",
            path.display()
        );
    }
}

/// The founding policy's record (a `policy_published` of version 1 at 1970-01-01T00:00:00Z,
/// the first event of a new ledger) has its own golden file: the same type as a
/// publication, another meaning.
#[test]
fn the_founding_policy_record_encodes_to_its_golden_bytes() {
    let policy = Policy::from_json(POLICY).unwrap();
    let history = PolicyHistory::new(policy.clone());
    let events = decide(
        &Context::new(&history),
        &memberledger_core::founding_command(&policy),
    )
    .unwrap()
    .events;
    assert_eq!(events.len(), 1);
    assert!(memberledger_core::is_founding_event(&events[0]));
    let encoded = canonical_json(1, &events[0]) + "\n";
    let path = golden_dir()
        .join(format!("v{EVENT_SCHEMA_VERSION}"))
        .join("policy_published.founding.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &encoded).unwrap();
    }
    let golden =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(encoded, golden);
    let history = PolicyHistory::from_founding_event(&events[0]).unwrap();
    assert_eq!(*history.current().policy, policy);
}

#[test]
fn every_golden_file_of_every_version_still_decodes_to_the_same_bytes() {
    let mut n = 0;
    for version in std::fs::read_dir(golden_dir()).unwrap() {
        for file in std::fs::read_dir(version.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let (position, event) = decode_event(text.trim_end().as_bytes())
                .unwrap_or_else(|e| panic!("{} no longer decodes: {e}", path.display()));
            assert_eq!(
                canonical_json(position, &event),
                text.trim_end(),
                "{}",
                path.display()
            );
            // Sorted at every level: a sorted map prints it back unchanged.
            let v: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
            assert_eq!(
                v.to_string(),
                text.trim_end(),
                "{} is not sorted",
                path.display()
            );
            n += 1;
        }
    }
    assert!(
        n >= 54,
        "golden files present: {n} (14 of v1, 19 + the founding record of v2, at least as many of v3)"
    );
}

/// The upcaster's promise: every schema-1 file decodes to the same event as today's file of
/// its type (schema 1 predates policy history, so its events were decided under version 1),
/// and folding the schema-1 form of the scenario gives the same member as folding today's.
#[test]
fn schema_1_files_decode_to_the_same_events_and_projection_as_today() {
    let v1 = golden_dir().join("v1");
    for file in std::fs::read_dir(&v1).unwrap() {
        let path = file.unwrap().path();
        let old = std::fs::read_to_string(&path).unwrap();
        let new = std::fs::read_to_string(
            golden_dir()
                .join(format!("v{EVENT_SCHEMA_VERSION}"))
                .join(path.file_name().unwrap()),
        )
        .unwrap();
        let (p1, mut e1) = decode_event(old.trim_end().as_bytes()).unwrap();
        let (p2, e2) = decode_event(new.trim_end().as_bytes()).unwrap();
        assert_eq!((e1.v, e1.policy), (1, 1), "{}", path.display());
        e1.v = e2.v;
        assert_eq!((p1, &e1), (p2, &e2), "{}", path.display());
    }
    // The member's history written at schema 1 (its first 27 events, all of schema-1 types)
    // folds to the same state as the same history written today.
    let today: Vec<Event> = scenario()
        .into_iter()
        .filter(|e| e.member.is_member())
        .take_while(|e| e.body.type_name() != "package_purchased")
        .collect();
    let fold = |events: &[Event]| {
        let mut s = MemberState::enrolled(&events[0]).unwrap();
        for e in &events[1..] {
            s.apply(e).unwrap();
        }
        s
    };
    let as_v1: Vec<Event> = today
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut old = e.clone();
            old.v = 1;
            let bytes = canonical_json(i as u64 + 1, &old);
            assert!(!bytes.contains("\"policy\""), "{bytes}");
            decode_event(bytes.as_bytes()).unwrap().1
        })
        .collect();
    assert_eq!(fold(&as_v1), fold(&today));
}

/// A settlement decided against the stores' clearing (under the founding policy).
fn settled(clearing: &Clearing, settle: &Command) -> Vec<Event> {
    let founding = Policy::builtin();
    let ctx = Context::founding(&founding).with_clearing(clearing);
    decide(&ctx, settle).unwrap().events
}

/// Schema 2 differs from today's only by the types and fields born later: every schema-2 file
/// decodes to the same event as today's file of its type, once its `v` is set to today's.
#[test]
fn schema_2_files_decode_to_the_same_events_as_today() {
    for file in std::fs::read_dir(golden_dir().join("v2")).unwrap() {
        let path = file.unwrap().path();
        let old = std::fs::read_to_string(&path).unwrap();
        let new = std::fs::read_to_string(
            golden_dir()
                .join(format!("v{EVENT_SCHEMA_VERSION}"))
                .join(path.file_name().unwrap()),
        )
        .unwrap();
        let (p2, mut e2) = decode_event(old.trim_end().as_bytes()).unwrap();
        let (p3, e3) = decode_event(new.trim_end().as_bytes()).unwrap();
        assert_eq!(e2.v, 2, "{}", path.display());
        e2.v = e3.v;
        assert_eq!((p2, &e2), (p3, &e3), "{}", path.display());
    }
}

/// `balance_opened` is born at schema 3: the same event written as schema 2 is refused.
#[test]
fn balance_opened_does_not_exist_at_schema_2() {
    let path = golden_dir().join("v3/balance_opened.json");
    let today = std::fs::read_to_string(&path).unwrap();
    assert!(decode_event(today.trim_end().as_bytes()).is_ok());
    let v2 = today.trim_end().replace(r#""v":3"#, r#""v":2"#);
    let e = decode_event(v2.as_bytes()).unwrap_err();
    assert!(e.contains("does not exist at schema 2"), "{e}");
}

/// The fields born at schema 3, each pinned in a file of its own (`<type>.<field>.json`): a
/// consumption paid partly outside the card (`external`), its refund paid back by the same
/// method, one earning points on all it was paid with (`points_on`), a points redemption
/// naming what it gave (`given`), a late command's event (`occurred_at`), and a package paid
/// partly outside the card and its refund (`external`).
fn schema_3_fields() -> Vec<(&'static str, u64, Event)> {
    let policy = Policy::from_json(
        r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}],"late_window_hours":72}"#,
    )
    .unwrap();
    let mut all_on = policy.clone();
    all_on.points_earned_on = Some(memberledger_core::PointsEarnedOn::All);
    let mut state: Option<MemberState> = None;
    let mut out = Vec::new();
    let lines: [(&str, Option<&str>, &Policy); 9] = [
        (
            r#""at":"2026-03-01T10:00:00Z","type":"enroll","store":"S1""#,
            None,
            &policy,
        ),
        (
            r#""at":"2026-03-01T10:05:00Z","type":"recharge","store":"S1","amount":"100.00""#,
            None,
            &policy,
        ),
        (
            r#""at":"2026-03-02T15:00:00Z","type":"consume","store":"S1","amount":"300.00","service":"facial","method":"wechat""#,
            Some("consumed.external"),
            &policy,
        ),
        (
            r#""at":"2026-03-03T09:00:00Z","type":"refund_consumption","store":"S1","consumption":"00000000-0000-4000-8000-000000000303","amount":"150.00""#,
            Some("consumption_refunded.external"),
            &policy,
        ),
        (
            r#""at":"2026-03-03T10:00:00Z","type":"redeem_points","store":"S1","points":50,"service":"bubble facial","value":"88.00""#,
            Some("points_redeemed.given"),
            &policy,
        ),
        (
            r#""at":"2026-03-04T10:00:00Z","type":"consume","store":"S1","amount":"20.00","method":"cash","external":"5.00""#,
            Some("consumed.points_on"),
            &all_on,
        ),
        (
            r#""at":"2026-03-02T18:00:00Z","type":"consume","store":"S2","amount":"10.00","method":"cash","external":"all""#,
            Some("consumed.occurred_at"),
            &policy,
        ),
        (
            r#""at":"2026-03-05T10:00:00Z","type":"purchase_package","store":"S1","amount":"300.00","paid_from":"balance","service":"massage","sessions":3,"method":"alipay""#,
            Some("package_purchased.external"),
            &policy,
        ),
        (
            r#""at":"2026-03-05T11:00:00Z","type":"refund_package","store":"S2","package":"00000000-0000-4000-8000-000000000308""#,
            Some("package_refunded.external"),
            &policy,
        ),
    ];
    for (i, (rest, name, policy)) in lines.into_iter().enumerate() {
        let line = format!(
            r#"{{"id":"00000000-0000-4000-8000-{:012}","member":"M3",{rest}}}"#,
            301 + i
        );
        let cmd = Command::from_json(&line).unwrap();
        let events = decide(&Context::founding(policy).with_member(state.as_ref()), &cmd)
            .unwrap()
            .events;
        for e in &events {
            MemberState::fold_onto(&mut state, e).unwrap();
        }
        if let Some(name) = name {
            out.push((name, 1, events.last().unwrap().clone()));
        }
    }
    out
}

#[test]
fn the_fields_born_at_3_encode_to_their_golden_bytes_and_are_refused_at_2() {
    let dir = golden_dir().join(format!("v{EVENT_SCHEMA_VERSION}"));
    for (name, position, event) in schema_3_fields() {
        let path = dir.join(format!("{name}.json"));
        let encoded = canonical_json(position, &event) + "\n";
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &encoded).unwrap();
        }
        let golden =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(encoded, golden, "{name}");
        let field = name.split('.').nth(1).unwrap();
        assert!(golden.contains(&format!("\"{field}\":")), "{name}");
        // The same bytes claiming schema 2 are refused: the field was born at 3.
        let as_v2 = golden.trim_end().replace(",\"v\":3,", ",\"v\":2,");
        let e = decode_event(as_v2.as_bytes()).unwrap_err();
        assert!(e.contains("does not exist at schema 2"), "{name}: {e}");
    }
}

/// The coupon fields born at schema 3 (`consumed.coupon`, `consumption_refunded.coupon`): a
/// visit redeeming a 满减 coupon and its refund in full giving it back.
fn schema_3_coupon_fields() -> Vec<(&'static str, u64, Event)> {
    let policy = Policy::from_json(
        r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}]}"#,
    )
    .unwrap();
    let lines: [(&str, Option<&str>); 5] = [
        (
            r#""at":"2026-03-01T10:00:00Z","type":"enroll","store":"S1""#,
            None,
        ),
        (
            r#""at":"2026-03-01T10:05:00Z","type":"recharge","store":"S1","amount":"500.00""#,
            None,
        ),
        (
            r#""at":"2026-03-01T10:10:00Z","type":"issue_coupon","store":"S1","threshold":"100.00","amount":"20.00","reason":"满100减20","expires_at":"2026-04-01T00:00:00Z""#,
            None,
        ),
        (
            r#""at":"2026-03-02T15:00:00Z","type":"consume","store":"S1","amount":"120.00","service":"facial","coupon":"00000000-0000-4000-8000-000000000503""#,
            Some("consumed.coupon"),
        ),
        (
            r#""at":"2026-03-03T09:00:00Z","type":"refund_consumption","store":"S1","consumption":"00000000-0000-4000-8000-000000000504""#,
            Some("consumption_refunded.coupon"),
        ),
    ];
    let mut state: Option<MemberState> = None;
    let mut out = Vec::new();
    for (i, (rest, name)) in lines.into_iter().enumerate() {
        let line = format!(
            r#"{{"id":"00000000-0000-4000-8000-{:012}","member":"M4",{rest}}}"#,
            501 + i
        );
        let cmd = Command::from_json(&line).unwrap();
        let events = decide(
            &Context::founding(&policy).with_member(state.as_ref()),
            &cmd,
        )
        .unwrap()
        .events;
        for e in &events {
            MemberState::fold_onto(&mut state, e).unwrap();
        }
        if let Some(name) = name {
            out.push((name, 1, events.last().unwrap().clone()));
        }
    }
    out
}

#[test]
fn the_coupon_fields_encode_to_their_golden_bytes_and_are_refused_at_2() {
    let dir = golden_dir().join(format!("v{EVENT_SCHEMA_VERSION}"));
    for (name, position, event) in schema_3_coupon_fields() {
        let path = dir.join(format!("{name}.json"));
        let encoded = canonical_json(position, &event) + "\n";
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &encoded).unwrap();
        }
        let golden =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(encoded, golden, "{name}");
        assert!(golden.contains("\"coupon\":{"), "{name}");
        let as_v2 = golden.trim_end().replace(",\"v\":3,", ",\"v\":2,");
        let e = decode_event(as_v2.as_bytes()).unwrap_err();
        assert!(e.contains("does not exist at schema 2"), "{name}: {e}");
    }
}

/// A publication of a policy with the tier rules born at schema 3 (`upgrade.spent_within`,
/// `upgrade.visits_within`, `upgrade.window_days`, `retain`): its golden bytes, and the same
/// bytes claiming schema 2 refused.
#[test]
fn a_policy_with_tier_rules_born_at_3_has_its_golden_bytes_and_is_refused_at_2() {
    let path = golden_dir().join("v3/policy_published.tier_rules.json");
    let golden = std::fs::read_to_string(golden_dir().join("v3/policy_published.json")).unwrap();
    let (position, mut event) = decode_event(golden.trim_end().as_bytes()).unwrap();
    let EventBody::PolicyPublished(PolicyPublished { policy, .. }) = &mut event.body else {
        panic!("a publication");
    };
    let mut p = Policy::from_value(policy.clone()).unwrap();
    p.tiers.push(
        memberledger_core::Tier::new("gold", "0.90".parse().unwrap(), "1".parse().unwrap())
            .upgrade_on_visits_within(6, 90)
            .upgrade_on_spent_within("3000.00".parse().unwrap(), 90)
            .retain(memberledger_core::Retain::over_days(180).with_visits(3)),
    );
    *policy = serde_json::to_value(&p).unwrap();
    let encoded = canonical_json(position, &event) + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &encoded).unwrap();
    }
    let golden =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(encoded, golden);
    assert!(golden.contains(r#""retain":{"visits_within":3,"window_days":180}"#));
    assert_eq!(
        decode_event(golden.trim_end().as_bytes()).unwrap(),
        (position, event)
    );
    let as_v2 = golden.trim_end().replace(",\"v\":3,", ",\"v\":2,");
    let e = decode_event(as_v2.as_bytes()).unwrap_err();
    assert!(
        e.contains("`tiers.retain` does not exist at schema 2"),
        "{e}"
    );
}

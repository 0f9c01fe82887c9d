//! Opening balances (`open_balance`, `Ledger::import`): an imported member holds exactly what
//! its row says, booked against the opening equity of each origin store; each member is
//! imported once (a re-run records nothing, a changed row is refused); later commands treat
//! imported lots and packages as native ones.

use memberledger::domain::{
    opened_package_id, postings, Opening, OpeningBonus, OpeningPackage, OpeningPoints,
    OpeningPrincipal,
};
use memberledger::import::{import_command_id, opening_command, Imported};
use memberledger::{Clock, Command, Ledger, MemberId, Money, Policy, StoreId, Timestamp};
use proptest::prelude::*;

const POLICY: &str = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"},{"name":"gold","discount":"0.90","points_per_yuan":"1"}]}"#;

fn ledger() -> Ledger {
    let l = Ledger::in_memory_with(Policy::from_json(POLICY).unwrap());
    l.set_clock(Clock::unbounded());
    l
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn m(cents: i64) -> Money {
    Money::from_cents(cents)
}

fn store(s: &str) -> StoreId {
    StoreId::new(s).unwrap()
}

fn member(s: &str) -> MemberId {
    MemberId::new(s).unwrap()
}

fn sample() -> Opening {
    Opening {
        principal: vec![
            OpeningPrincipal {
                amount: m(50_000),
                origin_store: None,
            },
            OpeningPrincipal {
                amount: m(12_050),
                origin_store: Some(store("S2")),
            },
        ],
        bonus: vec![OpeningBonus {
            amount: m(4_000),
            expires_at: Some(t("2026-03-01T00:00:00Z")),
            origin_store: None,
        }],
        points: vec![OpeningPoints {
            points: 1_200,
            expires_at: Some(t("2026-06-01T00:00:00Z")),
        }],
        packages: vec![OpeningPackage {
            expires_at: Some(t("2026-12-31T00:00:00Z")),
            origin_store: Some(store("S2")),
            service: "facial".into(),
            session_price: m(8_000),
            sessions: 4,
        }],
    }
}

fn open(id: &str, opening: Opening) -> Command {
    opening_command(
        t("2026-01-01T00:00:00Z"),
        member(id),
        store("S1"),
        Some("gold".into()),
        opening,
    )
    .unwrap()
}

fn cmd(json: &str) -> Command {
    Command::from_json(json).unwrap()
}

#[test]
fn an_opening_enrolls_the_member_with_every_lot_and_package_of_its_row() {
    let l = ledger();
    let r = l.import(&[open("M1", sample())], false);
    assert_eq!(r[0].code(), "imported");
    let v = l.member(&member("M1")).unwrap();
    assert_eq!((v.home_store.as_str(), v.tier.as_str()), ("S1", "gold"));
    assert_eq!(
        (v.principal, v.bonus, v.points),
        (m(62_050), m(4_000), 1_200)
    );
    let origins: Vec<&str> = v.lots.iter().map(|l| l.origin_store.as_str()).collect();
    assert_eq!(origins, ["S1", "S2", "S1"]);
    assert_eq!(v.lots[2].expires_at, Some(t("2026-03-01T00:00:00Z")));
    assert_eq!(v.point_lots[0].expires_at, Some(t("2026-06-01T00:00:00Z")));
    let p = &v.packages[0];
    assert_eq!(
        p.package,
        opened_package_id(import_command_id(&member("M1")), 0)
    );
    assert_eq!(
        (p.sessions_left, p.session_price, p.price),
        (4, m(8_000), m(32_000))
    );
    assert_eq!(p.origin_store.as_str(), "S2");
    assert_eq!(v.package_value, m(32_000));
}

#[test]
fn an_opening_is_booked_against_the_opening_equity_of_each_origin_store() {
    let l = ledger();
    let Imported::New(r) = &l.import(&[open("M1", sample())], false)[0] else {
        panic!("imported")
    };
    let types: Vec<&str> = r.events.iter().map(|e| e.event.body.type_name()).collect();
    assert_eq!(types, ["member_enrolled", "balance_opened"]);
    let entry = postings(&r.events[1].event);
    let of = |name: &str| -> i64 {
        entry
            .iter()
            .filter(|p| p.account.to_string() == name)
            .map(|p| p.cents)
            .sum()
    };
    assert_eq!(of("Equity:OpeningBalances:S1"), 54_000);
    assert_eq!(of("Equity:OpeningBalances:S2"), 12_050 + 32_000);
    assert_eq!(of("Liabilities:Principal:M1"), -62_050);
    assert_eq!(of("Liabilities:Package:M1"), -32_000);
    assert_eq!(entry.iter().map(|p| p.cents).sum::<i64>(), 0);
    assert!(l.verify().unwrap().ok());
}

#[test]
fn a_rerun_of_the_same_row_records_nothing_and_a_changed_row_is_refused() {
    let l = ledger();
    l.import(&[open("M1", sample())], false);
    let head = l.head().unwrap();
    assert_eq!(
        l.import(&[open("M1", sample())], false)[0].code(),
        "already_imported"
    );
    let mut changed = sample();
    changed.principal[0].amount = m(50_001);
    assert_eq!(
        l.import(&[open("M1", changed)], false)[0].code(),
        "idempotency_conflict"
    );
    assert_eq!(l.head().unwrap(), head);
}

#[test]
fn an_opening_of_a_member_enrolled_otherwise_is_refused_with_member_exists() {
    let l = ledger();
    l.execute(&cmd(r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2025-12-01T00:00:00Z","type":"enroll","member":"M1","store":"S1"}"#)).unwrap();
    assert_eq!(
        l.import(&[open("M1", sample())], false)[0].code(),
        "member_exists"
    );
}

#[test]
fn a_dry_run_reports_what_would_be_imported_and_records_nothing() {
    let l = ledger();
    let head = l.head().unwrap();
    let bad = opening_command(
        t("2026-01-01T00:00:00Z"),
        member("M2"),
        store("S1"),
        Some("platinum".into()),
        sample(),
    )
    .unwrap();
    let r = l.import(&[open("M1", sample()), bad], true);
    assert_eq!((r[0].code(), r[1].code()), ("imported", "unknown_tier"));
    assert_eq!(l.head().unwrap(), head);
    assert!(l.member(&member("M1")).is_none());
}

#[test]
fn an_import_takes_only_openings_under_their_import_ids() {
    let l = ledger();
    let enroll = cmd(
        r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-01-01T00:00:00Z","type":"enroll","member":"M1","store":"S1"}"#,
    );
    assert_eq!(l.import(&[enroll], false)[0].code(), "invalid_command");
    let mut other = open("M2", sample());
    other.id = import_command_id(&member("M1"));
    assert_eq!(l.import(&[other], false)[0].code(), "invalid_command");
}

#[test]
fn an_opening_with_a_bad_figure_is_refused_whole() {
    for (opening, code) in [
        (
            Opening {
                principal: vec![OpeningPrincipal {
                    amount: m(0),
                    origin_store: None,
                }],
                ..Opening::default()
            },
            "invalid_amount",
        ),
        (
            Opening {
                points: vec![OpeningPoints {
                    points: 0,
                    expires_at: None,
                }],
                ..Opening::default()
            },
            "invalid_amount",
        ),
        (
            Opening {
                packages: vec![OpeningPackage {
                    expires_at: None,
                    origin_store: None,
                    service: String::new(),
                    session_price: m(100),
                    sessions: 1,
                }],
                ..Opening::default()
            },
            "invalid_command",
        ),
    ] {
        let e = opening_command(
            t("2026-01-01T00:00:00Z"),
            member("M1"),
            store("S1"),
            None,
            opening,
        )
        .unwrap_err();
        assert_eq!(e.code(), code);
    }
    let e = opening_command(
        t("2026-01-01T00:00:00Z"),
        member("M1"),
        store("S1"),
        Some("platinum".into()),
        Opening::default(),
    )
    .unwrap();
    assert_eq!(ledger().import(&[e], false)[0].code(), "unknown_tier");
}

#[test]
fn imported_bonus_points_and_packages_lapse_in_the_sweep() {
    let l = ledger();
    l.import(&[open("M1", sample())], false);
    let swept = l.expire_due(t("2027-01-01T00:00:00Z"));
    let types: Vec<&str> = swept[0]
        .as_ref()
        .unwrap()
        .events
        .iter()
        .map(|e| e.event.body.type_name())
        .collect();
    assert_eq!(
        types,
        ["bonus_expired", "points_expired", "package_expired"]
    );
    let v = l.member(&member("M1")).unwrap();
    assert_eq!((v.bonus, v.points, v.package_value), (m(0), 0, m(0)));
    assert!(l.verify().unwrap().ok());
}

/// The figures of an opening the properties draw: principal and bonus lots (bonus lapsing on
/// day `d` of 2026), packages of `sessions` at a price.
/// Drawn lots: principal (cents, origin store), bonus (cents, days), packages (cents,
/// sessions, days).
type Drawn = (Vec<(i64, u8)>, Vec<(i64, u32)>, Vec<(i64, u32, u32)>);

fn openings() -> impl Strategy<Value = Drawn> {
    (
        prop::collection::vec((1i64..200_000, 0u8..3), 0..4),
        prop::collection::vec((1i64..20_000, 1u32..300), 0..3),
        prop::collection::vec((1i64..10_000, 1u32..10, 1u32..300), 0..3),
    )
}

fn stores() -> [&'static str; 3] {
    ["S1", "S2", "S3"]
}

fn day(d: u32) -> Timestamp {
    t("2026-01-01T00:00:00Z").plus_days(d)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// An imported member folds to exactly its row's figures, and later commands (consume,
    /// refund, session, sweep) do to it what they do to a member whose lots and packages were
    /// recharged, granted and bought natively with the same figures.
    #[test]
    fn an_imported_member_holds_its_row_and_behaves_as_a_native_one(
        (principal, bonus, packages) in openings(),
        prices in prop::collection::vec(1i64..150_000, 1..6),
        sweep_day in 1u32..400,
    ) {
        let opening = Opening {
            principal: principal.iter().map(|(c, s)| OpeningPrincipal { amount: m(*c), origin_store: Some(store(stores()[usize::from(*s)])) }).collect(),
            bonus: bonus.iter().map(|(c, d)| OpeningBonus { amount: m(*c), expires_at: Some(day(*d)), origin_store: None }).collect(),
            points: Vec::new(),
            packages: packages.iter().map(|(c, n, d)| OpeningPackage { expires_at: Some(day(*d)), origin_store: Some(store("S2")), service: "facial".into(), session_price: m(*c), sessions: *n }).collect(),
        };
        let imported = ledger();
        prop_assert_eq!(imported.import(&[opening_command(day(0), member("M1"), store("S1"), None, opening).unwrap()], false)[0].code(), "imported");
        let v = imported.member(&member("M1")).unwrap();
        prop_assert_eq!(v.principal.cents(), principal.iter().map(|p| p.0).sum::<i64>());
        prop_assert_eq!(v.bonus.cents(), bonus.iter().map(|b| b.0).sum::<i64>());
        prop_assert_eq!(v.package_value.cents(), packages.iter().map(|p| p.0 * i64::from(p.1)).sum::<i64>());

        // The same holdings, recorded natively at the same time.
        let native = ledger();
        let mut n = 0u32;
        let mut id = || { n += 1; format!("00000000-0000-4000-8000-{n:012}") };
        let at = day(0);
        native.execute(&cmd(&format!(r#"{{"id":"{}","at":"{at}","type":"enroll","member":"M1","store":"S1"}}"#, id()))).unwrap();
        for (c, s) in &principal {
            native.execute(&cmd(&format!(r#"{{"id":"{}","at":"{at}","type":"recharge","member":"M1","store":"{}","amount":"{}"}}"#, id(), stores()[usize::from(*s)], m(*c)))).unwrap();
        }
        for (c, d) in &bonus {
            native.execute(&cmd(&format!(r#"{{"id":"{}","at":"{at}","type":"grant_bonus","member":"M1","store":"S1","amount":"{}","reason":"import","expires_at":"{}"}}"#, id(), m(*c), day(*d)))).unwrap();
        }
        let mut native_packages = Vec::new();
        for (c, s, d) in &packages {
            let pid = id();
            native.execute(&cmd(&format!(r#"{{"id":"{pid}","at":"{at}","type":"purchase_package","member":"M1","store":"S2","service":"facial","sessions":{s},"amount":"{}","paid_from":"cash","expires_at":"{}"}}"#, m(*c * i64::from(*s)), day(*d)))).unwrap();
            native_packages.push(pid);
        }
        let same = |a: &Ledger, b: &Ledger| {
            let (x, y) = (a.member(&member("M1")).unwrap(), b.member(&member("M1")).unwrap());
            let packs = |v: &memberledger::MemberView| -> Vec<(u32, Money, Money)> {
                let mut p: Vec<_> = v.packages.iter().map(|p| (p.sessions_left, p.value_left(), p.session_price)).collect();
                p.sort();
                p
            };
            (x.principal == y.principal && x.bonus == y.bonus && x.lots == y.lots
                && x.package_value == y.package_value && packs(&x) == packs(&y), format!("{x:?}\n{y:?}"))
        };
        let (ok, why) = same(&imported, &native);
        prop_assert!(ok, "{}", why);

        let imported_packages: Vec<String> = (0..packages.len())
            .map(|i| opened_package_id(import_command_id(&member("M1")), i).to_string())
            .collect();
        for (i, price) in prices.iter().enumerate() {
            let at = day(u32::try_from(i).unwrap() * 40 + 1);
            let consume = |ledger: &Ledger, cid: &str| ledger.execute(&cmd(&format!(r#"{{"id":"{cid}","at":"{at}","type":"consume","member":"M1","store":"S3","amount":"{}"}}"#, m(*price)))).map_err(|e| e.code());
            let cid = format!("10000000-0000-4000-8000-{i:012}");
            let (a, b) = (consume(&imported, &cid), consume(&native, &cid));
            prop_assert_eq!(a.is_ok(), b.is_ok());
            if a.is_ok() && i % 2 == 0 {
                let refund = |ledger: &Ledger| ledger.execute(&cmd(&format!(r#"{{"id":"20000000-0000-4000-8000-{i:012}","at":"{at}","type":"refund_consumption","member":"M1","store":"S3","consumption":"{cid}"}}"#))).map_err(|e| e.code());
                prop_assert_eq!(refund(&imported).is_ok(), refund(&native).is_ok());
            }
            if let (Some(p), Some(q)) = (imported_packages.get(i % 3), native_packages.get(i % 3)) {
                let redeem = |ledger: &Ledger, p: &str| ledger.execute(&cmd(&format!(r#"{{"id":"30000000-0000-4000-8000-{i:012}","at":"{at}","type":"redeem_session","member":"M1","store":"S3","package":"{p}"}}"#))).map_err(|e| e.code());
                prop_assert_eq!(redeem(&imported, p).map(|_| ()), redeem(&native, q).map(|_| ()));
            }
            let (ok, why) = same(&imported, &native);
            prop_assert!(ok, "{}", why);
        }
        imported.expire_due(day(sweep_day.max(201)));
        native.expire_due(day(sweep_day.max(201)));
        let (ok, why) = same(&imported, &native);
        prop_assert!(ok, "{}", why);
        prop_assert!(imported.verify().unwrap().ok());
    }
}

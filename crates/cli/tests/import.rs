//! `memberledger import`: a chain moving from another system. 100,000 members from a generated
//! CSV of the documented layout (docs/IMPORT.md): every imported balance, lot expiry, point lot
//! and package equals the file, the books balance (trial balance zero, every export's entries
//! balance), a re-run records nothing, and a malformed row is refused with its line and code
//! while nothing of its member is recorded.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Output;

use memberledger::{Ledger, MemberId, Money, Timestamp};
use memberledger_audit::{export, Format, Snapshot};
use memberledger_testkit::Rng;

mod support;
use support::memberledger as run;

const AS_OF: &str = "2026-01-01T00:00:00Z";
const HEADER: &str =
    "member,home_store,tier,kind,amount,points,sessions,service,origin_store,expires_at";

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// What one member of the file holds, as the test expects to find it.
#[derive(Default)]
struct Expected {
    home: String,
    tier: String,
    principal: Vec<(i64, String)>,
    bonus: Vec<(i64, String, String)>,
    points: Vec<(u64, String)>,
    packages: Vec<(i64, u32, String, String)>,
}

fn money(cents: i64) -> String {
    Money::from_cents(cents).to_string()
}

/// A file of `n` members of another system's shape: one row per lot, a member's rows together.
fn generate(n: usize, seed: u64) -> (String, BTreeMap<String, Expected>) {
    let mut rng = Rng::new(seed);
    let stores = ["S1", "S2", "S3", "S4"];
    let tiers = ["", "standard", "silver", "gold", "diamond"];
    let as_of: Timestamp = AS_OF.parse().unwrap();
    let mut csv = format!("{HEADER}\n");
    let mut all = BTreeMap::new();
    for i in 0..n {
        let id = format!("M{i:06}");
        let mut e = Expected {
            home: (*rng.pick(&stores)).to_owned(),
            tier: (*rng.pick(&tiers)).to_owned(),
            ..Expected::default()
        };
        let later = |rng: &mut Rng| {
            as_of
                .plus_days(u32::try_from(rng.range(1, 500)).unwrap())
                .to_string()
        };
        let row = |csv: &mut String, e: &Expected, rest: &str| {
            writeln!(csv, "{id},{},{},{rest}", e.home, e.tier).unwrap();
        };
        let lots = rng.below(5);
        if lots == 0 {
            row(&mut csv, &e, "member,,,,,,");
        }
        for _ in 0..lots {
            match rng.below(4) {
                0 => {
                    let (c, s) = (rng.range(1, 1_000_000), (*rng.pick(&stores)).to_owned());
                    row(&mut csv, &e, &format!("principal,{},,,,{s},", money(c)));
                    e.principal.push((c, s));
                }
                1 => {
                    let (c, s, x) = (
                        rng.range(1, 50_000),
                        (*rng.pick(&stores)).to_owned(),
                        later(&mut rng),
                    );
                    row(&mut csv, &e, &format!("bonus,{},,,,{s},{x}", money(c)));
                    e.bonus.push((c, s, x));
                }
                2 => {
                    let (p, x) = (rng.between(1, 100_000), later(&mut rng));
                    row(&mut csv, &e, &format!("points,,{p},,,,{x}"));
                    e.points.push((p, x));
                }
                _ => {
                    let (c, n, s, x) = (
                        rng.range(100, 50_000),
                        u32::try_from(rng.range(1, 20)).unwrap(),
                        (*rng.pick(&stores)).to_owned(),
                        later(&mut rng),
                    );
                    row(
                        &mut csv,
                        &e,
                        &format!("package,{},,{n},\"facial, 60 min\",{s},{x}", money(c)),
                    );
                    e.packages.push((c, n, s, x));
                }
            }
        }
        all.insert(id, e);
    }
    (csv, all)
}

/// The member in the ledger holds exactly what the file says.
fn check_member(ledger: &Ledger, id: &str, e: &Expected) {
    let v = ledger
        .member(&MemberId::new(id).unwrap())
        .unwrap_or_else(|| panic!("{id} imported"));
    assert_eq!(v.home_store.as_str(), e.home, "{id}");
    assert_eq!(
        v.tier,
        if e.tier.is_empty() {
            "standard"
        } else {
            e.tier.as_str()
        },
        "{id}"
    );
    let principal: Vec<(i64, String)> = v
        .lots
        .iter()
        .filter(|l| l.kind == memberledger::domain::LotKind::Principal)
        .map(|l| (l.remaining.cents(), l.origin_store.to_string()))
        .collect();
    assert_eq!(principal, e.principal, "{id}");
    let bonus: Vec<(i64, String, String)> = v
        .lots
        .iter()
        .filter(|l| l.kind == memberledger::domain::LotKind::Bonus)
        .map(|l| {
            (
                l.remaining.cents(),
                l.origin_store.to_string(),
                l.expires_at.unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(bonus, e.bonus, "{id}");
    let points: Vec<(u64, String)> = v
        .point_lots
        .iter()
        .map(|l| (l.remaining, l.expires_at.unwrap().to_string()))
        .collect();
    assert_eq!(points, e.points, "{id}");
    let mut packages: Vec<(i64, u32, String, String)> = v
        .packages
        .iter()
        .map(|p| {
            (
                p.session_price.cents(),
                p.sessions_left,
                p.origin_store.to_string(),
                p.expires_at.unwrap().to_string(),
            )
        })
        .collect();
    let mut want = e.packages.clone();
    packages.sort();
    want.sort();
    assert_eq!(packages, want, "{id}");
}

/// Every entry of the CSV export sums to zero, and the other formats are written.
fn check_exports(ledger: &Ledger) {
    let mut csv = Vec::new();
    export(ledger, Format::Csv, &mut csv).unwrap();
    let mut by_event: BTreeMap<String, i128> = BTreeMap::new();
    for line in String::from_utf8(csv).unwrap().lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let cents: Money = f[8].trim_start_matches('-').parse().unwrap();
        let sign = if f[8].starts_with('-') { -1 } else { 1 };
        *by_event.entry(f[0].to_owned()).or_default() += i128::from(sign * cents.cents());
    }
    assert!(
        by_event.values().all(|s| *s == 0),
        "every exported entry balances"
    );
    for format in [Format::Hledger, Format::Beancount] {
        let mut out = Vec::new();
        export(ledger, format, &mut out).unwrap();
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("Equity:OpeningBalances"));
    }
}

#[test]
fn a_hundred_thousand_members_import_with_every_figure_and_the_books_balance() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    assert!(run(&db, &["init"]).status.success());
    let (csv, expected) = generate(100_000, 15);
    let file = dir.path().join("members.csv");
    std::fs::write(&file, csv).unwrap();
    let file = file.to_str().unwrap();

    let dry = run(&db, &["import", file, "--as-of", AS_OF, "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{dry:?}");
    assert!(
        stdout(&dry).contains("would import 100000 members, 0 already imported, 0 refused"),
        "{}",
        stdout(&dry)
    );

    let first = run(&db, &["import", file, "--as-of", AS_OF]);
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    assert!(
        stdout(&first).contains("imported 100000 members, 0 already imported, 0 refused"),
        "{}",
        stdout(&first)
    );
    let again = run(&db, &["import", file, "--as-of", AS_OF, "--json"]);
    let report: serde_json::Value = serde_json::from_str(stdout(&again).trim()).unwrap();
    assert_eq!(
        (
            report["imported"].as_u64(),
            report["already_imported"].as_u64()
        ),
        (Some(0), Some(100_000))
    );

    let ledger = Ledger::open_existing(&db).unwrap();
    for (id, e) in &expected {
        check_member(&ledger, id, e);
    }
    let snapshot = Snapshot::as_of(&ledger, None).unwrap();
    assert_eq!(snapshot.trial_balance_total(), 0);
    let equity: i128 = snapshot
        .accounts()
        .iter()
        .filter(|(a, _)| a.to_string().starts_with("Equity:OpeningBalances:"))
        .map(|(_, c)| *c)
        .sum();
    let want: i64 = expected
        .values()
        .map(|e| {
            e.principal.iter().map(|p| p.0).sum::<i64>()
                + e.bonus.iter().map(|b| b.0).sum::<i64>()
                + e.packages.iter().map(|p| p.0 * i64::from(p.1)).sum::<i64>()
        })
        .sum();
    assert_eq!(
        equity,
        i128::from(want),
        "the opening equity is everything carried over"
    );
    check_exports(&ledger);
    assert!(ledger.verify().unwrap().ok());
}

const MALFORMED: &str =
    "member,home_store,tier,kind,amount,points,sessions,service,origin_store,expires_at
M1,S1,,principal,100.00,,,,,
M2,S1,,principal,100.001,,,,,
M2,S1,,bonus,5.00,,,,,2026-06-01T00:00:00Z
M3,S1,,bonus,5.00,,,,,2026-06-01T00:00:00Z
M3,S1,,coupon,5.00,,,,,
M4,S1,,principal,1.00,,,
M5,S1,gold,principal,1.00,,,,,
M5,S2,gold,principal,1.00,,,,,
M6,S1,,bonus,5.00,,,,,2025-06-01T00:00:00Z
M7,S1,,member,,,,,,
";

#[test]
fn a_malformed_row_is_refused_with_its_line_and_code_and_records_nothing_of_its_member() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    assert!(run(&db, &["init"]).status.success());
    let file = dir.path().join("members.csv");
    std::fs::write(&file, MALFORMED).unwrap();
    let file = file.to_str().unwrap();
    let dry = run(&db, &["import", file, "--as-of", AS_OF, "--dry-run"]);
    let out = run(&db, &["import", file, "--as-of", AS_OF]);
    assert_eq!(
        stdout(&dry).replace("would import", "imported"),
        stdout(&out)
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = stdout(&out);
    for want in [
        r#"line 3: member "M2": invalid_amount"#,
        r#"line 6: member "M3": unknown_kind"#,
        r#"line 7: member "M4": malformed_row"#,
        r#"line 9: member "M5": inconsistent_member"#,
        r#"line 10: member "M6": invalid_command"#,
        "imported 2 members, 0 already imported, 5 refused",
    ] {
        assert!(text.contains(want), "{want} in\n{text}");
    }
    let ledger = Ledger::open_existing(&db).unwrap();
    for (m, there) in [
        ("M1", true),
        ("M2", false),
        ("M3", false),
        ("M4", false),
        ("M5", false),
        ("M6", false),
        ("M7", true),
    ] {
        assert_eq!(
            ledger.member(&MemberId::new(m).unwrap()).is_some(),
            there,
            "{m}"
        );
    }
}

#[test]
fn a_jsonl_file_imports_one_member_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    assert!(run(&db, &["init"]).status.success());
    let file = dir.path().join("members.jsonl");
    std::fs::write(&file, r#"{"member":"M1","home_store":"S1","tier":"gold","principal":[{"amount":"500.00"}],"bonus":[{"amount":"40.00","expires_at":"2026-09-30T00:00:00Z"}],"points":[{"points":1200,"expires_at":"2026-12-31T00:00:00Z"}],"packages":[{"service":"facial","sessions":4,"session_price":"80.00","origin_store":"S2"}]}
{"member":"M2","home_store":"S1","colour":"red"}
"#).unwrap();
    let out = run(&db, &["import", file.to_str().unwrap(), "--as-of", AS_OF]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(r#"line 2: member "M2": malformed_row"#),
        "{text}"
    );
    let ledger = Ledger::open_existing(&db).unwrap();
    let v = ledger.member(&MemberId::new("M1").unwrap()).unwrap();
    assert_eq!(
        (
            v.principal.to_string(),
            v.points,
            v.package_value.to_string()
        ),
        ("500.00".into(), 1200, "320.00".into())
    );
}

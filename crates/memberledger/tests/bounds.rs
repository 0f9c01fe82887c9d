//! Issue 11 item 1: every figure an event can record is bounded when it is decided, by the
//! same bound the decoder checks, so no accepted command leaves a ledger that cannot be read.
// Without the `sled` feature only the tests of a ledger in memory run.
#![cfg_attr(not(feature = "sled"), allow(dead_code, unused_imports))]

use memberledger::{Command, Ledger, MemberId, Policy};

/// Every recharge of 99999999.99 gives ten times its amount in bonus.
const TENFOLD: &str = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}],
  "recharge_bonus":[{"min":"0.01","bonus_rate":"10"}]}"#;

fn cmd(n: u64, rest: &str) -> Command {
    let line = format!(
        r#"{{"id":"00000000-0000-4000-8000-{n:012}","at":"2026-03-01T10:00:00Z","store":"S1",{rest}}}"#
    );
    Command::from_json(&line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn recharges(from: u64, count: u64) -> Vec<Command> {
    (from..from + count)
        .map(|n| {
            cmd(
                n,
                r#""type":"recharge","member":"M1","amount":"99999999.99""#,
            )
        })
        .collect()
}

#[cfg(feature = "sled")]
#[test]
fn recharge_refused_when_a_balance_would_exceed_the_recorded_bound() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let ledger = Ledger::create(&path, Policy::from_json(TENFOLD).unwrap()).unwrap();
    ledger
        .execute(&cmd(1, r#""type":"enroll","member":"M1""#))
        .unwrap();
    // 1,000 recharges bring the bonus to 999999999900.00, just inside the bound.
    for r in ledger.execute_batch(&recharges(2, 1000)) {
        r.unwrap();
    }
    let m1 = MemberId::new("M1").unwrap();
    let before = ledger.member(&m1).unwrap();
    assert_eq!(before.bonus.to_string(), "999999999900.00");
    // The 1,001st would take it past: refused, naming the figure and the bound.
    let refused = ledger.execute(&recharges(1002, 1)[0]).unwrap_err();
    assert_eq!(refused.code(), "limit_exceeded", "{refused}");
    let msg = refused.to_string();
    assert!(
        msg.contains("bonus balance") && msg.contains("999999999999.99"),
        "{msg}"
    );
    assert_eq!(ledger.member(&m1).unwrap(), before, "nothing recorded");
    // The balance refund records every figure it holds, and the ledger still reads back.
    ledger
        .execute(&cmd(1003, r#""type":"refund_balance","member":"M1""#))
        .unwrap();
    assert!(ledger.verify().unwrap().ok());
    drop(ledger);
    let reopened = Ledger::open_existing(&path).unwrap();
    assert!(reopened.verify().unwrap().ok());
    assert!(reopened.member(&m1).unwrap().principal.is_zero());
}

/// Ten times the recharge in bonus, and a hundred points a yuan: figures grow fast.
const STEEP: &str = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"100"}],
  "recharge_bonus":[{"min":"0.01","bonus_rate":"10"}],"bonus_expiry_days":null}"#;

/// One command of a random sequence near the bounds: what, by whom, how much.
fn near_the_bounds(n: u64, op: u8, member: u8, cents: i64, minute: u64, pick: u64) -> Command {
    let amount = memberledger::Money::from_cents(cents);
    let m = format!("M{member}");
    let store = if pick % 2 == 0 { "S1" } else { "S2" };
    let package = format!("00000000-0000-4000-8000-{:012}", pick % n.max(1) + 1);
    let rest = match op {
        0 | 1 => format!(r#""type":"recharge","member":"{m}","amount":"{amount}""#),
        2 => format!(r#""type":"consume","member":"{m}","amount":"{amount}""#),
        3 => format!(r#""type":"grant_bonus","member":"{m}","amount":"{amount}","reason":"x""#),
        4 => format!(
            r#""type":"adjust","member":"{m}","balance":"principal","direction":"credit","amount":"{amount}","reason":"x","operator":"E1""#
        ),
        5 => format!(
            r#""type":"adjust","member":"{m}","balance":"points","direction":"credit","points":1000000000,"reason":"x","operator":"E1""#
        ),
        6 => format!(
            r#""type":"purchase_package","member":"{m}","service":"spa","sessions":{},"amount":"{amount}","paid_from":"balance""#,
            pick % 5 + 1
        ),
        7 => format!(r#""type":"redeem_session","member":"{m}","package":"{package}""#),
        8 => format!(r#""type":"refund_package","member":"{m}","package":"{package}""#),
        9 => format!(r#""type":"refund_balance","member":"{m}""#),
        10 => format!(r#""type":"redeem_points","member":"{m}","points":1000000000"#),
        _ => r#""type":"settle","to":"S2""#.to_owned(),
    };
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z").unwrap()
        + chrono::Duration::minutes(i64::try_from(minute).unwrap());
    let line = format!(
        r#"{{"id":"00000000-0000-4000-8000-{n:012}","at":"{}","store":"{store}",{rest}}}"#,
        at.to_utc().format("%Y-%m-%dT%H:%M:%SZ")
    );
    Command::from_json(&line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(8))]

    /// Random sequences of large commands, from members already near the bound, never leave
    /// a log that fails to decode or replay: whatever would pass the bound is refused.
    #[test]
    fn random_sequences_near_the_bounds_always_read_back(
        ops in proptest::collection::vec(
            (0u8..12, 0u8..2, 9_000_000_000i64..=9_999_999_999, 0u64..1000),
            40,
        )
    ) {
        let ledger = Ledger::in_memory_with(Policy::from_json(STEEP).unwrap());
        let mut start = vec![
            cmd(1, r#""type":"enroll","member":"M0""#),
            cmd(2, r#""type":"enroll","member":"M1""#),
        ];
        // M0 starts 999 recharges in: its bonus one recharge short of the bound.
        start.extend((3..1002).map(|n| cmd(n, r#""type":"recharge","member":"M0","amount":"99999999.99""#)));
        for r in ledger.execute_batch(&start) {
            r.unwrap();
        }
        let mut limited = 0;
        for (i, (op, member, cents, pick)) in ops.into_iter().enumerate() {
            let n = 1000 + u64::try_from(i).unwrap();
            let c = near_the_bounds(n, op, member, cents, n, pick);
            if let Err(e) = ledger.execute(&c) {
                proptest::prop_assert!(
                    !matches!(e.code(), "corrupt" | "storage" | "concurrency_conflict"),
                    "{e}"
                );
                limited += usize::from(e.code() == "limit_exceeded");
            }
        }
        // Each member's balance refund records its every figure: it must be decodable too.
        for (n, member) in [(5000, 0), (5001, 1)] {
            let _ = ledger.execute(&near_the_bounds(n, 9, member, 1, n, 0));
        }
        for rec in ledger.events(1, 4096) {
            proptest::prop_assert!(rec.is_ok(), "{rec:?}");
            let rec = rec.unwrap();
            let json = memberledger_core::canonical_json(rec.position, &rec.event);
            let decoded = memberledger_core::decode_event(json.as_bytes());
            proptest::prop_assert!(decoded.is_ok(), "{json}: {decoded:?}");
        }
        let report = ledger.verify().unwrap();
        proptest::prop_assert!(report.ok(), "{:?} after {limited} refusals", report.problem);
    }
}

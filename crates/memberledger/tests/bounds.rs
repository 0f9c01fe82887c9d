//! Issue 11 item 1: every figure an event can record is bounded when it is decided, by the
//! same bound the decoder checks, so no accepted command leaves a ledger that cannot be read.

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

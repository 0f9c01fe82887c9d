//! The host's clock (issue 11, item 9): one far-future date must never lock a member out.

use memberledger::{Clock, Command, Ledger, MemberId, Timestamp, Uuid};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn cmd(n: u128, at: &str, rest: &str) -> Command {
    Command::from_json(&format!(
        r#"{{"id":"{}","at":"{at}","member":"M1","store":"S1",{rest}}}"#,
        Uuid::from_u128(0x8b0e_4f2a_0000_4000_8000_0000_0000_0000 | n)
    ))
    .unwrap()
}

/// A ledger whose clock reads 2026-03-01T12:00:00Z, with M1 enrolled and holding 1,000.00.
fn ledger() -> Ledger {
    let l = Ledger::in_memory();
    l.set_clock(Clock::fixed(t("2026-03-01T12:00:00Z")));
    l.execute(&cmd(1, "2026-03-01T10:00:00Z", r#""type":"enroll""#))
        .unwrap();
    l.execute(&cmd(
        2,
        "2026-03-01T10:05:00Z",
        r#""type":"recharge","amount":"1000.00""#,
    ))
    .unwrap();
    l
}

#[test]
fn a_command_dated_beyond_the_clock_skew_is_refused_and_locks_no_one_out() {
    let l = ledger();
    let version = l.member(&MemberId::new("M1").unwrap()).unwrap().version;
    let far = cmd(
        3,
        "9999-12-31T23:59:59Z",
        r#""type":"consume","amount":"10.00""#,
    );
    let e = l.execute(&far).unwrap_err();
    assert_eq!(e.code(), "future_time", "{e}");
    assert!(e.to_string().contains("ahead of the ledger's clock"), "{e}");
    let m1 = l.member(&MemberId::new("M1").unwrap()).unwrap();
    assert_eq!(m1.version, version, "nothing recorded");
    // The next command at the real time is not `out_of_order`.
    l.execute(&cmd(
        4,
        "2026-03-01T12:00:00Z",
        r#""type":"consume","amount":"10.00""#,
    ))
    .unwrap();
    assert!(l.verify().unwrap().ok());
}

#[test]
fn a_command_within_the_skew_is_accepted_and_the_skew_is_configurable() {
    let l = ledger();
    l.execute(&cmd(
        3,
        "2026-03-01T12:59:00Z",
        r#""type":"consume","amount":"10.00""#,
    ))
    .unwrap();
    l.set_clock(Clock::fixed(t("2026-03-01T12:00:00Z")).with_max_skew_secs(0));
    let e = l
        .execute(&cmd(
            4,
            "2026-03-01T13:00:00Z",
            r#""type":"consume","amount":"10.00""#,
        ))
        .unwrap_err();
    assert_eq!(e.code(), "future_time");
}

#[test]
fn an_expiry_sweep_dated_beyond_the_clock_is_refused_before_touching_a_member() {
    let l = ledger();
    l.execute(&cmd(
        3,
        "2026-03-01T11:00:00Z",
        r#""type":"grant_bonus","amount":"30.00","reason":"w","expires_at":"2026-03-01T11:30:00Z""#,
    ))
    .unwrap();
    let swept = l.expire_due(t("9999-12-31T23:59:59Z"));
    assert_eq!(swept.len(), 1);
    assert_eq!(swept[0].as_ref().unwrap_err().code(), "future_time");
    // The sweep at a sound date still runs, and the member still takes commands.
    let swept = l.expire_due(t("2026-03-01T12:00:00Z"));
    assert_eq!(swept.len(), 1);
    assert!(swept[0].is_ok());
}

#[test]
fn a_retry_of_a_recorded_command_is_answered_whatever_the_clock_reads() {
    let l = ledger();
    l.set_clock(Clock::unbounded());
    let late = cmd(
        3,
        "2027-06-01T10:00:00Z",
        r#""type":"consume","amount":"10.00""#,
    );
    let first = l.execute(&late).unwrap();
    l.set_clock(Clock::fixed(t("2026-03-01T12:00:00Z")));
    let again = l.execute(&late).unwrap();
    assert!(again.replayed);
    assert_eq!(again.events, first.events);
}

#[test]
fn a_batch_refuses_only_its_commands_dated_too_far_ahead() {
    let l = ledger();
    let batch = [
        cmd(
            3,
            "2026-03-01T12:00:00Z",
            r#""type":"consume","amount":"10.00""#,
        ),
        cmd(
            4,
            "2031-01-01T00:00:00Z",
            r#""type":"consume","amount":"10.00""#,
        ),
        cmd(
            5,
            "2026-03-01T12:00:01Z",
            r#""type":"consume","amount":"10.00""#,
        ),
    ];
    let results = l.execute_batch(&batch);
    assert!(results[0].is_ok());
    assert_eq!(results[1].as_ref().unwrap_err().code(), "future_time");
    assert!(results[2].is_ok());
}

#[test]
fn a_large_batch_decided_member_by_member_refuses_the_same_commands() {
    let l = ledger();
    // Large enough to be decided by member on every core: each far-future command is refused
    // there too, and its member's later commands are recorded.
    let batch: Vec<Command> = (0..200u32)
        .map(|i| {
            let at = if i % 50 == 7 {
                "2030-01-01T00:00:00Z".to_owned()
            } else {
                format!("2026-03-01T11:{:02}:{:02}Z", i / 60, i % 60)
            };
            cmd(
                100 + u128::from(i),
                &at,
                r#""type":"consume","amount":"1.00""#,
            )
        })
        .collect();
    let results = l.execute_batch(&batch);
    for (i, r) in results.iter().enumerate() {
        if i % 50 == 7 {
            assert_eq!(r.as_ref().unwrap_err().code(), "future_time", "#{i}");
        } else {
            assert!(r.is_ok(), "#{i}: {r:?}");
        }
    }
}

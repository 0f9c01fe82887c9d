//! A worked member statement (对账单) under the built-in policy, every figure by hand:
//!
//! | when | what | principal | bonus | points |
//! |---|---|---|---|---|
//! | 03-01 10:00 | card opened at S1 | 0.00 | 0.00 | 0 |
//! | 03-01 10:05 | recharge 1000.00 at S1 | +1000.00 → 1000.00 | | |
//! | 03-01 10:05 | recharge bonus (rule 1000 → 150) | | +150.00 → 150.00 | |
//! | 03-02 15:00 | consume 300.00 at S2: bonus part round(300 × 150 / 1150) = 39.13 | −260.87 → 739.13 | −39.13 → 110.87 | +260 → 260 |
//! | 03-05 12:00 | refund 100.00 of it: bonus round(100 × 39.13 / 300) = 13.04; points floor(260 × 86.96 / 260.87) = 86 | +86.96 → 826.09 | +13.04 → 123.91 | −86 → 174 |
//! | 03-10 09:00 | birthday bonus 50.00, expires 04-01 | | +50.00 → 173.91 | |
//! | 04-15 10:00 | the birthday bonus expired (recorded before the next command) | | −50.00 → 123.91 | |
//! | 04-15 10:00 | consume 100.00 at S1: bonus round(100 × 123.91 / 950) = 13.04 | −86.96 → 739.13 | −13.04 → 110.87 | +86 → 260 |

use memberledger::domain::Account;
use memberledger::{Command, Ledger, MemberId, StoreId, Timestamp};
use memberledger_audit::{statement, Snapshot, Statement};

const CONSUME: &str = "00000000-0000-4000-8000-000000000003";

fn ledger() -> Ledger {
    let ledger = Ledger::in_memory();
    for line in [
        r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#.to_owned(),
        r#"{"id":"00000000-0000-4000-8000-000000000002","at":"2026-03-01T10:05:00Z","type":"recharge","member":"M1","store":"S1","amount":"1000.00","staff":"E7"}"#.to_owned(),
        format!(r#"{{"id":"{CONSUME}","at":"2026-03-02T15:00:00Z","type":"consume","member":"M1","store":"S2","amount":"300.00","staff":"E9","service":"facial"}}"#),
        format!(r#"{{"id":"00000000-0000-4000-8000-000000000004","at":"2026-03-05T12:00:00Z","type":"refund_consumption","member":"M1","store":"S2","consumption":"{CONSUME}","amount":"100.00"}}"#),
        r#"{"id":"00000000-0000-4000-8000-000000000005","at":"2026-03-10T09:00:00Z","type":"grant_bonus","member":"M1","store":"S1","amount":"50.00","reason":"birthday","expires_at":"2026-04-01T00:00:00Z"}"#.to_owned(),
        r#"{"id":"00000000-0000-4000-8000-000000000006","at":"2026-04-15T10:00:00Z","type":"consume","member":"M1","store":"S1","amount":"100.00","service":"massage"}"#.to_owned(),
        // Another member, so the statement has to pick M1's events out of the log.
        r#"{"id":"00000000-0000-4000-8000-000000000007","at":"2026-03-03T10:00:00Z","type":"enroll","member":"M2","store":"S2"}"#.to_owned(),
        r#"{"id":"00000000-0000-4000-8000-000000000008","at":"2026-03-03T10:01:00Z","type":"recharge","member":"M2","store":"S2","amount":"500.00"}"#.to_owned(),
    ] {
        let command = Command::from_json(&line).expect("a valid command");
        ledger.execute(&command).expect("the command goes through");
    }
    ledger
}

fn m1() -> MemberId {
    MemberId::new("M1").expect("valid id")
}

fn t(s: &str) -> Timestamp {
    s.parse().expect("a time")
}

/// (kind, store, principal change, bonus change, points change, principal, bonus, points).
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    &'static str,
    &'static str,
    u64,
);

#[rustfmt::skip]
const ALL: [Row; 8] = [
    ("member_enrolled",      "S1", "0.00",    "0.00",   0,   "0.00",    "0.00",   0),
    ("recharged",            "S1", "1000.00", "0.00",   0,   "1000.00", "0.00",   0),
    ("bonus_granted",        "S1", "0.00",    "150.00", 0,   "1000.00", "150.00", 0),
    ("consumed",             "S2", "-260.87", "-39.13", 260, "739.13",  "110.87", 260),
    ("consumption_refunded", "S2", "86.96",   "13.04",  -86, "826.09",  "123.91", 174),
    ("bonus_granted",        "S1", "0.00",    "50.00",  0,   "826.09",  "173.91", 174),
    ("bonus_expired",        "S1", "0.00",    "-50.00", 0,   "826.09",  "123.91", 174),
    ("consumed",             "S1", "-86.96",  "-13.04", 86,  "739.13",  "110.87", 260),
];

fn check_lines(st: &Statement, rows: &[Row]) {
    assert_eq!(st.lines.len(), rows.len(), "lines: {:#?}", st.lines);
    for (l, want) in st.lines.iter().zip(rows) {
        let got = (
            l.kind,
            l.store.as_str(),
            l.principal_change.to_string(),
            l.bonus_change.to_string(),
            l.points_change,
            l.balance.principal.to_string(),
            l.balance.bonus.to_string(),
            l.balance.points,
        );
        let want = (
            want.0,
            want.1,
            want.2.to_owned(),
            want.3.to_owned(),
            want.4,
            want.5.to_owned(),
            want.6.to_owned(),
            want.7,
        );
        assert_eq!(got, want, "{l:#?}");
    }
    // Positions increase along the log (M2's events sit between M1's).
    assert!(st.lines.windows(2).all(|w| w[0].position < w[1].position));
    assert!(st.lines.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn the_whole_history() {
    let ledger = ledger();
    let st = statement(&ledger, &m1(), None, None)
        .expect("statement")
        .expect("M1 has events");
    assert_eq!(st.member, m1());
    assert_eq!((st.from, st.to), (None, None));
    assert_eq!(st.opening.principal.to_string(), "0.00");
    assert_eq!(st.opening.bonus.to_string(), "0.00");
    assert_eq!(st.opening.points, 0);
    assert_eq!(st.opening.tier, "", "no card before the first event");
    check_lines(&st, &ALL);
    assert_eq!(st.closing.principal.to_string(), "739.13");
    assert_eq!(st.closing.bonus.to_string(), "110.87");
    assert_eq!(st.closing.points, 260);
    assert_eq!(st.closing.tier, "standard");
    assert_eq!(st.lines.last().map(|l| &l.balance), Some(&st.closing));

    // Descriptions name the figures.
    let text: Vec<&str> = st.lines.iter().map(|l| l.description.as_str()).collect();
    assert!(text[1].contains("1000.00"), "{text:?}");
    assert!(
        text[3].contains("facial") && text[3].contains("300.00"),
        "{text:?}"
    );
    assert!(
        text[4].contains("100.00") && text[4].contains(CONSUME),
        "{text:?}"
    );
    assert!(
        text[5].contains("birthday") && text[5].contains("2026-04-01"),
        "{text:?}"
    );
    assert!(
        text[6].contains("50.00") && text[6].contains("expired"),
        "{text:?}"
    );

    // The statement agrees with the live member and with the books.
    let live = ledger.member(&m1()).expect("M1");
    assert_eq!(
        (live.principal, live.bonus, live.points),
        (st.closing.principal, st.closing.bonus, st.closing.points)
    );
    let books = Snapshot::as_of(&ledger, None).expect("snapshot");
    assert_eq!(books.balance(&Account::Principal(m1())), -73_913);
    assert_eq!(books.balance(&Account::Bonus(m1())), -11_087);
    let s1 = StoreId::new("S1").expect("id");
    assert_eq!(
        books.balance(&Account::Breakage(s1.clone())),
        -5_000,
        "the expired 50.00"
    );
    assert_eq!(
        books.balance(&Account::Promotion(s1)),
        20_000,
        "150.00 + 50.00 granted at S1"
    );
}

#[test]
fn a_period_opens_with_the_balances_before_it() {
    let ledger = ledger();
    // From the refund to the end of March: opens after the first consumption.
    let st = statement(
        &ledger,
        &m1(),
        Some(t("2026-03-03T00:00:00Z")),
        Some(t("2026-03-31T23:59:59Z")),
    )
    .expect("statement")
    .expect("M1 has events");
    assert_eq!(st.opening.principal.to_string(), "739.13");
    assert_eq!(st.opening.bonus.to_string(), "110.87");
    assert_eq!(st.opening.points, 260);
    assert_eq!(st.opening.tier, "standard");
    check_lines(&st, &ALL[4..6]);
    assert_eq!(st.closing.principal.to_string(), "826.09");
    assert_eq!(st.closing.bonus.to_string(), "173.91");
    assert_eq!(st.closing.points, 174);

    // Both ends are inclusive: a period of exactly the consumption's instant.
    let at = t("2026-03-02T15:00:00Z");
    let st = statement(&ledger, &m1(), Some(at), Some(at))
        .expect("statement")
        .expect("M1");
    check_lines(&st, &ALL[3..4]);
    assert_eq!(st.opening.principal.to_string(), "1000.00");
    assert_eq!(st.opening.bonus.to_string(), "150.00");
    assert_eq!(st.closing.principal.to_string(), "739.13");

    // From April: the birthday bonus is past its expiry but its expiry is only recorded with
    // the next command (04-15), so April opens with it still held.
    let st = statement(&ledger, &m1(), Some(t("2026-04-01T00:00:00Z")), None)
        .expect("statement")
        .expect("M1");
    assert_eq!(st.opening.bonus.to_string(), "173.91");
    assert_eq!(st.opening.principal.to_string(), "826.09");
    check_lines(&st, &ALL[6..]);
    assert_eq!(st.closing.bonus.to_string(), "110.87");

    // A period with no movement opens and closes with the same balances.
    let st = statement(
        &ledger,
        &m1(),
        Some(t("2026-03-20T00:00:00Z")),
        Some(t("2026-03-31T00:00:00Z")),
    )
    .expect("statement")
    .expect("M1");
    assert!(st.lines.is_empty(), "{:#?}", st.lines);
    assert_eq!(st.opening, st.closing);
    assert_eq!(st.opening.bonus.to_string(), "173.91");

    // Up to a time before the card existed: nothing held.
    let st = statement(&ledger, &m1(), None, Some(t("2026-02-01T00:00:00Z")))
        .expect("statement")
        .expect("M1");
    assert!(st.lines.is_empty());
    assert_eq!(st.closing.principal.to_string(), "0.00");
    assert_eq!(st.closing.tier, "");
}

#[test]
fn the_period_figures_match_the_books_as_of_its_end() {
    let ledger = ledger();
    let end = t("2026-03-31T23:59:59Z");
    let st = statement(&ledger, &m1(), None, Some(end))
        .expect("statement")
        .expect("M1");
    let books = Snapshot::as_of(&ledger, Some(end)).expect("snapshot");
    assert_eq!(
        -books.balance(&Account::Principal(m1())),
        i128::from(st.closing.principal.cents())
    );
    assert_eq!(
        -books.balance(&Account::Bonus(m1())),
        i128::from(st.closing.bonus.cents())
    );
    assert_eq!(st.closing.bonus.to_string(), "173.91");
}

#[test]
fn no_statement_for_a_member_without_a_card() {
    let ledger = ledger();
    let nobody = MemberId::new("M404").expect("valid id");
    assert!(statement(&ledger, &nobody, None, None)
        .expect("statement")
        .is_none());
}

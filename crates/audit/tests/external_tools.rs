//! The exports checked by tools we did not write: hledger (1.25) and beancount (2.3.5) read
//! the journal of a realistic generated ledger, verify its closing balance assertions
//! themselves, and report balances that must equal our snapshot to the cent; the CSV export is
//! summed per account and per event. Each tool test is also shown able to fail: one assertion
//! or balance directive made wrong by a cent must make the tool refuse the file.
//!
//! A missing tool skips its test with a note on stderr, unless `MEMBERLEDGER_REQUIRE_TOOLS=1`
//! (CI), where it fails the test.

// Test scenarios read top to bottom, one step after another: no line limit here.
#![allow(clippy::too_many_lines)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use memberledger::domain::{format_cents, postings, Account};
use memberledger::{MemberId, StoreId, Timestamp};
use memberledger_audit::{
    bean_account, bean_component, bean_component_to_id, export, Format, Snapshot,
};

use common::{parse_cents, Realistic};

/// The generated ledger every test here exports: 30 members, 4 stores, 700 commands over
/// some 400 days. Built once.
fn chain() -> &'static Realistic {
    static CHAIN: OnceLock<Realistic> = OnceLock::new();
    CHAIN.get_or_init(|| {
        let r = common::realistic(20_260_301, 30, 4, 700);
        // The ledger must exercise what the exports have to carry, or these tests prove little.
        let o = &r.outcome;
        for kind in [
            "member_enrolled",
            "recharged",
            "bonus_granted",
            "bonus_expired",
            "consumed",
            "consumption_refunded",
            "balance_refunded",
            "tier_changed",
        ] {
            assert!(
                o.events.get(kind).copied().unwrap_or(0) >= 3,
                "the generator recorded too few {kind}: {o:#?}"
            );
        }
        assert!(
            o.cross_store >= 20,
            "too few cross-store consumptions: {o:#?}"
        );
        assert!(o.partial_refunds >= 5 && o.full_refunds >= 5, "{o:#?}");
        assert!(
            o.forfeited >= 1,
            "no refund met an expired bonus lot: {o:#?}"
        );
        assert!(
            o.clawbacks >= 1,
            "no balance refund clawed back bonus: {o:#?}"
        );
        assert!(
            o.accepted * 10 >= r.lines.len() * 9,
            "most generated commands should go through: {o:#?}"
        );
        r
    })
}

/// Whether `tool` can be run (`tool --version` succeeds). When it cannot: with
/// `MEMBERLEDGER_REQUIRE_TOOLS=1` this panics, so CI cannot pass without really running it;
/// otherwise it says so on stderr and returns false, and the caller returns early.
fn have_tool(tool: &str) -> bool {
    let runs = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if runs {
        return true;
    }
    if std::env::var("MEMBERLEDGER_REQUIRE_TOOLS").is_ok_and(|v| v.trim() == "1") {
        panic!(
            "`{tool}` is required (MEMBERLEDGER_REQUIRE_TOOLS=1) but `{tool} --version` cannot be \
             run; install it (Debian: apt-get install hledger beancount)"
        );
    }
    eprintln!(
        "note: `{tool}` is not installed; skipping this check (set MEMBERLEDGER_REQUIRE_TOOLS=1 \
         to make that a failure)"
    );
    false
}

/// Runs a tool, returning its output (whatever the exit status).
fn run(tool: &str, args: &[&str]) -> Output {
    Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} {args:?}: {e}"))
}

/// Runs a tool that must succeed; returns its stdout.
fn run_ok(tool: &str, args: &[&str]) -> String {
    let out = run(tool, args);
    assert!(
        out.status.success(),
        "{tool} {args:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tool output is UTF-8")
}

fn export_to(dir: &Path, name: &str, format: Format) -> PathBuf {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).expect("create the export file");
    let n = export(&chain().ledger, format, &mut file).expect("export");
    assert!(n > 700, "the export read {n} events");
    path
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// The snapshot's non-zero balances by account name, as the tools print them.
fn expected_balances(s: &Snapshot) -> BTreeMap<String, String> {
    s.accounts()
        .iter()
        .filter(|(_, c)| **c != 0)
        .map(|(a, c)| (a.to_string(), format!("{} CNY", format_cents(*c))))
        .collect()
}

/// Fields of one CSV line as hledger writes it (every field quoted, no quotes inside).
fn csv_fields(line: &str) -> Vec<String> {
    line.split(',')
        .map(|f| f.trim().trim_matches('"').to_owned())
        .collect()
}

/// `hledger bal -O csv` rows, account → amount text, and the total row if any.
fn hledger_balances(csv: &str) -> (BTreeMap<String, String>, Option<String>) {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().map(csv_fields),
        Some(vec!["account".to_owned(), "balance".to_owned()]),
        "hledger's CSV header:\n{csv}"
    );
    let mut rows = BTreeMap::new();
    let mut total = None;
    for l in lines.filter(|l| !l.trim().is_empty()) {
        let f = csv_fields(l);
        assert_eq!(f.len(), 2, "hledger CSV row {l:?}");
        if f[0] == "total" {
            total = Some(f[1].clone());
        } else {
            assert!(
                rows.insert(f[0].clone(), f[1].clone()).is_none(),
                "{} twice",
                f[0]
            );
        }
    }
    (rows, total)
}

fn member(id: &str) -> MemberId {
    MemberId::new(id).expect("valid member id")
}

fn store(id: &str) -> StoreId {
    StoreId::new(id).expect("valid store id")
}

/// Every member's principal and bonus account and every store's own accounts, as the tool
/// reports them, equal the snapshot (an account the tool does not list has a zero balance).
fn check_named_accounts(tool: &str, got: &BTreeMap<String, String>, s: &Snapshot) {
    let r = chain();
    let mut accounts: Vec<Account> = Vec::new();
    for m in &r.members {
        accounts.push(Account::Principal(member(m)));
        accounts.push(Account::Bonus(member(m)));
    }
    for st in &r.stores {
        let st = store(st);
        accounts.extend([
            Account::Cash(st.clone()),
            Account::Services(st.clone()),
            Account::Promotion(st.clone()),
            Account::Breakage(st.clone()),
            Account::Clawback(st.clone()),
        ]);
        for other in &r.stores {
            let other = store(other);
            if other != st {
                accounts.push(Account::InterStoreReceivable {
                    creditor: st.clone(),
                    debtor: other.clone(),
                });
                accounts.push(Account::InterStorePayable {
                    debtor: st.clone(),
                    creditor: other,
                });
            }
        }
    }
    let mut non_zero = 0;
    for a in &accounts {
        let want = i64::try_from(s.balance(a)).unwrap();
        let shown = got.get(&a.to_string()).map_or(Some(0), |t| {
            parse_cents(t.strip_suffix(" CNY").unwrap_or(t))
        });
        assert_eq!(
            shown,
            Some(want),
            "{tool} shows {a} as {:?}",
            got.get(&a.to_string())
        );
        non_zero += usize::from(want != 0);
    }
    assert!(
        non_zero > r.members.len(),
        "only {non_zero} of these accounts hold anything"
    );
}

#[test]
fn hledger_reads_the_journal_checks_its_assertions_and_agrees_with_the_snapshot() {
    if !have_tool("hledger") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let journal = export_to(dir.path(), "ledger.journal", Format::Hledger);
    let file = path_str(&journal);
    let snapshot = Snapshot::as_of(&chain().ledger, None).expect("snapshot");
    assert_eq!(snapshot.trial_balance_total(), 0);

    // `check` parses, balances every transaction and checks every balance assertion.
    run_ok("hledger", &["-f", file, "check"]);

    // Balances (assertions are checked by default here too).
    let csv = run_ok(
        "hledger",
        &["-f", file, "bal", "--flat", "--no-total", "-O", "csv"],
    );
    let (got, total) = hledger_balances(&csv);
    assert_eq!(total, None, "--no-total still printed a total");
    assert_eq!(
        got,
        expected_balances(&snapshot),
        "hledger's balances differ"
    );
    check_named_accounts("hledger", &got, &snapshot);

    // The whole brand balances: hledger's own total is zero.
    let csv = run_ok("hledger", &["-f", file, "bal", "--flat", "-O", "csv"]);
    let (_, total) = hledger_balances(&csv);
    let total = total.expect("hledger prints a total row");
    assert_eq!(
        parse_cents(total.strip_suffix(" CNY").unwrap_or(&total)),
        Some(0),
        "hledger's total is {total}"
    );

    // Mid-period: hledger's balances before a date equal our snapshot as of the last instant
    // before it (the journal's dates are the events' UTC dates).
    let t: Timestamp = "2025-06-30T23:59:59Z".parse().expect("a time");
    let mid = Snapshot::as_of(&chain().ledger, Some(t)).expect("snapshot");
    assert!(
        mid.events > 100 && mid.events < snapshot.events,
        "{}",
        mid.events
    );
    let csv = run_ok(
        "hledger",
        &[
            "-f",
            file,
            "bal",
            "--flat",
            "--no-total",
            "-O",
            "csv",
            "-e",
            "2025-07-01",
        ],
    );
    assert_eq!(
        hledger_balances(&csv).0,
        expected_balances(&mid),
        "hledger's balances before 2025-07-01 differ from the snapshot as of {t}"
    );
}

/// `hledger check --strict` also requires every account and commodity to be declared: the
/// journal declares the commodity (with its two-decimal format) and each account before its
/// first use (issue 11, item 13).
#[test]
fn hledger_check_strict_passes_with_every_account_and_the_commodity_declared() {
    if !have_tool("hledger") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let journal = export_to(dir.path(), "ledger.journal", Format::Hledger);
    run_ok("hledger", &["-f", path_str(&journal), "check", "--strict"]);
    let text = std::fs::read_to_string(&journal).expect("the journal reads");
    assert!(text.contains("\ncommodity 1000.00 CNY\n"));
    // One declaration per account, no more.
    let declared = text.lines().filter(|l| l.starts_with("account ")).count();
    let used: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("    "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(declared, used.len());
}

#[test]
fn hledger_refuses_a_journal_with_one_wrong_assertion() {
    if !have_tool("hledger") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let journal = export_to(dir.path(), "ledger.journal", Format::Hledger);
    let text = std::fs::read_to_string(&journal).expect("read the journal");
    run_ok("hledger", &["-f", path_str(&journal), "check"]);

    // Change one closing assertion of a member's bonus by one cent.
    let mut changed = None;
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            if changed.is_none() && l.trim_start().starts_with("Liabilities:Bonus:") {
                if let Some((head, tail)) = l.split_once(" = ") {
                    let asserted = tail.strip_suffix(" CNY").expect("amount with commodity");
                    let cents = parse_cents(asserted).expect("asserted amount");
                    changed = Some(l.trim().to_owned());
                    return format!("{head} = {} CNY", format_cents(cents + 1));
                }
            }
            l.to_owned()
        })
        .collect();
    let changed = changed.expect("the journal asserts every bonus account");
    let bad = dir.path().join("bad.journal");
    std::fs::write(&bad, lines.join("\n") + "\n").expect("write the copy");

    for args in [
        vec!["-f", path_str(&bad), "check"],
        vec!["-f", path_str(&bad), "bal", "--flat", "-O", "csv"],
    ] {
        let out = run("hledger", &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "hledger {args:?} accepted a wrong assertion (was: {changed})"
        );
        assert!(
            stderr.contains("balance assertion") && stderr.contains("difference: 0.01"),
            "hledger {args:?} failed for another reason:\n{stderr}"
        );
    }
}

/// `open` accounts and `balance` directives of a beancount file.
fn bean_directives(text: &str) -> (Vec<String>, BTreeMap<String, String>) {
    let mut opened = Vec::new();
    let mut balances = BTreeMap::new();
    for l in text.lines() {
        let words: Vec<&str> = l.split_whitespace().collect();
        match words.as_slice() {
            [_, "open", account, "CNY"] => opened.push((*account).to_owned()),
            [_, "balance", account, amount, "~", "0.00", "CNY"] => {
                assert!(
                    balances
                        .insert((*account).to_owned(), (*amount).to_owned())
                        .is_none(),
                    "two balance directives for {account}"
                );
            }
            [_, "balance", ..] => panic!("a balance directive without `~ 0.00` is not exact: {l}"),
            _ => {}
        }
    }
    (opened, balances)
}

/// Maps a beancount account back to our account name: root and kind as they are, each id
/// component through `bean_component_to_id`, which must invert `bean_component`.
fn from_bean(account: &str) -> String {
    account
        .split(':')
        .enumerate()
        .map(|(i, c)| {
            if i < 2 {
                c.to_owned()
            } else {
                assert!(
                    c.starts_with(|ch: char| ch.is_ascii_uppercase() || ch.is_ascii_digit())
                        && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'),
                    "{c} is not a valid beancount component"
                );
                let id = bean_component_to_id(c)
                    .unwrap_or_else(|| panic!("{c} of {account} does not map back to an id"));
                assert_eq!(bean_component(&id), c, "{c} → {id} is not reversible");
                id
            }
        })
        .collect::<Vec<_>>()
        .join(":")
}

#[test]
fn bean_check_accepts_the_export_and_its_accounts_map_back_to_ours() {
    if !have_tool("bean-check") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = export_to(dir.path(), "ledger.beancount", Format::Beancount);
    let file = path_str(&path);
    let out = run("bean-check", &[file]);
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "bean-check reported errors ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let snapshot = Snapshot::as_of(&chain().ledger, None).expect("snapshot");
    let text = std::fs::read_to_string(&path).expect("read the export");
    let (opened, balances) = bean_directives(&text);
    let ours: BTreeSet<String> = snapshot
        .accounts()
        .keys()
        .map(ToString::to_string)
        .collect();
    let mut mapped = BTreeSet::new();
    for a in &opened {
        let name = from_bean(a);
        assert!(
            ours.contains(&name),
            "beancount account {a} ({name}) is not in the snapshot"
        );
        assert!(
            mapped.insert(name),
            "{a} opened twice or two accounts map to it"
        );
    }
    assert_eq!(
        mapped, ours,
        "the accounts opened are not the snapshot's accounts"
    );
    // Every id style the generator uses went through the mapping.
    for id in ["m-001", "vip_002", "c.003.Q", "sh-02", "bj_03", "gz.04"] {
        assert!(
            opened
                .iter()
                .any(|a| a.ends_with(&format!(":{}", bean_component(id)))),
            "no account of {id}"
        );
    }
    // bean-check verified these directives; they are our balances.
    let directed: BTreeMap<String, i64> = balances
        .iter()
        .map(|(a, amt)| (from_bean(a), parse_cents(amt).expect("two decimals")))
        .collect();
    let want: BTreeMap<String, i64> = snapshot
        .accounts()
        .iter()
        .map(|(a, c)| (a.to_string(), i64::try_from(*c).unwrap()))
        .collect();
    assert_eq!(
        directed, want,
        "the balance directives differ from the snapshot"
    );
    for (a, c) in snapshot.accounts() {
        assert_eq!(
            balances.get(&bean_account(a)).map(String::as_str),
            Some(format_cents(*c).as_str()),
            "{a}"
        );
    }

    // And beancount's own sums per account, computed by its query engine.
    if have_tool("bean-query") {
        let csv = run_ok(
            "bean-query",
            &[
                "-f",
                "csv",
                file,
                "SELECT account, sum(number) AS total GROUP BY account",
            ],
        );
        let mut summed = BTreeMap::new();
        for l in csv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let f = csv_fields(l);
            assert_eq!(f.len(), 2, "bean-query row {l:?}");
            let cents = parse_cents(&f[1]).unwrap_or_else(|| panic!("bean-query sum {l:?}"));
            summed.insert(from_bean(&f[0]), cents);
        }
        assert_eq!(summed, want, "bean-query's sums differ from the snapshot");
    }
}

#[test]
fn bean_check_refuses_a_balance_off_by_one_cent() {
    if !have_tool("bean-check") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = export_to(dir.path(), "ledger.beancount", Format::Beancount);
    let text = std::fs::read_to_string(&path).expect("read the export");
    assert!(run("bean-check", &[path_str(&path)]).status.success());

    let mut changed = None;
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            match words.as_slice() {
                [date, "balance", account, amt, "~", "0.00", "CNY"]
                    if changed.is_none() && account.starts_with("Liabilities:Principal:") =>
                {
                    let cents = parse_cents(amt).expect("two decimals");
                    changed = Some(l.to_owned());
                    format!(
                        "{date} balance {account}  {} ~ 0.00 CNY",
                        format_cents(cents - 1)
                    )
                }
                _ => l.to_owned(),
            }
        })
        .collect();
    let changed = changed.expect("a principal balance directive");
    let bad = dir.path().join("bad.beancount");
    std::fs::write(&bad, lines.join("\n") + "\n").expect("write the copy");
    let out = run("bean-check", &[path_str(&bad)]);
    let report =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "bean-check accepted a balance off by 0.01 (was: {changed})"
    );
    assert!(
        report.contains("Balance failed") && report.contains("0.01"),
        "bean-check failed for another reason:\n{report}"
    );
}

#[test]
fn csv_sums_per_account_equal_the_snapshot_and_every_event_balances() {
    let mut buf = Vec::new();
    export(&chain().ledger, Format::Csv, &mut buf).expect("export");
    let text = String::from_utf8(buf).expect("UTF-8");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("position,at,event,command,type,member,store,account,amount,currency")
    );
    let mut by_account: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_event: BTreeMap<String, (u64, i64, usize)> = BTreeMap::new();
    let mut last_position = 0u64;
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!(f.len(), 10, "CSV row {l:?}");
        assert_eq!(f[9], "CNY", "{l}");
        let position: u64 = f[0].parse().expect("position");
        assert!(position >= last_position, "rows out of log order at {l}");
        last_position = position;
        let cents = parse_cents(f[8]).unwrap_or_else(|| panic!("amount of {l:?}"));
        assert_ne!(cents, 0, "a zero posting: {l}");
        *by_account.entry(f[7].to_owned()).or_default() += cents;
        let e = by_event.entry(f[2].to_owned()).or_insert((position, 0, 0));
        assert_eq!(e.0, position, "one event id at two positions: {l}");
        e.1 += cents;
        e.2 += 1;
    }
    for (event, (position, sum, rows)) in &by_event {
        assert_eq!(*sum, 0, "event {event} at {position} does not balance");
        assert!(*rows >= 2, "event {event} has one posting");
    }
    let snapshot = Snapshot::as_of(&chain().ledger, None).expect("snapshot");
    let want: BTreeMap<String, i64> = snapshot
        .accounts()
        .iter()
        .map(|(a, c)| (a.to_string(), i64::try_from(*c).unwrap()))
        .collect();
    assert_eq!(
        by_account, want,
        "CSV sums per account differ from the snapshot"
    );
    // Every event that moves money is there, and no other.
    let moving = chain()
        .ledger
        .events(1, 256)
        .map(|r| r.expect("read the log"))
        .filter(|r| !postings(&r.event).is_empty())
        .count();
    assert_eq!(by_event.len(), moving);
    assert!(moving > 600, "{moving}");
}

/// A ledger whose log is not in time order: every member keeps its own clock, so a later
/// position often has an earlier date. The tools sort by date; the exports must still check.
fn unordered() -> memberledger::Ledger {
    let mut rng = common::Rng::new(99);
    let steps: Vec<common::Step> = (0..300)
        .map(|_| common::Step {
            op: u8::try_from(rng.below(13)).expect("small"),
            member: u8::try_from(rng.below(6)).expect("small"),
            store: u8::try_from(rng.below(3)).expect("small"),
            cents: u32::try_from(rng.between(1, 300_000)).expect("small"),
            minutes: u32::try_from(rng.below(60 * 24 * 12)).expect("small"),
            pick: u16::try_from(rng.below(1000)).expect("small"),
        })
        .collect();
    let ledger = memberledger::Ledger::in_memory();
    let o = common::run(&ledger, &common::lines_from_steps(&steps, 6, 3));
    assert!(o.accepted > 200, "{o:#?}");
    let dates: Vec<String> = ledger
        .events(1, 256)
        .map(|r| r.expect("read the log").event.at.to_string()[..10].to_owned())
        .collect();
    assert!(
        dates.windows(2).filter(|w| w[1] < w[0]).count() > 20,
        "the log should go back in date often"
    );
    ledger
}

#[test]
fn exports_of_a_log_out_of_date_order_still_check() {
    let ledger = unordered();
    let snapshot = Snapshot::as_of(&ledger, None).expect("snapshot");
    let dir = tempfile::tempdir().expect("temp dir");
    if have_tool("hledger") {
        let path = dir.path().join("unordered.journal");
        let mut file = std::fs::File::create(&path).expect("create");
        export(&ledger, Format::Hledger, &mut file).expect("export");
        run_ok("hledger", &["-f", path_str(&path), "check"]);
        let csv = run_ok(
            "hledger",
            &[
                "-f",
                path_str(&path),
                "bal",
                "--flat",
                "--no-total",
                "-O",
                "csv",
            ],
        );
        assert_eq!(hledger_balances(&csv).0, expected_balances(&snapshot));
    }
    if have_tool("bean-check") {
        let path = dir.path().join("unordered.beancount");
        let mut file = std::fs::File::create(&path).expect("create");
        export(&ledger, Format::Beancount, &mut file).expect("export");
        let out = run("bean-check", &[path_str(&path)]);
        assert!(
            out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
            "bean-check: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&path).expect("read");
        let directed: BTreeMap<String, i64> = bean_directives(&text)
            .1
            .iter()
            .map(|(a, amt)| (from_bean(a), parse_cents(amt).expect("two decimals")))
            .collect();
        let want: BTreeMap<String, i64> = snapshot
            .accounts()
            .iter()
            .map(|(a, c)| (a.to_string(), i64::try_from(*c).unwrap()))
            .collect();
        assert_eq!(directed, want);
    }
}

//! docs/AUDIT.md's worked example is generated here, so it cannot go stale (issue 11, item
//! 13): the test builds the example's ledger with the real binary, renders the section's text
//! from what the binary prints (export lines, hashes, ids, the journal, reports, statement,
//! verify), and fails unless docs/AUDIT.md holds exactly that text. The `verify` and
//! `verify_chain.py` outputs quoted further down the page are held to the same ledger.
//!
//! After an intended change: `MEMBERLEDGER_BLESS=1 cargo test -p memberledger-cli --test
//! audit_doc` rewrites docs/AUDIT.md; review the diff.

// Test scenarios read top to bottom, one step after another: no line limit here.
#![allow(clippy::too_many_lines)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// The twelve commands of the example.
const CMDS: &str = r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}
{"id":"00000000-0000-4000-8000-000000000002","at":"2026-03-01T10:05:00Z","type":"recharge","member":"M1","store":"S1","amount":"1000.00","staff":"E7"}
{"id":"00000000-0000-4000-8000-000000000003","at":"2026-03-01T10:06:00Z","type":"grant_bonus","member":"M1","store":"S1","amount":"50.00","reason":"生日","expires_at":"2026-03-10T00:00:00Z"}
{"id":"00000000-0000-4000-8000-000000000004","at":"2026-03-02T15:00:00.5+08:00","type":"consume","member":"M1","store":"S2","amount":"300.00","staff":"E9","service":"facial"}
{"id":"00000000-0000-4000-8000-000000000005","at":"2026-03-03T09:00:00Z","type":"refund_consumption","member":"M1","store":"S2","consumption":"00000000-0000-4000-8000-000000000004","amount":"100.00"}
{"id":"00000000-0000-4000-8000-000000000006","at":"2026-03-11T12:00:00Z","type":"consume","member":"M1","store":"S1","amount":"200.00","service":"massage"}
{"id":"00000000-0000-4000-8000-000000000007","at":"2026-03-12T12:00:00Z","type":"change_tier","member":"M1","store":"S1","tier":"gold","reason":"vip"}
{"id":"00000000-0000-4000-8000-000000000008","at":"2027-06-01T12:00:00Z","type":"refund_consumption","member":"M1","store":"S1","consumption":"00000000-0000-4000-8000-000000000006"}
{"id":"00000000-0000-4000-8000-000000000009","at":"2028-03-05T12:00:00Z","type":"refund_balance","member":"M1","store":"S1"}
{"id":"00000000-0000-4000-8000-00000000000a","at":"2028-04-01T12:00:00Z","type":"recharge","member":"M1","store":"S2","amount":"20000.00","staff":"E7"}
{"id":"00000000-0000-4000-8000-00000000000b","at":"2028-04-02T12:00:00Z","type":"enroll","member":"M2","store":"S2","tier":"silver"}
{"id":"00000000-0000-4000-8000-00000000000c","at":"2028-04-03T12:00:00Z","type":"settle","store":"S1","to":"S2","amount":"100.00"}"#;

/// The section's text, with `{name}` for what the binary prints.
const TEMPLATE: &str = include_str!("audit_doc/worked_example.md");

/// Runs the binary on the example's ledger; its stdout.
fn ml(db: &Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_memberledger"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{args:?}: {o:?}");
    String::from_utf8(o.stdout).unwrap()
}

fn doc_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/AUDIT.md")
}

/// The canonical bytes of an export line: the line without its `hash` member.
fn without_hash(line: &str) -> String {
    let at = line.find(",\"hash\":\"").expect("a hash");
    format!("{}{}", &line[..at], &line[at + 74..])
}

/// The 1-based position of the first export line holding all of `needles`.
fn position_of(lines: &[&str], needles: &[&str]) -> String {
    let i = lines
        .iter()
        .position(|l| needles.iter().all(|n| l.contains(n)))
        .unwrap_or_else(|| panic!("no line with {needles:?}"));
    (i + 1).to_string()
}

/// The journal from its start to the end of the entry of M1's massage at S1.
fn journal_head(journal: &str) -> String {
    let mut out = Vec::new();
    let mut in_last = false;
    for l in journal.lines() {
        if in_last && l.is_empty() {
            break;
        }
        in_last |= l.starts_with("2026-03-11 consumed");
        out.push(l);
    }
    out.join("\n")
}

/// Everything the section quotes, by placeholder.
fn facts(dir: &Path) -> Vec<(&'static str, String)> {
    let db = dir.join("db");
    ml(&db, &["init"]);
    let cmds = dir.join("cmds.jsonl");
    std::fs::write(&cmds, format!("{CMDS}\n")).unwrap();
    // The history runs into 2028: the ledger's clock is told so (as the doc shows).
    ml(
        &db,
        &[
            "--now",
            "2028-12-31T00:00:00Z",
            "apply",
            cmds.to_str().unwrap(),
        ],
    );
    let export = ml(&db, &["export", "--format", "jsonl"]);
    let lines: Vec<&str> = export.lines().collect();
    let (c1, c2) = (without_hash(lines[0]), without_hash(lines[1]));
    let h1: [u8; 32] = Sha256::new()
        .chain_update([0u8; 32])
        .chain_update(&c1)
        .finalize()
        .into();
    let h2: [u8; 32] = Sha256::new()
        .chain_update(h1)
        .chain_update(&c2)
        .finalize()
        .into();
    let e1: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    let e2: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    let head = hex(&last_hash(&lines));
    let verify = ml(&db, &["verify"]);
    let verify_json = ml(&db, &["verify", "--json"]);
    let journal = ml(&db, &["export", "--format", "hledger"]);
    let all_cmds = CMDS.to_owned();
    let first_cmds = CMDS.lines().take(2).collect::<Vec<_>>().join("\n");
    vec![
        ("all_cmds", all_cmds),
        ("first_cmds", first_cmds),
        ("line1", lines[0].to_owned()),
        ("line2", lines[1].to_owned()),
        ("canonical1", c1.clone()),
        ("canonical2", c2.clone()),
        ("bytes1", c1.len().to_string()),
        ("bytes2", c2.len().to_string()),
        ("hash1", hex(&h1)),
        ("hash2", hex(&h2)),
        ("command1", e1["command"].as_str().unwrap().to_owned()),
        ("command2", e2["command"].as_str().unwrap().to_owned()),
        ("id1", e1["id"].as_str().unwrap().to_owned()),
        ("id2", e2["id"].as_str().unwrap().to_owned()),
        ("events", lines.len().to_string()),
        ("head", head),
        (
            "pos_recharge",
            position_of(&lines, &[r#""type":"recharged""#]),
        ),
        ("pos_birthday", position_of(&lines, &["生日"])),
        (
            "pos_consume",
            position_of(&lines, &[r#""type":"consumed""#]),
        ),
        (
            "pos_expired",
            position_of(&lines, &[r#""type":"bonus_expired""#]),
        ),
        ("pos_forfeit", position_of(&lines, &[r#""forfeited":true"#])),
        ("pos_settled", position_of(&lines, &[r#""type":"settled""#])),
        ("journal", journal_head(&journal)),
        (
            "settlement",
            ml(
                &db,
                &["report", "settlement", "--as-of", "2026-03-31T00:00:00Z"],
            ) + &ml(&db, &["report", "settlement"]),
        ),
        (
            "statement",
            ml(&db, &["statement", "M1", "--to", "2026-03-31T23:59:59Z"]),
        ),
        ("verify", verify.trim_end().to_owned()),
        ("verify_json", verify_json.trim_end().to_owned()),
    ]
}

fn last_hash(lines: &[&str]) -> Vec<u8> {
    let v: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    (0..32)
        .map(|i| {
            let h = v["hash"].as_str().unwrap();
            u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap()
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn render(facts: &[(&str, String)]) -> String {
    let mut out = TEMPLATE.to_owned();
    for (name, value) in facts {
        out = out.replace(&format!("{{{name}}}"), value.trim_end_matches('\n'));
    }
    assert!(
        !out.contains("{pos_") && !out.contains("{line") && !out.contains("{hash"),
        "a placeholder is left"
    );
    out
}

/// The doc with the worked example section and the outputs quoted later replaced by what the
/// example's ledger gives.
fn expected_doc(doc: &str, facts: &[(&str, String)]) -> String {
    let start = doc.find("## Worked example\n").expect("the section");
    let end = doc[start..]
        .find("\n## What `memberledger verify` checks")
        .expect("the next section")
        + start
        + 1;
    let mut out = format!("{}{}{}", &doc[..start], render(facts), &doc[end..]);
    let get = |k: &str| &facts.iter().find(|(n, _)| *n == k).unwrap().1;
    let verify: Vec<&str> = get("verify").lines().collect();
    let (events, head) = (get("events"), get("head"));
    let ours = [
        (
            "verify: ok — ",
            format!("{}\n{}", verify[0], verify[1]),
        ),
        ("`{\"events\":", format!("`{}`,", get("verify_json"))),
        (
            "verify_chain: ok - ",
            format!(
                "verify_chain: ok - {events} events, 2 members, chain head {head}\n  held: principal 20000.00, bonus 5000.00, points 0"
            ),
        ),
    ];
    for (prefix, text) in ours {
        let mut lines: Vec<String> = out.lines().map(str::to_owned).collect();
        let mut i = 0;
        while i < lines.len() {
            if lines[i].starts_with(prefix) {
                let n = text.lines().count();
                lines.splice(i..i + n, text.lines().map(str::to_owned));
                i += n;
            } else {
                i += 1;
            }
        }
        out = lines.join("\n") + "\n";
    }
    out
}

#[test]
fn the_audit_docs_worked_example_is_what_the_ledger_prints() {
    let dir = tempfile::tempdir().unwrap();
    let facts = facts(dir.path());
    let doc = std::fs::read_to_string(doc_path()).unwrap();
    let want = expected_doc(&doc, &facts);
    if std::env::var("MEMBERLEDGER_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(doc_path(), &want).unwrap();
        return;
    }
    if doc != want {
        let first = doc
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(doc.lines().count().min(want.lines().count()));
        panic!(
            "docs/AUDIT.md differs from the generated worked example from line {}:\n  doc:       {:?}\n  generated: {:?}\nrun MEMBERLEDGER_BLESS=1 cargo test -p memberledger-cli --test audit_doc, and review the diff",
            first + 1,
            doc.lines().nth(first),
            want.lines().nth(first)
        );
    }
}

//! The independent verifier (`examples/verify_chain.py`, Python standard library only) agrees
//! with `memberledger verify` on a real export, and catches what `verify` catches.

// Test scenarios read top to bottom, one step after another: no line limit here.
#![allow(clippy::too_many_lines)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod support;
use support::memberledger as ml;

fn python() -> Option<&'static str> {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var_os("MEMBERLEDGER_REQUIRE_TOOLS").is_some() {
        panic!("python3 is required (MEMBERLEDGER_REQUIRE_TOOLS is set): install it");
    }
    found.then_some("python3")
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/verify_chain.py")
}

fn verify_py(py: &str, file: &Path, extra: &[&str]) -> Output {
    Command::new(py)
        .arg(script())
        .args(extra)
        .arg(file)
        .output()
        .unwrap()
}

/// One member line of the verifier's `--members` output agrees with `member show --json`.
fn assert_member_shown(db: &Path, m: &serde_json::Value) {
    let shown: serde_json::Value = serde_json::from_slice(
        &ml(
            db,
            &["member", "show", m["member"].as_str().unwrap(), "--json"],
        )
        .stdout,
    )
    .unwrap();
    for k in ["tier", "principal", "bonus", "points", "package_value"] {
        assert_eq!(shown[k], m[k], "{} {k}", m["member"]);
    }
}

#[test]
fn the_python_verifier_agrees_with_verify_and_catches_tampering() {
    let Some(py) = python() else {
        eprintln!("python3 not found: skipped (set MEMBERLEDGER_REQUIRE_TOOLS=1 to require it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    let o = Command::new(env!("CARGO_BIN_EXE_memberledger"))
        .args([
            "demo",
            "--seed",
            "3",
            "--stores",
            "4",
            "--members",
            "80",
            "--commands",
            "2500",
            "--out",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let export = ml(&db, &["export", "--format", "jsonl"]).stdout;
    let file = dir.path().join("ledger.jsonl");
    std::fs::write(&file, &export).unwrap();

    // The same figures as `memberledger verify --json`.
    let ours: serde_json::Value =
        serde_json::from_slice(&ml(&db, &["verify", "--json"]).stdout).unwrap();
    let o = verify_py(py, &file, &["--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let theirs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in ["events", "members", "head", "principal", "bonus", "points"] {
        assert_eq!(ours[k], theirs[k], "{k}");
    }
    // And every member's balances.
    let o = verify_py(py, &file, &["--members"]);
    assert!(o.status.success());
    let members: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(members.len() as u64, ours["members"].as_u64().unwrap());
    for m in members.iter().step_by(7) {
        assert_member_shown(&db, m);
    }

    // Tampering: each case fails and names the first bad position.
    let lines: Vec<&str> = std::str::from_utf8(&export).unwrap().lines().collect();
    let n = lines.len();
    assert!(n > 1000);
    let cases: Vec<(&str, Vec<String>, usize)> = vec![
        (
            "a changed amount",
            {
                let mut v: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
                let i = (500..n).find(|&i| v[i].contains("\"amount\":\"")).unwrap();
                let at = v[i].find("\"amount\":\"").unwrap() + 10;
                let mut b = v[i].clone().into_bytes();
                b[at] = if b[at] == b'1' { b'2' } else { b'1' };
                v[i] = String::from_utf8(b).unwrap();
                v
            },
            0,
        ),
        (
            "a deleted line",
            lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != 700)
                .map(|(_, l)| (*l).to_owned())
                .collect(),
            701,
        ),
        (
            "two swapped lines",
            {
                let mut v: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
                v.swap(800, 801);
                v
            },
            801,
        ),
        (
            "an inserted line",
            {
                let mut v: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
                v.insert(900, lines[899].to_owned());
                v
            },
            901,
        ),
    ];
    for (what, tampered, position) in cases {
        let f = dir.path().join("tampered.jsonl");
        std::fs::write(&f, tampered.join("\n") + "\n").unwrap();
        let o = verify_py(py, &f, &[]);
        assert_eq!(o.status.code(), Some(1), "{what}: {o:?}");
        let said =
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
        if position > 0 {
            assert!(
                said.contains(&position.to_string()),
                "{what}: expected position {position} in {said}"
            );
        }
    }
}

/// Re-seals an export after tampering: every hash recomputed from genesis, as a forger who
/// rewrites the whole chain would, so only the fold, the policy rule or the schema checks can
/// catch the change. (Python's hashlib, since the test needs Python anyway.)
fn reseal(py: &str, lines: &[String]) -> String {
    const RESEAL: &str = r#"
import hashlib, json, sys
prev = bytes(32)
out = []
for line in sys.stdin.buffer.read().decode("utf-8").splitlines():
    e = json.loads(line)
    e.pop("hash", None)
    body = json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    prev = hashlib.sha256(prev + body).digest()
    e["hash"] = prev.hex()
    out.append(json.dumps(e, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
sys.stdout.buffer.write(("\n".join(out) + "\n").encode("utf-8"))
"#;
    let mut child = Command::new(py)
        .args(["-c", RESEAL])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all((lines.join("\n") + "\n").as_bytes())
            .unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{o:?}");
    String::from_utf8(o.stdout).unwrap()
}

/// Packages bought in cash and from the balance, sessions redeemed at other stores (the last
/// taking the remainder), refunds to the balance and to cash, an expiry, settlements that
/// depend on the packages' clearing, and two policy publications that change what the later
/// commands are decided under; and a package bought before a balance refund and refunded
/// after it, which gives none of its bonus back to the new period's bonus spent.
const PACKAGE_STORY: &str = r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T09:00:00Z","type":"enroll","member":"M1","store":"S1"}
{"id":"00000000-0000-4000-8000-000000000002","at":"2026-03-01T09:00:00Z","type":"enroll","member":"M2","store":"S2"}
{"id":"00000000-0000-4000-8000-000000000003","at":"2026-03-01T10:00:00Z","type":"recharge","member":"M1","store":"S1","amount":"1000.00"}
{"id":"00000000-0000-4000-8000-000000000004","at":"2026-03-02T10:00:00Z","type":"purchase_package","member":"M1","store":"S2","service":"massage","sessions":3,"amount":"100.00","paid_from":"balance"}
{"id":"00000000-0000-4000-8000-000000000005","at":"2026-03-03T10:00:00Z","type":"redeem_session","member":"M1","store":"S3","package":"00000000-0000-4000-8000-000000000004","staff":"E1"}
{"id":"00000000-0000-4000-8000-000000000006","at":"2026-03-04T10:00:00Z","type":"purchase_package","member":"M2","store":"S2","service":"facial","sessions":4,"amount":"250.00","paid_from":"cash","expires_at":"2026-04-01T00:00:00Z"}
{"id":"00000000-0000-4000-8000-000000000007","at":"2026-03-05T10:00:00Z","type":"refund_package","member":"M1","store":"S1","package":"00000000-0000-4000-8000-000000000004","reason":"moved"}
{"id":"00000000-0000-4000-8000-000000000008","at":"2026-03-06T10:00:00Z","type":"redeem_session","member":"M2","store":"S1","package":"00000000-0000-4000-8000-000000000006"}
{"id":"00000000-0000-4000-8000-000000000009","at":"2026-03-07T10:00:00Z","type":"consume","member":"M1","store":"S3","amount":"80.00"}
{"id":"00000000-0000-4000-8000-00000000000a","at":"2026-03-10T00:00:00Z","type":"publish_policy","store":"HQ","policy":{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"2"},{"name":"silver","discount":"0.95","points_per_yuan":"1"},{"name":"gold","discount":"0.90","points_per_yuan":"1.5"},{"name":"diamond","discount":"0.85","points_per_yuan":"2"}],"bonus_expiry_days":30,"packages":{"refund_to":"cash"}}}
{"id":"00000000-0000-4000-8000-00000000000b","at":"2026-03-11T10:00:00Z","type":"purchase_package","member":"M1","store":"S1","service":"yoga","sessions":3,"amount":"100.00","paid_from":"balance","expires_at":"2026-09-01T00:00:00Z"}
{"id":"00000000-0000-4000-8000-00000000000c","at":"2026-03-12T10:00:00Z","type":"redeem_session","member":"M1","store":"S2","package":"00000000-0000-4000-8000-00000000000b"}
{"id":"00000000-0000-4000-8000-00000000000d","at":"2026-03-13T10:00:00Z","type":"redeem_session","member":"M1","store":"S3","package":"00000000-0000-4000-8000-00000000000b"}
{"id":"00000000-0000-4000-8000-00000000000e","at":"2026-03-14T10:00:00Z","type":"redeem_session","member":"M1","store":"S3","package":"00000000-0000-4000-8000-00000000000b"}
{"id":"00000000-0000-4000-8000-00000000000f","at":"2026-03-15T10:00:00Z","type":"purchase_package","member":"M1","store":"S3","service":"spa","sessions":2,"amount":"50.00","paid_from":"balance"}
{"id":"00000000-0000-4000-8000-000000000010","at":"2026-03-16T10:00:00Z","type":"refund_package","member":"M1","store":"S2","package":"00000000-0000-4000-8000-00000000000f"}
{"id":"00000000-0000-4000-8000-000000000011","at":"2026-04-02T10:00:00Z","type":"expire","member":"M2","store":"S2"}
{"id":"00000000-0000-4000-8000-000000000012","at":"2026-04-03T10:00:00Z","type":"settle","store":"S1","to":"S2"}
{"id":"00000000-0000-4000-8000-000000000013","at":"2026-04-03T11:00:00Z","type":"settle","store":"S3","to":"S2"}
{"id":"00000000-0000-4000-8000-000000000014","at":"2026-05-01T00:00:00Z","type":"publish_policy","store":"HQ","policy":{"tiers":[{"name":"standard","discount":"0.90","points_per_yuan":"1"},{"name":"silver","discount":"0.95","points_per_yuan":"1"},{"name":"gold","discount":"0.90","points_per_yuan":"1.5"},{"name":"diamond","discount":"0.85","points_per_yuan":"2"}]}}
{"id":"00000000-0000-4000-8000-000000000015","at":"2026-05-02T10:00:00Z","type":"purchase_package","member":"M2","store":"S1","service":"massage","sessions":3,"amount":"90.01","paid_from":"cash"}
{"id":"00000000-0000-4000-8000-000000000016","at":"2026-05-03T10:00:00Z","type":"redeem_session","member":"M2","store":"S3","package":"00000000-0000-4000-8000-000000000015"}
{"id":"00000000-0000-4000-8000-000000000017","at":"2026-05-04T10:00:00Z","type":"consume","member":"M1","store":"S2","amount":"10.00"}
{"id":"00000000-0000-4000-8000-000000000018","at":"2026-05-05T09:00:00Z","type":"enroll","member":"M3","store":"S1"}
{"id":"00000000-0000-4000-8000-000000000019","at":"2026-05-05T10:00:00Z","type":"recharge","member":"M3","store":"S1","amount":"1000.00"}
{"id":"00000000-0000-4000-8000-000000000020","at":"2026-05-05T11:00:00Z","type":"grant_bonus","member":"M3","store":"S1","amount":"200.00","reason":"campaign"}
{"id":"00000000-0000-4000-8000-00000000001a","at":"2026-05-06T10:00:00Z","type":"purchase_package","member":"M3","store":"S1","service":"facial","sessions":2,"amount":"115.00","paid_from":"balance"}
{"id":"00000000-0000-4000-8000-00000000001b","at":"2026-05-07T10:00:00Z","type":"refund_balance","member":"M3","store":"S1"}
{"id":"00000000-0000-4000-8000-00000000001c","at":"2026-05-08T10:00:00Z","type":"recharge","member":"M3","store":"S1","amount":"1000.00"}
{"id":"00000000-0000-4000-8000-000000000021","at":"2026-05-08T11:00:00Z","type":"grant_bonus","member":"M3","store":"S1","amount":"200.00","reason":"campaign"}
{"id":"00000000-0000-4000-8000-00000000001d","at":"2026-05-09T10:00:00Z","type":"consume","member":"M3","store":"S1","amount":"115.00"}
{"id":"00000000-0000-4000-8000-00000000001e","at":"2026-05-10T10:00:00Z","type":"refund_package","member":"M3","store":"S1","package":"00000000-0000-4000-8000-00000000001a"}
{"id":"00000000-0000-4000-8000-00000000001f","at":"2026-05-11T10:00:00Z","type":"refund_consumption","member":"M3","store":"S1","consumption":"00000000-0000-4000-8000-00000000001d"}
"#;

#[test]
fn the_python_verifier_follows_packages_and_policy_versions() {
    let Some(py) = python() else {
        eprintln!("python3 not found: skipped (set MEMBERLEDGER_REQUIRE_TOOLS=1 to require it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    let o = ml(&db, &["init"]);
    assert!(o.status.success(), "{o:?}");
    let story = dir.path().join("story.jsonl");
    std::fs::write(&story, PACKAGE_STORY).unwrap();
    let o = ml(&db, &["apply", story.to_str().unwrap()]);
    assert!(
        o.status.success(),
        "every command is accepted: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let export = ml(&db, &["export", "--format", "jsonl"]).stdout;
    let file = dir.path().join("ledger.jsonl");
    std::fs::write(&file, &export).unwrap();
    let lines: Vec<String> = String::from_utf8(export)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    // The story records every new event type, under three policy versions.
    for t in [
        "package_purchased",
        "session_redeemed",
        "package_refunded",
        "package_expired",
        "policy_published",
        "settled",
    ] {
        let tag = format!(r#""type":"{t}""#);
        assert!(
            lines.iter().any(|l| l.contains(&tag)),
            "no {t} in the story"
        );
    }
    for p in 1..=3 {
        let tag = format!(r#""policy":{p},"#);
        assert!(
            lines.iter().any(|l| l.contains(&tag)),
            "no event under policy {p}"
        );
    }
    assert!(
        lines.iter().any(|l| l.contains(r#""bonus_unspent":"0.00""#)
            && l.contains(r#""type":"package_refunded""#)
            && !l.contains(r#""bonus":"0.00""#)),
        "no package refund after a balance refund"
    );
    for to in [r#""to":"balance""#, r#""to":"cash""#] {
        assert!(
            lines.iter().any(|l| l.contains(to)),
            "no package refund {to}"
        );
    }

    // The same figures as `memberledger verify --json`, and every member's.
    let ours: serde_json::Value =
        serde_json::from_slice(&ml(&db, &["verify", "--json"]).stdout).unwrap();
    assert!(ours["problem"].is_null(), "{ours}");
    let o = verify_py(py, &file, &["--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let theirs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in ["events", "members", "head", "principal", "bonus", "points"] {
        assert_eq!(ours[k], theirs[k], "{k}");
    }
    let o = verify_py(py, &file, &["--members"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let members: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(members.len(), 3);
    for m in &members {
        assert_member_shown(&db, m);
    }
    // M2 still holds the open part of a package.
    assert_eq!(members[1]["package_value"], "60.01");

    let find = |what: &str, pred: &dyn Fn(&str) -> bool| -> usize {
        lines
            .iter()
            .position(|l| pred(l))
            .unwrap_or_else(|| panic!("no line for {what}"))
    };
    let edit = |i: usize, from: &str, to: &str| -> Vec<String> {
        assert!(
            lines[i].contains(from),
            "{from} not in line {}: {}",
            i + 1,
            lines[i]
        );
        let mut v = lines.clone();
        v[i] = v[i].replacen(from, to, 1);
        v
    };

    // Schema-1 events (no `policy`, the 14 original types) mixed with today's schema still verify,
    // with the same chain rule over their own bytes.
    let early: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            // (Line 1 is the founding policy's record, of a type born at schema 2.)
            if (1..5).contains(&i) {
                l.replacen(r#""policy":1,"#, "", 1)
                    .replacen(r#""v":3,"#, r#""v":1,"#, 1)
            } else {
                l.clone()
            }
        })
        .collect();
    let f = dir.path().join("mixed.jsonl");
    std::fs::write(&f, reseal(py, &early)).unwrap();
    let o = verify_py(py, &f, &[]);
    assert!(o.status.success(), "schema 1 and 2 mixed: {o:?}");

    let purchase_p2 = find("a purchase under policy 2", &|l| {
        l.contains(r#""type":"package_purchased""#) && l.contains(r#""policy":2,"#)
    });
    let session_p1 = find("a session under policy 1", &|l| {
        l.contains(r#""type":"session_redeemed""#) && l.contains(r#""policy":1,"#)
    });
    let session_p2 = find("a session under policy 2", &|l| {
        l.contains(r#""type":"session_redeemed""#) && l.contains(r#""policy":2,"#)
    });
    let publish = find("the first publication", &|l| {
        l.contains(r#""type":"policy_published""#) && l.contains(r#""version":2},"#)
    });
    let refund = find("a refund to the balance", &|l| {
        l.contains(r#""to":"balance""#)
    });
    let expired = find("an expiry", &|l| l.contains(r#""type":"package_expired""#));
    let settled = find("a settlement", &|l| l.contains(r#""type":"settled""#));
    let cases: Vec<(&str, Vec<String>, usize, &str)> = vec![
        (
            "an event's policy version changed",
            edit(purchase_p2, r#""policy":2,"#, r#""policy":1,"#),
            purchase_p2,
            "names policy version 1, but version 2 was in force",
        ),
        (
            "a session's amount changed (principal and bonus still adding up)",
            edit(
                session_p2,
                r#""amount":"33.33","bonus":"4.35""#,
                r#""amount":"33.34","bonus":"4.36""#,
            ),
            session_p2,
            "is worth 33.33",
        ),
        (
            "a policy published back in time, before events already recorded",
            edit(
                publish,
                r#""at":"2026-03-10T00:00:00Z""#,
                r#""at":"2026-03-06T00:00:00Z""#,
            ),
            publish,
            "already holds an event at",
        ),
        (
            "a publication that skips a version",
            edit(publish, r#""version":2},"#, r#""version":3},"#),
            publish,
            "does not follow version 1",
        ),
        (
            "a package event written as schema 1",
            edit(session_p1, r#""policy":1,"#, "")
                .into_iter()
                .map(|l| {
                    l.replacen(
                        r#""type":"session_redeemed","v":3"#,
                        r#""type":"session_redeemed","v":1"#,
                        1,
                    )
                })
                .collect(),
            session_p1,
            "does not exist at schema 1",
        ),
        (
            "the founding policy changed (its command id no longer its policy's)",
            edit(0, r#""rounding":"half_up""#, r#""rounding":"half_even""#),
            0,
            "UUID v5 of its policy",
        ),
        (
            "an unknown schema version",
            edit(0, r#""v":3,"#, r#""v":9,"#),
            0,
            "unknown event schema version 9",
        ),
        (
            "a refund's bonus lot numbered out of turn",
            edit(refund, r#""bonus_lot":4,"#, r#""bonus_lot":5,"#),
            refund,
            "next lot number is 4",
        ),
        (
            "an expired package's store changed",
            edit(expired, r#""origin_store":"S2""#, r#""origin_store":"S1""#),
            expired,
            "holds 3 sessions",
        ),
        (
            "a settlement above what the packages left owing",
            edit(settled, r#""amount":"53.44""#, r#""amount":"53.45""#),
            settled,
            "owes it 53.44",
        ),
    ];
    for (what, tampered, i, says) in cases {
        let f = dir.path().join("tampered.jsonl");
        std::fs::write(&f, reseal(py, &tampered)).unwrap();
        let o = verify_py(py, &f, &[]);
        assert_eq!(o.status.code(), Some(1), "{what}: {o:?}");
        let said = String::from_utf8_lossy(&o.stdout);
        let want = format!("FAILED at position {}: ", i + 1);
        assert!(
            said.contains(&want) && said.contains(says),
            "{what}: expected {want}… {says} in {said}"
        );
    }
}

/// The same log as a ledger written before founding records existed: the record left out,
/// positions and the policy stream's versions one lower (hashes to be resealed).
fn as_old_ledger(lines: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let mut old: Vec<serde_json::Value> = lines[1..].to_vec();
    for e in &mut old {
        e["position"] = (e["position"].as_u64().unwrap() - 1).into();
        if e["member"] == "@policy" {
            e["version"] = (e["version"].as_u64().unwrap() - 1).into();
        }
    }
    old
}

/// The founding policy is read from the chain: `--policies` prints it (version 1, from
/// position 1) and every later version. A log without a founding record (a ledger written
/// before they existed) verifies with the note "founding policy not in the chain (old
/// ledger)", and once its record is appended, at the end, in force from the beginning, it
/// verifies without it.
#[test]
fn the_python_verifier_reads_the_founding_policy_from_the_chain_and_reports_old_ledgers() {
    let Some(py) = python() else {
        eprintln!("python3 not found: skipped (set MEMBERLEDGER_REQUIRE_TOOLS=1 to require it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    assert!(ml(&db, &["init"]).status.success());
    let cmds = dir.path().join("cmds.jsonl");
    std::fs::write(&cmds, PACKAGE_STORY).unwrap();
    ml(&db, &["apply", cmds.to_str().unwrap()]);
    let export = String::from_utf8(ml(&db, &["export", "--format", "jsonl"]).stdout).unwrap();
    let file = dir.path().join("ledger.jsonl");
    std::fs::write(&file, &export).unwrap();
    let o = verify_py(py, &file, &["--policies"]);
    assert!(o.status.success(), "{o:?}");
    let versions: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[0]["version"], 1);
    assert_eq!(versions[0]["position"], 1);
    assert!(versions[0]["effective_at"].is_null());
    assert_eq!(versions[0]["policy"]["rounding"], "half_up");
    assert_eq!(versions[1]["effective_at"], "2026-03-10T00:00:00Z");
    assert!(!String::from_utf8_lossy(&o.stderr).contains("old ledger"));

    // The same log as an old ledger wrote it: no founding record, positions and the policy
    // stream's versions one lower.
    let lines: Vec<serde_json::Value> = export
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let old = as_old_ledger(&lines);
    let text = |events: &[serde_json::Value]| -> Vec<String> {
        events.iter().map(|e| e.to_string()).collect()
    };
    let old_file = dir.path().join("old.jsonl");
    std::fs::write(&old_file, reseal(py, &text(&old))).unwrap();
    let o = verify_py(py, &old_file, &[]);
    assert!(o.status.success(), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("founding policy not in the chain (old ledger)"),
        "{o:?}"
    );
    // Its upcast: the founding record appended, in force from the beginning.
    let mut founding = lines[0].clone();
    founding["position"] = (old.len() as u64 + 1).into();
    founding["version"] = 3.into();
    let mut upcast = old.clone();
    upcast.push(founding);
    let upcast_file = dir.path().join("upcast.jsonl");
    std::fs::write(&upcast_file, reseal(py, &text(&upcast))).unwrap();
    let o = verify_py(py, &upcast_file, &[]);
    assert!(o.status.success(), "{o:?}");
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("old ledger"),
        "{o:?}"
    );
    // Recorded twice (the same record again, or another policy's): refused there.
    let mut twice = upcast.clone();
    let mut again = lines[0].clone();
    let other = uuid::Uuid::from_u128(0xff);
    again["command"] = other.to_string().into();
    again["id"] = uuid::Uuid::new_v5(&other, b"0").to_string().into();
    again["position"] = (upcast.len() as u64 + 1).into();
    again["version"] = 4.into();
    twice.push(again);
    let twice_file = dir.path().join("twice.jsonl");
    std::fs::write(&twice_file, reseal(py, &text(&twice))).unwrap();
    let o = verify_py(py, &twice_file, &[]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains(&format!(
            "FAILED at position {}: the founding policy is recorded twice",
            twice.len()
        )),
        "{said}"
    );
}

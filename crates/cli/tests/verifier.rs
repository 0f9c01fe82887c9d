//! The independent verifier (`examples/verify_chain.py`, Python standard library only) agrees
//! with `memberledger verify` on a real export, and catches what `verify` catches.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

fn ml(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_memberledger"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
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
        let shown: serde_json::Value = serde_json::from_slice(
            &ml(
                &db,
                &["member", "show", m["member"].as_str().unwrap(), "--json"],
            )
            .stdout,
        )
        .unwrap();
        for k in ["tier", "principal", "bonus", "points"] {
            assert_eq!(shown[k], m[k], "{} {k}", m["member"]);
        }
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

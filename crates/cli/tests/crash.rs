//! Crash test with a real kill: a child `memberledger apply -` executes commands and prints a
//! receipt for each once it is durable; the parent kills it with SIGKILL at random moments,
//! reopens the ledger, verifies it, and checks that every acknowledged command is there
//! exactly once, whole, with the events its receipt named. Then it resends what was not
//! acknowledged (idempotency makes that safe) and kills again.
//!
//! `MEMBERLEDGER_CRASH_KILLS=500 cargo test -p memberledger-cli --test crash -- --nocapture`
//! runs a long campaign.

// Test scenarios read top to bottom, one step after another: no line limit here.
#![allow(clippy::too_many_lines)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use memberledger::{Ledger, Uuid};
use memberledger_testkit::Rng;

/// The commands of the campaign, in order: the test kit's steady stream (40 members enrolled
/// first, then recharges, grants and consumptions at home and away, one second apart).
fn commands(n: usize, seed: u64) -> Vec<(Uuid, String)> {
    let n = u64::try_from(n).expect("a campaign's length fits");
    memberledger_testkit::steady::workload_iter(n, 40, 4, seed)
        .map(|c| (c.id, c.to_json()))
        .collect()
}

#[test]
fn acknowledged_commands_survive_sigkill_exactly_once() {
    let kills: usize = std::env::var("MEMBERLEDGER_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let seed: u64 = std::env::var("MEMBERLEDGER_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed);
    eprintln!("crash campaign: {kills} kills, seed {seed}");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    let status = Process::new(env!("CARGO_BIN_EXE_memberledger"))
        .arg("--db")
        .arg(&db)
        .arg("init")
        .status()
        .unwrap();
    assert!(status.success());
    let all = commands(400 + kills * 150, seed);
    // Receipts acknowledged so far: command id → the positions and hashes of its events.
    let mut acked: HashMap<Uuid, Vec<(u64, String)>> = HashMap::new();
    let mut next = 0; // the first command not yet acknowledged
    let mut survived = 0;
    for round in 0..=kills {
        let last_round = round == kills;
        let mut child = Process::new(env!("CARGO_BIN_EXE_memberledger"))
            .arg("--db")
            .arg(&db)
            .args(["apply", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let batch: Vec<String> = all[next..].iter().map(|(_, l)| l.clone()).collect();
        let writer = std::thread::spawn(move || {
            for line in batch {
                if writeln!(stdin, "{line}").is_err() {
                    return; // the child was killed
                }
            }
        });
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut receipts = Vec::new();
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => receipts.push(l),
                    Err(_) => break,
                }
            }
            receipts
        });
        if !last_round {
            std::thread::sleep(Duration::from_millis(20 + rng.below(250)));
            child.kill().unwrap(); // SIGKILL
        }
        let _ = child.wait().unwrap();
        let _ = writer.join();
        let receipts = reader.join().unwrap();
        // A receipt line cut by the kill is not an acknowledgement.
        for line in &receipts {
            let Ok(r) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if r["ok"] == true {
                let id = Uuid::parse_str(r["command"].as_str().unwrap()).unwrap();
                let events: Vec<(u64, String)> = r["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| {
                        (
                            e["position"].as_u64().unwrap(),
                            e["hash"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect();
                if let Some(before) = acked.get(&id) {
                    assert_eq!(
                        before, &events,
                        "a retried command replays its original receipt"
                    );
                }
                acked.insert(id, events);
            }
        }
        while next < all.len()
            && receipts
                .iter()
                .any(|l| l.contains(&all[next].0.to_string()))
        {
            next += 1;
        }
        // Reopen in this process: nothing acknowledged is lost, nothing is half-written.
        let ledger = Ledger::open_existing(&db).unwrap();
        let report = ledger.verify().unwrap();
        assert!(report.ok(), "round {round}: {:?}", report.problem);
        let mut by_command: HashMap<Uuid, Vec<(u64, String)>> = HashMap::new();
        for e in ledger.events(1, 1024) {
            let e = e.unwrap();
            by_command
                .entry(e.event.command)
                .or_default()
                .push((e.position, hex(&e.hash)));
        }
        for (id, events) in &acked {
            assert_eq!(
                by_command.get(id),
                Some(events),
                "round {round}: acknowledged command {id} is there, once, whole"
            );
        }
        for (id, events) in &by_command {
            let rec = ledger
                .command_record(*id)
                .unwrap()
                .expect("every command in the log is indexed");
            assert_eq!(rec.count as usize, events.len(), "command {id} is whole");
        }
        drop(ledger);
        survived += usize::from(!last_round);
        if next == all.len() {
            break;
        }
    }
    eprintln!(
        "survived {survived} kills; {} commands acknowledged",
        acked.len()
    );
    assert!(
        acked.len() > 400,
        "the campaign acknowledged commands: {}",
        acked.len()
    );
}

fn hex(h: &[u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

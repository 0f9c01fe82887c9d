//! `memberledger serve` as a real process: SIGKILL under load from several clients loses no
//! acknowledged command and records none twice; SIGTERM answers what is in flight and exits
//! 0; the request log names the role, never the token.

// Test scenarios read top to bottom, one step after another: no line limit here.
#![allow(clippy::too_many_lines)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use memberledger::{Ledger, Uuid};

fn memberledger(args: &[&str]) -> String {
    let out = Process::new(env!("CARGO_BIN_EXE_memberledger"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A running `memberledger serve`, its address and what it logged.
struct Served {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
}

fn serve(db: &Path, tokens: &Path) -> Served {
    let mut child = Process::new(env!("CARGO_BIN_EXE_memberledger"))
        .args(["serve", "--listen", "127.0.0.1:0", "--rate-per-sec", "0"])
        .arg("--db")
        .arg(db)
        .arg("--tokens")
        .arg(tokens)
        .args(["--now", "2026-06-01T00:00:00Z"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let log = Arc::new(Mutex::new(String::new()));
    let addr = loop {
        let line = lines
            .next()
            .expect("the server says where it listens")
            .unwrap();
        log.lock().unwrap().push_str(&line);
        if let Some(i) = line.find("listening on http://") {
            break line[i + "listening on http://".len()..].trim().to_owned();
        }
    };
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let mut s = sink.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
    Served { child, addr, log }
}

/// Client `t`'s `i`-th command: its own member, times going forward.
fn command(t: u64, i: u64) -> String {
    let id = Uuid::from_u128(0xd000_0000_0000_4000_8000_0000_0000_0000 | u128::from(t << 32 | i));
    let rest = if i == 0 {
        r#""type":"enroll""#.to_owned()
    } else {
        format!(r#""type":"recharge","amount":"{}.00""#, 10 + i % 90)
    };
    let at = format!(
        "2026-01-01T{:02}:{:02}:{:02}Z",
        i / 3600,
        (i / 60) % 60,
        i % 60
    );
    let line = format!(
        r#"{{"id":"{id}","at":"{at}","member":"K{t}","store":"S{}",{rest}}}"#,
        t % 3
    );
    line
}

/// Posts commands from `clients` threads until `stop`; returns every acknowledged receipt.
fn load(
    addr: &str,
    token: &str,
    clients: u64,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Vec<(String, serde_json::Value)>>> {
    (0..clients)
        .map(|t| {
            let (url, auth, stop) = (
                format!("http://{addr}/v1/commands"),
                format!("Bearer {token}"),
                stop.clone(),
            );
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(10))
                    .build();
                let mut acked = Vec::new();
                for i in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let line = command(t, i);
                    match agent
                        .post(&url)
                        .set("Authorization", &auth)
                        .send_string(&line)
                    {
                        Ok(r) => acked.push((
                            line,
                            serde_json::from_str(&r.into_string().unwrap()).unwrap(),
                        )),
                        Err(ureq::Error::Status(code, r)) => {
                            panic!("{code}: {}", r.into_string().unwrap())
                        }
                        Err(_) => break, // the server is gone
                    }
                }
                acked
            })
        })
        .collect()
}

#[test]
fn commands_acknowledged_over_http_survive_sigkill_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (db, tokens) = (dir.path().join("ledger"), dir.path().join("tokens"));
    memberledger(&["init", "--db", db.to_str().unwrap()]);
    let token = memberledger(&[
        "token",
        "add",
        "--role",
        "hq",
        "--tokens",
        tokens.to_str().unwrap(),
    ]);
    let token = token.trim().to_owned();
    let mut server = serve(&db, &tokens);
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(&server.addr, &token, 6, &stop);
    std::thread::sleep(Duration::from_millis(1500));
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    let acked: Vec<(String, serde_json::Value)> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    assert!(
        acked.len() > 6,
        "the load reached the server: {}",
        acked.len()
    );

    // Every acknowledged command is there, at the positions and hashes of its receipt, once.
    let ledger = Ledger::open_existing(&db).unwrap();
    assert!(ledger.verify().unwrap().ok());
    let mut recorded: HashMap<Uuid, Vec<(u64, String)>> = HashMap::new();
    for e in ledger.events(1, 4096) {
        let e = e.unwrap();
        recorded
            .entry(e.event.command)
            .or_default()
            .push((e.position, hex_of(&e)));
    }
    for (_, r) in &acked {
        let id = Uuid::parse_str(r["command"].as_str().unwrap()).unwrap();
        let want: Vec<(u64, String)> = r["events"]
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
        assert_eq!(recorded.get(&id), Some(&want), "command {id}");
    }
    drop(ledger);

    // Restarted, the server answers every acknowledged command again as replayed, verify
    // passes, and SIGTERM lets it finish and exit 0.
    let mut server = serve(&db, &tokens);
    let agent = ureq::agent();
    let auth = format!("Bearer {token}");
    for (line, r) in acked.iter().take(20) {
        let again: serde_json::Value = agent
            .post(&format!("http://{}/v1/commands", server.addr))
            .set("Authorization", &auth)
            .send_string(line)
            .unwrap()
            .into_json()
            .unwrap();
        assert_eq!(again["replayed"], true);
        assert_eq!(again["events"], r["events"]);
    }
    let verify: serde_json::Value = agent
        .get(&format!("http://{}/v1/verify", server.addr))
        .set("Authorization", &auth)
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(verify["problem"], serde_json::Value::Null);
    terminate(&server.child);
    assert!(
        server.child.wait().unwrap().success(),
        "SIGTERM is a clean exit"
    );
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log.lock().unwrap().clone();
    assert!(
        log.contains("role=hq"),
        "one line per request with the role:\n{log}"
    );
    assert!(log.contains("status=200"));
    assert!(!log.contains(&token), "the token is never logged");
    assert!(!log.contains(&token["mlt_".len()..]), "not even in part");
}

fn hex_of(e: &memberledger::domain::RecordedEvent) -> String {
    let json: serde_json::Value = serde_json::from_str(&e.to_export_json()).unwrap();
    json["hash"].as_str().unwrap().to_owned()
}

fn terminate(child: &Child) {
    let status = Process::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

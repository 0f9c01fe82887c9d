//! The CLI's input and output streams (issue 11, items 7 and 15): an overlong line is skipped
//! in bounded memory; failed receipts name their line; a byte order mark is accepted at the
//! start and named elsewhere; output that cannot be written stops `apply` with the counts and
//! is exit 2, never a panic; `statement` refuses a period that ends before it starts; the demo
//! says what comes on top of `--commands`.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_memberledger"))
}

fn run(db: &Path, args: &[&str]) -> Output {
    bin().arg("--db").arg(db).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn receipts(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn enroll(n: u32, member: &str) -> String {
    format!(
        r#"{{"id":"00000000-0000-4000-8000-{n:012}","at":"2026-03-01T10:00:00Z","type":"enroll","member":"{member}","store":"S1"}}"#
    )
}

fn new_ledger() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    assert!(run(&db, &["init"]).status.success());
    (dir, db)
}

/// The peak resident memory of the child, in KiB: `/usr/bin/time` when present, else the
/// child's own `VmHWM` read while it runs (the child is started by `start`).
fn peak_rss_kib(start: impl FnOnce(Command) -> Child) -> (Output, u64) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("time.txt");
    let gnu_time = Path::new("/usr/bin/time").exists();
    let mut cmd = if gnu_time {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "%M", "-o"])
            .arg(&report)
            .arg(env!("CARGO_BIN_EXE_memberledger"));
        c
    } else {
        bin()
    };
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = start(cmd);
    let status = format!("/proc/{}/status", child.id());
    let watcher = std::thread::spawn(move || {
        let mut peak = 0u64;
        while let Ok(text) = std::fs::read_to_string(&status) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
            match hwm {
                Some(kib) => peak = peak.max(kib),
                None => break,
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        peak
    });
    let output = child.wait_with_output().unwrap();
    let polled = watcher.join().unwrap();
    let peak = if gnu_time {
        let text = std::fs::read_to_string(&report).unwrap();
        text.lines().last().unwrap().trim().parse().unwrap()
    } else {
        polled
    };
    (output, peak)
}

/// Feeds `apply -` a line of `size` bytes of `byte` (then `after`) and returns its output
/// and peak memory.
fn apply_huge_line(db: &Path, byte: u8, size: usize, after: &str) -> (Output, u64) {
    let after = after.to_owned();
    peak_rss_kib(|mut cmd| {
        let mut child = cmd
            .arg("--db")
            .arg(db)
            .args(["apply", "-"])
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            let chunk = vec![byte; 1 << 20];
            let mut left = size;
            while left > 0 {
                let n = left.min(chunk.len());
                stdin.write_all(&chunk[..n]).unwrap();
                left -= n;
            }
            stdin.write_all(after.as_bytes()).unwrap();
        });
        child
    })
}

const HUGE: usize = 200 << 20;
/// Far below the 200 MiB line, far above what `apply` needs (about 50 MiB in a debug build).
const BOUND_KIB: u64 = 120 << 10;

#[test]
fn apply_skips_an_overlong_line_in_bounded_memory_and_goes_on() {
    let (_dir, db) = new_ledger();
    let (o, peak) = apply_huge_line(&db, b'x', HUGE, &format!("\n{}\n", enroll(1, "M1")));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        peak < BOUND_KIB,
        "peak memory {peak} KiB for a 200 MiB line"
    );
    let r = receipts(&o);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["error"]["code"], "invalid_command");
    assert_eq!(r[0]["line"], 1);
    let message = r[0]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("longer than 16384 bytes ({HUGE} bytes, skipped)")),
        "{message}"
    );
    assert_eq!(r[1]["ok"], true, "the next line is applied");
}

#[test]
fn apply_skips_a_nul_stream_without_a_newline_in_bounded_memory() {
    let (_dir, db) = new_ledger();
    let (o, peak) = apply_huge_line(&db, 0, HUGE, "");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        peak < BOUND_KIB,
        "peak memory {peak} KiB for 200 MiB of NULs"
    );
    let r = receipts(&o);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["error"]["code"], "invalid_command");
    assert_eq!(r[0]["line"], 1);
}

#[test]
fn failed_receipts_carry_the_number_of_their_input_line() {
    let (dir, db) = new_ledger();
    let input = [
        enroll(1, "M1"),
        String::new(),
        "{not json".to_owned(),
        enroll(1, "M1"),
        enroll(2, "M1"),
    ]
    .join("\n");
    let file = dir.path().join("in.jsonl");
    std::fs::write(&file, input).unwrap();
    let o = run(&db, &["apply", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let r = receipts(&o);
    assert_eq!(r.len(), 4, "the blank line has no receipt but is counted");
    assert_eq!(r[0]["ok"], true);
    assert!(r[0].get("line").is_none(), "a success keeps its shape");
    assert_eq!(
        (r[1]["line"].as_u64(), r[1]["ok"].as_bool()),
        (Some(3), Some(false))
    );
    assert_eq!(r[2]["replayed"], true);
    assert_eq!(r[3]["line"], 5);
    assert_eq!(r[3]["error"]["code"], "member_exists");
}

#[test]
fn a_byte_order_mark_is_accepted_at_the_start_of_the_input_and_named_elsewhere() {
    let (dir, db) = new_ledger();
    let input = format!("\u{feff}{}\n\u{feff}{}\n", enroll(1, "M1"), enroll(2, "M2"));
    let file = dir.path().join("bom.jsonl");
    std::fs::write(&file, input).unwrap();
    let o = run(&db, &["apply", file.to_str().unwrap()]);
    let r = receipts(&o);
    assert_eq!(r[0]["ok"], true, "{:?}", r[0]);
    assert_eq!(r[1]["error"]["code"], "invalid_command");
    assert_eq!(r[1]["line"], 2);
    let message = r[1]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("byte order mark, U+FEFF, at byte 0"),
        "{message}"
    );
}

fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
}

#[test]
fn init_with_a_closed_or_full_stdout_exits_2_with_a_message_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    for (i, why) in ["Broken pipe", "No space left"].into_iter().enumerate() {
        let db = dir.path().join(format!("l{i}"));
        let mut init = bin();
        init.arg("--db").arg(&db).arg("init").stderr(Stdio::piped());
        let o = if i == 0 {
            // The reader goes away at once: long before the ledger is created and said so.
            let mut child = init.stdout(Stdio::piped()).spawn().unwrap();
            drop(child.stdout.take());
            child.wait_with_output().unwrap()
        } else {
            init.stdout(dev_full()).output().unwrap()
        };
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{e}");
        assert!(!e.contains("panicked"), "{e}");
        assert!(
            e.contains("created a ledger at")
                && e.contains("cannot write to standard output")
                && e.contains(why),
            "{e}"
        );
        assert!(
            run(&db, &["verify"]).status.success(),
            "the ledger was created"
        );
    }
    // Reading commands, and a sweep that records, say so too.
    let db = dir.path().join("l0");
    for args in [
        &["verify"][..],
        &["policy", "show"],
        &["export", "--format", "csv"],
        &["expire", "--as-of", "2026-03-01T00:00:00Z"],
    ] {
        let o = bin()
            .arg("--db")
            .arg(&db)
            .args(args)
            .stdout(dev_full())
            .output()
            .unwrap();
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(
            !e.contains("panicked") && e.contains("No space left"),
            "{args:?}: {e}"
        );
    }
}

#[test]
fn a_failure_with_a_full_stderr_is_its_exit_code_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let o = bin()
        .arg("--db")
        .arg(dir.path().join("none"))
        .arg("verify")
        .stderr(dev_full())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "no ledger: exit 2, not a panic's 101"
    );
}

#[test]
fn apply_stops_reading_and_exits_2_when_its_receipts_cannot_be_written() {
    let (dir, db) = new_ledger();
    let input: String = (1..=3000)
        .map(|n| enroll(n, &format!("M{n}")) + "\n")
        .collect();
    let file = dir.path().join("many.jsonl");
    std::fs::write(&file, input).unwrap();
    // `apply | head -1`: the reader takes one receipt and goes away.
    let mut child = bin()
        .arg("--db")
        .arg(&db)
        .args(["apply", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains(r#""ok":true"#));
    let mut e = String::new();
    child.stderr.take().unwrap().read_to_string(&mut e).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "{e}");
    let durable: u64 = e
        .split(" commands were durable")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in: {e}"));
    assert!(
        e.contains("executing no further command") && e.contains("receipts were printed"),
        "{e}"
    );
    assert!((1..3000).contains(&durable), "{e}");
    let export = run(&db, &["export"]);
    assert_eq!(
        // Every event but the founding policy's record (position 1) is one of these commands.
        String::from_utf8(export.stdout).unwrap().lines().count() as u64 - 1,
        durable,
        "what it says was durable is what the ledger holds"
    );
    // A full disk under the receipts: the same.
    let o = bin()
        .arg("--db")
        .arg(&db)
        .args(["apply", file.to_str().unwrap()])
        .stdout(dev_full())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("0 receipts were printed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn statement_refuses_a_period_that_ends_before_it_starts() {
    let (dir, db) = new_ledger();
    let file = dir.path().join("in.jsonl");
    std::fs::write(&file, enroll(1, "M1")).unwrap();
    assert!(run(&db, &["apply", file.to_str().unwrap()])
        .status
        .success());
    let o = run(
        &db,
        &[
            "statement",
            "M1",
            "--from",
            "2026-04-01T00:00:00Z",
            "--to",
            "2026-03-01T00:00:00Z",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--from 2026-04-01T00:00:00Z is after --to 2026-03-01T00:00:00Z"),
        "{}",
        stderr(&o)
    );
    let o = run(
        &db,
        &[
            "statement",
            "M1",
            "--from",
            "2026-03-01T00:00:00Z",
            "--to",
            "2026-03-01T00:00:00Z",
        ],
    );
    assert!(o.status.success(), "a period of one instant is fine");
}

#[test]
fn demo_says_that_settlements_sweeps_and_policy_publications_come_on_top() {
    let help = bin().args(["demo", "--help"]).output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(help.contains("come on top"), "{help}");
    let dir = tempfile::tempdir().unwrap();
    let o = bin()
        .args(["demo", "--members", "30", "--commands", "400", "--out"])
        .arg(dir.path().join("d"))
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(o.status.success(), "{text}");
    assert!(text.contains("(--commands 400); on top:"), "{text}");
    assert!(
        text.contains("month-end settlements") && text.contains("policy publication"),
        "{text}"
    );
}

#[test]
fn apply_from_an_input_that_stays_open_ends_when_its_receipts_cannot_be_written() {
    let (_dir, db) = new_ledger();
    // A producer that keeps its end of the pipe open: the reader of the input is then blocked
    // waiting for more, and the run must end without it.
    let mut child = bin()
        .arg("--db")
        .arg(&db)
        .args(["apply", "-"])
        .stdin(Stdio::piped())
        .stdout(dev_full())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let lines: String = (1..=50)
        .map(|n| enroll(n, &format!("M{n}")) + "\n")
        .collect();
    stdin.write_all(lines.as_bytes()).unwrap();
    stdin.flush().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("apply did not end while its input stayed open and its output was full");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    drop(stdin);
    assert_eq!(status.code(), Some(2));
    let mut e = String::new();
    child.stderr.take().unwrap().read_to_string(&mut e).unwrap();
    assert!(e.contains("executing no further command"), "{e}");
}

//! Fault campaigns with the real binary: a full disk (a small tmpfs) and damage to sled's own
//! files. Never a hang (every run has a watchdog), never a panic (exit 101 or "panicked"),
//! never a false `corrupt` after a full disk, never a silent loss: either the error names the
//! file or a position, or `verify` passes with every acknowledged command there.
//!
//! `MEMBERLEDGER_DISKFULL_TRIALS=40` runs a longer disk-full campaign. The disk is a small
//! tmpfs when the tests may mount one (root); elsewhere a limit on the size of the files the
//! binary writes (`prlimit --fsize`), whose writes then fail as on a full disk.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_memberledger"))
}

/// Runs the binary with a watchdog: a run longer than `limit` is a hang, and fails the test.
fn run_with(db: &Path, args: &[&str], stdin: Option<&Path>, limit: Duration) -> Output {
    run_limited(db, args, stdin, limit, None)
}

/// [`run_with`], the files it writes limited to `fsize` bytes when given (`RLIMIT_FSIZE`, with
/// `SIGXFSZ` ignored, so a write past it fails with `EFBIG` as a full disk fails with `ENOSPC`).
fn run_limited(
    db: &Path,
    args: &[&str],
    stdin: Option<&Path>,
    limit: Duration,
    fsize: Option<u64>,
) -> Output {
    let mut cmd = match fsize {
        None => bin(),
        Some(n) => {
            let mut c = Command::new("sh");
            c.args([
                "-c",
                &format!(r#"trap '' XFSZ; exec prlimit --fsize={n} "$0" "$@""#),
                env!("CARGO_BIN_EXE_memberledger"),
            ]);
            c
        }
    };
    cmd.arg("--db").arg(db).args(args);
    cmd.stdin(match stdin {
        Some(f) => Stdio::from(std::fs::File::open(f).unwrap()),
        None => Stdio::null(),
    });
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // Drain the pipes on threads, so a chatty child never blocks on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let o = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut v).unwrap();
        v
    });
    let e = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut v).unwrap();
        v
    });
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let output = Output {
                status,
                stdout: o.join().unwrap(),
                stderr: e.join().unwrap(),
            };
            assert_ne!(output.status.code(), Some(101), "a panic: {output:?}");
            assert!(
                !String::from_utf8_lossy(&output.stderr).contains("panicked"),
                "a panic: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            return output;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`memberledger {}` hung (over {limit:?})", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run(db: &Path, args: &[&str]) -> Output {
    run_with(db, args, None, Duration::from_secs(60))
}

/// `members` enrolments, then `recharges` recharges among them, one a second.
fn commands(members: usize, recharges: usize) -> String {
    let mut s = String::new();
    for i in 0..members + recharges {
        let id = format!("00000000-0000-4000-9000-{i:012}");
        let at = format!(
            "2026-01-{:02}T{:02}:{:02}:{:02}Z",
            1 + i / 86_400,
            (i / 3600) % 24,
            (i / 60) % 60,
            i % 60
        );
        let m = i % members;
        let rest = if i < members {
            r#""type":"enroll""#.to_owned()
        } else {
            r#""type":"recharge","amount":"100.00""#.to_owned()
        };
        s.push_str(&format!(
            r#"{{"id":"{id}","at":"{at}","member":"M{m}","store":"S1",{rest}}}"#
        ));
        s.push('\n');
    }
    s
}

/// The command ids of the receipts that acknowledged a command.
fn acknowledged(apply_stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(apply_stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["ok"] == true)
        .map(|r| r["command"].as_str().unwrap().to_owned())
        .collect()
}

/// The command ids the ledger holds, from its JSONL export.
fn recorded(db: &Path) -> HashSet<String> {
    let o = run(db, &["export", "--format", "jsonl"]);
    assert!(o.status.success(), "{o:?}");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|e| e["command"].as_str().map(str::to_owned))
        .collect()
}

fn sh(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", cmd])
        .status()
        .is_ok_and(|s| s.success())
}

/// A tmpfs of `kib` KiB mounted on `dir` (root only); unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, kib: u64) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        sh(&format!(
            "mount -t tmpfs -o size={kib}k tmpfs '{}' 2>/dev/null",
            dir.display()
        ))
        .then(|| Tmpfs(dir.to_path_buf()))
    }
    fn resize(&self, kib: u64) {
        assert!(sh(&format!(
            "mount -o remount,size={kib}k '{}'",
            self.0.display()
        )));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        sh(&format!("umount -l '{}'", self.0.display()));
    }
}

/// A disk that fills: a small tmpfs when this process may mount one (root), else a limit on
/// the size of the files the binary writes.
enum Full {
    Tmpfs(Tmpfs),
    SizeLimit(PathBuf, u64),
}

impl Full {
    fn new(dir: &Path, trial: u64) -> Full {
        match Tmpfs::mount(dir, 1536 + 256 * (trial % 4)) {
            Some(fs) => Full::Tmpfs(fs),
            None => {
                std::fs::create_dir_all(dir).unwrap();
                Full::SizeLimit(dir.to_path_buf(), 500_000 + 150_000 * (trial % 4))
            }
        }
    }
    fn dir(&self) -> &Path {
        match self {
            Full::Tmpfs(fs) => &fs.0,
            Full::SizeLimit(dir, _) => dir,
        }
    }
    fn limit(&self) -> Option<u64> {
        match self {
            Full::Tmpfs(_) => None,
            Full::SizeLimit(_, n) => Some(*n),
        }
    }
    /// Frees space: a larger tmpfs, or no limit.
    fn free(&mut self) {
        match self {
            Full::Tmpfs(fs) => fs.resize(16 * 1024),
            Full::SizeLimit(dir, _) => *self = Full::SizeLimit(std::mem::take(dir), u64::MAX),
        }
    }
}

#[test]
fn a_full_disk_is_a_storage_error_never_a_hang_nor_a_false_corrupt() {
    let trials: u64 = std::env::var("MEMBERLEDGER_DISKFULL_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("commands.jsonl");
    std::fs::write(&input, commands(50, 8000)).unwrap();
    let mut full = 0;
    for trial in 0..trials {
        let mut disk = Full::new(&dir.path().join(format!("fs{trial}")), trial);
        let db = disk.dir().join("ledger");
        assert!(run(&db, &["init"]).status.success());
        let minutes = Duration::from_secs(120);
        let o = run_limited(&db, &["apply", "-"], Some(&input), minutes, disk.limit());
        let acked = acknowledged(&o.stdout);
        let err = String::from_utf8_lossy(&o.stderr);
        if o.status.code() == Some(2) {
            full += 1;
            assert!(err.contains("storage"), "{err}");
            assert!(!err.contains("Os {") && !err.contains("backtrace"), "{err}");
        }
        // Opening again on the full disk: a storage error or a valid ledger, never `corrupt`.
        let o = run_limited(&db, &["verify"], None, minutes, disk.limit());
        assert!(
            o.status.success() || o.status.code() == Some(2),
            "trial {trial}: {o:?}"
        );
        assert!(
            !String::from_utf8_lossy(&o.stderr).contains("corrupt"),
            "{o:?}"
        );
        // And it leaves no unfinished snapshot behind.
        let unfinished = std::fs::read_dir(&db)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".generating"));
        assert!(
            !unfinished,
            "trial {trial}: an unfinished snapshot was left"
        );
        // Space freed: everything acknowledged is there.
        disk.free();
        let o = run(&db, &["verify"]);
        assert!(o.status.success(), "trial {trial}: {o:?}");
        let held = recorded(&db);
        let lost: Vec<&String> = acked.iter().filter(|id| !held.contains(*id)).collect();
        assert!(lost.is_empty(), "trial {trial}: lost {lost:?}");
    }
    assert!(full > 0, "no trial filled the disk");
}

/// One damage of the campaign: its name, and what it does to a copy of the ledger.
type Damage = (String, Box<dyn Fn(&Path)>);

/// The damages of the campaign over a copy of a ledger.
fn damages(base: &Path) -> Vec<Damage> {
    let mut v: Vec<Damage> = Vec::new();
    let size = std::fs::metadata(base.join("db")).unwrap().len();
    for pct in (5..100).step_by(5) {
        for snapshot in [false, true] {
            v.push((
                format!(
                    "db cut to {pct} %{}",
                    if snapshot { "" } else { ", no snapshot" }
                ),
                Box::new(move |d: &Path| {
                    if !snapshot {
                        remove_matching(d, "snap.");
                    }
                    cut(&d.join("db"), size * pct / 100);
                }),
            ));
        }
    }
    for i in 1..=12u64 {
        v.push((
            format!("a bit flipped in db at {i}/13"),
            Box::new(move |d: &Path| flip(&d.join("db"), size * i / 13)),
        ));
    }
    v.push((
        "snapshot deleted".into(),
        Box::new(|d: &Path| remove_matching(d, "snap.")),
    ));
    v.push((
        "snapshot cut".into(),
        Box::new(|d: &Path| cut(&first(d, "snap."), 40)),
    ));
    v.push((
        "snapshot flipped".into(),
        Box::new(|d: &Path| flip(&first(d, "snap."), 20)),
    ));
    v.push((
        "conf deleted".into(),
        Box::new(|d: &Path| rm(&d.join("conf"))),
    ));
    v.push((
        "anchor deleted".into(),
        Box::new(|d: &Path| rm(&d.join("memberledger.head"))),
    ));
    v.push((
        "anchor emptied".into(),
        Box::new(|d: &Path| cut(&d.join("memberledger.head"), 0)),
    ));
    for blob in std::fs::read_dir(base.join("blobs")).unwrap().flatten() {
        let name = blob.file_name();
        let n = name.clone();
        v.push((
            format!("blob {} deleted", name.to_string_lossy()),
            Box::new(move |d: &Path| rm(&d.join("blobs").join(&n))),
        ));
        v.push((
            format!("blob {} flipped", name.to_string_lossy()),
            Box::new(move |d: &Path| flip(&d.join("blobs").join(&name), 100)),
        ));
    }
    v
}

#[test]
fn damage_to_sled_files_is_reported_with_the_file_never_a_panic_nor_a_silent_loss() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    let input = dir.path().join("commands.jsonl");
    std::fs::write(&input, commands(50, 3700)).unwrap();
    assert!(run(&base, &["init"]).status.success());
    let o = run_with(
        &base,
        &["apply", "-"],
        Some(&input),
        Duration::from_secs(120),
    );
    assert!(o.status.success(), "{o:?}");
    let acked = acknowledged(&o.stdout);
    let o = run(&base, &["verify", "--json"]);
    let events = serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["events"].clone();
    for (what, damage) in damages(&base) {
        let d = dir.path().join("case");
        let _ = std::fs::remove_dir_all(&d);
        copy_dir(&base, &d);
        damage(&d);
        let o = run(&d, &["verify", "--json"]);
        let report: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|_| panic!("{what}: no report: {o:?}"));
        match o.status.code() {
            Some(0) => {
                assert_eq!(report["events"], events, "{what}: a silent loss");
                let held = recorded(&d);
                assert!(acked.iter().all(|id| held.contains(id)), "{what}: lost");
            }
            Some(1) => {
                let p = &report["problem"];
                let why = p["what"].as_str().unwrap();
                assert!(
                    p["position"].as_u64() > Some(0) || why.contains(&d.display().to_string()),
                    "{what}: neither a position nor the file: {why}"
                );
                assert!(
                    !why.contains("backtrace") && !why.contains("Inline("),
                    "{why}"
                );
            }
            _ => panic!("{what}: {o:?}"),
        }
        let o = run(&d, &["member", "show", "M1"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.success() || (o.status.code() == Some(2) && err.contains("corrupt")),
            "{what}: {o:?}"
        );
    }
}

#[test]
fn a_read_only_ledger_serves_verify_export_and_member_show_and_refuses_apply() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    let input = dir.path().join("commands.jsonl");
    std::fs::write(&input, commands(5, 20)).unwrap();
    assert!(run(&db, &["init"]).status.success());
    assert!(
        run_with(&db, &["apply", "-"], Some(&input), Duration::from_secs(60))
            .status
            .success()
    );
    let before = run(&db, &["export"]).stdout;
    let root = sh("test \"$(id -u)\" = 0");
    let p = db.display();
    let made = if root {
        sh(&format!(
            "mount --bind '{p}' '{p}' && mount -o remount,bind,ro '{p}'"
        ))
    } else {
        sh(&format!("chmod -R a-w '{p}'"))
    };
    if !made {
        eprintln!("skipped: cannot make a directory read-only here");
        return;
    }
    let o = run(&db, &["verify"]);
    let o2 = run(&db, &["export"]);
    let o3 = run(&db, &["member", "show", "M1"]);
    let o4 = run(&db, &["report", "trial-balance"]);
    let more = dir.path().join("more.jsonl");
    std::fs::File::create(&more)
        .unwrap()
        .write_all(
            br#"{"id":"00000000-0000-4000-9000-999999999999","at":"2026-02-01T00:00:00Z","member":"M9","store":"S1","type":"enroll"}"#,
        )
        .unwrap();
    let o5 = run_with(&db, &["apply", "-"], Some(&more), Duration::from_secs(60));
    if root {
        sh(&format!("umount '{p}'"));
    } else {
        sh(&format!("chmod -R u+w '{p}'"));
    }
    assert!(o.status.success(), "{o:?}");
    assert_eq!(o2.stdout, before);
    assert!(o3.status.success() && o4.status.success(), "{o3:?} {o4:?}");
    assert_ne!(o5.status.code(), Some(0));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&o5.stdout),
        String::from_utf8_lossy(&o5.stderr)
    );
    assert!(said.contains("read-only"), "{o5:?}");
    // Nothing was written: the ledger is as it was.
    assert_eq!(run(&db, &["export"]).stdout, before);
}

fn remove_matching(d: &Path, prefix: &str) {
    for e in std::fs::read_dir(d).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with(prefix) {
            rm(&e.path());
        }
    }
}

fn first(d: &Path, prefix: &str) -> PathBuf {
    std::fs::read_dir(d)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| d.join("no-such-file"))
}

fn rm(p: &Path) {
    let _ = std::fs::remove_file(p);
}

fn cut(p: &Path, len: u64) {
    if let Ok(f) = std::fs::OpenOptions::new().write(true).open(p) {
        f.set_len(len).unwrap();
    }
}

fn flip(p: &Path, at: u64) {
    if let Ok(mut bytes) = std::fs::read(p) {
        if let Some(b) = usize::try_from(at).ok().and_then(|i| bytes.get_mut(i)) {
            *b ^= 0x10;
            std::fs::write(p, bytes).unwrap();
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Fails naming the files under `d` that differ from `before` (added, removed or changed).
fn assert_unchanged(d: &Path, before: &[(PathBuf, Vec<u8>)], what: &str) {
    let after = files_of(d);
    let mut changed: Vec<&PathBuf> = before
        .iter()
        .filter(|f| !after.contains(f))
        .chain(after.iter().filter(|f| !before.contains(f)))
        .map(|(p, _)| p)
        .collect();
    changed.dedup();
    assert!(changed.is_empty(), "{what}: {changed:?}");
}

/// Every file under `d` (relative path, bytes), to compare a directory before and after.
fn files_of(d: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![d.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(d).unwrap().to_path_buf();
                out.push((rel, std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A small demo ledger in `dir/demo` (about 6,800 events, a few blob files).
fn demo(dir: &Path) -> PathBuf {
    let base = dir.join("demo");
    let o = bin()
        .args(["demo", "--members", "300", "--commands", "5000", "--out"])
        .arg(&base)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    base
}

#[test]
fn sled_files_holding_no_ledger_are_corrupt_and_never_taken_for_a_new_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let base = demo(dir.path());
    // The outside tester's case: the snapshot and the anchor deleted, the log cut to 100 kB,
    // which sled recovers as an empty log.
    let d = dir.path().join("cut");
    copy_dir(&base, &d);
    remove_matching(&d, "snap.");
    rm(&d.join("memberledger.head"));
    cut(&d.join("db"), 100_000);
    let before = files_of(&d);
    let o = run(&d, &["verify", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let what = report["problem"]["what"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        what.contains("sled's files are here") && what.contains("hold no ledger"),
        "{report}"
    );
    assert!(what.contains("interrupted"), "{what}");
    for args in [&["init"][..], &["member", "show", "M0000001"], &["export"]] {
        let o = run(&d, args);
        assert!(
            !o.status.success(),
            "{args:?} succeeded over a damaged ledger: {o:?}"
        );
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("hold no ledger"),
            "{args:?}: {o:?}"
        );
    }
    let export = dir.path().join("export.jsonl");
    std::fs::write(&export, run(&base, &["export"]).stdout).unwrap();
    let o = run(&d, &["restore", "--from", export.to_str().unwrap()]);
    assert!(!o.status.success(), "restore over a damaged ledger: {o:?}");
    assert_unchanged(&d, &before, "the damaged ledger was changed");
    // An absent or empty directory is still a new ledger.
    let new = dir.path().join("new");
    assert!(run(&new, &["init"]).status.success());
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(run(&empty, &["init"]).status.success());
    assert_eq!(run(&empty, &["verify"]).status.code(), Some(0));
}

#[test]
fn verify_never_writes_to_the_ledger_directory() {
    let dir = tempfile::tempdir().unwrap();
    let base = demo(dir.path());
    let blobs = std::fs::read_dir(base.join("blobs")).unwrap().count();
    assert!(blobs > 0, "the demo has blob files");
    // A sound ledger: verify passes and leaves every byte as it was.
    let before = files_of(&base);
    assert_eq!(run(&base, &["verify"]).status.code(), Some(0));
    assert_unchanged(&base, &before, "verify changed a sound ledger");
    // The tester's case: the snapshot deleted, the log cut. sled's recovery on a writable open
    // zeroed the cut region and extended `db`, and the next open deleted every blob file.
    let d = dir.path().join("cut");
    copy_dir(&base, &d);
    remove_matching(&d, "snap.");
    cut(&d.join("db"), 100_000);
    let before = files_of(&d);
    for _ in 0..2 {
        let o = run(&d, &["verify"]);
        assert_eq!(o.status.code(), Some(1), "{o:?}");
        assert_unchanged(&d, &before, "verify changed a damaged ledger");
    }
    assert_eq!(std::fs::read_dir(d.join("blobs")).unwrap().count(), blobs);
}

#[test]
fn commands_that_open_a_cut_log_leave_its_files_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let base = demo(dir.path());
    let d = dir.path().join("cut");
    copy_dir(&base, &d);
    remove_matching(&d, "snap.");
    cut(&d.join("db"), 100_000);
    let before = files_of(&d);
    let input = dir.path().join("commands.jsonl");
    std::fs::write(&input, commands(1, 1)).unwrap();
    for args in [
        &["member", "show", "M0000001"][..],
        &["export"],
        &["apply", input.to_str().unwrap()],
        &["member", "show", "M0000001"],
    ] {
        let o = run(&d, args);
        assert!(!o.status.success(), "{args:?} on a cut log: {o:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("corrupt"),
            "{args:?}: {o:?}"
        );
        assert_unchanged(&d, &before, "a command changed a cut ledger");
    }
}

//! The demo is pinned: the same seed and shape record the same chain, so its head does not
//! move when the demo's or the generator's code does.
//!
//! The full demo (seed 42, 100,000 commands) takes minutes in a debug build; its head,
//! `0a08f39e4422300157d0b91e9e3d411c212f8ed9db10555bde88a3b34640ff95`, is checked in release:
//! `cargo run --release -p memberledger-cli -- demo | grep 'chain head'`, or
//! `cargo test --release -p memberledger-testkit --test year -- --ignored` (the same year on an
//! in-memory ledger). Here a smaller year goes through the same code on sled.

use std::process::Command as Process;

/// The head of the small year (seed 42, 5 stores, 200 members, 3,000 commands): the same as
/// the test kit's `small_year_chain_head_is_pinned`, recorded in memory.
const SMALL_HEAD: &str = "a406f15f8bbbbc4326cd7101228e92043b0e5a267e2e2c6a258b401b0001423b";

#[test]
fn demo_chain_head_is_pinned_for_its_seed_and_shape() {
    let dir = tempfile::tempdir().unwrap();
    let out = Process::new(env!("CARGO_BIN_EXE_memberledger"))
        .args(["demo", "--seed", "42", "--stores", "5", "--members", "200"])
        .args(["--commands", "3000", "--out"])
        .arg(dir.path().join("demo"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    let head = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("chain head "))
        .unwrap_or_else(|| panic!("no chain head in {stdout}"));
    assert_eq!(head, SMALL_HEAD);
    assert!(stdout.contains("verify: ok"), "{stdout}");
}

//! The year generator is pinned: the same seed and shape give the same commands, so the demo's
//! chain head does not move when the generator's code does.

use memberledger::Ledger;
use memberledger_testkit::year::{Mix, Shape, Year};
use sha2::{Digest, Sha256};

/// The demo's chain head (`memberledger demo`, seed 42, the default shape).
const DEMO_HEAD: &str = "0a08f39e4422300157d0b91e9e3d411c212f8ed9db10555bde88a3b34640ff95";

/// A year as the demo records it, on an in-memory ledger: its chain head.
fn head_of_year(seed: u64, shape: Shape) -> String {
    let ledger = Ledger::in_memory_with(memberledger_testkit::year::year_policy());
    let mut year = Year::new(seed, shape);
    ledger.set_clock(memberledger::Clock::fixed(year.end()));
    year.record(&ledger, |_| {}, |_| {})
        .expect("the year records");
    year.close(&ledger, |_| {});
    year.review(&ledger, |_| {});
    let report = ledger.verify().expect("the ledger verifies");
    assert!(report.ok(), "{:?}", report.problem);
    report.head
}

/// A small year (the demo's code path: groups, learning, the policy publication, settlements,
/// the sweep) fast enough for a debug build.
const SMALL: Shape = Shape {
    stores: 5,
    members: 200,
    commands: 3_000,
    days: 365,
    mix: Mix::DEMO,
};

#[test]
fn small_year_chain_head_is_pinned() {
    assert_eq!(
        head_of_year(42, SMALL),
        "a406f15f8bbbbc4326cd7101228e92043b0e5a267e2e2c6a258b401b0001423b"
    );
}

/// The generator alone, open-loop (nothing learnt): the digest of its first commands.
#[test]
fn open_loop_commands_are_pinned() {
    let mut year = Year::new(42, Shape::default());
    let mut digest = Sha256::new();
    for i in 0..2_000 {
        digest.update(year.command(i).to_json().as_bytes());
        digest.update(b"\n");
    }
    assert_eq!(
        hex::encode(digest.finalize()),
        "72c498e715e51d5d6edab32adeeab9b7cfc2d437be6ab080efa7bae94c57b43d"
    );
}

/// The full demo (100,000 commands): slow in a debug build, so run it in release:
/// `cargo test --release -p memberledger-testkit --test year -- --ignored`.
#[test]
#[ignore = "the full demo year: run in release"]
fn demo_year_chain_head_is_pinned() {
    assert_eq!(head_of_year(42, Shape::default()), DEMO_HEAD);
}

/// The mix is the shape's: a kind of command with no share is asked for only when a band before
/// it falls through to it, a larger share asks for more of it (open-loop, so only kinds that
/// need nothing learnt are counted).
#[test]
fn the_shapes_mix_sets_what_members_ask_for() {
    let count = |mix: Mix, kind: &str| {
        let mut year = Year::new(42, Shape { mix, ..SMALL });
        let kind = format!(r#""type":"{kind}""#);
        (0..SMALL.commands)
            .filter(|&i| year.command(i).to_json().contains(&kind))
            .count()
    };
    let no_grants = Mix {
        grant_bonus: 0,
        ..Mix::DEMO
    };
    // Only the package refund's roll, with no package known, falls through to a grant.
    assert!(10 * count(no_grants, "grant_bonus") < count(Mix::DEMO, "grant_bonus"));
    let more_tier_changes = Mix {
        change_tier: 200,
        ..Mix::DEMO
    };
    assert!(count(more_tier_changes, "change_tier") > 3 * count(Mix::DEMO, "change_tier").max(1));
    assert_eq!(Shape::default().mix, Mix::DEMO);
}

/// Every receipt of a small year (every event type the demo records, settlements and the
/// policy publication included) writes the same bytes straight from its events as through a
/// JSON value (`memberledger apply` prints the former).
#[test]
fn receipts_written_straight_equal_their_json_values() {
    let ledger = Ledger::in_memory_with(memberledger_testkit::year::year_policy());
    let mut year = Year::new(7, SMALL);
    ledger.set_clock(memberledger::Clock::fixed(year.end()));
    let mut checked = 0;
    year.record(
        &ledger,
        |r| {
            if let Ok(receipt) = r {
                let mut out = Vec::new();
                receipt.write_json(&mut out);
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    receipt.to_json().to_string()
                );
                checked += 1;
            }
        },
        |_| {},
    )
    .expect("the year records");
    assert!(checked > 2_000, "{checked} receipts");
}

//! The steady open-loop stream the benchmarks time: every member enrolls first, then a mix of
//! recharges, grants and consumptions, one second apart. Open-loop (it never looks at what the
//! ledger answered), so the same commands can be timed on any engine.
//!
//! ```
//! let commands = memberledger_testkit::steady::workload(50, 10, 3, 1);
//! assert_eq!(commands.len(), 50);
//! ```

use memberledger::Command;

use crate::Rng;

/// `n` commands over `members` members and `stores` stores: every member enrolls first, then
/// recharges (a quarter), grants (a tenth) and consumptions (the rest, a quarter of them away
/// from home), one second apart so times never go back.
pub fn workload(n: u64, members: u64, stores: u64, seed: u64) -> Vec<Command> {
    workload_iter(n, members, stores, seed).collect()
}

/// [`workload`] made one command at a time, so a run at scale holds only what it executes.
pub fn workload_iter(
    n: u64,
    members: u64,
    stores: u64,
    seed: u64,
) -> impl Iterator<Item = Command> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(move |i| {
            let member = if i < members { i } else { rng.below(members) };
            let home = member % stores;
            let roll = rng.below(100);
            let (store, rest) = if i < members {
                (home, r#""type":"enroll""#.to_owned())
            } else if roll < 25 {
                (home, format!(r#""type":"recharge","amount":"{}.00""#, 500 + 500 * rng.below(6)))
            } else if roll < 35 {
                (home, r#""type":"grant_bonus","amount":"20.00","reason":"campaign""#.to_owned())
            } else {
                let store = if rng.below(4) == 0 { rng.below(stores) } else { home };
                (store, format!(r#""type":"consume","amount":"{}.00""#, 88 + rng.below(300)))
            };
            let line = format!(
                r#"{{"id":"{:08x}-0000-4000-8000-{:012x}","at":"{}","member":"M{member}","store":"S{store}",{rest}}}"#,
                seed & 0xffff_ffff,
                i,
                at(i)
            );
            Command::from_json(&line).expect("the workload is valid")
        })
}

/// The time of the `i`-th command: one second apart from 2026-01-01.
pub fn at(i: u64) -> String {
    let day = i / 86_400;
    let (month, day) = (day / 28 + 1, day % 28 + 1);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        2026 + (month - 1) / 12,
        (month - 1) % 12 + 1,
        day,
        (i / 3600) % 24,
        (i / 60) % 60,
        i % 60
    )
}

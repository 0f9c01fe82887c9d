//! The memberledger test kit: what every test, bench, simulation and the demo share.
//!
//! - [`Rng`]: one seeded generator (SplitMix64), the same numbers on every platform, so a seed
//!   names a run.
//! - [`year`]: the realistic workload generator, a chain's year of commands (the CLI's demo is
//!   built on it; the same seed gives the same commands and so the same chain head). Its
//!   [`Shape`](year::Shape) sets the chain's size and the command mix ([`year::Mix`]).
//! - [`steady`]: the open-loop stream the benchmarks and the CLI's SIGKILL campaign run
//!   (enroll, recharge, grant, consume).
//! - [`model`]: the reference model, the built-in policy's rules written again from
//!   docs/RULES.md in cents and seconds; the simulation and the property tests check the
//!   ledger against it.
//! - [`Given`]: a given/when/then harness over an in-memory ledger, to write a business rule
//!   as it reads in docs/RULES.md.
//! - [`SharedStore`]: one store behind several ledgers, as processes share a PostgreSQL
//!   ledger, with a hook that runs once when a ledger has caught up (another writer racing).
//!
//! Two generators stay outside the kit on purpose. The simulation's
//! (`crates/memberledger/tests/sim/gen`) seeks edges rather than realism: it steps the clock
//! onto expiries and the edge of the upgrade window, retries ids with changed content, and
//! writes malformed input, all to be judged by [`model`]; a realistic year would rarely land
//! there. The audit tests' `realistic()` spells member and store ids four ways (`m-001`,
//! `vip_002`, `c.003.Q`) to exercise the export's account-name mapping, and refunds long
//! after the bonus drawn has expired, to see forfeits in the books.
//!
//! The crate is not published (`publish = false`): it lives in the workspace, and the CLI
//! depends on it for its demo.
//!
//! ```
//! use memberledger_testkit::Rng;
//!
//! let mut a = Rng::new(42);
//! let mut b = Rng::new(42);
//! assert_eq!(a.next_u64(), b.next_u64());
//! assert!(a.below(10) < 10);
//! ```

mod given;
pub mod model;
mod rng;
pub mod shared_store;
pub mod steady;
pub mod year;

pub use given::{Given, Then};
pub use rng::{mix, Rng};
pub use shared_store::SharedStore;

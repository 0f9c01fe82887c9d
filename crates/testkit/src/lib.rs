//! The memberledger test kit: what every test, bench, simulation and the demo share.
//!
//! - [`Rng`]: one seeded generator (SplitMix64), the same numbers on every platform, so a seed
//!   names a run.
//! - [`year`]: the realistic workload generator, a chain's year of commands (the CLI's demo is
//!   built on it; the same seed gives the same commands and so the same chain head).
//! - [`steady`]: the open-loop stream the benchmarks time (enroll, recharge, grant, consume).
//! - [`model`]: the reference model, the built-in policy's rules written again from
//!   docs/RULES.md in cents and seconds; the simulation and the property tests check the
//!   ledger against it.
//! - [`Given`]: a given/when/then harness over an in-memory ledger, to write a business rule
//!   as it reads in docs/RULES.md.
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
pub mod steady;
pub mod year;

pub use given::{Given, Then};
pub use rng::{mix, Rng};

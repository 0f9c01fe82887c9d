//! The simulation draws from the test kit's seeded generator (SplitMix64), so a seed names a
//! run.

pub use memberledger_testkit::{mix, Rng};

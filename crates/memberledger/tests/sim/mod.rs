//! The deterministic simulation of a ledger: see `tests/simulation.rs`.

mod driver;
mod fault;
mod gen;
mod rng;

use memberledger_testkit::model;

pub use driver::{uses_sled, Config, Context, Sim, Stats, LONG_RUN};

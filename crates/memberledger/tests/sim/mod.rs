//! The deterministic simulation of a ledger: see `tests/simulation.rs`.

mod driver;
mod fault;
mod gen;
mod model;
mod rng;
mod spec;

pub use driver::{uses_sled, Config, Context, Sim, Stats};

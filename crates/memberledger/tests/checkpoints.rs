//! Verified checkpoints, on sled: opening from one equals a replay from genesis, a damaged or
//! forged one is ignored by open and reported by verify, and a crash while writing one leaves
//! a readable ledger.

const KIND: memberledger::StoreKind = memberledger::StoreKind::Sled;

#[path = "checkpoint_cases/cases.rs"]
mod cases;

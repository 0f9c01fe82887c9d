//! Verified checkpoints, on the append-only file store: the same cases as on sled.

const KIND: memberledger::StoreKind = memberledger::StoreKind::File;

#[path = "checkpoint_cases/cases.rs"]
mod cases;

//! # memberledger-ffi
//!
//! The C ABI of memberledger, for hosts written in C or C++ (a POS terminal). It holds no
//! business rule: commands go in as the JSON lines of `memberledger apply`, and receipts,
//! member views, statements, verify reports and policy versions come out as the JSON the CLI
//! (`--json`) and the HTTP adapter give.
//!
//! Every call returns a stable integer code ([`codes`]; `include/memberledger.h` lists each
//! beside its string code) and one string, the JSON answer or the message, that the caller
//! frees with [`ml_string_free`]. A handle is safe to share between threads. A panic never
//! crosses the boundary: it is answered `ML_INTERNAL`.
//!
//! The safe calls behind the ABI ([`api`]) are the ones the Python adapter makes too.

#![deny(unsafe_op_in_unsafe_fn)]

mod abi;
pub mod api;
pub mod codes;

pub use abi::{
    ml_close, ml_code_name, ml_execute, ml_execute_batch, ml_export, ml_member, ml_open,
    ml_open_in_memory, ml_policy, ml_statement, ml_string_free, ml_verify, MlLedger,
};
pub use codes::*;

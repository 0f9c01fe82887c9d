//! The PostgreSQL store passes the conformance suite, with a reopen that connects again.
//! Needs `MEMBERLEDGER_PG_URL` (see tests/common).

mod common;

memberledger_store::conformance_tests!(common::Pg::new(), when common::url().is_some());

//! Workloads shared by the benchmarks: the test kit's steady stream of realistic commands.

pub use memberledger_testkit::steady::{at, workload, workload_iter};

//! # memberledger-py
//!
//! The native half of the Python package `memberledger` (`memberledger._native`): a ledger
//! handle whose calls take and give the JSON text of the CLI, made by the same host-neutral
//! calls as the C ABI ([`memberledger_ffi::api`]). The GIL is released while the ledger
//! works, so Python threads run commands at once. The Python half (`python/memberledger`)
//! turns the JSON into `Decimal`, `datetime` and `int`, and failures into exception classes.
//! No business rule lives here.

use memberledger::Ledger;
use memberledger_ffi::api::{self, Failure};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    _native,
    NativeError,
    PyException,
    "A failure of the ledger: args are (code, family, message)."
);

fn raise(f: Failure) -> PyErr {
    NativeError::new_err((f.code.name, f.code.family, f.message))
}

/// An open ledger. Shareable between Python threads.
#[pyclass(frozen, module = "memberledger._native")]
struct NativeLedger {
    ledger: Ledger,
}

impl NativeLedger {
    /// Runs `f` on the ledger with the GIL released.
    fn work<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Ledger) -> Result<T, Failure> + Send,
    ) -> PyResult<T> {
        py.allow_threads(|| f(&self.ledger)).map_err(raise)
    }
}

#[pymethods]
impl NativeLedger {
    /// Opens (or creates) the ledger in the directory `path`, with a policy's JSON or the
    /// built-in policy.
    #[staticmethod]
    #[pyo3(signature = (path, policy=None))]
    fn open(py: Python<'_>, path: String, policy: Option<String>) -> PyResult<NativeLedger> {
        py.allow_threads(|| api::open(&path, policy.as_deref()))
            .map(|ledger| NativeLedger { ledger })
            .map_err(raise)
    }

    /// A ledger in memory.
    #[staticmethod]
    #[pyo3(signature = (policy=None))]
    fn in_memory(policy: Option<String>) -> PyResult<NativeLedger> {
        api::in_memory(policy.as_deref())
            .map(|ledger| NativeLedger { ledger })
            .map_err(raise)
    }

    /// One command's JSON in, its receipt's JSON out.
    fn execute(&self, py: Python<'_>, command: String) -> PyResult<String> {
        self.work(py, |l| api::execute(l, &command))
    }

    /// A JSON array of commands in, a JSON array of receipts out.
    fn execute_batch(&self, py: Python<'_>, commands: String) -> PyResult<String> {
        self.work(py, |l| api::execute_batch(l, &commands))
    }

    /// A member's view JSON, now or as of an RFC 3339 time.
    #[pyo3(signature = (member, as_of=None))]
    fn member(&self, py: Python<'_>, member: String, as_of: Option<String>) -> PyResult<String> {
        self.work(py, |l| api::member(l, &member, as_of.as_deref()))
    }

    /// A member's statement JSON for `[start, end]`.
    #[pyo3(signature = (member, start=None, end=None))]
    fn statement(
        &self,
        py: Python<'_>,
        member: String,
        start: Option<String>,
        end: Option<String>,
    ) -> PyResult<String> {
        self.work(py, |l| {
            api::statement(l, &member, start.as_deref(), end.as_deref())
        })
    }

    /// The verify report's JSON.
    fn verify(&self, py: Python<'_>) -> PyResult<String> {
        self.work(py, |l| api::verify(l).map(|(_, report)| report))
    }

    /// Writes the log to a file in a format; the number of events.
    fn export(&self, py: Python<'_>, format: String, path: String) -> PyResult<u64> {
        self.work(py, |l| api::export(l, &format, &path))
    }

    /// The policy version's JSON, now or at an RFC 3339 time.
    #[pyo3(signature = (as_of=None))]
    fn policy(&self, py: Python<'_>, as_of: Option<String>) -> PyResult<String> {
        self.work(py, |l| api::policy(l, as_of.as_deref()))
    }
}

/// Every result code: (number, string code, family).
#[pyfunction]
fn codes() -> Vec<(i32, &'static str, &'static str)> {
    memberledger_ffi::codes::CODES
        .iter()
        .map(|c| (c.number, c.name, c.family))
        .collect()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeLedger>()?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add_function(wrap_pyfunction!(codes, m)?)?;
    Ok(())
}

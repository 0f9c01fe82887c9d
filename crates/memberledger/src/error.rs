use memberledger_core::Rejection;
use memberledger_store::{AppendConflict, StoreError};

/// Why a call failed. Check [`code`](Error::code) for the stable snake_case string and
/// [`is_retryable`](Error::is_retryable) for whether the same call may succeed later.
///
/// How to handle it:
///
/// | variant | code | retry? | what it means |
/// |---|---|---|---|
/// | [`Rejected`](Error::Rejected) | the rejection's own (`insufficient_balance`, …) | no | a business rule refused the command; nothing was recorded |
/// | [`Conflict`](Error::Conflict) | `concurrency_conflict` | yes, same command id | another writer of the same store kept moving the member |
/// | [`Storage`](Error::Storage) | `storage` | yes, same command id | the medium failed; the command was **not** acknowledged (idempotency makes the retry safe) |
/// | [`Locked`](Error::Locked) | `locked` | yes, once the other holder closes | the ledger is open elsewhere (another process, or another handle in this one) |
/// | [`AlreadyExists`](Error::AlreadyExists) | `already_exists` | no | `create`/`restore` found a ledger there already; use `open` or `create_or_open` |
/// | [`NoLedger`](Error::NoLedger) | `no_ledger` | no | `open_existing`/`open_verified` found no ledger; create one first |
/// | [`InvalidAppend`](Error::InvalidAppend) | `invalid_append` | no | the store refused a malformed append: a bug in the caller of the store |
/// | [`Corrupt`](Error::Corrupt) | `corrupt` | no | the stored log is damaged at a position: stop and audit |
///
/// The codes are stable: a new kind of failure gets a new variant and a new code, never an
/// existing code with a new meaning.
///
/// ```
/// use memberledger::{Command, Ledger};
/// let ledger = Ledger::in_memory();
/// let line = r#"{"id":"8b0e4f2a-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"consume","member":"M1","store":"S1","amount":"10.00","service":"facial"}"#;
/// let e = ledger.execute(&Command::from_json(line)?).unwrap_err();
/// assert_eq!(e.code(), "member_not_found"); // a rejection: recorded nothing
/// assert!(!e.is_retryable());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A business rule refused the command.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// Another writer changed the member concurrently and retries ran out; the last conflict
    /// the store reported is the source.
    #[error("retries ran out: {0}")]
    Conflict(#[source] AppendConflict),
    /// The storage failed.
    #[error("{0}")]
    Storage(#[source] StoreError),
    /// The ledger is held by another process (or another handle in this process, such as a
    /// forgotten clone of an `Arc<Ledger>`).
    #[error("{0}")]
    Locked(#[source] StoreError),
    /// A ledger is already there (the message says where).
    #[error("{0}")]
    AlreadyExists(String),
    /// There is no ledger there (the message says where, and how to create one).
    #[error("{0}")]
    NoLedger(String),
    /// The store refused an append as malformed: a bug in the caller, not a business outcome.
    #[error("{0}")]
    InvalidAppend(#[source] StoreError),
    /// The stored log is damaged.
    #[error("corrupt at position {position}: {why}")]
    Corrupt {
        /// The first bad position.
        position: u64,
        /// What is wrong there.
        why: String,
    },
}

impl Error {
    /// The stable error code: a rejection's own code (docs/RULES.md), or one of
    /// `concurrency_conflict`, `storage`, `locked`, `already_exists`, `no_ledger`,
    /// `invalid_append`, `corrupt`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Rejected(r) => r.code(),
            Error::Conflict(_) => "concurrency_conflict",
            Error::Storage(_) => "storage",
            Error::Locked(_) => "locked",
            Error::AlreadyExists(_) => "already_exists",
            Error::NoLedger(_) => "no_ledger",
            Error::InvalidAppend(_) => "invalid_append",
            Error::Corrupt { .. } => "corrupt",
        }
    }

    /// Whether the same call (with the same command id) may succeed later: a conflict, a
    /// storage failure or a lock held elsewhere. A rejection, a damaged log or a ledger
    /// that is (or is not) there will fail the same way again.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Conflict(_) | Error::Storage(_) | Error::Locked(_)
        )
    }

    /// A storage failure described by `why` (no store error underneath).
    pub fn storage(why: impl Into<String>) -> Error {
        Error::Storage(StoreError::storage(why))
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        match e {
            StoreError::Corrupt { position, why } => Error::Corrupt { position, why },
            e @ StoreError::InvalidAppend(_) => Error::InvalidAppend(e),
            e @ StoreError::Locked { .. } => Error::Locked(e),
            e @ StoreError::AlreadyExists { .. } => Error::AlreadyExists(e.to_string()),
            e @ StoreError::NoLedger { .. } => Error::NoLedger(e.to_string()),
            e => Error::Storage(e),
        }
    }
}

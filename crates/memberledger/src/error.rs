use memberledger_core::Rejection;
use memberledger_store::StoreError;

/// Why a call failed. Check [`code`](Error::code) for the stable snake_case string.
///
/// How to handle it: a [`Rejected`](Error::Rejected) command recorded nothing and will be
/// rejected again unless the caller changes it; a [`Conflict`](Error::Conflict) may succeed if
/// retried with the same command id; [`Storage`](Error::Storage) means the medium failed and
/// the command was **not** acknowledged (retry with the same id, idempotency makes it safe);
/// [`Corrupt`](Error::Corrupt) means the stored log is damaged at a position: stop and audit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A business rule refused the command.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// Another writer changed the member concurrently and retries ran out.
    #[error("{0}")]
    Conflict(String),
    /// The storage failed.
    #[error("{0}")]
    Storage(String),
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
    /// The stable error code (DESIGN §3).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Rejected(r) => r.code(),
            Error::Conflict(_) => "concurrency_conflict",
            Error::Storage(_) => "storage",
            Error::Corrupt { .. } => "corrupt",
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        match e {
            StoreError::Corrupt { position, why } => Error::Corrupt { position, why },
            StoreError::Storage { why, .. } => Error::Storage(why),
            other => Error::Storage(other.to_string()),
        }
    }
}

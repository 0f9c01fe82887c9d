//! What can go wrong in a store: a refused item of a batch ([`AppendConflict`]) and a failure of
//! the call ([`StoreError`]), with a kind for each case a caller answers differently.

use std::fmt;
use std::sync::Arc;

use memberledger_core::Uuid;

/// Why one append of a batch was refused; the others may still succeed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppendConflict {
    /// Another writer moved the member's stream since the command was decided.
    #[error("member {member} is at version {actual}, not {expected}")]
    Version {
        /// The member.
        member: String,
        /// The version the command was decided against.
        expected: u64,
        /// The version in the store.
        actual: u64,
    },
    /// The command id is already recorded.
    #[error("command {0} is already recorded")]
    Duplicate(Uuid),
}

/// The error underneath a [`StoreError`] (an I/O error, a database driver's error), kept so
/// [`std::error::Error::source`] reaches it. Cheap to clone; two causes are equal when their
/// messages are.
#[derive(Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync + 'static>);

impl Cause {
    /// Wraps an error.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Cause {
        Cause(Arc::new(error))
    }

    /// The wrapped error.
    pub fn get(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Cause) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Cause {}

/// A failure of a store call. Nothing of the failing call was acknowledged.
///
/// Each kind asks for a different answer: [`Storage`](StoreError::Storage) and
/// [`Locked`](StoreError::Locked) may pass ([`is_retryable`](StoreError::is_retryable));
/// [`Corrupt`](StoreError::Corrupt) means stop and audit; [`InvalidAppend`](StoreError::InvalidAppend)
/// is a bug in the caller; [`AlreadyExists`](StoreError::AlreadyExists) and
/// [`NoLedger`](StoreError::NoLedger) answer a create or an open of a ledger that must (not)
/// be there. The messages of `Storage` and `Locked` already include their cause's text; the
/// cause itself is kept as the error's [`source`](std::error::Error::source).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The medium failed (I/O, full disk, a lost connection).
    #[error("{why}")]
    Storage {
        /// What failed, with the cause's text.
        why: String,
        /// The error underneath, when there is one.
        #[source]
        source: Option<Cause>,
    },
    /// What is stored cannot be read back as written: named by its first bad position.
    #[error("corrupt at position {position}: {why}")]
    Corrupt {
        /// The first position that is wrong.
        position: u64,
        /// What is wrong.
        why: String,
    },
    /// The append was malformed: a bug in the caller, not a business outcome (events whose
    /// versions do not follow the expected version, an empty append, a stream that is not the
    /// append's member).
    #[error("invalid append: {0}")]
    InvalidAppend(String),
    /// A new ledger was asked for where one already is.
    #[error("a ledger already exists at {location}")]
    AlreadyExists {
        /// Where (a directory, a database schema).
        location: String,
    },
    /// An existing ledger was asked for where there is none.
    #[error("no ledger at {location}")]
    NoLedger {
        /// Where (a directory, a database schema).
        location: String,
    },
    /// Another process holds the ledger (an embedded store's lock).
    #[error("the ledger at {location} is open in another process")]
    Locked {
        /// Where.
        location: String,
        /// The lock's error, when there is one.
        #[source]
        source: Option<Cause>,
    },
}

impl StoreError {
    /// A [`Storage`](StoreError::Storage) failure without an underlying error.
    pub fn storage(why: impl Into<String>) -> StoreError {
        StoreError::Storage {
            why: why.into(),
            source: None,
        }
    }

    /// A [`Storage`](StoreError::Storage) failure: `what` failed because of `source` (its text
    /// is appended to the message, and the error kept as the source).
    pub fn storage_caused(
        what: &str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> StoreError {
        StoreError::Storage {
            why: format!("{what}: {source}"),
            source: Some(Cause::new(source)),
        }
    }

    /// Whether the same call may succeed later unchanged: the medium failed
    /// ([`Storage`](StoreError::Storage)) or another process held the ledger
    /// ([`Locked`](StoreError::Locked)). An append retried with the same command ids is safe
    /// (idempotency).
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Storage { .. } | StoreError::Locked { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn a_storage_failure_keeps_its_cause_as_source() {
        let io = std::io::Error::other("disk on fire");
        let e = StoreError::storage_caused("cannot write", io);
        assert_eq!(e.to_string(), "cannot write: disk on fire");
        assert_eq!(
            e.source().map(ToString::to_string).as_deref(),
            Some("disk on fire")
        );
        assert!(e.is_retryable());
    }

    #[test]
    fn only_storage_and_lock_failures_are_retryable() {
        let kinds = [
            (StoreError::storage("x"), true),
            (
                StoreError::Locked {
                    location: "here".into(),
                    source: None,
                },
                true,
            ),
            (
                StoreError::Corrupt {
                    position: 1,
                    why: "x".into(),
                },
                false,
            ),
            (StoreError::InvalidAppend("x".into()), false),
            (
                StoreError::AlreadyExists {
                    location: "here".into(),
                },
                false,
            ),
            (
                StoreError::NoLedger {
                    location: "here".into(),
                },
                false,
            ),
        ];
        for (e, retryable) in kinds {
            assert_eq!(e.is_retryable(), retryable, "{e}");
        }
    }
}

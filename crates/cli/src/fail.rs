//! A failure the CLI reports, and the exit code it ends with.

/// A failure the CLI reports: the message and the exit code.
pub(crate) struct Fail {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Fail {
    pub(crate) fn usage(message: impl Into<String>) -> Fail {
        Fail {
            code: 2,
            message: message.into(),
        }
    }
    pub(crate) fn rejected(message: impl Into<String>) -> Fail {
        Fail {
            code: 1,
            message: message.into(),
        }
    }
}

impl From<memberledger::Error> for Fail {
    fn from(e: memberledger::Error) -> Fail {
        match e {
            memberledger::Error::Rejected(r) => Fail::rejected(format!("{}: {r}", r.code())),
            other => Fail::usage(format!("{}: {other}", other.code())),
        }
    }
}

impl From<std::io::Error> for Fail {
    fn from(e: std::io::Error) -> Fail {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            // The reader went away (`| head`): stop quietly, as Unix tools do.
            return Fail {
                code: 0,
                message: String::new(),
            };
        }
        Fail::usage(format!("I/O error: {e}"))
    }
}

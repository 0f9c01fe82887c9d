//! The host-neutral calls every foreign adapter makes (C here, Python in `crates/py`): text in,
//! JSON text out, the same JSON the CLI and HTTP adapters give. No business rule lives here:
//! each call parses, hands the ledger the work, and serialises what it answers.

use std::fs::File;
use std::io::{BufWriter, Write};

use memberledger::domain::PolicyVersion;
use memberledger::{Command, Error, Ledger, MemberId, Policy, Receipt, Timestamp};
use memberledger_audit::{ExportError, Format};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::codes::{self, Code};

/// Why a call failed: a stable code and a message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The code (its number, string code and family).
    pub code: Code,
    /// What went wrong.
    pub message: String,
}

impl Failure {
    /// A failure with the code of the string code `name`.
    pub fn new(name: &str, message: impl Into<String>) -> Failure {
        let code = codes::by_name(name);
        let message = message.into();
        let message = if code.number == codes::ML_UNKNOWN {
            format!("{name}: {message}")
        } else {
            message
        };
        Failure { code, message }
    }

    fn invalid(message: impl Into<String>) -> Failure {
        Failure::new("invalid_argument", message)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.name, self.message)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::new(e.code(), e.to_string())
    }
}

impl From<memberledger::domain::Rejection> for Failure {
    fn from(e: memberledger::domain::Rejection) -> Failure {
        Failure::from(Error::from(e))
    }
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("views serialise")
}

fn time(text: Option<&str>) -> Result<Option<Timestamp>, Failure> {
    text.map(|t| t.parse::<Timestamp>().map_err(Failure::from))
        .transpose()
}

fn policy_of(json: Option<&str>) -> Result<Option<Policy>, Failure> {
    json.map(|j| Policy::from_json(j).map_err(Failure::from))
        .transpose()
}

/// Opens the sled ledger at `path`. Without a policy: as `Ledger::open` (a new ledger takes the
/// built-in policy). With one: a new ledger is created with it, and an existing ledger must
/// have been founded with it (`invalid_policy` otherwise).
pub fn open(path: &str, policy_json: Option<&str>) -> Result<Ledger, Failure> {
    let Some(policy) = policy_of(policy_json)? else {
        return Ok(Ledger::open(path)?);
    };
    match Ledger::open_existing(path) {
        Ok(ledger) if *ledger.founding_policy() == policy => Ok(ledger),
        Ok(_) => Err(Failure::new(
            "invalid_policy",
            format!("the ledger at {path} was founded with a different policy"),
        )),
        Err(_) => Ok(Ledger::create(path, policy)?),
    }
}

/// A ledger in memory, with a policy (the built-in one when `None`).
pub fn in_memory(policy_json: Option<&str>) -> Result<Ledger, Failure> {
    Ok(match policy_of(policy_json)? {
        Some(policy) => Ledger::in_memory_with(policy),
        None => Ledger::in_memory(),
    })
}

/// Executes one command (a JSON object, as a line of `memberledger apply`); the receipt JSON
/// once it is durable.
pub fn execute(ledger: &Ledger, command_json: &str) -> Result<String, Failure> {
    let command = Command::from_json(command_json)?;
    Ok(ledger.execute(&command)?.to_json().to_string())
}

/// Executes a JSON array of commands in one group commit: a JSON array with one receipt per
/// command, in order, each `ok` or refused in place (as `POST /v1/commands` answers a batch).
/// An element that is not a command is refused in place and the others still run.
pub fn execute_batch(ledger: &Ledger, commands_json: &str) -> Result<String, Failure> {
    let items: Vec<Box<RawValue>> = serde_json::from_str(commands_json)
        .map_err(|e| Failure::new("invalid_command", format!("not a JSON array: {e}")))?;
    if items.is_empty() || items.len() > memberledger::BATCH_MAX {
        return Err(Failure::new(
            "batch_too_large",
            format!(
                "a batch takes 1 to {} commands; this one has {}",
                memberledger::BATCH_MAX,
                items.len()
            ),
        ));
    }
    let parsed: Vec<Result<Command, Value>> =
        items.iter().map(|raw| parse_one(raw.get())).collect();
    let commands: Vec<Command> = parsed.iter().flatten().cloned().collect();
    let mut results = ledger.execute_batch(&commands).into_iter();
    let receipts: Vec<Value> = parsed
        .into_iter()
        .map(|p| match p {
            Err(refused) => refused,
            Ok(c) => match results.next() {
                Some(Ok(r)) => r.to_json(),
                Some(Err(e)) => Receipt::error_json(Some(c.id), &e),
                None => {
                    Receipt::error_json(Some(c.id), &Error::storage("no result for this command"))
                }
            },
        })
        .collect();
    Ok(Value::Array(receipts).to_string())
}

/// A command, or the error receipt of an element that is not one (with its id when readable).
fn parse_one(text: &str) -> Result<Command, Value> {
    Command::from_json(text).map_err(|e| {
        let id = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("id")?.as_str()?.parse().ok());
        Receipt::error_json(id, &e.into())
    })
}

fn member_id(id: &str) -> Result<MemberId, Failure> {
    Ok(MemberId::new(id)?)
}

fn not_found(id: &str) -> Failure {
    Failure::new("member_not_found", format!("member {id} is not enrolled"))
}

/// A member's view JSON (`memberledger member show --json`), now or as of a time (RFC 3339).
pub fn member(ledger: &Ledger, id: &str, as_of: Option<&str>) -> Result<String, Failure> {
    let member = member_id(id)?;
    let view = match time(as_of)? {
        None => ledger.member(&member),
        Some(at) => ledger.member_as_of(&member, at)?,
    };
    view.map(|v| to_json(&v)).ok_or_else(|| not_found(id))
}

/// A member's statement JSON (`memberledger statement --json`) for `[from, to]`.
pub fn statement(
    ledger: &Ledger,
    id: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<String, Failure> {
    let member = member_id(id)?;
    let (from, to) = (time(from)?, time(to)?);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(Failure::invalid(format!(
                "from {f} is after to {t}: a statement's period must not end before it starts"
            )));
        }
    }
    memberledger_audit::statement(ledger, &member, from, to)?
        .map(|s| to_json(&s))
        .ok_or_else(|| not_found(id))
}

/// The verify report JSON (`memberledger verify --json`) and whether the ledger verified.
pub fn verify(ledger: &Ledger) -> Result<(bool, String), Failure> {
    let report = ledger.verify()?;
    Ok((report.ok(), to_json(&report)))
}

/// Writes the whole log to the file `path` in a format (`jsonl`, `hledger`, `beancount`,
/// `csv`); the number of events written.
pub fn export(ledger: &Ledger, format: &str, path: &str) -> Result<u64, Failure> {
    let format = match format {
        "jsonl" => Format::Jsonl,
        "hledger" => Format::Hledger,
        "beancount" => Format::Beancount,
        "csv" => Format::Csv,
        other => {
            return Err(Failure::invalid(format!(
                "unknown export format {other:?}: jsonl, hledger, beancount or csv"
            )))
        }
    };
    let io = |e: std::io::Error| Failure::new("io", format!("cannot write {path}: {e}"));
    let mut out = BufWriter::new(File::create(path).map_err(io)?);
    let n = memberledger_audit::export(ledger, format, &mut out).map_err(|e| match e {
        ExportError::Ledger(e) => Failure::from(e),
        other => Failure::new("io", other.to_string()),
    })?;
    out.flush().map_err(io)?;
    Ok(n)
}

/// The policy version JSON (`memberledger policy show --json`) in force now or at a time.
pub fn policy(ledger: &Ledger, as_of: Option<&str>) -> Result<String, Failure> {
    let v: PolicyVersion = match time(as_of)? {
        Some(at) => ledger.policy_at(at),
        None => ledger.policy_history().current().clone(),
    };
    Ok(to_json(&v))
}

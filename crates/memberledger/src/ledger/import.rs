//! Importing a chain's members from another system: one `open_balance` command per member,
//! with a command id derived from the member id, committed in batches through group commit.

use memberledger_core::{Action, Command, MemberId, Opening, Rejection, StoreId, Timestamp, Uuid};

use super::{Ledger, BATCH_MAX};
use crate::{Error, Receipt};

/// The namespace of import command ids: an opening's command id is UUID v5 of the member id
/// in it (docs/IMPORT.md), so importing the same member again names the same command.
pub const IMPORT_NAMESPACE: Uuid = Uuid::from_u128(0x6d65_6d62_6572_4c65_8467_6572_496d_706f);

/// How one member's opening went.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Imported {
    /// Recorded now (for a dry run: would be recorded).
    New(Receipt),
    /// Recorded by an earlier import of the same row: nothing new.
    Already(Receipt),
    /// Refused, recording nothing: `idempotency_conflict` (the member was imported from a
    /// different row), `member_exists` (enrolled some other way), or the rule's code.
    Refused(Error),
}

impl Imported {
    /// A stable code: `imported`, `already_imported`, or the refusal's code.
    pub fn code(&self) -> &'static str {
        match self {
            Imported::New(_) => "imported",
            Imported::Already(_) => "already_imported",
            Imported::Refused(e) => e.code(),
        }
    }
}

/// The command id of a member's opening: UUID v5 of the member id in [`IMPORT_NAMESPACE`].
pub fn import_command_id(member: &MemberId) -> Uuid {
    Uuid::new_v5(&IMPORT_NAMESPACE, member.as_str().as_bytes())
}

/// A member's opening as a command: `open_balance` at `as_of`, at the home store, with the
/// member's import command id. Checked like any command.
pub fn opening_command(
    as_of: Timestamp,
    member: MemberId,
    home_store: StoreId,
    tier: Option<String>,
    opening: Opening,
) -> Result<Command, Rejection> {
    let id = import_command_id(&member);
    Command::new(
        id,
        as_of,
        member,
        home_store,
        Action::OpenBalance {
            tier,
            opening: Box::new(opening),
        },
    )
}

impl Ledger {
    /// Imports members' openings (each an `open_balance` command, as [`opening_command`]
    /// makes), in batches of [`BATCH_MAX`] through group commit. One answer per command, in
    /// order: recorded, recorded already by an earlier import of the same row (nothing new), or
    /// refused (a changed row of an imported member: `idempotency_conflict`; a member enrolled
    /// otherwise: `member_exists`; any rule's refusal). With `dry_run`, every command is
    /// decided as it would be and nothing is recorded.
    ///
    /// ```
    /// use memberledger::{Ledger, MemberId, StoreId, Timestamp};
    /// use memberledger::import::{opening_command, Imported};
    /// use memberledger::domain::{Opening, OpeningPrincipal};
    /// let ledger = Ledger::in_memory();
    /// let as_of: Timestamp = "2026-01-01T00:00:00Z".parse()?;
    /// let opening = Opening {
    ///     principal: vec![OpeningPrincipal { amount: "500.00".parse()?, origin_store: None }],
    ///     ..Opening::default()
    /// };
    /// let c = opening_command(as_of, MemberId::new("M1")?, StoreId::new("S1")?, None, opening)?;
    /// assert_eq!(ledger.import(std::slice::from_ref(&c), false)[0].code(), "imported");
    /// assert_eq!(ledger.import(&[c], false)[0].code(), "already_imported");
    /// assert_eq!(ledger.member(&MemberId::new("M1")?).unwrap().principal.to_string(), "500.00");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn import(&self, commands: &[Command], dry_run: bool) -> Vec<Imported> {
        commands
            .chunks(BATCH_MAX)
            .flat_map(|chunk| self.import_chunk(chunk, dry_run))
            .collect()
    }

    fn import_chunk(&self, chunk: &[Command], dry_run: bool) -> Vec<Imported> {
        let checked: Vec<Option<Error>> = chunk.iter().map(not_an_opening).collect();
        let good: Vec<Command> = chunk
            .iter()
            .zip(&checked)
            .filter(|(_, e)| e.is_none())
            .map(|(c, _)| c.clone())
            .collect();
        let mut results = if dry_run {
            self.quote_batch(&good)
                .into_iter()
                .map(|r| {
                    r.map(|q| Receipt {
                        command: q.command,
                        replayed: q.recorded,
                        events: q.events,
                    })
                })
                .collect()
        } else {
            self.execute_batch(&good)
        }
        .into_iter();
        checked
            .into_iter()
            .map(|bad| match bad {
                Some(e) => Imported::Refused(e),
                None => match results.next().expect("one result per command") {
                    Ok(r) if r.replayed => Imported::Already(r),
                    Ok(r) => Imported::New(r),
                    Err(e) => Imported::Refused(e),
                },
            })
            .collect()
    }
}

/// Refuses what is not a member's opening under its import command id.
fn not_an_opening(c: &Command) -> Option<Error> {
    if !matches!(c.action, Action::OpenBalance { .. }) {
        return Some(Error::Rejected(Rejection::InvalidCommand(format!(
            "an import takes open_balance commands, not {}",
            c.action.type_name()
        ))));
    }
    (c.id != import_command_id(&c.member)).then(|| {
        Error::Rejected(Rejection::InvalidCommand(format!(
            "an opening's command id is the member's import id {}, not {}",
            import_command_id(&c.member),
            c.id
        )))
    })
}

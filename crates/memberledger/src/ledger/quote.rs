//! Quotes: a dry run of commands. The batch is planned exactly as `execute_batch` plans it
//! (the core's `decide` on the same projections), sealed against the store's head as the store
//! would seal it (positions, versions, chain hashes), and then dropped: nothing is appended and
//! no projection moves.

use std::collections::HashMap;

use memberledger_core::{
    Command, MemberId, MemberState, MemberView, RecordedEvent, Rejection, Uuid,
};
use memberledger_store::{outcomes, seal, EventStore, Head, LogView};
use serde_json::{json, Value};

use super::plan::Step;
use super::{Ledger, BATCH_MAX};
use crate::{Error, Receipt};

/// What executing a command would record now, recorded by nobody: the answer of
/// [`Ledger::quote`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Quote {
    /// The command id.
    pub command: Uuid,
    /// True when the command id is recorded already: `events` are its recorded events, and
    /// executing it again would record nothing (an idempotent repeat).
    pub recorded: bool,
    /// The events executing would record, with the positions, versions and chain hashes they
    /// would have if nothing else is recorded first (the store's own sealing, byte for byte).
    pub events: Vec<RecordedEvent>,
    /// The member as it would be after the command (after the earlier commands of the same
    /// quoted batch too); for an already-recorded command, the member as it is now.
    pub member: Option<MemberView>,
}

impl Quote {
    /// The wire form: a receipt's (`{"command","ok":true,"replayed","events"}`) with
    /// `"dry_run":true` and the member's view after (`"member"`, or `null`).
    pub fn to_json(&self) -> Value {
        let receipt = Receipt {
            command: self.command,
            replayed: self.recorded,
            events: self.events.clone(),
        };
        let mut v = receipt.to_json();
        v["dry_run"] = json!(true);
        v["member"] = self.member.as_ref().map_or(Value::Null, |m| {
            serde_json::to_value(m).unwrap_or(Value::Null)
        });
        v
    }
}

impl Ledger {
    /// Quotes one command: what [`execute`](Ledger::execute) would record and the member
    /// after it, deciding it through the same path, recording nothing. A command that would
    /// be refused gives the refusal `execute` would give. A command id already recorded gives
    /// its recorded events with `recorded: true` (and a different command under that id,
    /// `idempotency_conflict`).
    ///
    /// ```
    /// use memberledger::{Command, Ledger};
    /// let ledger = Ledger::in_memory();
    /// let enroll = Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#)?;
    /// let head = ledger.head()?;
    /// let quote = ledger.quote(&enroll)?;
    /// assert!(!quote.recorded);
    /// assert_eq!(ledger.head()?, head); // nothing recorded
    /// let receipt = ledger.execute(&enroll)?;
    /// assert_eq!(receipt.events, quote.events); // the same events, positions and hashes
    /// assert!(ledger.quote(&enroll)?.recorded);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn quote(&self, command: &Command) -> Result<Quote, Error> {
        self.quote_batch(std::slice::from_ref(command))
            .pop()
            .expect("one result per command")
    }

    /// Quotes a batch as [`execute_batch`](Ledger::execute_batch) would run it: later
    /// commands see earlier ones, one result per command, nothing recorded.
    pub fn quote_batch(&self, commands: &[Command]) -> Vec<Result<Quote, Error>> {
        if commands.len() > BATCH_MAX {
            let e = Error::Rejected(Rejection::InvalidCommand(format!(
                "a batch takes at most {BATCH_MAX} commands"
            )));
            return commands.iter().map(|_| Err(e.clone())).collect();
        }
        // Under the writer lock the head cannot move between planning and sealing, so the
        // quote is what the next write would be.
        self.quiesced(|| self.quote_locked(commands))
    }

    fn quote_locked(&self, commands: &[Command]) -> Vec<Result<Quote, Error>> {
        let mut plan = self.plan(commands);
        let appends = std::mem::take(&mut plan.appends);
        let sealed = if appends.is_empty() {
            Ok(Vec::new())
        } else {
            StoreLog::read(self.event_store())
                .and_then(|log| seal(&log, appends).map_err(Error::from))
                .map(|(outcome, sealed)| outcomes(outcome, sealed))
        };
        let sealed: Vec<Result<Vec<RecordedEvent>, Error>> = match sealed {
            Ok(s) => s.into_iter().map(|r| r.map_err(Error::Conflict)).collect(),
            Err(e) => return commands.iter().map(|_| Err(e.clone())).collect(),
        };
        let mut after = MembersAfter::new(self);
        plan.steps
            .into_iter()
            .zip(commands)
            .map(|(step, c)| {
                let (recorded, events) = match step {
                    Step::Done(r) => r.map(|r| (true, r.events))?,
                    Step::Appended(i) => (false, sealed[i].clone()?),
                    Step::SameAs(i) => (true, sealed[i].clone()?),
                };
                // A command named by its card is about the member its events name.
                let id = events
                    .first()
                    .map_or_else(|| c.member.clone(), |e| e.event.member.clone());
                let member = if id.is_stores() || id.is_policy() {
                    None
                } else if recorded {
                    after.now(&id)
                } else {
                    after.fold(&id, &events)?
                };
                Ok(Quote {
                    command: c.id,
                    recorded,
                    events,
                    member,
                })
            })
            .collect()
    }
}

/// The store's log as sealing sees it, read under the writer lock.
struct StoreLog<'a> {
    store: &'a dyn EventStore,
    head: Head,
}

impl<'a> StoreLog<'a> {
    fn read(store: &'a dyn EventStore) -> Result<Self, Error> {
        Ok(StoreLog {
            store,
            head: store.head()?,
        })
    }
}

impl LogView for StoreLog<'_> {
    fn head(&self) -> Head {
        self.head
    }

    // A store that cannot answer gives an impossible version and "recorded": sealing then
    // reports a conflict for the command, which the quote returns as an error rather than a
    // wrong answer.
    fn member_version(&self, member: &MemberId) -> u64 {
        self.store.member_version(member).unwrap_or(u64::MAX)
    }

    fn has_command(&self, id: Uuid) -> bool {
        self.store.command(id).map_or(true, |c| c.is_some())
    }
}

/// Members as each quoted command leaves them: the cached projection, then each quoted
/// command's events folded on in order.
struct MembersAfter<'a> {
    ledger: &'a Ledger,
    states: HashMap<MemberId, Option<MemberState>>,
}

impl<'a> MembersAfter<'a> {
    fn new(ledger: &'a Ledger) -> Self {
        MembersAfter {
            ledger,
            states: HashMap::new(),
        }
    }

    fn now(&self, id: &MemberId) -> Option<MemberView> {
        match self.states.get(id) {
            Some(s) => s.as_ref().map(MemberView::from),
            None => self.ledger.member(id),
        }
    }

    fn fold(
        &mut self,
        id: &MemberId,
        events: &[RecordedEvent],
    ) -> Result<Option<MemberView>, Error> {
        let state = self
            .states
            .entry(id.clone())
            .or_insert_with(|| self.ledger.cached_members().get(id).cloned());
        for e in events {
            MemberState::fold_onto(state, &e.event).map_err(|f| Error::Corrupt {
                position: e.position,
                why: f.to_string(),
            })?;
        }
        Ok(state.as_ref().map(MemberView::from))
    }
}

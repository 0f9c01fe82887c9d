use std::sync::Arc;

use memberledger_core::{
    CardDirectory, Clearing, MemberId, MemberState, MemberView, Policy, PolicyHistory,
    PolicyVersion, RecordedEvent, Timestamp, Uuid,
};
use memberledger_store::{Append, CommandRecord, EventStore, Head};

use super::{Ledger, Policies};
use crate::replay::Members;
use crate::{Clock, Error};

impl Ledger {
    /// The latest policy version's rules (in force for commands at or after its time).
    pub fn policy(&self) -> Arc<Policy> {
        Arc::clone(&self.policies().history.current().policy)
    }

    /// The policy version in force at a time.
    pub fn policy_at(&self, at: Timestamp) -> PolicyVersion {
        self.policies().history.in_force(at).clone()
    }

    /// Every policy version, oldest (the founding policy) first.
    pub fn policy_history(&self) -> PolicyHistory {
        self.policies().history.clone()
    }

    /// The policy the ledger was created with (version 1).
    pub fn founding_policy(&self) -> &Policy {
        &self.founding
    }

    pub(super) fn policies(&self) -> std::sync::RwLockReadGuard<'_, Policies> {
        self.policies
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Gives the ledger the host's clock (every ledger starts with [`Clock::system`]): a
    /// command or an expiry sweep dated more than the clock's skew ahead of it is refused as
    /// `future_time`. Tests pass a fixed clock; re-running recorded history passes
    /// [`Clock::unbounded`].
    pub fn set_clock(&self, clock: Clock) {
        *self
            .clock
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = clock;
    }

    /// The ledger's clock.
    pub fn clock(&self) -> Clock {
        self.clock
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The end of the log: its last position and chain hash (position 0 and the genesis hash
    /// for an empty store). Read from the store, so it includes what another writer of the
    /// same store recorded.
    pub fn head(&self) -> Result<Head, Error> {
        Ok(self.store.head()?)
    }

    /// A member's recorded events, oldest first, read from the store (none for a member never
    /// enrolled): what a statement or an audit of one member reads. Read-only, like every
    /// accessor of a ledger: events are recorded only by commands, through `execute`.
    pub fn member_events(&self, id: &MemberId) -> Result<Vec<RecordedEvent>, Error> {
        Ok(self.store.member_events(id)?)
    }

    /// What the store remembers of a command id (its member, digest, first position and
    /// number of events), if it was recorded: whether a command got in, without executing it
    /// again.
    pub fn command_record(&self, id: Uuid) -> Result<Option<CommandRecord>, Error> {
        Ok(self.store.command(id)?)
    }

    /// The store underneath, for this crate's own reads (replays, verify, restore).
    pub(crate) fn event_store(&self) -> &dyn EventStore {
        self.store.as_ref()
    }

    /// A member as it is now.
    pub fn member(&self, id: &MemberId) -> Option<MemberView> {
        self.refresh_if_shared();
        // From the cached projection: O(1), no read of the log.
        self.cached_members().get(id).map(MemberView::from)
    }

    /// A member's full state as it is now (lots, refundable consumptions, window).
    ///
    /// The ledger keeps every member in memory without the records of refundable
    /// consumptions; this folds the member's events again to give them too (reading the
    /// member's events from the store). A member never enrolled, or a store that cannot be
    /// read, gives `None`.
    pub fn member_state(&self, id: &MemberId) -> Option<MemberState> {
        self.quiesced(|| self.full_state(id, &[]).ok().flatten())
    }

    /// A member folded from its stored events and then `pending` (appends planned but not yet
    /// written), with its refundable-consumption records.
    pub(super) fn full_state(
        &self,
        id: &MemberId,
        pending: &[Append],
    ) -> Result<Option<MemberState>, Error> {
        let mut state: Option<MemberState> = None;
        for rec in self.store.member_events(id)? {
            fold_checked(&mut state, &rec)?;
        }
        for e in pending
            .iter()
            .filter(|a| a.member == *id)
            .flat_map(|a| &a.events)
        {
            MemberState::fold_onto(&mut state, e).map_err(|f| Error::Corrupt {
                position: 0,
                why: f.to_string(),
            })?;
        }
        Ok(state)
    }

    /// A member as of a past time: the fold of the member's events recorded at or before it.
    /// Expiries are facts recorded by the next command of the member: a lot past its
    /// `expires_at` with no command since still shows, with its expiry.
    pub fn member_as_of(&self, id: &MemberId, at: Timestamp) -> Result<Option<MemberView>, Error> {
        let mut state: Option<MemberState> = None;
        for e in self.store.member_events(id)? {
            if e.event.at > at {
                break;
            }
            fold_checked(&mut state, &e)?;
        }
        Ok(state.as_ref().map(MemberView::from))
    }

    /// Every member id, sorted.
    pub fn member_ids(&self) -> Vec<MemberId> {
        self.refresh_if_shared();
        let members = self
            .members
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut ids: Vec<MemberId> = members.ids().cloned().collect();
        ids.sort();
        ids
    }

    /// Calls `f` with every member's state (in no particular order), under a read lock.
    pub fn for_each_member(&self, f: impl FnMut(&MemberState)) {
        let members = self
            .members
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        members.values().for_each(f);
    }

    /// Streams the log from position `from`, decoded, in pages of `page`.
    pub fn events(
        &self,
        from: u64,
        page: usize,
    ) -> impl Iterator<Item = Result<RecordedEvent, Error>> + '_ {
        let mut next = from.max(1);
        let mut buf: std::vec::IntoIter<memberledger_store::RawEvent> = Vec::new().into_iter();
        let mut done = false;
        std::iter::from_fn(move || loop {
            if let Some(raw) = buf.next() {
                next = raw.position + 1;
                return Some(raw.decode().map_err(Error::from));
            }
            if done {
                return None;
            }
            match self.store.read_raw(next, page.max(1)) {
                Ok(chunk) if chunk.is_empty() => done = true,
                Ok(chunk) => buf = chunk.into_iter(),
                Err(e) => {
                    done = true;
                    return Some(Err(e.into()));
                }
            }
        })
    }

    /// The member projections as cached (for `verify`).
    pub(crate) fn cached_members(&self) -> std::sync::RwLockReadGuard<'_, Members> {
        self.members
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The card directory as cached.
    pub(crate) fn cached_cards(&self) -> std::sync::RwLockReadGuard<'_, CardDirectory> {
        self.cards
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The ledger's card key (see [`Ledger::set_card_key`]).
    pub(crate) fn card_key(&self) -> Option<Vec<u8>> {
        self.card_key
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Sets the key card numbers are hashed with under a policy with
    /// `"cards": {"store": "hash"}` (HMAC-SHA256, docs/RULES.md): a secret of the ledger's
    /// settings, never recorded and never shown. Without it such a policy refuses every
    /// command that names a card (`card_key_missing`). The same key must be given every time
    /// the ledger is opened, or no card is found again.
    pub fn set_card_key(&self, key: Option<Vec<u8>>) {
        *self
            .card_key
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = key;
    }

    /// The member holding a card, by its number as given (hashed under the latest policy when
    /// it hashes cards); `None` when no member holds it.
    pub fn card_owner(&self, number: &str) -> Result<Option<MemberId>, Error> {
        let policy = self.policy();
        let card = memberledger_core::card_ref(number, &policy, self.card_key().as_deref())?;
        Ok(self.cached_cards().owner(&card).cloned())
    }

    /// The inter-store clearing as cached.
    pub(crate) fn cached_clearing(&self) -> std::sync::RwLockReadGuard<'_, Clearing> {
        self.clearing
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What each store owes each other store now: (debtor, creditor, amount).
    pub fn clearing(&self) -> Clearing {
        self.cached_clearing().clone()
    }

    /// Holds the writer lock, so the log does not move while `f` runs.
    pub(crate) fn quiesced<T>(&self, f: impl FnOnce() -> T) -> T {
        let _writer = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f()
    }
}

/// Folds a stored event, reporting a fold failure as corruption at its position.
fn fold_checked(state: &mut Option<MemberState>, e: &RecordedEvent) -> Result<(), Error> {
    MemberState::fold_onto(state, &e.event).map_err(|f| Error::Corrupt {
        position: e.position,
        why: f.to_string(),
    })
}

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use memberledger_core::{
    decide, postings, Action, Clearing, Command, Context, Event, MemberId, MemberState, MemberView,
    Policy, PolicyHistory, PolicyVersion, RecordedEvent, Rejection, Timestamp, Uuid,
};
use memberledger_store::{Append, EventStore, MemoryStore};
use memberledger_store_sled::SledStore;
use rayon::prelude::*;

use crate::replay::{replay, Members};
use crate::{Clock, Error, Receipt};

pub(crate) const POLICY_KEY: &str = "policy";

/// The most commands one batch call takes.
pub const BATCH_MAX: usize = 10_000;

/// The namespace of the sweep's command ids (UUID v5 of `member|time`).
const SWEEP_NAMESPACE: Uuid = Uuid::from_u128(0x6d65_6d62_6572_4c65_8467_6572_5377_6565);

/// How often a command is re-decided when another writer moved its member first.
const CONFLICT_RETRIES: usize = 8;

/// One brand's ledger: a store, the policy, and the member projections.
///
/// `Send + Sync`: share it between threads (`Arc<Ledger>`). Commands are decided and appended
/// one writer at a time, so commands on the same member from many threads never lose an update;
/// reads do not wait for writers' disk syncs.
pub struct Ledger {
    store: Box<dyn EventStore>,
    /// The policy the ledger was created with (version 1), kept in the store's meta.
    founding: Policy,
    /// Every policy version, and the time of the latest event.
    policies: RwLock<Policies>,
    members: RwLock<Members>,
    clearing: RwLock<Clearing>,
    writer: Mutex<()>,
    /// Single commands waiting for the next group commit, and whether a thread is leading one.
    queue: Mutex<Queue>,
    /// The host's clock: commands dated too far ahead of it are refused.
    clock: RwLock<Clock>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("currency", &self.founding.currency)
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// Opens the sled ledger in `path`, creating it with the built-in policy if there is none.
    ///
    /// A directory that holds sled's files but no ledger is `Corrupt`, never a new ledger.
    pub fn open(path: impl AsRef<Path>) -> Result<Ledger, Error> {
        let store = SledStore::open(path)?;
        refuse_files_without_a_ledger(&store)?;
        Ledger::with_store(Box::new(store), None)
    }

    /// Opens the sled ledger in `path`, failing when there is none (rather than creating one).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Ledger, Error> {
        let store = existing_store(path.as_ref(), |p| SledStore::open(p))?;
        Ledger::with_store(Box::new(store), None)
    }

    /// Opens the existing sled ledger in `path` and verifies it, in one replay: the replay
    /// that builds the projections makes every check [`verify`](Ledger::verify) makes, and
    /// its totals are the report (`open_existing` then `verify` replays twice). A damaged log
    /// is `Err(Error::Corrupt)` with its first bad position, as from `open_existing`.
    ///
    /// It writes nothing to `path`: it reads a private copy of the ledger
    /// ([`SledStore::open_copy`]), so not even sled's recovery of damaged files changes them,
    /// and the ledger it returns refuses writes. A ledger written before founding records
    /// existed is verified as it is, and
    /// [`founding_policy_in_chain`](Ledger::founding_policy_in_chain) says so.
    pub fn open_verified(path: impl AsRef<Path>) -> Result<(Ledger, crate::VerifyReport), Error> {
        let store = existing_store(path.as_ref(), |p| SledStore::open_copy(p))?;
        Ledger::assemble(Box::new(store), None, Open::Verify)
    }

    /// Creates a sled ledger in `path` with a policy. Fails if a ledger is already there, and
    /// with `Corrupt` if sled's files are there without a ledger (a damaged ledger, or an
    /// interrupted `create`): only an absent or empty directory takes a new ledger.
    pub fn create(path: impl AsRef<Path>, policy: Policy) -> Result<Ledger, Error> {
        let store = SledStore::open(path.as_ref())?;
        if store.meta(POLICY_KEY)?.is_some() || store.head()?.position > 0 {
            return Err(Error::Storage(format!(
                "a ledger already exists at {}",
                path.as_ref().display()
            )));
        }
        refuse_files_without_a_ledger(&store)?;
        Ledger::with_store(Box::new(store), Some(policy))
    }

    /// A ledger in memory with the built-in policy (for tests and trials).
    pub fn in_memory() -> Ledger {
        Ledger::in_memory_with(Policy::builtin())
    }

    /// A ledger in memory with a policy.
    pub fn in_memory_with(policy: Policy) -> Ledger {
        Ledger::with_store(Box::new(MemoryStore::new()), Some(policy))
            .expect("a new memory store opens")
    }

    /// A ledger over any store. A new store takes `policy` (the built-in one if `None`) as its
    /// founding policy (version 1); an existing one keeps its own, and `policy`, if given, must
    /// equal it. Later versions are published with a `publish_policy` command.
    ///
    /// The founding policy is recorded in the chain: a new ledger's first event (position 1,
    /// stream `@policy`) is its record ([`founding_command`](memberledger_core::founding_command)),
    /// and a ledger written before founding records existed gets it appended now (the
    /// upcast, docs/EVENTS.md), so its exports carry the policy from then on.
    pub fn with_store(store: Box<dyn EventStore>, policy: Option<Policy>) -> Result<Ledger, Error> {
        Ledger::assemble(store, policy, Open::Write).map(|(ledger, _)| ledger)
    }

    /// Whether the founding policy is recorded in the chain. False only for a ledger written
    /// before founding records existed that was opened without writing
    /// ([`open_verified`](Ledger::open_verified)): "founding policy not in the chain (old
    /// ledger)"; any writable open records it.
    pub fn founding_policy_in_chain(&self) -> bool {
        self.policies().history.founding_in_chain()
    }

    /// [`with_store`](Ledger::with_store), with the report of the replay it made (with every
    /// check of `verify`, and no founding record written, for [`Open::Verify`]).
    pub(crate) fn assemble(
        store: Box<dyn EventStore>,
        policy: Option<Policy>,
        open: Open,
    ) -> Result<(Ledger, crate::VerifyReport), Error> {
        let full = open == Open::Verify;
        let policy = match store.meta(POLICY_KEY)? {
            Some(bytes) => {
                let stored = std::str::from_utf8(&bytes)
                    .map_err(|e| Error::Corrupt {
                        position: 0,
                        why: format!("stored policy: {e}"),
                    })
                    .and_then(|s| {
                        Policy::from_json(s).map_err(|e| Error::Corrupt {
                            position: 0,
                            why: format!("stored policy: {e}"),
                        })
                    })?;
                if policy.as_ref().is_some_and(|p| *p != stored) {
                    return Err(Rejection::InvalidPolicy(
                        "the ledger already has a different policy".into(),
                    )
                    .into());
                }
                stored
            }
            None if store.head()?.position > 0 => {
                return Err(Error::Corrupt {
                    position: 0,
                    why: "the ledger has events but its policy is missing".into(),
                })
            }
            None => {
                let p = policy.unwrap_or_else(Policy::builtin);
                p.validate()?;
                store.set_meta(POLICY_KEY, p.to_json().as_bytes())?;
                p
            }
        };
        let mut replayed = replay(store.as_ref(), &policy, full)?;
        let report = crate::verify::report_of(&replayed);
        for state in replayed.members.values_mut() {
            if full {
                state.drop_consumption_records();
            }
            state.shrink_to_fit();
        }
        replayed.members.shrink_to_fit();
        let ledger = Ledger {
            store,
            founding: policy,
            policies: RwLock::new(Policies {
                history: replayed.history,
                latest_at: replayed.latest_at,
            }),
            members: RwLock::new(replayed.members),
            clearing: RwLock::new(replayed.clearing),
            writer: Mutex::new(()),
            queue: Mutex::new(Queue::default()),
            clock: RwLock::new(Clock::system()),
        };
        if open == Open::Write && !ledger.founding_policy_in_chain() {
            ledger.record_founding_policy()?;
        }
        Ok((ledger, report))
    }

    /// Records the founding policy in the chain: the first event of a new ledger, or the
    /// upcast of an old one (its record appended, in force from the beginning).
    fn record_founding_policy(&self) -> Result<(), Error> {
        let founding = memberledger_core::founding_command(&self.founding);
        let mut results = self.execute_batch(std::slice::from_ref(&founding));
        results.pop().expect("one result per command").map(|_| ())
    }

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

    fn policies(&self) -> std::sync::RwLockReadGuard<'_, Policies> {
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

    /// The store underneath.
    pub fn store(&self) -> &dyn EventStore {
        self.store.as_ref()
    }

    /// Executes one command: decided against the member's state, appended atomically, durable
    /// before this returns. A retry with the same id and content returns the original receipt
    /// (`replayed: true`) and records nothing.
    ///
    /// ```
    /// use memberledger::{Command, Ledger};
    /// let ledger = Ledger::in_memory();
    /// let line = r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#;
    /// let receipt = ledger.execute(&Command::from_json(line)?)?;
    /// assert!(!receipt.replayed);
    /// let again = ledger.execute(&Command::from_json(line)?)?;
    /// assert!(again.replayed);
    /// assert_eq!(again.events, receipt.events);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// Commands from many threads are committed together: while one thread writes a group,
    /// the commands that arrive queue up, and the next group takes them all with one disk
    /// sync. Each command is still decided and recorded on its own.
    pub fn execute(&self, command: &Command) -> Result<Receipt, Error> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let lead = {
            let mut q = self.queue();
            q.waiting.push((command.clone(), tx));
            !std::mem::replace(&mut q.leading, true)
        };
        if lead {
            self.commit_group();
        }
        loop {
            match rx.recv() {
                Ok(Answer::Done(result)) => return result,
                // The previous leader passed the lead on: this command heads the next group.
                Ok(Answer::Lead) => self.commit_group(),
                Err(_) => {
                    return Err(Error::Storage(
                        "the thread writing this command's group failed; retry with the same id"
                            .into(),
                    ))
                }
            }
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Commits one group of queued commands (the leader's own first), answers each, and passes
    /// the lead to the first command still waiting, or gives it up when none is. A leader
    /// commits one group only, so under steady load every caller gets its answer after at most
    /// the group ahead of it and its own. The lead is passed on even if the group panics, so
    /// later commands are never stranded.
    fn commit_group(&self) {
        struct PassOn<'a>(&'a Ledger);
        impl Drop for PassOn<'_> {
            fn drop(&mut self) {
                let mut q = self.0.queue();
                while let Some((_, tx)) = q.waiting.first() {
                    if tx.send(Answer::Lead).is_ok() {
                        return;
                    }
                    // Its caller is gone (its thread panicked): nobody waits for that command,
                    // and nobody was told it was recorded.
                    q.waiting.remove(0);
                }
                q.leading = false;
            }
        }
        let _pass_on = PassOn(self);
        let group: Vec<Waiting> = {
            let mut q = self.queue();
            let n = q.waiting.len().min(BATCH_MAX);
            q.waiting.drain(..n).collect()
        };
        let (commands, senders): (Vec<Command>, Vec<_>) = group.into_iter().unzip();
        for (tx, result) in senders.into_iter().zip(self.execute_batch(&commands)) {
            // A waiter that went away (its thread panicked) needs no answer.
            let _ = tx.send(Answer::Done(result));
        }
    }

    /// Executes many commands with one durable write (group commit): each command is still
    /// decided and recorded atomically on its own, in order, and later commands see earlier
    /// ones. Returns one result per command. At most [`BATCH_MAX`] commands.
    pub fn execute_batch(&self, commands: &[Command]) -> Vec<Result<Receipt, Error>> {
        if commands.len() > BATCH_MAX {
            let e = Error::Rejected(Rejection::InvalidCommand(format!(
                "a batch takes at most {BATCH_MAX} commands"
            )));
            return commands.iter().map(|_| Err(e.clone())).collect();
        }
        let mut attempt = 0;
        loop {
            match self.try_batch(commands) {
                Err(Retry) if attempt < CONFLICT_RETRIES => attempt += 1,
                Err(Retry) => {
                    let e = Error::Conflict("retries ran out".into());
                    return commands.iter().map(|_| Err(e.clone())).collect();
                }
                Ok(results) => return results,
            }
        }
    }

    fn try_batch(&self, commands: &[Command]) -> Result<Vec<Result<Receipt, Error>>, Retry> {
        let _writer = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (history, latest_at) = {
            let p = self.policies();
            (p.history.clone(), p.latest_at)
        };
        let mut plan = Plan {
            clock: self.clock().snapshot(),
            clearing: self.cached_clearing().clone(),
            history,
            latest_at,
            steps: Vec::new(),
            appends: Vec::new(),
            ids: HashMap::new(),
            states: HashMap::new(),
        };
        {
            let members = self
                .members
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // A command's digest depends on nothing else: computed on every core.
            let digests: Vec<[u8; 32]> = commands
                .par_iter()
                .with_min_len(32)
                .map(Command::digest)
                .collect();
            self.plan_batch(&members, &mut plan, commands, &digests);
        }
        let appends = std::mem::take(&mut plan.appends);
        let appended = if appends.is_empty() {
            Vec::new()
        } else {
            match self.store.append(appends) {
                Ok(r) => r,
                Err(e) => {
                    let e = Error::from(e);
                    // The store may have written some or all of the batch before failing (a
                    // write that landed but whose acknowledgement was lost): what it holds is
                    // unknown here, so the projections are rebuilt from it rather than kept.
                    // Otherwise reads and `verify` show the member without a command that a
                    // retry then reports as recorded, and settlements are decided against a
                    // stale clearing. If the store cannot be read either, the next conflict
                    // reloads.
                    let _ = self.reload();
                    return Ok(plan
                        .steps
                        .into_iter()
                        .map(|s| match s {
                            Step::Done(r) => r,
                            _ => Err(e.clone()),
                        })
                        .collect());
                }
            }
        };
        if appended.iter().any(Result::is_err) {
            // Another writer of the same store moved a member or recorded a command id first.
            // What did get in is durable; re-read the members touched and decide again: the
            // retry sees our recorded commands, and theirs, as they are.
            self.reload()?;
            return Err(Retry);
        }
        let mut recorded: Vec<Vec<RecordedEvent>> = appended.into_iter().flatten().collect();
        // A receipt takes its events; only an append repeated in the batch keeps a copy.
        let repeated: std::collections::HashSet<usize> = plan
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::SameAs(i) => Some(*i),
                _ => None,
            })
            .collect();
        {
            let mut members = self
                .members
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (member, state) in plan.states {
                members.insert(member, Box::new(state));
            }
        }
        *self
            .clearing
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = plan.clearing;
        *self
            .policies
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Policies {
            history: plan.history,
            latest_at: plan.latest_at,
        };
        Ok(plan
            .steps
            .into_iter()
            .zip(commands)
            .map(|(step, c)| match step {
                Step::Done(r) => r,
                Step::Appended(i) => Ok(Receipt {
                    command: c.id,
                    replayed: false,
                    events: if repeated.contains(&i) {
                        recorded[i].clone()
                    } else {
                        std::mem::take(&mut recorded[i])
                    },
                }),
                Step::SameAs(i) => Ok(Receipt {
                    command: c.id,
                    replayed: true,
                    events: recorded[i].clone(),
                }),
            })
            .collect())
    }

    /// Plans a batch: decided by member on every core when it qualifies, else in order.
    fn plan_batch(
        &self,
        members: &Members,
        plan: &mut Plan,
        commands: &[Command],
        digests: &[[u8; 32]],
    ) {
        match self.decide_by_member(members, plan, commands, digests) {
            Some(decided) => {
                for ((c, &digest), d) in commands.iter().zip(digests).zip(decided) {
                    let step = match d {
                        Decided::Done(step) => step,
                        Decided::Events(events, next) => {
                            record(plan, c, digest, events, next.map(|b| *b))
                        }
                    };
                    plan.steps.push(step);
                }
            }
            None => {
                for (c, &digest) in commands.iter().zip(digests) {
                    let step = self.plan_one(members, plan, c, digest);
                    plan.steps.push(step);
                }
            }
        }
    }

    /// The step of a command whose id the store already holds: its recorded events again
    /// (an idempotent repeat) or a conflict (the same id with other content); `None` for a new
    /// command.
    fn recorded(&self, c: &Command, digest: [u8; 32]) -> Option<Step> {
        let rec = match self.store.command(c.id) {
            Err(e) => return Some(Step::Done(Err(e.into()))),
            Ok(None) => return None,
            Ok(Some(rec)) => rec,
        };
        if rec.digest != digest {
            return Some(Step::Done(Err(Rejection::IdempotencyConflict(
                c.id.to_string(),
            )
            .into())));
        }
        let positions: Vec<u64> =
            (rec.first_position..rec.first_position + u64::from(rec.count)).collect();
        Some(Step::Done(
            self.store
                .read_positions(&positions)
                .map(|events| Receipt {
                    command: c.id,
                    replayed: true,
                    events,
                })
                .map_err(Error::from),
        ))
    }

    fn plan_one(&self, members: &Members, plan: &mut Plan, c: &Command, digest: [u8; 32]) -> Step {
        // However the command was built (a struct literal skips `from_json`), it is checked as
        // the wire form is before anything reads its stream; the deciders check it again.
        if let Err(r) = c.validate() {
            return Step::Done(Err(r.into()));
        }
        if let Some(step) = self.recorded(c, digest) {
            return step;
        }
        if let Some(&(i, d)) = plan.ids.get(&c.id) {
            return if d == digest {
                Step::SameAs(i)
            } else {
                Step::Done(Err(Rejection::IdempotencyConflict(c.id.to_string()).into()))
            };
        }
        if let Err(r) = plan.clock.check(c.at) {
            return Step::Done(Err(r.into()));
        }
        // Gather what the decision reads; the core decides. A consumption refund reads the
        // member's consumption records, which the cached projection does not keep: its events
        // are folded again, with what this batch has planned for it.
        let full;
        let member = if c.action.needs_consumption_records() {
            full = match self.full_state(&c.member, &plan.appends) {
                Ok(s) => s,
                Err(e) => return Step::Done(Err(e)),
            };
            full.as_ref()
        } else {
            plan.states
                .get(&c.member)
                .or_else(|| members.get(&c.member).map(|s| &**s))
        };
        let ctx = Context::new(&plan.history)
            .with_member(member)
            .with_clearing(&plan.clearing)
            .with_latest_at(plan.latest_at);
        match decide(&ctx, c) {
            Err(r) => Step::Done(Err(r.into())),
            Ok(d) => {
                let next = d.member.map(MemberState::without_consumption_records);
                record(plan, c, digest, d.events, next)
            }
        }
    }

    /// Decides a batch on every core when its commands are independent across members: none
    /// settles, publishes a policy or refunds a consumption (those read what every member or
    /// the log holds), and no id appears twice. Each member's commands are decided in order
    /// against that member's state, the members in parallel; the result is what deciding the
    /// batch in order gives, since a member's decisions read only that member's state and the
    /// policy history, which such a batch does not change. `None` when the batch does not
    /// qualify (it is then planned in order).
    fn decide_by_member(
        &self,
        members: &Members,
        plan: &Plan,
        commands: &[Command],
        digests: &[[u8; 32]],
    ) -> Option<Vec<Decided>> {
        if commands.len() < PARALLEL_MIN
            || commands.iter().any(|c| {
                matches!(
                    c.action,
                    Action::Settle { .. }
                        | Action::PublishPolicy { .. }
                        | Action::RefundConsumption { .. }
                )
            })
        {
            return None;
        }
        let mut ids = std::collections::HashSet::with_capacity(commands.len());
        if !commands.iter().all(|c| ids.insert(c.id)) {
            return None;
        }
        // Each member's commands, in batch order.
        let mut by_member: HashMap<&MemberId, Vec<usize>, ahash::RandomState> = HashMap::default();
        for (i, c) in commands.iter().enumerate() {
            by_member.entry(&c.member).or_default().push(i);
        }
        let groups: Vec<Vec<usize>> = by_member.into_values().collect();
        let decided: Vec<Vec<(usize, Decided)>> = groups
            .into_par_iter()
            .with_min_len(16)
            .map(|group| {
                let mut state: Option<MemberState> = None;
                let mut last_decided = None;
                let mut out: Vec<(usize, Decided)> = group
                    .into_iter()
                    .enumerate()
                    .map(|(k, i)| {
                        let c = &commands[i];
                        // The same order of checks as `plan_one`: the command's own form first.
                        if let Err(r) = c.validate() {
                            return (i, Decided::Done(Step::Done(Err(r.into()))));
                        }
                        if let Some(step) = self.recorded(c, digests[i]) {
                            return (i, Decided::Done(step));
                        }
                        if let Err(r) = plan.clock.check(c.at) {
                            return (i, Decided::Done(Step::Done(Err(r.into()))));
                        }
                        let current = state
                            .as_ref()
                            .or_else(|| members.get(&c.member).map(|s| &**s));
                        let ctx = Context::new(&plan.history).with_member(current);
                        match decide(&ctx, c) {
                            Err(r) => (i, Decided::Done(Step::Done(Err(r.into())))),
                            Ok(d) => {
                                state = d.member.map(MemberState::without_consumption_records);
                                last_decided = Some(k);
                                (i, Decided::Events(d.events, None))
                            }
                        }
                    })
                    .collect();
                // The member's state after the batch goes with its last recorded command.
                if let Some((_, Decided::Events(_, next))) = last_decided.map(|k| &mut out[k]) {
                    *next = state.map(Box::new);
                }
                out
            })
            .collect();
        let mut out: Vec<Option<Decided>> = std::iter::repeat_with(|| None)
            .take(commands.len())
            .collect();
        for (i, d) in decided.into_iter().flatten() {
            out[i] = Some(d);
        }
        out.into_iter().collect()
    }

    /// After a conflict with another writer of the same store, rebuilds the projections
    /// from the log (rare: one `Ledger` per store never conflicts with itself).
    fn reload(&self) -> Result<(), Retry> {
        let replayed = replay(self.store.as_ref(), &self.founding, false).map_err(|_| Retry)?;
        *self
            .members
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = replayed.members;
        *self
            .clearing
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = replayed.clearing;
        *self
            .policies
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Policies {
            history: replayed.history,
            latest_at: replayed.latest_at,
        };
        Ok(())
    }

    /// The expiry sweep: records, for every member with bonus or points due to expire by `at`,
    /// those expiries (one `expire` command per member, at `at`, from the member's home store).
    /// Without it a member who never comes back keeps expired credit on the books.
    ///
    /// Command ids are UUID v5 of the member and the time, so running the same sweep twice
    /// records nothing the second time. Members whose last event is after `at` are left alone
    /// (their expiries were recorded by that event, or will be by their next).
    pub fn expire_due(&self, at: Timestamp) -> Vec<Result<Receipt, Error>> {
        // A sweep dated in the far future (a typo in its date) would lock every member it
        // touches: refused once, before any member is looked at.
        if let Err(r) = self.clock().check(at) {
            return vec![Err(r.into())];
        }
        let due: Vec<Command> = {
            let members = self
                .members
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut due: Vec<Command> = members
                .values()
                .filter(|m| m.last_at <= at)
                .filter(|m| m.next_expiry().is_some_and(|e| e <= at))
                // Every cached member's sweep command is well formed.
                .filter_map(|m| {
                    let id =
                        Uuid::new_v5(&SWEEP_NAMESPACE, format!("{}|{at}", m.member).as_bytes());
                    Command::new(
                        id,
                        at,
                        m.member.clone(),
                        m.home_store.clone(),
                        Action::Expire,
                    )
                    .ok()
                })
                .collect();
            due.sort_by(|a, b| a.member.cmp(&b.member));
            due
        };
        due.chunks(BATCH_MAX)
            .flat_map(|chunk| self.execute_batch(chunk))
            .collect()
    }

    /// A member as it is now.
    pub fn member(&self, id: &MemberId) -> Option<MemberView> {
        // From the cached projection: O(1), no read of the log.
        self.cached_members()
            .get(id)
            .map(|s| MemberView::from(&**s))
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
    fn full_state(&self, id: &MemberId, pending: &[Append]) -> Result<Option<MemberState>, Error> {
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
        let members = self
            .members
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut ids: Vec<MemberId> = members.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Calls `f` with every member's state (in no particular order), under a read lock.
    pub fn for_each_member(&self, mut f: impl FnMut(&MemberState)) {
        let members = self
            .members
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        members.values().for_each(|s| f(s));
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

struct Retry;

/// How a ledger is opened: to write (the founding policy is recorded in the chain if it is
/// not yet), or only to verify (nothing is written).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Open {
    Write,
    Verify,
}

/// A command waiting for a group commit, and where to send its result.
type Waiting = (Command, std::sync::mpsc::SyncSender<Answer>);

/// What a waiting caller of `execute` is told: its result, or that it now leads.
enum Answer {
    Done(Result<Receipt, Error>),
    Lead,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiting>,
    leading: bool,
}

/// The policy history and the latest event's time, which a publication is checked against.
struct Policies {
    history: PolicyHistory,
    latest_at: Option<Timestamp>,
}

struct Plan {
    /// The ledger's clock, read once for the whole batch.
    clock: Clock,
    steps: Vec<Step>,
    appends: Vec<Append>,
    /// Command ids planned in this batch: their append index and digest.
    ids: HashMap<Uuid, (usize, [u8; 32])>,
    /// The clearing after this batch's planned commands.
    clearing: Clearing,
    /// Members' states after this batch's planned commands.
    states: HashMap<MemberId, MemberState>,
    /// The policy history after this batch's planned commands.
    history: PolicyHistory,
    /// The latest event time after this batch's planned commands.
    latest_at: Option<Timestamp>,
}

enum Step {
    /// Finished without appending: a replay, a rejection or an error.
    Done(Result<Receipt, Error>),
    /// Appended as the i-th append.
    Appended(usize),
    /// A repeat, in the same batch, of the i-th append.
    SameAs(usize),
}

/// A command decided ahead of the plan (see `Ledger::decide_by_member`).
enum Decided {
    /// Finished without appending.
    Done(Step),
    /// The events to append, and the member's state after them.
    Events(Vec<Event>, Option<Box<MemberState>>),
}

/// Batches at least this large are decided by member on every core when they qualify.
const PARALLEL_MIN: usize = 64;

/// Adds a decided command to the plan: the clearing, the latest time, the policy history and
/// the member's state move on, and its events become the next append.
fn record(
    plan: &mut Plan,
    c: &Command,
    digest: [u8; 32],
    events: Vec<Event>,
    next: Option<MemberState>,
) -> Step {
    let expected_version = events[0].version - 1;
    for e in &events {
        plan.clearing.fold_postings(e.at, &postings(e));
        plan.latest_at = plan.latest_at.max(Some(e.at));
        if e.member.is_stores() {
            plan.clearing.apply(e).expect("a decided settlement folds");
        }
        if e.member.is_policy() {
            plan.history.apply(e).expect("a decided policy folds");
        }
    }
    if let Some(next) = next {
        plan.states.insert(c.member.clone(), next);
    }
    let i = plan.appends.len();
    plan.ids.insert(c.id, (i, digest));
    plan.appends.push(Append {
        command: c.id,
        digest,
        member: c.member.clone(),
        expected_version,
        events,
    });
    Step::Appended(i)
}

/// Folds a stored event, reporting a fold failure as corruption at its position.
pub(crate) fn fold_checked(
    state: &mut Option<MemberState>,
    e: &RecordedEvent,
) -> Result<(), Error> {
    MemberState::fold_onto(state, &e.event).map_err(|f| Error::Corrupt {
        position: e.position,
        why: f.to_string(),
    })
}

/// The sled store of an existing ledger, opened by `open` (in place, or from a copy): there
/// must be one, with its policy. A directory without a ledger's files is "no ledger";
/// one with sled's files but no ledger in them is `Corrupt`.
fn existing_store(
    path: &Path,
    open: impl FnOnce(&Path) -> Result<SledStore, memberledger_store::StoreError>,
) -> Result<SledStore, Error> {
    // Without any of a ledger's files there is no ledger here, and opening would create one.
    if !SledStore::holds_ledger_files(path) {
        return Err(Error::Storage(format!(
            "no ledger at {}; create one first (memberledger init)",
            path.display()
        )));
    }
    let store = open(path)?;
    refuse_files_without_a_ledger(&store)?;
    Ok(store)
}

/// `Corrupt` when the store was opened over a ledger's files (sled's, the anchor) and holds
/// no ledger: no policy setting and no events (a damaged ledger, or an interrupted create).
fn refuse_files_without_a_ledger(store: &SledStore) -> Result<(), Error> {
    if store.found_existing() && store.meta(POLICY_KEY)?.is_none() && store.head()?.position == 0 {
        return Err(store
            .no_ledger_error("no policy setting and no events")
            .into());
    }
    Ok(())
}

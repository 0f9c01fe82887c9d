use std::collections::HashMap;

use memberledger_core::{
    decide, postings, Action, CardDirectory, Clearing, Command, Context, Event, MemberId,
    MemberState, PolicyHistory, Rejection, Timestamp, Uuid,
};
use memberledger_store::{Append, CommandRecord};
use rayon::prelude::*;

use super::Ledger;
use crate::replay::Members;
use crate::{Clock, Error, Receipt};

impl Ledger {
    /// Plans a batch against the cached projections: each command's step, and the appends,
    /// member states, clearing and policy history after it.
    pub(super) fn plan(&self, commands: &[Command]) -> Plan {
        self.plan_prepared(commands, None)
    }

    /// [`plan`](Self::plan), with what was prepared for the batch ahead of it (against the
    /// projections the batch before it leaves, while that batch was written), if anything.
    pub(super) fn plan_prepared(&self, commands: &[Command], prepared: Option<Prepared>) -> Plan {
        let (history, latest_at) = {
            let p = self.policies();
            (p.history.clone(), p.latest_at)
        };
        let members = self
            .members
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let cards = self.cached_cards().clone();
        let card_key = self.card_key();
        // (What was prepared is for these very commands; anything else is prepared again.)
        let prepared = prepared.filter(|p| p.digests.len() == commands.len());
        let prepared = prepared.unwrap_or_else(|| {
            let view = View {
                member: &|id| members.get(id),
                history: &history,
                cards: &cards,
                card_key: card_key.as_deref(),
            };
            self.prepare(commands, &view)
        });
        let mut plan = Plan {
            clock: prepared.clock,
            clearing: self.cached_clearing().clone(),
            cards,
            card_key,
            history,
            latest_at,
            steps: Vec::with_capacity(commands.len()),
            appends: Vec::with_capacity(commands.len()),
            ids: HashMap::with_capacity_and_hasher(commands.len(), ahash::RandomState::new()),
            states: HashMap::with_capacity_and_hasher(commands.len(), ahash::RandomState::new()),
        };
        let lookup = Lookup(prepared.known.as_deref());
        let digests = &prepared.digests;
        self.plan_batch(
            &members,
            &mut plan,
            commands,
            (digests, lookup),
            prepared.decided,
        );
        plan
    }

    /// What a batch's plan needs first, against `view`: the clock, each command's digest, the
    /// store's record of each id, and the decisions by member when the batch qualifies.
    pub(super) fn prepare(&self, commands: &[Command], view: &View<'_>) -> Prepared {
        let clock = self.clock().snapshot();
        // A command's digest depends on nothing else: computed on every core.
        let digests: Vec<[u8; 32]> = commands
            .par_iter()
            .with_min_len(32)
            .map(Command::digest)
            .collect();
        // Which ids the store already holds: one call for the batch (one round trip on a
        // server). When it fails, each command asks again on its own and gets its own error.
        let ids: Vec<Uuid> = commands.iter().map(|c| c.id).collect();
        let known = self.store.commands(&ids).ok();
        let decided =
            self.decide_by_member(view, &clock, commands, (&digests, Lookup(known.as_deref())));
        Prepared {
            clock,
            digests,
            known,
            decided,
        }
    }

    /// Plans a batch: with its decisions by member when it qualified, else in order.
    fn plan_batch(
        &self,
        members: &Members,
        plan: &mut Plan,
        commands: &[Command],
        (digests, lookup): (&[[u8; 32]], Lookup<'_>),
        decided: Option<Vec<Decided>>,
    ) {
        match decided {
            Some(decided) => {
                for ((c, &digest), d) in commands.iter().zip(digests).zip(decided) {
                    let step = match d {
                        Decided::Done(step) => step,
                        Decided::Events(events, next) => record(plan, c, digest, events, next),
                    };
                    plan.steps.push(step);
                }
            }
            None => {
                for (i, (c, &digest)) in commands.iter().zip(digests).enumerate() {
                    let step = self.plan_one(members, plan, c, digest, lookup.get(i));
                    plan.steps.push(step);
                }
            }
        }
    }

    /// The step of a command whose id the store already holds: its recorded events again
    /// (an idempotent repeat) or a conflict (the same id with other content); `None` for a new
    /// command. `known` is the store's record of the id when the batch's lookup answered;
    /// without it the store is asked for this id alone.
    fn recorded(
        &self,
        c: &Command,
        digest: [u8; 32],
        known: Option<&Option<CommandRecord>>,
    ) -> Option<Step> {
        let asked;
        let rec = match known {
            Some(known) => known.as_ref()?,
            None => match self.store.command(c.id) {
                Err(e) => return Some(Step::Done(Err(e.into()))),
                Ok(rec) => {
                    asked = rec?;
                    &asked
                }
            },
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

    fn plan_one(
        &self,
        members: &Members,
        plan: &mut Plan,
        c: &Command,
        digest: [u8; 32],
        known: Option<&Option<CommandRecord>>,
    ) -> Step {
        // However the command was built (a struct literal skips `from_json`), it is checked as
        // the wire form is before anything reads its stream; the deciders check it again.
        if let Err(r) = c.validate() {
            return Step::Done(Err(r.into()));
        }
        if let Some(step) = self.recorded(c, digest, known) {
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
        // A command named by its card is about the member the card directory names.
        let resolved = match self.resolve(plan, c) {
            Ok(r) => r,
            Err(r) => return Step::Done(Err(r.into())),
        };
        let c = &resolved;
        // Gather what the decision reads; the core decides. A consumption refund reads the
        // member's consumption records, which the cached projection does not keep: its events
        // are folded again, with what this batch has planned for it. So is a member cached
        // without its spending window when a publication of this batch first names a rule
        // that reads it.
        let full;
        let spending = crate::projection::keeps_spending(&plan.history);
        let cached = plan
            .states
            .get(&c.member)
            .map(|s| &**s)
            .or_else(|| members.get(&c.member));
        let lacks_window = spending && cached.is_some_and(|s| !s.keeps_spending());
        let member = if c.action.needs_consumption_records() || lacks_window {
            full = match self.full_state(&c.member, &plan.appends) {
                Ok(s) => s,
                Err(e) => return Step::Done(Err(e)),
            };
            full.as_ref()
        } else {
            cached
        };
        let ctx = Context::new(&plan.history)
            .with_member(member)
            .with_clearing(&plan.clearing)
            .with_cards(&plan.cards)
            .with_card_key(plan.card_key.as_deref())
            .with_latest_at(plan.latest_at);
        match decide(&ctx, c) {
            Err(r) => Step::Done(Err(r.into())),
            Ok(d) => {
                let next = d
                    .member
                    .map(|s| Box::new(crate::projection::compact(s, spending)));
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
        view: &View<'_>,
        clock: &Clock,
        commands: &[Command],
        (digests, lookup): (&[[u8; 32]], Lookup<'_>),
    ) -> Option<Vec<Decided>> {
        if commands.len() < PARALLEL_MIN
            || commands.iter().any(|c| {
                matches!(
                    c.action,
                    Action::Settle { .. }
                        | Action::PublishPolicy { .. }
                        | Action::ClosePeriod { .. }
                        | Action::RefundConsumption { .. }
                        | Action::LinkCard
                        | Action::ReplaceCard { .. }
                ) || c.member.is_by_card()
            })
        {
            return None;
        }
        let mut ids = std::collections::HashSet::with_capacity_and_hasher(
            commands.len(),
            ahash::RandomState::new(),
        );
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
                        if let Some(step) = self.recorded(c, digests[i], lookup.get(i)) {
                            return (i, Decided::Done(step));
                        }
                        if let Err(r) = clock.check(c.at) {
                            return (i, Decided::Done(Step::Done(Err(r.into()))));
                        }
                        let current = state.as_ref().or_else(|| (view.member)(&c.member));
                        let ctx = Context::new(view.history)
                            .with_member(current)
                            .with_cards(view.cards)
                            .with_card_key(view.card_key);
                        match decide(&ctx, c) {
                            Err(r) => (i, Decided::Done(Step::Done(Err(r.into())))),
                            Ok(d) => {
                                state = d.member.map(|s| {
                                    crate::projection::compact(
                                        s,
                                        crate::projection::keeps_spending(view.history),
                                    )
                                });
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
}

impl Ledger {
    /// The command with the member its card names, when it names a card and no member.
    fn resolve(&self, plan: &Plan, c: &Command) -> Result<Command, Rejection> {
        Context::new(&plan.history)
            .with_cards(&plan.cards)
            .with_card_key(plan.card_key.as_deref())
            .resolve(c)
    }
}

pub(super) struct Plan {
    /// The ledger's clock, read once for the whole batch.
    pub(super) clock: Clock,
    pub(super) steps: Vec<Step>,
    pub(super) appends: Vec<Append>,
    /// Command ids planned in this batch: their append index and digest.
    /// (aHash, as the ledger's members map: the batch's maps are filled on the write path.)
    pub(super) ids: HashMap<Uuid, (usize, [u8; 32]), ahash::RandomState>,
    /// The clearing after this batch's planned commands.
    pub(super) clearing: Clearing,
    /// The card directory after this batch's planned commands.
    pub(super) cards: CardDirectory,
    /// The ledger's card key, read once for the batch.
    pub(super) card_key: Option<Vec<u8>>,
    /// Members' states after this batch's planned commands, boxed as the ledger's table
    /// holds them (publishing moves each box in).
    pub(super) states: HashMap<MemberId, Box<MemberState>, ahash::RandomState>,
    /// The policy history after this batch's planned commands.
    pub(super) history: PolicyHistory,
    /// The latest event time after this batch's planned commands.
    pub(super) latest_at: Option<Timestamp>,
}

pub(super) enum Step {
    /// Finished without appending: a replay, a rejection or an error.
    Done(Result<Receipt, Error>),
    /// Appended as the i-th append.
    Appended(usize),
    /// A repeat, in the same batch, of the i-th append.
    SameAs(usize),
}

/// The store's records of a batch's ids, in batch order, when its lookup answered.
#[derive(Clone, Copy)]
struct Lookup<'a>(Option<&'a [Option<CommandRecord>]>);

impl<'a> Lookup<'a> {
    /// The record of the batch's i-th command: `Some(None)` when the store holds none, `None`
    /// when the lookup did not answer (the command asks on its own).
    fn get(self, i: usize) -> Option<&'a Option<CommandRecord>> {
        self.0.and_then(|known| known.get(i))
    }
}

/// What a batch is decided against ahead of its plan: each member's state (`None`: not
/// enrolled), the policy history, the card directory and the card key.
pub(super) struct View<'a> {
    pub(super) member: &'a (dyn Fn(&MemberId) -> Option<&'a MemberState> + Sync),
    pub(super) history: &'a PolicyHistory,
    pub(super) cards: &'a CardDirectory,
    pub(super) card_key: Option<&'a [u8]>,
}

/// What a batch's plan needs first ([`Ledger::prepare`]).
pub(super) struct Prepared {
    /// The ledger's clock, read once for the whole batch.
    clock: Clock,
    digests: Vec<[u8; 32]>,
    /// The store's records of the batch's ids, when its lookup answered.
    known: Option<Vec<Option<CommandRecord>>>,
    /// The batch decided by member, when it qualifies.
    decided: Option<Vec<Decided>>,
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
    next: Option<Box<MemberState>>,
) -> Step {
    let expected_version = events[0].version - 1;
    for e in &events {
        plan.clearing.fold_postings(e.at, &postings(e));
        plan.cards.fold(e);
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

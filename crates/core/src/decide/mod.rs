//! `decide`: every business rule, behind one entry point. It reads what the [`Context`] holds
//! (the member's state, the policy history, the stores' clearing, the latest recorded time)
//! and the command, and returns the [`Decision`] (the events to record and the member's next
//! state) or a rejection. It never touches a clock, a disk or a network.
//!
//! The rooms, by command family:
//! - [`member`]: the checks every member command passes, and the routing by action;
//! - [`draft`]: the working copy a member command is decided on, and the checks each
//!   recorded event passes (bounds, lot numbers, balanced books);
//! - [`expiry`]: expiries due by the command's time, and the sweep;
//! - [`recharge`]: recharge and bonus (which rule gives which bonus);
//! - [`tiers`]: upgrades after a recharge, changes by hand;
//! - [`consume`]: consumption, the discount and the spend order;
//! - [`refunds`]: consumption refunds, balance refunds and claw-back;
//! - [`packages`]: package purchase, sessions, package refunds;
//! - [`points`]: point redemption;
//! - [`opening`]: opening balances carried over from another system;
//! - [`status`]: freeze, unfreeze, and what a frozen member may not do;
//! - [`cards`]: linking, losing, replacing and unlinking cards, and the card a command names;
//! - [`holds`]: authorizations, captures, voids and expired holds;
//! - [`adjust`]: corrections by hand;
//! - [`settlement`]: settlements between stores;
//! - [`publication`]: publishing a policy version (and the founding record);
//! - [`periods`]: closing periods, and refusing what would change a closed one.

mod adjust;
mod cards;
mod consume;
mod coupons;
mod draft;
mod expiry;
mod holds;
mod late;
mod member;
mod opening;
mod packages;
mod periods;
mod points;
mod prepaid;
mod publication;
mod recharge;
mod refunds;
mod settlement;
mod status;
mod tiers;
pub use tiers::REVIEW_DOWNGRADE;

use crate::books::clearing::Clearing;
use crate::cards::CardDirectory;
use crate::command::{Action, Command};
use crate::error::Rejection;
use crate::event::{event_id, Event, EventBody, EVENT_SCHEMA_VERSION};
use crate::member::MemberState;
use crate::policy::history::PolicyHistory;
use crate::policy::Policy;
use crate::time::Timestamp;

pub use consume::split_bonus;
pub use opening::opened_package_id;

/// Where the policy in force comes from.
#[derive(Clone, Copy, Debug)]
enum Policies<'a> {
    /// A ledger's whole history: the version in force at the command's time decides.
    History(&'a PolicyHistory),
    /// One policy, as version 1 (the founding policy), for a ledger that never published one.
    Founding(&'a Policy),
}

/// What a decision may read: everything [`decide`] needs besides the command. A caller (the
/// ledger) gathers it and commits what comes back; it holds no rule itself.
///
/// - the member's current state, `None` when never enrolled (for a consumption refund, a
///   state folded with its consumption records: see
///   [`Action::needs_consumption_records`]);
/// - the policy history (or one founding policy), from which the version in force at the
///   command's time is taken, and which a publication extends;
/// - the stores' clearing, which a settlement is decided against (empty when not given);
/// - the time of the latest recorded event, which a new policy must take effect after.
///
/// ```
/// use memberledger_core::{decide, Command, Context, Policy, PolicyHistory};
/// let history = PolicyHistory::new(Policy::builtin());
/// let enroll = Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#).unwrap();
/// let decision = decide(&Context::new(&history), &enroll).unwrap();
/// let state = decision.member.expect("an enrollment starts a member");
/// let recharge = Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000002","at":"2026-03-01T10:05:00Z","type":"recharge","member":"M1","store":"S1","amount":"1000.00"}"#).unwrap();
/// let decision = decide(&Context::new(&history).with_member(Some(&state)), &recharge).unwrap();
/// let state = decision.member.unwrap();
/// assert_eq!(state.principal().to_string(), "1000.00");
/// assert_eq!(state.bonus().to_string(), "150.00"); // the built-in policy's 1000 → 150 rule
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Context<'a> {
    /// The member's state, `None` when never enrolled.
    pub member: Option<&'a MemberState>,
    /// The stores' clearing (for a settlement).
    pub clearing: Option<&'a Clearing>,
    /// The time of the latest recorded event (for a policy publication).
    pub latest_at: Option<Timestamp>,
    /// Which member holds which card (for linking a card, and resolving a card to its member).
    pub cards: Option<&'a CardDirectory>,
    card_key: Option<CardKey<'a>>,
    policies: Policies<'a>,
}

/// The ledger's secret card key; shown by no `Debug`.
#[derive(Clone, Copy)]
pub(crate) struct CardKey<'a>(pub(crate) &'a [u8]);

impl std::fmt::Debug for CardKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardKey(..)")
    }
}

impl<'a> Context<'a> {
    /// A context under a ledger's policy history, with no member, no clearing and no event
    /// recorded yet; add what the command reads with the `with_` methods.
    pub fn new(history: &'a PolicyHistory) -> Context<'a> {
        Context {
            member: None,
            clearing: None,
            latest_at: None,
            cards: None,
            card_key: None,
            policies: Policies::History(history),
        }
    }

    /// A context under one policy, as version 1 (the founding policy): for tools and tests
    /// that decide members of a ledger that never published a policy. A publication decided
    /// in it starts from that policy.
    pub fn founding(policy: &'a Policy) -> Context<'a> {
        Context {
            member: None,
            clearing: None,
            latest_at: None,
            cards: None,
            card_key: None,
            policies: Policies::Founding(policy),
        }
    }

    /// With the member's state (`None`: never enrolled).
    #[must_use]
    pub fn with_member(mut self, member: Option<&'a MemberState>) -> Context<'a> {
        self.member = member;
        self
    }

    /// With the stores' clearing.
    #[must_use]
    pub fn with_clearing(mut self, clearing: &'a Clearing) -> Context<'a> {
        self.clearing = Some(clearing);
        self
    }

    /// With the time of the latest recorded event.
    #[must_use]
    pub fn with_latest_at(mut self, latest_at: Option<Timestamp>) -> Context<'a> {
        self.latest_at = latest_at;
        self
    }

    /// With the card directory (linking a card refuses one another member holds).
    #[must_use]
    pub fn with_cards(mut self, cards: &'a CardDirectory) -> Context<'a> {
        self.cards = Some(cards);
        self
    }

    /// With the ledger's card key: what a policy that records cards as hashes keys them with
    /// (a secret of the ledger's settings, never recorded).
    #[must_use]
    pub fn with_card_key(mut self, key: Option<&'a [u8]>) -> Context<'a> {
        self.card_key = key.map(CardKey);
        self
    }

    /// A command that names a card and no member, with the member the card directory says
    /// holds the card (`card_not_linked` when none does); any other command as it is.
    pub fn resolve(&self, cmd: &Command) -> Result<Command, Rejection> {
        let (Some(number), true) = (&cmd.card, cmd.member.is_by_card()) else {
            return Ok(cmd.clone());
        };
        let (policy, _) = self.policy_in_force(cmd.at);
        let card = crate::cards::card_ref(number, policy, self.card_key.map(|k| k.0))?;
        let owner = self.cards.and_then(|d| d.owner(&card)).ok_or_else(|| {
            Rejection::CardNotLinked("the card named is not linked to any member".into())
        })?;
        let mut resolved = cmd.clone();
        resolved.member = owner.clone();
        Ok(resolved)
    }

    /// The policy in force at `at` and its version.
    pub fn policy_in_force(&self, at: Timestamp) -> (&'a Policy, u32) {
        match self.policies {
            Policies::History(h) => {
                let v = h.in_force(at);
                (&v.policy, v.version)
            }
            Policies::Founding(p) => (p, 1),
        }
    }
}

/// What [`decide`] decided: the events to record, in order, and the member's state with them
/// folded on (for a member's command; `None` for a settlement or a policy publication).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// The events, complete (ids, versions, the policy version in force, every figure).
    pub events: Vec<Event>,
    /// The member after the events (a member's command only).
    pub member: Option<MemberState>,
}

impl Decision {
    /// The events alone.
    pub fn into_events(self) -> Vec<Event> {
        self.events
    }
}

/// Decides any command: a member's, a settlement between stores, or a policy publication.
/// On success the events are complete (ids, stream versions, the version of the policy in
/// force at the command's time, every derived figure) and fold onto their streams in order;
/// a rejection records nothing. The command is checked as its wire form is
/// ([`Command::validate`]) first.
///
/// It never reads a clock: the time is the command's (see [`crate::Timestamp::now`] for
/// making one).
pub fn decide(ctx: &Context<'_>, cmd: &Command) -> Result<Decision, Rejection> {
    cmd.validate()?;
    if let Policies::History(h) = ctx.policies {
        if !crate::policy::founding::is_founding_command(cmd) {
            periods::check_open(h, cmd)?;
        }
    }
    // A late member command (from a terminal that was offline) takes effect at its member's
    // current point, under the policy in force there.
    let effective_at = ctx.member.map_or(cmd.at, |m| {
        if m.member == cmd.member {
            cmd.at.max(m.last_at)
        } else {
            cmd.at
        }
    });
    let (policy, version) = ctx.policy_in_force(effective_at);
    match &cmd.action {
        Action::ClosePeriod { through } => {
            let events = match ctx.policies {
                Policies::History(h) => periods::decide_close(h, cmd, *through, version),
                Policies::Founding(p) => {
                    let h = PolicyHistory::new(p.clone());
                    periods::decide_close(&h, cmd, *through, version)
                }
            }?;
            Ok(Decision {
                events,
                member: None,
            })
        }
        Action::Settle { .. } => {
            let empty = Clearing::default();
            let clearing = ctx.clearing.unwrap_or(&empty);
            settlement::decide_settlement(clearing, cmd, version).map(|events| Decision {
                events,
                member: None,
            })
        }
        Action::PublishPolicy { policy: new } => {
            let events = match ctx.policies {
                Policies::History(h) => publication::decide_publication(h, cmd, new, ctx.latest_at),
                Policies::Founding(p) => {
                    let h = PolicyHistory::new(p.clone());
                    publication::decide_publication(&h, cmd, new, ctx.latest_at)
                }
            }?;
            Ok(Decision {
                events,
                member: None,
            })
        }
        _ => member::decide_member(ctx, cmd, policy, version).map(|(events, state)| Decision {
            events,
            member: Some(state),
        }),
    }
}

/// A command's event: `index` within the command, `version` of its stream.
pub(crate) fn envelope(
    cmd: &Command,
    (index, version): (u32, u64),
    policy_version: u32,
    body: EventBody,
) -> Event {
    Event {
        id: event_id(cmd.id, index),
        command: cmd.id,
        index,
        member: cmd.member.clone(),
        version,
        at: cmd.at,
        occurred_at: None,
        store: cmd.store.clone(),
        v: EVENT_SCHEMA_VERSION,
        policy: policy_version,
        body,
    }
}

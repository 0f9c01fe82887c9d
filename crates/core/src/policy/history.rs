//! Policy history: the founding policy (version 1) and every version published since, each in
//! force from its time. A command is decided by the version in force at its `at`; its events
//! name that version, and replay never re-evaluates a rule.

use std::sync::Arc;

use crate::event::{Event, EventBody};
use crate::events::*;
use crate::policy::founding::{
    founding_at, founding_command_id, is_founding_event, FOUNDING_STORE,
};
use crate::policy::Policy;
use crate::time::Timestamp;

/// One version of the policy.
///
/// Its JSON, `{"version":…,"effective_at":…,"policy":{…}}` (`effective_at` null for the
/// founding policy), is the one every adapter prints: `memberledger policy show --json`,
/// `GET /v1/policy`, and the C and Python adapters' `policy`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct PolicyVersion {
    /// 1 for the founding policy, then one more per publication.
    pub version: u32,
    /// In force for commands at or after this time; `None` for the founding policy (from the
    /// beginning).
    pub effective_at: Option<Timestamp>,
    /// The rules.
    pub policy: Arc<Policy>,
}

/// Every version of a ledger's policy, oldest first.
///
/// ```
/// use memberledger_core::{decide, Command, Context, Policy, PolicyHistory};
/// let founding = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}]}"#;
/// let mut h = PolicyHistory::new(Policy::from_json(founding).unwrap());
/// let publish = Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-06-01T00:00:00Z",
///     "type":"publish_policy","store":"HQ","policy":{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"2"}]}}"#).unwrap();
/// let events = decide(&Context::new(&h), &publish).unwrap().events;
/// assert_eq!(events[0].policy, 2); // a publication names the version it makes
/// h.apply(&events[0]).unwrap();
/// assert_eq!(h.in_force("2026-05-31T23:59:59Z".parse().unwrap()).version, 1);
/// assert_eq!(h.in_force("2026-06-01T00:00:00Z".parse().unwrap()).version, 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PolicyHistory {
    versions: Vec<PolicyVersion>,
    /// Events of the policy stream folded so far (its version).
    stream_version: u64,
    /// Whether the founding policy's record has been folded (it is in the chain).
    founding_in_chain: bool,
    /// The end of the latest closed period (`period_closed`), if any.
    closed_through: Option<Timestamp>,
}

impl PolicyHistory {
    /// A history holding only the founding policy, known from outside the chain (the
    /// store's settings) and not yet recorded in it: fold its record
    /// ([`founding_command`](crate::founding_command)) to put it there.
    pub fn new(founding: Policy) -> PolicyHistory {
        PolicyHistory {
            versions: vec![PolicyVersion {
                version: 1,
                effective_at: None,
                policy: Arc::new(founding),
            }],
            stream_version: 0,
            founding_in_chain: false,
            closed_through: None,
        }
    }

    /// The history a chain starts with: the founding policy read from its founding record
    /// (the first event of a ledger's log, or any later one of an old ledger's). Refuses an
    /// event that is not one (see [`is_founding_event`](crate::is_founding_event)), or whose
    /// time, store, command id or policy is not the founding record's.
    pub fn from_founding_event(event: &Event) -> Result<PolicyHistory, String> {
        let EventBody::PolicyPublished(PolicyPublished { policy, .. }) = &event.body else {
            return Err(format!(
                "{} is not a founding policy record",
                event.body.type_name()
            ));
        };
        let parsed: Policy = serde_json::from_value(policy.clone())
            .map_err(|e| format!("the founding policy does not parse: {e}"))?;
        let mut history = PolicyHistory::new(parsed);
        history.apply(event)?;
        Ok(history)
    }

    /// Events of the policy stream folded so far.
    pub(crate) fn stream_version(&self) -> u64 {
        self.stream_version
    }

    /// Whether the founding policy's record is in the chain (false for a ledger written
    /// before founding records existed, until its first writable open records it).
    pub fn founding_in_chain(&self) -> bool {
        self.founding_in_chain
    }

    /// The end of the latest closed period: no command may take effect at or before it.
    pub fn closed_through(&self) -> Option<Timestamp> {
        self.closed_through
    }

    /// Every version, oldest first.
    pub fn versions(&self) -> &[PolicyVersion] {
        &self.versions
    }

    /// The latest version.
    pub fn current(&self) -> &PolicyVersion {
        self.versions
            .last()
            .expect("the founding policy is always there")
    }

    /// The version in force at `at`: the latest whose time is at or before it.
    pub fn in_force(&self, at: Timestamp) -> &PolicyVersion {
        // Few versions, newest most used: a scan from the end.
        self.versions
            .iter()
            .rev()
            .find(|v| v.effective_at.is_none_or(|t| t <= at))
            .expect("the founding policy is in force from the beginning")
    }

    /// Checks that a recorded event keeps the policy rules `decide` applied when it was
    /// recorded: a publication takes effect after every event before it (`latest_at`; the
    /// founding record is in force from the beginning, wherever it stands), and any other
    /// event names the version in force at its time. What a replay asks of each event before
    /// folding it.
    pub fn check_recorded(
        &self,
        event: &Event,
        latest_at: Option<Timestamp>,
    ) -> Result<(), String> {
        let closing = matches!(event.body, EventBody::PeriodClosed(_));
        if self.closed_through.is_some_and(|t| event.at <= t)
            && !closing
            && !is_founding_event(event)
        {
            return Err(format!(
                "the event takes effect at {}, in the period closed through {}",
                event.at,
                self.closed_through.unwrap_or(event.at)
            ));
        }
        if closing {
            return Ok(());
        }
        if event.member.is_policy() {
            if !is_founding_event(event) && latest_at.is_some_and(|t| event.at <= t) {
                return Err(
                    "the policy takes effect at or before an event already recorded".into(),
                );
            }
            return Ok(());
        }
        let in_force = self.in_force(event.at).version;
        if event.policy != in_force {
            return Err(format!(
                "the event names policy version {}, but version {in_force} was in force at {}",
                event.policy, event.at
            ));
        }
        Ok(())
    }

    /// Folds a founding record: once, at its fixed time and id, holding the founding policy.
    fn apply_founding(&mut self, event: &Event, policy: &serde_json::Value) -> Result<(), String> {
        if self.founding_in_chain {
            return Err("the founding policy is recorded twice".into());
        }
        if event.version != self.stream_version + 1 || event.policy != 1 {
            return Err(format!(
                "the founding policy's record (stream version {}, policy {}) does not follow stream version {}",
                event.version, event.policy, self.stream_version
            ));
        }
        let parsed: Policy = serde_json::from_value(policy.clone())
            .map_err(|e| format!("the founding policy does not parse: {e}"))?;
        parsed
            .validate()
            .map_err(|e| format!("the founding policy is not valid: {e}"))?;
        if event.at != founding_at()
            || event.store.as_str() != FOUNDING_STORE
            || event.command != founding_command_id(&parsed)
        {
            return Err(
                "a founding policy's record has the fixed time 1970-01-01T00:00:00Z, store HQ and the id UUID v5 of its policy".into(),
            );
        }
        if parsed != *self.versions[0].policy {
            return Err(
                "the founding policy in the chain differs from the ledger's founding policy (its settings)".into(),
            );
        }
        self.founding_in_chain = true;
        self.stream_version += 1;
        Ok(())
    }

    /// Folds a `policy_published` event from the policy stream: a publication (version 2 on)
    /// or the founding policy's record (version 1). Refuses one that does not follow (version
    /// numbers, stream versions and times in order, a valid policy; the founding record once,
    /// equal to the founding policy).
    pub fn apply(&mut self, event: &Event) -> Result<(), String> {
        if let EventBody::PeriodClosed(c) = &event.body {
            return self.apply_close(event, c);
        }
        let EventBody::PolicyPublished(PolicyPublished { policy, version }) = &event.body else {
            return Err(format!(
                "{} is not a policy publication",
                event.body.type_name()
            ));
        };
        if !event.member.is_policy() {
            return Err("a policy is published in the policy stream".into());
        }
        if is_founding_event(event) {
            return self.apply_founding(event, policy);
        }
        let current = self.current();
        if *version != current.version + 1
            || event.policy != *version
            || event.version != self.stream_version + 1
        {
            return Err(format!(
                "policy version {version} (stream version {}) does not follow version {}",
                event.version, current.version
            ));
        }
        if current.effective_at.is_some_and(|t| event.at <= t) {
            return Err(format!(
                "policy version {version} takes effect before version {}",
                current.version
            ));
        }
        let parsed: Policy = serde_json::from_value(policy.clone())
            .map_err(|e| format!("policy version {version} does not parse: {e}"))?;
        parsed
            .validate()
            .map_err(|e| format!("policy version {version} is not valid: {e}"))?;
        if parsed.currency != current.policy.currency {
            return Err(format!("policy version {version} changes the currency"));
        }
        self.versions.push(PolicyVersion {
            version: *version,
            effective_at: Some(event.at),
            policy: Arc::new(parsed),
        });
        self.stream_version += 1;
        Ok(())
    }

    /// Folds a `period_closed` from the policy stream: its stream version follows, it closes
    /// through a time after the previous close and not after its own time, and names the
    /// policy version in force then.
    fn apply_close(&mut self, event: &Event, c: &PeriodClosed) -> Result<(), String> {
        if !event.member.is_policy() {
            return Err("a period is closed in the policy stream".into());
        }
        if event.version != self.stream_version + 1 {
            return Err(format!(
                "period_closed (stream version {}) does not follow stream version {}",
                event.version, self.stream_version
            ));
        }
        if c.through > event.at || self.closed_through.is_some_and(|t| c.through <= t) {
            return Err(format!(
                "a period closed through {} must end at or before its event and after the previous close",
                c.through
            ));
        }
        let in_force = self.in_force(event.at).version;
        if event.policy != in_force {
            return Err(format!(
                "period_closed names policy version {}, but version {in_force} was in force",
                event.policy
            ));
        }
        self.closed_through = Some(c.through);
        self.stream_version += 1;
        Ok(())
    }
}

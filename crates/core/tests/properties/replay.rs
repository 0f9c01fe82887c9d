//! Whole-sequence checks: the log replays to the same members.

use super::*;

pub(super) type Outcomes = Vec<(Command, Result<Vec<Event>, Rejection>)>;

/// The log: every accepted command's events, in order, as canonical JSON at its position.
pub(super) fn log(outcomes: &Outcomes) -> Vec<String> {
    outcomes
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .flatten()
        .enumerate()
        .map(|(i, e)| canonical_json(u64::try_from(i).expect("position") + 1, e))
        .collect()
}

/// Folds a log from scratch, member by member (without the consumption records when `light`).
pub(super) fn replay_with(outcomes: &Outcomes, light: bool) -> BTreeMap<String, MemberState> {
    let mut states: BTreeMap<String, MemberState> = BTreeMap::new();
    for e in outcomes
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .flatten()
    {
        match states.get_mut(e.member.as_str()) {
            Some(s) => s.apply(e).expect("the log replays"),
            None => {
                let s = MemberState::enrolled(e).expect("enrolled first");
                let s = if light {
                    s.without_consumption_records()
                } else {
                    s
                };
                states.insert(e.member.to_string(), s);
            }
        }
    }
    states
}

pub(super) fn replay(outcomes: &Outcomes) -> BTreeMap<String, MemberState> {
    replay_with(outcomes, false)
}

/// Decides the given commands from scratch, as they are (no re-generation).
pub(super) fn redecide<'a>(
    commands: impl IntoIterator<Item = &'a Command>,
    policy: &Policy,
) -> Outcomes {
    let mut states: BTreeMap<String, MemberState> = BTreeMap::new();
    let mut out = Vec::new();
    for cmd in commands {
        let result = decide(
            &Context::founding(policy).with_member(states.get(cmd.member.as_str())),
            cmd,
        )
        .map(Decision::into_events);
        if let Ok(events) = &result {
            for e in events {
                match states.get_mut(e.member.as_str()) {
                    Some(s) => s.apply(e).expect("fold"),
                    None => {
                        states.insert(
                            e.member.to_string(),
                            MemberState::enrolled(e).expect("enrolled"),
                        );
                    }
                }
            }
        }
        out.push((cmd.clone(), result));
    }
    out
}

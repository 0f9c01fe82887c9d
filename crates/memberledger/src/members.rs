//! The member projections a ledger caches: one hash table of boxed states, each found by the
//! member id it holds.

use hashbrown::HashTable;
use memberledger_core::{MemberId, MemberState};
use rayon::prelude::*;

/// Member projections by id.
///
/// A slot holds only the box: the key is the id inside the state, hashed when it is looked up
/// or moved. A map keyed by a copy of the id would spend 32 bytes a slot, not 8, and a table
/// keeps spare slots (an eighth to a half of them empty after a resize): at a million members
/// that is about 50 bytes a member. Each projection is boxed so that a spare slot costs a
/// pointer, not a whole `MemberState`.
///
/// Hashed with aHash: several times faster than the standard SipHash on ids, and still keyed
/// at random, so member ids chosen to collide cannot slow the ledger down.
///
/// A state's `member` is its key: it is never changed through [`Members::get_mut`] or
/// [`Members::par_values_mut`] (no fold changes it; a member's stream is its member's).
#[derive(Clone, Default)]
pub(crate) struct Members {
    table: HashTable<Box<MemberState>>,
    hasher: ahash::RandomState,
}

impl Members {
    /// An empty table with room for `n` members.
    pub fn with_capacity(n: usize) -> Self {
        Members {
            table: HashTable::with_capacity(n),
            hasher: ahash::RandomState::default(),
        }
    }

    fn hash(&self, id: &MemberId) -> u64 {
        self.hasher.hash_one(id)
    }

    /// The state of `id`.
    pub fn get(&self, id: &MemberId) -> Option<&MemberState> {
        self.table
            .find(self.hash(id), |s| s.member == *id)
            .map(|s| &**s)
    }

    /// The state of `id`, to fold onto (its `member` stays as it is).
    pub fn get_mut(&mut self, id: &MemberId) -> Option<&mut MemberState> {
        let hash = self.hash(id);
        self.table
            .find_mut(hash, |s| s.member == *id)
            .map(|s| &mut **s)
    }

    /// Puts `state` in, under its own member id; returns the state it replaces.
    pub fn insert(&mut self, state: Box<MemberState>) -> Option<Box<MemberState>> {
        let hash = self.hash(&state.member);
        let hasher = &self.hasher;
        match self.table.entry(
            hash,
            |s| s.member == state.member,
            |s| hasher.hash_one(&s.member),
        ) {
            hashbrown::hash_table::Entry::Occupied(mut slot) => {
                Some(std::mem::replace(slot.get_mut(), state))
            }
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert(state);
                None
            }
        }
    }

    /// How many members.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Every state, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &MemberState> {
        self.table.iter().map(|s| &**s)
    }

    /// Every state, on every core, in no particular order.
    pub fn par_values(&self) -> impl ParallelIterator<Item = &MemberState> {
        (&self.table).into_par_iter().map(|s| &**s)
    }

    /// Every state, to change in place on every core (their `member` stays as it is).
    pub fn par_values_mut(&mut self) -> impl ParallelIterator<Item = &mut MemberState> {
        (&mut self.table).into_par_iter().map(|s| &mut **s)
    }

    /// Every member id, in no particular order.
    pub fn ids(&self) -> impl Iterator<Item = &MemberId> {
        self.values().map(|s| &s.member)
    }

    /// Gives back the table's spare slots.
    pub fn shrink_to_fit(&mut self) {
        let hasher = &self.hasher;
        self.table.shrink_to_fit(|s| hasher.hash_one(&s.member));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use memberledger_core::{decide, Command, Context, Policy, PolicyHistory};
    use proptest::prelude::*;

    /// `id`'s state after enrolling at `version` seconds past 2026-03-01 (the version and the
    /// time tell one state of the same member from another).
    fn state(history: &PolicyHistory, id: u8, second: u8) -> Box<MemberState> {
        let enroll = Command::from_json(&format!(
            r#"{{"id":"00000000-0000-4000-8000-{id:06}{second:06}","at":"2026-03-01T10:00:{:02}Z","type":"enroll","member":"M{id}","store":"S1"}}"#,
            second % 60
        ))
        .unwrap();
        Box::new(
            decide(&Context::new(history), &enroll)
                .unwrap()
                .member
                .unwrap(),
        )
    }

    proptest! {
        /// The table answers as a map keyed by a copy of each id does, through inserts that
        /// add and replace, folds in place and a shrink.
        #[test]
        fn members_agree_with_a_map_keyed_by_id(ops in prop::collection::vec((0u8..40, 0u8..60, 0u8..4), 0..200)) {
            let history = PolicyHistory::new(Policy::builtin());
            let mut members = Members::default();
            let mut model: HashMap<MemberId, Box<MemberState>> = HashMap::new();
            for (id, second, op) in ops {
                let s = state(&history, id, second);
                let member = s.member.clone();
                match op {
                    0 => prop_assert_eq!(members.insert(s.clone()), model.insert(member, s)),
                    1 => {
                        if let (Some(m), Some(n)) = (members.get_mut(&member), model.get_mut(&member)) {
                            m.version += 1;
                            n.version += 1;
                        }
                    }
                    2 => members.shrink_to_fit(),
                    _ => prop_assert_eq!(members.get(&member), model.get(&member).map(|b| &**b)),
                }
                prop_assert_eq!(members.len(), model.len());
            }
            let mut ids: Vec<&MemberId> = members.ids().collect();
            ids.sort();
            let mut expected: Vec<&MemberId> = model.keys().collect();
            expected.sort();
            prop_assert_eq!(ids, expected);
            for s in members.values() {
                prop_assert_eq!(Some(s), model.get(&s.member).map(|b| &**b));
            }
        }
    }
}

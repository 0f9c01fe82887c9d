//! How `verify` holds a checkpoint to the replay at its position. The member projections are
//! most of a checkpoint, and decoding them cost more than a fifth of a full verify: instead
//! the replay's members are encoded as a checkpoint holds them (compact, by id, in the same
//! chunks) and the bytes compared, which allocates far less. Only when the bytes differ (a
//! checkpoint that does not equal the replay, or one an earlier build wrote in its table's
//! order) are the chunks decoded and compared member by member, to name the first that
//! differs, or to find that none does.

use memberledger_core::{Hash, MemberState};
use rayon::prelude::*;

use super::{
    cbor, checked, decode_chunks, sorted_members, split_payload, Range, Rest, State,
    MEMBERS_PER_CHUNK,
};

/// A checkpoint read for comparison with the replay: its header and checksum checked and the
/// projections other than the members decoded; the member chunks kept as written.
pub(crate) struct Stored {
    /// The log's stored hash at its position, as the checkpoint says.
    pub hash: Hash,
    rest: Rest,
    bytes: Vec<u8>,
    /// Where each chunk of members lies in `bytes`.
    chunks: Vec<Range<usize>>,
}

impl Stored {
    /// Reads the checkpoint the store keeps at `position` from its `bytes`, or says why it
    /// cannot be read.
    pub(crate) fn read(position: u64, bytes: Vec<u8>) -> Result<Stored, String> {
        let (hash, payload) = checked(position, &bytes)?;
        let offset = bytes.len() - payload.len();
        let (rest, chunks) = split_payload(payload)?;
        let chunks = chunks
            .into_iter()
            .map(|r| r.start + offset..r.end + offset)
            .collect();
        Ok(Stored {
            hash,
            rest,
            bytes,
            chunks,
        })
    }

    /// How the checkpoint differs from the replay's `state` at its position (whose members
    /// may keep consumption records: they are compared as the compact projection a ledger
    /// caches), or `None` when it equals it.
    pub(crate) fn differs(&self, state: &State<'_>) -> Option<String> {
        if let Some(why) = self.members_differ(state) {
            return Some(why);
        }
        let rest = &self.rest;
        if rest.clearing != *state.clearing {
            return Some("the inter-store clearing differs".into());
        }
        if rest.cards != *state.cards {
            return Some("the card directory differs".into());
        }
        if rest.history != *state.history || rest.latest_at != state.latest_at {
            return Some("the policy history differs".into());
        }
        None
    }

    /// Whether the member chunks are, byte for byte, what the replay's members make; when
    /// not, the first member that differs (decoding the chunks).
    fn members_differ(&self, state: &State<'_>) -> Option<String> {
        let spending = crate::projection::keeps_spending(state.history);
        let ours = sorted_members(state.members);
        let same = ours.len().div_ceil(MEMBERS_PER_CHUNK) == self.chunks.len()
            && ours
                .par_chunks(MEMBERS_PER_CHUNK)
                .zip(self.chunks.par_iter())
                .all(|(chunk, theirs)| {
                    let compact: Vec<MemberState> = chunk
                        .iter()
                        .map(|m| {
                            crate::projection::compact(
                                m.clone_without_consumption_records(),
                                spending,
                            )
                        })
                        .collect();
                    cbor(&compact) == self.bytes[theirs.clone()]
                });
        if same {
            return None;
        }
        match decode_chunks(&self.bytes, &self.chunks) {
            Ok(members) => member_difference(&members, state, spending),
            Err(why) => Some(why),
        }
    }
}

/// The first of the checkpoint's `members` (in its order) that is not the replay's compact
/// projection of that member, or a count that differs.
fn member_difference(
    members: &[Vec<MemberState>],
    state: &State<'_>,
    spending: bool,
) -> Option<String> {
    let count: usize = members.iter().map(Vec::len).sum();
    if count != state.members.len() {
        return Some(format!(
            "it holds {count} members, the replay {}",
            state.members.len()
        ));
    }
    let different = members.par_iter().flatten().find_first(|m| {
        !state.members.get(&m.member).is_some_and(|fresh| {
            crate::projection::compact(fresh.clone_without_consumption_records(), spending) == **m
        })
    });
    different.map(|m| format!("member {} differs", m.member))
}

#[cfg(test)]
mod tests {
    use memberledger_core::{
        decide, CardDirectory, Clearing, Command, Context, Policy, PolicyHistory,
    };
    use proptest::prelude::*;

    use super::*;
    use crate::checkpoint::encode_in_order;
    use crate::replay::Members;

    /// Member `id` enrolled at `second` past 10:00 (a different second: a different state).
    fn enrolled(history: &PolicyHistory, id: u16, second: u8) -> MemberState {
        let enroll = Command::from_json(&format!(
            r#"{{"id":"00000000-0000-4000-8000-{id:06}{second:06}","at":"2026-03-01T10:00:{:02}Z","type":"enroll","member":"M{id}","store":"S1"}}"#,
            second % 60
        ))
        .unwrap();
        decide(&Context::new(history), &enroll)
            .unwrap()
            .member
            .unwrap()
    }

    proptest! {
        /// The comparison by bytes says what the comparison member by member says: equal
        /// whatever order the checkpoint holds its members in, and naming the member that
        /// differs when one does.
        #[test]
        fn a_checkpoint_equals_the_replay_in_any_order_and_names_the_member_that_differs(
            ids in prop::collection::btree_set(0u16..5000, 1..40),
            reversed in any::<bool>(),
            changed in any::<prop::sample::Index>(),
            change in any::<bool>(),
        ) {
            let history = PolicyHistory::new(Policy::builtin());
            let (clearing, cards) = (Clearing::default(), CardDirectory::default());
            let states: Vec<MemberState> = ids.iter().map(|&id| enrolled(&history, id, 1)).collect();
            let mut replayed = Members::default();
            for s in &states {
                replayed.insert(Box::new(s.clone()));
            }
            let replay = State { members: &replayed, clearing: &clearing, cards: &cards, history: &history, latest_at: None };
            // A checkpoint holds the compact projections a ledger caches.
            let spending = crate::projection::keeps_spending(&history);
            let compact = |s: MemberState| crate::projection::compact(s, spending);
            let mut written: Vec<MemberState> = states.iter().cloned().map(compact).collect();
            let at = changed.index(written.len());
            if change {
                written[at] = compact(enrolled(&history, *ids.iter().nth(at).unwrap(), 2));
            }
            let mut table = Members::default();
            for s in &written {
                table.insert(Box::new(s.clone()));
            }
            // As this release writes them (by id), or in another order (as a table's).
            let mut order = sorted_members(&table);
            if reversed {
                order.reverse();
            }
            let writer = State { members: &table, ..replay };
            let bytes = encode_in_order(9, &[7; 32], &writer, &order);
            let stored = Stored::read(9, bytes).unwrap();
            prop_assert_eq!(stored.hash, [7; 32]);
            let expected = change.then(|| format!("member {} differs", written[at].member));
            prop_assert_eq!(stored.differs(&replay), expected);
        }
    }

    #[test]
    fn a_checkpoint_with_a_member_more_or_less_says_how_many() {
        let history = PolicyHistory::new(Policy::builtin());
        let (clearing, cards) = (Clearing::default(), CardDirectory::default());
        let (mut one, mut two) = (Members::default(), Members::default());
        let spending = crate::projection::keeps_spending(&history);
        let cached = crate::projection::compact(enrolled(&history, 1, 1), spending);
        one.insert(Box::new(cached));
        two.insert(Box::new(enrolled(&history, 1, 1)));
        two.insert(Box::new(enrolled(&history, 2, 1)));
        let written = State {
            members: &one,
            clearing: &clearing,
            cards: &cards,
            history: &history,
            latest_at: None,
        };
        let bytes = super::super::encode(3, &[0; 32], &written);
        let replay = State {
            members: &two,
            ..written
        };
        let stored = Stored::read(3, bytes).unwrap();
        assert_eq!(
            stored.differs(&replay).as_deref(),
            Some("it holds 1 members, the replay 2")
        );
    }
}

//! The member streams held to the command table: what a reader checks of an index it loaded
//! from a snapshot, once a replay has held the command table to the log.

use rayon::prelude::*;

use super::{Index, Stream};

impl Index {
    /// What is wrong with the member streams, held to the command table, or `None`. Each
    /// stream must be exactly the positions of its member's commands, ascending (its version
    /// their count, its last position the last of them), and the member map must find each
    /// stream by its own id. With a command table that a replay has held to the log (every
    /// command's place and count, and their number), streams that pass are the log's.
    ///
    /// ```
    /// use memberledger_core::{Hash, MemberId, Uuid};
    /// use memberledger_store::{CommandRecord, Index};
    /// let mut index = Index::default();
    /// let record = CommandRecord {
    ///     command: Uuid::from_u128(1),
    ///     member: MemberId::new("m1")?,
    ///     first_position: 1,
    ///     count: 2,
    ///     digest: [0; 32],
    /// };
    /// assert!(index.add(record, [(1, [1; 32]), (2, [2; 32])].into_iter()));
    /// assert_eq!(index.streams_problem(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn streams_problem(&self) -> Option<String> {
        debug_assert!(self.held.is_empty(), "places held: enter them first");
        if self.members.len() != self.streams.len() {
            return Some(format!(
                "{} members name {} streams",
                self.members.len(),
                self.streams.len()
            ));
        }
        let Some((starts, mut ranges)) = self.ranges_by_stream() else {
            return Some("a command names a stream that is not there".into());
        };
        // Each stream's commands, a slice of `ranges` of its own.
        let mut slices = Vec::with_capacity(self.streams.len());
        let mut rest = ranges.as_mut_slice();
        for w in starts.windows(2) {
            let (mine, after) = rest.split_at_mut(w[1] - w[0]);
            slices.push(mine);
            rest = after;
        }
        // On every core: a stream is a cache miss or two away from the next.
        self.streams
            .par_iter()
            .zip(slices)
            .enumerate()
            .find_map_first(|(i, (s, mine))| {
                if self.members.get(&s.id).map(|&n| n as usize) != Some(i) {
                    return Some(format!("member {} does not find its own stream", s.id));
                }
                mine.sort_unstable();
                s.problem(mine)
                    .map(|why| format!("the stream of member {}: {why}", s.id))
            })
    }

    /// Each command's first position and count, grouped by its stream (a counting sort on the
    /// stream's number): stream `i`'s are `ranges[starts[i]..starts[i + 1]]`. `None`: a
    /// command names a stream that is not there.
    #[allow(clippy::type_complexity)]
    fn ranges_by_stream(&self) -> Option<(Vec<usize>, Vec<(u64, u32)>)> {
        let mut starts = vec![0usize; self.streams.len() + 1];
        for slot in self.commands.values() {
            *starts.get_mut(slot.member as usize + 1)? += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        let mut ranges = vec![(0u64, 0u32); self.commands.len()];
        for slot in self.commands.values() {
            let at = &mut next[slot.member as usize];
            ranges[*at] = (slot.first_position, slot.count);
            *at += 1;
        }
        Some((starts, ranges))
    }
}

impl Stream {
    /// What is wrong with the stream, held to its commands' `ranges` (first position and
    /// count, ascending), or `None`.
    fn problem(&self, ranges: &[(u64, u32)]) -> Option<String> {
        let mut expected = ranges.iter().flat_map(|&(first, count)| {
            (0..u64::from(count)).map(move |k| first.saturating_add(k))
        });
        let (mut at, mut d, mut shift, mut n) = (0u64, 0u64, 0u32, 0u64);
        for &b in &self.deltas {
            let Some(part) = u64::from(b & 0x7f)
                .checked_shl(shift)
                .filter(|p| p >> shift == u64::from(b & 0x7f))
            else {
                return Some("a position does not fit in 64 bits".into());
            };
            d |= part;
            if b & 0x80 != 0 {
                shift += 7;
                continue;
            }
            if d == 0 {
                return Some(format!("position {at} is there twice"));
            }
            let Some(next) = at.checked_add(d) else {
                return Some("a position does not fit in 64 bits".into());
            };
            at = next;
            if expected.next() != Some(at) {
                return Some(format!(
                    "position {at} is not the next of its member's commands"
                ));
            }
            (d, shift, n) = (0, 0, n + 1);
        }
        if shift != 0 {
            return Some("its last position is cut short".into());
        }
        if let Some(missing) = expected.next() {
            return Some(format!("position {missing} of its commands is not in it"));
        }
        if n == 0 {
            return Some("it has no event".into());
        }
        if n != self.version || at != self.last {
            return Some(format!(
                "it holds {n} positions up to {at}, and says {} up to {}",
                self.version, self.last
            ));
        }
        None
    }
}

#[cfg(test)]
pub(super) mod tests {
    use memberledger_core::{MemberId, Uuid};
    use proptest::prelude::*;

    use super::super::Slot;
    use crate::{CommandRecord, Index};

    /// An index of `commands` (each a member's number and its count of events), in log order.
    pub(in crate::index) fn index(commands: &[(u8, u32)]) -> Index {
        let mut index = Index::default();
        let mut next = 1u64;
        for (i, &(member, count)) in commands.iter().enumerate() {
            let record = CommandRecord {
                command: Uuid::from_u128(i as u128 + 1),
                member: MemberId::new(format!("m{member}")).unwrap(),
                first_position: next,
                count,
                digest: [0; 32],
            };
            let events = (next..next + u64::from(count)).map(|p| (p, [0; 32]));
            assert!(index.add(record, events));
            next += u64::from(count);
        }
        index
    }

    fn commands() -> impl Strategy<Value = Vec<(u8, u32)>> {
        proptest::collection::vec((0u8..6, 1u32..200), 1..40)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// An index built from a log agrees with itself, written as bytes and read back too.
        #[test]
        fn an_index_built_from_a_log_has_no_stream_problem(commands in commands()) {
            let index = index(&commands);
            prop_assert_eq!(index.streams_problem(), None);
            let again = Index::from_bytes(&index.to_bytes()).unwrap();
            prop_assert_eq!(again.streams_problem(), None);
        }

        /// A command whose place names another member's stream, or another first position,
        /// or another count, leaves the streams disagreeing with the command table.
        #[test]
        fn a_command_moved_leaves_the_streams_disagreeing(
            commands in commands(),
            pick in any::<proptest::sample::Index>(),
            change in 0u8..3,
        ) {
            let mut index = index(&commands);
            let streams = index.streams.len();
            let id = *index.commands.keys().nth(pick.index(index.commands.len())).unwrap();
            let slot: &mut Slot = index.commands.get_mut(&id).unwrap();
            match change {
                0 if streams > 1 => slot.member = (slot.member + 1) % u32::try_from(streams).unwrap(),
                1 => slot.first_position += 1,
                _ => slot.count += 1,
            }
            prop_assert!(index.streams_problem().is_some());
        }
    }

    #[test]
    fn a_stream_that_says_another_version_or_last_position_is_a_problem() {
        let mut index = index(&[(1, 3), (2, 1), (1, 2)]);
        assert_eq!(index.streams_problem(), None);
        index.streams[0].version += 1;
        assert!(index.streams_problem().unwrap().contains("says 6"));
        index.streams[0].version -= 1;
        index.streams[0].last += 1;
        assert!(index.streams_problem().is_some());
    }

    #[test]
    fn a_stream_with_a_position_twice_or_cut_short_is_a_problem() {
        let mut index = index(&[(1, 3)]);
        index.streams[0].deltas.push(0);
        assert!(index.streams_problem().unwrap().contains("twice"));
        index.streams[0].deltas.pop();
        index.streams[0].deltas.push(0x80);
        assert!(index.streams_problem().unwrap().contains("cut short"));
    }

    #[test]
    fn a_member_map_that_does_not_find_its_stream_is_a_problem() {
        let mut index = index(&[(1, 3), (2, 1)]);
        let one = MemberId::new("m1").unwrap();
        index.members.insert(one, 1);
        assert!(index
            .streams_problem()
            .unwrap()
            .contains("does not find its own stream"));
    }
}

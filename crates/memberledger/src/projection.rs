//! The member projection a ledger caches: a member's fold without its refundable-consumption
//! records (a refund re-reads the member's events), and without its spending and visit window
//! unless a policy version of the ledger names a spending or visit rule (the window costs a
//! 28-byte entry a visit day; docs/PERFORMANCE.md). The same compaction everywhere a cached
//! state is made or checked: open, reload, the planner, `verify` and checkpoints.

use memberledger_core::{MemberState, PolicyHistory};
use rayon::prelude::*;

use crate::replay::Members;

/// Whether the ledger's cached members keep the spending window: some policy version names a
/// spending or visit rule (an upgrade on them, or a retain rule).
pub(crate) fn keeps_spending(history: &PolicyHistory) -> bool {
    history
        .versions()
        .iter()
        .any(|v| v.policy.has_visit_tier_rules())
}

/// A member as the ledger caches it under a history that keeps (`spending`) or drops the
/// spending window.
pub(crate) fn compact(state: MemberState, spending: bool) -> MemberState {
    let state = state.without_consumption_records();
    if spending {
        state
    } else {
        state.without_spending_window()
    }
}

/// Compacts every member after a replay, on every core: drops the spending window when the
/// history names no rule that reads it, and the refundable-consumption records when
/// `records` were folded (a full replay's), and gives back spare capacity.
pub(crate) fn compact_replayed(members: &mut Members, history: &PolicyHistory, records: bool) {
    let spending = keeps_spending(history);
    members.par_values_mut().for_each(|state| {
        if !spending {
            state.drop_spending_window();
        }
        if records {
            state.drop_consumption_records();
        }
        state.shrink_to_fit();
    });
    members.shrink_to_fit();
}

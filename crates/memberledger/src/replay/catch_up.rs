//! The catch-up: what the log holds after a position folded onto the projections cached
//! there, with the checks of a replay.

use memberledger_core::{CardDirectory, Clearing, Hash, PolicyHistory, Timestamp};
use memberledger_store::EventStore;

use super::{Fold, Members};
use crate::Error;

/// The cached projections of a ledger as of a position of its log: where a catch-up starts,
/// and what it ends with.
pub(crate) struct Projections {
    pub members: Members,
    pub clearing: Clearing,
    pub cards: CardDirectory,
    pub history: PolicyHistory,
    pub latest_at: Option<Timestamp>,
    /// The last position folded into them, and its stored hash.
    pub position: u64,
    pub hash: Hash,
}

/// Folds onto `from` only what the log holds after `from.position`, with the checks of a
/// replay (chain links from `from.hash`, decoding, ids, the store's index, journal entries,
/// policy versions, and that the log ends at the store's head): what a ledger does after a
/// write whose outcome it does not know, instead of replaying from genesis. Returns the
/// projections however far it got (members part-folded only up to the first bad event),
/// and the first failure.
pub(crate) fn catch_up(
    store: &dyn EventStore,
    from: Projections,
) -> (Projections, Result<(), Error>) {
    let mut fold = Fold {
        members: from.members,
        trial_total: 0,
        clearing: from.clearing,
        cards: from.cards,
        prev: from.hash,
        n: from.position,
        place: None,
        commands: 0,
        drop_windows: !crate::projection::keeps_spending(&from.history),
        history: from.history,
        latest_at: from.latest_at,
        records: false,
        checkpoints: Vec::new(),
        checkpoint_problem: None,
        checkpoint_buf: Vec::new(),
        refolds: None,
    };
    let result = fold.run(store, false);
    let caught = Projections {
        members: fold.members,
        clearing: fold.clearing,
        cards: fold.cards,
        history: fold.history,
        latest_at: fold.latest_at,
        position: fold.n,
        hash: fold.prev,
    };
    (caught, result)
}

use std::collections::HashMap;

use memberledger_core::{
    canonical_json, chain_hash, check_balanced, event_id, postings, Clearing, Hash, MemberId,
    MemberState, GENESIS_HASH,
};
use memberledger_store::{for_each_raw, EventStore};

use crate::Error;

/// Member projections by id.
pub(crate) type Members = HashMap<MemberId, MemberState>;

/// Pages read at a time when scanning the log.
pub(crate) const SCAN_PAGE: usize = 4096;

/// The result of folding the whole log from genesis.
pub(crate) struct Replayed {
    pub members: Members,
    /// The sum of every account (zero in balanced books), wide enough never to overflow.
    pub trial_total: i128,
    /// What stores owe each other.
    pub clearing: Clearing,
    pub events: u64,
    pub head: Hash,
}

/// Folds the whole log from genesis, checking as it goes that positions are contiguous, every
/// stored hash follows the chain rule over the stored bytes, the bytes are the canonical JSON
/// of the event they decode to, and every event folds onto its member. The first failure is
/// returned as `Corrupt` with its position.
pub(crate) fn replay(store: &dyn EventStore) -> Result<Replayed, Error> {
    let mut members = Members::new();
    let mut trial = std::collections::BTreeMap::new();
    let mut trial_total = 0i128;
    let mut clearing = Clearing::default();
    let mut prev = GENESIS_HASH;
    let mut n = 0u64;
    let mut failure: Option<Error> = None;
    let scan = for_each_raw(store, SCAN_PAGE, |raw| {
        let position = raw.position;
        let corrupt = |why: String| Error::Corrupt { position, why };
        let mut check = || -> Result<(), Error> {
            if position != n + 1 {
                return Err(Error::Corrupt {
                    position: n + 1,
                    why: format!("event {} is missing (the log jumps to {position})", n + 1),
                });
            }
            if chain_hash(&prev, &raw.json) != raw.hash {
                return Err(corrupt("the hash does not follow the chain (bytes changed, or an event removed, inserted or moved)".into()));
            }
            let rec = raw.decode()?;
            if rec.event.id != event_id(rec.event.command, rec.event.index) {
                return Err(corrupt(
                    "the event id is not UUID v5 of its command and index".into(),
                ));
            }
            // The store's index must agree with what the event says of itself.
            let e = &rec.event;
            match store.command_place(e.command)? {
                Some(c)
                    if c.member == e.member
                        && position >= c.first_position
                        && position - c.first_position == u64::from(e.index)
                        && e.index < c.count => {}
                _ => return Err(corrupt(format!(
                    "the store's index does not place this event as event {} of command {} of member {}",
                    e.index, e.command, e.member
                ))),
            }
            let entry = postings(&rec.event);
            check_balanced(&entry).map_err(corrupt)?;
            for p in &entry {
                // A crafted log could push a balance past i64: that is corruption, not a panic.
                let balance = trial.entry(p.account.clone()).or_insert(0i64);
                *balance = balance
                    .checked_add(p.cents)
                    .ok_or_else(|| corrupt(format!("the balance of {} overflows", p.account)))?;
                trial_total += i128::from(p.cents);
            }
            clearing.fold_postings(&entry);
            if canonical_json(rec.position, &rec.event).as_bytes() != raw.json.as_slice() {
                return Err(corrupt(
                    "the stored bytes are not the canonical JSON of the event".into(),
                ));
            }
            // Fold in place; a refused event ends the replay, so a part-folded state is
            // never used.
            if !rec.event.member.is_member() {
                return clearing
                    .apply(&rec.event)
                    .map_err(|f| corrupt(f.to_string()));
            }
            match members.get_mut(&rec.event.member) {
                Some(state) => state.apply(&rec.event).map_err(|f| corrupt(f.to_string())),
                None => {
                    let state =
                        MemberState::enrolled(&rec.event).map_err(|f| corrupt(f.to_string()))?;
                    members.insert(rec.event.member.clone(), state);
                    Ok(())
                }
            }
        };
        match check() {
            Ok(()) => {
                prev = raw.hash;
                n = position;
                Ok(())
            }
            Err(e) => {
                failure = Some(e);
                // Stop the scan: only the first bad position matters.
                Err(memberledger_store::StoreError::Storage("stop".into()))
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    scan?;
    let head = store.head()?;
    if head.position != n || head.hash != prev {
        return Err(Error::Corrupt {
            position: n + 1,
            why: format!(
                "the store's head is at {} but the log ends at {n}",
                head.position
            ),
        });
    }
    Ok(Replayed {
        members,
        trial_total,
        clearing,
        events: n,
        head: prev,
    })
}

//! The index rebuilt when the store opens: one sequential scan of the log that checks what
//! names the first bad position, stops before a torn tail (then removed), and fills the
//! command and member indexes.

use memberledger_core::chain_hash;
use memberledger_store::{Index, StoreError};

use crate::guard::{guarded, sled_error};
use crate::record::{decode_chunk, event_key, key_position, EVENT_PREFIX};
use crate::SledStore;

impl SledStore {
    /// Reads every record, checking as it goes what names the first bad position exactly:
    /// each header against its checksum, the chain link into each key, positions without a
    /// gap, and each command id once. The rest of the chain (every hash against the bytes
    /// before it) is checked by the replay a ledger makes on open, on every core, so it is not
    /// hashed twice here.
    ///
    /// A gap in the positions after the anchored head is the torn tail of a write that failed
    /// before it was acknowledged (sled 0.34 can keep some keys of a batch that failed on a
    /// full disk and lose the ones before them; one batch's keys are consecutive from the head,
    /// so a torn one always shows as a gap): the index stops before it, and its first key's
    /// position is returned so the tail can be removed. A gap at or before the anchor, or a key
    /// that does not chain, is `Corrupt`.
    pub(crate) fn rebuild_index(
        &self,
        anchored: Option<u64>,
    ) -> Result<(Index, Option<u64>), StoreError> {
        let mut index = Index::default();
        let scan = self.scan_into(anchored, &mut index);
        // The commands' places, held back by the scan, entered at once: an id recorded
        // twice is damage found before anything the scan stopped at (which lies after every
        // command it held, or inside the last key, where the id would have been met first).
        index
            .enter_held()
            .map_err(|(position, command)| StoreError::Corrupt {
                position,
                why: format!("command {command} is recorded twice"),
            })?;
        let torn = scan?;
        index.shrink_to_fit();
        Ok((index, torn))
    }

    /// The scan of [`rebuild_index`](Self::rebuild_index) into `index`: the position of a
    /// torn tail's first key, if it stopped before one.
    fn scan_into(
        &self,
        anchored: Option<u64>,
        index: &mut Index,
    ) -> Result<Option<u64>, StoreError> {
        // The key before: its first position, the hash before it, and its value.
        let mut previous: Option<(u64, [u8; 32], sled::IVec)> = None;
        for item in self.db().scan_prefix([EVENT_PREFIX]) {
            let (key, value) =
                item.map_err(|e| sled_error(&self.path, "cannot read the log", e))?;
            let first = key_position(&key)?;
            let head = index.head();
            let expected = head.position + 1;
            if anchored.is_some_and(|a| head.position >= a) && first > expected {
                return Ok(Some(first));
            }
            let records = decode_chunk(expected.min(first), &value)?;
            // The first event of each key must follow the one before it: a key moved, swapped
            // or dropped is named where it is, before its positions confuse the index. (Every
            // other link is checked by the replay a ledger makes on open.)
            if let Some((hash, json, _)) = records[0].events.first() {
                if chain_hash(&head.hash, json) != *hash {
                    // Name the first bad link: it may be inside the key before (a stored hash
                    // changed there breaks only the link out of it).
                    let position = previous
                        .as_ref()
                        .and_then(|(start, prev_hash, value)| {
                            first_bad_link(*start, *prev_hash, value)
                        })
                        .unwrap_or(expected);
                    return Err(StoreError::Corrupt {
                        position,
                        why: "the hash does not follow the chain (bytes changed, or an event removed, inserted or moved)".into(),
                    });
                }
            }
            if first != expected {
                return Err(StoreError::Corrupt {
                    position: expected,
                    why: format!("the log jumps from {} to {first}", expected - 1),
                });
            }
            let hash_before = head.hash;
            for rec in records {
                let first = rec.record.first_position;
                let hashes = rec
                    .events
                    .iter()
                    .zip(first..)
                    .map(|((hash, _, _), position)| (position, *hash));
                // Checked against the commands before it by `enter_held`, once all are read.
                index.hold(rec.record, hashes);
            }
            previous = Some((expected, hash_before, value));
        }
        Ok(None)
    }

    /// Removes the keys from position `from` on: the torn tail of a write that failed before
    /// it was acknowledged, which a later append would otherwise interleave with.
    pub(crate) fn remove_torn_tail(&self, from: u64) -> Result<(), StoreError> {
        let keys: Vec<sled::IVec> = guarded(&self.path, || {
            self.db()
                .range(event_key(from)..=event_key(u64::MAX))
                .keys()
                .collect::<Result<_, _>>()
                .map_err(|e| sled_error(&self.path, "cannot read the log", e))
        })?;
        let mut batch = sled::Batch::default();
        for k in &keys {
            batch.remove(k);
        }
        self.write_durably(move |db| db.apply_batch(batch))?;
        eprintln!(
            "memberledger: warning: removed {} stored chunk(s) from position {from} on in {}: part of a write that failed before it was acknowledged (a full disk?)",
            keys.len(),
            self.path.display()
        );
        Ok(())
    }
}

/// The first position in a stored value (starting at `first`, after `prev`) whose stored
/// hash does not follow the chain, if any.
pub(crate) fn first_bad_link(first: u64, mut prev: [u8; 32], value: &[u8]) -> Option<u64> {
    let records = decode_chunk(first, value).ok()?;
    for rec in records {
        for (position, (hash, json, _)) in (rec.record.first_position..).zip(&rec.events) {
            if chain_hash(&prev, json) != *hash {
                return Some(position);
            }
            prev = *hash;
        }
    }
    None
}

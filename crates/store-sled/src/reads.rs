//! The reads behind the [`EventStore`](memberledger_store::EventStore) methods: a command's
//! record, a page of the log, one event by position.

use memberledger_core::{RecordedEvent, Uuid};
use memberledger_store::{CommandRecord, RawEvent, RawPage, StoreError};

use crate::guard::sled_error;
use crate::record::{decode_chunk, decode_chunk_with, event_key, key_position, record_at};
use crate::SledStore;

/// The reads behind [`EventStore`]'s methods, each called at the store boundary (`guarded`).
impl SledStore {
    pub(crate) fn command_inner(&self, id: Uuid) -> Result<Option<CommandRecord>, StoreError> {
        let Some(place) = self.index()?.command(id) else {
            return Ok(None);
        };
        // The index keeps no digest: read it back from the command's record, in the chunk
        // that holds its first position.
        let first = place.first_position;
        let missing = || StoreError::Corrupt {
            position: first,
            why: "indexed command is missing".into(),
        };
        let (key, value) = self
            .db()
            .range(event_key(0)..=event_key(first))
            .next_back()
            .transpose()
            .map_err(|e| sled_error(&self.path, "cannot read the log", e))?
            .ok_or_else(missing)?;
        let rec = decode_chunk(key_position(&key)?, &value)?
            .into_iter()
            .find(|r| r.record.first_position == first)
            .ok_or_else(missing)?
            .record;
        if rec.command != id {
            return Err(StoreError::Corrupt {
                position: first,
                why: format!("the record holds command {}, not {id}", rec.command),
            });
        }
        Ok(Some(rec))
    }

    pub(crate) fn read_raw_inner(
        &self,
        from: u64,
        limit: usize,
    ) -> Result<Vec<RawEvent>, StoreError> {
        let mut page = RawPage::default();
        self.read_raw_into_inner(from, limit, &mut page)?;
        Ok(page.to_raw_events())
    }

    /// Reads the events from `from` on, at most `limit`, into `page` (emptied first).
    pub(crate) fn read_raw_into_inner(
        &self,
        from: u64,
        limit: usize,
        page: &mut RawPage,
    ) -> Result<(), StoreError> {
        page.clear();
        let from = from.max(1);
        // The record holding `from` is the last one starting at or before it.
        let start = match self
            .db()
            .range(event_key(0)..=event_key(from))
            .next_back()
            .transpose()
            .map_err(|e| sled_error(&self.path, "cannot read the log", e))?
        {
            Some((k, _)) => key_position(&k)?,
            None => return Ok(()),
        };
        for item in self.db().range(event_key(start)..=event_key(u64::MAX)) {
            if page.len() >= limit {
                break;
            }
            let (k, v) = item.map_err(|e| sled_error(&self.path, "cannot read the log", e))?;
            // Every header was checked when the store opened, and sled's files stay locked
            // while it is open: reading the log does not hash them again.
            for rec in decode_chunk_with(key_position(&k)?, &v, false)? {
                let first = rec.record.first_position;
                for (position, (hash, json, bin)) in (first..).zip(rec.events) {
                    if position >= from && page.len() < limit {
                        page.push_with_binary(position, hash, json, bin);
                    }
                }
            }
        }
        Ok(())
    }

    pub(crate) fn read_position(&self, p: u64) -> Result<RecordedEvent, StoreError> {
        let missing = || StoreError::Corrupt {
            position: p,
            why: "indexed event is missing".into(),
        };
        let (key, value) = self
            .db()
            .range(event_key(0)..=event_key(p))
            .next_back()
            .transpose()
            .map_err(|e| sled_error(&self.path, "cannot read the log", e))?
            .ok_or_else(missing)?;
        let rec = record_at(key_position(&key)?, &value, p)?;
        let i = p
            .checked_sub(rec.record.first_position)
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(missing)?;
        let (hash, json, _) = rec.events.get(i).ok_or_else(missing)?;
        RawEvent {
            position: p,
            hash: *hash,
            json: json.to_vec(),
        }
        .decode()
    }
}

//! The reads behind the [`EventStore`](memberledger_store::EventStore) methods, each one query
//! on the database (so a store sees what other processes appended).

use std::collections::HashMap;

use postgres::{Client, Row};

use memberledger_core::{MemberId, RecordedEvent, Uuid};
use memberledger_store::{CommandPlace, CommandRecord, Head, RawEvent, StoreError};

use crate::pg::{db_error, from_bigint, hash32, to_bigint};

/// The end of the log.
pub(crate) fn head(client: &mut Client) -> Result<Head, StoreError> {
    let row = client
        .query_one("SELECT position, hash FROM chain_head", &[])
        .map_err(db_error("cannot read the chain head"))?;
    let position = from_bigint(row.get(0), 0)?;
    Ok(Head {
        position,
        hash: hash32(row.get(1), position)?,
    })
}

/// A command's record.
pub(crate) fn command(client: &mut Client, id: Uuid) -> Result<Option<CommandRecord>, StoreError> {
    client
        .query_opt(
            "SELECT command, member, digest, first_position, event_count FROM commands
             WHERE command = $1",
            &[&id],
        )
        .map_err(db_error("cannot read a command"))?
        .as_ref()
        .map(record)
        .transpose()
}

/// The record of each of `ids`, in the order asked: one query for them all (what the write
/// path asks once per batch).
pub(crate) fn commands(
    client: &mut Client,
    ids: &[Uuid],
) -> Result<Vec<Option<CommandRecord>>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found: HashMap<Uuid, CommandRecord> = client
        .query(
            "SELECT command, member, digest, first_position, event_count FROM commands
             WHERE command = ANY($1)",
            &[&ids],
        )
        .map_err(db_error("cannot read the commands"))?
        .iter()
        .map(|row| record(row).map(|r| (r.command, r)))
        .collect::<Result<_, _>>()?;
    Ok(ids.iter().map(|id| found.get(id).cloned()).collect())
}

/// A `commands` row (`command, member, digest, first_position, event_count`) as a record.
fn record(row: &Row) -> Result<CommandRecord, StoreError> {
    let id: Uuid = row.get(0);
    let first_position = from_bigint(row.get(3), 0)?;
    let corrupt = |why: String| StoreError::Corrupt {
        position: first_position,
        why,
    };
    Ok(CommandRecord {
        command: id,
        member: MemberId::decode_str(row.get(1))
            .map_err(|e| corrupt(format!("command {id}: stored member: {e}")))?,
        digest: hash32(row.get(2), first_position)?,
        first_position,
        count: u32::try_from(row.get::<_, i32>(4))
            .map_err(|_| corrupt(format!("command {id}: a negative event count")))?,
    })
}

/// Where each of `ids`' events are, in the order asked: one query for them all (what replay
/// asks once per page).
pub(crate) fn command_places(
    client: &mut Client,
    ids: &[Uuid],
) -> Result<Vec<Option<CommandPlace>>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found: HashMap<Uuid, CommandPlace> = client
        .query(
            "SELECT command, member, first_position, event_count FROM commands
             WHERE command = ANY($1)",
            &[&ids],
        )
        .map_err(db_error("cannot read the commands' places"))?
        .iter()
        .map(place)
        .collect::<Result<_, _>>()?;
    Ok(ids.iter().map(|id| found.get(id).cloned()).collect())
}

/// A `commands` row (`command, member, first_position, event_count`) as a place.
fn place(row: &Row) -> Result<(Uuid, CommandPlace), StoreError> {
    let id: Uuid = row.get(0);
    let first_position = from_bigint(row.get(2), 0)?;
    let corrupt = |why: String| StoreError::Corrupt {
        position: first_position,
        why,
    };
    Ok((
        id,
        CommandPlace {
            member: MemberId::decode_str(row.get(1))
                .map_err(|e| corrupt(format!("command {id}: stored member: {e}")))?,
            first_position,
            count: u32::try_from(row.get::<_, i32>(3))
                .map_err(|_| corrupt(format!("command {id}: a negative event count")))?,
        },
    ))
}

/// An event row (`position, hash, canonical`) as stored.
fn raw(row: &Row) -> Result<RawEvent, StoreError> {
    let position = from_bigint(row.get(0), 0)?;
    Ok(RawEvent {
        position,
        hash: hash32(row.get(1), position)?,
        json: row.get(2),
    })
}

/// Stored events from `from`, at most `limit`, in position order.
pub(crate) fn read_raw(
    client: &mut Client,
    from: u64,
    limit: usize,
) -> Result<Vec<RawEvent>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    client
        .query(
            "SELECT position, hash, canonical FROM events WHERE position >= $1
             ORDER BY position LIMIT $2",
            &[&to_bigint(from.max(1))?, &limit],
        )
        .map_err(db_error("cannot read the log"))?
        .iter()
        .map(raw)
        .collect()
}

/// Decoded events at the given positions, in the order asked.
pub(crate) fn read_positions(
    client: &mut Client,
    positions: &[u64],
) -> Result<Vec<RecordedEvent>, StoreError> {
    let wanted = positions
        .iter()
        .map(|&p| to_bigint(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut found: HashMap<u64, RawEvent> = client
        .query(
            "SELECT position, hash, canonical FROM events WHERE position = ANY($1)",
            &[&wanted],
        )
        .map_err(db_error("cannot read the log"))?
        .iter()
        .map(|r| raw(r).map(|e| (e.position, e)))
        .collect::<Result<_, _>>()?;
    positions
        .iter()
        .map(|p| match found.remove(p) {
            Some(e) => e.decode(),
            None => Err(StoreError::Corrupt {
                position: *p,
                why: "indexed event is missing".into(),
            }),
        })
        .collect()
}

/// A member's events, decoded, in version order.
pub(crate) fn member_events(
    client: &mut Client,
    member: &MemberId,
) -> Result<Vec<RecordedEvent>, StoreError> {
    client
        .query(
            "SELECT position, hash, canonical FROM events WHERE stream = $1
             ORDER BY stream_version",
            &[&member.as_str()],
        )
        .map_err(db_error("cannot read a member's events"))?
        .iter()
        .map(|r| raw(r)?.decode())
        .collect()
}

/// The positions of a member's events, in version order.
pub(crate) fn member_positions(
    client: &mut Client,
    member: &MemberId,
) -> Result<Vec<u64>, StoreError> {
    client
        .query(
            "SELECT position FROM events WHERE stream = $1 ORDER BY stream_version",
            &[&member.as_str()],
        )
        .map_err(db_error("cannot read a member's positions"))?
        .iter()
        .map(|r| from_bigint(r.get(0), 0))
        .collect()
}

/// A member's stream version (0 when not enrolled).
pub(crate) fn member_version(client: &mut Client, member: &MemberId) -> Result<u64, StoreError> {
    let row = client
        .query_one(
            "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream = $1",
            &[&member.as_str()],
        )
        .map_err(db_error("cannot read a member's version"))?;
    from_bigint(row.get(0), 0)
}

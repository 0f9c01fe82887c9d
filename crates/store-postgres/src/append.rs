//! An append: one transaction that locks the chain head, checks and seals the batch after it
//! (the same sealing as every store), inserts the commands and events, and advances the head
//! with a conditional update on the head it sealed after. Committed, it is durable (PostgreSQL's
//! WAL); failed, nothing of it is.

use std::collections::{HashMap, HashSet};

use postgres::Transaction;

use memberledger_core::{MemberId, RecordedEvent, Uuid};
use memberledger_store::{
    outcomes, seal, Append, AppendConflict, Head, LogView, Sealed, StoreError,
};

use crate::pg::{db_error, from_bigint, hash32, to_bigint};

/// One append's result for each item of the batch.
pub(crate) type Outcomes = Vec<Result<Vec<RecordedEvent>, AppendConflict>>;

/// What sealing needs of the log, read under the head's lock: the head, the batch's members'
/// versions and which of its command ids are recorded.
struct Locked {
    head: Head,
    versions: HashMap<MemberId, u64>,
    recorded: HashSet<Uuid>,
}

impl LogView for Locked {
    fn head(&self) -> Head {
        self.head
    }

    fn member_version(&self, member: &MemberId) -> u64 {
        self.versions.get(member).copied().unwrap_or(0)
    }

    fn has_command(&self, id: Uuid) -> bool {
        self.recorded.contains(&id)
    }
}

/// Appends a batch in `tx` and commits it.
pub(crate) fn append(mut tx: Transaction<'_>, batch: Vec<Append>) -> Result<Outcomes, StoreError> {
    let log = lock_head(&mut tx, &batch)?;
    let head = log.head;
    let (outcome, sealed) = seal(&log, batch)?;
    if !sealed.is_empty() {
        insert(&mut tx, &sealed)?;
        advance_head(&mut tx, head, &sealed)?;
    }
    tx.commit()
        .map_err(db_error("cannot commit the append (nothing was recorded)"))?;
    Ok(outcomes(outcome, sealed))
}

/// Locks the chain head (every other append waits here until this one ends) and reads what
/// sealing needs.
fn lock_head(tx: &mut Transaction<'_>, batch: &[Append]) -> Result<Locked, StoreError> {
    let row = tx
        .query_one("SELECT position, hash FROM chain_head FOR UPDATE", &[])
        .map_err(db_error("cannot lock the chain head"))?;
    let position = from_bigint(row.get(0), 0)?;
    let head = Head {
        position,
        hash: hash32(row.get(1), position)?,
    };
    let members: Vec<&str> = batch.iter().map(|a| a.member.as_str()).collect();
    let mut versions = HashMap::new();
    for row in tx
        .query(
            "SELECT stream, max(stream_version) FROM events WHERE stream = ANY($1) GROUP BY stream",
            &[&members],
        )
        .map_err(db_error("cannot read the members' versions"))?
    {
        let member = MemberId::decode_str(row.get(0)).map_err(|e| StoreError::Corrupt {
            position: 0,
            why: format!("a stored stream name: {e}"),
        })?;
        versions.insert(member, from_bigint(row.get(1), 0)?);
    }
    let ids: Vec<Uuid> = batch.iter().map(|a| a.command).collect();
    let recorded = tx
        .query(
            "SELECT command FROM commands WHERE command = ANY($1)",
            &[&ids],
        )
        .map_err(db_error("cannot read the recorded commands"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(Locked {
        head,
        versions,
        recorded,
    })
}

/// Inserts the sealed commands and their events, each table in one statement.
fn insert(tx: &mut Transaction<'_>, sealed: &[Sealed]) -> Result<(), StoreError> {
    let (mut ids, mut members, mut digests, mut firsts, mut counts) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut positions, mut streams, mut versions, mut commands, mut hashes, mut bytes) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for s in sealed {
        ids.push(s.record.command);
        members.push(s.record.member.as_str());
        digests.push(&s.record.digest[..]);
        firsts.push(to_bigint(s.record.first_position)?);
        counts.push(i32::try_from(s.record.count).map_err(|_| {
            StoreError::InvalidAppend(format!("command {} has too many events", s.record.command))
        })?);
        for (e, json) in s.events.iter().zip(&s.json) {
            positions.push(to_bigint(e.position)?);
            streams.push(e.event.member.as_str());
            versions.push(to_bigint(e.event.version)?);
            commands.push(s.record.command);
            hashes.push(&e.hash[..]);
            bytes.push(json.as_bytes());
        }
    }
    tx.execute(
        "INSERT INTO commands (command, member, digest, first_position, event_count)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::bytea[], $4::bigint[], $5::integer[])",
        &[&ids, &members, &digests, &firsts, &counts],
    )
    .map_err(db_error("cannot record the commands"))?;
    tx.execute(
        "INSERT INTO events (position, stream, stream_version, command, hash, canonical)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::uuid[], $5::bytea[],
                              $6::bytea[])",
        &[&positions, &streams, &versions, &commands, &hashes, &bytes],
    )
    .map_err(db_error("cannot record the events"))?;
    Ok(())
}

/// Moves the head from `from` to the last sealed event, only if it is still at `from`: a writer
/// whose head went stale gets an error (nothing recorded), never a fork.
fn advance_head(tx: &mut Transaction<'_>, from: Head, sealed: &[Sealed]) -> Result<(), StoreError> {
    let last = sealed
        .last()
        .and_then(|s| s.events.last())
        .expect("a sealed command has events");
    let moved = tx
        .execute(
            "UPDATE chain_head SET position = $1, hash = $2 WHERE position = $3 AND hash = $4",
            &[
                &to_bigint(last.position)?,
                &&last.hash[..],
                &to_bigint(from.position)?,
                &&from.hash[..],
            ],
        )
        .map_err(db_error("cannot advance the chain head"))?;
    if moved != 1 {
        return Err(StoreError::storage(format!(
            "another writer moved the chain head from position {}: nothing was recorded; retry",
            from.position
        )));
    }
    Ok(())
}

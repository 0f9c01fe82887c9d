//! The canonical JSON of a whole event: its envelope written around the body's `data`, and
//! read back in exactly that layout.

use uuid::Uuid;

use super::table::{put_data, take_data};
use super::{Canon, Reader};
use crate::event::{Event, Hash};
use crate::id::{MemberId, StoreId};
use crate::time::Timestamp;

/// Appends the canonical JSON of an event at a position (with `hash` for the export form).
pub(crate) fn put_event(out: &mut Vec<u8>, position: u64, e: &Event, hash: Option<&Hash>) {
    out.extend_from_slice(b"{\"at\":");
    e.at.put(out);
    out.extend_from_slice(b",\"command\":");
    e.command.put(out);
    out.extend_from_slice(b",\"data\":");
    if !put_data(&e.body, out) {
        // serde_json writes an adjacently tagged enum as {"type":…,"data":…}.
        let body = serde_json::to_vec(&e.body).expect("events serialise");
        let prefix = br#"{"type":"","data":"#.len() + e.body.type_name().len();
        out.extend_from_slice(&body[prefix..body.len() - 1]);
    }
    if let Some(h) = hash {
        out.extend_from_slice(b",\"hash\":\"");
        let mut hex = [0u8; 64];
        hex::encode_to_slice(h, &mut hex).expect("64 hex digits");
        out.extend_from_slice(&hex);
        out.push(b'"');
    }
    out.extend_from_slice(b",\"id\":");
    e.id.put(out);
    out.extend_from_slice(b",\"index\":");
    e.index.put(out);
    out.extend_from_slice(b",\"member\":");
    e.member.put(out);
    // Born at schema 3, and only on a late command's events: absent, the bytes are as before.
    if let Some(t) = e.occurred_at {
        out.extend_from_slice(b",\"occurred_at\":");
        t.put(out);
    }
    // Schema 1 predates the field: its bytes are kept exactly as they were written.
    if e.v >= 2 {
        out.extend_from_slice(b",\"policy\":");
        e.policy.put(out);
    }
    out.extend_from_slice(b",\"position\":");
    position.put(out);
    out.extend_from_slice(b",\"store\":");
    e.store.put(out);
    out.extend_from_slice(b",\"type\":\"");
    out.extend_from_slice(e.body.type_name().as_bytes());
    out.extend_from_slice(b"\",\"v\":");
    e.v.put(out);
    out.extend_from_slice(b",\"version\":");
    e.version.put(out);
    out.push(b'}');
}

/// An event's fields as read, before the schema rules are applied.
pub(crate) struct Read {
    pub position: u64,
    pub event: Event,
    /// `policy` was present (schema 2 has it, schema 1 has not).
    pub policy_present: bool,
}

/// Reads an event in exactly its canonical layout; `None` if anything differs (serde then
/// decodes it, or says what is wrong). The schema rules (versions, which types exist at
/// which version) are the caller's.
pub(crate) fn take_event(s: &str) -> Option<Read> {
    // `type` is written after `data`, so it is found from the end first: only `v` and
    // `version`, two integers, follow it.
    const TYPE_KEY: &str = ",\"type\":\"";
    let b = s.as_bytes();
    let t = (0..b.len().saturating_sub(TYPE_KEY.len()))
        .rev()
        .find(|&i| b[i] == b',' && b[i..].starts_with(TYPE_KEY.as_bytes()))?
        + TYPE_KEY.len();
    let kind = &s[t..t + s[t..].find('"')?];
    let mut r = Reader::new(s);
    r.lit(b"{\"at\":")?;
    let at = Timestamp::take(&mut r)?;
    r.lit(b",\"command\":")?;
    let command = Uuid::take(&mut r)?;
    r.lit(b",\"data\":")?;
    let body = take_data(kind, &mut r)?;
    r.lit(b",\"id\":")?;
    let id = Uuid::take(&mut r)?;
    r.lit(b",\"index\":")?;
    let index = u32::take(&mut r)?;
    r.lit(b",\"member\":")?;
    let member = MemberId::take(&mut r)?;
    let occurred_at = if r.eat(b",\"occurred_at\":") {
        Some(Timestamp::take(&mut r)?)
    } else {
        None
    };
    let policy = if r.eat(b",\"policy\":") {
        Some(u32::take(&mut r)?)
    } else {
        None
    };
    r.lit(b",\"position\":")?;
    let position = u64::take(&mut r)?;
    r.lit(b",\"store\":")?;
    let store = StoreId::take(&mut r)?;
    r.lit(TYPE_KEY.as_bytes())?;
    r.lit(kind.as_bytes())?;
    r.lit(b"\",\"v\":")?;
    let v = u16::take(&mut r)?;
    r.lit(b",\"version\":")?;
    let version = u64::take(&mut r)?;
    r.lit(b"}")?;
    if !r.done() {
        return None;
    }
    Some(Read {
        position,
        event: Event {
            id,
            command,
            index,
            member,
            version,
            at,
            occurred_at,
            store,
            v,
            policy: policy.unwrap_or(0),
            body,
        },
        policy_present: policy.is_some(),
    })
}

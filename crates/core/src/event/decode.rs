//! Reading an event back from its stored JSON, of any schema version.

use serde::Deserialize;
use uuid::Uuid;

use super::body::EventBody;
use super::canon;
use super::Event;
use crate::events::*;
use crate::id::{MemberId, StoreId};
use crate::time::Timestamp;

/// The event types that exist at schema version 1.
const V1_TYPES: [&str; 14] = [
    "member_enrolled",
    "recharged",
    "bonus_granted",
    "consumed",
    "consumption_refunded",
    "balance_refunded",
    "tier_changed",
    "bonus_expired",
    "points_expired",
    "settled",
    "member_frozen",
    "member_unfrozen",
    "points_redeemed",
    "adjusted",
];

/// The event types born at schema version 3: an event of an older version naming one is refused.
const V3_TYPES: &[&str] = &[
    "period_closed",
    "balance_opened",
    "card_linked",
    "card_reported_lost",
    "card_replaced",
    "card_unlinked",
    "card_used",
    "hold_authorized",
    "hold_captured",
    "hold_voided",
    "hold_expired",
    "coupon_issued",
    "package_granted",
];

/// The envelope as decoded: the body's `data` is kept raw and decoded once its type is known.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeIn<'a> {
    at: Timestamp,
    command: Uuid,
    #[serde(borrow)]
    data: &'a serde_json::value::RawValue,
    id: Uuid,
    index: u32,
    member: MemberId,
    #[serde(default)]
    occurred_at: Option<Timestamp>,
    #[serde(default)]
    policy: Option<u32>,
    position: u64,
    store: StoreId,
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    v: u16,
    version: u64,
}

/// Decodes canonical JSON of any schema version back into a position and an event. Unknown
/// fields are refused.
///
/// Older versions are upcast to today's [`Event`] (the rule is in docs/EVENTS.md): a schema-1
/// event gets `policy = 1`, and keeps `v = 1` so that [`canonical_json`](crate::canonical_json) gives back its exact
/// bytes (the chain hashes them).
pub fn decode_event(json: &[u8]) -> Result<(u64, Event), String> {
    // The canonical layout is read directly; anything else goes through serde, which reads
    // any layout and says what is wrong.
    if let Some(read) = std::str::from_utf8(json).ok().and_then(canon::take_event) {
        let kind = read.event.body.type_name();
        let policy = schema_policy(
            read.event.v,
            read.policy_present.then_some(read.event.policy),
            kind,
        )?;
        born_at_3(&read.event)?;
        crate::bounds::check_event(&read.event.body)?;
        return Ok((
            read.position,
            Event {
                policy,
                ..read.event
            },
        ));
    }
    decode_event_serde(json)
}

/// Reads an event's binary form ([`write_binary_event`](crate::write_binary_event)), with
/// the schema rules and bounds [`decode_event`] applies to the JSON; `None` if the bytes are
/// not an event's binary form or the event breaks a rule (its JSON, read instead, says what).
/// The binary form holds no position: the store keeps it.
///
/// ```
/// use memberledger_core::{canonical_json, decode_binary_event, decode_event, write_binary_event};
/// let json = r#"{"at":"2026-01-04T11:18:00Z","command":"c0a1e000-0000-4000-8000-000000004998","data":{"home_store":"S16","tier":"standard"},"id":"be8d0842-55cd-5113-aeb5-bb42eb00985f","index":0,"member":"M0004998","policy":1,"position":5000,"store":"S16","type":"member_enrolled","v":3,"version":1}"#;
/// let (position, event) = decode_event(json.as_bytes())?;
/// let mut bin = Vec::new();
/// assert!(write_binary_event(&mut bin, &event));
/// assert!(bin.len() < json.len() / 2);
/// let again = decode_binary_event(&bin).unwrap();
/// assert_eq!(again, event);
/// assert_eq!(canonical_json(position, &again), json);
/// # Ok::<(), String>(())
/// ```
pub fn decode_binary_event(bin: &[u8]) -> Option<Event> {
    let event = canon::take_event_bin(bin)?;
    let kind = event.body.type_name();
    let present = (event.v >= 2).then_some(event.policy);
    if schema_policy(event.v, present, kind).ok()? != event.policy {
        return None;
    }
    born_at_3(&event).ok()?;
    crate::bounds::check_event(&event.body).ok()?;
    Some(event)
}

/// [`decode_event`] through serde alone: any layout of the same JSON, with serde's words for
/// what is wrong.
pub(crate) fn decode_event_serde(json: &[u8]) -> Result<(u64, Event), String> {
    let e: EnvelopeIn<'_> = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    let policy = schema_policy(e.v, e.policy, &e.kind)?;
    let body = EventBody::deserialize(Tagged {
        kind: &e.kind,
        data: e.data.get(),
        at: 0,
    })
    .map_err(|err| err.to_string())?;
    crate::bounds::check_event(&body)?;
    if let EventBody::PolicyPublished(PolicyPublished { policy, .. }) = &body {
        jcs_numbers(policy)?;
    }
    let event = Event {
        id: e.id,
        command: e.command,
        index: e.index,
        member: e.member,
        version: e.version,
        at: e.at,
        occurred_at: e.occurred_at,
        store: e.store,
        v: e.v,
        policy,
        body,
    };
    born_at_3(&event)?;
    Ok((e.position, event))
}

/// The largest integer written the same way by every JSON writer, RFC 8785 (JCS) included:
/// 2^53 - 1, the last integer an IEEE 754 double holds exactly.
pub const JSON_INTEGER_MAX: u64 = (1 << 53) - 1;

/// Refuses a number in a policy's free-form JSON that is not an integer within
/// ±[`JSON_INTEGER_MAX`]. Every number a valid policy holds is such an integer (expiry days);
/// within that range serde_json and JCS write numbers identically, so an event's canonical
/// bytes are its JCS bytes (docs/AUDIT.md). A float or a larger integer would be written
/// differently by a JCS library (`1e+21`, `1.5e-7`), so it is refused when decoded.
fn jcs_numbers(v: &serde_json::Value) -> Result<(), String> {
    match v {
        serde_json::Value::Number(n) => {
            let fits = n.as_u64().is_some_and(|n| n <= JSON_INTEGER_MAX)
                || n.as_i64()
                    .is_some_and(|n| n.unsigned_abs() <= JSON_INTEGER_MAX);
            if fits {
                Ok(())
            } else {
                Err(format!(
                    "the policy holds the number {n}: only integers up to 2^53 - 1 in size are allowed"
                ))
            }
        }
        serde_json::Value::Array(items) => items.iter().try_for_each(jcs_numbers),
        serde_json::Value::Object(map) => map.values().try_for_each(jcs_numbers),
        _ => Ok(()),
    }
}

/// The policy version an event of schema `v` names, by the rules of each schema version
/// (docs/EVENTS.md): schema 1 has no `policy` (upcast to 1) and only its 14 types; schemas 2
/// and 3 name a version of at least 1, and schema 2 has none of the types born at 3.
fn schema_policy(v: u16, policy: Option<u32>, kind: &str) -> Result<u32, String> {
    Ok(match (v, policy) {
        (1, None) if V1_TYPES.contains(&kind) => 1,
        (1, None) => return Err(format!("event type {kind:?} does not exist at schema 1")),
        (1, Some(_)) => return Err("schema 1 has no field `policy`".into()),
        (2, Some(_)) if V3_TYPES.contains(&kind) => {
            return Err(format!("event type {kind:?} does not exist at schema 2"))
        }
        (2 | 3, Some(p)) if p >= 1 => p,
        (2 | 3, _) => return Err(format!("schema {v} needs a policy version of at least 1")),
        (v, _) => return Err(format!("unknown event schema version {v}")),
    })
}

/// Refuses a field born at schema 3 in an event of an older version, and a late command's
/// `occurred_at` that is not before the event's `at`.
fn born_at_3(event: &Event) -> Result<(), String> {
    if let Some(t) = event.occurred_at {
        if t >= event.at {
            return Err(format!(
                "occurred_at {t} is not before the event's at {}",
                event.at
            ));
        }
    }
    if event.v >= 3 {
        return Ok(());
    }
    let field = if event.occurred_at.is_some() {
        Some("occurred_at")
    } else {
        event.body.field_born_at_3()
    };
    match field {
        Some(f) => Err(format!(
            "the field `{f}` does not exist at schema {}",
            event.v
        )),
        None => Ok(()),
    }
}

/// The adjacently tagged form of a body, `{"type": kind, "data": …}`, presented to serde
/// without writing it out: the type first, so the derived decoder reads `data` straight from
/// the stored bytes without buffering.
struct Tagged<'a> {
    kind: &'a str,
    data: &'a str,
    /// Entries handed out so far.
    at: u8,
}

impl<'de> serde::Deserializer<'de> for Tagged<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de> serde::de::MapAccess<'de> for Tagged<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let key = match self.at {
            0 => "type",
            1 => "data",
            _ => return Ok(None),
        };
        seed.deserialize(serde::de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        self.at += 1;
        if self.at == 1 {
            return seed.deserialize(serde::de::value::BorrowedStrDeserializer::new(self.kind));
        }
        let mut de = serde_json::Deserializer::from_str(self.data);
        let value = seed.deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }
}

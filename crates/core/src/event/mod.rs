//! Events: the immutable facts a command records, with every derived figure.
//!
//! - [`body`]: the event body, one variant per type, each wrapping its struct ([`data`]);
//! - [`draws`]: what an event takes from or gives back to lots;
//! - [`canon`]: the canonical JSON (what the chain hashes), written and read directly;
//! - [`decode`]: reading stored JSON of any schema version;
//! - [`chain`]: the chain hash.

use uuid::Uuid;

use crate::id::{MemberId, StoreId};
use crate::time::Timestamp;

pub(crate) mod body;
pub(crate) mod canon;
pub(crate) mod chain;
pub(crate) mod coupons;
pub(crate) mod data;
pub(crate) mod decode;
pub(crate) mod draws;
pub(crate) mod external;
pub(crate) mod opened;

pub use body::EventBody;
pub use chain::{chain_hash, Hash, GENESIS_HASH};
pub use coupons::CouponKind;
#[cfg(test)]
pub(crate) use decode::decode_event_serde;
pub use decode::{decode_binary_event, decode_event, JSON_INTEGER_MAX};
pub use draws::{Draw, LotKind, PointsDraw, Restore};
pub use external::{validate_method, External, Given, GivenKind, CASH_METHOD, METHOD_LEN_MAX};

/// The schema version every event of this release is written with. docs/EVENTS.md lists
/// every version and what changed; [`decode_event`] reads them all (upcasting older ones).
///
/// - 1: the first release's shape (14 event types).
/// - 2: the envelope names the policy version the event was decided under (`policy`), and
///   the package and policy events are added.
pub const EVENT_SCHEMA_VERSION: u16 = 3;

/// An event as a command decided it: the body plus who, when, where and which command.
///
/// Its JSON form is [`canonical_json`]; there is no other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// `UUID v5(namespace = command id, name = index as decimal ASCII)`.
    pub id: Uuid,
    /// The command that recorded it.
    pub command: Uuid,
    /// Its index within the command's events, from 0.
    pub index: u32,
    /// The member stream.
    pub member: MemberId,
    /// The member stream's version after this event, from 1.
    pub version: u64,
    /// The command's time: for a late command (from an offline terminal, within the policy's
    /// late window), the member's current point, where it takes effect.
    pub at: Timestamp,
    /// A late command's own time, older than `at` (born at schema 3; `None` for every other
    /// event, and then left out of the canonical JSON).
    pub occurred_at: Option<Timestamp>,
    /// The command's store.
    pub store: StoreId,
    /// The schema version it is encoded with (see [`EVENT_SCHEMA_VERSION`]).
    pub v: u16,
    /// The version of the policy it was decided under (1 for every event of schema 1, which
    /// predates policy history: they were all decided under the founding policy).
    pub policy: u32,
    /// What happened.
    pub body: EventBody,
}

/// The id of the `index`-th event of a command: the UUID v5 of the index's decimal digits in
/// the command id's namespace (`Uuid::new_v5`), its SHA-1 taken with the processor's SHA
/// instructions where it has them (every event's id is checked at every replay).
///
/// ```
/// # use memberledger_core::{event_id, Uuid};
/// let command = Uuid::from_u128(7);
/// assert_eq!(event_id(command, 12), Uuid::new_v5(&command, b"12"));
/// ```
pub fn event_id(command: Uuid, index: u32) -> Uuid {
    use sha1::{Digest, Sha1};
    let digest = Sha1::new()
        .chain_update(command.as_bytes())
        .chain_update(itoa::Buffer::new().format(index).as_bytes())
        .finalize();
    let bytes = digest[..16].try_into().expect("a SHA-1 is 20 bytes");
    uuid::Builder::from_sha1_bytes(bytes).into_uuid()
}

/// An event in the log: its global position (from 1) and chain hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Global position in the ledger's log, from 1, without gaps.
    pub position: u64,
    /// The event.
    pub event: Event,
    /// `SHA-256(previous hash ‖ canonical JSON)`.
    pub hash: Hash,
}

/// The canonical JSON of an event at a position: the event's fields and `position`, keys
/// sorted by their UTF-8 bytes at every level, no whitespace, amounts and times as strings,
/// integers as integers. This is exactly what the chain hashes (see docs/AUDIT.md).
///
/// Written directly rather than through a sorted map: every struct of an event body declares
/// its fields in sorted order, and the envelope below is written in sorted order by hand. The
/// golden files and `verify` (which re-encodes every stored event) hold it to that.
pub fn canonical_json(position: u64, event: &Event) -> String {
    let mut out = Vec::with_capacity(640);
    canon::put_event(&mut out, position, event, None);
    String::from_utf8(out).expect("canonical JSON is UTF-8")
}

/// Appends [`canonical_json`] to a buffer the caller reuses (no allocation once it is large
/// enough): what `verify` compares every stored event with.
pub fn write_canonical_json(out: &mut Vec<u8>, position: u64, event: &Event) {
    canon::put_event(out, position, event, None);
}

/// Appends the binary form of an event, what a store keeps beside its canonical JSON to read
/// it back in a fraction of the time ([`decode_binary_event`]): the same fields, as bytes
/// rather than text. False, with nothing appended, for an event that has none (a
/// `policy_published`, whose policy is free-form JSON). The JSON stays the contract: the
/// chain hashes it and `verify` holds every binary form it reads to it.
pub fn write_binary_event(out: &mut Vec<u8>, event: &Event) -> bool {
    canon::put_event_bin(out, event)
}

impl RecordedEvent {
    /// The export line: the canonical JSON with `hash` (lowercase hex) added, keys still sorted.
    pub fn to_export_json(&self) -> String {
        let mut out = Vec::with_capacity(720);
        self.write_export_json(&mut out);
        String::from_utf8(out).expect("canonical JSON is UTF-8")
    }

    /// Appends [`to_export_json`](RecordedEvent::to_export_json)'s bytes to a buffer the
    /// caller reuses (receipts and exports written without a string per event).
    pub fn write_export_json(&self, out: &mut Vec<u8>) {
        canon::put_event(out, self.position, &self.event, Some(&self.hash));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// An event id is the UUID v5 the uuid crate makes, for any command and index.
        #[test]
        fn event_ids_are_uuid_v5(command in proptest::prelude::any::<u128>(), index in proptest::prelude::any::<u32>()) {
            let command = Uuid::from_u128(command);
            let expected = Uuid::new_v5(&command, index.to_string().as_bytes());
            proptest::prop_assert_eq!(event_id(command, index), expected);
        }
    }

    const LINE: &str = r#"{"at":"2026-03-01T10:05:00Z","command":"00000000-0000-4000-8000-000000000002","data":{"amount":"1000.00","lot":1,"staff":"E7"},"id":"8d2ab1e5-a4b0-5b7a-a3c8-d2a59ba0e1c4","index":0,"member":"M1","policy":3,"position":2,"store":"S1","type":"recharged","v":2,"version":2}"#;

    #[test]
    fn decodes_and_re_encodes_to_the_same_bytes() {
        let (position, event) = decode_event(LINE.as_bytes()).unwrap();
        assert_eq!(position, 2);
        assert_eq!(canonical_json(position, &event), LINE);
        let rec = RecordedEvent {
            position,
            event,
            hash: [0xab; 32],
        };
        let export = rec.to_export_json();
        let v: serde_json::Value = serde_json::from_str(&export).unwrap();
        assert_eq!(v["hash"].as_str().unwrap(), "ab".repeat(32));
        // The export is still sorted canonical JSON.
        assert_eq!(v.to_string(), export);
    }

    #[test]
    fn upcasts_schema_1_and_keeps_its_bytes() {
        let v1 = LINE
            .replace(r#""policy":3,"#, "")
            .replace(r#""v":2"#, r#""v":1"#);
        let (position, event) = decode_event(v1.as_bytes()).unwrap();
        assert_eq!((event.v, event.policy), (1, 1));
        assert_eq!(canonical_json(position, &event), v1);
        // A type born at schema 2 has no schema-1 form.
        let born_later = v1.replace("recharged", "session_redeemed");
        assert!(decode_event(born_later.as_bytes()).is_err());
    }

    #[test]
    fn a_published_policy_holds_only_numbers_that_jcs_writes_alike() {
        // A float (a number beyond u64 is read as one) or an integer beyond 2^53 - 1 in a
        // published policy's free-form JSON would be written differently by a JCS library:
        // refused, so the canonical form stays JCS (docs/AUDIT.md).
        let line = r#"{"at":"2026-07-01T00:00:00Z","command":"00000000-0000-4000-8000-000000000199","data":{"policy":{"x":N},"version":2},"id":"01daa897-4160-5efd-8f53-d38646f0fe5c","index":0,"member":"@policy","policy":2,"position":28,"store":"HQ","type":"policy_published","v":2,"version":1}"#;
        for bad in [
            "8888888888888888888888888888888888888888888888888888888888882",
            "1.5",
            "1e3",
            "-0",
            "9007199254740992",
            "[1,{\"y\":0.1}]",
        ] {
            let json = line.replace('N', bad);
            let e = decode_event(json.as_bytes()).unwrap_err();
            assert!(e.contains("only integers"), "{bad}: {e}");
        }
        for good in [
            "9007199254740991",
            "-9007199254740991",
            "365",
            "[1,{\"y\":null}]",
        ] {
            let json = line.replace('N', good);
            let (position, event) = decode_event(json.as_bytes()).unwrap();
            assert_eq!(canonical_json(position, &event), json, "{good}");
        }
    }

    #[test]
    fn refuses_unknown_fields_types_and_versions() {
        let extra_top = LINE.replace(r#""v":2"#, r#""v":2,"x":1"#);
        let extra_data = LINE.replace(r#""lot":1"#, r#""lot":1,"x":1"#);
        let bad_type = LINE.replace("recharged", "teleported");
        let future = LINE.replace(r#""v":2"#, r#""v":9"#);
        let no_policy = LINE.replace(r#""policy":3,"#, "");
        let v1_with_policy = LINE.replace(r#""v":2"#, r#""v":1"#);
        // Beyond any figure a ledger records: refused, so no sum of cents can overflow later.
        let huge = LINE.replace(
            r#""amount":"1000.00""#,
            r#""amount":"99999999999999999.00""#,
        );
        assert!(decode_event(huge.as_bytes()).is_err());
        for bad in [
            extra_top,
            extra_data,
            bad_type,
            future,
            no_policy,
            v1_with_policy,
        ] {
            assert!(decode_event(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}

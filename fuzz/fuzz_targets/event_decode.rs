//! `event_decode`: arbitrary bytes as one stored event (the canonical JSON of docs/AUDIT.md).
//!
//! Checks: `decode_event` never panics; an event that decodes re-encodes with
//! `canonical_json(position, &event)` to bytes that decode again to the same position and
//! event, and re-encoding those gives the same bytes (the canonical form is a fixed point).
//! The canonical bytes are read by the canonical reader; the same JSON with a space added is
//! not canonical and goes through serde: both must give the same event.
//! Also encodes the export form (`to_export_json`) of the decoded event, which must parse
//! as JSON. The binary form a store keeps beside the JSON: the same bytes read as one never
//! panic, and read as an event they are that event's only binary form; a decoded event's
//! binary form reads back to the same event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memberledger_core::{
    canonical_json, decode_binary_event, decode_event, write_binary_event, RecordedEvent,
};

fuzz_target!(|data: &[u8]| {
    if let Some(event) = decode_binary_event(data) {
        let mut again = Vec::new();
        assert!(write_binary_event(&mut again, &event), "a binary form read has one");
        assert_eq!(again, data, "an event has one binary form");
    }
    let Ok((position, event)) = decode_event(data) else {
        return;
    };
    let mut bin = Vec::new();
    if write_binary_event(&mut bin, &event) {
        assert_eq!(decode_binary_event(&bin).as_ref(), Some(&event), "binary form round trip");
    }
    let json = canonical_json(position, &event);
    let (position2, event2) = decode_event(json.as_bytes())
        .unwrap_or_else(|e| panic!("canonical JSON does not decode: {e}\n{json}"));
    assert_eq!(position, position2, "position changed: {json}");
    assert_eq!(event, event2, "event changed by a round trip: {json}");
    assert_eq!(json, canonical_json(position2, &event2), "canonical JSON is not a fixed point");
    let spaced = format!("{{ {}", &json[1..]);
    let (position3, event3) = decode_event(spaced.as_bytes())
        .unwrap_or_else(|e| panic!("serde does not read what the canonical reader read: {e}\n{json}"));
    assert_eq!((position3, &event3), (position2, &event2), "serde and the canonical reader disagree: {json}");
    // The canonical JSON is valid JSON with sorted keys: re-serialising its parsed form (a
    // BTreeMap-backed Value) gives the same bytes.
    let v: serde_json::Value = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("canonical JSON is not JSON: {e}\n{json}"));
    assert_eq!(v.to_string(), json, "canonical JSON keys are not sorted");
    let rec = RecordedEvent { position, event, hash: [0x5a; 32] };
    let export = rec.to_export_json();
    let v: serde_json::Value = serde_json::from_str(&export)
        .unwrap_or_else(|e| panic!("export JSON is not JSON: {e}\n{export}"));
    assert_eq!(v.to_string(), export, "export JSON keys are not sorted");
});

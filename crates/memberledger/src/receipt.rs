use memberledger_core::{RecordedEvent, Uuid};
use serde_json::{json, Value};

use crate::Error;

/// What a successful command recorded. Returned only once the events are durable.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Receipt {
    /// The command id.
    pub command: Uuid,
    /// True when the command was recorded before and this is its original receipt.
    pub replayed: bool,
    /// The events it recorded, with positions and hashes.
    pub events: Vec<RecordedEvent>,
}

impl Receipt {
    /// The wire form: `{"command":…,"ok":true,"replayed":…,"events":[…]}`, each event as its
    /// export JSON (canonical JSON plus `hash`).
    pub fn to_json(&self) -> Value {
        let events: Vec<Value> = self
            .events
            .iter()
            .map(|e| serde_json::from_str(&e.to_export_json()).expect("export JSON parses"))
            .collect();
        json!({"command": self.command.to_string(), "ok": true, "replayed": self.replayed, "events": events})
    }

    /// Appends [`to_json`](Receipt::to_json)'s text, the same bytes, to `out`: each event's
    /// export JSON as it is encoded, without building a JSON value (what `memberledger apply`
    /// prints).
    ///
    /// ```
    /// use memberledger::{Command, Ledger};
    /// let ledger = Ledger::in_memory();
    /// let receipt = ledger.execute(&Command::from_json(r#"{"id":"8b0e4f2a-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#)?)?;
    /// let mut out = Vec::new();
    /// receipt.write_json(&mut out);
    /// assert_eq!(out, receipt.to_json().to_string().into_bytes());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"command\":\"");
        out.extend_from_slice(
            self.command
                .hyphenated()
                .encode_lower(&mut Uuid::encode_buffer())
                .as_bytes(),
        );
        out.extend_from_slice(b"\",\"events\":[");
        for (i, e) in self.events.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            e.write_export_json(out);
        }
        out.extend_from_slice(b"],\"ok\":true,\"replayed\":");
        out.extend_from_slice(if self.replayed { b"true}" } else { b"false}" });
    }

    /// The wire form of a failed command: `{"command":…,"ok":false,"error":{"code":…,"message":…}}`.
    /// `command` is `null` when the line could not be read far enough to know it.
    pub fn error_json(command: Option<Uuid>, error: &Error) -> Value {
        json!({
            "command": command.map(|c| c.to_string()),
            "ok": false,
            "error": {"code": error.code(), "message": error.to_string()},
        })
    }
}

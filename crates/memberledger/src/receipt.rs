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

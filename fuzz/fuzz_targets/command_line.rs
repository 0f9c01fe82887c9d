//! `command_line`: arbitrary bytes as one command line of the wire format (docs/schemas/command.schema.json).
//!
//! Checks: `Command::from_json` never panics; a command that parses round-trips through its
//! canonical JSON (`to_json`) to an equal command with the same canonical JSON and digest; and
//! the canonical JSON is itself a fixed point (serialising the re-parsed command gives the same
//! bytes). The serde `Deserialize` impl of `Command` must agree with `from_json`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memberledger_core::{Command, COMMAND_LINE_MAX};

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = Command::from_json(line);
    // The serde path (used by hosts that embed commands in their own JSON) accepts exactly
    // the same lines, except that it has no line-length limit.
    if line.len() <= COMMAND_LINE_MAX {
        let via_serde = serde_json::from_str::<Command>(line);
        assert_eq!(
            parsed.is_ok(),
            via_serde.is_ok(),
            "from_json and Deserialize disagree on {line:?}: {parsed:?} vs {via_serde:?}"
        );
        if let (Ok(a), Ok(b)) = (&parsed, &via_serde) {
            assert_eq!(a, b);
        }
    }
    let Ok(cmd) = parsed else {
        return;
    };
    let json = cmd.to_json();
    assert!(json.len() <= COMMAND_LINE_MAX, "canonical JSON grew past the line limit: {json}");
    let again = Command::from_json(&json)
        .unwrap_or_else(|e| panic!("canonical JSON {json} of {line:?} does not parse: {e}"));
    assert_eq!(cmd, again, "round trip changed the command: {line:?} -> {json}");
    assert_eq!(json, again.to_json(), "canonical JSON is not a fixed point");
    assert_eq!(cmd.digest(), again.digest(), "round trip changed the digest");
});

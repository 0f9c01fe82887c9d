//! What the file store's tests share: an enrolment decided as the ledger would, ready to append.

use memberledger_core::{decide, Command, Context, Decision, Policy};
use memberledger_store::Append;

/// The append of command `n`: an enrolment of member `M<member>` at store S1, decided on no
/// state (so a second enrolment of one member is a version conflict at the store).
pub fn enroll_member(n: u32, member: u32) -> Append {
    let c = Command::from_json(&format!(
        r#"{{"id":"00000000-0000-4000-8000-{n:012}","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M{member}","store":"S1"}}"#
    ))
    .unwrap();
    Append {
        command: c.id,
        digest: c.digest(),
        member: c.member.clone(),
        expected_version: 0,
        events: decide(&Context::founding(&Policy::builtin()).with_member(None), &c)
            .map(Decision::into_events)
            .unwrap(),
    }
}

/// The append of command `n`, enrolling member `M<n>`.
#[allow(dead_code)] // not every test file enrols one member a command
pub fn enroll(n: u32) -> Append {
    enroll_member(n, n)
}

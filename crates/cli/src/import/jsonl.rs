//! The JSON Lines import layout (docs/IMPORT.md): one member per line, its opening's lists
//! as `open_balance` takes them.

use memberledger::domain::{
    Opening, OpeningBonus, OpeningPackage, OpeningPoints, OpeningPrincipal,
};
use serde::Deserialize;

use super::{MemberRows, Refusal};

/// One line: the member, its home store and tier, and what it held.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    member: String,
    home_store: String,
    #[serde(default)]
    tier: Option<String>,
    #[serde(default)]
    principal: Vec<OpeningPrincipal>,
    #[serde(default)]
    bonus: Vec<OpeningBonus>,
    #[serde(default)]
    points: Vec<OpeningPoints>,
    #[serde(default)]
    packages: Vec<OpeningPackage>,
}

/// Reads one line as a member (blank lines are skipped by the caller).
pub(crate) fn member(line: usize, text: &str) -> MemberRows {
    let parsed: Result<Line, Refusal> = serde_json::from_str(text).map_err(|e| {
        Refusal::at(
            line,
            "malformed_row",
            format!("not a member's JSON object: {e}"),
        )
    });
    match parsed {
        Ok(l) => MemberRows {
            line,
            member: l.member,
            result: Ok((
                l.home_store,
                l.tier,
                Opening {
                    bonus: l.bonus,
                    packages: l.packages,
                    points: l.points,
                    principal: l.principal,
                },
            )),
        },
        Err(e) => MemberRows {
            line,
            // The member of a malformed line, when it can be read at all.
            member: serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("member")?.as_str().map(str::to_owned))
                .unwrap_or_default(),
            result: Err(e),
        },
    }
}

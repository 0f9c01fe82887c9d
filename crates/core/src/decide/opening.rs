//! Opening balances: a member moving from another system is enrolled and opened with what it
//! held there, in one command (`member_enrolled`, then `balance_opened`).

use uuid::Uuid;

use super::draft::Draft;
use super::member::enroll;
use crate::command::{Command, Opening};
use crate::error::Rejection;
use crate::event::opened::{OpenedLot, OpenedPackage, OpenedPoints};
use crate::event::{Event, EventBody};
use crate::events::BalanceOpened;
use crate::member::MemberState;
use crate::money::Money;
use crate::policy::Policy;

/// The id of the `i`-th package (from 0) an opening command carries over: UUID v5 of
/// `package/<i>` in the namespace of the command's id.
pub fn opened_package_id(command: Uuid, i: usize) -> Uuid {
    Uuid::new_v5(&command, format!("package/{i}").as_bytes())
}

/// Decides an `open_balance` of a member never enrolled (an enrolled one is refused with
/// `member_exists` by the caller).
pub(super) fn open_balance(
    cmd: &Command,
    tier: Option<&str>,
    opening: &Opening,
    policy: &Policy,
    policy_version: u32,
) -> Result<(Vec<Event>, MemberState), Rejection> {
    let (events, state) = enroll(cmd, tier, policy, policy_version)?;
    opening.check_expiries(cmd.at)?;
    let mut d = Draft {
        cmd,
        policy_version,
        state,
        events,
        occurred_at: None,
        cards: None,
        card_key: None,
        card: None,
    };
    let body = opened(cmd, opening)?;
    d.record(EventBody::BalanceOpened(body))?;
    Ok((d.events, d.state))
}

/// The event's body: lots numbered from 1, principal, then bonus, then points; each origin
/// store the command's store when the opening names none.
fn opened(cmd: &Command, o: &Opening) -> Result<BalanceOpened, Rejection> {
    let home = || cmd.store.clone();
    let mut lot = 0u32;
    let mut next = || {
        lot += 1;
        lot
    };
    let principal = o
        .principal
        .iter()
        .map(|p| OpenedLot {
            amount: p.amount,
            expires_at: None,
            lot: next(),
            origin_store: p.origin_store.clone().unwrap_or_else(home),
        })
        .collect();
    let bonus = o
        .bonus
        .iter()
        .map(|b| OpenedLot {
            amount: b.amount,
            expires_at: b.expires_at,
            lot: next(),
            origin_store: b.origin_store.clone().unwrap_or_else(home),
        })
        .collect();
    let points = o
        .points
        .iter()
        .map(|p| OpenedPoints {
            expires_at: p.expires_at,
            lot: next(),
            points: p.points,
        })
        .collect();
    let mut packages = Vec::with_capacity(o.packages.len());
    for (i, p) in o.packages.iter().enumerate() {
        let price = p
            .session_price
            .cents()
            .checked_mul(i64::from(p.sessions))
            .map(Money::from_cents)
            .ok_or_else(|| Rejection::LimitExceeded("a package's value overflows".into()))?;
        packages.push(OpenedPackage {
            expires_at: p.expires_at,
            origin_store: p.origin_store.clone().unwrap_or_else(home),
            package: opened_package_id(cmd.id, i),
            price,
            service: p.service.clone(),
            session_price: p.session_price,
            sessions: p.sessions,
        });
    }
    Ok(BalanceOpened {
        bonus,
        packages,
        points,
        principal,
    })
}

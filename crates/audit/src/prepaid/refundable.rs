//! Closing the card business: every member's refundable amount under the policy's formula,
//! and the commands that record the refunds (idempotent: their ids are derived from the
//! member and the time, so running them again records nothing twice).

use memberledger::domain::events::{BalanceRefunded, PackageRefunded};
use memberledger::domain::{
    decide, Context, EventBody, MemberState, PackageStatus, PaidFrom, PolicyHistory,
};
use memberledger::{Command, Error, Ledger, Money, Timestamp, Uuid};
use serde::Serialize;

/// The namespace of close-business command ids: UUID v5 of `<member>|<time>|balance` or
/// `<member>|<time>|package|<package id>`.
pub const CLOSE_BUSINESS_NAMESPACE: Uuid = Uuid::from_u128(0x6d656d62_6572_4c65_8467_636c6f736562);

/// One member's refund on closing the business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Refundable {
    /// The member.
    pub member: String,
    /// The store that pays (the member's home store).
    pub store: String,
    /// Principal held.
    pub principal: Money,
    /// Bonus held (forfeited, or counted by the formula).
    pub bonus: Money,
    /// Unused value of open packages.
    pub packages: Money,
    /// Cash the member is paid: the balance refund's payout and packages refunded in cash.
    pub refundable: Money,
    /// The commands that record it, in order (package refunds, then the balance refund).
    #[serde(skip)]
    pub commands: Vec<Command>,
    /// Why it cannot be recorded at that time (a rejection code and message), if so.
    pub refused: Option<String>,
}

fn command_id(member: &str, at: Timestamp, what: &str) -> Uuid {
    Uuid::new_v5(
        &CLOSE_BUSINESS_NAMESPACE,
        format!("{member}|{at}|{what}").as_bytes(),
    )
}

/// What one member is owed, decided by the rules themselves on a scratch copy of the state
/// (so the figure is the one the commands will record).
fn member_refund(history: &PolicyHistory, state: &MemberState, at: Timestamp) -> Refundable {
    let member = state.member.to_string();
    let store = state.home_store.to_string();
    let mut out = Refundable {
        member: member.clone(),
        store: store.clone(),
        principal: state.principal(),
        bonus: state.bonus(),
        packages: Money::ZERO,
        refundable: Money::ZERO,
        commands: Vec::new(),
        refused: None,
    };
    let mut wanted = Vec::new();
    for (id, p) in state.packages() {
        if p.status == PackageStatus::Open
            && p.value_left().is_positive()
            && p.expires_at.is_none_or(|e| e > at)
        {
            out.packages = out.packages.plus(p.value_left());
            wanted.push(
                Command::build(
                    command_id(&member, at, &format!("package|{id}")),
                    at,
                    &store,
                )
                .member(&member)
                .reason("closing the card business")
                .refund_package(*id),
            );
        }
    }
    wanted.push(
        Command::build(command_id(&member, at, "balance"), at, &store)
            .member(&member)
            .refund_balance(),
    );
    let mut current = state.clone();
    for built in wanted {
        let cmd = match built {
            Ok(c) => c,
            Err(e) => {
                out.refused = Some(format!("{}: {e}", e.code()));
                return out;
            }
        };
        let is_balance = matches!(cmd.action, memberledger::Action::RefundBalance);
        match decide(&Context::new(history).with_member(Some(&current)), &cmd) {
            Ok(d) => {
                for e in &d.events {
                    out.refundable = out.refundable.plus(cash_out(&e.body));
                }
                current = d.member.unwrap_or(current);
                out.commands.push(cmd);
            }
            // Nothing left on the card after the packages: no balance refund to record.
            Err(e) if is_balance && e.code() == "insufficient_balance" => {}
            Err(e) => {
                out.refused = Some(format!("{}: {e}", e.code()));
                return out;
            }
        }
    }
    out
}

fn cash_out(body: &EventBody) -> Money {
    match body {
        EventBody::BalanceRefunded(BalanceRefunded { payout, .. }) => *payout,
        EventBody::PackageRefunded(PackageRefunded {
            principal,
            to: PaidFrom::Cash,
            ..
        }) => *principal,
        _ => Money::ZERO,
    }
}

/// Every member with something to refund at `at`, in member order, under the policy in
/// force then.
pub fn refundable(ledger: &Ledger, at: Timestamp) -> Vec<Refundable> {
    let history = ledger.policy_history();
    let mut ids = ledger.member_ids();
    ids.sort();
    ids.iter()
        .filter_map(|id| ledger.member_state(id))
        .map(|s| member_refund(&history, &s, at))
        .filter(|r| !r.commands.is_empty() || r.refused.is_some())
        .collect()
}

/// What closing the business did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CloseBusiness {
    /// Members with something to refund.
    pub members: u64,
    /// Commands recorded now.
    pub recorded: u64,
    /// Commands recorded by an earlier run (answered from their receipts).
    pub replayed: u64,
    /// Members whose refund could not be recorded (see [`Refundable::refused`]), and
    /// commands refused when executed.
    pub refused: u64,
    /// Cash paid (or to pay) to members in all.
    pub refundable: Money,
}

/// Closes the card business at `at`: with `execute`, records every member's refunds (in
/// batches; a run interrupted and run again records what is left and answers the rest from
/// their receipts); without it, a dry run that records nothing.
pub fn close_business(
    ledger: &Ledger,
    at: Timestamp,
    execute: bool,
) -> Result<(Vec<Refundable>, CloseBusiness), Error> {
    let list = refundable(ledger, at);
    let mut summary = CloseBusiness {
        members: list.len() as u64,
        ..CloseBusiness::default()
    };
    for r in &list {
        summary.refundable = summary.refundable.plus(r.refundable);
        summary.refused += u64::from(r.refused.is_some());
    }
    if !execute {
        return Ok((list, summary));
    }
    let commands: Vec<Command> = list
        .iter()
        .filter(|r| r.refused.is_none())
        .flat_map(|r| r.commands.iter().cloned())
        .collect();
    for chunk in commands.chunks(memberledger::BATCH_MAX) {
        for result in ledger.execute_batch(chunk) {
            match result {
                Ok(r) if r.replayed => summary.replayed += 1,
                Ok(_) => summary.recorded += 1,
                Err(e) if e.is_retryable() => return Err(e),
                Err(_) => summary.refused += 1,
            }
        }
    }
    Ok((list, summary))
}

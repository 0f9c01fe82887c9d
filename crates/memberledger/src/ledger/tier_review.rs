//! The tier review: a sweep like the expiry sweep that lowers members whose tier's retain rule
//! no longer holds (docs/RULES.md §10).

use std::collections::BTreeMap;

use memberledger_core::{Action, Command, Policy, Timestamp, Uuid};

use super::{Ledger, BATCH_MAX, SWEEP_NAMESPACE};
use crate::{Error, Receipt};

/// What a tier review did: members reviewed, kept and lowered per tier held, and the receipt
/// of every member's `review_tier` command.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct TierReview {
    /// Members reviewed: every member whose last event is at or before the review's time.
    pub reviewed: u64,
    /// Per tier held before the review: how many members kept it and how many were lowered.
    pub tiers: BTreeMap<String, TierReviewCount>,
    /// One result per member lowered (a `tier_changed` with reason `review:downgrade`), by
    /// member id.
    pub receipts: Vec<Result<Receipt, Error>>,
}

/// Kept and lowered members of one tier at a review.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TierReviewCount {
    /// Members who keep the tier.
    pub kept: u64,
    /// Members lowered from it (their command recorded).
    pub lowered: u64,
}

/// The command id of a member's review as of `at`: UUID v5 in the sweep's namespace, of a name
/// distinct from the expiry sweep's, so a re-run of the same review records nothing.
fn review_id(member: &str, at: Timestamp) -> Uuid {
    Uuid::new_v5(
        &SWEEP_NAMESPACE,
        format!("review_tier|{member}|{at}").as_bytes(),
    )
}

impl Ledger {
    /// The tier review as of `as_of`: one `review_tier` command (at `as_of`, from the member's
    /// home store) for every member whose tier's retain rule no longer holds under the policy
    /// in force then; members kept record nothing. Members whose last event is after `as_of`
    /// are left alone, as the expiry sweep leaves them.
    ///
    /// Command ids are UUID v5 of the member and the time, so running the same review twice
    /// records nothing the second time.
    pub fn review_tiers(&self, as_of: Timestamp) -> TierReview {
        if let Err(r) = self.clock().check(as_of) {
            return TierReview {
                receipts: vec![Err(r.into())],
                ..TierReview::default()
            };
        }
        let policy = self.policy_at(as_of).policy;
        let (mut review, due, held) = self.plan_review(&policy, as_of);
        for (cmds, tiers) in due.chunks(BATCH_MAX).zip(held.chunks(BATCH_MAX)) {
            for (tier, r) in tiers.iter().zip(self.execute_batch(cmds)) {
                if r.is_ok() {
                    review.tiers.entry(tier.clone()).or_default().lowered += 1;
                }
                review.receipts.push(r);
            }
        }
        review
    }

    /// The counts of members kept, and the commands of those to lower (by member id) with
    /// the tier each holds.
    fn plan_review(
        &self,
        policy: &Policy,
        at: Timestamp,
    ) -> (TierReview, Vec<Command>, Vec<String>) {
        let members = self
            .members
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut review = TierReview::default();
        let mut due: Vec<(Command, String)> = Vec::new();
        for m in members.values().filter(|m| m.last_at <= at) {
            review.reviewed += 1;
            if policy.review_target(m, at).is_none() {
                review.tiers.entry(m.tier.to_string()).or_default().kept += 1;
                continue;
            }
            // Every cached member's review command is well formed.
            if let Ok(cmd) = Command::new(
                review_id(m.member.as_str(), at),
                at,
                m.member.clone(),
                m.home_store.clone(),
                Action::ReviewTier,
            ) {
                due.push((cmd, m.tier.to_string()));
            }
        }
        due.sort_by(|a, b| a.0.member.cmp(&b.0.member));
        let (cmds, held) = due.into_iter().unzip();
        (review, cmds, held)
    }
}

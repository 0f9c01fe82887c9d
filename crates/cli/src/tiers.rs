//! `memberledger tiers review`: the tier review as of a time, lowering members whose tier's
//! retain rule no longer holds (docs/RULES.md §10), and a summary per tier.

use clap::Subcommand;
use memberledger::{Ledger, TierReview};

use crate::{emit_done, report, Fail};

/// `memberledger tiers …`.
#[derive(Subcommand)]
pub(crate) enum TiersCmd {
    /// Reviews every member's tier as of a time by the policy's retain rules: lowers those
    /// whose rule no longer holds (a `tier_changed`, reason `review:downgrade`), keeps the
    /// rest (recording nothing). Running it twice as of the same time records nothing more.
    Review {
        /// The time (RFC 3339).
        #[arg(long)]
        as_of: String,
        /// Prints the summary as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `tiers` subcommand.
pub(crate) fn run(ledger: &Ledger, cmd: TiersCmd) -> Result<u8, Fail> {
    match cmd {
        TiersCmd::Review { as_of, json } => review(ledger, &as_of, json),
    }
}

fn review(ledger: &Ledger, as_of: &str, json: bool) -> Result<u8, Fail> {
    let at = report::parse_time(Some(as_of))?.expect("given");
    let review = ledger.review_tiers(at);
    for r in &review.receipts {
        r.as_ref().map_err(|e| Fail::from(e.clone()))?;
    }
    let lowered: u64 = review.tiers.values().map(|c| c.lowered).sum();
    let kept: u64 = review.tiers.values().map(|c| c.kept).sum();
    let done = format!(
        "tiers reviewed as of {at}: {} members, {kept} kept, {lowered} lowered",
        review.reviewed
    );
    let text = if json {
        format!("{}\n", summary_json(&review, at))
    } else {
        let mut out = format!("{done}\n");
        for (tier, c) in &review.tiers {
            outln!(out, "  {tier}: {} kept, {} lowered", c.kept, c.lowered);
        }
        out
    };
    emit_done(&text, &done)
}

fn summary_json(review: &TierReview, at: memberledger::Timestamp) -> serde_json::Value {
    let tiers: serde_json::Map<String, serde_json::Value> = review
        .tiers
        .iter()
        .map(|(t, c)| {
            (
                t.clone(),
                serde_json::json!({"kept": c.kept, "lowered": c.lowered}),
            )
        })
        .collect();
    serde_json::json!({
        "as_of": at.to_string(),
        "reviewed": review.reviewed,
        "kept": review.tiers.values().map(|c| c.kept).sum::<u64>(),
        "lowered": review.tiers.values().map(|c| c.lowered).sum::<u64>(),
        "tiers": tiers,
    })
}

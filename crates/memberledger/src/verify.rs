use memberledger_core::{Hash, Money};
use rayon::prelude::*;
use serde::Serialize;

use crate::replay::{replay, Replayed};
use crate::{Error, Ledger};

/// What [`Ledger::verify`] checked and found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct VerifyReport {
    /// Events checked.
    pub events: u64,
    /// Members replayed.
    pub members: u64,
    /// The chain's last hash, lowercase hex.
    pub head: String,
    /// Principal held by all members.
    pub principal: Money,
    /// Bonus held by all members.
    pub bonus: Money,
    /// Points held by all members.
    pub points: u64,
    /// The first problem found, if any.
    pub problem: Option<Problem>,
}

impl VerifyReport {
    /// True when nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }

    /// A report of a log that could not be read past `position`.
    pub fn failed(position: u64, what: impl Into<String>) -> VerifyReport {
        VerifyReport {
            events: 0,
            members: 0,
            head: String::new(),
            principal: Money::ZERO,
            bonus: Money::ZERO,
            points: 0,
            problem: Some(Problem {
                position,
                what: what.into(),
            }),
        }
    }
}

/// The first thing found wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Problem {
    /// The first bad position (0: not tied to one event).
    pub position: u64,
    /// What is wrong.
    pub what: String,
}

impl Problem {
    /// A problem at `position` (0: not tied to one event): what a host adds to a report
    /// when its own check fails (a pinned head that differs, say).
    pub fn new(position: u64, what: impl Into<String>) -> Problem {
        Problem {
            position,
            what: what.into(),
        }
    }
}

impl Ledger {
    /// Verifies the whole ledger: the hash chain over the stored bytes, contiguous positions,
    /// every event decodes to exactly its stored canonical bytes and folds onto its member,
    /// and the cached member projections equal a replay from genesis. Holds writers off while
    /// it runs so it sees one consistent log.
    ///
    /// ```
    /// let ledger = memberledger::Ledger::in_memory();
    /// let report = ledger.verify()?;
    /// assert!(report.ok());
    /// # Ok::<(), memberledger::Error>(())
    /// ```
    pub fn verify(&self) -> Result<VerifyReport, Error> {
        self.quiesced(|| {
            let replayed = match replay(self.event_store(), self.founding_policy(), true) {
                Ok(r) => r,
                Err(Error::Corrupt { position, why }) => return Ok(VerifyReport::failed(position, why)),
                Err(e) => return Err(e),
            };
            let cached = self.cached_members();
            let mut report = report_of(&replayed);
            for fresh in replayed.members.values() {
                let id = &fresh.member;
                let compact = crate::projection::compact(
                    fresh.clone_without_consumption_records(),
                    crate::projection::keeps_spending(&replayed.history),
                );
                if cached.get(id) != Some(&compact) && report.problem.is_none() {
                    report.problem = Some(Problem {
                        position: 0,
                        what: format!("the cached projection of member {id} differs from a replay from genesis"),
                    });
                }
            }
            if *self.cached_clearing() != replayed.clearing && report.problem.is_none() {
                report.problem = Some(Problem {
                    position: 0,
                    what: "the cached inter-store clearing differs from a replay from genesis".into(),
                });
            }
            if self.policy_history() != replayed.history && report.problem.is_none() {
                report.problem = Some(Problem {
                    position: 0,
                    what: "the cached policy history differs from a replay from genesis".into(),
                });
            }
            if cached.len() != replayed.members.len() && report.problem.is_none() {
                report.problem = Some(Problem {
                    position: 0,
                    what: format!(
                        "{} members are cached but the log has {}",
                        cached.len(),
                        replayed.members.len()
                    ),
                });
            }
            Ok(report)
        })
    }
}

/// The report of a replay that succeeded: its counts and totals, and a trial balance that is
/// not zero as the problem.
pub(crate) fn report_of(replayed: &Replayed) -> VerifyReport {
    let mut report = VerifyReport {
        events: replayed.events,
        members: replayed.members.len() as u64,
        head: hex(&replayed.head),
        principal: Money::ZERO,
        bonus: Money::ZERO,
        points: 0,
        problem: None,
    };
    if replayed.trial_total != 0 {
        report.problem = Some(Problem {
            position: 0,
            what: format!("the trial balance is off by {} cents", replayed.trial_total),
        });
    } else if let Some((position, what)) = replayed
        .checkpoint_problem
        .as_ref()
        .or(replayed.index_problem.as_ref())
    {
        report.problem = Some(Problem::new(*position, what.clone()));
    }
    // Summed in i128 (any number of members at the recorded bound), shown saturating at
    // the largest Money.
    // On every core: a member's lots are a cache miss away from the next member's.
    let (principal, bonus, points) = replayed
        .members
        .par_values()
        .map(|m| {
            let (p, b) = (m.principal().cents(), m.bonus().cents());
            (i128::from(p), i128::from(b), m.points())
        })
        .reduce(
            || (0, 0, 0),
            |a, b| (a.0 + b.0, a.1 + b.1, a.2.saturating_add(b.2)),
        );
    report.points = points;
    let money = |c: i128| Money::from_cents(i64::try_from(c).unwrap_or(i64::MAX));
    report.principal = money(principal);
    report.bonus = money(bonus);
    report
}

fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

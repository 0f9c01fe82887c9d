//! Recording a year on a ledger as the demo does: the generated commands in durable groups,
//! head office's commands between them, the expiry sweep and the tier review at the end.

use chrono::Duration;
use memberledger::{Command, Error, Ledger, Receipt, TierReview, Timestamp};

use super::{settlements, summer_policy, Year};

/// Commands per durable group.
pub const GROUP: usize = 500;

/// What head office recorded on top of the generated commands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeadOffice {
    /// Month-end settlements recorded.
    pub settlements: u64,
    /// Policy publications recorded (one, mid-year, when the year is long enough).
    pub publications: u64,
    /// When the second-half policy was published.
    pub published: Option<Timestamp>,
}

/// Where head office stands in the year.
struct Calendar {
    next_settlement: Timestamp,
    /// When the richer bonus ladder for the second half of the year is due.
    summer: Option<Timestamp>,
}

impl Year {
    /// The end of the year: the ledger's clock while it is recorded, and the sweep's time.
    #[must_use]
    pub fn end(&self) -> Timestamp {
        self.start().plus_days(366)
    }

    /// Records every generated command on `ledger` in groups of [`GROUP`], learning from each
    /// receipt; after each group head office publishes the second-half policy once its day
    /// (181) has come, and every 30 days each store settles what it owes the others. Each
    /// result goes to `on_result`, the number of generated commands done to `on_progress`.
    /// A storage or corruption error stops the year.
    pub fn record(
        &mut self,
        ledger: &Ledger,
        mut on_result: impl FnMut(&Result<Receipt, Error>),
        mut on_progress: impl FnMut(u64),
    ) -> Result<HeadOffice, Error> {
        let mut done = HeadOffice::default();
        let mut calendar = Calendar {
            next_settlement: self.start().plus_days(30),
            summer: Some(self.start().plus_days(181)),
        };
        let commands = self.shape.commands;
        let mut i = 0u64;
        while i < commands {
            let n = (commands - i).min(GROUP as u64);
            let batch: Vec<Command> = (i..i + n).map(|j| self.command(j)).collect();
            let results = ledger.execute_batch(&batch);
            // The group's latest time: a late sale (an offline terminal's) may come last.
            let last_at = batch.iter().map(|c| c.at).max().expect("non-empty");
            self.head_office(ledger, &mut calendar, &mut done, last_at, &mut on_result)?;
            for (c, r) in batch.iter().zip(&results) {
                if let Err(e @ (Error::Storage(_) | Error::Corrupt { .. })) = r {
                    return Err(e.clone());
                }
                on_result(r);
                if let Ok(receipt) = r {
                    self.learn(c, receipt, ledger);
                }
            }
            i += n;
            on_progress(i);
        }
        Ok(done)
    }

    /// After a group ending at `last_at`: the policy publication when due, the settlements at
    /// month end.
    fn head_office(
        &mut self,
        ledger: &Ledger,
        calendar: &mut Calendar,
        done: &mut HeadOffice,
        last_at: Timestamp,
        on_result: &mut impl FnMut(&Result<Receipt, Error>),
    ) -> Result<(), Error> {
        if calendar.summer.is_some_and(|t| last_at >= t) {
            calendar.summer = None;
            let at = Timestamp::from_datetime(last_at.as_datetime() + Duration::seconds(1))?;
            let receipt = ledger.execute(&summer_policy(self.rng.uuid(), at))?;
            on_result(&Ok(receipt));
            done.published = Some(at);
            done.publications += 1;
        }
        if last_at >= calendar.next_settlement {
            let settle = settlements(ledger, &mut self.rng, last_at);
            for r in ledger.execute_batch(&settle) {
                done.settlements += u64::from(r.is_ok());
                on_result(&r);
            }
            calendar.next_settlement = calendar.next_settlement.plus_days(30);
        }
        Ok(())
    }

    /// The year-end expiry sweep: records what lapsed for members who did not come back.
    /// Each result goes to `on_result`; the number of members swept is returned.
    pub fn close(
        &self,
        ledger: &Ledger,
        mut on_result: impl FnMut(&Result<Receipt, Error>),
    ) -> u64 {
        let swept = ledger.expire_due(self.end());
        for r in &swept {
            on_result(r);
        }
        u64::try_from(swept.iter().filter(|r| r.is_ok()).count()).expect("small")
    }

    /// The year-end tier review, after the sweep: lowers the members whose tier's retain rule
    /// failed over the year's last months. Each result goes to `on_result`.
    pub fn review(
        &self,
        ledger: &Ledger,
        mut on_result: impl FnMut(&Result<Receipt, Error>),
    ) -> TierReview {
        let review = ledger.review_tiers(self.end());
        for r in &review.receipts {
            on_result(r);
        }
        review
    }
}

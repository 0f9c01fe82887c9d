use memberledger_core::{Action, Command, Timestamp, Uuid};

use super::{Ledger, BATCH_MAX, SWEEP_NAMESPACE};
use crate::{Error, Receipt};

impl Ledger {
    /// The expiry sweep: records, for every member with bonus or points due to expire by `at`,
    /// those expiries (one `expire` command per member, at `at`, from the member's home store).
    /// Without it a member who never comes back keeps expired credit on the books.
    ///
    /// Command ids are UUID v5 of the member and the time, so running the same sweep twice
    /// records nothing the second time. Members whose last event is after `at` are left alone
    /// (their expiries were recorded by that event, or will be by their next).
    pub fn expire_due(&self, at: Timestamp) -> Vec<Result<Receipt, Error>> {
        // A sweep dated in the far future (a typo in its date) would lock every member it
        // touches: refused once, before any member is looked at.
        if let Err(r) = self.clock().check(at) {
            return vec![Err(r.into())];
        }
        let due: Vec<Command> = {
            let members = self
                .members
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut due: Vec<Command> = members
                .values()
                .filter(|m| m.last_at <= at)
                .filter(|m| m.next_expiry().is_some_and(|e| e <= at))
                // Every cached member's sweep command is well formed.
                .filter_map(|m| {
                    let id =
                        Uuid::new_v5(&SWEEP_NAMESPACE, format!("{}|{at}", m.member).as_bytes());
                    Command::new(
                        id,
                        at,
                        m.member.clone(),
                        m.home_store.clone(),
                        Action::Expire,
                    )
                    .ok()
                })
                .collect();
            due.sort_by(|a, b| a.member.cmp(&b.member));
            due
        };
        due.chunks(BATCH_MAX)
            .flat_map(|chunk| self.execute_batch(chunk))
            .collect()
    }
}

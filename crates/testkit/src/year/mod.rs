//! The realistic workload: a chain's year of commands, as the CLI's demo records it.
//!
//! Members join over the first eight months and then come back, busy ones more often: they
//! recharge (mostly at home), consume services (a quarter of visits away from home), buy and
//! redeem courses of sessions, redeem points, get refunds, lose and find their cards; managers
//! grant bonuses, adjust balances and move members between tiers. The generator is closed-loop
//! when it is told what happened ([`Year::learn`]): it refunds real consumptions and redeems
//! open packages. Without learning it still yields a valid stream (more of it is refused).
//!
//! Deterministic: the same seed and [`Shape`] give the same commands, so the demo's chain
//! head is pinned by its test.
//!
//! ```
//! use memberledger::Ledger;
//! use memberledger_testkit::year::{Shape, Year};
//!
//! let ledger = Ledger::in_memory();
//! let shape = Shape { members: 20, commands: 200, ..Shape::default() };
//! let mut year = Year::new(7, shape);
//! for i in 0..shape.commands {
//!     let command = year.command(i);
//!     if let Ok(receipt) = ledger.execute(&command) {
//!         year.learn(&command, &receipt, &ledger);
//!     }
//! }
//! assert!(ledger.member_ids().len() > 1);
//! ```

mod catalogue;
mod extras;
mod known;
mod mix;
mod record;
mod visit;

use chrono::{DateTime, Duration, Utc};
use memberledger::{Command, Ledger, Receipt, Timestamp, Uuid};

pub use extras::{
    settlements, summer_policy, with_visit_tiers, year_policy, YEAR_LATE_WINDOW_HOURS,
};
use known::Known;
pub use mix::Mix;
pub use record::{HeadOffice, GROUP};

use crate::Rng;

/// The shape of a year: how big the chain is and how many commands it sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Stores in the chain (`S001` …), at least 1.
    pub stores: u32,
    /// Members who join over the year (`M0000000` …), at least 1.
    pub members: u32,
    /// Commands generated, enrollments included, at least 1.
    pub commands: u64,
    /// Days the commands are spread over, from 2025-01-01 08:00 UTC.
    pub days: u32,
    /// What returning members do, in shares of a thousand visits.
    pub mix: Mix,
}

impl Default for Shape {
    /// The demo's: 20 stores, 5,000 members, 100,000 commands over 365 days, the demo's mix.
    fn default() -> Shape {
        Shape {
            stores: 20,
            members: 5_000,
            commands: 100_000,
            days: 365,
            mix: Mix::DEMO,
        }
    }
}

/// The generator of a year: call [`Year::command`] for `0..shape.commands` in order.
pub struct Year {
    rng: Rng,
    shape: Shape,
    members: Vec<Known>,
    start: DateTime<Utc>,
    step_ms: i64,
}

impl Year {
    /// A year for `seed`: the members' home stores are drawn first, then the commands.
    #[must_use]
    pub fn new(seed: u64, shape: Shape) -> Year {
        let mut rng = Rng::new(seed);
        let members = (0..shape.members.max(1))
            .map(|_| Known {
                home: 1 + u32::try_from(rng.below(u64::from(shape.stores))).expect("small"),
                ..Known::default()
            })
            .collect();
        let span_ms = i64::from(shape.days) * 24 * 3600 * 1000;
        let commands = i64::try_from(shape.commands.max(1)).expect("bounded");
        Year {
            rng,
            shape,
            members,
            start: DateTime::parse_from_rfc3339("2025-01-01T08:00:00Z")
                .expect("constant")
                .with_timezone(&Utc),
            step_ms: (span_ms / commands).max(1),
        }
    }

    /// When the year starts.
    #[must_use]
    pub fn start(&self) -> Timestamp {
        Timestamp::from_datetime(self.start).expect("the year is in range")
    }

    /// The generator's own draws, for commands made beside the year's (settlement ids).
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// The id of the `n`-th store (from 1): `S001`.
    #[must_use]
    pub fn store_id(n: u32) -> String {
        format!("S{n:03}")
    }

    /// The id of the `n`-th member (from 0): `M0000000`.
    #[must_use]
    pub fn member_id(n: usize) -> String {
        format!("M{n:07}")
    }

    /// The `i`-th command of the year.
    pub fn command(&mut self, i: u64) -> Command {
        let at =
            self.start + Duration::milliseconds(self.step_ms * i64::try_from(i).expect("bounded"));
        // Members join over the first eight months; enroll a new one when it is their turn.
        let n = u64::try_from(self.members.len()).expect("small");
        let due = (i * n * 3 / (2 * self.shape.commands.max(1))).min(n - 1);
        let joined = usize::try_from(due).expect("small");
        let next_new = self.members.iter().position(|m| !m.enrolled);
        let id = self.rng.uuid();
        if let Some(n) = next_new.filter(|&n| n <= joined) {
            self.members[n].enrolled = true;
            self.members[n].welcome = true;
            let home = Self::store_id(self.members[n].home);
            return json_command(id, at, &Self::member_id(n), &home, r#""type":"enroll""#);
        }
        // Busy members come more often: pick among the enrolled with a skew toward low numbers.
        let enrolled = u64::try_from(next_new.unwrap_or(self.members.len()).max(1)).expect("small");
        let a = self.rng.below(enrolled);
        let b = self.rng.below(enrolled);
        let n = usize::try_from(a.min(b)).expect("small");
        let away = 1 + u32::try_from(self.rng.below(u64::from(self.shape.stores))).expect("small");
        let (store, rest) = match self.coupon_due(n, at) {
            Some(rest) => (self.members[n].home, rest),
            None => self.visit(n, at, away),
        };
        // Now and then the sale comes from a till that was offline: sent now, dated when it
        // happened, up to two days ago (within the policy's late window).
        let at = if self.rng.chance(15) {
            let back = 60 + self.rng.below(48 * 3_600);
            at - Duration::seconds(i64::try_from(back).expect("small"))
        } else {
            at
        };
        json_command(id, at, &Self::member_id(n), &Self::store_id(store), &rest)
    }

    /// Learns balances, consumptions and packages from a receipt of one of the year's commands.
    pub fn learn(&mut self, command: &Command, receipt: &Receipt, ledger: &Ledger) {
        if !command.member.is_member() {
            return;
        }
        let n = command
            .member
            .as_str()
            .strip_prefix('M')
            .and_then(|s| s.parse::<usize>().ok());
        if let Some(k) = n.and_then(|n| self.members.get_mut(n)) {
            k.learn(command, receipt, ledger);
        }
    }
}

/// A member's command as the JSON a till would send, parsed.
fn json_command(id: Uuid, at: DateTime<Utc>, member: &str, store: &str, rest: &str) -> Command {
    let line = format!(
        r#"{{"id":"{id}","at":"{}","member":"{member}","store":"{store}",{rest}}}"#,
        at.format("%Y-%m-%dT%H:%M:%S%.3fZ")
    );
    Command::from_json(&line).expect("the generator writes valid commands")
}

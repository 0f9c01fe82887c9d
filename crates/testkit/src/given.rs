//! Given / when / then over an in-memory ledger: a business rule written as it reads.
//!
//! ```
//! use memberledger_testkit::Given;
//!
//! // Recharging 1000.00 under the built-in policy gives 150.00 bonus.
//! Given::ledger()
//!     .member("M1")
//!     .when(r#"{"type":"recharge","amount":"1000.00"}"#)
//!     .then_balance("1000.00", "150.00");
//!
//! // Spending more than the card holds is refused, and records nothing.
//! Given::ledger()
//!     .member("M1")
//!     .recharged("100.00")
//!     .when(r#"{"type":"consume","amount":"500.00"}"#)
//!     .then_rejected("insufficient_balance");
//! ```

use memberledger::{Clock, Command, Error, Ledger, MemberId, MemberView, Policy, Receipt, Uuid};
use serde_json::{Map, Value};

/// Where every given starts: 2026-01-01 09:00 UTC; each command is a minute after the last.
const START_SECS: i64 = 1_767_258_000;

/// The ledger's clock, far enough ahead that no given is in its future.
const CLOCK: &str = "2030-01-01T00:00:00Z";

/// The facts of a test: a ledger, the member the next steps speak of, and the time.
pub struct Given {
    ledger: Ledger,
    member: String,
    store: String,
    secs: i64,
    next_id: u128,
}

impl Given {
    /// An empty in-memory ledger under the built-in policy.
    #[must_use]
    pub fn ledger() -> Given {
        Given::with_ledger(Ledger::in_memory())
    }

    fn with_ledger(ledger: Ledger) -> Given {
        ledger.set_clock(Clock::fixed(CLOCK.parse().expect("a valid time")));
        Given {
            ledger,
            member: "M1".to_owned(),
            store: "S1".to_owned(),
            secs: START_SECS,
            next_id: 1,
        }
    }

    /// Replaces the ledger with an empty one founded on `policy`.
    #[must_use]
    pub fn with_policy(self, policy: Policy) -> Given {
        Given::with_ledger(Ledger::in_memory_with(policy))
    }

    /// Replaces the ledger with an empty one founded on a policy in JSON.
    #[must_use]
    #[track_caller]
    pub fn with_policy_json(self, json: &str) -> Given {
        let policy = Policy::from_json(json).expect("the test's policy parses");
        self.with_policy(policy)
    }

    /// Commands from here on are at `store`.
    #[must_use]
    pub fn at_store(mut self, store: &str) -> Given {
        store.clone_into(&mut self.store);
        self
    }

    /// Moves the time `days` days on.
    #[must_use]
    pub fn days_later(mut self, days: i64) -> Given {
        self.secs += days * 86_400;
        self
    }

    /// Enrolls `member`, who the next steps speak of.
    #[must_use]
    #[track_caller]
    pub fn member(mut self, member: &str) -> Given {
        member.clone_into(&mut self.member);
        self.and(r#"{"type":"enroll"}"#)
    }

    /// The member recharged `amount`.
    #[must_use]
    #[track_caller]
    pub fn recharged(self, amount: &str) -> Given {
        self.and(&format!(r#"{{"type":"recharge","amount":"{amount}"}}"#))
    }

    /// The member consumed `amount` of services.
    #[must_use]
    #[track_caller]
    pub fn consumed(self, amount: &str) -> Given {
        self.and(&format!(r#"{{"type":"consume","amount":"{amount}"}}"#))
    }

    /// The member's card was frozen.
    #[must_use]
    #[track_caller]
    pub fn frozen(self) -> Given {
        self.and(r#"{"type":"freeze","reason":"lost card"}"#)
    }

    /// Any command the ledger must accept, as a JSON object of its fields; `id`, `at`,
    /// `member` and `store` are filled in unless given.
    #[must_use]
    #[track_caller]
    pub fn and(mut self, fields: &str) -> Given {
        let command = self.command(fields);
        if let Err(e) = self.ledger.execute(&command) {
            panic!("given {fields} was refused: {}: {e}", e.code());
        }
        self
    }

    /// The command under test (fields as for [`Given::and`]), and what came of it.
    #[must_use]
    #[track_caller]
    pub fn when(mut self, fields: &str) -> Then {
        let before = self.recorded();
        let command = self.command(fields);
        let result = self.ledger.execute(&command);
        Then {
            given: self,
            fields: fields.to_owned(),
            before,
            result,
        }
    }

    /// The next command: the test's fields over the given's id, time, member and store.
    #[track_caller]
    fn command(&mut self, fields: &str) -> Command {
        let mut object: Map<String, Value> =
            serde_json::from_str(fields).expect("the test's command is a JSON object");
        let at = chrono::DateTime::from_timestamp(self.secs, 0).expect("in range");
        let defaults = [
            ("id", Uuid::from_u128(self.next_id).to_string()),
            ("at", at.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            ("member", self.member.clone()),
            ("store", self.store.clone()),
        ];
        for (k, v) in defaults {
            object.entry(k).or_insert(Value::String(v));
        }
        self.next_id += 1;
        self.secs += 60;
        Command::from_json(&Value::Object(object).to_string()).expect("the test's command parses")
    }

    /// Events in the ledger.
    fn recorded(&self) -> u64 {
        self.ledger
            .verify()
            .expect("the in-memory ledger verifies")
            .events
    }

    /// The ledger, for what the harness does not ask directly.
    #[must_use]
    pub fn ledger_ref(&self) -> &Ledger {
        &self.ledger
    }
}

/// What came of the command under test.
pub struct Then {
    given: Given,
    fields: String,
    before: u64,
    result: Result<Receipt, Error>,
}

impl Then {
    /// The command was recorded: its receipt.
    #[track_caller]
    pub fn receipt(&self) -> &Receipt {
        match &self.result {
            Ok(r) => r,
            Err(e) => panic!("when {} was refused: {}: {e}", self.fields, e.code()),
        }
    }

    /// The member now, as the ledger shows it.
    #[track_caller]
    pub fn member(&self) -> MemberView {
        let id = MemberId::new(self.given.member.clone()).expect("a member id");
        self.given
            .ledger
            .member(&id)
            .expect("the member is enrolled")
    }

    /// The command was recorded, and the member holds this principal and bonus.
    #[track_caller]
    pub fn then_balance(self, principal: &str, bonus: &str) -> Then {
        self.receipt();
        let m = self.member();
        assert_eq!(
            (m.principal.to_string(), m.bonus.to_string()),
            (principal.to_owned(), bonus.to_owned()),
            "(principal, bonus) after {}",
            self.fields
        );
        self
    }

    /// The command was recorded, and the member holds this many points.
    #[track_caller]
    pub fn then_points(self, points: u64) -> Then {
        self.receipt();
        assert_eq!(self.member().points, points, "points after {}", self.fields);
        self
    }

    /// The command was recorded, and the member holds this tier.
    #[track_caller]
    pub fn then_tier(self, tier: &str) -> Then {
        self.receipt();
        assert_eq!(self.member().tier, tier, "tier after {}", self.fields);
        self
    }

    /// The command recorded exactly these events, by type name, in order.
    #[track_caller]
    pub fn then_events(self, types: &[&str]) -> Then {
        let got: Vec<&str> = self
            .receipt()
            .events
            .iter()
            .map(|e| e.event.body.type_name())
            .collect();
        assert_eq!(got, types, "events of {}", self.fields);
        self
    }

    /// The command was refused with `code`, and the ledger recorded nothing.
    #[track_caller]
    pub fn then_rejected(self, code: &str) -> Then {
        match &self.result {
            Ok(r) => panic!(
                "when {} was recorded ({} events), not refused with {code}",
                self.fields,
                r.events.len()
            ),
            Err(e) => assert_eq!(e.code(), code, "refusal of {}: {e}", self.fields),
        }
        assert_eq!(
            self.given.recorded(),
            self.before,
            "a refused command recorded events"
        );
        self
    }

    /// The facts as they now stand, for a test that goes on with another `when`.
    #[must_use]
    pub fn and_then(self) -> Given {
        self.given
    }
}

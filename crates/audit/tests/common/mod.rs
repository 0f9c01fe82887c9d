//! Shared by the audit integration tests: deterministic ledgers built from JSON Lines commands
//! (docs/schemas/command.schema.json), times without a date library, and exact parsing of amounts into cents.
//!
//! Two generators:
//! - [`realistic`]: a chain of stores and members over more than a year, every command type,
//!   amounts chosen against the members' balances so most commands go through;
//! - [`lines_from_steps`]: a pure function of [`Step`]s, for property tests.

#![allow(dead_code)]

use memberledger::domain::events::{BalanceRefunded, Consumed, ConsumptionRefunded};
use std::collections::BTreeMap;

use memberledger::domain::{EventBody, LotKind};
use memberledger::{Command, Ledger, MemberId, Receipt, Uuid};

/// Minutes from 2025-01-01T00:00:00Z to a time on the wire: `2025-03-04T05:06:00Z`.
pub fn timestamp(minutes: u64) -> String {
    let minutes = i64::try_from(minutes).expect("minutes fit in i64");
    let (days, rest) = (minutes.div_euclid(1440), minutes.rem_euclid(1440));
    let (y, m, d) = civil_from_days(days_from_civil(2025, 1, 1) + days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:00Z",
        rest.div_euclid(60),
        rest.rem_euclid(60)
    )
}

/// Days since 1970-01-01 of a date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A command id: a valid UUID (version 4 bits set), unique per `n`.
pub fn command_id(n: u64) -> Uuid {
    Uuid::from_u128(0x6d6c_0000_0000_4000_8000_0000_0000_0000 | u128::from(n))
}

/// Cents as a wire amount: `123456` → `"1234.56"`.
pub fn amount(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Whole yuan in cents.
pub const fn yuan(y: u64) -> u64 {
    y * 100
}

/// Parses a decimal with at most two places (`"-10.06"`, `"5"`, `"0.5"`) into cents, exactly.
pub fn parse_cents(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    let cents = whole.checked_mul(100)?.checked_add(frac)?;
    Some(if neg { -cents } else { cents })
}

/// One command on the wire.
pub fn line(id: Uuid, minutes: u64, member: &str, store: &str, rest: &str) -> String {
    format!(
        r#"{{"id":"{id}","at":"{}","member":"{member}","store":"{store}",{rest}}}"#,
        timestamp(minutes)
    )
}

/// Member ids in several styles, so account names and their beancount mapping see lowercase
/// starts, `-`, `_` and `.`.
pub fn member_id(i: usize) -> String {
    match i % 4 {
        0 => format!("M{i:04}"),
        1 => format!("m-{i:03}"),
        2 => format!("vip_{i:03}"),
        _ => format!("c.{i:03}.Q"),
    }
}

/// Store ids in several styles.
pub fn store_id(i: usize) -> String {
    match i % 4 {
        0 => format!("S{}", i + 1),
        1 => format!("sh-{:02}", i + 1),
        2 => format!("bj_{:02}", i + 1),
        _ => format!("gz.{:02}", i + 1),
    }
}

/// The business rejections a generated sequence may meet; anything else fails the test.
pub const EXPECTED_REJECTIONS: &[&str] = &[
    "insufficient_balance",
    "unknown_consumption",
    "refund_exceeds_original",
    "member_exists",
    "member_not_found",
];

/// What executing a sequence did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Commands accepted.
    pub accepted: usize,
    /// Commands rejected, by error code.
    pub rejected: BTreeMap<&'static str, usize>,
    /// Events recorded, by type.
    pub events: BTreeMap<&'static str, usize>,
    /// Consumptions that drew principal collected at another store.
    pub cross_store: usize,
    /// Consumption refunds of part of what was left.
    pub partial_refunds: usize,
    /// Consumption refunds that completed the consumption.
    pub full_refunds: usize,
    /// Restores to a bonus lot that had expired (forfeited).
    pub forfeited: usize,
    /// Balance refunds that kept principal back for bonus spent.
    pub clawbacks: usize,
}

impl Outcome {
    /// Counts one command's result; panics on an unexpected error.
    pub fn record(&mut self, line: &str, result: Result<Receipt, memberledger::Error>) {
        match result {
            Ok(r) => {
                assert!(!r.replayed, "a generated command was replayed: {line}");
                self.accepted += 1;
                for e in &r.events {
                    let e = &e.event;
                    *self.events.entry(e.body.type_name()).or_default() += 1;
                    match &e.body {
                        EventBody::Consumed(Consumed { draws, .. }) => {
                            self.cross_store += usize::from(draws.iter().any(|d| {
                                d.kind == LotKind::Principal && d.origin_store != e.store
                            }));
                        }
                        EventBody::ConsumptionRefunded(ConsumptionRefunded {
                            restored, ..
                        }) => {
                            self.forfeited += restored.iter().filter(|r| r.forfeited).count();
                            // A complete refund is the one whose command named no amount.
                            if line.contains(r#""amount""#) {
                                self.partial_refunds += 1;
                            } else {
                                self.full_refunds += 1;
                            }
                        }
                        EventBody::BalanceRefunded(BalanceRefunded { clawback, .. }) => {
                            self.clawbacks += usize::from(clawback.is_positive());
                        }
                        _ => {}
                    }
                }
            }
            Err(e) => {
                // A change to the tier already held is refused since issue 11.
                let same_tier = e.code() == "invalid_command" && line.contains("change_tier");
                assert!(
                    EXPECTED_REJECTIONS.contains(&e.code()) || same_tier,
                    "unexpected error {} for {line}: {e}",
                    e.code()
                );
                *self.rejected.entry(e.code()).or_default() += 1;
            }
        }
    }
}

/// Parses a generated line; generated lines are always valid commands.
pub fn parse(line: &str) -> Command {
    Command::from_json(line).unwrap_or_else(|e| panic!("generated command {line}: {e}"))
}

/// Executes lines one by one.
pub fn run(ledger: &Ledger, lines: &[String]) -> Outcome {
    let mut out = Outcome::default();
    for l in lines {
        out.record(l, ledger.execute(&parse(l)));
    }
    out
}

/// Executes lines as one batch (group commit): the same results as one by one.
pub fn run_batch(ledger: &Ledger, lines: &[String]) -> Outcome {
    let commands: Vec<Command> = lines.iter().map(|l| parse(l)).collect();
    let mut out = Outcome::default();
    for (l, r) in lines.iter().zip(ledger.execute_batch(&commands)) {
        out.record(l, r);
    }
    out
}

/// The test kit's seeded generator.
pub use memberledger_testkit::Rng;

/// A ledger built by [`realistic`], with the commands that built it.
pub struct Realistic {
    /// The ledger (in memory, built-in policy).
    pub ledger: Ledger,
    /// Every command sent, in order (rejected ones too).
    pub lines: Vec<String>,
    /// What happened.
    pub outcome: Outcome,
    /// The members.
    pub members: Vec<String>,
    /// The stores.
    pub stores: Vec<String>,
}

fn cents_of(m: memberledger::Money) -> u64 {
    u64::try_from(m.cents()).expect("balances are not negative")
}

/// A realistic chain: `stores` stores, `members` members enrolled over the first weeks, then
/// `commands` commands in all over some 400 days: recharges (some large enough to upgrade
/// tiers), granted bonuses that expire within weeks or months, consumptions at home and at
/// other stores, full and partial consumption refunds (some long after, when the bonus they
/// drew has expired), balance refunds, manual tier changes, and a few commands the rules
/// refuse. Deterministic in `seed`.
pub fn realistic(seed: u64, members: usize, stores: usize, commands: usize) -> Realistic {
    let ledger = Ledger::in_memory();
    let mut rng = Rng::new(seed);
    let member_ids: Vec<String> = (0..members).map(member_id).collect();
    let store_ids: Vec<String> = (0..stores).map(store_id).collect();
    let homes: Vec<String> = (0..members)
        .map(|i| store_ids[i % stores].clone())
        .collect();
    let span_minutes: u64 = 400 * 24 * 60;
    let mean_gap = span_minutes / u64::try_from(commands).expect("small");
    let mut minutes: u64 = 9 * 60;
    let mut enrolled = 0usize;
    let mut lines = Vec::new();
    let mut outcome = Outcome::default();
    for n in 0..commands {
        minutes += rng.between(1, 2 * mean_gap);
        let id = command_id(u64::try_from(n).expect("small") + 1);
        let enroll_now = enrolled < members && (enrolled == 0 || rng.percent(45));
        let (i, rest, store) = if enroll_now {
            let i = enrolled;
            enrolled += 1;
            let rest = if rng.percent(20) {
                format!(
                    r#""type":"enroll","tier":"{}""#,
                    rng.pick(&["standard", "silver"])
                )
            } else {
                r#""type":"enroll""#.to_owned()
            };
            (i, rest, homes[i].clone())
        } else {
            let i =
                usize::try_from(rng.below(u64::try_from(enrolled).expect("small"))).expect("small");
            let state = ledger
                .member_state(&MemberId::new(member_ids[i].clone()).expect("valid id"))
                .expect("enrolled members exist");
            let balance = cents_of(state.principal()) + cents_of(state.bonus());
            let refundable: Vec<(Uuid, u64)> = state
                .consumptions()
                .iter()
                .map(|(id, c)| (*id, cents_of(c.charged) - cents_of(c.refunded)))
                .filter(|(_, left)| *left > 0)
                .collect();
            let at_home = rng.percent(65);
            let store = if at_home {
                homes[i].clone()
            } else {
                rng.pick(&store_ids).clone()
            };
            let roll = if balance < yuan(100) && rng.percent(70) {
                0
            } else {
                rng.below(100)
            };
            let rest = match roll {
                0..=21 => {
                    let cents = if rng.percent(15) {
                        rng.between(yuan(1), yuan(900))
                    } else {
                        *rng.pick(&[
                            yuan(200),
                            yuan(500),
                            yuan(500),
                            yuan(800),
                            yuan(1000),
                            yuan(1000),
                            yuan(1500),
                            yuan(2000),
                            yuan(3000),
                            yuan(5000),
                            yuan(12000),
                        ])
                    };
                    let staff = rng.between(1, 40);
                    format!(
                        r#""type":"recharge","amount":"{}","staff":"E{staff}""#,
                        amount(cents)
                    )
                }
                22..=31 => {
                    let cents = rng.between(yuan(5), yuan(200));
                    let reason = rng.pick(&["birthday", "campaign", "apology"]);
                    if rng.percent(80) {
                        let expires = minutes + rng.between(7, 120) * 24 * 60;
                        format!(
                            r#""type":"grant_bonus","amount":"{}","reason":"{reason}","expires_at":"{}""#,
                            amount(cents),
                            timestamp(expires)
                        )
                    } else {
                        format!(
                            r#""type":"grant_bonus","amount":"{}","reason":"{reason}""#,
                            amount(cents)
                        )
                    }
                }
                32..=71 => {
                    let cents = if rng.percent(4) || balance < 2 {
                        // More than the card holds: refused, records nothing.
                        balance + rng.between(1, yuan(500))
                    } else {
                        rng.between(1, (balance * 3 / 5).max(1))
                    };
                    let service = rng.pick(&["facial", "massage", "manicure", "haircut", "spa"]);
                    let staff = rng.between(1, 40);
                    format!(
                        r#""type":"consume","amount":"{}","staff":"E{staff}","service":"{service}""#,
                        amount(cents)
                    )
                }
                72..=87 if !refundable.is_empty() => {
                    let (c, left) = *rng.pick(&refundable);
                    // Refunds go back to the store that delivered the service, whatever the
                    // command's store says.
                    if rng.percent(45) || left < 2 {
                        format!(r#""type":"refund_consumption","consumption":"{c}""#)
                    } else if rng.percent(5) {
                        format!(
                            r#""type":"refund_consumption","consumption":"{c}","amount":"{}""#,
                            amount(left + 1)
                        )
                    } else {
                        format!(
                            r#""type":"refund_consumption","consumption":"{c}","amount":"{}""#,
                            amount(rng.between(1, left - 1))
                        )
                    }
                }
                88..=91 => r#""type":"refund_balance""#.to_owned(),
                92..=96 => {
                    let tier = rng.pick(&["standard", "silver", "gold", "diamond"]);
                    format!(r#""type":"change_tier","tier":"{tier}","reason":"review""#)
                }
                _ => {
                    let cents = rng.between(yuan(10), yuan(300));
                    format!(
                        r#""type":"consume","amount":"{}","service":"facial""#,
                        amount(cents)
                    )
                }
            };
            (i, rest, store)
        };
        let l = line(id, minutes, &member_ids[i], &store, &rest);
        outcome.record(&l, ledger.execute(&parse(&l)));
        lines.push(l);
    }
    Realistic {
        ledger,
        lines,
        outcome,
        members: member_ids,
        stores: store_ids,
    }
}

/// One step of a property-test sequence.
#[derive(Clone, Debug)]
pub struct Step {
    /// What to do (see [`lines_from_steps`]).
    pub op: u8,
    /// Which member (modulo the number of members).
    pub member: u8,
    /// Which store (modulo the number of stores).
    pub store: u8,
    /// An amount in cents.
    pub cents: u32,
    /// How much later than the member's previous command, in minutes.
    pub minutes: u32,
    /// A free choice (which consumption, which tier, full or partial).
    pub pick: u16,
}

/// Turns steps into commands. Every member keeps its own clock, so times never go back for a
/// member but do across members (the log is not in time order). A member is enrolled at its
/// first step. Ops (modulo 13): 0-2 recharge, 3 grant bonus (expiring within days to months
/// when `pick` is even), 4-7 consume, 8-9 refund one of the member's consumptions (full or
/// partial; a consume when there is none), 10 refund the balance, 11 change tier, 12 enroll
/// again (refused).
pub fn lines_from_steps(steps: &[Step], members: u8, stores: u8) -> Vec<String> {
    let mut clocks: BTreeMap<u8, u64> = BTreeMap::new();
    let mut consumes: BTreeMap<u8, Vec<Uuid>> = BTreeMap::new();
    let mut out = Vec::new();
    let mut n: u64 = 0;
    let mut next_id = || {
        n += 1;
        command_id(n)
    };
    for s in steps {
        let m = s.member % members;
        let member = member_id(usize::from(m));
        let store = store_id(usize::from(s.store % stores));
        let clock = clocks.entry(m).or_insert(0);
        let first = *clock == 0;
        *clock += u64::from(s.minutes) + 1;
        let at = *clock;
        if first {
            out.push(line(next_id(), at, &member, &store, r#""type":"enroll""#));
        }
        let id = next_id();
        let money = amount(u64::from(s.cents));
        let consume = |consumes: &mut BTreeMap<u8, Vec<Uuid>>| {
            consumes.entry(m).or_default().push(id);
            format!(
                r#""type":"consume","amount":"{}","service":"spa""#,
                amount(u64::from(s.cents / 4 + 1))
            )
        };
        let rest = match s.op % 13 {
            0..=2 => format!(r#""type":"recharge","amount":"{money}""#),
            3 if s.pick % 2 == 0 => format!(
                r#""type":"grant_bonus","amount":"{money}","reason":"campaign","expires_at":"{}""#,
                timestamp(at + (u64::from(s.pick % 90) + 1) * 24 * 60)
            ),
            3 => format!(r#""type":"grant_bonus","amount":"{money}","reason":"birthday""#),
            4..=7 => consume(&mut consumes),
            8 | 9 => match consumes.get(&m).filter(|c| !c.is_empty()) {
                Some(c) => {
                    let target = c[usize::from(s.pick) % c.len()];
                    if s.pick % 3 == 0 {
                        format!(r#""type":"refund_consumption","consumption":"{target}""#)
                    } else {
                        format!(
                            r#""type":"refund_consumption","consumption":"{target}","amount":"{}""#,
                            amount(u64::from(s.cents % 8000 + 1))
                        )
                    }
                }
                None => consume(&mut consumes),
            },
            10 => r#""type":"refund_balance""#.to_owned(),
            11 => {
                let tier = ["standard", "silver", "gold", "diamond"][usize::from(s.pick % 4)];
                format!(r#""type":"change_tier","tier":"{tier}""#)
            }
            _ => r#""type":"enroll""#.to_owned(),
        };
        out.push(line(id, at, &member, &store, &rest));
    }
    out
}

//! `memberledger demo`: a realistic year of a chain, on the embedded sled store.
//!
//! Deterministic for a seed: the same seed gives the same commands and so a byte-identical log.

use memberledger::domain::events::{
    BalanceRefunded, BonusExpired, BonusGranted, Consumed, ConsumptionRefunded, Recharged, Settled,
};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use memberledger::domain::EventBody;
use memberledger::{Command, Ledger, Money, Policy, Receipt, Uuid};

use crate::Fail;

/// Options of the demo.
#[derive(clap::Args)]
pub(crate) struct DemoArgs {
    /// Seed of the generator: the same seed gives the same ledger.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Stores in the chain.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(2..=999))]
    stores: u32,
    /// Members who join over the year.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    members: u32,
    /// Commands generated over the year, enrollments included. The month-end settlements
    /// between stores, the mid-year policy publication and the year-end expiry sweep come on
    /// top.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    commands: u64,
    /// Where to build the ledger (must not hold one); a new temporary directory by default.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Commands per durable group.
const GROUP: usize = 500;

/// SplitMix64: small, fast, and the same on every platform and version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[usize::try_from(self.below(items.len() as u64)).expect("small")]
    }
    fn uuid(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(
            ((u128::from(self.next()) << 64) | u128::from(self.next())).to_be_bytes(),
        )
        .into_uuid()
    }
}

const SERVICES: &[(&str, i64)] = &[
    ("haircut", 8800),
    ("manicure", 12800),
    ("pedicure", 15800),
    ("facial", 19800),
    ("massage", 28800),
    ("hair-colour", 38800),
    ("spa-ritual", 58800),
    ("body-treatment", 68800),
];

const RECHARGES: &[i64] = &[
    50_000, 50_000, 50_000, 100_000, 100_000, 100_000, 200_000, 200_000, 300_000, 300_000, 500_000,
    1_000_000,
];

/// What the generator knows of a member from the receipts so far.
#[derive(Default)]
struct Known {
    home: u32,
    enrolled: bool,
    balance_cents: i64,
    points: u64,
    frozen: bool,
    /// The tier held (empty until the first receipt is learnt).
    tier: String,
    consumptions: Vec<(Uuid, i64)>,
    /// Open packages.
    packages: Vec<Uuid>,
}

#[derive(Default)]
struct StoreStats {
    consumptions: u64,
    revenue: Money,
    cross_store: u64,
    recharged: Money,
}

#[derive(Default)]
struct Tally {
    recorded: u64,
    events: u64,
    rejected: BTreeMap<String, u64>,
    by_type: BTreeMap<&'static str, u64>,
    stores: BTreeMap<String, StoreStats>,
    bonus_granted: Money,
    bonus_expired: Money,
    refunded_cash: Money,
    settled: Money,
}

struct Gen {
    rng: Rng,
    args_stores: u32,
    members: Vec<Known>,
    start: DateTime<Utc>,
    step_ms: i64,
}

impl Gen {
    fn store_id(n: u32) -> String {
        format!("S{n:03}")
    }
    fn member_id(n: usize) -> String {
        format!("M{n:07}")
    }

    /// The i-th command of the year.
    fn command(&mut self, i: u64, total: u64) -> Command {
        let at =
            self.start + Duration::milliseconds(self.step_ms * i64::try_from(i).expect("bounded"));
        // Members join over the first eight months; enroll a new one when it is their turn.
        let joined = {
            let n = self.members.len() as u64;
            let due = (i * n * 3 / (2 * total)).min(n - 1);
            usize::try_from(due).expect("small")
        };
        let next_new = self.members.iter().position(|m| !m.enrolled);
        let id = self.rng.uuid();
        if let Some(n) = next_new.filter(|&n| n <= joined) {
            self.members[n].enrolled = true;
            let home = self.members[n].home;
            return json_command(
                id,
                at,
                &Self::member_id(n),
                &Self::store_id(home),
                r#""type":"enroll""#,
            );
        }
        // Busy members come more often: pick among the enrolled with a skew toward low numbers.
        let enrolled = next_new.unwrap_or(self.members.len()).max(1);
        let a = self.rng.below(enrolled as u64);
        let b = self.rng.below(enrolled as u64);
        let n = usize::try_from(a.min(b)).expect("small");
        let k = &self.members[n];
        let home = k.home;
        let away = 1 + u32::try_from(self.rng.below(u64::from(self.args_stores))).expect("small");
        let member = Self::member_id(n);
        let roll = self.rng.below(1000);
        let balance = k.balance_cents;
        // Members spend at any store (a quarter of visits away from home) but mostly recharge,
        // and always close their card, at home.
        let (store, rest) = if roll == 38 && !k.packages.is_empty() {
            // Moving away: the unredeemed sessions go back as the policy says.
            let p = *self.rng.pick(&k.packages);
            (
                home,
                format!(r#""type":"refund_package","package":"{p}","reason":"moving away""#),
            )
        } else if roll < 30 && !k.consumptions.is_empty() {
            let (c, charged) = *self.rng.pick(&k.consumptions);
            let rest = if self.rng.chance(500) {
                format!(r#""type":"refund_consumption","consumption":"{c}""#)
            } else {
                let part = 1 + self.rng.below(u64::try_from(charged).expect("positive"));
                format!(
                    r#""type":"refund_consumption","consumption":"{c}","amount":"{}""#,
                    Money::from_cents(i64::try_from(part).expect("small"))
                )
            };
            (home, rest)
        } else if roll < 33 && balance > 0 {
            (home, r#""type":"refund_balance""#.to_owned())
        } else if roll < 36 {
            // A manager moves the member to another tier (moving to the tier held is refused).
            let held = k.tier.clone();
            let others: Vec<&str> = ["standard", "silver", "gold", "diamond"]
                .into_iter()
                .filter(|t| *t != held)
                .collect();
            let tier = *self.rng.pick(&others);
            (
                home,
                format!(r#""type":"change_tier","tier":"{tier}","reason":"service-recovery""#),
            )
        } else if k.frozen && roll < 400 {
            // A lost card turns up again soon after.
            (
                home,
                r#""type":"unfreeze","reason":"card found""#.to_owned(),
            )
        } else if roll == 37 {
            // A manager makes good a service complaint with bonus credit, by hand.
            (
                home,
                r#""type":"adjust","balance":"bonus","direction":"credit","amount":"30.00","reason":"service complaint","operator":"MGR1""#.to_owned(),
            )
        } else if roll < 37 {
            (home, r#""type":"freeze","reason":"lost card""#.to_owned())
        } else if roll < 56 {
            let days = 20 + self.rng.below(100);
            let expires = at + Duration::days(i64::try_from(days).expect("small"));
            (
                home,
                format!(
                    r#""type":"grant_bonus","amount":"{}","reason":"birthday","expires_at":"{}""#,
                    Money::from_cents(
                        i64::try_from(2000 + 1000 * self.rng.below(8)).expect("small")
                    ),
                    expires.format("%Y-%m-%dT%H:%M:%SZ")
                ),
            )
        } else if (115..127).contains(&roll) {
            // A course of sessions at a fifth off, paid in cash or from the card.
            let (service, price) = *self.rng.pick(SERVICES);
            let sessions = *self.rng.pick(&[5i64, 10]);
            let total = price * sessions * 4 / 5;
            let paid_from = if balance >= total && self.rng.chance(500) {
                "balance"
            } else {
                "cash"
            };
            let expires = at + Duration::days(180);
            (
                home,
                format!(
                    r#""type":"purchase_package","service":"{service}","sessions":{sessions},"amount":"{}","paid_from":"{paid_from}","expires_at":"{}""#,
                    Money::from_cents(total),
                    expires.format("%Y-%m-%dT%H:%M:%SZ")
                ),
            )
        } else if (127..450).contains(&roll) && !k.packages.is_empty() {
            // A member with a course uses it on most visits.
            let p = *self.rng.pick(&k.packages);
            let store = if self.rng.chance(250) { away } else { home };
            (
                store,
                format!(
                    r#""type":"redeem_session","package":"{p}","staff":"E{:03}""#,
                    self.rng.below(200)
                ),
            )
        } else if (100..115).contains(&roll) && k.points >= 500 {
            let points = 100 * (1 + self.rng.below(k.points / 100).min(9));
            (
                home,
                format!(r#""type":"redeem_points","points":{points},"reason":"gift""#),
            )
        } else if roll < 100 || (balance < 30_000 && self.rng.chance(800)) {
            let store = if self.rng.chance(100) { away } else { home };
            let rest = format!(
                r#""type":"recharge","amount":"{}","staff":"E{:03}""#,
                Money::from_cents(*self.rng.pick(RECHARGES)),
                self.rng.below(200)
            );
            (store, rest)
        } else {
            let store = if self.rng.chance(250) { away } else { home };
            let (service, price) = *self.rng.pick(SERVICES);
            let rest = format!(
                r#""type":"consume","amount":"{}","staff":"E{:03}","service":"{service}""#,
                Money::from_cents(price),
                self.rng.below(200)
            );
            (store, rest)
        };
        let store = Self::store_id(store);
        json_command(id, at, &member, &store, &rest)
    }

    /// Learns balances and consumptions from a receipt.
    fn learn(&mut self, command: &Command, receipt: &Receipt, ledger: &Ledger) {
        if !command.member.is_member() {
            return;
        }
        let Some(n) = command
            .member
            .as_str()
            .strip_prefix('M')
            .and_then(|s| s.parse::<usize>().ok())
        else {
            return;
        };
        let k = &mut self.members[n];
        for e in &receipt.events {
            if let EventBody::Consumed(Consumed { charged, .. }) = &e.event.body {
                k.consumptions.push((command.id, charged.cents()));
                if k.consumptions.len() > 4 {
                    k.consumptions.remove(0);
                }
            }
            if let EventBody::BalanceRefunded { .. } = &e.event.body {
                k.consumptions.clear();
            }
        }
        k.consumptions.retain(|(c, _)| !receipt.events.iter().any(|e| {
            matches!(&e.event.body, EventBody::ConsumptionRefunded(ConsumptionRefunded { consumption, .. }) if consumption == c)
        }));
        if let Some(v) = ledger.member(&command.member) {
            k.balance_cents = v.principal.plus(v.bonus).cents();
            k.points = v.points;
            k.frozen = v.frozen;
            k.tier = v.tier.to_string();
            k.packages = v
                .packages
                .iter()
                .filter(|p| p.status == memberledger::domain::PackageStatus::Open)
                .map(|p| p.package)
                .collect();
        }
    }
}

/// The second-half policy: the built-in one with a richer recharge-bonus ladder, and package
/// refunds going back to the card.
fn summer_policy(id: Uuid, at: memberledger::Timestamp) -> Command {
    let mut policy: serde_json::Value =
        serde_json::from_str(memberledger::domain::DEFAULT_POLICY_JSON)
            .expect("the built-in policy");
    policy["recharge_bonus"] = serde_json::json!([
        {"min": "500.00", "bonus": "80.00"},
        {"min": "1000.00", "bonus": "200.00"},
        {"min": "3000.00", "bonus": "650.00"},
        {"min": "5000.00", "bonus": "1250.00"},
        {"min": "10000.00", "bonus_rate": "0.30", "tiers": ["gold", "diamond"]}
    ]);
    policy["packages"] = serde_json::json!({"refund_to": "balance"});
    let line = format!(
        r#"{{"id":"{id}","at":"{at}","type":"publish_policy","store":"HQ","policy":{policy}}}"#
    );
    Command::from_json(&line).expect("the demo writes valid commands")
}

/// A `settle` for every debt between stores, at `at`.
fn settlements(ledger: &Ledger, rng: &mut Rng, at: memberledger::Timestamp) -> Vec<Command> {
    ledger
        .clearing()
        .debts()
        .into_iter()
        .map(|(debtor, creditor, amount)| {
            let line = format!(
                r#"{{"id":"{}","at":"{at}","type":"settle","store":"{debtor}","to":"{creditor}","amount":"{amount}"}}"#,
                rng.uuid()
            );
            Command::from_json(&line).expect("the demo writes valid commands")
        })
        .collect()
}

fn json_command(id: Uuid, at: DateTime<Utc>, member: &str, store: &str, rest: &str) -> Command {
    let line = format!(
        r#"{{"id":"{id}","at":"{}","member":"{member}","store":"{store}",{rest}}}"#,
        at.format("%Y-%m-%dT%H:%M:%S%.3fZ")
    );
    Command::from_json(&line).expect("the demo writes valid commands")
}

fn tally(t: &mut Tally, result: &Result<Receipt, memberledger::Error>) {
    let receipt = match result {
        Ok(r) => r,
        Err(e) => {
            *t.rejected.entry(e.code().to_owned()).or_default() += 1;
            return;
        }
    };
    t.recorded += 1;
    t.events += receipt.events.len() as u64;
    for e in &receipt.events {
        *t.by_type.entry(e.event.body.type_name()).or_default() += 1;
        let store = t.stores.entry(e.event.store.to_string()).or_default();
        match &e.event.body {
            EventBody::Consumed(Consumed { charged, draws, .. }) => {
                store.consumptions += 1;
                store.revenue = store.revenue.plus(*charged);
                if draws.iter().any(|d| d.origin_store != e.event.store) {
                    store.cross_store += 1;
                }
            }
            EventBody::Recharged(Recharged { amount, .. }) => {
                store.recharged = store.recharged.plus(*amount)
            }
            EventBody::BonusGranted(BonusGranted { amount, .. }) => {
                t.bonus_granted = t.bonus_granted.plus(*amount)
            }
            EventBody::BonusExpired(BonusExpired { amount, .. }) => {
                t.bonus_expired = t.bonus_expired.plus(*amount)
            }
            EventBody::BalanceRefunded(BalanceRefunded { payout, .. }) => {
                t.refunded_cash = t.refunded_cash.plus(*payout)
            }
            EventBody::Settled(Settled { amount, .. }) => t.settled = t.settled.plus(*amount),
            _ => {}
        }
    }
}

pub(crate) fn run(args: &DemoArgs) -> Result<u8, Fail> {
    let dir = match &args.out {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!(
            "memberledger-demo-{}-{}",
            args.seed,
            std::process::id()
        )),
    };
    if dir.join("db").exists() {
        return Err(Fail::usage(format!(
            "{} already holds a ledger; choose another --out",
            dir.display()
        )));
    }
    let ledger = Ledger::create(&dir, Policy::builtin())?;
    let mut rng = Rng(args.seed);
    let members = (0..args.members)
        .map(|_| Known {
            home: 1 + u32::try_from(rng.below(u64::from(args.stores))).expect("small"),
            ..Known::default()
        })
        .collect();
    let year_ms = 365 * 24 * 3600 * 1000_i64;
    let mut gen = Gen {
        rng,
        args_stores: args.stores,
        members,
        start: DateTime::parse_from_rfc3339("2025-01-01T08:00:00Z")
            .expect("constant")
            .with_timezone(&Utc),
        step_ms: (year_ms / i64::try_from(args.commands).expect("bounded")).max(1),
    };
    // The demo runs a simulated year: its clock is the simulation's, which reads the year's
    // end (where the closing sweep is dated), so no simulated command is ahead of it.
    ledger.set_clock(memberledger::Clock::fixed(
        memberledger::Timestamp::from_datetime(gen.start)
            .expect("the demo's year is in range")
            .plus_days(366),
    ));
    crate::emit(&format!(
        "memberledger demo · seed {} · {} stores · {} members · {} commands over 2025 (settlements, a policy publication and the expiry sweep on top)\nledger: {} (sled, on disk)\n",
        args.seed,
        args.stores,
        args.members,
        args.commands,
        dir.display()
    ))?;
    let bar = ProgressBar::new(args.commands);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} commands ({per_sec}, eta {eta})",
        )
        .expect("template"),
    );
    let started = Instant::now();
    let mut t = Tally::default();
    let mut i = 0u64;
    let mut next_settlement = memberledger::Timestamp::from_datetime(gen.start)
        .expect("the demo's year is in range")
        .plus_days(30);
    // Head office publishes a richer bonus ladder for the second half of the year.
    let mut summer = Some(
        memberledger::Timestamp::from_datetime(gen.start)
            .expect("the demo's year is in range")
            .plus_days(181),
    );
    let mut published = None;
    let mut extra = Extra::default();
    while i < args.commands {
        let n = (args.commands - i).min(GROUP as u64);
        let batch: Vec<Command> = (i..i + n).map(|j| gen.command(j, args.commands)).collect();
        let results = ledger.execute_batch(&batch);
        // Month end: every store pays what it owes the others.
        let last_at = batch.last().expect("non-empty").at;
        if summer.is_some_and(|t| last_at >= t) {
            summer = None;
            let at = memberledger::Timestamp::from_datetime(
                last_at.as_datetime() + Duration::seconds(1),
            )
            .expect("the demo's year is in range");
            let receipt = ledger.execute(&summer_policy(gen.rng.uuid(), at))?;
            tally(&mut t, &Ok(receipt));
            published = Some(at);
            extra.publications += 1;
        }
        if last_at >= next_settlement {
            let settle = settlements(&ledger, &mut gen.rng, last_at);
            for r in ledger.execute_batch(&settle) {
                extra.settlements += u64::from(r.is_ok());
                tally(&mut t, &r);
            }
            next_settlement = next_settlement.plus_days(30);
        }
        for (c, r) in batch.iter().zip(&results) {
            if let Err(
                e @ (memberledger::Error::Storage(_) | memberledger::Error::Corrupt { .. }),
            ) = r
            {
                return Err(Fail::usage(format!("{}: {e}", e.code())));
            }
            tally(&mut t, r);
            if let Ok(receipt) = r {
                gen.learn(c, receipt, &ledger);
            }
        }
        i += n;
        bar.set_position(i);
    }
    bar.finish_and_clear();
    // Year end: the expiry sweep records what lapsed for members who did not come back.
    let year_end = memberledger::Timestamp::from_datetime(gen.start)
        .expect("the demo's year is in range")
        .plus_days(366);
    let expired_before = t.bonus_expired;
    let swept = ledger.expire_due(year_end);
    for r in &swept {
        tally(&mut t, r);
    }
    extra.sweeps = swept.iter().filter(|r| r.is_ok()).count() as u64;
    let elapsed = started.elapsed();
    let verify_started = Instant::now();
    let report = ledger.verify()?;
    let verify_elapsed = verify_started.elapsed();
    let mut o = summary(&ledger, &t, elapsed.as_secs_f64());
    o.push_str(&extra.describe(&t, args.commands, published, year_end, expired_before));
    match &report.problem {
        None => o.push_str(&format!(
            "\nverify: ok in {:.2} s — {} events, chain intact, replay from genesis equals the projections\n  chain head {}\n",
            verify_elapsed.as_secs_f64(),
            report.events,
            report.head
        )),
        Some(p) => o.push_str(&format!("\nverify: FAILED at position {}: {}\n", p.position, p.what)),
    }
    o.push_str(&format!(
        "\nTry it:\n  memberledger --db {0} member show {1}\n  memberledger --db {0} verify\n  memberledger --db {0} export --format jsonl | head\n",
        dir.display(),
        Gen::member_id(0)
    ));
    crate::emit(&o)?;
    Ok(u8::from(!report.ok()))
}

/// Commands the demo records on top of the generated ones.
#[derive(Default)]
struct Extra {
    settlements: u64,
    publications: u64,
    sweeps: u64,
}

impl Extra {
    /// What was recorded on top of the generated commands.
    fn describe(
        &self,
        t: &Tally,
        commands: u64,
        published: Option<memberledger::Timestamp>,
        year_end: memberledger::Timestamp,
        expired_before: Money,
    ) -> String {
        let mut o = String::new();
        o.push_str(&format!(
            "of which {} generated (--commands {}); on top: {} month-end settlements, {} policy publication, {} members' expiries in the year-end sweep\n",
            t.recorded - self.settlements - self.publications - self.sweeps,
            commands,
            self.settlements,
            self.publications,
            self.sweeps
        ));
        if let Some(at) = published {
            o.push_str(&format!(
                "policy version 2 published at {at}: a richer recharge-bonus ladder, packages refunded to the card; earlier recharges kept their bonus\n"
            ));
        }
        o.push_str(&format!(
            "year-end expiry sweep at {year_end}: {} members, bonus expired {}\n",
            self.sweeps,
            t.bonus_expired.minus(expired_before)
        ));
        o
    }
}

fn summary(ledger: &Ledger, t: &Tally, secs: f64) -> String {
    let mut tiers: HashMap<String, u64> = HashMap::new();
    let (mut principal, mut bonus, mut points) = (Money::ZERO, Money::ZERO, 0u64);
    let mut packages = Money::ZERO;
    ledger.for_each_member(|m| {
        *tiers.entry(m.tier.to_string()).or_default() += 1;
        principal = principal.plus(m.principal());
        bonus = bonus.plus(m.bonus());
        points += m.points();
        packages = packages.plus(m.package_value());
    });
    let rejected: u64 = t.rejected.values().sum();
    let mut s = format!(
        "\nrecorded {} commands as {} events in {:.1} s ({:.0} commands/s, durable in groups of {GROUP})\n",
        t.recorded,
        t.events,
        secs,
        t.recorded as f64 / secs.max(1e-9)
    );
    if rejected > 0 {
        let why: Vec<String> = t.rejected.iter().map(|(k, v)| format!("{k} {v}")).collect();
        s.push_str(&format!(
            "rejected {rejected} (recorded nothing): {}\n",
            why.join(", ")
        ));
    }
    s.push_str("\nmembers by tier\n");
    for tier in &ledger.policy().tiers {
        s.push_str(&format!(
            "  {:<10} {:>8}\n",
            tier.name,
            tiers.get(&tier.name).copied().unwrap_or(0)
        ));
    }
    s.push_str(&format!(
        "\nbalances held (the chain's stored-value liability)\n  principal  {:>14}\n  bonus      {:>14}\n  packages   {:>14}\n  points     {:>14}\n",
        principal.to_string(),
        bonus.to_string(),
        packages.to_string(),
        points
    ));
    s.push_str("\nwhat happened\n");
    for (k, v) in &t.by_type {
        s.push_str(&format!("  {k:<22} {v:>8}\n"));
    }
    s.push_str(&format!(
        "  bonus granted {} · bonus expired {} · cash paid out on balance refunds {}\n  settled between stores at month ends {}\n",
        t.bonus_granted, t.bonus_expired, t.refunded_cash, t.settled
    ));
    let mut busiest: Vec<(&String, &StoreStats)> = t.stores.iter().collect();
    busiest.sort_by(|a, b| b.1.revenue.cmp(&a.1.revenue).then(a.0.cmp(b.0)));
    s.push_str("\nbusiest stores (by services delivered)\n  store    services        revenue   cross-store   recharged\n");
    for (id, st) in busiest.iter().take(5) {
        s.push_str(&format!(
            "  {:<6} {:>10} {:>14} {:>12}% {:>11}\n",
            id,
            st.consumptions,
            st.revenue.to_string(),
            (st.cross_store * 100)
                .checked_div(st.consumptions)
                .unwrap_or(0),
            st.recharged.to_string()
        ));
    }
    s
}

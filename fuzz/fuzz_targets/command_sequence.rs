//! `command_sequence`: a random sequence of small commands, run through the public facade.
//!
//! The input is decoded with `arbitrary` into a policy variant and a list of ops (enroll,
//! recharge, grant_bonus, consume, refund_consumption of an earlier consume, refund_balance,
//! change_tier, settle, freeze, unfreeze, redeem_points, expire, review_tier, purchase_package,
//! redeem_session and refund_package of an earlier package, adjust, publish_policy, card
//! commands on shared card numbers and consumptions named by a card, authorize, capture and void
//! of an earlier authorization, open_balance (a member moving from another system, its package
//! redeemable), a verbatim
//! repeat of an earlier line, an earlier id reused for other content), each with a time step (minutes to two years, sometimes backwards), a member
//! M0-M3 and a store S0-S2. Ops become JSON command lines, parsed with `Command::from_json`
//! and executed on `Ledger::in_memory_with` — runs of ops flagged `batch` together through
//! `execute_batch`, the others through `execute`.
//!
//! Checks, besides "nothing panics":
//! - every call returns a receipt or a business rejection (never storage/corrupt/conflict);
//!   a repeated line that was accepted before returns the original events, `replayed`;
//! - `ledger.verify()` is ok (hash chain, canonical bytes, replay = projections, trial balance);
//! - every member's lots and point lots are positive, and principal, bonus and points are the
//!   sums of their lots, and equal (negated) the balance of the member's liability accounts
//!   in the books;
//! - every event's postings balance, and every event's canonical JSON decodes to itself;
//! - the same lines run one by one with `execute` on a fresh ledger give the same outcomes
//!   and a byte-identical export (`to_export_json` lines): batching changes nothing.
#![no_main]

use std::collections::HashMap;

use arbitrary::Arbitrary;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use libfuzzer_sys::fuzz_target;
use memberledger::domain::{check_balanced, postings, Account, LotKind, RecordedEvent};
use memberledger::{Command, Error, Ledger, Policy};
use memberledger_core::{canonical_json, decode_event, PackageRefundTo, Rounding, SpendOrder};

const MEMBERS: u8 = 4;
const STORES: u8 = 3;
const MAX_OPS: usize = 64;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum PolicyChoice {
    Builtin,
    PrincipalFirst,
    BonusFirst,
    NoClawBack,
    HalfEvenRounding,
    RoundUp,
    /// Bonus lives 7 days and points 10: expiries happen within short sequences.
    ShortExpiry,
    NeverExpires,
    /// Tiers by spending and visits, and retain rules for `review_tier`.
    VisitTiers,
}

/// Silver on 3 visits in 30 days, gold on 1000.00 spent in 30 days; each kept over 60 days.
const VISIT_TIERS_POLICY: &str = r#"{"tiers":[
  {"name":"standard","discount":"1.00","points_per_yuan":"1"},
  {"name":"silver","discount":"0.95","points_per_yuan":"1",
   "upgrade":{"visits_within":3,"window_days":30},"retain":{"visits_within":2,"window_days":60}},
  {"name":"gold","discount":"0.90","points_per_yuan":"1.5",
   "upgrade":{"spent_within":"1000.00","window_days":30,"single_recharge":"5000.00"},
   "retain":{"spent_within":"300.00","recharged_within":"1000.00","window_days":60}}]}"#;

fn policy(choice: PolicyChoice) -> Policy {
    let mut p = Policy::builtin();
    match choice {
        PolicyChoice::Builtin => {}
        PolicyChoice::PrincipalFirst => p.spend_order = SpendOrder::PrincipalFirst,
        PolicyChoice::BonusFirst => p.spend_order = SpendOrder::BonusFirst,
        PolicyChoice::NoClawBack => p.refund.claw_back_used_bonus = false,
        PolicyChoice::HalfEvenRounding => p.rounding = Rounding::HalfEven,
        PolicyChoice::RoundUp => p.rounding = Rounding::Up,
        PolicyChoice::ShortExpiry => {
            p.bonus_expiry_days = Some(7);
            p.points_expiry_days = Some(10);
        }
        PolicyChoice::NeverExpires => {
            p.bonus_expiry_days = None;
            p.points_expiry_days = None;
        }
        PolicyChoice::VisitTiers => {
            p = Policy::from_json(VISIT_TIERS_POLICY).expect("the visit-tier policy is valid");
        }
    }
    p.validate().expect("the fuzz policies are valid");
    p
}

/// How far the clock moves before an op.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Step {
    Same,
    Minutes(u8),
    Days(u8),
    /// Past the built-in bonus expiry (365 days) and the upgrade window.
    Year,
    /// Past the built-in points expiry (730 days).
    TwoYears,
    /// Backwards: commands of members with later events are rejected as out of order.
    Back(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Amount {
    /// 0.00-655.35 (0.00 is rejected as an invalid amount).
    Cents(u16),
    /// Whole yuan up to 65535: crosses the bonus rules and tier upgrades.
    Yuan(u16),
    /// Exactly at the per-command maximum.
    Max,
}

impl Amount {
    fn wire(self) -> String {
        match self {
            Amount::Cents(c) => format!("{}.{:02}", c / 100, c % 100),
            Amount::Yuan(y) => format!("{y}.00"),
            Amount::Max => "99999999.99".into(),
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Kind {
    Enroll { tier: Option<u8> },
    Recharge { amount: Amount, staff: bool },
    GrantBonus { amount: Amount, expires_in_days: Option<u16> },
    /// `external`: paid partly outside the card (`None` inside: what the card cannot cover).
    Consume { amount: Amount, service: bool, external: Option<Option<Amount>> },
    RefundConsumption { which: u8, amount: Option<Amount> },
    RefundBalance,
    ChangeTier { tier: u8 },
    Settle { to: u8, amount: Option<Amount> },
    /// Sends an earlier line again, verbatim (idempotent retry).
    Repeat { which: u16 },
    Freeze { reason: bool },
    Unfreeze,
    /// `given`: the value of a free service given for the points.
    RedeemPoints { points: u16, given: Option<Amount> },
    /// The expiry sweep of one member.
    Expire,
    ReviewTier,
    /// Reuses an earlier command id for this op's other content (idempotency conflict).
    ReuseId { which: u16, amount: Amount },
    /// A package of 1-16 sessions (0: refused), in cash or from the balance.
    BuyPackage { amount: Amount, sessions: u8, cash: bool, expires_in_days: Option<u8> },
    RedeemSession { which: u8 },
    RefundPackage { which: u8 },
    /// A correction by hand of principal, bonus or points, either way.
    Adjust { balance: u8, credit: bool, amount: Amount },
    /// A new policy version at this op's time (refused when events are recorded at or after
    /// it): a richer bonus ladder, and package refunds to cash or the balance.
    PublishPolicy { richer: bool, refund_to_cash: bool },
    /// A member moving from another system (`open_balance`): principal from another store,
    /// bonus and points lapsing within days (0: at the command's time, refused), a package.
    OpenBalance {
        tier: Option<u8>,
        principal: Option<Amount>,
        bonus: Option<(Amount, u8)>,
        points: Option<(u16, u8)>,
        package: Option<(Amount, u8)>,
    },
    /// A card command on one of a few card numbers shared by every member (`card_in_use`,
    /// `card_lost`, `card_replaced`, `card_not_linked` all reachable): 0 link, 1 report lost,
    /// 2 replace, 3 unlink, else a consumption named by the card alone.
    Card { op: u8, card: u8, new_card: u8, amount: Amount },
    /// An authorization, with or without an expiry.
    Authorize { amount: Amount, expires_in_hours: Option<u8> },
    /// A capture or void of an earlier authorization (or of a made-up hold).
    Capture { which: u8, amount: Amount },
    Void { which: u8 },
    /// A coupon: 0 an amount off, 1 a percentage (0 and 100+ refused) with a cap, 2 满减
    /// (threshold and amount), else a free session; lapsing within days (0: refused).
    IssueCoupon { offer: u8, amount: Amount, percent: u8, expires_in_days: u8 },
    /// A visit naming an earlier coupon (anyone's, or one never issued).
    ConsumeCoupon { which: u8, amount: Amount, cash: bool },
    /// Free sessions (0: refused), with or without an expiry.
    GrantPackage { sessions: u8, expires_in_days: Option<u8> },
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Op {
    step: Step,
    member: u8,
    store: u8,
    /// Executed with the adjacent `batch` ops in one `execute_batch` call.
    batch: bool,
    kind: Kind,
}

#[derive(Arbitrary, Debug)]
struct Input {
    policy: PolicyChoice,
    ops: Vec<Op>,
}

fn command_id(i: usize) -> String {
    format!("00000000-0000-4000-8000-{:012x}", i + 1)
}

const TIERS_EXTRA: &str = "platinum"; // not in any fuzz policy: unknown_tier

fn tier_name(policy: &Policy, i: u8) -> String {
    let n = policy.tiers.len();
    let i = usize::from(i) % (n + 1);
    policy.tiers.get(i).map_or(TIERS_EXTRA.into(), |t| t.name.clone())
}

/// Turns the ops into command lines (deterministically: the same input gives the same lines).
fn lines(input: &Input, policy: &Policy) -> Vec<(String, bool)> {
    let base: DateTime<Utc> = "2026-01-01T08:00:00Z".parse().expect("constant parses");
    let mut t = base;
    let mut out: Vec<(String, bool)> = Vec::new();
    // Consume command ids by member, in order, for refunds to point at.
    let mut consumes: Vec<(u8, String)> = Vec::new();
    // Package purchase ids by member, for sessions and refunds to point at.
    let mut packages: Vec<(u8, String)> = Vec::new();
    // Authorize command ids, for captures and voids to point at.
    let mut holds: Vec<String> = Vec::new();
    // Coupon ids, for visits to name.
    let mut coupons: Vec<String> = Vec::new();
    for (i, op) in input.ops.iter().take(MAX_OPS).enumerate() {
        t = match op.step {
            Step::Same => t,
            Step::Minutes(m) => t + Duration::minutes(i64::from(m)),
            Step::Days(d) => t + Duration::days(i64::from(d)),
            Step::Year => t + Duration::days(366),
            Step::TwoYears => t + Duration::days(731),
            Step::Back(m) => t - Duration::minutes(i64::from(m) + 1),
        };
        let at = t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let member = op.member % MEMBERS;
        let m = format!("M{member}");
        let s = format!("S{}", op.store % STORES);
        let mut id = command_id(i);
        let head = |id: &str, kind: &str| {
            format!(r#"{{"id":"{id}","at":"{at}","type":"{kind}","member":"{m}","store":"{s}""#)
        };
        let line = match op.kind {
            Kind::Enroll { tier } => {
                let mut l = head(&id, "enroll");
                if let Some(tier) = tier {
                    l.push_str(&format!(r#","tier":"{}""#, tier_name(policy, tier)));
                }
                l + "}"
            }
            Kind::Recharge { amount, staff } => {
                let mut l = head(&id, "recharge");
                l.push_str(&format!(r#","amount":"{}""#, amount.wire()));
                if staff {
                    l.push_str(r#","staff":"E7""#);
                }
                l + "}"
            }
            Kind::GrantBonus { amount, expires_in_days } => {
                let mut l = head(&id, "grant_bonus");
                l.push_str(&format!(r#","amount":"{}","reason":"birthday""#, amount.wire()));
                if let Some(d) = expires_in_days {
                    // 0 days: expires at the command's time, which is refused.
                    let e = t + Duration::days(i64::from(d % 800));
                    l.push_str(&format!(
                        r#","expires_at":"{}""#,
                        e.to_rfc3339_opts(SecondsFormat::Secs, true)
                    ));
                }
                l + "}"
            }
            Kind::Consume { amount, service, external } => {
                consumes.push((member, id.clone()));
                let mut l = head(&id, "consume");
                l.push_str(&format!(r#","amount":"{}","staff":"E9""#, amount.wire()));
                if service {
                    l.push_str(r#","service":"facial""#);
                }
                match external {
                    None => {}
                    Some(None) => l.push_str(r#","method":"cash""#),
                    Some(Some(x)) => {
                        l.push_str(&format!(r#","method":"wechat","external":"{}""#, x.wire()))
                    }
                }
                l + "}"
            }
            Kind::RefundConsumption { which, amount } => {
                // Prefer the member's own consumptions; fall back to anyone's (unknown to
                // this member), or to a consumption that was never made.
                let own: Vec<&String> =
                    consumes.iter().filter(|(mm, _)| *mm == member).map(|(_, c)| c).collect();
                let pool: Vec<&String> = if own.is_empty() || which >= 224 {
                    consumes.iter().map(|(_, c)| c).collect()
                } else {
                    own
                };
                let target = if pool.is_empty() {
                    "7a1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10".to_owned()
                } else {
                    pool[usize::from(which) % pool.len()].clone()
                };
                let mut l = head(&id, "refund_consumption");
                l.push_str(&format!(r#","consumption":"{target}""#));
                if let Some(a) = amount {
                    l.push_str(&format!(r#","amount":"{}""#, a.wire()));
                }
                l + "}"
            }
            Kind::RefundBalance => head(&id, "refund_balance") + "}",
            Kind::ChangeTier { tier } => {
                let mut l = head(&id, "change_tier");
                l.push_str(&format!(r#","tier":"{}","reason":"vip""#, tier_name(policy, tier)));
                l + "}"
            }
            Kind::Settle { to, amount } => {
                let mut l = format!(
                    r#"{{"id":"{id}","at":"{at}","type":"settle","store":"{s}","to":"S{}""#,
                    to % STORES
                );
                if let Some(a) = amount {
                    l.push_str(&format!(r#","amount":"{}""#, a.wire()));
                }
                l + "}"
            }
            Kind::Freeze { reason } => {
                let mut l = head(&id, "freeze");
                if reason {
                    l.push_str(r#","reason":"lost card""#);
                }
                l + "}"
            }
            Kind::Unfreeze => head(&id, "unfreeze") + "}",
            Kind::RedeemPoints { points, given } => {
                // 0 points is rejected as an invalid amount.
                let mut l = head(&id, "redeem_points");
                l.push_str(&format!(r#","points":{points},"reason":"gift""#));
                if let Some(v) = given {
                    l.push_str(&format!(r#","service":"bubble facial","value":"{}""#, v.wire()));
                }
                l + "}"
            }
            Kind::Expire => head(&id, "expire") + "}",
            Kind::ReviewTier => head(&id, "review_tier") + "}",
            Kind::Repeat { which } => {
                if out.is_empty() {
                    head(&id, "refund_balance") + "}"
                } else {
                    out[usize::from(which) % out.len()].0.clone()
                }
            }
            Kind::BuyPackage {
                amount,
                sessions,
                cash,
                expires_in_days,
            } => {
                packages.push((member, id.clone()));
                let mut l = head(&id, "purchase_package");
                l.push_str(&format!(
                    r#","service":"massage","sessions":{},"amount":"{}","paid_from":"{}""#,
                    sessions % 17,
                    amount.wire(),
                    if cash { "cash" } else { "balance" }
                ));
                if let Some(d) = expires_in_days {
                    let e = t + Duration::days(i64::from(d));
                    l.push_str(&format!(
                        r#","expires_at":"{}""#,
                        e.to_rfc3339_opts(SecondsFormat::Secs, true)
                    ));
                }
                l + "}"
            }
            Kind::OpenBalance { tier, principal, bonus, points, package } => {
                let days = |d: u8| {
                    (t + Duration::days(i64::from(d))).to_rfc3339_opts(SecondsFormat::Secs, true)
                };
                let mut parts = Vec::new();
                if let Some(a) = principal {
                    parts.push(format!(r#""principal":[{{"amount":"{}","origin_store":"S{}"}}]"#, a.wire(), op.store.wrapping_add(1) % STORES));
                }
                if let Some((a, d)) = bonus {
                    parts.push(format!(r#""bonus":[{{"amount":"{}","expires_at":"{}"}}]"#, a.wire(), days(d)));
                }
                if let Some((p, d)) = points {
                    parts.push(format!(r#""points":[{{"points":{p},"expires_at":"{}"}}]"#, days(d)));
                }
                if let Some((a, n)) = package {
                    let pid = memberledger::Uuid::parse_str(&id).expect("a command id");
                    packages.push((member, memberledger::domain::opened_package_id(pid, 0).to_string()));
                    parts.push(format!(r#""packages":[{{"service":"facial","sessions":{},"session_price":"{}"}}]"#, n % 17, a.wire()));
                }
                let mut l = head(&id, "open_balance");
                if let Some(tier) = tier {
                    l.push_str(&format!(r#","tier":"{}""#, tier_name(policy, tier)));
                }
                l + &format!(r#","opening":{{{}}}}}"#, parts.join(","))
            }
            Kind::RedeemSession { which } | Kind::RefundPackage { which } => {
                let own: Vec<&String> =
                    packages.iter().filter(|(mm, _)| *mm == member).map(|(_, c)| c).collect();
                let target = if own.is_empty() || which >= 240 {
                    "5b1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10".to_owned()
                } else {
                    own[usize::from(which) % own.len()].clone()
                };
                let kind = if matches!(op.kind, Kind::RedeemSession { .. }) {
                    "redeem_session"
                } else {
                    "refund_package"
                };
                let mut l = head(&id, kind);
                l.push_str(&format!(r#","package":"{target}""#));
                l + "}"
            }
            Kind::Adjust {
                balance,
                credit,
                amount,
            } => {
                let mut l = head(&id, "adjust");
                let direction = if credit { "credit" } else { "debit" };
                match balance % 3 {
                    0 => l.push_str(&format!(
                        r#","balance":"principal","direction":"{direction}","amount":"{}""#,
                        amount.wire()
                    )),
                    1 => l.push_str(&format!(
                        r#","balance":"bonus","direction":"{direction}","amount":"{}""#,
                        amount.wire()
                    )),
                    _ => l.push_str(&format!(
                        r#","balance":"points","direction":"{direction}","points":{}"#,
                        u32::from(balance)
                    )),
                }
                l + r#","reason":"till error","operator":"MGR1"}"#
            }
            Kind::PublishPolicy {
                richer,
                refund_to_cash,
            } => {
                let mut p = policy.clone();
                if richer {
                    for r in &mut p.recharge_bonus {
                        if let Some(b) = r.bonus.as_mut() {
                            *b = b.plus(*b);
                        }
                    }
                }
                p.packages.refund_to = if refund_to_cash {
                    PackageRefundTo::Cash
                } else {
                    PackageRefundTo::Balance
                };
                format!(
                    r#"{{"id":"{id}","at":"{at}","type":"publish_policy","store":"HQ","policy":{}}}"#,
                    p.to_json()
                )
            }
            Kind::Card { op, card, new_card, amount } => {
                let card = format!("C{}", card % 4);
                match op % 5 {
                    0 => head(&id, "link_card") + &format!(r#","card":"{card}"}}"#),
                    1 => head(&id, "report_lost") + &format!(r#","card":"{card}"}}"#),
                    2 => head(&id, "replace_card")
                        + &format!(r#","card":"{card}","new_card":"N{}"}}"#, new_card % 4),
                    3 => head(&id, "unlink_card") + &format!(r#","card":"{card}"}}"#),
                    _ => format!(
                        r#"{{"id":"{id}","at":"{at}","type":"consume","card":"{card}","store":"{s}","amount":"{}"}}"#,
                        amount.wire()
                    ),
                }
            }
            Kind::Authorize { amount, expires_in_hours } => {
                holds.push(id.clone());
                let mut l = head(&id, "authorize");
                l.push_str(&format!(r#","amount":"{}""#, amount.wire()));
                if let Some(h) = expires_in_hours {
                    // 0 hours: not after `at`, refused.
                    let e = (t + Duration::hours(i64::from(h))).to_rfc3339_opts(SecondsFormat::Secs, true);
                    l.push_str(&format!(r#","expires_at":"{e}""#));
                }
                l + "}"
            }
            Kind::Capture { which, amount } => {
                let hold = holds
                    .get(usize::from(which) % holds.len().max(1))
                    .cloned()
                    .unwrap_or_else(|| command_id(9_999));
                head(&id, "capture") + &format!(r#","hold":"{hold}","amount":"{}"}}"#, amount.wire())
            }
            Kind::IssueCoupon { offer, amount, percent, expires_in_days } => {
                coupons.push(id.clone());
                let e = (t + Duration::days(i64::from(expires_in_days % 60)))
                    .to_rfc3339_opts(SecondsFormat::Secs, true);
                let terms = match offer % 4 {
                    0 => format!(r#""amount":"{}""#, amount.wire()),
                    1 => format!(r#""percent":"{percent}","cap":"{}""#, amount.wire()),
                    2 => format!(r#""threshold":"{}","amount":"10.00""#, amount.wire()),
                    _ => r#""service":"体验护理""#.to_owned(),
                };
                head(&id, "issue_coupon")
                    + &format!(r#",{terms},"reason":"新人礼券","expires_at":"{e}"}}"#)
            }
            Kind::ConsumeCoupon { which, amount, cash } => {
                consumes.push((member, id.clone()));
                let coupon = coupons
                    .get(usize::from(which) % coupons.len().max(1))
                    .cloned()
                    .unwrap_or_else(|| command_id(9_998));
                let mut l = head(&id, "consume");
                l.push_str(&format!(r#","amount":"{}","coupon":"{coupon}""#, amount.wire()));
                if cash {
                    l.push_str(r#","method":"cash""#);
                }
                l + "}"
            }
            Kind::GrantPackage { sessions, expires_in_days } => {
                packages.push((member, id.clone()));
                let mut l = head(&id, "grant_package");
                l.push_str(&format!(
                    r#","service":"小气泡护理","sessions":{},"reason":"third visit""#,
                    sessions % 5
                ));
                if let Some(d) = expires_in_days {
                    let e = t + Duration::days(i64::from(d));
                    l.push_str(&format!(
                        r#","expires_at":"{}""#,
                        e.to_rfc3339_opts(SecondsFormat::Secs, true)
                    ));
                }
                l + "}"
            }
            Kind::Void { which } => {
                let hold = holds
                    .get(usize::from(which) % holds.len().max(1))
                    .cloned()
                    .unwrap_or_else(|| command_id(9_999));
                head(&id, "void") + &format!(r#","hold":"{hold}"}}"#)
            }
            Kind::ReuseId { which, amount } => {
                if i > 0 {
                    id = command_id(usize::from(which) % i);
                }
                let mut l = head(&id, "recharge");
                l.push_str(&format!(r#","amount":"{}""#, amount.wire()));
                l + "}"
            }
        };
        out.push((line, op.batch));
    }
    out
}

/// What a line came to: `Ok(replayed)` or the error code.
type Outcome = Result<bool, &'static str>;

struct Run {
    outcomes: Vec<Outcome>,
    export: Vec<String>,
}

fn check_result(
    line: &str,
    result: &Result<memberledger::Receipt, Error>,
    first: &mut HashMap<memberledger::Uuid, Vec<RecordedEvent>>,
) -> Outcome {
    match result {
        Ok(r) => {
            assert!(!r.events.is_empty(), "a receipt without events: {line}");
            for w in r.events.windows(2) {
                assert_eq!(w[0].position + 1, w[1].position, "a command's events are not contiguous");
            }
            match first.get(&r.command) {
                Some(orig) => {
                    assert!(r.replayed, "a recorded command was recorded again: {line}");
                    assert_eq!(orig, &r.events, "a replayed receipt differs from the original: {line}");
                }
                None => {
                    assert!(!r.replayed, "a first receipt says replayed: {line}");
                    first.insert(r.command, r.events.clone());
                }
            }
            Ok(r.replayed)
        }
        Err(Error::Rejected(rej)) => Err(rej.code()),
        Err(e) => panic!("{line}: an in-memory ledger failed with {e:?}"),
    }
}

/// Runs the lines: in groups as flagged when `batched`, else one `execute` per line.
fn run(lines: &[(String, bool)], policy: &Policy, batched: bool) -> (Ledger, Run) {
    let trace = batched && std::env::var_os("MEMBERLEDGER_FUZZ_TRACE").is_some();
    let ledger = Ledger::in_memory_with(policy.clone());
    let mut outcomes = Vec::with_capacity(lines.len());
    let mut first = HashMap::new();
    let mut i = 0;
    while i < lines.len() {
        let mut j = i + 1;
        if batched && lines[i].1 {
            while j < lines.len() && lines[j].1 {
                j += 1;
            }
        }
        let group = &lines[i..j];
        // A line that does not parse is rejected before it reaches the ledger.
        let parsed: Vec<Result<Command, &'static str>> = group
            .iter()
            .map(|(l, _)| Command::from_json(l).map_err(|e| e.code()))
            .collect();
        let cmds: Vec<Command> = parsed.iter().filter_map(|c| c.as_ref().ok().cloned()).collect();
        let mut results = if batched && group.len() > 1 {
            ledger.execute_batch(&cmds).into_iter()
        } else {
            cmds.iter().map(|c| ledger.execute(c)).collect::<Vec<_>>().into_iter()
        };
        for ((line, _), p) in group.iter().zip(parsed) {
            outcomes.push(match p {
                Err(code) => Err(code),
                Ok(_) => {
                    let r = results.next().expect("one result per command");
                    check_result(line, &r, &mut first)
                }
            });
        }
        assert!(results.next().is_none(), "more results than commands");
        if trace {
            let outcomes = &outcomes[outcomes.len() - group.len()..];
            for ((line, _), o) in group.iter().zip(outcomes) {
                eprintln!("{}{line}\n    -> {o:?}", if group.len() > 1 { "[batch] " } else { "" });
            }
        }
        i = j;
    }
    let export = ledger
        .events(1, 256)
        .map(|e| e.expect("an in-memory event reads back").to_export_json())
        .collect();
    (ledger, Run { outcomes, export })
}

fn check_invariants(ledger: &Ledger) {
    let report = ledger.verify().expect("verify runs");
    assert!(report.ok(), "verify found a problem: {:?}", report.problem);

    // The books, from every event's postings.
    let mut books: HashMap<Account, i64> = HashMap::new();
    let mut n = 0u64;
    for e in ledger.events(1, 256) {
        let e = e.expect("an in-memory event reads back");
        n += 1;
        assert_eq!(e.position, n, "positions have a gap");
        let entry = postings(&e.event);
        check_balanced(&entry)
            .unwrap_or_else(|why| panic!("event {} does not balance: {why}", e.position));
        for p in entry {
            *books.entry(p.account).or_default() += p.cents;
        }
        let json = canonical_json(e.position, &e.event);
        let (pos, back) = decode_event(json.as_bytes()).expect("canonical JSON decodes");
        assert_eq!((pos, &back), (e.position, &e.event), "an event does not round-trip");
    }
    assert_eq!(report.events, n);
    assert_eq!(books.values().sum::<i64>(), 0, "the trial balance is off");

    for id in ledger.member_ids() {
        let v = ledger.member(&id).expect("a listed member has a view");
        let (mut p, mut b) = (0i64, 0i64);
        for l in &v.lots {
            assert!(l.remaining.is_positive(), "member {id}: a lot is not positive: {l:?}");
            match l.kind {
                LotKind::Principal => {
                    assert!(l.expires_at.is_none(), "member {id}: a principal lot expires");
                    p += l.remaining.cents();
                }
                LotKind::Bonus => b += l.remaining.cents(),
            }
        }
        assert_eq!(v.principal.cents(), p, "member {id}: principal is not the sum of its lots");
        assert_eq!(v.bonus.cents(), b, "member {id}: bonus is not the sum of its lots");
        assert!(v.point_lots.iter().all(|l| l.remaining > 0), "member {id}: an empty point lot");
        assert_eq!(v.points, v.point_lots.iter().map(|l| l.remaining).sum::<u64>());
        let owed = |a: Account| -books.get(&a).copied().unwrap_or(0);
        assert_eq!(owed(Account::Package(id.clone())), v.package_value.cents(), "member {id}: books and packages differ");
        for pk in &v.packages {
            assert!(pk.sessions_left <= pk.sessions, "member {id}: a package holds more sessions than bought");
            assert!(!pk.principal_left.is_negative() && !pk.bonus_left.is_negative());
        }
        assert_eq!(owed(Account::Principal(id.clone())), p, "member {id}: books and lots differ on principal");
        assert_eq!(owed(Account::Bonus(id.clone())), b, "member {id}: books and lots differ on bonus");
        // The view as of now is the fold of the member's events.
        let as_of = ledger
            .member_as_of(&id, "9999-12-31T23:59:59Z".parse().expect("constant parses"))
            .expect("member_as_of runs")
            .expect("an enrolled member has events");
        assert_eq!(as_of, v, "member {id}: the view differs from a fold of its events");
    }
}

fuzz_target!(|input: Input| {
    let policy = policy(input.policy);
    let lines = lines(&input, &policy);
    let (ledger, first) = run(&lines, &policy, true);
    check_invariants(&ledger);
    // Replaying the same lines, one command per call, gives the same log byte for byte.
    let (_, second) = run(&lines, &policy, false);
    assert_eq!(first.outcomes, second.outcomes, "batched and single runs disagree on outcomes");
    assert_eq!(first.export, second.export, "batched and single runs give different logs");
});

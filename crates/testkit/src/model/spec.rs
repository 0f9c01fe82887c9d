//! Commands as the simulation thinks of them (amounts in cents, times in seconds), and their
//! wire form, spelled in more than one way: the same content may be written with short
//! amounts, another UTC offset or another key order, and must still count as the same command.
//! [`Spec::command`] turns one into the ledger's own [`Command`].

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use memberledger::domain::{Command, Rejection};
use memberledger::Uuid;
use serde_json::Value;

///
/// Fields are the wire form's (`cents` is `amount`, `expires` is `expires_at`); see
/// docs/RULES.md for what each command does.
#[allow(missing_docs)] // The fields are the wire form's, documented there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `enroll`.
    Enroll { tier: Option<String> },
    /// `recharge`.
    Recharge { cents: i64, staff: Option<String> },
    /// `grant_bonus`.
    Grant {
        cents: i64,
        reason: String,
        expires: Option<i64>,
    },
    /// `consume`: `cents` is the list price, before the tier's discount; `external` the part
    /// paid outside the card (`method`, `external`).
    Consume {
        cents: i64,
        staff: Option<String>,
        service: Option<String>,
        external: Option<Ext>,
    },
    /// `refund_consumption` (all that is left when `cents` is `None`).
    Refund {
        consumption: Uuid,
        cents: Option<i64>,
    },
    /// `refund_balance`.
    RefundBalance,
    /// `review_tier`: the tier review of one member as of the command's time.
    ReviewTier,
    /// `change_tier`.
    ChangeTier {
        tier: String,
        reason: Option<String>,
    },
    /// `settle` (all that is owed when `cents` is `None`).
    Settle { to: String, cents: Option<i64> },
    /// `freeze`.
    Freeze { reason: Option<String> },
    /// `unfreeze`.
    Unfreeze { reason: Option<String> },
    /// `redeem_points`, naming what it gave (`service` or `gift`, and `value`) or not.
    RedeemPoints {
        points: u64,
        reason: Option<String>,
        given: Option<Gift>,
    },
    /// `adjust`, a correction by hand: `qty` is cents for principal and bonus, points for
    /// points.
    Adjust {
        balance: Bal,
        credit: bool,
        qty: i64,
        reason: String,
        operator: String,
    },
    /// `purchase_package`: `cash` is paid in cash at the store (else from the balance, any
    /// `external` part outside the card).
    PurchasePackage {
        cents: i64,
        cash: bool,
        service: String,
        sessions: u32,
        expires: Option<i64>,
        staff: Option<String>,
        external: Option<Ext>,
    },
    /// `redeem_session`.
    RedeemSession {
        package: Uuid,
        staff: Option<String>,
    },
    /// `refund_package`.
    RefundPackage {
        package: Uuid,
        reason: Option<String>,
    },
    /// `link_card`.
    LinkCard { card: String },
    /// `report_lost`.
    ReportLost { card: String },
    /// `replace_card`: `card` (lost or old) by `new_card`.
    ReplaceCard { card: String, new_card: String },
    /// `unlink_card`.
    UnlinkCard { card: String },
    /// `authorize`: hold `cents` until `expires` (7 days when `None`).
    Authorize { cents: i64, expires: Option<i64> },
    /// `capture`: `cents` is the list price, before the tier's discount.
    Capture { hold: Uuid, cents: i64 },
    /// `void`.
    Void { hold: Uuid },
    /// `open_balance`: a member moving from another system, with what it held there.
    OpenBalance {
        tier: Option<String>,
        opening: super::OpeningSpec,
    },
    /// `close_period` (headquarters' command, no member): nothing may take effect at or before
    /// `through` from then on.
    ClosePeriod { through: i64 },
    /// `issue_coupon`: a discount or a free session, lapsing at `expires`.
    IssueCoupon {
        offer: Offer,
        reason: String,
        expires: i64,
    },
    /// `grant_package`: free sessions (a package of price zero).
    GrantPackage {
        service: String,
        sessions: u32,
        expires: Option<i64>,
        reason: String,
    },
    /// `consume` naming a `coupon`: `cents` is the list price, before the tier's discount.
    ConsumeCoupon {
        cents: i64,
        coupon: Uuid,
        external: Option<Ext>,
    },
}

/// What an `issue_coupon` offers, in cents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Offer {
    /// A fixed amount off (`amount`).
    Amount(i64),
    /// A percentage off (`percent`, above 0 and below 100 with at most two decimals: kept in
    /// hundredths of a percent, 1 to 9,999), at most `cap`.
    Percent {
        /// The percentage in hundredths (`12.5 %` is 1,250).
        percent_x100: u32,
        /// The most it takes.
        cap: i64,
    },
    /// 满减: `amount` off a charge of at least `threshold`.
    Threshold {
        /// The least charge.
        threshold: i64,
        /// The money off.
        amount: i64,
    },
    /// A free session of this service.
    Session(String),
}

/// A consumption's part paid outside the card: `method`, and how much.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ext {
    /// `cash`, `wechat`, …
    pub method: String,
    /// How much of the charge.
    pub amount: ExtAmount,
}

/// How much of a charge is paid outside the card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtAmount {
    /// What the card cannot cover (no `external` field).
    Rest,
    /// All of it (`"external":"all"`).
    All,
    /// This many cents.
    Cents(i64),
}

/// What a points redemption gave: a service (else a gift), its name and value in cents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gift {
    /// A service (`service`), else goods (`gift`).
    pub service: bool,
    /// Its name.
    pub item: String,
    /// Its value in cents.
    pub cents: i64,
}

/// The balance an adjustment corrects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bal {
    /// The principal balance.
    Principal,
    /// The bonus balance.
    Bonus,
    /// The points.
    Points,
}

impl Bal {
    /// The balance as the wire form names it.
    pub fn name(self) -> &'static str {
        match self {
            Bal::Principal => "principal",
            Bal::Bonus => "bonus",
            Bal::Points => "points",
        }
    }
}

/// One command: `member` is `None` only for a settlement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The command id (the idempotency key).
    pub id: Uuid,
    /// When, in seconds since the epoch.
    pub at: i64,
    /// The member (`None` for a settlement).
    pub member: Option<String>,
    /// The store it is made at.
    pub store: String,
    /// What it does.
    pub kind: Kind,
}

/// How to write a command's wire form. Every spelling of a spec has the same canonical form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Spelling {
    /// `"1000"` for `"1000.00"`, `"12.5"` for `"12.50"`.
    pub short_amounts: bool,
    /// Times at UTC+08:00 rather than with a `Z`.
    pub offset_time: bool,
    /// Keys rotated by this much (0: the usual order).
    pub rotate: usize,
}

/// Seconds since the epoch as RFC 3339 with a `Z`.
pub fn time(secs: i64) -> String {
    utc(secs).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn utc(secs: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(secs, 0).expect("simulated times are in range")
}

/// Seconds since the epoch as the ledger's `Timestamp`.
pub fn timestamp(secs: i64) -> memberledger::Timestamp {
    memberledger::Timestamp::from_datetime(utc(secs)).expect("simulated times are in range")
}

fn time_spelled(secs: i64, offset: bool) -> String {
    if offset {
        let east = FixedOffset::east_opt(8 * 3600).expect("a valid offset");
        utc(secs)
            .with_timezone(&east)
            .to_rfc3339_opts(SecondsFormat::Secs, false)
    } else {
        time(secs)
    }
}

/// Cents as an amount with two decimals.
pub fn money(cents: i64) -> String {
    assert!(cents >= 0, "amounts are not negative");
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn money_spelled(cents: i64, short: bool) -> String {
    match (short, cents % 100) {
        (true, 0) => format!("{}", cents / 100),
        (true, c) if c % 10 == 0 => format!("{}.{}", cents / 100, c / 10),
        _ => money(cents),
    }
}

impl Kind {
    /// The wire form's `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Enroll { .. } => "enroll",
            Kind::Recharge { .. } => "recharge",
            Kind::Grant { .. } => "grant_bonus",
            Kind::Consume { .. } => "consume",
            Kind::Refund { .. } => "refund_consumption",
            Kind::RefundBalance => "refund_balance",
            Kind::ReviewTier => "review_tier",
            Kind::ChangeTier { .. } => "change_tier",
            Kind::Settle { .. } => "settle",
            Kind::Freeze { .. } => "freeze",
            Kind::Unfreeze { .. } => "unfreeze",
            Kind::RedeemPoints { .. } => "redeem_points",
            Kind::Adjust { .. } => "adjust",
            Kind::PurchasePackage { .. } => "purchase_package",
            Kind::RedeemSession { .. } => "redeem_session",
            Kind::RefundPackage { .. } => "refund_package",
            Kind::OpenBalance { .. } => "open_balance",
            Kind::LinkCard { .. } => "link_card",
            Kind::ReportLost { .. } => "report_lost",
            Kind::ReplaceCard { .. } => "replace_card",
            Kind::UnlinkCard { .. } => "unlink_card",
            Kind::Authorize { .. } => "authorize",
            Kind::Capture { .. } => "capture",
            Kind::Void { .. } => "void",
            Kind::ClosePeriod { .. } => "close_period",
            Kind::IssueCoupon { .. } => "issue_coupon",
            Kind::GrantPackage { .. } => "grant_package",
            Kind::ConsumeCoupon { .. } => "consume",
        }
    }
}

impl Spec {
    /// Same content: everything but the id (what the ledger's idempotency compares).
    pub fn same_content(&self, other: &Spec) -> bool {
        self.at == other.at
            && self.member == other.member
            && self.store == other.store
            && self.kind == other.kind
    }

    /// The member stream the command goes to (`@stores` for settlements, `@policy` for a
    /// period's close).
    pub fn stream(&self) -> &str {
        match (&self.member, &self.kind) {
            (Some(m), _) => m,
            (None, Kind::ClosePeriod { .. }) => "@policy",
            (None, _) => "@stores",
        }
    }

    /// The wire fields, in the usual order.
    pub fn fields(&self, sp: Spelling) -> Vec<(String, Value)> {
        let mut f: Vec<(String, Value)> = vec![
            ("id".into(), self.id.to_string().into()),
            ("at".into(), time_spelled(self.at, sp.offset_time).into()),
            ("type".into(), self.kind.type_name().into()),
        ];
        if let Some(m) = &self.member {
            f.push(("member".into(), m.clone().into()));
        }
        f.push(("store".into(), self.store.clone().into()));
        self.kind.fields(&mut Fields { f: &mut f, sp });
        let n = f.len();
        f.rotate_left(sp.rotate % n);
        f
    }

    /// The wire form, spelled as `sp` says.
    pub fn render(&self, sp: Spelling) -> String {
        render_fields(&self.fields(sp))
    }

    /// The command as the ledger's own type (read from its usual wire form, so a spec the
    /// ledger would refuse as malformed gives that rejection).
    pub fn command(&self) -> Result<Command, Rejection> {
        Command::from_json(&self.render(Spelling::default()))
    }
}

/// The fields of a wire form being written, in order.
struct Fields<'a> {
    f: &'a mut Vec<(String, Value)>,
    sp: Spelling,
}

impl Fields<'_> {
    fn put(&mut self, k: &str, v: impl Into<Value>) {
        self.f.push((k.to_owned(), v.into()));
    }

    fn opt<V: Into<Value>>(&mut self, k: &str, v: Option<V>) {
        if let Some(v) = v {
            self.put(k, v);
        }
    }

    fn amount(&mut self, k: &str, cents: Option<i64>) {
        let short = self.sp.short_amounts;
        self.opt(k, cents.map(|c| money_spelled(c, short)));
    }

    fn time(&mut self, k: &str, secs: Option<i64>) {
        let offset = self.sp.offset_time;
        self.opt(k, secs.map(|t| time_spelled(t, offset)));
    }
}

impl Kind {
    /// Writes the fields after `store`: balance commands here, the rest in `other_fields`.
    fn fields(&self, f: &mut Fields<'_>) {
        match self {
            Kind::Enroll { tier } => f.opt("tier", tier.clone()),
            Kind::Recharge { cents, staff } => {
                f.amount("amount", Some(*cents));
                f.opt("staff", staff.clone());
            }
            Kind::Grant {
                cents,
                reason,
                expires,
            } => {
                f.amount("amount", Some(*cents));
                f.put("reason", reason.clone());
                f.time("expires_at", *expires);
            }
            Kind::Consume {
                cents,
                staff,
                service,
                external,
            } => {
                f.amount("amount", Some(*cents));
                f.opt("staff", staff.clone());
                f.opt("service", service.clone());
                if let Some(x) = external {
                    f.put("method", x.method.clone());
                    match x.amount {
                        ExtAmount::Rest => {}
                        ExtAmount::All => f.put("external", "all"),
                        ExtAmount::Cents(c) => f.amount("external", Some(c)),
                    }
                }
            }
            Kind::Refund { consumption, cents } => {
                f.put("consumption", consumption.to_string());
                f.amount("amount", *cents);
            }
            Kind::RefundBalance | Kind::ReviewTier => {}
            Kind::Settle { to, cents } => {
                f.put("to", to.clone());
                f.amount("amount", *cents);
            }
            Kind::Adjust {
                balance,
                credit,
                qty,
                reason,
                operator,
            } => {
                f.put("balance", balance.name());
                f.put("direction", if *credit { "credit" } else { "debit" });
                if *balance == Bal::Points {
                    f.put("points", *qty);
                } else {
                    f.amount("amount", Some(*qty));
                }
                f.put("reason", reason.clone());
                f.put("operator", operator.clone());
            }
            _ => self.other_fields(f),
        }
    }

    /// Writes the fields of standing and package commands.
    fn other_fields(&self, f: &mut Fields<'_>) {
        match self {
            Kind::ChangeTier { tier, reason } => {
                f.put("tier", tier.clone());
                f.opt("reason", reason.clone());
            }
            Kind::Freeze { reason } | Kind::Unfreeze { reason } => f.opt("reason", reason.clone()),
            Kind::RedeemPoints {
                points,
                reason,
                given,
            } => {
                f.put("points", *points);
                f.opt("reason", reason.clone());
                if let Some(g) = given {
                    f.put(if g.service { "service" } else { "gift" }, g.item.clone());
                    f.amount("value", Some(g.cents));
                }
            }
            Kind::PurchasePackage {
                cents,
                cash,
                service,
                sessions,
                expires,
                staff,
                external,
            } => {
                f.amount("amount", Some(*cents));
                f.put("paid_from", if *cash { "cash" } else { "balance" });
                f.put("service", service.clone());
                f.put("sessions", *sessions);
                f.time("expires_at", *expires);
                f.opt("staff", staff.clone());
                if let Some(x) = external {
                    f.put("method", x.method.clone());
                    match x.amount {
                        ExtAmount::Rest => {}
                        ExtAmount::All => f.put("external", "all"),
                        ExtAmount::Cents(c) => f.amount("external", Some(c)),
                    }
                }
            }
            Kind::RedeemSession { package, staff } => {
                f.put("package", package.to_string());
                f.opt("staff", staff.clone());
            }
            Kind::RefundPackage { package, reason } => {
                f.put("package", package.to_string());
                f.opt("reason", reason.clone());
            }
            Kind::OpenBalance { tier, opening } => {
                f.opt("tier", tier.clone());
                f.put("opening", opening.to_value());
            }
            Kind::LinkCard { card } | Kind::ReportLost { card } | Kind::UnlinkCard { card } => {
                f.put("card", card.clone());
            }
            Kind::ReplaceCard { card, new_card } => {
                f.put("card", card.clone());
                f.put("new_card", new_card.clone());
            }
            Kind::Authorize { cents, expires } => {
                f.amount("amount", Some(*cents));
                f.time("expires_at", *expires);
            }
            Kind::Capture { hold, cents } => {
                f.put("hold", hold.to_string());
                f.amount("amount", Some(*cents));
            }
            Kind::Void { hold } => f.put("hold", hold.to_string()),
            Kind::ClosePeriod { through } => f.time("through", Some(*through)),
            Kind::IssueCoupon { .. } | Kind::GrantPackage { .. } | Kind::ConsumeCoupon { .. } => {
                self.coupon_fields(f);
            }
            _ => unreachable!("fields() writes the balance commands"),
        }
    }
}

impl Kind {
    /// Writes the fields of the coupon commands.
    fn coupon_fields(&self, f: &mut Fields<'_>) {
        match self {
            Kind::IssueCoupon {
                offer,
                reason,
                expires,
            } => {
                match offer {
                    Offer::Amount(a) => f.amount("amount", Some(*a)),
                    Offer::Percent { percent_x100, cap } => {
                        let percent =
                            memberledger::domain::Decimal::new(i64::from(*percent_x100), 2);
                        f.put("percent", percent.normalize().to_string());
                        f.amount("cap", Some(*cap));
                    }
                    Offer::Threshold { threshold, amount } => {
                        f.amount("threshold", Some(*threshold));
                        f.amount("amount", Some(*amount));
                    }
                    Offer::Session(service) => f.put("service", service.clone()),
                }
                f.put("reason", reason.clone());
                f.time("expires_at", Some(*expires));
            }
            Kind::GrantPackage {
                service,
                sessions,
                expires,
                reason,
            } => {
                f.put("service", service.clone());
                f.put("sessions", *sessions);
                f.time("expires_at", *expires);
                f.put("reason", reason.clone());
            }
            Kind::ConsumeCoupon {
                cents,
                coupon,
                external,
            } => {
                f.amount("amount", Some(*cents));
                f.put("coupon", coupon.to_string());
                if let Some(x) = external {
                    f.put("method", x.method.clone());
                    match x.amount {
                        ExtAmount::Rest => {}
                        ExtAmount::All => f.put("external", "all"),
                        ExtAmount::Cents(c) => f.amount("external", Some(c)),
                    }
                }
            }
            _ => {}
        }
    }
}

/// A JSON object from fields in the given order.
pub fn render_fields(fields: &[(String, Value)]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), v))
        .collect();
    format!("{{{}}}", parts.join(","))
}

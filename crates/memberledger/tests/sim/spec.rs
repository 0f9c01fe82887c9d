//! Commands as the simulation thinks of them (amounts in cents, times in seconds), and their
//! wire form, spelled in more than one way: the same content may be written with short
//! amounts, another UTC offset or another key order, and must still count as the same command.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use memberledger::Uuid;
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Enroll {
        tier: Option<String>,
    },
    Recharge {
        cents: i64,
        staff: Option<String>,
    },
    Grant {
        cents: i64,
        reason: String,
        expires: Option<i64>,
    },
    Consume {
        cents: i64,
        staff: Option<String>,
        service: Option<String>,
    },
    Refund {
        consumption: Uuid,
        cents: Option<i64>,
    },
    RefundBalance,
    ChangeTier {
        tier: String,
        reason: Option<String>,
    },
    Settle {
        to: String,
        cents: Option<i64>,
    },
    Freeze {
        reason: Option<String>,
    },
    Unfreeze {
        reason: Option<String>,
    },
    RedeemPoints {
        points: u64,
        reason: Option<String>,
    },
    /// A correction by hand: `qty` is cents for principal and bonus, points for points.
    Adjust {
        balance: Bal,
        credit: bool,
        qty: i64,
        reason: String,
        operator: String,
    },
    PurchasePackage {
        cents: i64,
        /// Paid in cash at the store (else from the balance).
        cash: bool,
        service: String,
        sessions: u32,
        expires: Option<i64>,
        staff: Option<String>,
    },
    RedeemSession {
        package: Uuid,
        staff: Option<String>,
    },
    RefundPackage {
        package: Uuid,
        reason: Option<String>,
    },
}

/// The balance an adjustment corrects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bal {
    Principal,
    Bonus,
    Points,
}

impl Bal {
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
    pub id: Uuid,
    pub at: i64,
    pub member: Option<String>,
    pub store: String,
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
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Enroll { .. } => "enroll",
            Kind::Recharge { .. } => "recharge",
            Kind::Grant { .. } => "grant_bonus",
            Kind::Consume { .. } => "consume",
            Kind::Refund { .. } => "refund_consumption",
            Kind::RefundBalance => "refund_balance",
            Kind::ChangeTier { .. } => "change_tier",
            Kind::Settle { .. } => "settle",
            Kind::Freeze { .. } => "freeze",
            Kind::Unfreeze { .. } => "unfreeze",
            Kind::RedeemPoints { .. } => "redeem_points",
            Kind::Adjust { .. } => "adjust",
            Kind::PurchasePackage { .. } => "purchase_package",
            Kind::RedeemSession { .. } => "redeem_session",
            Kind::RefundPackage { .. } => "refund_package",
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

    /// The member stream the command goes to (`@stores` for settlements).
    pub fn stream(&self) -> &str {
        self.member.as_deref().unwrap_or("@stores")
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
        let amount = |c: i64| Value::from(money_spelled(c, sp.short_amounts));
        let opt = |f: &mut Vec<(String, Value)>, k: &str, v: Option<Value>| {
            if let Some(v) = v {
                f.push((k.to_owned(), v));
            }
        };
        match &self.kind {
            Kind::Enroll { tier } => opt(&mut f, "tier", tier.clone().map(Value::from)),
            Kind::Recharge { cents, staff } => {
                opt(&mut f, "amount", Some(amount(*cents)));
                opt(&mut f, "staff", staff.clone().map(Value::from));
            }
            Kind::Grant {
                cents,
                reason,
                expires,
            } => {
                opt(&mut f, "amount", Some(amount(*cents)));
                opt(&mut f, "reason", Some(reason.clone().into()));
                opt(
                    &mut f,
                    "expires_at",
                    expires.map(|e| time_spelled(e, sp.offset_time).into()),
                );
            }
            Kind::Consume {
                cents,
                staff,
                service,
            } => {
                opt(&mut f, "amount", Some(amount(*cents)));
                opt(&mut f, "staff", staff.clone().map(Value::from));
                opt(&mut f, "service", service.clone().map(Value::from));
            }
            Kind::Refund { consumption, cents } => {
                opt(&mut f, "consumption", Some(consumption.to_string().into()));
                opt(&mut f, "amount", cents.map(amount));
            }
            Kind::RefundBalance => {}
            Kind::ChangeTier { tier, reason } => {
                opt(&mut f, "tier", Some(tier.clone().into()));
                opt(&mut f, "reason", reason.clone().map(Value::from));
            }
            Kind::Settle { to, cents } => {
                opt(&mut f, "to", Some(to.clone().into()));
                opt(&mut f, "amount", cents.map(amount));
            }
            Kind::Freeze { reason } | Kind::Unfreeze { reason } => {
                opt(&mut f, "reason", reason.clone().map(Value::from));
            }
            Kind::RedeemPoints { points, reason } => {
                opt(&mut f, "points", Some((*points).into()));
                opt(&mut f, "reason", reason.clone().map(Value::from));
            }
            Kind::Adjust {
                balance,
                credit,
                qty,
                reason,
                operator,
            } => {
                opt(&mut f, "balance", Some(balance.name().into()));
                let direction = if *credit { "credit" } else { "debit" };
                opt(&mut f, "direction", Some(direction.into()));
                if *balance == Bal::Points {
                    opt(&mut f, "points", Some((*qty).into()));
                } else {
                    opt(&mut f, "amount", Some(amount(*qty)));
                }
                opt(&mut f, "reason", Some(reason.clone().into()));
                opt(&mut f, "operator", Some(operator.clone().into()));
            }
            Kind::PurchasePackage {
                cents,
                cash,
                service,
                sessions,
                expires,
                staff,
            } => {
                opt(&mut f, "amount", Some(amount(*cents)));
                let paid = if *cash { "cash" } else { "balance" };
                opt(&mut f, "paid_from", Some(paid.into()));
                opt(&mut f, "service", Some(service.clone().into()));
                opt(&mut f, "sessions", Some((*sessions).into()));
                opt(
                    &mut f,
                    "expires_at",
                    expires.map(|e| time_spelled(e, sp.offset_time).into()),
                );
                opt(&mut f, "staff", staff.clone().map(Value::from));
            }
            Kind::RedeemSession { package, staff } => {
                opt(&mut f, "package", Some(package.to_string().into()));
                opt(&mut f, "staff", staff.clone().map(Value::from));
            }
            Kind::RefundPackage { package, reason } => {
                opt(&mut f, "package", Some(package.to_string().into()));
                opt(&mut f, "reason", reason.clone().map(Value::from));
            }
        }
        let n = f.len();
        f.rotate_left(sp.rotate % n);
        f
    }

    pub fn render(&self, sp: Spelling) -> String {
        render_fields(&self.fields(sp))
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

//! Commands: what a caller asks the ledger to do, and their wire form (one JSON object).

mod build;
mod coupon;
mod opening;
mod validate;
mod wire;

pub use build::CommandBuilder;
pub use coupon::CouponOffer;
pub use opening::{
    Opening, OpeningBonus, OpeningPackage, OpeningPoints, OpeningPrincipal, OPENING_ENTRIES_MAX,
};

use wire::{invalid, Wire};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::Rejection;
use crate::id::{MemberId, StaffId, StoreId};
use crate::money::Money;
use crate::time::Timestamp;

/// The longest free-text field (`reason`, `service`), in characters.
pub const TEXT_LEN_MAX: usize = 128;

/// The most points one command may redeem.
pub const POINTS_MAX: u64 = 1_000_000_000;

/// The most sessions one package may hold.
pub const SESSIONS_MAX: u32 = 1_000;

/// Days a hold lives when `authorize` gives no `expires_at`.
pub const HOLD_EXPIRY_DAYS: u32 = 7;

/// The longest command line accepted on the wire, in bytes.
pub const COMMAND_LINE_MAX: usize = 16 * 1024;

/// A command: who, when, where, and what to do.
///
/// `id` is the caller's idempotency key; `at` is the caller's time (the core reads no clock).
///
/// Make one with [`Command::build`] (checked, like [`Command::from_json`]) or parse its JSON
/// form; it cannot be written as a literal outside this crate (it may grow).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Command {
    /// Idempotency key, chosen by the caller.
    pub id: Uuid,
    /// When the command happens.
    pub at: Timestamp,
    /// The member it is about.
    pub member: MemberId,
    /// The store where it happens.
    pub store: StoreId,
    /// The card presented (its number, as given): the subject of a card command, else the card
    /// a member's command was made with. A command may name a card instead of a member
    /// (`member` is then [`MemberId::by_card`] until the ledger resolves it).
    pub card: Option<String>,
    /// What to do.
    pub action: Action,
}

/// What a command does.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Opens a card, in the given tier or the lowest.
    Enroll {
        /// Starting tier; the policy's lowest when absent.
        tier: Option<String>,
    },
    /// The member pays cash into the card.
    Recharge {
        /// Paid in.
        amount: Money,
        /// Who took the payment.
        staff: Option<StaffId>,
    },
    /// Manual, birthday or campaign credit.
    GrantBonus {
        /// Credit given.
        amount: Money,
        /// Why (free text, no personal data).
        reason: String,
        /// When it lapses; the policy's `bonus_expiry_days` from `at` when absent.
        expires_at: Option<Timestamp>,
    },
    /// The member pays for a service: from the card, or partly or wholly outside it.
    Consume {
        /// List price, before the tier discount.
        amount: Money,
        /// Who served.
        staff: Option<StaffId>,
        /// What was served.
        service: Option<String>,
        /// The part paid outside the card, and how; absent: the card pays it all.
        external: Option<ExternalPay>,
        /// A coupon of the member's to take money off the charge (one a visit).
        coupon: Option<Uuid>,
    },
    /// Gives back all or part of a consumption to the card.
    RefundConsumption {
        /// The id of the `consume` command.
        consumption: Uuid,
        /// Part of the charged amount; all that is left when absent.
        amount: Option<Money>,
    },
    /// 退卡: pays out the remaining principal and closes the balance.
    RefundBalance,
    /// Moves the member to a tier by hand.
    ChangeTier {
        /// The new tier.
        tier: String,
        /// Why.
        reason: Option<String>,
    },
    /// The command's store (the debtor) pays another store what it owes it, or part of it.
    /// Not about a member: recorded in the settlements stream.
    Settle {
        /// The store paid (the creditor).
        to: StoreId,
        /// How much; all that is outstanding when absent.
        amount: Option<Money>,
    },
    /// Freezes the card (a lost card): spending is refused until it is unfrozen.
    Freeze {
        /// Why.
        reason: Option<String>,
    },
    /// Unfreezes the card.
    Unfreeze {
        /// Why.
        reason: Option<String>,
    },
    /// Spends points (for a service or a gift).
    RedeemPoints {
        /// Points to spend, at least 1.
        points: u64,
        /// What for.
        reason: Option<String>,
        /// What was given for them and its value, booked as a loyalty expense; absent: not
        /// named (nothing is booked).
        given: Option<crate::event::Given>,
    },
    /// Records the expiries due at the command's time and nothing else (the sweep).
    Expire,
    /// Reviews the member's tier as of the command's time by the policy's retain rules (the
    /// tier review's sweep): keeps it, or lowers it with a `tier_changed` (`review:downgrade`).
    /// A review that would keep the tier records nothing (`invalid_command`).
    ReviewTier,
    /// Corrects a balance by hand, without editing history: a credit opens a lot, a debit
    /// draws lots like a consumption would.
    Adjust {
        /// Which balance.
        balance: Balance,
        /// Credit (to the member) or debit.
        direction: Direction,
        /// The money moved (principal and bonus).
        amount: Option<Money>,
        /// The points moved (points).
        points: Option<u64>,
        /// Why (mandatory).
        reason: String,
        /// Who made the correction (mandatory).
        operator: StaffId,
        /// What it corrects: an event id or a command id (a correction after a period was
        /// closed names what it corrects in the closed period).
        corrects: Option<Uuid>,
    },
    /// Buys a package (次卡/疗程卡): `sessions` sessions of a service for `amount`, paid in cash
    /// at the command's store or from the stored balance. The package is known by this
    /// command's id.
    PurchasePackage {
        /// The price of the whole package.
        amount: Money,
        /// How it is paid.
        paid_from: PaidFrom,
        /// The service the sessions are of.
        service: String,
        /// How many sessions, 1 to [`SESSIONS_MAX`].
        sessions: u32,
        /// When unredeemed sessions lapse; never when absent.
        expires_at: Option<Timestamp>,
        /// Who sold it.
        staff: Option<StaffId>,
        /// With `paid_from` balance: the part paid outside the card, and how (wire: `method`,
        /// `external`); `None` when the balance pays it all.
        external: Option<ExternalPay>,
    },
    /// Redeems one session of a package, at any store of the chain.
    RedeemSession {
        /// The id of the `purchase_package` command.
        package: Uuid,
        /// Who served.
        staff: Option<StaffId>,
    },
    /// Refunds the unredeemed sessions of a package, to cash or to the balance as the policy's
    /// `packages.refund_to` says.
    RefundPackage {
        /// The id of the `purchase_package` command.
        package: Uuid,
        /// Why.
        reason: Option<String>,
    },
    /// Enrolls a member moving from another system with what it held there (its opening
    /// balance): principal, bonus and point lots, packages. Recorded as `member_enrolled` then
    /// `balance_opened`, booked against `Equity:OpeningBalances:<origin store>`. The command's
    /// store is the home store.
    OpenBalance {
        /// Starting tier; the policy's lowest when absent.
        tier: Option<String>,
        /// What the member held.
        opening: Box<Opening>,
    },
    /// Links the command's `card` to the member (a card belongs to at most one member).
    LinkCard,
    /// Reports the command's `card` lost: it is refused wherever it is named from then on;
    /// the member's balance stays usable by member id or another card.
    ReportLost {
        /// Why.
        reason: Option<String>,
    },
    /// Replaces the command's `card` (lost or old) by `new_card`, in one event.
    ReplaceCard {
        /// The new card's number.
        new_card: String,
    },
    /// Unlinks the command's `card` from the member (it may then be linked again).
    UnlinkCard,
    /// Holds `amount` of the member's balance for the command's store until `expires_at`
    /// (the hold is known by this command's id). Nothing is booked until it is captured.
    Authorize {
        /// The money held.
        amount: Money,
        /// When the hold lapses; [`HOLD_EXPIRY_DAYS`] after `at` when absent.
        expires_at: Option<Timestamp>,
    },
    /// Captures a hold: a consumption at list price `amount` (charged at the tier's discount,
    /// at most what is held, split by the spend order now); the rest of the hold is released.
    Capture {
        /// The id of the `authorize` command.
        hold: Uuid,
        /// List price, before the tier discount.
        amount: Money,
        /// Who served.
        staff: Option<StaffId>,
        /// What was served.
        service: Option<String>,
    },
    /// Releases a hold whole.
    Void {
        /// The id of the `authorize` command.
        hold: Uuid,
        /// Why.
        reason: Option<String>,
    },
    /// Publishes a new policy version, in force for commands at or after the command's time.
    /// Not about a member: recorded in the policy stream.
    PublishPolicy {
        /// The new rules, validated.
        policy: Box<crate::policy::Policy>,
    },
    /// Issues a coupon to the member, known by this command's id: money off a later visit
    /// (redeemed by `consume`'s `coupon`), or a free session of a service (granted at once as
    /// a package of price zero).
    IssueCoupon {
        /// What it offers.
        offer: CouponOffer,
        /// The campaign or reason (新人礼券, a 满减 campaign, …).
        reason: String,
        /// When it lapses.
        expires_at: Timestamp,
    },
    /// Grants a package of free sessions (price zero), known by this command's id, redeemed
    /// with `redeem_session` like a bought one; its sessions book no revenue.
    GrantPackage {
        /// The service the sessions are of.
        service: String,
        /// How many sessions, 1 to [`SESSIONS_MAX`].
        sessions: u32,
        /// When unredeemed sessions lapse; never when absent.
        expires_at: Option<Timestamp>,
        /// Why (a reward, a campaign).
        reason: String,
    },
    /// Closes every period through `through`: no later command may take effect at or
    /// before it. Not about a member: recorded in the policy stream.
    ClosePeriod {
        /// The last instant of the closed period, at or before the command's time.
        through: Timestamp,
    },
}

/// The part of a charge paid outside the card (`consume`'s and `purchase_package`'s `method`
/// and `external`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExternalPay {
    /// How: `cash`, `wechat`, `alipay`, `bank_card`, … (1 to 32 characters of `[a-z0-9_]`).
    pub method: String,
    /// How much of the charge.
    pub amount: ExternalAmount,
}

impl ExternalPay {
    /// The part paid by `method`, `amount` of it.
    pub fn new(method: impl Into<String>, amount: ExternalAmount) -> ExternalPay {
        ExternalPay {
            method: method.into(),
            amount,
        }
    }
}

/// How much of a charge is paid outside the card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternalAmount {
    /// What the card cannot cover (nothing when it covers all): the wire form leaves
    /// `external` out.
    Rest,
    /// All of it: a visit with no card money (`"external":"all"`).
    All,
    /// This much (at most the charge); the card pays the rest.
    Fixed(Money),
}

/// How a package is paid for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaidFrom {
    /// Cash at the command's store.
    Cash,
    /// The member's stored balance, split between principal and bonus by the spend order.
    Balance,
}

/// A member balance an adjustment corrects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Balance {
    /// Principal.
    Principal,
    /// Bonus.
    Bonus,
    /// Points.
    Points,
}

/// Which way an adjustment moves a balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The member's balance goes up.
    Credit,
    /// The member's balance goes down.
    Debit,
}

impl Action {
    /// Whether deciding it reads the member's refundable-consumption records: a caller that
    /// caches members without them (see [`crate::MemberState::without_consumption_records`])
    /// gathers a state folded with them into the [`crate::Context`].
    pub fn needs_consumption_records(&self) -> bool {
        matches!(self, Action::RefundConsumption { .. })
    }

    /// Whether it is about the command's `card` itself (linking, losing, replacing,
    /// unlinking) rather than made with it.
    pub fn is_card_action(&self) -> bool {
        matches!(
            self,
            Action::LinkCard
                | Action::ReportLost { .. }
                | Action::ReplaceCard { .. }
                | Action::UnlinkCard
        )
    }

    /// Whether deciding it reads the card directory (a card becomes another member's).
    pub fn links_a_card(&self) -> bool {
        matches!(self, Action::LinkCard | Action::ReplaceCard { .. })
    }

    /// The wire name of the action.
    pub fn type_name(&self) -> &'static str {
        match self {
            Action::Enroll { .. } => "enroll",
            Action::Recharge { .. } => "recharge",
            Action::GrantBonus { .. } => "grant_bonus",
            Action::Consume { .. } => "consume",
            Action::RefundConsumption { .. } => "refund_consumption",
            Action::RefundBalance => "refund_balance",
            Action::ChangeTier { .. } => "change_tier",
            Action::Settle { .. } => "settle",
            Action::Freeze { .. } => "freeze",
            Action::Unfreeze { .. } => "unfreeze",
            Action::RedeemPoints { .. } => "redeem_points",
            Action::Expire => "expire",
            Action::ReviewTier => "review_tier",
            Action::Adjust { .. } => "adjust",
            Action::PurchasePackage { .. } => "purchase_package",
            Action::RedeemSession { .. } => "redeem_session",
            Action::RefundPackage { .. } => "refund_package",
            Action::PublishPolicy { .. } => "publish_policy",
            Action::ClosePeriod { .. } => "close_period",
            Action::OpenBalance { .. } => "open_balance",
            Action::LinkCard => "link_card",
            Action::ReportLost { .. } => "report_lost",
            Action::ReplaceCard { .. } => "replace_card",
            Action::UnlinkCard => "unlink_card",
            Action::Authorize { .. } => "authorize",
            Action::Capture { .. } => "capture",
            Action::Void { .. } => "void",
            Action::IssueCoupon { .. } => "issue_coupon",
            Action::GrantPackage { .. } => "grant_package",
        }
    }
}

/// Checks free text: 1-128 characters, no control characters.
pub fn validate_text(field: &str, s: &str) -> Result<(), Rejection> {
    let n = s.chars().count();
    if n == 0 || n > TEXT_LEN_MAX {
        return Err(invalid(format!(
            "{field} must be 1-{TEXT_LEN_MAX} characters"
        )));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(format!("{field} has a control character")));
    }
    Ok(())
}

impl Command {
    /// The command's canonical JSON: its wire form with sorted keys and no spaces.
    pub fn to_json(&self) -> String {
        // `Wire` declares its fields in sorted order, and a policy is a sorted JSON value.
        serde_json::to_string(&self.to_wire()).expect("wire serialises")
    }

    /// SHA-256 of the canonical JSON: what idempotency compares.
    pub fn digest(&self) -> [u8; 32] {
        thread_local! {
            /// Each thread's buffer for the JSON a digest hashes: written again for every
            /// command, never allocated afresh.
            static JSON: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        JSON.with_borrow_mut(|json| {
            json.clear();
            serde_json::to_writer(&mut *json, &self.to_wire()).expect("wire serialises");
            Sha256::digest(json.as_slice()).into()
        })
    }
}

impl Serialize for Command {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_wire().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Command, D::Error> {
        let w = Wire::deserialize(d)?;
        Command::from_wire(w).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "6f1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10";

    fn line(rest: &str) -> String {
        format!(r#"{{"id":"{ID}","at":"2026-03-01T10:00:00Z","member":"M1","store":"S1",{rest}}}"#)
    }

    #[test]
    fn round_trips_every_type_through_canonical_json() {
        for rest in [
            r#""type":"enroll","tier":"gold""#,
            r#""type":"recharge","amount":"1000","staff":"E7""#,
            r#""type":"grant_bonus","amount":"50.00","reason":"birthday","expires_at":"2026-12-31T23:59:59Z""#,
            r#""type":"consume","amount":"300.00","staff":"E9","service":"facial""#,
            r#""type":"refund_consumption","consumption":"7a1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10","amount":"100.00""#,
            r#""type":"refund_balance""#,
            r#""type":"change_tier","tier":"gold","reason":"vip""#,
        ] {
            let c = Command::from_json(&line(rest)).unwrap();
            let again = Command::from_json(&c.to_json()).unwrap();
            assert_eq!(c, again);
            assert_eq!(c.to_json(), again.to_json());
        }
    }

    #[test]
    fn canonical_json_has_sorted_keys() {
        let c = Command::from_json(&line(
            r#""type":"purchase_package","service":"massage","sessions":3,"amount":"100.00","paid_from":"cash","staff":"E1","expires_at":"2026-09-01T00:00:00Z""#,
        ))
        .unwrap();
        let json = c.to_json();
        let sorted: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(sorted.to_string(), json);
    }

    #[test]
    fn rejects_unknown_and_misplaced_fields() {
        let e = Command::from_json(&line(r#""type":"refund_balance","colour":"red""#)).unwrap_err();
        assert_eq!(e.code(), "invalid_command");
        let e =
            Command::from_json(&line(r#""type":"refund_balance","amount":"1.00""#)).unwrap_err();
        assert_eq!(e.code(), "invalid_command");
        assert!(e.to_string().contains("amount"), "{e}");
    }

    #[test]
    fn rejects_bad_values_with_their_codes() {
        for (rest, code) in [
            (r#""type":"recharge""#, "invalid_command"),
            (r#""type":"recharge","amount":"-5.00""#, "invalid_amount"),
            (r#""type":"recharge","amount":"0""#, "invalid_amount"),
            (r#""type":"recharge","amount":100"#, "invalid_command"),
            (
                r#""type":"recharge","amount":"1.00","staff":"a b""#,
                "invalid_id",
            ),
            (r#""type":"teleport""#, "invalid_command"),
            (
                r#""type":"consume","amount":"1.00","service":"""#,
                "invalid_command",
            ),
            (r#""type":"enroll","tier":"gold plus""#, "invalid_id"),
            (r#""type":"change_tier","tier":"""#, "invalid_id"),
        ] {
            let e = Command::from_json(&line(rest)).unwrap_err();
            assert_eq!(e.code(), code, "{rest}: {e}");
        }
        let bad_member = format!(
            r#"{{"id":"{ID}","at":"2026-03-01T10:00:00Z","member":"M 1","store":"S1","type":"refund_balance"}}"#
        );
        assert_eq!(
            Command::from_json(&bad_member).unwrap_err().code(),
            "invalid_id"
        );
        let bad_time = format!(
            r#"{{"id":"{ID}","at":"yesterday","member":"M1","store":"S1","type":"refund_balance"}}"#
        );
        assert_eq!(
            Command::from_json(&bad_time).unwrap_err().code(),
            "invalid_command"
        );
        assert_eq!(
            Command::from_json("{not json").unwrap_err().code(),
            "invalid_command"
        );
        assert_eq!(
            Command::from_json("[]").unwrap_err().code(),
            "invalid_command"
        );
    }
}

//! Checked builders of commands: the integrator's way to make a command without writing its
//! JSON. A builder fills the same wire form [`Command::from_json`] reads and ends the same way,
//! so a built command is checked exactly as a parsed one is (same rules, same codes).

use uuid::Uuid;

use super::wire::Wire;
use super::{Action, Balance, Command, CouponOffer, Direction, PaidFrom};
use crate::error::Rejection;
use crate::id::{MemberId, StoreId};
use crate::money::Money;
use crate::policy::Policy;
use crate::time::Timestamp;

/// A command being built: its id, time and store, the member for a member's command, and the
/// optional fields; a terminal method names the action and checks the whole command.
///
/// ```
/// use memberledger_core::{Command, Money, Timestamp};
/// let at: Timestamp = "2026-03-01T10:05:00Z".parse().unwrap();
/// let c = Command::build(Command::new_id(), at, "S1")
///     .member("M1")
///     .staff("E7")
///     .recharge("1000.00".parse::<Money>().unwrap())
///     .unwrap();
/// assert_eq!(c.action.type_name(), "recharge");
/// // Checked as the JSON form is: a zero amount is refused with the same code.
/// let e = Command::build(Command::new_id(), at, "S1").member("M1").recharge(Money::ZERO);
/// assert_eq!(e.unwrap_err().code(), "invalid_amount");
/// ```
#[derive(Debug)]
#[must_use]
pub struct CommandBuilder {
    wire: Wire,
}

impl Command {
    /// Starts a command: its id (the caller's idempotency key: [`Command::new_id`] makes a
    /// fresh one), its time and its store.
    pub fn build(id: Uuid, at: Timestamp, store: &str) -> CommandBuilder {
        CommandBuilder {
            wire: Wire {
                id: Some(id.to_string()),
                at: Some(at.to_string()),
                store: Some(store.to_owned()),
                ..Wire::default()
            },
        }
    }

    /// A command from typed parts, checked with [`Command::validate`] (the rules the wire form
    /// is held to).
    pub fn new(
        id: Uuid,
        at: Timestamp,
        member: MemberId,
        store: StoreId,
        action: Action,
    ) -> Result<Command, Rejection> {
        let command = Command {
            id,
            at,
            member,
            store,
            card: None,
            action,
        };
        command.validate()?;
        Ok(command)
    }

    /// A fresh random command id (UUID v4). Keep it with the command until it is recorded:
    /// sending the same command again with the same id is what makes a retry safe.
    pub fn new_id() -> Uuid {
        Uuid::new_v4()
    }
}

impl CommandBuilder {
    /// The member the command is about (every command but `settle` and `publish_policy`).
    pub fn member(mut self, member: &str) -> Self {
        self.wire.member = Some(member.to_owned());
        self
    }

    /// The card presented: the card a card command is about, or the card any member's command
    /// is made with (the member may then be left out: the ledger resolves it by the card).
    pub fn card(mut self, card: &str) -> Self {
        self.wire.card = Some(card.to_owned());
        self
    }

    /// Who served or took the payment (recharge, consume, packages).
    pub fn staff(mut self, staff: &str) -> Self {
        self.wire.staff = Some(staff.to_owned());
        self
    }

    /// Why (grant_bonus and adjust need one; change_tier, freeze, unfreeze, redeem_points and
    /// refund_package take one).
    pub fn reason(mut self, reason: &str) -> Self {
        self.wire.reason = Some(reason.to_owned());
        self
    }

    /// What was served (consume).
    pub fn service(mut self, service: &str) -> Self {
        self.wire.service = Some(service.to_owned());
        self
    }

    /// When the bonus or the package lapses (grant_bonus, purchase_package).
    pub fn expires_at(mut self, at: Timestamp) -> Self {
        self.wire.expires_at = Some(at.to_string());
        self
    }

    /// The tier to enroll in (enroll; the lowest when not given).
    pub fn tier(mut self, tier: &str) -> Self {
        self.wire.tier = Some(tier.to_owned());
        self
    }

    /// Checks and makes the command of `kind`, as [`Command::from_json`] would.
    fn finish(mut self, kind: &str) -> Result<Command, Rejection> {
        self.wire.kind = Some(kind.to_owned());
        Command::from_wire(self.wire)
    }

    /// Opens a card.
    pub fn enroll(self) -> Result<Command, Rejection> {
        self.finish("enroll")
    }

    /// Pays `amount` in.
    pub fn recharge(mut self, amount: Money) -> Result<Command, Rejection> {
        self.wire.amount = Some(amount.to_string());
        self.finish("recharge")
    }

    /// Grants bonus by hand (needs a [`reason`](Self::reason)).
    pub fn grant_bonus(mut self, amount: Money) -> Result<Command, Rejection> {
        self.wire.amount = Some(amount.to_string());
        self.finish("grant_bonus")
    }

    /// Pays for a service of list price `amount` from the card.
    pub fn consume(mut self, amount: Money) -> Result<Command, Rejection> {
        self.wire.amount = Some(amount.to_string());
        self.finish("consume")
    }

    /// Refunds a consumption (all that is left of it when `amount` is `None`).
    pub fn refund_consumption(
        mut self,
        consumption: Uuid,
        amount: Option<Money>,
    ) -> Result<Command, Rejection> {
        self.wire.consumption = Some(consumption.to_string());
        self.wire.amount = amount.map(|a| a.to_string());
        self.finish("refund_consumption")
    }

    /// Refunds the balance (退卡).
    pub fn refund_balance(self) -> Result<Command, Rejection> {
        self.finish("refund_balance")
    }

    /// Moves the member to `tier` by hand.
    pub fn change_tier(mut self, tier: &str) -> Result<Command, Rejection> {
        self.wire.tier = Some(tier.to_owned());
        self.finish("change_tier")
    }

    /// Links the [`card`](Self::card) to the member.
    pub fn link_card(self) -> Result<Command, Rejection> {
        self.finish("link_card")
    }

    /// Reports the [`card`](Self::card) lost.
    pub fn report_lost(self) -> Result<Command, Rejection> {
        self.finish("report_lost")
    }

    /// Replaces the [`card`](Self::card) by `new_card`.
    pub fn replace_card(mut self, new_card: &str) -> Result<Command, Rejection> {
        self.wire.new_card = Some(new_card.to_owned());
        self.finish("replace_card")
    }

    /// Unlinks the [`card`](Self::card) from the member.
    pub fn unlink_card(self) -> Result<Command, Rejection> {
        self.finish("unlink_card")
    }

    /// Holds `amount` for the command's store until `expires_at` (the default when `None`).
    pub fn authorize(
        mut self,
        amount: Money,
        expires_at: Option<Timestamp>,
    ) -> Result<Command, Rejection> {
        self.wire.amount = Some(amount.to_string());
        self.wire.expires_at = expires_at.map(|t| t.to_string());
        self.finish("authorize")
    }

    /// Captures hold `hold` at list price `amount` (service and staff as for `consume`).
    pub fn capture(mut self, hold: Uuid, amount: Money) -> Result<Command, Rejection> {
        self.wire.hold = Some(hold.to_string());
        self.wire.amount = Some(amount.to_string());
        self.finish("capture")
    }

    /// Releases hold `hold`.
    pub fn void(mut self, hold: Uuid) -> Result<Command, Rejection> {
        self.wire.hold = Some(hold.to_string());
        self.finish("void")
    }

    /// Freezes the card.
    pub fn freeze(self) -> Result<Command, Rejection> {
        self.finish("freeze")
    }

    /// Unfreezes the card.
    pub fn unfreeze(self) -> Result<Command, Rejection> {
        self.finish("unfreeze")
    }

    /// Spends points.
    pub fn redeem_points(mut self, points: u64) -> Result<Command, Rejection> {
        self.wire.points = Some(points);
        self.finish("redeem_points")
    }

    /// Records what is due to expire (the sweep's command).
    pub fn expire(self) -> Result<Command, Rejection> {
        self.finish("expire")
    }

    /// Reviews the member's tier as of the command's time by the policy's retain rules (the
    /// tier review's command; docs/RULES.md §10).
    pub fn review_tier(self) -> Result<Command, Rejection> {
        self.finish("review_tier")
    }

    /// Issues the member a coupon (needs a [`reason`](Self::reason)) lapsing at `expires_at`.
    ///
    /// ```
    /// use memberledger_core::{Command, CouponOffer, Decimal, Money, Timestamp};
    /// let at: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
    /// let offer = CouponOffer::Percent {
    ///     percent: Decimal::new(125, 1), // 12.5 % off
    ///     cap: "30.00".parse::<Money>().unwrap(),
    /// };
    /// let c = Command::build(Command::new_id(), at, "S1")
    ///     .member("M1")
    ///     .reason("新人礼券")
    ///     .issue_coupon(offer, at.plus_days(30))
    ///     .unwrap();
    /// assert_eq!(c.action.type_name(), "issue_coupon");
    /// // Checked as the JSON form is: 100 % off is refused.
    /// let all = CouponOffer::Percent { percent: Decimal::ONE_HUNDRED, cap: Money::from_cents(100) };
    /// let e = Command::build(Command::new_id(), at, "S1").member("M1").reason("x")
    ///     .issue_coupon(all, at.plus_days(30));
    /// assert!(e.is_err());
    /// ```
    pub fn issue_coupon(
        mut self,
        offer: CouponOffer,
        expires_at: Timestamp,
    ) -> Result<Command, Rejection> {
        match offer {
            CouponOffer::Amount(a) => self.wire.amount = Some(a.to_string()),
            CouponOffer::Percent { percent, cap } => {
                self.wire.percent = Some(percent.normalize().to_string());
                self.wire.cap = Some(cap.to_string());
            }
            CouponOffer::Threshold { threshold, amount } => {
                self.wire.threshold = Some(threshold.to_string());
                self.wire.amount = Some(amount.to_string());
            }
            CouponOffer::Session { service } => self.wire.service = Some(service),
        }
        self.wire.expires_at = Some(expires_at.to_string());
        self.finish("issue_coupon")
    }

    /// A visit at list price `amount` that redeems the member's coupon `coupon` (the rest paid
    /// from the card, or outside it as a `consume` may be).
    ///
    /// ```
    /// use memberledger_core::{Command, Money, Timestamp};
    /// let at: Timestamp = "2026-03-02T10:00:00Z".parse().unwrap();
    /// let coupon = Command::new_id(); // the issue_coupon command's id
    /// let c = Command::build(Command::new_id(), at, "S1")
    ///     .member("M1")
    ///     .consume_with_coupon("188.00".parse::<Money>().unwrap(), coupon)
    ///     .unwrap();
    /// assert_eq!(c.action.type_name(), "consume");
    /// ```
    pub fn consume_with_coupon(
        mut self,
        amount: Money,
        coupon: Uuid,
    ) -> Result<Command, Rejection> {
        self.wire.amount = Some(amount.to_string());
        self.wire.coupon = Some(coupon.to_string());
        self.finish("consume")
    }

    /// Grants the member `sessions` free sessions of `service` (a package of price zero; needs
    /// a [`reason`](Self::reason); lapsing at [`expires_at`](Self::expires_at) when given).
    ///
    /// ```
    /// use memberledger_core::{Command, Timestamp};
    /// let at: Timestamp = "2026-03-03T10:00:00Z".parse().unwrap();
    /// let c = Command::build(Command::new_id(), at, "S1")
    ///     .member("M1")
    ///     .reason("third visit")
    ///     .expires_at(at.plus_days(90))
    ///     .grant_package("bubble facial", 1)
    ///     .unwrap();
    /// assert_eq!(c.action.type_name(), "grant_package");
    /// // No reason: refused as the JSON form is.
    /// let e = Command::build(Command::new_id(), at, "S1").member("M1").grant_package("nails", 1);
    /// assert_eq!(e.unwrap_err().code(), "invalid_command");
    /// ```
    pub fn grant_package(mut self, service: &str, sessions: u32) -> Result<Command, Rejection> {
        self.wire.service = Some(service.to_owned());
        self.wire.sessions = Some(sessions);
        self.finish("grant_package")
    }

    /// Corrects a money balance by hand (needs a [`reason`](Self::reason)).
    pub fn adjust_money(
        mut self,
        balance: Balance,
        direction: Direction,
        amount: Money,
        operator: &str,
    ) -> Result<Command, Rejection> {
        self.wire.balance = Some(balance);
        self.wire.direction = Some(direction);
        self.wire.amount = Some(amount.to_string());
        self.wire.operator = Some(operator.to_owned());
        self.finish("adjust")
    }

    /// Corrects the points by hand (needs a [`reason`](Self::reason)).
    pub fn adjust_points(
        mut self,
        direction: Direction,
        points: u64,
        operator: &str,
    ) -> Result<Command, Rejection> {
        self.wire.balance = Some(Balance::Points);
        self.wire.direction = Some(direction);
        self.wire.points = Some(points);
        self.wire.operator = Some(operator.to_owned());
        self.finish("adjust")
    }

    /// Buys a package of `sessions` sessions of `service` for `amount`.
    pub fn purchase_package(
        mut self,
        amount: Money,
        paid_from: PaidFrom,
        service: &str,
        sessions: u32,
    ) -> Result<Command, Rejection> {
        self.wire.amount = Some(amount.to_string());
        self.wire.paid_from = Some(paid_from);
        self.wire.service = Some(service.to_owned());
        self.wire.sessions = Some(sessions);
        self.finish("purchase_package")
    }

    /// Redeems one session of a package.
    pub fn redeem_session(mut self, package: Uuid) -> Result<Command, Rejection> {
        self.wire.package = Some(package.to_string());
        self.finish("redeem_session")
    }

    /// Refunds a package's unredeemed sessions.
    pub fn refund_package(mut self, package: Uuid) -> Result<Command, Rejection> {
        self.wire.package = Some(package.to_string());
        self.finish("refund_package")
    }

    /// The command's store pays store `to` what it owes it (all of it when `amount` is
    /// `None`). Names no member.
    pub fn settle(mut self, to: &str, amount: Option<Money>) -> Result<Command, Rejection> {
        self.wire.to = Some(to.to_owned());
        self.wire.amount = amount.map(|a| a.to_string());
        self.finish("settle")
    }

    /// Publishes a new policy version, in force from the command's time. Names no member.
    pub fn publish_policy(mut self, policy: &Policy) -> Result<Command, Rejection> {
        self.wire.policy = Some(serde_json::to_value(policy).expect("a policy serialises"));
        self.finish("publish_policy")
    }

    /// Names what an adjustment corrects (an event id or a command id).
    pub fn corrects(mut self, id: Uuid) -> Self {
        self.wire.corrects = Some(id.to_string());
        self
    }

    /// Closes every period through `through` (at or before the command's time). Names no
    /// member.
    pub fn close_period(mut self, through: Timestamp) -> Result<Command, Rejection> {
        self.wire.through = Some(through.to_string());
        self.finish("close_period")
    }
}

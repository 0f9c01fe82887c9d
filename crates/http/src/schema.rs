//! The wire shapes as OpenAPI schemas. The facade's types serialise these shapes (the CLI's
//! `--json`); they carry no schema of their own, so each is described here by a Rust type of
//! the same fields, and a test holds each description to what the facade really writes.
#![allow(dead_code)] // read by the OpenAPI derive only

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ErrorBody;

/// The format of an export.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// One event per line: the canonical JSON plus its hash (docs/AUDIT.md).
    Jsonl,
    /// An hledger / ledger-cli journal closed by balance assertions.
    Hledger,
    /// A beancount file closed by balance directives.
    Beancount,
    /// One row per posting.
    Csv,
}

/// A command's type.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommandType {
    Enroll,
    Recharge,
    GrantBonus,
    Consume,
    RefundConsumption,
    RefundBalance,
    ChangeTier,
    Settle,
    Freeze,
    Unfreeze,
    RedeemPoints,
    Adjust,
    Expire,
    ReviewTier,
    PurchasePackage,
    RedeemSession,
    RefundPackage,
    PublishPolicy,
    ClosePeriod,
    OpenBalance,
    LinkCard,
    ReportLost,
    ReplaceCard,
    UnlinkCard,
    Authorize,
    Capture,
    Void,
    IssueCoupon,
    GrantPackage,
}

/// A command, as one line of `memberledger apply` takes it (docs/schemas/command.schema.json). Which fields a type
/// needs is checked by the ledger; unknown or misplaced fields are refused.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "6f1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10", "at": "2026-03-01T10:00:00Z",
    "type": "recharge", "member": "M1", "store": "S1", "amount": "1000.00", "staff": "E7"}))]
pub struct Command {
    /// The command id (a UUID, not nil): the idempotency key.
    #[schema(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    id: String,
    /// When it happened (RFC 3339); at most the server's skew ahead of its clock.
    #[schema(format = DateTime)]
    at: String,
    /// The command type.
    #[serde(rename = "type")]
    kind: CommandType,
    /// The member (every type but `settle` and `publish_policy`; may be left out when `card`
    /// names it, for every type but `link_card`).
    member: Option<String>,
    /// The card presented: the card a card command is about, or the card a member's command is
    /// made with (refused when lost, replaced or not the member's).
    card: Option<String>,
    /// The replacement card (replace_card).
    new_card: Option<String>,
    /// The hold (capture, void): the authorize command's id.
    hold: Option<String>,
    /// The store acting.
    store: String,
    /// An amount in currency units, at most two decimals (`"1000.00"`).
    amount: Option<String>,
    /// The staff member.
    staff: Option<String>,
    /// The service (consume, packages).
    service: Option<String>,
    /// The consumption refunded (its command id).
    consumption: Option<String>,
    /// The tier (enroll, change_tier).
    tier: Option<String>,
    /// Why (grant_bonus, change_tier, freeze, adjust…).
    reason: Option<String>,
    /// Who (adjust).
    operator: Option<String>,
    /// `principal`, `bonus` or `points` (adjust).
    balance: Option<String>,
    /// `credit` or `debit` (adjust).
    direction: Option<String>,
    /// Points (redeem_points, adjust).
    points: Option<u64>,
    /// Sessions (purchase_package).
    sessions: Option<u32>,
    /// `cash` or `balance` (purchase_package).
    paid_from: Option<String>,
    /// The package (its purchase command's id).
    package: Option<String>,
    /// When a package, a granted bonus or a hold (authorize) lapses.
    expires_at: Option<String>,
    /// The store paid (settle).
    to: Option<String>,
    /// The policy published (publish_policy).
    policy: Option<Object>,
    /// The last instant of the closed period (close_period).
    #[schema(format = DateTime)]
    through: Option<String>,
    /// The event or command id an adjustment corrects (adjust, optional).
    corrects: Option<String>,
    /// What a member moving from another system held there (open_balance): lists
    /// `principal` (`amount`, `origin_store`), `bonus` (`amount`, `expires_at`,
    /// `origin_store`), `points` (`points`, `expires_at`) and `packages` (`service`,
    /// `sessions`, `session_price`, `expires_at`, `origin_store`); docs/IMPORT.md.
    opening: Option<Object>,
    /// How the part of a consume or a purchase_package (paid_from balance) paid outside the
    /// card is paid: `cash`, `wechat`, `alipay`, `bank_card`, … (1 to 32 characters of
    /// `[a-z0-9_]`).
    #[schema(pattern = "^[a-z0-9_]{1,32}$")]
    method: Option<String>,
    /// How much of a consume or a purchase_package is paid outside the card (with
    /// `method`): an amount, or `all`; absent: what the card cannot cover.
    external: Option<String>,
    /// The gift a points redemption gave (redeem_points; a service is named by `service`).
    gift: Option<String>,
    /// The value of what a points redemption gave (redeem_points, with `service` or `gift`).
    value: Option<String>,
    /// The coupon a consume redeems (its issue_coupon command's id).
    coupon: Option<String>,
    /// The percentage off (issue_coupon, with `cap`): above 0 and below 100.
    percent: Option<String>,
    /// The most a percent coupon takes off (issue_coupon).
    cap: Option<String>,
    /// The least charge a 满减 coupon applies to (issue_coupon, with `amount`).
    threshold: Option<String>,
}

/// Any JSON object.
pub type Object = std::collections::BTreeMap<String, serde_json::Value>;

/// One command or a batch of them.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum Commands {
    /// One command: answered with its receipt, or an error with the status of its class.
    One(Box<Command>),
    /// A batch: answered 200 with one receipt per command, in order.
    Many(Vec<Command>),
}

/// A receipt, as `memberledger apply` prints it: `ok` with the events recorded, or the error.
#[derive(Serialize, ToSchema)]
pub struct Receipt {
    /// The command id (`null` when the command could not be read far enough to know it).
    command: Option<String>,
    /// Whether the command is recorded.
    ok: bool,
    /// True when it was recorded before and this is its original receipt.
    replayed: Option<bool>,
    /// The events recorded, each its export JSON (canonical JSON plus `hash`).
    events: Option<Vec<Object>>,
    /// Why it was refused.
    error: Option<ErrorBody>,
    /// Present and true on a quote (`?dry_run=true`): nothing was recorded.
    dry_run: Option<bool>,
    /// On a quote: the member as it would be after the command (`null` for a command of no
    /// member's stream).
    member: Option<Box<MemberView>>,
}

/// The answer to `POST /v1/commands`: one receipt, or one per command of a batch.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum Receipts {
    /// The receipt of one command.
    One(Receipt),
    /// The receipts of a batch, in order.
    Many(Vec<Receipt>),
}

/// A lot of principal or bonus.
#[derive(Serialize, ToSchema)]
pub struct Lot {
    lot: u32,
    /// `principal` or `bonus`.
    kind: String,
    origin_store: String,
    remaining: String,
    expires_at: Option<String>,
}

/// A lot of points.
#[derive(Serialize, ToSchema)]
pub struct PointLot {
    lot: u32,
    remaining: u64,
    expires_at: Option<String>,
}

/// A package (次卡).
#[derive(Serialize, ToSchema)]
pub struct Package {
    package: String,
    service: String,
    origin_store: String,
    /// `cash` or `balance`.
    paid_from: String,
    sessions: u32,
    sessions_left: u32,
    session_price: String,
    price: String,
    bonus_paid: String,
    principal_left: String,
    bonus_left: String,
    expires_at: Option<String>,
    bonus_expires_at: Option<String>,
    /// `open`, `used`, `refunded` or `expired`.
    status: String,
}

/// What a member holds (`memberledger member show --json`).
#[derive(Serialize, ToSchema)]
pub struct MemberView {
    member: String,
    home_store: String,
    tier: String,
    principal: String,
    bonus: String,
    points: u64,
    version: u64,
    frozen: bool,
    lots: Vec<Lot>,
    point_lots: Vec<PointLot>,
    package_value: String,
    packages: Vec<Package>,
    /// Money held by open holds.
    held: String,
    /// What may be spent: principal + bonus - held.
    available: String,
    /// Open holds.
    holds: Vec<Hold>,
    /// The member's cards and where each stands.
    cards: Vec<Card>,
    /// The coupons not yet redeemed (left out when there are none).
    coupons: Option<Vec<Coupon>>,
}

/// A coupon not yet redeemed (docs/RULES.md §30).
#[derive(Serialize, ToSchema)]
pub struct Coupon {
    /// The money off (`amount` and `threshold` coupons).
    amount: Option<String>,
    /// The most a `percent` coupon takes off.
    cap: Option<String>,
    /// Its id: the issue_coupon command's id.
    coupon: String,
    expires_at: String,
    /// `amount`, `percent` or `threshold`.
    kind: String,
    percent: Option<String>,
    reason: String,
    threshold: Option<String>,
    /// The consumption that redeemed it (null while open).
    used_by: Option<String>,
}

/// An open hold.
#[derive(Serialize, ToSchema)]
pub struct Hold {
    /// Its id: the authorize command's id.
    hold: String,
    amount: String,
    /// The store it was authorized for.
    store: String,
    expires_at: String,
}

/// A member's card.
#[derive(Serialize, ToSchema)]
pub struct Card {
    /// As recorded: the number, or `sha256:` and its keyed hash.
    card: String,
    /// `active`, `lost` or `replaced`.
    status: String,
}

/// Balances at a point of a statement.
#[derive(Serialize, ToSchema)]
pub struct Balances {
    principal: String,
    bonus: String,
    points: u64,
    packages: String,
    tier: String,
}

/// One movement of a statement.
#[derive(Serialize, ToSchema)]
pub struct StatementLine {
    at: String,
    position: u64,
    store: String,
    kind: String,
    description: String,
    principal_change: String,
    bonus_change: String,
    points_change: i64,
    packages_change: String,
    balance: Balances,
}

/// A member's statement (对账单, `memberledger statement --json`).
#[derive(Serialize, ToSchema)]
pub struct Statement {
    member: String,
    from: Option<String>,
    to: Option<String>,
    opening: Balances,
    lines: Vec<StatementLine>,
    closing: Balances,
}

/// One account of the trial balance.
#[derive(Serialize, ToSchema)]
pub struct AccountBalance {
    account: String,
    balance: String,
}

/// The trial balance (`memberledger report trial-balance --json`).
#[derive(Serialize, ToSchema)]
pub struct TrialBalance {
    accounts: Vec<AccountBalance>,
    total: String,
}

/// One store's figures.
#[derive(Serialize, ToSchema)]
pub struct StoreReport {
    store: String,
    cash_taken: String,
    cash_paid_out: String,
    revenue: String,
    bonus_granted: String,
    breakage: String,
    clawback: String,
    adjustments: String,
    owed: String,
    owed_to: String,
}

/// What one store owes another.
#[derive(Serialize, ToSchema)]
pub struct PairSettlement {
    debtor: String,
    creditor: String,
    owed: String,
    settled: String,
    outstanding: String,
}

/// Stored value held by one store.
#[derive(Serialize, ToSchema)]
pub struct StoreLiability {
    store: String,
    principal: String,
    bonus: String,
    packages: String,
}

/// The chain's stored-value liability.
#[derive(Serialize, ToSchema)]
pub struct Liability {
    members: u64,
    principal: String,
    bonus: String,
    packages: String,
    points: u64,
    stores: Vec<StoreLiability>,
}

/// The first problem `verify` found.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    position: u64,
    what: String,
}

/// What `verify` checked and found (`memberledger verify --json`).
#[derive(Serialize, ToSchema)]
pub struct VerifyReport {
    events: u64,
    members: u64,
    head: String,
    principal: String,
    bonus: String,
    points: u64,
    problem: Option<Problem>,
}

/// A policy version (`memberledger policy show --json`).
#[derive(Serialize, ToSchema)]
pub struct PolicyVersion {
    version: u32,
    /// `null` for the founding policy.
    effective_at: Option<String>,
    policy: Object,
}

/// A policy to publish (`POST /v1/policy`): the `publish_policy` command without its type.
#[derive(Serialize, ToSchema)]
pub struct Publish {
    /// The command id: the idempotency key.
    id: String,
    /// When it takes effect: after every event already recorded.
    #[schema(format = DateTime)]
    at: String,
    /// The store (or office) publishing it; `HQ` by default.
    store: Option<String>,
    /// The policy.
    policy: Object,
}

/// `GET /healthz` and `GET /readyz`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `stopping` once the server is shutting down.
    status: String,
    /// The chain's last position (`readyz` only).
    position: Option<u64>,
}

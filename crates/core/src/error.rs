//! Business rejections: a command the rules refuse. A rejection records nothing.

use thiserror::Error;

/// Why a command was refused. Each variant has a stable snake_case [`code`](Rejection::code)
/// that adapters put on the wire; the message is for people and may change.
///
/// How to handle them: `invalid_*` and `unknown_*` mean the caller sent something wrong and
/// retrying the same command will fail again; `insufficient_balance`, `member_frozen` and
/// `refund_exceeds_original` are business outcomes to show to the operator; `out_of_order`
/// means the caller's clock or queue went backwards for this member; `idempotency_conflict`
/// means a command id was reused for a different command.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Rejection {
    /// An amount is malformed, not positive, has more than two decimals or is above the limit.
    #[error("{0}")]
    InvalidAmount(String),
    /// An id has a character outside `[A-Za-z0-9_.-]` or a bad length.
    #[error("{0}")]
    InvalidId(String),
    /// The command is malformed: not JSON, an unknown or missing field, a bad time.
    #[error("{0}")]
    InvalidCommand(String),
    /// The member has never been enrolled.
    #[error("member {0} is not enrolled")]
    MemberNotFound(String),
    /// `enroll` of a member that exists.
    #[error("member {0} is already enrolled")]
    MemberExists(String),
    /// The member's card is frozen.
    #[error("member {0} is frozen")]
    MemberFrozen(String),
    /// The balance does not cover the charge.
    #[error("{0}")]
    InsufficientBalance(String),
    /// A tier name the policy does not define.
    #[error("tier {0:?} is not defined by the policy")]
    UnknownTier(String),
    /// A refund names a consumption the member does not have (or no longer can refund).
    #[error("{0}")]
    UnknownConsumption(String),
    /// A refund above what is left unrefunded.
    #[error("{0}")]
    RefundExceedsOriginal(String),
    /// The command's time is before the member's last command.
    #[error("{0}")]
    OutOfOrder(String),
    /// The command id was used before for a different command.
    #[error("command {0} was already used for a different command")]
    IdempotencyConflict(String),
    /// The policy is malformed or inconsistent.
    #[error("{0}")]
    InvalidPolicy(String),
    /// Redeeming more points than the member holds.
    #[error("{0}")]
    InsufficientPoints(String),
    /// A settlement above what the paying store owes the other.
    #[error("{0}")]
    SettlementExceedsOwed(String),
    /// A package command names a package the member never bought.
    #[error("{0}")]
    UnknownPackage(String),
    /// A package has no session left to redeem or value left to refund (all redeemed, or
    /// refunded).
    #[error("{0}")]
    PackageExhausted(String),
    /// A package passed its expiry: its sessions can no longer be redeemed or refunded.
    #[error("{0}")]
    PackageExpired(String),
    /// The command is dated further ahead of the host's clock than the ledger allows (the
    /// facade checks it; the core reads no clock). Recording it would make every later command
    /// of the member `out_of_order` until that time.
    #[error("{0}")]
    FutureTime(String),
    /// The command would record a figure (an amount, a running total, points, a lot number,
    /// a stream version) beyond what an event may hold (`crate::bounds`): refused, so the log
    /// always decodes.
    #[error("{0}")]
    LimitExceeded(String),
    /// A recharge or bonus would take the member's stored value (principal and bonus) beyond
    /// the policy's `prepaid.stored_value_cap`.
    #[error("{0}")]
    StoredValueCapExceeded(String),
    /// A bonus or package would expire sooner than the policy's `prepaid.min_expiry_days`.
    #[error("{0}")]
    ExpiryTooShort(String),
    /// The command would take effect at or before the end of a closed period.
    #[error("{0}")]
    PeriodClosed(String),
    /// A card to link is already linked (to this member or another).
    #[error("{0}")]
    CardInUse(String),
    /// The card named was reported lost: refused wherever it is named.
    #[error("{0}")]
    CardLost(String),
    /// The card named was replaced by a new one: refused wherever it is named.
    #[error("{0}")]
    CardReplaced(String),
    /// The card named is not linked to any member (or not to the member named).
    #[error("{0}")]
    CardNotLinked(String),
    /// The policy records cards as hashes and the ledger was given no card key.
    #[error("{0}")]
    CardKeyMissing(String),
    /// A capture or void names a hold the member does not have open.
    #[error("{0}")]
    UnknownHold(String),
    /// A capture above what the hold holds.
    #[error("{0}")]
    CaptureExceedsHold(String),
    /// A balance refund while holds are open (capture or void them first).
    #[error("{0}")]
    HoldsOpen(String),
    /// A consumption names a coupon the member was never issued (or another member's).
    #[error("{0}")]
    UnknownCoupon(String),
    /// A consumption names a coupon past its expiry.
    #[error("{0}")]
    CouponExpired(String),
    /// A consumption names a coupon another visit redeemed.
    #[error("{0}")]
    CouponUsed(String),
    /// A consumption names a coupon that does not apply to it (a 满减 threshold not reached).
    #[error("{0}")]
    CouponNotApplicable(String),
}

impl Rejection {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::InvalidAmount(_) => "invalid_amount",
            Rejection::InvalidId(_) => "invalid_id",
            Rejection::InvalidCommand(_) => "invalid_command",
            Rejection::MemberNotFound(_) => "member_not_found",
            Rejection::MemberExists(_) => "member_exists",
            Rejection::MemberFrozen(_) => "member_frozen",
            Rejection::InsufficientBalance(_) => "insufficient_balance",
            Rejection::UnknownTier(_) => "unknown_tier",
            Rejection::UnknownConsumption(_) => "unknown_consumption",
            Rejection::RefundExceedsOriginal(_) => "refund_exceeds_original",
            Rejection::OutOfOrder(_) => "out_of_order",
            Rejection::IdempotencyConflict(_) => "idempotency_conflict",
            Rejection::InvalidPolicy(_) => "invalid_policy",
            Rejection::SettlementExceedsOwed(_) => "settlement_exceeds_owed",
            Rejection::InsufficientPoints(_) => "insufficient_points",
            Rejection::UnknownPackage(_) => "unknown_package",
            Rejection::PackageExhausted(_) => "package_exhausted",
            Rejection::PackageExpired(_) => "package_expired",
            Rejection::FutureTime(_) => "future_time",
            Rejection::LimitExceeded(_) => "limit_exceeded",
            Rejection::StoredValueCapExceeded(_) => "stored_value_cap_exceeded",
            Rejection::ExpiryTooShort(_) => "expiry_too_short",
            Rejection::PeriodClosed(_) => "period_closed",
            Rejection::CardInUse(_) => "card_in_use",
            Rejection::CardLost(_) => "card_lost",
            Rejection::CardReplaced(_) => "card_replaced",
            Rejection::CardNotLinked(_) => "card_not_linked",
            Rejection::CardKeyMissing(_) => "card_key_missing",
            Rejection::UnknownHold(_) => "unknown_hold",
            Rejection::CaptureExceedsHold(_) => "capture_exceeds_hold",
            Rejection::HoldsOpen(_) => "holds_open",
            Rejection::UnknownCoupon(_) => "unknown_coupon",
            Rejection::CouponExpired(_) => "coupon_expired",
            Rejection::CouponUsed(_) => "coupon_used",
            Rejection::CouponNotApplicable(_) => "coupon_not_applicable",
        }
    }
}

//! The pure domain of memberledger: money, ids, the policy, commands, events, and the two
//! functions everything rests on — [`decide`] (all the rules) and [`MemberState::apply`]
//! (only folding).
//!
//! This crate never reads a clock, a disk or a network: time and ids come in with the
//! command, which is what makes replay byte-identical and simulation possible.

mod books;
mod bounds;
mod cards;
mod command;
mod decide;
mod error;
mod event;
mod hmac;
mod id;
mod member;
mod money;
mod policy;
mod time;

pub use books::clearing::Clearing;
pub use books::{check_balanced, format_cents, postings, postings_into, Account, Posting};
pub use bounds::{check_event, money_recordable, POINTS_RECORDED_MAX, RECORDED_MAX};
pub use cards::{card_ref, validate_card, CardDirectory, CardPolicy, CardStore, CARD_HASH_PREFIX};
pub use command::{
    validate_text, Action, Balance, Command, CommandBuilder, Direction, Opening, OpeningBonus,
    OpeningPackage, OpeningPoints, OpeningPrincipal, PaidFrom, COMMAND_LINE_MAX, HOLD_EXPIRY_DAYS,
    OPENING_ENTRIES_MAX, POINTS_MAX, SESSIONS_MAX, TEXT_LEN_MAX,
};
pub use command::{CouponOffer, ExternalAmount, ExternalPay};
pub use decide::{decide, opened_package_id, split_bonus, Context, Decision, REVIEW_DOWNGRADE};
pub use error::Rejection;
pub use event::CouponKind;
pub use event::{
    canonical_json, chain_hash, decode_binary_event, decode_event, event_id, write_binary_event,
    write_canonical_json, Draw, Event, EventBody, Hash, LotKind, PointsDraw, RecordedEvent,
    Restore, EVENT_SCHEMA_VERSION, GENESIS_HASH, JSON_INTEGER_MAX,
};
pub use event::{validate_method, External, Given, GivenKind, CASH_METHOD, METHOD_LEN_MAX};
pub use hmac::hmac_sha256;

/// One struct per event type, each wrapped by its [`EventBody`] variant
/// (`EventBody::Recharged(events::Recharged { .. })`): a fold, a report or a test takes the
/// struct whole. They are the wire shape of an event's `data` (docs/EVENTS.md).
pub mod events {
    pub use crate::event::coupons::{CouponIssued, CouponReturn, CouponUse, PackageGranted};
    pub use crate::event::data::{
        Adjusted, BalanceOpened, BalanceRefunded, BonusExpired, BonusGranted, CardLinked,
        CardReplaced, CardReportedLost, CardUnlinked, CardUsed, Consumed, ConsumptionRefunded,
        HoldAuthorized, HoldCaptured, HoldExpired, HoldVoided, MemberEnrolled, MemberFrozen,
        MemberUnfrozen, PackageExpired, PackagePurchased, PackageRefunded, PeriodClosed,
        PointsExpired, PointsRedeemed, PolicyPublished, Recharged, RefundComputation,
        SessionRedeemed, Settled, TierChanged,
    };
    pub use crate::event::opened::{OpenedLot, OpenedPackage, OpenedPoints};
}
pub use id::{
    validate_id, MemberId, StaffId, StoreId, BY_CARD, ID_LEN_MAX, POLICY_STREAM, STORES_STREAM,
};
pub use member::{
    Card, CardStatus, Compact, ConsumptionRecord, Coupon, DrawnLot, FoldError, Hold, Lot,
    MemberState, MemberView, Package, PackageStatus, PointLot, SpendDay, TierName,
    UPGRADE_WINDOW_DAYS,
};
pub use money::{div_round, Money, Rounding, AMOUNT_MAX};
pub use policy::founding::{
    founding_at, founding_command, founding_command_id, is_founding_command, is_founding_event,
    policy_canonical_bytes, FOUNDING_AT, FOUNDING_NAMESPACE, FOUNDING_STORE,
};
pub use policy::history::{PolicyHistory, PolicyVersion};
pub use policy::{
    cohort_of, pro_rata_refund, BonusRule, CommissionPolicy, CommissionRates, Entity, EntityKind,
    FreezePolicy, NoticePolicy, PackagePolicy, PackageRefundTo, Policy, PolicyBuilder,
    PrepaidPolicy, RefundFormula, RefundPolicy, SpendOrder, Threshold, Tier, Upgrade, COHORTS_MAX,
    COMMISSION_RATE_MAX, DEFAULT_DEPOSIT_RATIO, DEFAULT_ENTITY_ID, DEFAULT_POLICY_JSON,
    EXPIRY_DAYS_MAX, NOTICE_DAYS_MAX,
};
pub use policy::{PointsEarnedOn, LATE_WINDOW_HOURS_MAX};
pub use policy::{Retain, TIER_WINDOW_DAYS_DEFAULT, TIER_WINDOW_DAYS_MAX};
pub use rust_decimal::Decimal;
pub use time::Timestamp;
pub use uuid::Uuid;

//! What a member holds, as read: lots, point lots, packages, consumption records, and the
//! member view shown to people and adapters.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::command::PaidFrom;
use crate::event::{Draw, LotKind};
use crate::id::{MemberId, StoreId};
use crate::money::Money;
use crate::time::Timestamp;

use super::MemberState;

/// A lot of principal or bonus, as read from a member ([`MemberState::lots`]; the state keeps
/// it in a compact form).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Lot {
    /// The lot's number within the member (shared numbering with point lots).
    pub lot: u32,
    /// Principal or bonus.
    pub kind: LotKind,
    /// The store that took the cash or granted the credit.
    pub origin_store: StoreId,
    /// What is left.
    pub remaining: Money,
    /// When it lapses (bonus only).
    pub expires_at: Option<Timestamp>,
}

/// A lot of points, as read from a member ([`MemberState::point_lots`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PointLot {
    /// The lot's number.
    pub lot: u32,
    /// Points left.
    pub remaining: u64,
    /// When they lapse.
    pub expires_at: Option<Timestamp>,
}

/// Where a package stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageStatus {
    /// Sessions left to redeem.
    Open,
    /// Every session redeemed.
    Used,
    /// The unredeemed sessions were refunded.
    Refunded,
    /// It lapsed with sessions left.
    Expired,
}

/// A package (次卡/疗程卡) the member bought: a lot of sessions with its origin store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Package {
    /// Its id: the purchase command's id.
    pub package: Uuid,
    /// The service.
    pub service: String,
    /// The store that sold it (and holds its cash).
    pub origin_store: StoreId,
    /// How it was paid.
    pub paid_from: PaidFrom,
    /// Sessions bought.
    pub sessions: u32,
    /// Sessions not yet redeemed (zero once closed).
    pub sessions_left: u32,
    /// Revenue of each session but the last.
    pub session_price: Money,
    /// The price.
    pub price: Money,
    /// Of the price, paid from bonus.
    pub bonus_paid: Money,
    /// Value not yet recognised, funded by cash or principal.
    pub principal_left: Money,
    /// Value not yet recognised, funded by bonus.
    pub bonus_left: Money,
    /// When unredeemed sessions lapse.
    pub expires_at: Option<Timestamp>,
    /// The earliest expiry of the bonus lots drawn to pay for it: the bonus share refunded to
    /// the balance keeps it (and is forfeited once it has passed).
    pub bonus_expires_at: Option<Timestamp>,
    /// Where it stands.
    pub status: PackageStatus,
    /// The bonus it drew that still counts in the member's `bonus_spent`: what it drew when
    /// bought, and zero once a balance refund closed the period it was bought in (its bonus
    /// was settled by that refund's claw-back). A refund of the package gives back no more
    /// than this to `bonus_spent`.
    #[serde(skip)]
    pub bonus_counted: Money,
    /// The part of the price paid outside the card, and how (counted in `principal_left`,
    /// like cash); a refund gives its share back by the same method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<crate::event::External>,
}

impl Package {
    /// The value not yet recognised: `principal_left + bonus_left`.
    pub fn value_left(&self) -> Money {
        self.principal_left.plus(self.bonus_left)
    }
}

/// A drawn lot as a consumption remembers it, with what has been given back so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawnLot {
    /// The draw as recorded.
    pub draw: Draw,
    /// Restored so far (credited or forfeited).
    pub restored: Money,
}

/// What a consumption left behind for later refunds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumptionRecord {
    /// The store that delivered it.
    pub store: StoreId,
    /// What the card paid.
    pub charged: Money,
    /// Of which principal.
    pub principal: Money,
    /// Of which bonus.
    pub bonus: Money,
    /// Refunded so far.
    pub refunded: Money,
    /// Principal restored so far.
    pub principal_restored: Money,
    /// Bonus restored so far (including forfeited).
    pub bonus_restored: Money,
    /// Lots drawn, in drawing order.
    pub draws: Vec<DrawnLot>,
    /// Points earned.
    pub points_earned: u64,
    /// Points accounted for by refunds so far (reversed plus forgiven).
    pub points_reversed: u64,
    /// The part paid outside the card, and how (`charged` includes it).
    pub external: Option<crate::event::External>,
    /// Of the external part, paid back so far.
    pub external_refunded: Money,
    /// Which parts earned the points (the policy's `points_earned_on` when they were earned).
    pub points_on: crate::policy::PointsEarnedOn,
    /// The coupon the visit redeemed, given back by the refund that completes it.
    pub coupon: Option<crate::event::coupons::CouponUse>,
}

impl Package {
    pub(crate) fn close(&mut self, status: PackageStatus) {
        self.status = status;
        self.sessions_left = 0;
        self.principal_left = Money::ZERO;
        self.bonus_left = Money::ZERO;
    }
}

/// What a member holds, as shown to people and adapters (docs/schemas/member.schema.json).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MemberView {
    /// The member.
    pub member: MemberId,
    /// The store that opened the card.
    pub home_store: StoreId,
    /// The tier held.
    pub tier: String,
    /// Principal held.
    pub principal: Money,
    /// Bonus held.
    pub bonus: Money,
    /// Points held.
    pub points: u64,
    /// Events folded.
    pub version: u64,
    /// Whether the card is frozen.
    pub frozen: bool,
    /// Open principal and bonus lots, principal first.
    pub lots: Vec<Lot>,
    /// Open point lots.
    pub point_lots: Vec<PointLot>,
    /// Value held in open packages.
    pub package_value: Money,
    /// Packages bought, open ones first, then by id.
    pub packages: Vec<Package>,
    /// Money held by open holds.
    pub held: Money,
    /// What may be spent: principal + bonus - held.
    pub available: Money,
    /// Open holds, by id.
    pub holds: Vec<super::Hold>,
    /// The member's cards and where each stands.
    pub cards: Vec<super::Card>,
    /// The coupons not yet redeemed (an expired one stays listed, with its `expires_at`).
    /// Left out when there are none, so a member without coupons reads as before.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coupons: Vec<super::Coupon>,
}

impl From<&MemberState> for MemberView {
    fn from(s: &MemberState) -> MemberView {
        MemberView {
            member: s.member.clone(),
            home_store: s.home_store.clone(),
            tier: s.tier.to_string(),
            principal: s.principal(),
            bonus: s.bonus(),
            points: s.points(),
            version: s.version,
            frozen: s.frozen,
            lots: s
                .lots(LotKind::Principal)
                .chain(s.lots(LotKind::Bonus))
                .collect(),
            point_lots: s.point_lots(),
            package_value: s.package_value(),
            packages: {
                let mut v: Vec<Package> = s.packages().values().map(|p| (**p).clone()).collect();
                v.sort_by_key(|p| p.status != PackageStatus::Open);
                v
            },
            held: s.held(),
            available: s.available(),
            holds: s.holds(),
            cards: s.cards(),
            coupons: s.unused_coupons(),
        }
    }
}

/// The packages of a member as a checkpoint stores them: each with the bonus it still counts
/// (which the package's own serde form, the one shown to people, leaves out).
pub(super) mod packages_codec {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use uuid::Uuid;

    use super::Package;
    use crate::money::Money;

    pub fn serialize<S: Serializer>(
        packages: &BTreeMap<Uuid, Box<Package>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let entries: Vec<(&Package, Money)> =
            packages.values().map(|p| (&**p, p.bonus_counted)).collect();
        entries.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<Uuid, Box<Package>>, D::Error> {
        let entries: Vec<(Package, Money)> = Vec::deserialize(d)?;
        Ok(entries
            .into_iter()
            .map(|(mut p, counted)| {
                p.bonus_counted = counted;
                (p.package, Box::new(p))
            })
            .collect())
    }
}

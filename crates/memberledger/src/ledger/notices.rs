//! Derived notices: bonus, points and packages that will lapse within the days the policy's
//! `notices` section names, as of a time. Not events: derived from the members' lots, each with
//! a stable id (UUID v5 of kind, member, lot or package, and expiry) so a receiver (an SMS
//! gateway) can tell a notice it already sent.

use memberledger_core::{
    LotKind, MemberId, MemberState, Money, NoticePolicy, PackageStatus, Timestamp, Uuid,
};
use serde::Serialize;

use super::Ledger;

/// The namespace of notice ids.
pub const NOTICE_NAMESPACE: Uuid = Uuid::from_u128(0x6d65_6d62_6572_4c65_8467_6572_4e6f_7469);

/// What will lapse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NoticeKind {
    /// A bonus lot.
    BonusWillExpire,
    /// A point lot.
    PointsWillExpire,
    /// A package with sessions left.
    PackageWillExpire,
}

impl NoticeKind {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            NoticeKind::BonusWillExpire => "bonus_will_expire",
            NoticeKind::PointsWillExpire => "points_will_expire",
            NoticeKind::PackageWillExpire => "package_will_expire",
        }
    }
}

/// One notice: a lot or package of a member that lapses within the policy's days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Notice {
    /// UUID v5 of `kind|member|lot or package|expires_at`: the same notice has the same id
    /// whenever it is derived.
    pub id: Uuid,
    /// What will lapse.
    pub kind: NoticeKind,
    /// The member.
    pub member: MemberId,
    /// The lot (bonus and points).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot: Option<u32>,
    /// The package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<Uuid>,
    /// When it lapses.
    pub expires_at: Timestamp,
    /// The bonus left in the lot, or the value left in the package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// The points left in the lot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<u64>,
    /// The package's sessions left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions: Option<u32>,
}

impl Notice {
    fn new(kind: NoticeKind, member: &MemberId, what: String, expires_at: Timestamp) -> Notice {
        let key = format!("{}|{member}|{what}|{expires_at}", kind.name());
        Notice {
            id: Uuid::new_v5(&NOTICE_NAMESPACE, key.as_bytes()),
            kind,
            member: member.clone(),
            lot: None,
            package: None,
            expires_at,
            amount: None,
            points: None,
            sessions: None,
        }
    }
}

/// The notices of one member as of `as_of`: every open lot or package whose expiry is after
/// `as_of` and at most the policy's days after it, by expiry then kind.
pub fn member_notices(state: &MemberState, policy: &NoticePolicy, as_of: Timestamp) -> Vec<Notice> {
    let due = |days: Option<u32>, e: Option<Timestamp>| -> Option<Timestamp> {
        let (days, e) = (days?, e?);
        (e > as_of && e <= as_of.plus_days(days)).then_some(e)
    };
    let mut out = Vec::new();
    for l in state.lots(LotKind::Bonus) {
        if let Some(e) = due(policy.bonus_days, l.expires_at) {
            let mut n = Notice::new(
                NoticeKind::BonusWillExpire,
                &state.member,
                format!("lot {}", l.lot),
                e,
            );
            n.lot = Some(l.lot);
            n.amount = Some(l.remaining);
            out.push(n);
        }
    }
    for l in state.point_lots() {
        if let Some(e) = due(policy.points_days, l.expires_at) {
            let mut n = Notice::new(
                NoticeKind::PointsWillExpire,
                &state.member,
                format!("lot {}", l.lot),
                e,
            );
            n.lot = Some(l.lot);
            n.points = Some(l.remaining);
            out.push(n);
        }
    }
    for p in state
        .packages()
        .values()
        .filter(|p| p.status == PackageStatus::Open)
    {
        if let Some(e) = due(policy.package_days, p.expires_at) {
            let mut n = Notice::new(
                NoticeKind::PackageWillExpire,
                &state.member,
                format!("package {}", p.package),
                e,
            );
            n.package = Some(p.package);
            n.amount = Some(p.value_left());
            n.sessions = Some(p.sessions_left);
            out.push(n);
        }
    }
    out.sort_by_key(|a| (a.expires_at, a.kind, a.id));
    out
}

impl Ledger {
    /// Every member's notices as of `as_of` under the policy in force then (none when its
    /// `notices` section is absent), by member, then expiry.
    ///
    /// ```
    /// use memberledger::{Command, Ledger, Policy};
    /// let policy = Policy::from_json(r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}],
    ///   "bonus_expiry_days":30,"notices":{"bonus_days":7}}"#)?;
    /// let ledger = Ledger::in_memory_with(policy);
    /// ledger.execute(&Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#)?)?;
    /// ledger.execute(&Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000002","at":"2026-03-01T10:00:00Z","type":"grant_bonus","member":"M1","store":"S1","amount":"20.00","reason":"birthday"}"#)?)?;
    /// assert!(ledger.notices("2026-03-20T00:00:00Z".parse()?).is_empty());
    /// let due = ledger.notices("2026-03-25T00:00:00Z".parse()?);
    /// assert_eq!(due.len(), 1);
    /// assert_eq!(due[0].kind.name(), "bonus_will_expire");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn notices(&self, as_of: Timestamp) -> Vec<Notice> {
        let Some(policy) = self.policy_at(as_of).policy.notices.clone() else {
            return Vec::new();
        };
        self.refresh_if_shared();
        let mut out = Vec::new();
        self.for_each_member(|s| out.extend(member_notices(s, &policy, as_of)));
        out.sort_by(|a, b| {
            (&a.member, a.expires_at, a.kind, a.id).cmp(&(&b.member, b.expires_at, b.kind, b.id))
        });
        out
    }

    /// One member's notices as of `as_of` (empty for a member never enrolled).
    pub fn member_notices(&self, id: &MemberId, as_of: Timestamp) -> Vec<Notice> {
        let Some(policy) = self.policy_at(as_of).policy.notices.clone() else {
            return Vec::new();
        };
        self.refresh_if_shared();
        self.cached_members()
            .get(id)
            .map(|s| member_notices(s, &policy, as_of))
            .unwrap_or_default()
    }
}

//! Notices: how many days ahead a member is told that bonus, points or a package will lapse
//! (`bonus_will_expire`, `points_will_expire`, `package_will_expire`). Derived from the lots'
//! expiries as of a time; never recorded as events.

use serde::{Deserialize, Serialize};

use crate::error::Rejection;

/// Days ahead of an expiry a notice is due, per kind; a kind left out has no notices.
///
/// ```
/// use memberledger_core::Policy;
/// let p = Policy::from_json(r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}],
///   "notices":{"bonus_days":7,"package_days":14}}"#).unwrap();
/// let n = p.notices.as_ref().unwrap();
/// assert_eq!((n.bonus_days, n.points_days, n.package_days), (Some(7), None, Some(14)));
/// assert!(Policy::from_json(r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}],
///   "notices":{"bonus_days":0}}"#).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NoticePolicy {
    /// Days before a bonus lot lapses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus_days: Option<u32>,
    /// Days before a package lapses with sessions left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_days: Option<u32>,
    /// Days before a point lot lapses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_days: Option<u32>,
}

/// The most days ahead a notice may be due (a year).
pub const NOTICE_DAYS_MAX: u32 = 366;

impl NoticePolicy {
    /// Days ahead for each kind: bonus, points, package.
    pub fn new(
        bonus_days: Option<u32>,
        points_days: Option<u32>,
        package_days: Option<u32>,
    ) -> NoticePolicy {
        NoticePolicy {
            bonus_days,
            package_days,
            points_days,
        }
    }

    /// Each count of days is 1 to [`NOTICE_DAYS_MAX`].
    pub(crate) fn validate(&self) -> Result<(), Rejection> {
        for (what, days) in [
            ("notices.bonus_days", self.bonus_days),
            ("notices.points_days", self.points_days),
            ("notices.package_days", self.package_days),
        ] {
            if days.is_some_and(|d| d == 0 || d > NOTICE_DAYS_MAX) {
                return Err(Rejection::InvalidPolicy(format!(
                    "{what} must be 1-{NOTICE_DAYS_MAX} or absent"
                )));
            }
        }
        Ok(())
    }
}

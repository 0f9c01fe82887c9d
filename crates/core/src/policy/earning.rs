//! What a visit's payment earns, and how late a command from an offline terminal may come.

use serde::{Deserialize, Serialize};

use crate::error::Rejection;
use crate::money::Money;

/// Which parts of what a visit was paid with earn points (the policy's `points_earned_on`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PointsEarnedOn {
    /// Principal spent from the card (the only rule before schema 3, and the default).
    #[default]
    Principal,
    /// Principal and what was paid outside the card (cash, a phone wallet, …).
    PrincipalAndExternal,
    /// Everything paid: principal, bonus and the external part.
    All,
}

impl PointsEarnedOn {
    /// The amount that earns points, of a visit paid with these parts.
    pub fn base(self, principal: Money, bonus: Money, external: Money) -> Money {
        match self {
            PointsEarnedOn::Principal => principal,
            PointsEarnedOn::PrincipalAndExternal => principal.plus(external),
            PointsEarnedOn::All => principal.plus(bonus).plus(external),
        }
    }
}

/// The longest late window a policy may set: 90 days.
pub const LATE_WINDOW_HOURS_MAX: u32 = 90 * 24;

/// A late window is 1 to [`LATE_WINDOW_HOURS_MAX`] hours (absent: no late commands).
pub(super) fn check_late_window(hours: Option<u32>) -> Result<(), Rejection> {
    match hours {
        Some(h) if h == 0 || h > LATE_WINDOW_HOURS_MAX => Err(Rejection::InvalidPolicy(format!(
            "late_window_hours must be 1-{LATE_WINDOW_HOURS_MAX} or absent"
        ))),
        _ => Ok(()),
    }
}

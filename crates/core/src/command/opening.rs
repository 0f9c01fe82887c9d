//! An opening balance: what a member held in the system a chain moves from, carried over in
//! one `open_balance` command (docs/IMPORT.md).

use serde::{Deserialize, Serialize};

use super::{validate_text, POINTS_MAX, SESSIONS_MAX};
use crate::error::Rejection;
use crate::id::StoreId;
use crate::money::{Money, AMOUNT_MAX};
use crate::time::Timestamp;

/// The most entries (principal lots, bonus lots, point lots and packages together) one
/// opening may carry.
pub const OPENING_ENTRIES_MAX: usize = 200;

/// What a member held in the system a chain moves from. Each list may be empty; a lot's or
/// package's origin store is the command's store (the home store) when absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Opening {
    /// Bonus lots, each with its expiry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bonus: Vec<OpeningBonus>,
    /// Packages with the sessions left.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<OpeningPackage>,
    /// Point lots, each with its expiry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<OpeningPoints>,
    /// Principal lots, each from the store that holds its cash.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub principal: Vec<OpeningPrincipal>,
}

/// A principal lot carried over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningPrincipal {
    /// What is left in it.
    pub amount: Money,
    /// The store that holds its cash; the home store when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_store: Option<StoreId>,
}

/// A bonus lot carried over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningBonus {
    /// What is left in it.
    pub amount: Money,
    /// When it lapses (after the opening's time); never when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// The store that granted it; the home store when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_store: Option<StoreId>,
}

/// A point lot carried over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningPoints {
    /// When it lapses (after the opening's time); never when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// Points left in it, 1 to [`POINTS_MAX`].
    pub points: u64,
}

/// A package carried over: its sessions left, each worth `session_price`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningPackage {
    /// When unredeemed sessions lapse (after the opening's time); never when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// The store that sold it (and holds its cash); the home store when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_store: Option<StoreId>,
    /// The service the sessions are of.
    pub service: String,
    /// The value of one session.
    pub session_price: Money,
    /// Sessions left, 1 to [`SESSIONS_MAX`].
    pub sessions: u32,
}

impl Opening {
    /// Every entry's figures in range (`invalid_amount`), every text well formed and at most
    /// [`OPENING_ENTRIES_MAX`] entries (`invalid_command`). (That every expiry is after the
    /// command's time is a rule of `decide`, as for a bonus grant.)
    pub(crate) fn validate(&self) -> Result<(), Rejection> {
        let n = self.principal.len() + self.bonus.len() + self.points.len() + self.packages.len();
        if n > OPENING_ENTRIES_MAX {
            return Err(Rejection::InvalidCommand(format!(
                "an opening carries at most {OPENING_ENTRIES_MAX} lots and packages, not {n}"
            )));
        }
        for p in &self.principal {
            money("a principal lot's amount", p.amount)?;
        }
        for b in &self.bonus {
            money("a bonus lot's amount", b.amount)?;
        }
        for p in &self.points {
            if p.points == 0 || p.points > POINTS_MAX {
                return Err(Rejection::InvalidAmount(format!(
                    "a point lot holds 1-{POINTS_MAX} points, not {}",
                    p.points
                )));
            }
        }
        for p in &self.packages {
            if p.sessions == 0 || p.sessions > SESSIONS_MAX {
                return Err(Rejection::InvalidAmount(format!(
                    "a package has 1-{SESSIONS_MAX} sessions left, not {}",
                    p.sessions
                )));
            }
            money("a package's session_price", p.session_price)?;
            validate_text("service", &p.service)?;
        }
        Ok(())
    }
}

/// An amount above zero, at most [`AMOUNT_MAX`].
fn money(what: &str, m: Money) -> Result<(), Rejection> {
    if !m.is_positive() || m > AMOUNT_MAX {
        return Err(Rejection::InvalidAmount(format!(
            "{what} {m} must be above zero and at most {AMOUNT_MAX}"
        )));
    }
    Ok(())
}

impl Opening {
    /// Every expiry is after `at`, else `invalid_command`.
    pub(crate) fn check_expiries(&self, at: Timestamp) -> Result<(), Rejection> {
        let expiries = self
            .bonus
            .iter()
            .map(|b| ("a bonus lot", b.expires_at))
            .chain(self.points.iter().map(|p| ("a point lot", p.expires_at)))
            .chain(self.packages.iter().map(|p| ("a package", p.expires_at)));
        for (what, e) in expiries {
            if let Some(e) = e.filter(|e| *e <= at) {
                return Err(Rejection::InvalidCommand(format!(
                    "{what} expires at {e}, not after the opening's time {at}"
                )));
            }
        }
        Ok(())
    }
}

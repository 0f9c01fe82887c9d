//! The commission rates of each policy version, as the staff report applies them.

use std::collections::BTreeMap;

use memberledger::domain::{CommissionPolicy, CommissionRates, PolicyHistory, Rounding};
use serde::Serialize;

/// One policy version's commission rates and rounding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VersionRates {
    /// The policy version (1: the founding policy).
    pub version: u32,
    /// Its commission section (`None`: it pays none).
    pub commission: Option<CommissionPolicy>,
    /// Its rounding.
    #[serde(skip)]
    pub rounding: Rounding,
}

/// The commission rates of every policy version: a sale is paid at the rates of the version
/// in force when it was made (the version its event names), by the tier of the member it was
/// made to.
///
/// ```
/// use memberledger::domain::{CommissionPolicy, Decimal, Rounding};
/// use memberledger_insight::Rates;
/// let r = Rates::flat(Some(&CommissionPolicy::new(None, None, Some(Decimal::new(1, 1)))), Rounding::HalfUp);
/// assert_eq!(r.of(7, None).service, Some(Decimal::new(1, 1)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rates {
    /// By version; a version not listed takes the nearest listed one before it.
    versions: BTreeMap<u32, VersionRates>,
}

impl Rates {
    /// The same rates for every version.
    #[must_use]
    pub fn flat(commission: Option<&CommissionPolicy>, rounding: Rounding) -> Rates {
        let one = VersionRates {
            version: 1,
            commission: commission.cloned(),
            rounding,
        };
        Rates {
            versions: BTreeMap::from([(1, one)]),
        }
    }

    /// The rates of each version in a ledger's policy history.
    #[must_use]
    pub fn of_history(history: &PolicyHistory) -> Rates {
        let versions = history
            .versions()
            .iter()
            .map(|v| {
                let r = VersionRates {
                    version: v.version,
                    commission: v.policy.commission.clone(),
                    rounding: v.policy.rounding,
                };
                (v.version, r)
            })
            .collect();
        Rates { versions }
    }

    /// The versions, oldest first.
    pub fn versions(&self) -> impl Iterator<Item = &VersionRates> {
        self.versions.values()
    }

    fn version(&self, version: u32) -> Option<&VersionRates> {
        self.versions
            .range(..=version)
            .next_back()
            .or_else(|| self.versions.iter().next())
            .map(|(_, v)| v)
    }

    /// The rates of a sale under `version` to a member of `tier` (all `None`: no commission).
    #[must_use]
    pub fn of(&self, version: u32, tier: Option<&str>) -> CommissionRates {
        self.version(version)
            .and_then(|v| v.commission.as_ref())
            .map(|c| c.rates(tier))
            .unwrap_or_default()
    }

    /// The rounding of `version`.
    #[must_use]
    pub fn rounding(&self, version: u32) -> Rounding {
        self.version(version)
            .map(|v| v.rounding)
            .unwrap_or_default()
    }

    /// True when no version pays any commission.
    #[must_use]
    pub fn none(&self) -> bool {
        self.versions.values().all(|v| v.commission.is_none())
    }
}

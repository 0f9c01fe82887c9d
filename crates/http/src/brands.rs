//! Brands as tenants: the ledgers one server hosts, a brand each, each with its own tokens.
//!
//! A brand is a whole single-ledger server (its own [`AppState`]: ledger, tokens, limits,
//! counters, projections) mounted at `/brands/{brand}`. Nothing is shared between brands but
//! the listening socket, so nothing of one brand is readable through another's routes.

use std::collections::BTreeMap;

use crate::state::AppState;

/// Where a brand's routes are mounted: `/brands/{brand}` followed by any path of the
/// single-ledger server (`/brands/lotus/v1/members/M1`, `/brands/lotus/hq`).
pub const BRAND_PREFIX: &str = "/brands/";

/// The longest brand name.
pub const BRAND_NAME_MAX: usize = 64;

/// Checks a brand name: 1 to 64 of `A-Z a-z 0-9 _ -` (it is a path segment).
///
/// ```
/// assert!(memberledger_http::check_brand_name("lotus-spa").is_ok());
/// assert!(memberledger_http::check_brand_name("../etc").is_err());
/// ```
pub fn check_brand_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= BRAND_NAME_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "brand {name:?}: a brand name is 1 to {BRAND_NAME_MAX} of A-Z a-z 0-9 _ -"
        ))
    }
}

/// The brands a server hosts, by name; each the state of a single-ledger server.
#[derive(Clone, Default)]
pub struct Brands {
    by_name: BTreeMap<String, AppState>,
}

impl Brands {
    /// No brand yet.
    pub fn new() -> Brands {
        Brands::default()
    }

    /// Adds a brand; a malformed or repeated name is an error.
    pub fn insert(&mut self, name: &str, state: AppState) -> Result<(), String> {
        check_brand_name(name)?;
        if self.by_name.contains_key(name) {
            return Err(format!("brand {name:?} is named twice"));
        }
        self.by_name.insert(name.to_owned(), state);
        Ok(())
    }

    /// The state of a brand.
    pub fn get(&self, name: &str) -> Option<&AppState> {
        self.by_name.get(name)
    }

    /// The brands, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &AppState)> {
        self.by_name.iter().map(|(n, s)| (n.as_str(), s))
    }

    /// How many brands.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// True when there is no brand.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Marks every brand's server as stopping (`readyz` answers 503).
    pub fn stop(&self) {
        for s in self.by_name.values() {
            s.stop();
        }
    }

    /// True once the server is stopping.
    pub fn stopping(&self) -> bool {
        self.by_name.values().any(AppState::stopping)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_brand_name_is_one_safe_path_segment() {
        for ok in ["lotus", "Lotus_2", "a", &"x".repeat(64)] {
            assert!(check_brand_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a/b", "..", "a.b", "a b", "莲", &"x".repeat(65)] {
            assert!(check_brand_name(bad).is_err(), "{bad}");
        }
    }
}

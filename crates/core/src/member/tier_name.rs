//! The name of the tier a member holds, kept inline (no allocation for a short name).

use std::fmt;

use compact_str::CompactString;

/// The name of a member's tier. Behaves as a `&str` (it derefs to one, compares with `str`
/// and `String`, and displays as the name); kept inline up to 24 bytes, since a ledger caches
/// a state for every member. The inline representation is private: no pre-1.0 type reaches
/// the public API.
///
/// ```
/// use memberledger_core::TierName;
/// let t = TierName::from("gold");
/// assert_eq!(t, "gold");
/// assert_eq!(t.as_str().len(), 4);
/// ```
#[derive(
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct TierName(CompactString);

impl TierName {
    /// The name.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Gives back spare capacity.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
}

impl From<&str> for TierName {
    fn from(s: &str) -> TierName {
        TierName(CompactString::new(s))
    }
}

impl From<String> for TierName {
    fn from(s: String) -> TierName {
        TierName(CompactString::from(s))
    }
}

impl From<TierName> for String {
    fn from(t: TierName) -> String {
        t.0.into_string()
    }
}

impl std::ops::Deref for TierName {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for TierName {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for TierName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl PartialEq<str> for TierName {
    fn eq(&self, other: &str) -> bool {
        self.0.as_str() == other
    }
}

impl PartialEq<&str> for TierName {
    fn eq(&self, other: &&str) -> bool {
        self.0.as_str() == *other
    }
}

impl PartialEq<String> for TierName {
    fn eq(&self, other: &String) -> bool {
        self.0.as_str() == other.as_str()
    }
}

impl PartialEq<TierName> for String {
    fn eq(&self, other: &TierName) -> bool {
        self.as_str() == other.0.as_str()
    }
}

impl PartialEq<TierName> for &str {
    fn eq(&self, other: &TierName) -> bool {
        *self == other.0.as_str()
    }
}

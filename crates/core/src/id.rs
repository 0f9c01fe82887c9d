//! Opaque identifiers of members, stores and staff.

use std::fmt;

use compact_str::CompactString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Rejection;

/// The longest id accepted, in bytes (all id characters are ASCII).
pub const ID_LEN_MAX: usize = 64;

/// Checks an opaque id: 1-64 characters of `[A-Za-z0-9_.-]`, so it fits in account names and
/// cannot carry free text (personal data never enters the log).
pub fn validate_id(kind: &str, s: &str) -> Result<(), Rejection> {
    if s.is_empty() || s.len() > ID_LEN_MAX {
        return Err(Rejection::InvalidId(format!(
            "{kind} id {s:?} must be 1-{ID_LEN_MAX} characters"
        )));
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-');
    // Byte by byte (every event holds ids, and replay reads them all): any byte of a
    // character outside ASCII is refused, and only then is the character found, to name it.
    if s.bytes().all(allowed) {
        return Ok(());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(Rejection::InvalidId(format!(
            "{kind} id {s:?} has {c:?}; only A-Z a-z 0-9 _ . - are allowed"
        )));
    }
    Ok(())
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        ///
        /// Held inline (no heap allocation) up to 24 bytes, so cloning a typical id is a copy.
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(CompactString);

        impl $name {
            /// Validates and wraps an id.
            pub fn new(s: impl Into<String>) -> Result<Self, Rejection> {
                let s = s.into();
                validate_id($kind, &s)?;
                Ok(Self(CompactString::from(s)))
            }

            /// Validates and wraps an id given as a slice (no allocation for short ids).
            fn from_valid_str(s: &str) -> Result<Self, Rejection> {
                validate_id($kind, s)?;
                Ok(Self(CompactString::new(s)))
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = Rejection;
            fn from_str(s: &str) -> Result<Self, Rejection> {
                Self::new(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::decode_str(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

opaque_id!(
    /// A member (card holder). Opaque: never a name or a phone number.
    MemberId,
    "member"
);
/// The stream of inter-store settlements. The `@` keeps it apart from every member id.
pub const STORES_STREAM: &str = "@stores";
/// The stream of published policies. The `@` keeps it apart from every member id.
pub const POLICY_STREAM: &str = "@policy";
/// What a command that names a card and no member holds as its member until the ledger
/// resolves the card. Never recorded: no event names it.
pub const BY_CARD: &str = "@card";

impl MemberId {
    /// The id of the stream that is not a member's: inter-store settlements.
    pub fn stores_stream() -> MemberId {
        MemberId(CompactString::const_new(STORES_STREAM))
    }

    /// The id of the stream of published policies.
    pub fn policy_stream() -> MemberId {
        MemberId(CompactString::const_new(POLICY_STREAM))
    }

    /// The member of a command that names a card and no member: the ledger resolves the
    /// card to its member before deciding ([`BY_CARD`]).
    pub fn by_card() -> MemberId {
        MemberId(CompactString::const_new(BY_CARD))
    }

    /// True for the member of a command still to be resolved by its card.
    pub fn is_by_card(&self) -> bool {
        self.0 == BY_CARD
    }

    /// True for a member's stream, false for the settlements and policy streams (and for a
    /// command's member still to be resolved by its card).
    pub fn is_member(&self) -> bool {
        self.0 != STORES_STREAM && self.0 != POLICY_STREAM && self.0 != BY_CARD
    }

    /// True for the settlements stream.
    pub fn is_stores(&self) -> bool {
        self.0 == STORES_STREAM
    }

    /// True for the policy stream.
    pub fn is_policy(&self) -> bool {
        self.0 == POLICY_STREAM
    }

    /// Parses a stream id as recorded in the log: a member id, or the settlements or policy
    /// stream's id. (Commands take [`MemberId::new`], which refuses both.)
    pub fn decode(s: String) -> Result<MemberId, Rejection> {
        MemberId::decode_str(&s)
    }

    /// [`MemberId::decode`] of a slice.
    pub fn decode_str(s: &str) -> Result<MemberId, Rejection> {
        if s == STORES_STREAM {
            return Ok(MemberId::stores_stream());
        }
        if s == POLICY_STREAM {
            return Ok(MemberId::policy_stream());
        }
        MemberId::from_valid_str(s)
    }
}

impl StoreId {
    pub(crate) fn decode_str(s: &str) -> Result<StoreId, Rejection> {
        StoreId::from_valid_str(s)
    }
}

impl StaffId {
    pub(crate) fn decode_str(s: &str) -> Result<StaffId, Rejection> {
        StaffId::from_valid_str(s)
    }
}

opaque_id!(
    /// A store of the chain.
    StoreId,
    "store"
);
opaque_id!(
    /// A staff member who served or operated.
    StaffId,
    "staff"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ids_that_fit_account_names() {
        assert!(MemberId::new("M-001_a.b").is_ok());
        assert!(MemberId::new("x".repeat(64)).is_ok());
    }

    #[test]
    fn serde_round_trip_and_debug() {
        let id = MemberId::new("M-001").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"M-001\"");
        assert_eq!(serde_json::from_str::<MemberId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<MemberId>("\"a b\"").is_err());
        assert_eq!(format!("{id:?}"), "MemberId(\"M-001\")");
        let stores: MemberId = serde_json::from_str("\"@stores\"").unwrap();
        assert!(!stores.is_member());
        assert!(StoreId::new("@stores").is_err());
    }

    proptest::proptest! {
        /// An id is taken exactly when every character is one of `A-Z a-z 0-9 _ . -` (checked
        /// byte by byte, characters outside ASCII included), and a refusal names the first
        /// character that is not.
        #[test]
        fn ids_are_checked_character_by_character(s in "[A-Za-z0-9_.\\-]{0,6}(.{0,2})[A-Za-z0-9_.\\-]{0,6}") {
            let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
            let chars_ok = !s.is_empty() && s.len() <= ID_LEN_MAX && s.chars().all(ok);
            match validate_id("member", &s) {
                Ok(()) => proptest::prop_assert!(chars_ok),
                Err(e) => {
                    proptest::prop_assert!(!chars_ok);
                    if let Some(c) = s.chars().find(|&c| !ok(c)).filter(|_| !s.is_empty() && s.len() <= ID_LEN_MAX) {
                        proptest::prop_assert!(e.to_string().contains(&format!("has {c:?}")), "{}", e);
                    }
                }
            }
        }
    }

    #[test]
    fn rejects_ids_with_free_text() {
        for bad in ["", "张三", "a b", "a:b", "a/b", &"x".repeat(65)] {
            let e = MemberId::new(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_id", "{bad:?}");
        }
    }
}

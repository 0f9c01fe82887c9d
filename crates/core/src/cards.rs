//! Cards: the numbers printed on a member's plastic, how the ledger records them (in clear, or
//! as a keyed hash when the policy says so), and the directory of which member holds which
//! card.
//!
//! A card number is shaped like an id (`[A-Za-z0-9_.-]`, 1 to 64 characters). Under a policy
//! with `"cards": {"store": "hash"}` the ledger records only
//! `sha256:` + the lowercase hex of HMAC-SHA256(key, number), the key being a secret of the
//! ledger's settings (never in the policy, never recorded, never logged); a lookup hashes the
//! number it is given the same way. Without the section (or with `"store": "clear"`) the
//! number is recorded as given.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Rejection;
use crate::event::{Event, EventBody};
use crate::hmac::hmac_sha256;
use crate::id::{validate_id, MemberId};
use crate::policy::Policy;

/// The prefix of a card recorded as a keyed hash.
pub const CARD_HASH_PREFIX: &str = "sha256:";

/// How card numbers are recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CardStore {
    /// As given.
    #[default]
    Clear,
    /// Only as `sha256:` + HMAC-SHA256(key, number) in hex; the key is the ledger's setting.
    Hash,
}

/// The policy's card section (`"cards": {"store": "hash"}`); absent: numbers in clear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CardPolicy {
    /// How card numbers are recorded.
    #[serde(default)]
    pub store: CardStore,
}

/// Checks a card number's shape (what a command may carry).
pub fn validate_card(field: &str, number: &str) -> Result<(), Rejection> {
    validate_id(field, number)
}

/// The form a card number is recorded and looked up in under `policy`: the number itself, or
/// its keyed hash (`card_key_missing` when the policy hashes and no key is given).
///
/// ```
/// use memberledger_core::{card_ref, Policy};
/// let clear = Policy::builtin();
/// assert_eq!(card_ref("C-1001", &clear, None).unwrap(), "C-1001");
/// let hashed = Policy::from_json(r#"{"tiers":[{"name":"std","discount":"1.00","points_per_yuan":"1"}],"cards":{"store":"hash"}}"#).unwrap();
/// let r = card_ref("C-1001", &hashed, Some(b"secret")).unwrap();
/// assert!(r.starts_with("sha256:") && !r.contains("C-1001"));
/// assert_eq!(card_ref("C-1001", &hashed, None).unwrap_err().code(), "card_key_missing");
/// ```
pub fn card_ref(number: &str, policy: &Policy, key: Option<&[u8]>) -> Result<String, Rejection> {
    match policy.cards.as_ref().map(|c| c.store).unwrap_or_default() {
        CardStore::Clear => Ok(number.to_owned()),
        CardStore::Hash => {
            let key = key.filter(|k| !k.is_empty()).ok_or_else(|| {
                Rejection::CardKeyMissing(
                    "the policy records cards as hashes and the ledger has no card key".into(),
                )
            })?;
            Ok(format!(
                "{CARD_HASH_PREFIX}{}",
                hex::encode(hmac_sha256(key, number.as_bytes()))
            ))
        }
    }
}

/// Which member holds which card (in its recorded form): every card linked and not unlinked,
/// lost and replaced ones included (so naming them is refused as lost, not taken for another
/// member's). Cloning it is cheap (shared until changed): a ledger's plan takes a copy per
/// batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardDirectory {
    cards: Arc<HashMap<String, MemberId>>,
}

impl CardDirectory {
    /// The member holding a card (recorded form), if any.
    pub fn owner(&self, card: &str) -> Option<&MemberId> {
        self.cards.get(card)
    }

    /// Cards in the directory.
    pub fn len(&self) -> usize {
        self.cards.len()
    }

    /// Whether no card is linked.
    pub fn is_empty(&self) -> bool {
        self.cards.is_empty()
    }

    /// Folds one event (any stream; only card events change it).
    pub fn fold(&mut self, event: &Event) {
        match &event.body {
            EventBody::CardLinked(b) => {
                Arc::make_mut(&mut self.cards).insert(b.card.clone(), event.member.clone());
            }
            EventBody::CardReplaced(b) => {
                Arc::make_mut(&mut self.cards).insert(b.new_card.clone(), event.member.clone());
            }
            EventBody::CardUnlinked(b) => {
                Arc::make_mut(&mut self.cards).remove(&b.card);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_card_depends_on_the_key_and_never_shows_the_number() {
        let p = Policy::from_json(r#"{"tiers":[{"name":"s","discount":"1.00","points_per_yuan":"1"}],"cards":{"store":"hash"}}"#).unwrap();
        let a = card_ref("6222000011112222", &p, Some(b"k1")).unwrap();
        let b = card_ref("6222000011112222", &p, Some(b"k2")).unwrap();
        assert_ne!(a, b);
        assert!(!a.contains("6222000011112222"));
        assert_eq!(a, card_ref("6222000011112222", &p, Some(b"k1")).unwrap());
    }
}

//! What an event records of money that is not the card's: the part of a charge paid outside
//! the card (cash, a phone wallet, a bank card), and what a points redemption gave.

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// The longest payment method name.
pub const METHOD_LEN_MAX: usize = 32;

/// The method that books to the store's till (`Assets:Cash:<store>`); every other method books
/// to a receivable of its own (`Assets:Receivable:<method>:<store>`), what the payment provider
/// owes the store.
pub const CASH_METHOD: &str = "cash";

/// A part of a charge paid outside the card, and how (born at schema 3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct External {
    /// How much.
    pub amount: Money,
    /// How: `cash`, `wechat`, `alipay`, `bank_card`, or any name of 1 to 32 characters of
    /// `[a-z0-9_]` (it names an account).
    pub method: String,
}

/// What a points redemption gave the member (born at schema 3): a service or a gift, and its
/// value, booked as a loyalty expense of the store that gave it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Given {
    /// What was given (free text, like a service's name).
    pub item: String,
    /// A service or a gift.
    pub kind: GivenKind,
    /// Its value.
    pub value: Money,
}

/// What kind of thing a points redemption gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GivenKind {
    /// A service delivered free.
    Service,
    /// Goods given.
    Gift,
}

/// Checks a payment method's name: 1 to [`METHOD_LEN_MAX`] characters of `[a-z0-9_]`.
pub fn validate_method(method: &str) -> Result<(), String> {
    let ok = !method.is_empty()
        && method.len() <= METHOD_LEN_MAX
        && method
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "payment method {method:?} is not 1 to {METHOD_LEN_MAX} characters of [a-z0-9_]"
        ))
    }
}

//! Prepaid-card rules (《单用途商业预付卡管理办法》 and city rules, docs/COMPLIANCE.md): the
//! legal entities that issue the cards, the cap on what a card may hold, the shortest expiry a
//! bonus or package may have, and the filing thresholds a report checks.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::Rejection;
use crate::id::validate_id;
use crate::money::{div_round, Money, Rounding, AMOUNT_MAX};

/// The id of the entity every store not listed by an entity belongs to.
pub const DEFAULT_ENTITY_ID: &str = "default";

/// The deposit ratio of the default entity: 40 %, the highest the 办法 requires (a brand
/// issuer's, art. 26), so a chain that lists no entity is never told to hold too little.
pub const DEFAULT_DEPOSIT_RATIO: Decimal = Decimal::from_parts(40, 0, 0, false, 2);

/// The most entities and thresholds a policy may list.
pub const ENTITIES_MAX: usize = 256;

/// What kind of issuer an entity is (the 办法's three classes of issuer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// 品牌发卡企业 (a brand issuer): at least 40 % held (art. 26).
    Brand,
    /// 集团发卡企业 (a group issuer): at least 30 % held (art. 26).
    Group,
    /// 规模发卡企业 (an issuer of scale): at least 20 % held (art. 26).
    Scale,
}

/// A legal entity that issues cards: the stores whose sales it answers for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Entity {
    /// An id (`[A-Za-z0-9_.-]`), not `default`.
    pub id: String,
    /// Its name as registered (free text).
    pub name: String,
    /// Its class.
    pub kind: EntityKind,
    /// The share of the previous quarter's outstanding balance it holds in deposit, in
    /// [0, 1] (`"0.40"`).
    pub deposit_ratio: Decimal,
    /// Its stores; a store belongs to at most one entity.
    pub stores: Vec<String>,
}

/// A threshold a report flags once the outstanding balance reaches it (Beijing: ¥500,000 for
/// filing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Threshold {
    /// An id (`beijing_filing`).
    pub name: String,
    /// The outstanding prepaid balance (principal and packages' paid value) that reaches it.
    pub outstanding: Money,
}

/// The prepaid-card section of the policy. Absent: no cap, no minimum expiry, one default
/// entity at [`DEFAULT_DEPOSIT_RATIO`], no thresholds.
///
/// ```
/// use memberledger_core::Policy;
/// let p = Policy::from_json(r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}],
///   "prepaid":{"stored_value_cap":"5000.00","min_expiry_days":1095,
///     "entities":[{"id":"E1","name":"Brand Co.","kind":"brand","deposit_ratio":"0.40","stores":["S1","S2"]}]}}"#).unwrap();
/// let prepaid = p.prepaid.as_ref().unwrap();
/// assert_eq!(prepaid.entity_of("S2"), "E1");
/// assert_eq!(prepaid.entity_of("S9"), "default");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PrepaidPolicy {
    /// The issuing entities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<Entity>,
    /// The most stored value (principal and bonus) a member may hold: a recharge or bonus
    /// that would take it beyond is refused (`stored_value_cap_exceeded`). The 2011 State
    /// Council opinion's caps are ¥5,000 for a named card and ¥1,000 for an unnamed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored_value_cap: Option<Money>,
    /// The shortest life of a bonus or package, in days: a policy whose `bonus_expiry_days`
    /// is shorter is invalid, and a command naming an earlier `expires_at` is refused
    /// (`expiry_too_short`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_expiry_days: Option<u32>,
    /// Thresholds the prepaid report flags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<Threshold>,
}

impl PrepaidPolicy {
    /// The entity a store belongs to: its entity's id, or [`DEFAULT_ENTITY_ID`].
    pub fn entity_of(&self, store: &str) -> &str {
        self.entities
            .iter()
            .find(|e| e.stores.iter().any(|s| s == store))
            .map_or(DEFAULT_ENTITY_ID, |e| e.id.as_str())
    }

    /// The deposit ratio of an entity by id ([`DEFAULT_DEPOSIT_RATIO`] for the default one or
    /// an unknown id).
    pub fn deposit_ratio(&self, entity: &str) -> Decimal {
        self.entities
            .iter()
            .find(|e| e.id == entity)
            .map_or(DEFAULT_DEPOSIT_RATIO, |e| e.deposit_ratio)
    }

    /// Checks the section: ids, ratios in [0, 1], no store in two entities, a positive cap,
    /// a minimum expiry within bounds and not above the policy's bonus expiry.
    pub(crate) fn validate(&self, bonus_expiry_days: Option<u32>) -> Result<(), Rejection> {
        let bad = |m: String| Err(Rejection::InvalidPolicy(format!("prepaid: {m}")));
        if self.entities.len() > ENTITIES_MAX || self.thresholds.len() > ENTITIES_MAX {
            return bad(format!(
                "at most {ENTITIES_MAX} entities and {ENTITIES_MAX} thresholds"
            ));
        }
        let mut ids = HashSet::new();
        let mut owner: HashMap<&str, &str> = HashMap::new();
        for e in &self.entities {
            validate_id("entity", &e.id).or_else(|r| bad(r.to_string()))?;
            if e.id == DEFAULT_ENTITY_ID || !ids.insert(e.id.as_str()) {
                return bad(format!("entity id {:?} is reserved or listed twice", e.id));
            }
            crate::command::validate_text("entity name", &e.name)
                .or_else(|r| bad(r.to_string()))?;
            if e.deposit_ratio < Decimal::ZERO
                || e.deposit_ratio > Decimal::ONE
                || e.deposit_ratio.scale() > 4
            {
                return bad(format!(
                    "entity {:?}: deposit_ratio {} must be in [0, 1] with at most 4 decimals",
                    e.id, e.deposit_ratio
                ));
            }
            for s in &e.stores {
                validate_id("store", s).or_else(|r| bad(r.to_string()))?;
                if let Some(other) = owner.insert(s.as_str(), e.id.as_str()) {
                    return bad(format!(
                        "store {s:?} belongs to both entity {other:?} and entity {:?}",
                        e.id
                    ));
                }
            }
        }
        if self
            .stored_value_cap
            .is_some_and(|c| !c.is_positive() || c > AMOUNT_MAX)
        {
            return bad(format!(
                "stored_value_cap must be above zero and at most {AMOUNT_MAX}"
            ));
        }
        if let Some(min) = self.min_expiry_days {
            if min == 0 || min > super::EXPIRY_DAYS_MAX {
                return bad(format!(
                    "min_expiry_days must be 1-{}",
                    super::EXPIRY_DAYS_MAX
                ));
            }
            if bonus_expiry_days.is_some_and(|d| d < min) {
                return bad(format!(
                    "bonus_expiry_days {} is shorter than min_expiry_days {min}",
                    bonus_expiry_days.unwrap_or_default()
                ));
            }
        }
        for t in &self.thresholds {
            validate_id("threshold", &t.name).or_else(|r| bad(r.to_string()))?;
            if !t.outstanding.is_positive() {
                return bad(format!("threshold {:?} must be above zero", t.name));
            }
        }
        Ok(())
    }
}

/// How a balance refund (退卡) treats bonus: the policy's `refund.formula`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundFormula {
    /// The principal held less the bonus spent since the last balance refund (claw-back).
    ClawBackUsedBonus,
    /// `remaining × paid ÷ (paid + bonus granted)`, at most the principal held: the member
    /// gets back the paid share of what is left.
    ProRata,
    /// The principal held, whatever bonus was spent.
    None,
}

impl RefundFormula {
    /// Its name on the wire and on a `balance_refunded` event.
    pub fn as_str(self) -> &'static str {
        match self {
            RefundFormula::ClawBackUsedBonus => "claw_back_used_bonus",
            RefundFormula::ProRata => "pro_rata",
            RefundFormula::None => "none",
        }
    }
}

/// The pro-rata refund: `remaining × paid ÷ (paid + granted)`, rounded to the cent by
/// `rounding`; `remaining` when nothing was paid or granted. Never more than `paid` when
/// `remaining ≤ paid + granted` (what a member can hold), nor more than `remaining`.
///
/// ```
/// use memberledger_core::{pro_rata_refund, Money, Rounding};
/// let m = |s: &str| s.parse::<Money>().unwrap();
/// // paid 1000, granted 150, 250 left: 250 × 1000 / 1150 = 217.391… → 217.39
/// assert_eq!(pro_rata_refund(m("1000.00"), m("150.00"), m("250.00"), Rounding::HalfUp), m("217.39"));
/// ```
pub fn pro_rata_refund(paid: Money, granted: Money, remaining: Money, rounding: Rounding) -> Money {
    let den = i128::from(paid.cents()) + i128::from(granted.cents());
    if den == 0 {
        return remaining;
    }
    let cents = div_round(
        i128::from(remaining.cents()) * i128::from(paid.cents()),
        den,
        rounding,
    );
    Money::from_cents(i64::try_from(cents).unwrap_or(i64::MAX)).min(remaining)
}

/// Whether `result` is the pro-rata figure under some rounding (between its floor and its
/// ceiling): what a fold, which does not know the policy's rounding, can check.
pub(crate) fn pro_rata_within_a_cent(
    paid: Money,
    granted: Money,
    remaining: Money,
    result: Money,
) -> bool {
    let floor = pro_rata_refund(paid, granted, remaining, Rounding::Down);
    let ceil = pro_rata_refund(paid, granted, remaining, Rounding::Up);
    floor <= result && result <= ceil
}

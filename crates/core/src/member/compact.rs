//! The compact projection of a member (what a ledger caches: no refundable-consumption
//! records, and no spending window unless a rule reads it) serialized straight from a state
//! that keeps more: `verify` encodes every member at every checkpoint it compares, and a copy
//! of each, made only to be encoded and dropped, cost more than the encoding.

use std::collections::{BTreeMap, BTreeSet};

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::holdings::HoldingKind;
use super::{packed, view, MemberState, Rare, NO_CONSUMPTIONS};

mod cbor;

/// A member state serialized as its compact projection, without a copy: the same bytes, in
/// any format, as `state.clone().without_consumption_records()`, and then
/// `.without_spending_window()` unless the window is kept. See [`MemberState::compact`].
#[derive(Clone, Copy, Debug)]
pub struct Compact<'a> {
    state: &'a MemberState,
    spending: bool,
}

impl MemberState {
    /// This state as the compact projection a ledger caches, to serialize without copying it:
    /// without the refundable-consumption records, and without the spending window unless
    /// `spending` (a ledger whose policies name a rule reading it).
    ///
    /// ```
    /// # fn same(state: &memberledger_core::MemberState) {
    /// let copy = state.clone().without_consumption_records().without_spending_window();
    /// assert_eq!(
    ///     serde_json::to_string(&state.compact(false)).unwrap(),
    ///     serde_json::to_string(&copy).unwrap()
    /// );
    /// # }
    /// ```
    pub fn compact(&self, spending: bool) -> Compact<'_> {
        Compact {
            state: self,
            spending,
        }
    }
}

impl Serialize for Compact<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.state;
        // The window is dropped only from a state that keeps it (one that does not never
        // gains an entry of it).
        let drop_window = !self.spending && m.keeps_spending;
        // The fields of the derived form, in its order.
        let mut st = s.serialize_struct("MemberState", 15)?;
        st.serialize_field("member", &m.member)?;
        st.serialize_field("home_store", &m.home_store)?;
        st.serialize_field("tier", &m.tier)?;
        st.serialize_field("frozen", &m.frozen)?;
        st.serialize_field("keeps_consumptions", &false)?;
        st.serialize_field("keeps_spending", &(m.keeps_spending && !drop_window))?;
        st.serialize_field("version", &m.version)?;
        st.serialize_field("last_at", &m.last_at)?;
        st.serialize_field("next_lot", &m.next_lot)?;
        st.serialize_field("bonus_spent", &m.bonus_spent)?;
        st.serialize_field("credited_principal", &m.credited_principal)?;
        st.serialize_field("credited_bonus", &m.credited_bonus)?;
        st.serialize_field("tier_since", &m.tier_since)?;
        st.serialize_field("holdings", &Holdings { m, drop_window })?;
        // A state whose rare part holds only the records has none once they are dropped.
        let rare = m.rare.as_deref().filter(|r| !r.is_only_records());
        st.serialize_field("rare", &rare.map(CompactRare))?;
        st.end()
    }
}

/// A state's holdings, packed as the derived form packs them, the spending window's left out
/// when it is dropped.
struct Holdings<'a> {
    m: &'a MemberState,
    drop_window: bool,
}

impl Serialize for Holdings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.drop_window {
            packed::serialize_where(&self.m.holdings, |h| h.kind != HoldingKind::Spend, s)
        } else {
            packed::serialize(&self.m.holdings, s)
        }
    }
}

/// The rare part without the consumption records, in the derived form's fields and order.
struct CompactRare<'a>(&'a Rare);

impl Serialize for CompactRare<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut st = s.serialize_struct("Rare", 7)?;
        st.serialize_field("stores", &r.stores)?;
        st.serialize_field("consumptions", &NO_CONSUMPTIONS)?;
        st.serialize_field("packages", &Packages(&r.packages))?;
        st.serialize_field("refunded_in_full", &BTreeSet::<uuid::Uuid>::new())?;
        st.serialize_field("cards", &r.cards)?;
        st.serialize_field("holds", &r.holds)?;
        st.serialize_field("coupons", &r.coupons)?;
        st.end()
    }
}

/// The packages as the derived form writes them ([`view::packages_codec`]).
struct Packages<'a>(&'a BTreeMap<uuid::Uuid, Box<view::Package>>);

impl Serialize for Packages<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        view::packages_codec::serialize(self.0, s)
    }
}

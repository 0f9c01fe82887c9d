//! A member's cards: linked, lost, replaced and unlinked, folded from the card events.

use serde::{Deserialize, Serialize};

use crate::events::*;

use super::MemberState;

/// Where a member's card stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardStatus {
    /// Usable.
    Active,
    /// Reported lost: refused wherever it is named (`card_lost`).
    Lost,
    /// Replaced by a new card: refused wherever it is named (`card_replaced`).
    Replaced,
}

/// A card of the member, as read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Card {
    /// The card as recorded (its number, or `sha256:` and its keyed hash).
    pub card: String,
    /// Where it stands.
    pub status: CardStatus,
}

impl MemberState {
    /// The member's cards (lost and replaced ones too, until unlinked), by recorded form.
    pub fn cards(&self) -> Vec<Card> {
        self.rare.as_ref().map_or_else(Vec::new, |r| {
            r.cards
                .iter()
                .map(|(card, &status)| Card {
                    card: card.clone(),
                    status,
                })
                .collect()
        })
    }

    /// Where one of the member's cards (recorded form) stands; `None` when not the member's.
    pub fn card_status(&self, card: &str) -> Option<CardStatus> {
        self.rare.as_ref().and_then(|r| r.cards.get(card).copied())
    }

    pub(super) fn fold_card_linked(&mut self, b: &CardLinked) -> Result<(), String> {
        if self.card_status(&b.card).is_some() {
            return Err(format!("card {} is already the member's", b.card));
        }
        self.rare_mut()
            .cards
            .insert(b.card.clone(), CardStatus::Active);
        Ok(())
    }

    pub(super) fn fold_card_lost(&mut self, b: &CardReportedLost) -> Result<(), String> {
        if self.card_status(&b.card) != Some(CardStatus::Active) {
            return Err(format!(
                "card {} is not an active card of the member",
                b.card
            ));
        }
        self.rare_mut()
            .cards
            .insert(b.card.clone(), CardStatus::Lost);
        Ok(())
    }

    pub(super) fn fold_card_replaced(&mut self, b: &CardReplaced) -> Result<(), String> {
        match self.card_status(&b.old_card) {
            Some(CardStatus::Active | CardStatus::Lost) => {}
            _ => return Err(format!("card {} cannot be replaced", b.old_card)),
        }
        if self.card_status(&b.new_card).is_some() {
            return Err(format!("card {} is already the member's", b.new_card));
        }
        let cards = &mut self.rare_mut().cards;
        cards.insert(b.old_card.clone(), CardStatus::Replaced);
        cards.insert(b.new_card.clone(), CardStatus::Active);
        Ok(())
    }

    pub(super) fn fold_card_unlinked(&mut self, b: &CardUnlinked) -> Result<(), String> {
        if self.rare_mut().cards.remove(&b.card).is_none() {
            return Err(format!("card {} is not the member's", b.card));
        }
        self.tidy_rare();
        Ok(())
    }

    pub(super) fn fold_card_used(&self, b: &CardUsed) -> Result<(), String> {
        if self.card_status(&b.card) != Some(CardStatus::Active) {
            return Err(format!(
                "card {} is not an active card of the member",
                b.card
            ));
        }
        Ok(())
    }
}

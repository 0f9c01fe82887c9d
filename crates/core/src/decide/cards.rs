//! Cards: linking, reporting lost, replacing and unlinking a member's cards, and the card a
//! member's command is made with (refused when lost, replaced, or not the member's; recorded
//! as `card_used` otherwise). A card belongs to at most one member: linking checks the card
//! directory of the [`Context`](super::Context). Messages never show a card number.

use super::draft::Draft;
use crate::cards::card_ref;
use crate::command::Action;
use crate::error::Rejection;
use crate::event::EventBody;
use crate::events::*;
use crate::member::CardStatus;
use crate::policy::Policy;

impl Draft<'_> {
    /// The card the command names, in its recorded form: checked against the member's cards
    /// for what the action needs, and recorded as `card_used` for any other action.
    pub(super) fn card_gate(&mut self, policy: &Policy) -> Result<(), Rejection> {
        let Some(number) = &self.cmd.card else {
            return Ok(());
        };
        let card = card_ref(number, policy, self.card_key)?;
        let status = self.state.card_status(&card);
        let member = &self.cmd.member;
        let not_linked =
            || Rejection::CardNotLinked(format!("the card named is not linked to member {member}"));
        match (&self.cmd.action, status) {
            (Action::LinkCard, _) => self.free_card(&card, "card")?,
            (Action::UnlinkCard, s) => {
                s.ok_or_else(not_linked)?;
            }
            (Action::ReplaceCard { .. }, Some(CardStatus::Active | CardStatus::Lost)) => {}
            (_, None) => return Err(not_linked()),
            (_, Some(CardStatus::Lost)) => {
                return Err(Rejection::CardLost(format!(
                    "the card named was reported lost: use member {member}'s id or a new card"
                )))
            }
            (_, Some(CardStatus::Replaced)) => {
                return Err(Rejection::CardReplaced(format!(
                    "the card named was replaced: use member {member}'s new card or id"
                )))
            }
            (Action::ReportLost { .. }, Some(CardStatus::Active)) => {}
            (_, Some(CardStatus::Active)) => {
                self.record(EventBody::CardUsed(CardUsed { card: card.clone() }))?;
            }
        }
        self.card = Some(card);
        Ok(())
    }

    /// Refuses a card (recorded form) that is linked already, to this member or another.
    fn free_card(&self, card: &str, field: &str) -> Result<(), Rejection> {
        let member = &self.cmd.member;
        if self.state.card_status(card).is_some() {
            return Err(Rejection::CardInUse(format!(
                "the {field} named is already linked to member {member}"
            )));
        }
        if let Some(owner) = self.cards.and_then(|d| d.owner(card)) {
            if owner != member {
                return Err(Rejection::CardInUse(format!(
                    "the {field} named is linked to another member"
                )));
            }
        }
        Ok(())
    }

    /// The card actions, once [`card_gate`](Self::card_gate) has checked the card.
    pub(super) fn card_action(&mut self, policy: &Policy) -> Result<(), Rejection> {
        let card = self
            .card
            .clone()
            .ok_or_else(|| Rejection::InvalidCommand("a card command needs `card`".into()))?;
        let body = match &self.cmd.action {
            Action::LinkCard => EventBody::CardLinked(CardLinked { card }),
            Action::ReportLost { reason } => EventBody::CardReportedLost(CardReportedLost {
                card,
                reason: reason.clone(),
            }),
            Action::ReplaceCard { new_card } => {
                let new_card = card_ref(new_card, policy, self.card_key)?;
                self.free_card(&new_card, "new card")?;
                EventBody::CardReplaced(CardReplaced {
                    new_card,
                    old_card: card,
                })
            }
            _ => EventBody::CardUnlinked(CardUnlinked { card }),
        };
        self.record(body)
    }
}

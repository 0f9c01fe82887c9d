//! Cards and holds in the stream: members link cards, lose them, get them replaced and
//! unlinked (now and then naming another member's card, a lost one or one never linked); a
//! terminal authorizes before a service, captures at the final price (sometimes above what
//! it held) or voids, and some holds lapse.

use super::*;

impl Sim {
    /// A card command: the member's own numbers (`K<member>-<n>`), another member's card now
    /// and then (`card_in_use`), never when clients run at once (the outcome would depend on
    /// their order).
    pub(crate) fn gen_card(&mut self, member: &str, m: &Member, concurrent: bool) -> Kind {
        let own = |sim: &mut Sim| format!("K{member}-{}", sim.rng.range(1, 40));
        let held: Vec<String> = m.cards.keys().cloned().collect();
        let known = |sim: &mut Sim| {
            if held.is_empty() || sim.rng.chance(100) {
                own(sim)
            } else {
                held[sim.rng.index(held.len())].clone()
            }
        };
        let weights = if held.is_empty() {
            [90, 4, 3, 3]
        } else {
            [25, 25, 35, 15]
        };
        match self.rng.weighted(&weights) {
            0 => {
                let others: Vec<String> = self
                    .model
                    .members
                    .iter()
                    .filter(|(id, _)| id.as_str() != member)
                    .flat_map(|(_, o)| o.cards.keys().cloned())
                    .collect();
                let card = if !concurrent && !others.is_empty() && self.rng.chance(150) {
                    others[self.rng.index(others.len())].clone()
                } else {
                    own(self)
                };
                Kind::LinkCard { card }
            }
            1 => Kind::ReportLost { card: known(self) },
            2 => {
                let card = known(self);
                let mut new_card = own(self);
                if new_card == card {
                    new_card = format!("{card}x");
                }
                Kind::ReplaceCard { card, new_card }
            }
            _ => Kind::UnlinkCard { card: known(self) },
        }
    }

    /// A hold command: authorize mostly within what is available (sometimes more), capture an
    /// open hold at a final price mostly within it, void one; now and then a hold id the
    /// member does not have.
    pub(crate) fn gen_hold(&mut self, m: &Member, at: i64) -> Kind {
        // Holds still open at `at` (the others lapse first).
        let holds: Vec<(Uuid, i64)> = m
            .holds
            .iter()
            .filter(|(_, h)| h.expires > at)
            .map(|(id, h)| (*id, h.cents))
            .collect();
        let pick = if holds.is_empty() {
            0
        } else {
            self.rng.weighted(&[25, 55, 20])
        };
        let (hold, held) = if holds.is_empty() || self.rng.chance(30) {
            (self.new_id(), 10_000)
        } else {
            holds[self.rng.index(holds.len())]
        };
        match pick {
            0 => {
                let available = m.available();
                let cents = if available > 0 && self.rng.chance(850) {
                    self.rng.range(1, available)
                } else {
                    self.rng.range(1, 50_000)
                };
                let expires = match self.rng.weighted(&[30, 55, 15]) {
                    0 => None,
                    1 => Some(at + 30 * DAY),
                    _ => Some(at + *self.rng.pick(&[60, 3_600, DAY])),
                };
                Kind::Authorize { cents, expires }
            }
            1 => {
                let cents = if self.rng.chance(900) {
                    self.rng.range(1, held.max(1))
                } else {
                    held * 2 + 1
                };
                Kind::Capture { hold, cents }
            }
            _ => Kind::Void { hold },
        }
    }
}

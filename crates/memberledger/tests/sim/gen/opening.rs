//! Openings: a member moving from another system arrives with principal from any store,
//! bonus and points lapsing soon or late (or never), and packages with sessions left; now and
//! then an expiry at or before the opening's time, which is refused.

use super::super::driver::Sim;
use super::super::model::{OpeningSpec, DAY};

impl Sim {
    pub(crate) fn gen_opening(&mut self, at: i64) -> OpeningSpec {
        let mut o = OpeningSpec::default();
        let expiry = |sim: &mut Sim| match sim.rng.weighted(&[20, 60, 15, 5]) {
            0 => None,
            1 => Some(at + *sim.rng.pick(&[1, 3_600, DAY, 7 * DAY, 30 * DAY, 200 * DAY])),
            2 => Some(at + sim.rng.range(DAY, 400 * DAY)),
            // At the opening's time: refused (`invalid_command`).
            _ => Some(at),
        };
        for _ in 0..self.rng.below(3) {
            let store = self.store();
            o.principal.push((store, self.rng.range(1, 500_000)));
        }
        for _ in 0..self.rng.below(3) {
            let store = self.store();
            let e = expiry(self);
            o.bonus.push((store, self.rng.range(1, 50_000), e));
        }
        for _ in 0..self.rng.below(2) {
            let e = expiry(self);
            o.points.push((self.rng.range(1, 5_000).unsigned_abs(), e));
        }
        for _ in 0..self.rng.below(2) {
            let store = self.store();
            let service = (*self.rng.pick(&["facial", "massage", "nails"])).to_owned();
            let e = expiry(self);
            let sessions = u32::try_from(self.rng.range(1, 12)).expect("small");
            o.packages
                .push((store, service, self.rng.range(100, 40_000), sessions, e));
        }
        o
    }
}

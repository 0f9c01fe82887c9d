//! The command mix of a returning member's visit: how many of a thousand rolls go to each
//! kind of command. The demo's mix is [`Mix::DEMO`]; a test that wants more refunds, or only
//! recharges and services, sets its own in [`Shape::mix`](super::Shape::mix).
//!
//! The shares are laid out as bands of the roll, in the order of the fields (refunds first,
//! services last); a band whose command does not apply to the member (no consumption to
//! refund, no package to use) falls through to the bands after it, so the shares are what a
//! member with everything to hand would do.

/// Shares of a thousand rolls, per kind of command; consumptions take what is left. A mix
/// whose shares add up past a thousand leaves consumptions only what falls through.
///
/// ```
/// use memberledger_testkit::year::{Mix, Shape};
///
/// // Twice the demo's refunds.
/// let mix = Mix { refund_consumption: 60, ..Mix::DEMO };
/// let shape = Shape { mix, ..Shape::default() };
/// assert_eq!(shape.mix.consume(), Mix::DEMO.consume() - 30);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mix {
    /// A full or partial refund of one of the member's recent consumptions.
    pub refund_consumption: u16,
    /// The card's balance refunded in cash, closing it.
    pub refund_balance: u16,
    /// A manager moves the member to another tier.
    pub change_tier: u16,
    /// The card reported lost.
    pub freeze: u16,
    /// A correction by hand (bonus credited for a complaint).
    pub adjust: u16,
    /// An open package refunded (the member moves away).
    pub refund_package: u16,
    /// A bonus granted (a birthday).
    pub grant_bonus: u16,
    /// A recharge (members low on balance also recharge on some other rolls).
    pub recharge: u16,
    /// Points redeemed for a gift.
    pub redeem_points: u16,
    /// A course of sessions bought.
    pub purchase_package: u16,
    /// A session of an open course used.
    pub redeem_session: u16,
    /// Rolls below this, past the bands before it, unfreeze a frozen card: a lost card turns
    /// up again soon (a threshold, not a share).
    pub unfreeze_below: u16,
}

/// Where each band ends, counted from the first.
#[derive(Clone, Copy, Debug)]
pub(super) struct Bands {
    pub(super) refund_consumption: u64,
    pub(super) refund_balance: u64,
    pub(super) change_tier: u64,
    pub(super) freeze: u64,
    pub(super) adjust: u64,
    pub(super) refund_package: u64,
    pub(super) grant_bonus: u64,
    pub(super) recharge: u64,
    pub(super) redeem_points: u64,
    pub(super) purchase_package: u64,
    pub(super) redeem_session: u64,
}

impl Mix {
    /// The demo's mix: mostly services and sessions of courses, a tenth recharges and
    /// points, a few percent refunds, and rare freezes, corrections and tier changes.
    pub const DEMO: Mix = Mix {
        refund_consumption: 30,
        refund_balance: 3,
        change_tier: 3,
        freeze: 1,
        adjust: 1,
        refund_package: 1,
        grant_bonus: 17,
        recharge: 44,
        redeem_points: 15,
        purchase_package: 12,
        redeem_session: 323,
        unfreeze_below: 400,
    };

    /// The share of consumptions: what the other shares leave of a thousand.
    #[must_use]
    pub fn consume(&self) -> u64 {
        1000u64.saturating_sub(self.bands().redeem_session)
    }

    /// The end of each band of the roll.
    pub(super) fn bands(&self) -> Bands {
        let mut end = 0u64;
        let mut next = |share: u16| {
            end += u64::from(share);
            end
        };
        Bands {
            refund_consumption: next(self.refund_consumption),
            refund_balance: next(self.refund_balance),
            change_tier: next(self.change_tier),
            freeze: next(self.freeze),
            adjust: next(self.adjust),
            refund_package: next(self.refund_package),
            grant_bonus: next(self.grant_bonus),
            recharge: next(self.recharge),
            redeem_points: next(self.redeem_points),
            purchase_package: next(self.purchase_package),
            redeem_session: next(self.redeem_session),
        }
    }
}

impl Default for Mix {
    fn default() -> Mix {
        Mix::DEMO
    }
}

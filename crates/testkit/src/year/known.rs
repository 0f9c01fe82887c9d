//! What the generator knows of a member, learnt from the receipts so far.

use memberledger::domain::events::{BalanceRefunded, Consumed, ConsumptionRefunded};
use memberledger::domain::{EventBody, PackageStatus};
use memberledger::{Command, Ledger, Receipt, Uuid};

/// A member as the generator sees it: enough to choose plausible next commands.
#[derive(Default)]
pub(crate) struct Known {
    pub(crate) home: u32,
    pub(crate) enrolled: bool,
    pub(crate) balance_cents: i64,
    pub(crate) points: u64,
    pub(crate) frozen: bool,
    /// The tier held (empty until the first receipt is learnt).
    pub(crate) tier: String,
    /// The last few consumptions and what they charged, in cents.
    pub(crate) consumptions: Vec<(Uuid, i64)>,
    /// Open packages.
    pub(crate) packages: Vec<Uuid>,
    /// A welcome coupon (新人礼券) is due on the member's next visit.
    pub(crate) welcome: bool,
    /// The member was offered the 满减 campaign's coupon.
    pub(crate) campaign: bool,
    /// Unused coupons: id, the least charge it applies to (cents), when it lapses.
    pub(crate) coupons: Vec<(Uuid, i64, memberledger::Timestamp)>,
}

impl Known {
    /// Learns consumptions from a receipt, then balances, tier and packages from the ledger.
    pub(crate) fn learn(&mut self, command: &Command, receipt: &Receipt, ledger: &Ledger) {
        for e in &receipt.events {
            if let EventBody::Consumed(Consumed { charged, .. }) = &e.event.body {
                self.consumptions.push((command.id, charged.cents()));
                if self.consumptions.len() > 4 {
                    self.consumptions.remove(0);
                }
            }
            if let EventBody::BalanceRefunded(BalanceRefunded { .. }) = &e.event.body {
                self.consumptions.clear();
            }
        }
        self.consumptions.retain(|(c, _)| {
            !receipt.events.iter().any(|e| {
                matches!(&e.event.body, EventBody::ConsumptionRefunded(ConsumptionRefunded { consumption, .. }) if consumption == c)
            })
        });
        if let Some(v) = ledger.member(&command.member) {
            self.balance_cents = v.principal.plus(v.bonus).cents();
            self.points = v.points;
            self.frozen = v.frozen;
            self.tier = v.tier.to_string();
            self.coupons = v
                .coupons
                .iter()
                .map(|c| {
                    let least = c.terms.threshold.map_or(0, |t| t.cents());
                    (c.terms.coupon, least, c.terms.expires_at)
                })
                .collect();
            self.packages = v
                .packages
                .iter()
                .filter(|p| p.status == PackageStatus::Open)
                .map(|p| p.package)
                .collect();
        }
    }
}

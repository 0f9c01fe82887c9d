//! Per recharge ladder: what the recharges under each bonus rule of each policy version drew,
//! and what became of the stored value they created, lot by lot.

use memberledger::domain::{Draw, Event, LotKind};
use memberledger::{MemberId, Uuid};
use serde::Serialize;

use crate::projections::Projections;

/// Which recharges: the policy version in force, the bonus rule matched (`None`: no bonus),
/// the member.
pub type CampaignKey = (u32, Option<u32>, MemberId);

/// One member's recharges under one rule of one policy version, and their lots since, in
/// cents.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CampaignStats {
    /// Recharges drawn.
    pub recharges: u64,
    /// Cash paid in.
    #[serde(serialize_with = "crate::cents::ser")]
    pub cash: i128,
    /// Bonus given with them.
    #[serde(serialize_with = "crate::cents::ser")]
    pub bonus: i128,
    /// Spent from their lots on services or packages, less what refunds gave back.
    #[serde(serialize_with = "crate::cents::ser")]
    pub consumed: i128,
    /// Principal of their lots paid back in cash (退卡).
    #[serde(serialize_with = "crate::cents::ser")]
    pub refunded: i128,
    /// Bonus of their lots expired or forfeited.
    #[serde(serialize_with = "crate::cents::ser")]
    pub breakage: i128,
    /// Taken off their lots by corrections.
    #[serde(serialize_with = "crate::cents::ser")]
    pub adjusted_out: i128,
}

impl CampaignStats {
    /// Stored value created: cash plus bonus.
    #[must_use]
    pub fn created(&self) -> i128 {
        self.cash + self.bonus
    }

    /// Still held in their lots.
    #[must_use]
    pub fn outstanding(&self) -> i128 {
        self.created() - self.consumed - self.refunded - self.breakage - self.adjusted_out
    }

    /// Adds another's figures.
    pub(crate) fn add(&mut self, o: &CampaignStats) {
        self.recharges += o.recharges;
        self.cash += o.cash;
        self.bonus += o.bonus;
        self.consumed += o.consumed;
        self.refunded += o.refunded;
        self.breakage += o.breakage;
        self.adjusted_out += o.adjusted_out;
    }
}

/// A member's lot: (member, bonus?, lot number).
pub(crate) type LotKey = (MemberId, bool, u32);

/// The last recharge folded, so its bonus (the next event of the same command) joins it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LastRecharge {
    pub(crate) command: Uuid,
    pub(crate) lot: u32,
    pub(crate) cash: i128,
}

impl Projections {
    /// A recharge's principal lot opens a campaign entry, without a rule until its bonus says.
    pub(crate) fn campaign_recharged(&mut self, e: &Event, lot: u32, cash: i128) {
        let key = (e.policy, None, e.member.clone());
        let c = self.campaigns.entry(key.clone()).or_default();
        c.recharges += 1;
        c.cash += cash;
        self.lots.insert((e.member.clone(), false, lot), key);
        self.last_recharge = Some(LastRecharge {
            command: e.command,
            lot,
            cash,
        });
    }

    /// A recharge bonus under `rule`: the recharge (same command) moves to the rule's entry,
    /// and the bonus lot joins it.
    pub(crate) fn campaign_bonus(&mut self, e: &Event, rule: Option<u32>, lot: u32, bonus: i128) {
        let Some(last) = self
            .last_recharge
            .take()
            .filter(|r| r.command == e.command && rule.is_some())
        else {
            return;
        };
        let from = (e.policy, None, e.member.clone());
        if let Some(c) = self.campaigns.get_mut(&from) {
            c.recharges -= 1;
            c.cash -= last.cash;
            if *c == CampaignStats::default() {
                self.campaigns.remove(&from);
            }
        }
        let key = (e.policy, rule, e.member.clone());
        let c = self.campaigns.entry(key.clone()).or_default();
        c.recharges += 1;
        c.cash += last.cash;
        c.bonus += bonus;
        self.lots
            .insert((e.member.clone(), false, last.lot), key.clone());
        self.lots.insert((e.member.clone(), true, lot), key);
    }

    /// The campaign figures of a member's lot, if a recharge created it.
    pub(crate) fn campaign_lot(
        &mut self,
        member: &MemberId,
        kind: LotKind,
        lot: u32,
    ) -> Option<&mut CampaignStats> {
        let key = self
            .lots
            .get(&(member.clone(), kind == LotKind::Bonus, lot))?;
        self.campaigns.get_mut(key)
    }

    /// Lots drawn: `flow` of each lot's campaign grows by the amount.
    pub(crate) fn campaign_draws(
        &mut self,
        member: &MemberId,
        draws: &[Draw],
        flow: fn(&mut CampaignStats, LotKind) -> &mut i128,
    ) {
        for d in draws {
            if let Some(c) = self.campaign_lot(member, d.kind, d.lot) {
                *flow(c, d.kind) += i128::from(d.amount.cents());
            }
        }
    }
}

//! Comparing the ledger's members, books and clearing with the model's.

use super::*;
use memberledger::MemberView;

/// How much of the ledger a step's check compares with the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// The members the step touched (its commands' and those its events name): each as the
    /// log says (folded by the simulation as it reads the log) and as the ledger holds it in
    /// memory.
    Touched,
    /// After a crash in a long run: the members the step touched, the ledger's list of
    /// members, and every member as the reopened ledger holds it in memory against the log
    /// (not against the model, which costs more: that is every `every_every` steps).
    Reopened,
    /// Every member so, and the ledger's list of members: every 25 steps and after every
    /// crash in a short run (the reopened ledger's projections); in a long run every
    /// `every_every` steps.
    Every,
    /// Every member also re-read from the store, and `verify()` (a replay from genesis that
    /// also checks every checkpoint): the deep check, at its cadence.
    Deep,
}

impl Sim {
    /// The ledger's members, books and clearing equal the model's.
    ///
    /// Each member is taken as the simulation folded it from the log it read (with its
    /// refundable-consumption records, as `member_state` gives it) and as the ledger holds it
    /// in memory (its view must be the folded state's view, field for field); with
    /// [`Scope::Deep`] also as the store re-reads it through its member index (which must give
    /// the folded state). Each costs the member's own size, never the log's, except the
    /// store's re-read.
    pub(crate) fn compare(&self, members: &[String], scope: Scope) {
        let ledger = self.ledger();
        for m in members {
            let id = MemberId::new(m.as_str()).expect("generated ids are valid");
            let got = self.folded.get(&id);
            if scope == Scope::Deep {
                let stored = ledger.member_state(&id);
                if stored.as_ref() != got {
                    self.fail(&format!(
                        "member {m}: the store's re-read of its events (version {:?}) differs from the log as read (version {:?})",
                        stored.map(|s| s.version),
                        got.map(|s| s.version)
                    ));
                }
            }
            let want = self.model.member(m);
            let (got, want) = match (got, want) {
                (None, None) => continue,
                (Some(g), Some(w)) => (g, w),
                (g, w) => self.fail(&format!(
                    "member {m}: the ledger has {:?}, the model {:?}",
                    g.map(|s| s.version),
                    w.map(|s| s.version)
                )),
            };
            let view = ledger
                .member(&id)
                .expect("a member with a state has a view");
            let folded_view = MemberView::from(got);
            if view != folded_view {
                self.fail(&format!(
                    "member {m}: the ledger holds in memory what its log does not say:\n    {}",
                    view_diffs(&view, &folded_view).join("\n    ")
                ));
            }
            let mut diffs = Vec::new();
            let mut diff = |what: &str, g: String, w: String| {
                if g != w {
                    diffs.push(format!("{what}: ledger {g}, model {w}"));
                }
            };
            diff(
                "tier",
                got.tier.to_string(),
                TIERS[want.tier].name.to_owned(),
            );
            diff(
                "principal",
                view.principal.to_string(),
                money(want.principal_total()),
            );
            diff("bonus", view.bonus.to_string(), money(want.bonus_total()));
            diff(
                "points",
                view.points.to_string(),
                want.points_total().to_string(),
            );
            diff("version", got.version.to_string(), want.version.to_string());
            diff(
                "last_at",
                got.last_at.to_string(),
                timestamp(want.last_at).to_string(),
            );
            diff("home", got.home_store.to_string(), want.home.clone());
            diff("frozen", got.frozen.to_string(), want.frozen.to_string());
            diff("held", view.held.to_string(), money(want.held_total()));
            diff(
                "available",
                view.available.to_string(),
                money(want.available()),
            );
            diff(
                "holds",
                format!(
                    "{:?}",
                    view.holds
                        .iter()
                        .map(|h| (h.hold, h.amount.cents(), h.expires_at))
                        .collect::<Vec<_>>()
                ),
                format!(
                    "{:?}",
                    want.holds
                        .iter()
                        .map(|(id, h)| (*id, h.cents, timestamp(h.expires)))
                        .collect::<Vec<_>>()
                ),
            );
            diff(
                "cards",
                format!(
                    "{:?}",
                    view.cards
                        .iter()
                        .map(|c| (c.card.clone(), format!("{:?}", c.status)))
                        .collect::<Vec<_>>()
                ),
                format!(
                    "{:?}",
                    want.cards
                        .iter()
                        .map(|(c, st)| (c.clone(), format!("{st:?}")))
                        .collect::<Vec<_>>()
                ),
            );
            diff(
                "coupons",
                format!(
                    "{:?}",
                    view.coupons
                        .iter()
                        .map(|c| (c.terms.coupon, c.terms.expires_at))
                        .collect::<Vec<_>>()
                ),
                format!(
                    "{:?}",
                    want.coupons
                        .iter()
                        .filter(|(_, c)| c.used_by.is_none())
                        .map(|(id, c)| (*id, timestamp(c.expires)))
                        .collect::<Vec<_>>()
                ),
            );
            diff(
                "package value",
                view.package_value.to_string(),
                money(want.package_value()),
            );
            let packages_got: Vec<String> = got
                .packages()
                .iter()
                .map(|(id, p)| {
                    format!(
                        "{id}@{} {:?} {} {}/{} x{} = {} ({} bonus) left {}+{} until {:?}",
                        p.origin_store,
                        p.paid_from,
                        serde_json::to_value(p.status).expect("a status serialises"),
                        p.sessions_left,
                        p.sessions,
                        p.session_price,
                        p.price,
                        p.bonus_paid,
                        p.principal_left,
                        p.bonus_left,
                        p.expires_at.map(|t| t.to_string())
                    )
                })
                .collect();
            let packages_want: Vec<String> = want
                .packages
                .iter()
                .map(|(id, p)| {
                    format!(
                        "{id}@{} {} {} {}/{} x{} = {} ({} bonus) left {}+{} until {:?}",
                        p.store,
                        if p.cash { "Cash" } else { "Balance" },
                        serde_json::Value::from(p.status.name()),
                        p.sessions_left,
                        p.sessions,
                        money(p.session_price),
                        money(p.price),
                        money(p.bonus_paid),
                        money(p.principal_left),
                        money(p.bonus_left),
                        p.expires.map(|t| timestamp(t).to_string())
                    )
                })
                .collect();
            diff(
                "packages",
                packages_got.join("; "),
                packages_want.join("; "),
            );
            diff(
                "bonus_spent",
                got.bonus_spent.to_string(),
                money(want.bonus_spent),
            );
            let lots = |ls: &[memberledger::domain::Lot]| -> String {
                ls.iter()
                    .map(|l| {
                        format!(
                            "{}:{}@{}/{:?}",
                            l.lot,
                            l.remaining,
                            l.origin_store,
                            l.expires_at.map(|t| t.to_string())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let model_lots = |ls: &[super::super::model::Lot]| -> String {
                ls.iter()
                    .map(|l| {
                        format!(
                            "{}:{}@{}/{:?}",
                            l.lot,
                            money(l.cents),
                            l.store,
                            l.expires.map(|t| timestamp(t).to_string())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            diff(
                "principal lots",
                lots(&got.principal_lots()),
                model_lots(&want.principal),
            );
            diff(
                "bonus lots",
                lots(&got.bonus_lots()),
                model_lots(&want.bonus),
            );
            diff(
                "point lots",
                format!(
                    "{:?}",
                    got.point_lots()
                        .iter()
                        .map(|l| (l.lot, l.remaining, l.expires_at.map(|t| t.to_string())))
                        .collect::<Vec<_>>()
                ),
                format!(
                    "{:?}",
                    want.points
                        .iter()
                        .map(|l| (l.lot, l.points, l.expires.map(|t| timestamp(t).to_string())))
                        .collect::<Vec<_>>()
                ),
            );
            let consumptions_got: Vec<String> = got
                .consumptions()
                .iter()
                .map(|(id, c)| {
                    let draws: Vec<String> = c
                        .draws
                        .iter()
                        .map(|d| {
                            format!(
                                "{:?}{}:{}-{}",
                                d.draw.kind, d.draw.lot, d.draw.amount, d.restored
                            )
                        })
                        .collect();
                    format!(
                        "{id}@{} {}={}+{} refunded {} ({}+{}) points {}-{} [{}]",
                        c.store,
                        c.charged,
                        c.principal,
                        c.bonus,
                        c.refunded,
                        c.principal_restored,
                        c.bonus_restored,
                        c.points_earned,
                        c.points_reversed,
                        draws.join(" ")
                    )
                })
                .collect();
            let consumptions_want: Vec<String> = want
                .consumptions
                .iter()
                .map(|(id, c)| {
                    let draws: Vec<String> = c
                        .draws
                        .iter()
                        .map(|d| {
                            format!(
                                "{}{}:{}-{}",
                                if d.principal { "Principal" } else { "Bonus" },
                                d.lot,
                                money(d.cents),
                                money(d.restored)
                            )
                        })
                        .collect();
                    format!(
                        "{id}@{} {}={}+{} refunded {} ({}+{}) points {}-{} [{}]",
                        c.store,
                        money(c.charged),
                        money(c.principal),
                        money(c.bonus),
                        money(c.refunded),
                        money(c.principal_restored),
                        money(c.bonus_restored),
                        c.points_earned,
                        c.points_reversed,
                        draws.join(" ")
                    )
                })
                .collect();
            diff(
                "consumptions",
                consumptions_got.join("; "),
                consumptions_want.join("; "),
            );
            // The books agree: what the member's liability accounts hold.
            let book = |a: Account| -self.accounts.get(&a).copied().unwrap_or(0);
            diff(
                "books principal",
                book(Account::Principal(id.clone())).to_string(),
                want.principal_total().to_string(),
            );
            diff(
                "books bonus",
                book(Account::Bonus(id.clone())).to_string(),
                want.bonus_total().to_string(),
            );
            diff(
                "books package",
                book(Account::Package(id.clone())).to_string(),
                want.package_value().to_string(),
            );
            if !diffs.is_empty() {
                self.fail(&format!(
                    "member {m} differs from the model:\n    {}",
                    diffs.join("\n    ")
                ));
            }
        }
        let clearing = ledger.clearing();
        for d in &self.stores {
            for c in &self.stores {
                if d == c {
                    continue;
                }
                let got = clearing
                    .outstanding(
                        &StoreId::new(d.as_str()).expect("valid"),
                        &StoreId::new(c.as_str()).expect("valid"),
                    )
                    .cents();
                let want = self.model.owed(d, c);
                if got != want {
                    self.fail(&format!(
                        "store {d} owes {c} {} in the ledger, {} in the model",
                        money(got),
                        money(want)
                    ));
                }
            }
        }
        if scope == Scope::Reopened {
            for (id, folded) in &self.folded {
                let view = ledger.member(id);
                let folded_view = MemberView::from(folded);
                if view.as_ref() != Some(&folded_view) {
                    self.fail(&format!(
                        "member {id}: the reopened ledger holds in memory what its log does not say:\n    {}",
                        view.map_or_else(
                            || vec!["missing".to_owned()],
                            |v| view_diffs(&v, &folded_view)
                        )
                        .join("\n    ")
                    ));
                }
            }
        }
        if scope >= Scope::Reopened {
            let ids: Vec<String> = ledger
                .member_ids()
                .iter()
                .map(ToString::to_string)
                .collect();
            let want: Vec<String> = self.model.members.keys().cloned().collect();
            if ids != want {
                self.fail(&format!(
                    "the ledger's members {ids:?} differ from the model's {want:?}"
                ));
            }
        }
    }
}

/// The fields of two views that differ, as "field: ledger …, log …".
fn view_diffs(memory: &MemberView, log: &MemberView) -> Vec<String> {
    let (serde_json::Value::Object(a), serde_json::Value::Object(b)) = (
        serde_json::to_value(memory).expect("a view serialises"),
        serde_json::to_value(log).expect("a view serialises"),
    ) else {
        return vec![format!("{memory:?} / {log:?}")];
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("{k}: in memory {:?}, by the log {:?}", a.get(k), b.get(k)))
        .collect()
}

//! `memberledger member show`.

use memberledger::{Ledger, MemberId, MemberView, Timestamp};

use crate::Fail;

pub(crate) fn member(
    ledger: &Ledger,
    id: &str,
    json: bool,
    as_of: Option<&str>,
) -> Result<u8, Fail> {
    let member = MemberId::new(id).map_err(|e| Fail::usage(format!("{}: {e}", e.code())))?;
    let view = match as_of {
        None => ledger.member(&member),
        Some(t) => {
            let at: Timestamp = t
                .parse()
                .map_err(|e: memberledger::domain::Rejection| Fail::usage(e.to_string()))?;
            ledger.member_as_of(&member, at)?
        }
    };
    let Some(view) = view else {
        return Err(Fail::rejected(format!(
            "member_not_found: member {id} is not enrolled"
        )));
    };
    let mut o = String::new();
    if json {
        outln!(
            o,
            "{}",
            serde_json::to_string(&view).expect("views serialise")
        );
    } else {
        o.push_str(&render(&view));
    }
    crate::emit(&o)
}

/// A member view for people.
pub(crate) fn render(v: &MemberView) -> String {
    let mut s = format!(
        "member {} (home store {}) · tier {}{}\n  principal {:>12}\n  bonus     {:>12}\n  points    {:>12}\n  version   {:>12}\n",
        v.member,
        v.home_store,
        v.tier,
        if v.frozen { " · FROZEN" } else { "" },
        v.principal.to_string(),
        v.bonus.to_string(),
        v.points,
        v.version,
    );
    if !v.lots.is_empty() {
        s.push_str("  lots:\n");
        for l in &v.lots {
            let kind = match l.kind {
                memberledger::domain::LotKind::Principal => "principal",
                memberledger::domain::LotKind::Bonus => "bonus",
            };
            s.push_str(&format!(
                "    #{:<4} {:<9} {:>12}  from {:<8} {}\n",
                l.lot,
                kind,
                l.remaining.to_string(),
                l.origin_store,
                l.expires_at
                    .map(|t| format!("expires {t}"))
                    .unwrap_or_default()
            ));
        }
    }
    for p in &v.point_lots {
        s.push_str(&format!(
            "    #{:<4} points    {:>12}  {}\n",
            p.lot,
            p.remaining,
            p.expires_at
                .map(|t| format!("expires {t}"))
                .unwrap_or_default()
        ));
    }
    if !v.packages.is_empty() {
        s.push_str(&format!("  packages ({} unredeemed):\n", v.package_value));
        for p in &v.packages {
            let status = match p.status {
                memberledger::domain::PackageStatus::Open => format!(
                    "{}/{} sessions left, {} left",
                    p.sessions_left,
                    p.sessions,
                    p.value_left()
                ),
                memberledger::domain::PackageStatus::Used => "all sessions redeemed".to_owned(),
                memberledger::domain::PackageStatus::Refunded => "refunded".to_owned(),
                memberledger::domain::PackageStatus::Expired => "expired".to_owned(),
            };
            s.push_str(&format!(
                "    {} {} · {} · from {}{}\n",
                p.package,
                p.service,
                status,
                p.origin_store,
                p.expires_at
                    .filter(|_| p.status == memberledger::domain::PackageStatus::Open)
                    .map(|t| format!(" · expires {t}"))
                    .unwrap_or_default()
            ));
        }
    }
    s.push_str(&render_cards_and_holds(v));
    s
}

/// The held and available balances, open holds and cards of a member view (nothing when the
/// member has neither holds nor cards).
fn render_cards_and_holds(v: &MemberView) -> String {
    let mut s = String::new();
    if !v.holds.is_empty() {
        s.push_str(&format!(
            "  held      {:>12}
  available {:>12}
  holds:
",
            v.held.to_string(),
            v.available.to_string()
        ));
        for h in &v.holds {
            s.push_str(&format!(
                "    {} {:>12}  for {:<8} expires {}
",
                h.hold,
                h.amount.to_string(),
                h.store,
                h.expires_at
            ));
        }
    }
    if !v.cards.is_empty() {
        s.push_str(
            "  cards:
",
        );
        for c in &v.cards {
            let status = match c.status {
                memberledger::domain::CardStatus::Active => "active",
                memberledger::domain::CardStatus::Lost => "LOST",
                memberledger::domain::CardStatus::Replaced => "replaced",
            };
            s.push_str(&format!(
                "    {:<24} {status}
",
                c.card
            ));
        }
    }
    s
}

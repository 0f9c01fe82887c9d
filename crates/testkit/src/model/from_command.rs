//! The way back from the ledger's own [`Command`] to a [`Spec`], so a test that drives the
//! core with real commands can ask the model about them.

use memberledger::domain::{
    Action, Balance, Command, CouponOffer, Direction, ExternalAmount, GivenKind, Money, PaidFrom,
    Timestamp,
};

use super::spec::{Bal, Ext, ExtAmount, Gift, Kind, Offer, Spec};

fn secs(t: Timestamp) -> i64 {
    t.as_datetime().timestamp()
}

fn cents(m: Money) -> i64 {
    m.cents()
}

impl Spec {
    /// The spec of a command the model knows: every member command and settlements; `None`
    /// for what the model does not judge (policy publication, the clock's sweep of expiries).
    ///
    /// ```
    /// use memberledger::domain::Command;
    /// use memberledger_testkit::model::{Kind, Spec};
    ///
    /// let c = Command::from_json(r#"{"id":"6f1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10",
    ///     "at":"2026-03-01T10:00:00Z","type":"recharge","member":"M1","store":"S1",
    ///     "amount":"1000.00"}"#).unwrap();
    /// let spec = Spec::from_command(&c).unwrap();
    /// assert_eq!(spec.kind, Kind::Recharge { cents: 100_000, staff: None });
    /// assert_eq!(spec.command().unwrap(), c);
    /// ```
    pub fn from_command(c: &Command) -> Option<Spec> {
        let member = (!c.member.is_stores()).then(|| c.member.as_str().to_owned());
        Some(Spec {
            id: c.id,
            at: secs(c.at),
            member,
            store: c.store.as_str().to_owned(),
            kind: balance_kind(&c.action)
                .or_else(|| other_kind(&c.action, c.store.as_str()))
                .or_else(|| card_kind(c))
                .or_else(|| coupon_kind(&c.action))?,
        })
    }
}

/// Commands that move money in or out of the balance, and settlements.
fn balance_kind(a: &Action) -> Option<Kind> {
    let staff =
        |s: &Option<memberledger::domain::StaffId>| s.as_ref().map(|s| s.as_str().to_owned());
    Some(match a {
        Action::Enroll { tier } => Kind::Enroll { tier: tier.clone() },
        Action::Recharge { amount, staff: s } => Kind::Recharge {
            cents: cents(*amount),
            staff: staff(s),
        },
        Action::GrantBonus {
            amount,
            reason,
            expires_at,
        } => Kind::Grant {
            cents: cents(*amount),
            reason: reason.clone(),
            expires: expires_at.map(secs),
        },
        Action::Consume {
            amount,
            staff: s,
            service,
            external,
            // The model does not judge coupons (yet): such a visit has no spec.
            coupon: None,
        } => Kind::Consume {
            cents: cents(*amount),
            staff: staff(s),
            service: service.clone(),
            external: external.as_ref().map(|x| Ext {
                method: x.method.clone(),
                amount: match x.amount {
                    ExternalAmount::Rest => ExtAmount::Rest,
                    ExternalAmount::All => ExtAmount::All,
                    ExternalAmount::Fixed(m) => ExtAmount::Cents(cents(m)),
                },
            }),
        },
        Action::RefundConsumption {
            consumption,
            amount,
        } => Kind::Refund {
            consumption: *consumption,
            cents: amount.map(cents),
        },
        Action::RefundBalance => Kind::RefundBalance,
        Action::ReviewTier => Kind::ReviewTier,
        Action::Settle { to, amount } => Kind::Settle {
            to: to.as_str().to_owned(),
            cents: amount.map(cents),
        },
        _ => return None,
    })
}

/// The card's standing, corrections by hand and packages.
fn other_kind(a: &Action, home: &str) -> Option<Kind> {
    let staff =
        |s: &Option<memberledger::domain::StaffId>| s.as_ref().map(|s| s.as_str().to_owned());
    Some(match a {
        Action::ChangeTier { tier, reason } => Kind::ChangeTier {
            tier: tier.clone(),
            reason: reason.clone(),
        },
        Action::Freeze { reason } => Kind::Freeze {
            reason: reason.clone(),
        },
        Action::Unfreeze { reason } => Kind::Unfreeze {
            reason: reason.clone(),
        },
        Action::RedeemPoints {
            points,
            reason,
            given,
        } => Kind::RedeemPoints {
            points: *points,
            reason: reason.clone(),
            given: given.as_ref().map(|g| Gift {
                service: g.kind == GivenKind::Service,
                item: g.item.clone(),
                cents: cents(g.value),
            }),
        },
        Action::Adjust { .. } => adjust_kind(a)?,
        Action::PurchasePackage {
            amount,
            paid_from,
            service,
            sessions,
            expires_at,
            staff: s,
            external,
        } => Kind::PurchasePackage {
            cents: cents(*amount),
            cash: *paid_from == PaidFrom::Cash,
            service: service.clone(),
            sessions: *sessions,
            expires: expires_at.map(secs),
            staff: staff(s),
            external: external.as_ref().map(|x| Ext {
                method: x.method.clone(),
                amount: match x.amount {
                    ExternalAmount::Rest => ExtAmount::Rest,
                    ExternalAmount::All => ExtAmount::All,
                    ExternalAmount::Fixed(m) => ExtAmount::Cents(cents(m)),
                },
            }),
        },
        Action::RedeemSession { package, staff: s } => Kind::RedeemSession {
            package: *package,
            staff: staff(s),
        },
        Action::RefundPackage { package, reason } => Kind::RefundPackage {
            package: *package,
            reason: reason.clone(),
        },
        Action::OpenBalance { tier, opening } => Kind::OpenBalance {
            tier: tier.clone(),
            opening: opening_spec(opening, home),
        },
        _ => return None,
    })
}

/// The coupon commands, and a visit naming a coupon.
fn coupon_kind(a: &Action) -> Option<Kind> {
    let ext = |x: &Option<memberledger::domain::ExternalPay>| {
        x.as_ref().map(|x| Ext {
            method: x.method.clone(),
            amount: match x.amount {
                ExternalAmount::Rest => ExtAmount::Rest,
                ExternalAmount::All => ExtAmount::All,
                ExternalAmount::Fixed(m) => ExtAmount::Cents(cents(m)),
            },
        })
    };
    Some(match a {
        Action::Consume {
            amount,
            external,
            coupon: Some(coupon),
            ..
        } => Kind::ConsumeCoupon {
            cents: cents(*amount),
            coupon: *coupon,
            external: ext(external),
        },
        Action::IssueCoupon {
            offer,
            reason,
            expires_at,
        } => Kind::IssueCoupon {
            offer: match offer {
                CouponOffer::Amount(a) => Offer::Amount(cents(*a)),
                // Any percentage a command may name: at most two decimals, so a whole number
                // of hundredths.
                CouponOffer::Percent { percent, cap } => Offer::Percent {
                    percent_x100: hundredths(*percent)?,
                    cap: cents(*cap),
                },
                CouponOffer::Threshold { threshold, amount } => Offer::Threshold {
                    threshold: cents(*threshold),
                    amount: cents(*amount),
                },
                CouponOffer::Session { service } => Offer::Session(service.clone()),
                _ => return None,
            },
            reason: reason.clone(),
            expires: secs(*expires_at),
        },
        Action::GrantPackage {
            service,
            sessions,
            expires_at,
            reason,
        } => Kind::GrantPackage {
            service: service.clone(),
            sessions: *sessions,
            expires: expires_at.map(secs),
            reason: reason.clone(),
        },
        _ => return None,
    })
}

/// A correction by hand, as the model writes it.
fn adjust_kind(a: &Action) -> Option<Kind> {
    let Action::Adjust {
        balance,
        direction,
        amount,
        points,
        reason,
        operator,
        ..
    } = a
    else {
        return None;
    };
    let balance = match balance {
        Balance::Principal => Bal::Principal,
        Balance::Bonus => Bal::Bonus,
        _ => Bal::Points,
    };
    let qty = match balance {
        Bal::Points => i64::try_from(points.unwrap_or(0)).ok()?,
        _ => amount.map_or(0, cents),
    };
    Some(Kind::Adjust {
        balance,
        credit: *direction == Direction::Credit,
        qty,
        reason: reason.clone(),
        operator: operator.as_str().to_owned(),
    })
}

/// An opening as the model writes it: every origin store named (the home store when absent).
fn opening_spec(o: &memberledger::domain::Opening, home: &str) -> super::OpeningSpec {
    let store = |s: &Option<memberledger::StoreId>| {
        s.as_ref()
            .map_or_else(|| home.to_owned(), |s| s.as_str().to_owned())
    };
    super::OpeningSpec {
        principal: o
            .principal
            .iter()
            .map(|p| (store(&p.origin_store), cents(p.amount)))
            .collect(),
        bonus: o
            .bonus
            .iter()
            .map(|b| {
                (
                    store(&b.origin_store),
                    cents(b.amount),
                    b.expires_at.map(secs),
                )
            })
            .collect(),
        points: o
            .points
            .iter()
            .map(|p| (p.points, p.expires_at.map(secs)))
            .collect(),
        packages: o
            .packages
            .iter()
            .map(|p| {
                (
                    store(&p.origin_store),
                    p.service.clone(),
                    cents(p.session_price),
                    p.sessions,
                    p.expires_at.map(secs),
                )
            })
            .collect(),
    }
}
/// Cards and holds (a command named by a card and no member is not the model's).
fn card_kind(c: &Command) -> Option<Kind> {
    let card = || c.card.clone();
    Some(match &c.action {
        Action::LinkCard => Kind::LinkCard { card: card()? },
        Action::ReportLost { .. } => Kind::ReportLost { card: card()? },
        Action::ReplaceCard { new_card } => Kind::ReplaceCard {
            card: card()?,
            new_card: new_card.clone(),
        },
        Action::UnlinkCard => Kind::UnlinkCard { card: card()? },
        Action::Authorize { amount, expires_at } => Kind::Authorize {
            cents: cents(*amount),
            expires: expires_at.map(secs),
        },
        Action::Capture { hold, amount, .. } => Kind::Capture {
            hold: *hold,
            cents: cents(*amount),
        },
        Action::Void { hold, .. } => Kind::Void { hold: *hold },
        _ => return None,
    })
}

/// A percentage in hundredths (`12.5` → 1,250), when it has at most two decimals and fits.
fn hundredths(percent: memberledger::domain::Decimal) -> Option<u32> {
    let x100 = percent.checked_mul(memberledger::domain::Decimal::ONE_HUNDRED)?;
    if !x100.fract().is_zero() {
        return None;
    }
    u32::try_from(x100.trunc().mantissa() / 10i128.pow(x100.trunc().scale())).ok()
}

//! The model's answer to a member's command: what it records, or the code it refuses with.

use super::*;

impl Model {
    pub(crate) fn member_command(
        &self,
        m: &str,
        spec: &Spec,
    ) -> Result<(Change, u64), &'static str> {
        let Some(before) = self.member(m) else {
            let Kind::Enroll { tier } = &spec.kind else {
                return Err("member_not_found");
            };
            let tier = match tier {
                None => 0,
                Some(t) => tier_index(t).ok_or("unknown_tier")?,
            };
            let state = Member {
                home: spec.store.clone(),
                tier,
                last_at: spec.at,
                version: 1,
                next_lot: 1,
                principal: Vec::new(),
                bonus: Vec::new(),
                points: Vec::new(),
                consumptions: BTreeMap::new(),
                frozen: false,
                packages: BTreeMap::new(),
                bonus_spent: 0,
                window: Vec::new(),
            };
            let change = Change {
                member: Some((m.to_owned(), state)),
                debts: Vec::new(),
                at: spec.at,
                settled_at: None,
                consumed: false,
            };
            return Ok((change, 1));
        };
        if let Kind::Enroll { .. } = spec.kind {
            return Err("member_exists");
        }
        if spec.at < before.last_at {
            return Err("out_of_order");
        }
        let mut w = before.clone();
        let mut events = w.expire(spec.at);
        let mut debts = Vec::new();
        let at = spec.at;
        let store = &spec.store;
        if w.frozen {
            let refused = match &spec.kind {
                Kind::Consume { .. }
                | Kind::RedeemPoints { .. }
                | Kind::RedeemSession { .. }
                | Kind::PurchasePackage { cash: false, .. } => true,
                Kind::Recharge { .. } | Kind::PurchasePackage { cash: true, .. } => {
                    !FREEZE_ALLOWS_RECHARGE
                }
                Kind::Refund { .. } | Kind::RefundBalance | Kind::RefundPackage { .. } => {
                    !FREEZE_ALLOWS_REFUNDS
                }
                _ => false,
            };
            if refused {
                return Err("member_frozen");
            }
        }
        match &spec.kind {
            Kind::Enroll { .. } | Kind::Settle { .. } => unreachable!("handled above"),
            Kind::Recharge { cents, .. } => {
                let tier_before = w.tier;
                let lot = w.new_lot();
                w.principal.push(Lot {
                    lot,
                    store: store.clone(),
                    cents: *cents,
                    expires: None,
                });
                events += 1;
                let rule = LADDER
                    .iter()
                    .filter(|r| r.0 <= *cents && (!r.3 || tier_before >= 2))
                    .max_by_key(|r| r.0);
                let bonus = match rule {
                    Some(&(_, fixed, 0, _)) => fixed,
                    Some(&(_, _, rate, _)) => half_up(i128::from(*cents) * i128::from(rate), 100),
                    None => 0,
                };
                if bonus > 0 {
                    let lot = w.new_lot();
                    w.bonus.push(Lot {
                        lot,
                        store: store.clone(),
                        cents: bonus,
                        expires: Some(at + BONUS_EXPIRY),
                    });
                    events += 1;
                }
                w.window.retain(|(t, _)| *t > at - UPGRADE_WINDOW);
                w.window.push((at, *cents));
                let within: i64 = w
                    .window
                    .iter()
                    .filter(|(t, _)| *t > at - UPGRADE_WINDOW && *t <= at)
                    .map(|(_, c)| c)
                    .sum::<i64>()
                    .max(0);
                if let Some(up) = (w.tier + 1..TIERS.len())
                    .rev()
                    .find(|&t| *cents >= TIERS[t].single || within >= TIERS[t].within)
                {
                    w.tier = up;
                    events += 1;
                }
            }
            Kind::Grant { cents, expires, .. } => {
                if expires.is_some_and(|e| e <= at) {
                    return Err("invalid_command");
                }
                let lot = w.new_lot();
                w.bonus.push(Lot {
                    lot,
                    store: store.clone(),
                    cents: *cents,
                    expires: Some(expires.unwrap_or(at + BONUS_EXPIRY)),
                });
                events += 1;
            }
            Kind::Consume { cents, .. } => {
                let tier = &TIERS[w.tier];
                let charged = half_up(i128::from(*cents) * i128::from(tier.discount), 100);
                if charged == 0 {
                    return Err("invalid_amount");
                }
                let (principal, bonus, draws) = w.pay(charged)?;
                for d in draws.iter().filter(|d| d.principal) {
                    debts.push((d.store.clone(), store.clone(), d.cents));
                }
                let points = u64::try_from(principal * tier.points_x10 / 1000).expect("points");
                if points > 0 {
                    let lot = w.new_lot();
                    w.points.push(PointLot {
                        lot,
                        points,
                        expires: Some(at + POINTS_EXPIRY),
                    });
                }
                w.bonus_spent += bonus;
                w.consumptions.insert(
                    spec.id,
                    Consumption {
                        seq: self.consumptions_made,
                        store: store.clone(),
                        charged,
                        principal,
                        bonus,
                        refunded: 0,
                        principal_restored: 0,
                        bonus_restored: 0,
                        draws,
                        points_earned: points,
                        points_reversed: 0,
                    },
                );
                events += 1;
            }
            Kind::Refund { consumption, cents } => {
                let mut rec = w
                    .consumptions
                    .get(consumption)
                    .cloned()
                    .ok_or("unknown_consumption")?;
                let left = rec.charged - rec.refunded;
                let amount = cents.unwrap_or(left);
                if amount > left {
                    return Err("refund_exceeds_original");
                }
                let principal_left = rec.principal - rec.principal_restored;
                let bonus_left = rec.bonus - rec.bonus_restored;
                let proportional = half_up(
                    i128::from(amount) * i128::from(rec.bonus),
                    i128::from(rec.charged),
                );
                let bonus = proportional
                    .max((amount - principal_left).max(0))
                    .min(bonus_left.min(amount));
                let principal = amount - bonus;
                for (kind, mut want) in [(true, principal), (false, bonus)] {
                    for i in (0..rec.draws.len()).rev() {
                        let d = &rec.draws[i];
                        if d.principal != kind {
                            continue;
                        }
                        let give = (d.cents - d.restored).min(want);
                        if give <= 0 {
                            continue;
                        }
                        want -= give;
                        let d = d.clone();
                        rec.draws[i].restored += give;
                        if kind {
                            w.give_back(true, &d, give);
                            debts.push((d.store.clone(), rec.store.clone(), -give));
                        } else if d.expires.is_none_or(|e| e > at) {
                            w.give_back(false, &d, give);
                        }
                    }
                    assert_eq!(want, 0, "model: a refund splits within what was drawn");
                }
                let restored_total = rec.principal_restored + principal;
                let target = if rec.refunded + amount == rec.charged {
                    rec.points_earned
                } else if rec.principal > 0 {
                    u64::try_from(
                        i128::from(rec.points_earned) * i128::from(restored_total)
                            / i128::from(rec.principal),
                    )
                    .expect("points")
                } else {
                    0
                };
                let due = target.saturating_sub(rec.points_reversed);
                let mut owed = due;
                for l in &mut w.points {
                    let take = l.points.min(owed);
                    l.points -= take;
                    owed -= take;
                }
                w.points.retain(|l| l.points > 0);
                rec.points_reversed += due;
                rec.refunded += amount;
                rec.principal_restored += principal;
                rec.bonus_restored += bonus;
                w.bonus_spent -= bonus;
                if rec.refunded == rec.charged {
                    w.consumptions.remove(consumption);
                } else {
                    w.consumptions.insert(*consumption, rec);
                }
                events += 1;
            }
            Kind::RefundBalance => {
                let (p, b) = (w.principal_total(), w.bonus_total());
                if p == 0 && b == 0 {
                    return Err("insufficient_balance");
                }
                let mut to_pay = p - w.bonus_spent.min(p);
                for l in &w.principal {
                    let paid = l.cents.min(to_pay);
                    to_pay -= paid;
                    debts.push((l.store.clone(), store.clone(), paid));
                }
                w.principal.clear();
                w.bonus.clear();
                w.consumptions.clear();
                for p in w.packages.values_mut() {
                    p.bonus_counted = 0;
                }
                w.bonus_spent = 0;
                w.window.retain(|(t, _)| *t > at - UPGRADE_WINDOW);
                w.window.push((at, -p));
                events += 1;
            }
            Kind::ChangeTier { tier, .. } => {
                let to = tier_index(tier).ok_or("unknown_tier")?;
                if to == w.tier {
                    return Err("invalid_command"); // the tier already held (issue 11)
                }
                w.tier = to;
                events += 1;
            }
            Kind::Freeze { .. } => {
                if w.frozen {
                    return Err("member_frozen");
                }
                w.frozen = true;
                events += 1;
            }
            Kind::Unfreeze { .. } => {
                if !w.frozen {
                    return Err("invalid_command");
                }
                w.frozen = false;
                events += 1;
            }
            Kind::RedeemPoints { points, .. } => {
                w.spend_points(*points)?;
                events += 1;
            }
            Kind::Adjust {
                balance,
                credit,
                qty,
                ..
            } => {
                Self::adjust(&mut w, *balance, *credit, *qty, spec)?;
                events += 1;
            }
            Kind::PurchasePackage {
                cents,
                cash,
                sessions,
                expires,
                ..
            } => {
                if expires.is_some_and(|e| e <= at) {
                    return Err("invalid_command");
                }
                let (bonus, bonus_expires) = if *cash {
                    (0, None)
                } else {
                    let (_, bonus, draws) = w.pay(*cents)?;
                    for d in draws.iter().filter(|d| d.principal) {
                        debts.push((d.store.clone(), store.clone(), d.cents));
                    }
                    let earliest = draws
                        .iter()
                        .filter(|d| !d.principal)
                        .filter_map(|d| d.expires)
                        .min();
                    (bonus, earliest)
                };
                w.bonus_spent += bonus;
                w.packages.insert(
                    spec.id,
                    Package {
                        store: store.clone(),
                        cash: *cash,
                        sessions: *sessions,
                        sessions_left: *sessions,
                        session_price: *cents / i64::from(*sessions),
                        price: *cents,
                        bonus_paid: bonus,
                        principal_left: *cents - bonus,
                        bonus_left: bonus,
                        expires: *expires,
                        bonus_expires,
                        bonus_counted: bonus,
                        status: PkgStatus::Open,
                    },
                );
                events += 1;
            }
            Kind::RedeemSession { package, .. } => {
                let p = open_package(&mut w, *package)?;
                let (amount, bonus) = if p.sessions_left == 1 {
                    (p.value_left(), p.bonus_left)
                } else {
                    let amount = p.session_price;
                    let share = half_up(
                        i128::from(amount) * i128::from(p.bonus_paid),
                        i128::from(p.price),
                    );
                    let bonus = share
                        .max((amount - p.principal_left).max(0))
                        .min(p.bonus_left.min(amount));
                    (amount, bonus)
                };
                let principal = amount - bonus;
                p.principal_left -= principal;
                p.bonus_left -= bonus;
                p.sessions_left -= 1;
                assert!(
                    p.principal_left >= 0 && p.bonus_left >= 0,
                    "model: a session takes no more than its package holds"
                );
                if p.sessions_left == 0 {
                    assert_eq!(p.value_left(), 0, "model: the sessions add up to the price");
                    p.close(PkgStatus::Used);
                }
                debts.push((p.store.clone(), store.clone(), principal));
                events += 1;
            }
            Kind::RefundPackage { package, .. } => {
                let p = open_package(&mut w, *package)?.clone();
                let to_cash = match PACKAGE_REFUND_TO {
                    RefundTo::Original => p.cash,
                    RefundTo::Cash => true,
                    RefundTo::Balance => false,
                };
                let unspent = p.bonus_left.min(p.bonus_counted).min(w.bonus_spent);
                w.bonus_spent -= unspent;
                if to_cash {
                    // The selling store holds the cash; the paying store pays it out.
                    debts.push((p.store.clone(), store.clone(), p.principal_left));
                } else {
                    if p.principal_left > 0 {
                        let lot = w.new_lot();
                        w.principal.push(Lot {
                            lot,
                            store: p.store.clone(),
                            cents: p.principal_left,
                            expires: None,
                        });
                    }
                    // The bonus share keeps the expiry of the bonus that paid for it, and is
                    // forfeited once that has passed.
                    if p.bonus_left > 0 && p.bonus_expires.is_none_or(|e| e > at) {
                        let lot = w.new_lot();
                        w.bonus.push(Lot {
                            lot,
                            store: p.store.clone(),
                            cents: p.bonus_left,
                            expires: p.bonus_expires,
                        });
                    }
                }
                w.packages
                    .get_mut(package)
                    .expect("found above")
                    .close(PkgStatus::Refunded);
                events += 1;
            }
        }
        w.last_at = at;
        w.version += events;
        let change = Change {
            member: Some((m.to_owned(), w)),
            debts,
            at,
            settled_at: None,
            consumed: matches!(spec.kind, Kind::Consume { .. }),
        };
        Ok((change, events))
    }
}

/// The open package `id` of a member, or why it cannot be used.
fn open_package(w: &mut Member, id: Uuid) -> Result<&mut Package, &'static str> {
    let p = w.packages.get_mut(&id).ok_or("unknown_package")?;
    match p.status {
        PkgStatus::Open => Ok(p),
        PkgStatus::Used | PkgStatus::Refunded => Err("package_exhausted"),
        PkgStatus::Expired => Err("package_expired"),
    }
}

//! Generating each kind of command from what the model knows of the member.

use super::*;

impl Sim {
    pub(crate) fn consume_price(&mut self, m: &Member) -> i64 {
        let balance = m.principal_total() + m.bonus_total();
        let discount = TIERS[m.tier].discount;
        if balance == 0 {
            return self.rng.range(1, 50_000);
        }
        let (over, exact) = price_edges(balance, discount);
        match self.rng.weighted(&[8, 7, 85]) {
            0 => exact,
            1 => over,
            _ => {
                let cap = (exact * 6 / 10).max(1);
                if self.rng.chance(500) {
                    self.rng.range(1, cap.min(20_000))
                } else {
                    self.rng.range(1, cap)
                }
            }
        }
    }

    pub(crate) fn gen_refund(&mut self, member: &str, m: &Member) -> Kind {
        let mut open: Vec<(u64, Uuid)> =
            m.consumptions.iter().map(|(id, c)| (c.seq, *id)).collect();
        open.sort();
        let consumption = match self.rng.weighted(&[70, 10, 8, 12]) {
            0 if !open.is_empty() => open[self.rng.index(open.len())].1,
            1 => {
                let made: Vec<Uuid> = self
                    .history
                    .iter()
                    .filter(|s| {
                        s.member.as_deref() == Some(member)
                            && matches!(s.kind, Kind::Consume { .. })
                    })
                    .map(|s| s.id)
                    .collect();
                self.pick_or_new(&made)
            }
            2 => {
                let others: Vec<Uuid> = self
                    .model
                    .members
                    .iter()
                    .filter(|(id, _)| id.as_str() != member)
                    .flat_map(|(_, s)| s.consumptions.keys().copied())
                    .collect();
                self.pick_or_new(&others)
            }
            _ => self.new_id(),
        };
        let left = m
            .consumptions
            .get(&consumption)
            .map_or(10_000, |c| c.charged - c.refunded);
        let cents = match self.rng.weighted(&[40, 45, 8, 7]) {
            0 => None,
            // A consumption refunded in full (or charged nothing) leaves nothing: ask for a cent.
            1 => Some(self.rng.range(1, left.max(1))),
            2 => Some(left),
            _ => Some(left + 1),
        };
        Kind::Refund { consumption, cents }
    }

    /// Freezes an unfrozen card and unfreezes a frozen one, mostly; the other way round now
    /// and then (`member_frozen`, `invalid_command`).
    pub(crate) fn gen_freeze(&mut self, m: &Member) -> Kind {
        let freeze = if m.frozen {
            self.rng.chance(200)
        } else {
            self.rng.chance(850)
        };
        if freeze {
            Kind::Freeze {
                reason: self
                    .rng
                    .chance(600)
                    .then(|| (*self.rng.pick(&["lost card", "suspicious activity"])).to_owned()),
            }
        } else {
            Kind::Unfreeze {
                reason: self
                    .rng
                    .chance(500)
                    .then(|| (*self.rng.pick(&["card found", "verified"])).to_owned()),
            }
        }
    }

    /// Points for a gift or a service: mostly what the member holds, sometimes all of it or
    /// one more.
    pub(crate) fn gen_redeem_points(&mut self, m: &Member) -> Kind {
        let held = m.points_total();
        let points = if held == 0 {
            u64::try_from(self.rng.range(1, 500)).expect("positive")
        } else {
            let h = i64::try_from(held).expect("points fit");
            let p = match self.rng.weighted(&[65, 15, 12, 8]) {
                0 => self.rng.range(1, h.min(3_000)),
                1 => h,
                2 => h + 1,
                _ => *self.rng.pick(&[100, 500, 1_000, 5_000]),
            };
            u64::try_from(p).expect("positive")
        };
        Kind::RedeemPoints {
            points,
            reason: self
                .rng
                .chance(600)
                .then(|| (*self.rng.pick(&["gift", "service", "voucher"])).to_owned()),
            given: self.rng.chance(300).then(|| Gift {
                service: self.rng.chance(600),
                item: (*self.rng.pick(&["bubble facial", "towel", "hand care"])).to_owned(),
                cents: self.rng.range(1, 20_000),
            }),
        }
    }

    /// A consumption's part paid outside the card, a third of the time: what the card cannot
    /// cover, all of it, or a fixed amount (sometimes more than the charge: `invalid_amount`).
    pub(crate) fn gen_external(&mut self) -> Option<Ext> {
        if !self.rng.chance(330) {
            return None;
        }
        let method = (*self.rng.pick(&["cash", "wechat", "alipay", "bank_card"])).to_owned();
        let amount = match self.rng.weighted(&[60, 15, 25]) {
            0 => ExtAmount::Rest,
            1 => ExtAmount::All,
            _ => ExtAmount::Cents(self.rng.range(1, 50_000)),
        };
        Some(Ext { method, amount })
    }

    /// A correction by hand: a credit, or a debit of what is held (all of it, or one more).
    pub(crate) fn gen_adjust(&mut self, m: &Member) -> Kind {
        let balance = [Bal::Principal, Bal::Bonus, Bal::Points][self.rng.weighted(&[40, 35, 25])];
        let credit = self.rng.chance(550);
        let held = match balance {
            Bal::Principal => m.principal_total(),
            Bal::Bonus => m.bonus_total(),
            Bal::Points => i64::try_from(m.points_total()).expect("points fit"),
        };
        let qty = if credit {
            if balance == Bal::Points {
                self.rng.range(1, 2_000)
            } else {
                self.rng.range(1, 50_000)
            }
        } else if held == 0 {
            self.rng.range(1, 1_000)
        } else {
            match self.rng.weighted(&[65, 20, 15]) {
                0 => self.rng.range(1, held),
                1 => held,
                _ => held + 1,
            }
        };
        Kind::Adjust {
            balance,
            credit,
            qty,
            reason: (*self
                .rng
                .pick(&["correction", "system error", "goodwill", "audit"]))
            .to_owned(),
            operator: format!("OP{}", self.rng.range(1, 3)),
        }
    }

    /// A package: 1-1000 sessions at a realistic price (or one cent a session), in cash or
    /// from the balance (mostly within it; sometimes all of it or a cent more), with or without
    /// an expiry (now and then one at or before the command's time).
    pub(crate) fn gen_purchase(&mut self, m: &Member, at: i64) -> Kind {
        let sessions: u32 = match self.rng.weighted(&[20, 30, 22, 16, 8, 4]) {
            0 => *self.rng.pick(&[1, 2]),
            1 => *self.rng.pick(&[3, 5, 6]),
            2 => *self.rng.pick(&[10, 12]),
            3 => u32::try_from(self.rng.range(2, 30)).expect("small"),
            4 => u32::try_from(self.rng.range(31, 200)).expect("small"),
            _ => *self.rng.pick(&[999, 1_000]),
        };
        let n = i64::from(sessions);
        let balance = m.principal_total() + m.bonus_total();
        let cash = if balance < n {
            self.rng.chance(900)
        } else {
            self.rng.chance(400)
        };
        let mut cents = if self.rng.chance(50) {
            n
        } else {
            self.rng.range(3_000, 60_000) * n + self.rng.range(0, 99)
        };
        if !cash && balance >= n {
            cents = match self.rng.weighted(&[70, 10, 8, 12]) {
                0 => cents.min(self.rng.range(n, balance)),
                1 => balance,
                2 => balance + 1,
                _ => cents,
            };
        }
        let expires = match self.rng.weighted(&[45, 33, 14, 5, 3]) {
            0 => None,
            1 => Some(at + *self.rng.pick(&[30, 60, 90, 180, 365]) * DAY),
            2 => Some(at + *self.rng.pick(&[3_600, DAY, 3 * DAY, 7 * DAY])),
            3 => Some(at),
            _ => Some(at - 3_600),
        };
        // Beside the balance, a part paid outside the card a third of the time (a package paid
        // in cash takes no method).
        let external = if cash { None } else { self.gen_external() };
        Kind::PurchasePackage {
            cents,
            cash,
            external,
            service: (*self
                .rng
                .pick(&["massage", "facial", "nails", "spa", "hair"]))
            .to_owned(),
            sessions,
            expires,
            staff: self
                .rng
                .chance(500)
                .then(|| format!("E{}", self.rng.range(1, 9))),
        }
    }

    /// A package to redeem or refund: mostly an open one of the member's, sometimes a closed
    /// one, one bought in a command that may not have been recorded, another member's, or none.
    pub(crate) fn pick_package(&mut self, member: &str, m: &Member) -> Uuid {
        let (open, closed): (Vec<(&Uuid, _)>, Vec<_>) = m
            .packages
            .iter()
            .partition(|(_, p)| p.status == PkgStatus::Open);
        let open: Vec<Uuid> = open.into_iter().map(|(id, _)| *id).collect();
        let closed: Vec<Uuid> = closed.into_iter().map(|(id, _)| *id).collect();
        match self.rng.weighted(&[75, 8, 7, 5, 5]) {
            0 if !open.is_empty() => open[self.rng.index(open.len())],
            1 if !closed.is_empty() => closed[self.rng.index(closed.len())],
            2 => {
                let bought: Vec<Uuid> = self
                    .history
                    .iter()
                    .filter(|s| {
                        s.member.as_deref() == Some(member)
                            && matches!(s.kind, Kind::PurchasePackage { .. })
                    })
                    .map(|s| s.id)
                    .collect();
                self.pick_or_new(&bought)
            }
            3 => {
                let others: Vec<Uuid> = self
                    .model
                    .members
                    .iter()
                    .filter(|(id, _)| id.as_str() != member)
                    .flat_map(|(_, s)| s.packages.keys().copied())
                    .collect();
                self.pick_or_new(&others)
            }
            _ => self.new_id(),
        }
    }

    pub(crate) fn gen_settle(&mut self, id: Uuid, clock: i64) -> Spec {
        let mut debts = Vec::new();
        for d in &self.stores {
            for c in &self.stores {
                let owed = self.model.owed(d, c);
                if owed > 0 {
                    debts.push((d.clone(), c.clone(), owed));
                }
            }
        }
        let at = match self.model.settled_at {
            Some(t) if self.rng.chance(80) => t - self.rng.range(1, DAY),
            _ => clock,
        };
        let (store, to, cents) = if debts.is_empty() || self.rng.chance(100) {
            let d = self.store();
            let c = self.store();
            (d, c, self.rng.chance(500).then(|| self.rng.range(1, 1_000)))
        } else {
            let (d, c, owed) = debts[self.rng.index(debts.len())].clone();
            match self.rng.weighted(&[40, 35, 10, 7]) {
                0 => (d, c, None),
                1 => (d, c, Some(self.rng.range(1, owed))),
                2 => (d, c, Some(owed + 1)),
                _ => (d.clone(), d, None),
            }
        };
        // Now and then dated before the pair's last movement: refused (issue 11, item 8).
        let pair = if store < to {
            (store.clone(), to.clone())
        } else {
            (to.clone(), store.clone())
        };
        let at = match self.model.moved_at.get(&pair) {
            Some(&t) if self.rng.chance(100) => t - self.rng.range(1, DAY),
            _ => at,
        };
        Spec {
            id,
            at,
            member: None,
            store,
            kind: Kind::Settle { to, cents },
        }
    }

    /// A line with one defect, and the code the parser must give it.
    pub(crate) fn gen_bad(&mut self) -> Gen {
        let spec = self.gen_fresh(None, false);
        let mut f = spec.fields(Spelling::default());
        let set = |f: &mut Vec<(String, Value)>, k: &str, v: Value| match f
            .iter_mut()
            .find(|(key, _)| key == k)
        {
            Some(e) => e.1 = v,
            None => f.push((k.to_owned(), v)),
        };
        let has = |f: &[(String, Value)], k: &str| f.iter().any(|(key, _)| key == k);
        // Bad amounts are drawn twice as often as the other defects.
        let code = match self.rng.below(17) {
            0 => {
                let line = render_fields(&f);
                let bad = match self.rng.below(5) {
                    0 => line[..line.len() - 1].to_owned(),
                    1 => "{not json".to_owned(),
                    2 => "[]".to_owned(),
                    3 => String::new(),
                    _ => format!("{line}}}"),
                };
                return Gen::Bad(bad, "invalid_command");
            }
            1 | 13 | 14 if has(&f, "amount") => {
                let bad = *self.rng.pick(&[
                    "1.001",
                    "-1",
                    "0",
                    "0.00",
                    "-0.01",
                    "1e3",
                    "abc",
                    "100000000.00",
                    "+5",
                    "",
                    " 1",
                    "1,000",
                ]);
                set(&mut f, "amount", bad.into());
                "invalid_amount"
            }
            2 if has(&f, "amount") => {
                set(&mut f, "amount", 100.into());
                "invalid_command"
            }
            3 if has(&f, "member") => {
                let long = "x".repeat(65);
                let bad = self
                    .rng
                    .pick(&["M 1", "张三", "a:b", "", long.as_str()])
                    .to_string();
                set(&mut f, "member", bad.into());
                "invalid_id"
            }
            3 => {
                set(&mut f, "member", "M01".into());
                "invalid_command"
            }
            4 => {
                set(
                    &mut f,
                    "store",
                    (*self.rng.pick(&["S/1", "S 1", ""])).into(),
                );
                "invalid_id"
            }
            5 => {
                let bad =
                    *self
                        .rng
                        .pick(&["not-a-uuid", "00000000-0000-0000-0000-000000000000", ""]);
                set(&mut f, "id", bad.into());
                "invalid_command"
            }
            6 => {
                let (k, v) = *self
                    .rng
                    .pick(&[("colour", "red"), ("phone", "13800000000")]);
                set(&mut f, k, v.into());
                "invalid_command"
            }
            7 => {
                // A field the type does not take.
                match spec.kind {
                    Kind::Enroll { .. } | Kind::RefundBalance | Kind::OpenBalance { .. } => {
                        set(&mut f, "amount", "1.00".into());
                    }
                    Kind::ChangeTier { .. } => set(&mut f, "staff", "E1".into()),
                    _ => set(&mut f, "tier", "gold".into()),
                }
                "invalid_command"
            }
            8 => {
                let k = *self.rng.pick(&["id", "at", "type", "store"]);
                f.retain(|(key, _)| key != k);
                "invalid_command"
            }
            9 => {
                let bad = *self.rng.pick(&[
                    "yesterday",
                    "2026-13-01T00:00:00Z",
                    "2026-03-01 10:00:00",
                    "1969-12-31T23:59:59Z",
                ]);
                set(&mut f, "at", bad.into());
                "invalid_command"
            }
            10 if matches!(
                spec.kind,
                Kind::Recharge { .. }
                    | Kind::Consume { .. }
                    | Kind::PurchasePackage { .. }
                    | Kind::RedeemSession { .. }
            ) =>
            {
                set(&mut f, "staff", "a b".into());
                "invalid_id"
            }
            10 if matches!(spec.kind, Kind::Adjust { .. }) => {
                set(&mut f, "operator", "a b".into());
                "invalid_id"
            }
            11 if matches!(
                spec.kind,
                Kind::Consume { .. } | Kind::PurchasePackage { .. }
            ) =>
            {
                set(&mut f, "service", "".into());
                "invalid_command"
            }
            11 if matches!(
                spec.kind,
                Kind::Grant { .. }
                    | Kind::Adjust { .. }
                    | Kind::Freeze { .. }
                    | Kind::Unfreeze { .. }
                    | Kind::RedeemPoints { .. }
                    | Kind::RefundPackage { .. }
            ) =>
            {
                set(&mut f, "reason", "bell\u{7}".into());
                "invalid_command"
            }
            12 if matches!(spec.kind, Kind::Refund { .. }) => {
                set(&mut f, "consumption", "xyz".into());
                "invalid_command"
            }
            12 if matches!(
                spec.kind,
                Kind::RedeemSession { .. } | Kind::RefundPackage { .. }
            ) =>
            {
                let bad = *self
                    .rng
                    .pick(&["xyz", "00000000-0000-0000-0000-000000000000"]);
                set(&mut f, "package", bad.into());
                "invalid_command"
            }
            15 | 16
                if !matches!(
                    spec.kind,
                    Kind::RedeemPoints { .. } | Kind::Adjust { .. } | Kind::PurchasePackage { .. }
                ) =>
            {
                set(&mut f, "type", "teleport".into());
                "invalid_command"
            }
            15 | 16 => {
                let (k, v, code) = self.bad_number(&spec.kind);
                match v {
                    Some(v) => set(&mut f, k, v),
                    None => f.retain(|(key, _)| key != k),
                }
                code
            }
            _ => {
                set(&mut f, "type", "teleport".into());
                "invalid_command"
            }
        };
        Gen::Bad(render_fields(&f), code)
    }

    /// A defect in a field of the newer commands (points, sessions, the adjustment's fields):
    /// the field, its bad value (`None`: left out) and the code the parser must give.
    pub(crate) fn bad_number(
        &mut self,
        kind: &Kind,
    ) -> (&'static str, Option<Value>, &'static str) {
        match kind {
            Kind::RedeemPoints { .. } => self
                .rng
                .pick(&[
                    ("points", Some(Value::from(0)), "invalid_amount"),
                    (
                        "points",
                        Some(Value::from(1_000_000_001u64)),
                        "invalid_amount",
                    ),
                    ("points", Some(Value::from(-5)), "invalid_command"),
                    ("points", Some(Value::from("10")), "invalid_command"),
                    ("points", None, "invalid_command"),
                ])
                .clone(),
            Kind::PurchasePackage { sessions, .. } => {
                let below = (*sessions > 1).then(|| money(i64::from(*sessions) - 1));
                match (self.rng.below(7), below) {
                    (0, Some(b)) => ("amount", Some(b.into()), "invalid_amount"),
                    (0 | 1, _) => ("sessions", Some(0.into()), "invalid_amount"),
                    (2, _) => ("sessions", Some(1_001.into()), "invalid_amount"),
                    (3, _) => ("sessions", Some((-1).into()), "invalid_command"),
                    (4, _) => ("paid_from", Some("card".into()), "invalid_command"),
                    (5, _) => ("paid_from", None, "invalid_command"),
                    _ => ("expires_at", Some("soon".into()), "invalid_command"),
                }
            }
            Kind::Adjust { balance, .. } => match (self.rng.below(6), balance) {
                (0, _) => ("reason", None, "invalid_command"),
                (1, _) => ("operator", None, "invalid_command"),
                (2, _) => ("direction", Some("sideways".into()), "invalid_command"),
                (3, _) => ("balance", Some("cash".into()), "invalid_command"),
                (_, Bal::Points) if self.rng.chance(500) => {
                    ("points", Some(0.into()), "invalid_amount")
                }
                // A points adjustment takes no amount, a money one no points.
                (_, Bal::Points) => ("amount", Some("1.00".into()), "invalid_command"),
                _ => ("points", Some(5.into()), "invalid_command"),
            },
            _ => unreachable!("only for the kinds with such fields"),
        }
    }

    /// A batch for one `execute_batch` call: fresh commands, repeats of earlier ones of the
    /// same batch (same or changed content), and retries of older ones.
    pub(crate) fn gen_batch(&mut self) -> Vec<Spec> {
        // Now and then a batch large enough to be decided by member on every core (64
        // commands).
        let n = if self.rng.below(25) == 0 {
            self.rng.range(64, 600)
        } else {
            self.rng.range(2, 8)
        };
        let mut out: Vec<Spec> = Vec::new();
        for _ in 0..n {
            let roll = self.rng.below(100);
            let spec = if roll < 12 && !out.is_empty() {
                out[self.rng.index(out.len())].clone()
            } else if roll < 18 && !out.is_empty() {
                let s = out[self.rng.index(out.len())].clone();
                self.changed(s)
            } else if roll < 25 && !self.history.is_empty() {
                self.history[self.rng.index(self.history.len())].clone()
            } else {
                let s = self.gen_fresh(None, false);
                self.remember(&s);
                s
            };
            out.push(spec);
        }
        out
    }

    /// Scripts for 2-4 concurrent clients: each has members of its own, and all of them send
    /// one command about a shared member, either the same command (same id: one records it, the
    /// others get its receipt) or the same content under different ids (they race for it).
    /// Built so that the end state does not depend on how the threads interleave, which keeps
    /// a seed reproducible.
    pub(crate) fn gen_concurrent(&mut self) -> Option<Vec<Vec<Spec>>> {
        let threads = usize::try_from(self.rng.range(2, 4)).expect("small");
        let mut pool = self.enrolled();
        if pool.len() < 2 * threads + 1 {
            return None;
        }
        let mut take = |rng: &mut super::super::rng::Rng| pool.remove(rng.index(pool.len()));
        let shared = take(&mut self.rng);
        let own: Vec<Vec<String>> = (0..threads)
            .map(|_| {
                let k = self.rng.range(1, 2);
                (0..k).map(|_| take(&mut self.rng)).collect()
            })
            .collect();
        let burst = {
            let state = self.model.member(&shared).cloned().expect("enrolled");
            let id = self.new_id();
            let store = self.store();
            let kind = match self.rng.weighted(&[35, 25, 40]) {
                0 => Kind::Recharge {
                    cents: self.rng.range(100, 120_000),
                    staff: None,
                },
                1 => Kind::Grant {
                    cents: self.rng.range(1, 10_000),
                    reason: "campaign".into(),
                    expires: Some(self.clock + 7 * DAY),
                },
                _ => Kind::Consume {
                    cents: self.consume_price(&state),
                    staff: None,
                    service: None,
                    external: None,
                },
            };
            Spec {
                id,
                at: self.clock,
                member: Some(shared),
                store,
                kind,
            }
        };
        let same_id = self.rng.chance(400);
        if same_id || !matches!(burst.kind, Kind::Consume { .. }) {
            // Which of several racing consumptions gets recorded depends on the interleaving;
            // a later retry of one would then too.
            self.remember(&burst);
        }
        let mut scripts = Vec::new();
        for members in own {
            let mut script = Vec::new();
            for m in members {
                for _ in 0..self.rng.range(1, 2) {
                    let s = self.gen_fresh(Some(&m), true);
                    self.remember(&s);
                    script.push(s);
                }
            }
            let mut b = burst.clone();
            if !same_id {
                b.id = self.new_id();
                if !matches!(b.kind, Kind::Consume { .. }) {
                    self.remember(&b);
                }
            }
            let at = self.rng.index(script.len() + 1);
            script.insert(at, b);
            scripts.push(script);
        }
        Some(scripts)
    }
}

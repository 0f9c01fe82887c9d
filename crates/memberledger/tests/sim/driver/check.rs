//! Checking a step against the model: the log, every client's answer, the ledger's members, and verify.

use super::*;

impl Sim {
    /// Checks a step: the commands recorded (in log order) are exactly those the model
    /// accepts in that order; every client saw what the model says it should, at some point
    /// of that order consistent with its own order; then the ledger equals the model.
    pub(crate) fn check_step(&mut self, subs: Vec<Sub>, injected: Vec<Injected>, scope: Scope) {
        for i in &injected {
            match i.kind {
                FaultKind::Before => self.stats.faults_before += 1,
                FaultKind::After => self.stats.faults_after += 1,
            }
        }
        let after_recorded: HashSet<Uuid> = injected
            .iter()
            .flat_map(|i| i.recorded.iter().copied())
            .collect();
        let t = std::time::Instant::now();
        let log = self.scan_log();
        let t = Timing::add(&mut self.timing.scan, t);
        let storage = |s: &Sub| s.outcome.as_ref().is_err_and(|e| e.code() == "storage");
        let n_storage = subs.iter().filter(|s| storage(s)).count();
        self.stats.storage_errors += u64::try_from(n_storage).expect("few");
        if n_storage > 0 && injected.is_empty() {
            self.fail("a storage error without an injected fault");
        }
        // The spec of each new log entry.
        let mut log_specs: Vec<Spec> = Vec::new();
        for lc in &log {
            let fresh: Vec<&Sub> = subs
                .iter()
                .filter(|s| s.spec.id == lc.id && matches!(&s.outcome, Ok(r) if !r.replayed))
                .collect();
            let spec = if let [one] = fresh.as_slice() {
                if after_recorded.contains(&lc.id) {
                    self.fail(&format!(
                        "command {} was recorded by a write whose ack was lost, yet a later attempt recorded it again",
                        lc.id
                    ));
                }
                one.spec.clone()
            } else if fresh.len() > 1 {
                self.fail(&format!("command {} was acknowledged as new twice", lc.id));
            } else if after_recorded.contains(&lc.id) {
                let digest = self
                    .ledger()
                    .command_record(lc.id)
                    .ok()
                    .flatten()
                    .map(|r| r.digest);
                match subs
                    .iter()
                    .find(|s| s.spec.id == lc.id && Some(s.cmd.digest()) == digest)
                {
                    Some(s) => s.spec.clone(),
                    None => self.fail(&format!("lost-ack command {} matches no client", lc.id)),
                }
            } else {
                self.fail(&format!(
                    "the log has command {} that no client was told was recorded",
                    lc.id
                ));
            };
            log_specs.push(spec);
        }
        // Snapshots of the model after each recorded command, in log order.
        // (The model itself is the first: it comes back as the last.)
        let mut snaps: Vec<Model> = vec![std::mem::take(&mut self.model)];
        for (i, (lc, spec)) in log.iter().zip(&log_specs).enumerate() {
            let overlay: Vec<&Spec> = log_specs[..i].iter().collect();
            let ids = Ids {
                base: &self.ids,
                spec_of: |r: &Recorded| &r.spec,
                overlay: &overlay,
            };
            match snaps[i].judge(spec, &ids) {
                Verdict::Accept(change, n) => {
                    if u64::try_from(lc.events.len()).expect("few") != n {
                        self.fail(&format!(
                            "{} {} recorded {} events; the model expects {n}",
                            spec.kind.type_name(),
                            spec.id,
                            lc.events.len()
                        ));
                    }
                    let mut next = snaps[i].clone();
                    next.commit(*change);
                    snaps.push(next);
                }
                other => self.fail(&format!(
                    "the ledger recorded {spec:?} (log position {}), the model says {other:?}",
                    lc.events[0].0
                )),
            }
        }
        // Streams with an attempt that failed without writing: a command decided in the same
        // group after it saw it planned, so may have been refused because of it (a retry may
        // still have recorded it later).
        let mut stream_failed: HashSet<String> = subs
            .iter()
            .filter(|s| storage(s) && !after_recorded.contains(&s.spec.id))
            .map(|s| s.spec.stream().to_owned())
            .collect();
        // Members' commands move the clearing too (a visit at one store paid with value another
        // store holds): a settlement decided in the same group may have seen such a command
        // planned, then not written (seed 592361393: a consumption at S1 of S3's value, whose
        // write failed, left S1 owing S3 less, and a settlement of the larger debt was refused).
        if !stream_failed.is_empty() {
            stream_failed.insert("@stores".to_owned());
        }
        let mut threads: BTreeMap<usize, Vec<&Sub>> = BTreeMap::new();
        for s in &subs {
            threads.entry(s.thread).or_default().push(s);
        }
        for subs_of_thread in threads.values() {
            let mut m = 0usize;
            for s in subs_of_thread {
                m = self.check_sub(
                    s,
                    m,
                    &log,
                    &log_specs,
                    &snaps,
                    &after_recorded,
                    &stream_failed,
                );
            }
        }
        self.model = snaps.pop().expect("at least the start");
        let t = Timing::add(&mut self.timing.model, t);
        for (lc, spec) in log.into_iter().zip(log_specs) {
            self.ids.insert(
                lc.id,
                Recorded {
                    spec,
                    events: lc.events,
                },
            );
        }
        let touched: Vec<String> = if scope >= Scope::Every {
            self.roster.clone()
        } else {
            // The members of the step's commands, and those its events name (an expiry
            // swept onto a member no command of the step names).
            let mut touched: BTreeSet<String> = std::mem::take(&mut self.step_members);
            touched.extend(subs.iter().filter_map(|s| s.spec.member.clone()));
            touched.into_iter().collect()
        };
        self.step_members.clear();
        self.compare(&touched, scope);
        let t = Timing::add(&mut self.timing.compare, t);
        if scope == Scope::Deep || self.step % self.cfg.verify_every == 0 {
            self.verify();
            Timing::add(&mut self.timing.verify, t);
        }
    }

    /// Checks one client's command at or after point `m` of the log order; returns the point
    /// after it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn check_sub(
        &mut self,
        s: &Sub,
        m: usize,
        log: &[LogCmd],
        log_specs: &[Spec],
        snaps: &[Model],
        after_recorded: &HashSet<Uuid>,
        stream_failed: &HashSet<String>,
    ) -> usize {
        let id = s.spec.id;
        let at_log = log.iter().position(|l| l.id == id);
        let events = |r: &Receipt| -> Vec<(u64, [u8; 32])> {
            r.events.iter().map(|e| (e.position, e.hash)).collect()
        };
        match &s.outcome {
            Ok(r) if !r.replayed => {
                let Some(i) = at_log else {
                    self.fail(&format!("{id} was acknowledged but is not in the log"))
                };
                if i < m {
                    self.fail(&format!(
                        "{id} was recorded before a command its client sent earlier"
                    ));
                }
                if events(r) != log[i].events {
                    self.fail(&format!("the receipt of {id} differs from the log"));
                }
                self.stats.accepted += 1;
                *self
                    .stats
                    .accepted_by_type
                    .entry(s.spec.kind.type_name())
                    .or_insert(0) += 1;
                if self.failed_writes.remove(&id) {
                    self.stats.failed_writes_recorded += 1;
                }
                i + 1
            }
            Ok(r) => {
                let (original, spec, next) = match at_log {
                    Some(i) => (log[i].events.clone(), &log_specs[i], m.max(i + 1)),
                    None => match self.ids.get(&id) {
                        Some(rec) => (rec.events.clone(), &rec.spec, m),
                        None => self.fail(&format!("{id} was replayed but was never recorded")),
                    },
                };
                if !spec.same_content(&s.spec) {
                    self.fail(&format!(
                        "{id} was replayed for a different content: recorded {spec:?}, sent {:?}",
                        s.spec
                    ));
                }
                if events(r) != original {
                    self.fail(&format!(
                        "the replayed receipt of {id} differs from the original"
                    ));
                }
                self.stats.replayed += 1;
                if self.lost_acks.remove(&id) {
                    self.stats.lost_acks_replayed += 1;
                }
                next
            }
            Err(e) if e.code() == "storage" => {
                if after_recorded.contains(&id) {
                    // The write happened; only the acknowledgement was lost.
                    if at_log.is_none() && !self.ids.contains_key(&id) {
                        self.fail(&format!(
                            "{id}: a lost ack but the command is not in the log"
                        ));
                    }
                    self.lost_acks.insert(id);
                    at_log.map_or(m, |i| m.max(i + 1))
                } else {
                    self.failed_writes.insert(id);
                    m
                }
            }
            Err(e) => {
                let code = e.code();
                *self.stats.rejected.entry(code).or_insert(0) += 1;
                // The earliest point, from `m` on, where the model refuses it with this code.
                let real = snaps.iter().enumerate().skip(m).find_map(|(k, snap)| {
                    let overlay: Vec<&Spec> = log_specs[..k].iter().collect();
                    let ids = Ids {
                        base: &self.ids,
                        spec_of: |r: &Recorded| &r.spec,
                        overlay: &overlay,
                    };
                    matches!(snap.judge(&s.spec, &ids), Verdict::Reject(c) if c == code)
                        .then_some(k)
                });
                if real == Some(m) {
                    return m;
                }
                if stream_failed.contains(s.spec.stream()) {
                    // Decided in the same group as a command of its stream that was then not
                    // written: the rejection saw that command planned. Taking it here, rather
                    // than at a later point that also explains it, keeps the client's later
                    // commands free to come before that point.
                    self.stats.premised_rejections += 1;
                    return m;
                }
                if let Some(k) = real {
                    return k;
                }
                let overlay: Vec<&Spec> = log_specs[..m].iter().collect();
                let ids = Ids {
                    base: &self.ids,
                    spec_of: |r: &Recorded| &r.spec,
                    overlay: &overlay,
                };
                let says = snaps[m].judge(&s.spec, &ids);
                self.fail(&format!(
                    "{:?} was rejected with {code} ({e}); the model says {says:?}",
                    s.spec
                ))
            }
        }
    }

    pub(crate) fn verify(&mut self) {
        self.stats.verifies += 1;
        let report = self
            .ledger()
            .verify()
            .unwrap_or_else(|e| self.fail(&format!("verify failed to run: {e}")));
        if let Some(p) = &report.problem {
            self.fail(&format!(
                "verify found a problem at position {}: {}",
                p.position, p.what
            ));
        }
        let principal: i64 = self
            .model
            .members
            .values()
            .map(|m| m.principal_total())
            .sum();
        let bonus: i64 = self.model.members.values().map(|m| m.bonus_total()).sum();
        let points: u64 = self.model.members.values().map(|m| m.points_total()).sum();
        let got = (
            report.events,
            report.principal.cents(),
            report.bonus.cents(),
            report.points,
        );
        if got != (self.cursor, principal, bonus, points) {
            self.fail(&format!(
                "verify reports (events, principal, bonus, points) {got:?}; expected {:?}",
                (self.cursor, principal, bonus, points)
            ));
        }
    }
}

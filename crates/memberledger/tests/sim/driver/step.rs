//! One step of the simulation: single commands, batches, concurrent clients, bad input; and reading back the log.

use super::*;
use memberledger::domain::events::{BonusExpired, PackageExpired, PointsExpired};

impl Sim {
    pub(crate) fn one_step(&mut self) {
        self.step += 1;
        if let Ok(mut c) = self.ctx.lock() {
            c.step = self.step;
            c.lines.clear();
        }
        self.grow_membership();
        let focus = self.advance_clock();
        self.model.now = self.clock;
        self.now
            .store(self.clock, std::sync::atomic::Ordering::SeqCst);
        let crash_per_mille = match (&self.backend, self.cfg.long()) {
            (Backend::Sled { .. }, false) => 15,
            (Backend::Memory(_), false) => 25,
            // A reopen reads the whole log (the store's open rebuilds its index), so a long
            // run crashes less often: with the retries that crash, about 2.7 times every
            // 1,000 steps.
            (_, true) => 2,
        };
        let crashes = self.stats.crashes;
        if self.rng.chance(crash_per_mille) {
            self.crash();
        }
        let started = std::time::Instant::now();
        let crash_before = self.timing.crash;
        let mut subs = Vec::new();
        if !self.pending.is_empty() && self.rng.chance(300) {
            let i = self.rng.index(self.pending.len());
            let spec = self.pending.remove(i);
            self.submit(0, spec, &mut subs, true);
        }
        match self.rng.weighted(&[78, 12, 10]) {
            0 => self.single(focus, &mut subs),
            1 => self.batch(&mut subs),
            _ => {
                if !self.concurrent(&mut subs) {
                    self.single(focus, &mut subs);
                }
            }
        }
        let injected = self.faults.take();
        // The reopens of retries after a crash count as reopens, not as running.
        let crashed_meanwhile = self.timing.crash - crash_before;
        self.timing.run += started.elapsed().saturating_sub(crashed_meanwhile);
        let crashed = self.stats.crashes != crashes;
        let scope = self.scope(crashed);
        self.check_step(subs, injected, scope);
    }

    /// What this step's check compares: every member after a crash and every 25 steps; the
    /// deep check (every member re-read from the store, and `verify()`) at its cadence: in a
    /// short run with every such full comparison, in a long run every `deep_every` steps.
    fn scope(&self, crashed: bool) -> Scope {
        let Some(deep_every) = self.cfg.deep_every else {
            // A short run.
            return if crashed || self.step % 25 == 0 {
                Scope::Deep
            } else {
                Scope::Touched
            };
        };
        // A long run compares every member with the model about as often as it meets each
        // member (its membership grows), and after a crash every member in memory with the
        // log.
        let every_every = u64::try_from(self.roster.len()).expect("few").max(25);
        if self.step % deep_every == 0 {
            Scope::Deep
        } else if self.step % every_every == 0 {
            Scope::Every
        } else if crashed {
            Scope::Reopened
        } else {
            Scope::Touched
        }
    }

    /// A long run's brand signs up a new customer every [`NEW_MEMBER_EVERY`] steps (up to
    /// [`LONG_RUN_MEMBERS`]), so each member's history stays near the size of a real
    /// customer's instead of a fiftieth of the log (the ledger re-reads a member's events for
    /// a consumption refund, by design).
    fn grow_membership(&mut self) {
        if self.cfg.long()
            && self.step % NEW_MEMBER_EVERY == 0
            && self.roster.len() < LONG_RUN_MEMBERS
        {
            let next = format!("M{:02}", self.roster.len());
            self.roster.push(next.clone());
            self.members.push(next);
            // The generator looks for those still to enrol among these: keep them the latest
            // sign-ups (one who never enrolled by then never will).
            if self.members.len() > SIGN_UP_WINDOW {
                self.members.remove(0);
            }
        }
    }

    pub(crate) fn single(&mut self, focus: Option<String>, subs: &mut Vec<Sub>) {
        match self.gen_single(focus) {
            super::super::gen::Gen::Valid(spec) => self.submit(0, spec, subs, true),
            super::super::gen::Gen::Bad(line, code) => self.submit_bad(&line, code),
        }
    }

    /// A line the parser must refuse with `code`; nothing reaches the ledger.
    pub(crate) fn submit_bad(&mut self, line: &str, code: &str) {
        self.note_line(format!("(bad input, expect {code}) {line}"));
        self.stats.commands += 1;
        match Command::from_json(line) {
            Ok(c) => self.fail(&format!(
                "a bad input was accepted by the parser: {line} -> {}",
                c.to_json()
            )),
            Err(r) if r.code() != code => self.fail(&format!(
                "bad input {line}: rejected with {} ({r}), expected {code}",
                r.code()
            )),
            Err(r) => *self.stats.rejected.entry(r.code()).or_insert(0) += 1,
        }
    }

    pub(crate) fn parse(&mut self, spec: &Spec) -> Command {
        let sp = self.spelling();
        let line = spec.render(sp);
        self.note_line(line.clone());
        match Command::from_json(&line) {
            Ok(c) => c,
            Err(e) => self.fail(&format!("a generated command does not parse: {line}: {e}")),
        }
    }

    /// Executes one command as a client does: on a storage error it retries with the same
    /// id now, or after a crash, or leaves it for later.
    pub(crate) fn submit(&mut self, thread: usize, spec: Spec, subs: &mut Vec<Sub>, faults: bool) {
        for attempt in 0..4 {
            let cmd = self.parse(&spec);
            let outcome = self.ledger().execute(&cmd);
            self.stats.commands += 1;
            let storage = outcome.as_ref().is_err_and(|e| e.code() == "storage");
            subs.push(Sub {
                thread,
                spec: spec.clone(),
                cmd,
                outcome,
            });
            if !storage {
                return;
            }
            if !faults {
                self.fail("a storage error with faults off");
            }
            // Retry now, after a crash, or later (a long run crashes here less often: a
            // reopen reads the whole log).
            let after_crash = if self.cfg.long() { 5 } else { 20 };
            match self.rng.weighted(&[50, after_crash, 30]) {
                0 if attempt < 3 => {}
                1 if attempt < 3 => self.crash(),
                _ => {
                    self.pending.push(spec);
                    return;
                }
            }
        }
    }

    pub(crate) fn batch(&mut self, subs: &mut Vec<Sub>) {
        self.stats.batches += 1;
        let specs = self.gen_batch();
        let cmds: Vec<Command> = specs.iter().map(|s| self.parse(s)).collect();
        let out = self.ledger().execute_batch(&cmds);
        assert_eq!(out.len(), cmds.len(), "one result per command");
        self.stats.commands += u64::try_from(cmds.len()).expect("few");
        let mut failed = Vec::new();
        for ((spec, cmd), outcome) in specs.into_iter().zip(cmds).zip(out) {
            if outcome.as_ref().is_err_and(|e| e.code() == "storage") {
                failed.push(spec.clone());
            }
            subs.push(Sub {
                thread: 0,
                spec,
                cmd,
                outcome,
            });
        }
        if failed.is_empty() {
            return;
        }
        if self.rng.chance(500) {
            // Retry the failed ones together, as a client of the batch call would.
            let cmds: Vec<Command> = failed.iter().map(|s| self.parse(s)).collect();
            let out = self.ledger().execute_batch(&cmds);
            self.stats.commands += u64::try_from(cmds.len()).expect("few");
            for ((spec, cmd), outcome) in failed.into_iter().zip(cmds).zip(out) {
                if outcome.as_ref().is_err_and(|e| e.code() == "storage") {
                    self.pending.push(spec.clone());
                }
                subs.push(Sub {
                    thread: 0,
                    spec,
                    cmd,
                    outcome,
                });
            }
        } else {
            self.pending.extend(failed);
        }
    }

    /// Several clients at once, in threads, on their own members and on one shared member.
    pub(crate) fn concurrent(&mut self, subs: &mut Vec<Sub>) -> bool {
        let Some(scripts) = self.gen_concurrent() else {
            return false;
        };
        self.stats.concurrent_steps += 1;
        let scripts: Vec<Vec<(Spec, Vec<Command>)>> = scripts
            .into_iter()
            .map(|script| {
                script
                    .into_iter()
                    .map(|spec| {
                        // Each attempt may spell the command differently.
                        let cmds = (0..4).map(|_| self.parse(&spec)).collect();
                        (spec, cmds)
                    })
                    .collect()
            })
            .collect();
        let ledger = self.ledger();
        let client = |thread: usize, script: &[(Spec, Vec<Command>)]| {
            let mut subs = Vec::new();
            let mut gave_up = Vec::new();
            for (spec, cmds) in script {
                for (attempt, cmd) in cmds.iter().enumerate() {
                    let outcome = ledger.execute(cmd);
                    let storage = outcome.as_ref().is_err_and(|e| e.code() == "storage");
                    subs.push(Sub {
                        thread,
                        spec: spec.clone(),
                        cmd: cmd.clone(),
                        outcome,
                    });
                    if !storage {
                        break;
                    }
                    if attempt + 1 == cmds.len() {
                        gave_up.push(spec.clone());
                    }
                }
            }
            (subs, gave_up)
        };
        let results: Vec<(Vec<Sub>, Vec<Spec>)> = if self.cfg.serial {
            scripts
                .iter()
                .enumerate()
                .map(|(t, s)| client(t + 1, s))
                .collect()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = scripts
                    .iter()
                    .enumerate()
                    .map(|(t, s)| scope.spawn(move || client(t + 1, s)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("a client thread panicked"))
                    .collect()
            })
        };
        for (s, gave_up) in results {
            self.stats.commands += u64::try_from(s.len()).expect("few");
            subs.extend(s);
            self.pending.extend(gave_up);
        }
        true
    }

    /// Reads the log written since the last step, checking as it goes that every event
    /// balances, the running trial balance is zero, and every command id appears once, its
    /// events together and in order.
    pub(crate) fn scan_log(&mut self) -> Vec<LogCmd> {
        let mut out: Vec<LogCmd> = Vec::new();
        let events: Vec<_> = self.ledger().events(self.cursor + 1, 512).collect();
        for e in events {
            let e = e.unwrap_or_else(|err| self.fail(&format!("the log does not read: {err}")));
            if e.position != self.cursor + 1 {
                self.fail(&format!(
                    "the log jumps from {} to {}",
                    self.cursor, e.position
                ));
            }
            self.cursor = e.position;
            if memberledger_core::is_founding_event(&e.event) {
                // The founding policy's record, written by the first open: no client's.
                continue;
            }
            let entry = postings(&e.event);
            if let Err(why) = check_balanced(&entry) {
                self.fail(&format!("event at {} does not balance: {why}", e.position));
            }
            for p in entry {
                self.trial += p.cents;
                *self.accounts.entry(p.account).or_insert(0) += p.cents;
            }
            if self.trial != 0 {
                self.fail(&format!(
                    "the trial balance is {} after position {}",
                    self.trial, e.position
                ));
            }
            *self
                .stats
                .events_by_type
                .entry(e.event.body.type_name())
                .or_insert(0) += 1;
            match &e.event.body {
                EventBody::BonusExpired(BonusExpired { expires_at, .. })
                | EventBody::PointsExpired(PointsExpired { expires_at, .. })
                | EventBody::PackageExpired(PackageExpired { expires_at, .. }) => {
                    self.stats.expired += 1;
                    if *expires_at == e.event.at {
                        self.stats.expired_at_edge += 1;
                    }
                }
                _ => {}
            }
            if !e.event.member.is_policy() && !e.event.member.is_stores() {
                let mut slot = self.folded.remove(&e.event.member);
                if let Err(why) = MemberState::fold_onto(&mut slot, &e.event) {
                    self.fail(&format!(
                        "event at {} does not fold onto its member: {why}",
                        e.position
                    ));
                }
                if let Some(state) = slot {
                    self.folded.insert(e.event.member.clone(), state);
                }
                self.step_members.insert(e.event.member.to_string());
            }
            let id = e.event.command;
            if e.event.index == 0 {
                if !self.seen.insert(id) {
                    self.fail(&format!(
                        "command {id} appears twice in the log (again at {})",
                        e.position
                    ));
                }
                out.push(LogCmd {
                    id,
                    events: vec![(e.position, e.hash)],
                });
            } else {
                match out.last_mut() {
                    Some(last)
                        if last.id == id
                            && last.events.len()
                                == usize::try_from(e.event.index).expect("small") =>
                    {
                        last.events.push((e.position, e.hash));
                    }
                    _ => self.fail(&format!(
                        "event {} of command {id} at {} does not follow its command's events",
                        e.event.index, e.position
                    )),
                }
            }
        }
        self.stats.events = self.cursor;
        let head = self
            .ledger()
            .head()
            .unwrap_or_else(|e| self.fail(&format!("head: {e}")));
        if head.position != self.cursor {
            self.fail(&format!(
                "the store's head is {} but the log reads to {}",
                head.position, self.cursor
            ));
        }
        out
    }
}

//! The simulation: one seeded run of a ledger (in memory or sled) behind a fault-injecting
//! store, fed by the generator, crashed and reopened now and then, and checked after every
//! step against the reference model and the invariants.

use memberledger::domain::events::{BonusExpired, PackageExpired, PointsExpired};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use memberledger::domain::{check_balanced, postings, Account, EventBody};
use memberledger::store::{EventStore, MemoryStore, SledStore};
use memberledger::{Command, Error, Ledger, MemberId, Policy, Receipt, StoreId, Uuid};

use super::fault::{FaultKind, FaultStore, Faults, Injected};
use super::model::{
    Ids, Model, RefundTo, Verdict, FREEZE_ALLOWS_RECHARGE, FREEZE_ALLOWS_REFUNDS,
    PACKAGE_REFUND_TO, TIERS,
};
use super::rng::{mix, Rng};
use super::spec::{money, timestamp, Spec};

/// What a run is asked to do.
#[derive(Clone, Debug)]
pub struct Config {
    pub steps: u64,
    /// `verify()` every this many steps; also after every crash, with the comparison of every
    /// member that runs every 25 steps, and at the end.
    pub verify_every: u64,
    /// Run the clients of a concurrent step one after another instead of in threads.
    pub serial: bool,
    /// Force the store (`memory` or `sled`) instead of letting the seed choose.
    pub store: Option<String>,
}

impl Config {
    pub fn from_env() -> Config {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let steps = var("MEMBERLEDGER_SIM_STEPS").map_or(200, |v| {
            v.parse().expect("MEMBERLEDGER_SIM_STEPS is a number")
        });
        let verify_every =
            var("MEMBERLEDGER_SIM_VERIFY_EVERY").map_or(if steps <= 2_000 { 1 } else { 25 }, |v| {
                v.parse()
                    .expect("MEMBERLEDGER_SIM_VERIFY_EVERY is a number")
            });
        Config {
            steps,
            verify_every: verify_every.max(1),
            serial: var("MEMBERLEDGER_SIM_SERIAL").is_some_and(|v| v != "0"),
            store: var("MEMBERLEDGER_SIM_STORE"),
        }
    }
}

/// Figures of a run.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub runs: u64,
    pub steps: u64,
    /// Every command line handed to the ledger or its parser, retries included.
    pub commands: u64,
    pub accepted: u64,
    pub accepted_by_type: BTreeMap<&'static str, u64>,
    pub replayed: u64,
    pub rejected: BTreeMap<&'static str, u64>,
    pub events: u64,
    /// Events in the log by type.
    pub events_by_type: BTreeMap<&'static str, u64>,
    pub crashes: u64,
    pub faults_before: u64,
    pub faults_after: u64,
    pub storage_errors: u64,
    /// Commands whose acknowledgement was lost and whose retry returned the original receipt.
    pub lost_acks_replayed: u64,
    /// Commands whose write failed and whose retry recorded them.
    pub failed_writes_recorded: u64,
    /// Rejections decided against a command of the same group that then failed to be written.
    pub premised_rejections: u64,
    pub batches: u64,
    pub concurrent_steps: u64,
    pub verifies: u64,
    /// Clock steps onto an expiry or window edge: one second before, at, one second after.
    pub edges: [u64; 3],
    /// Bonus and point lots and packages that expired at exactly their `expires_at`.
    pub expired_at_edge: u64,
    pub expired: u64,
    pub members_max: u64,
}

impl Stats {
    pub fn add(&mut self, o: &Stats) {
        self.runs += o.runs;
        self.steps += o.steps;
        self.commands += o.commands;
        self.accepted += o.accepted;
        for (k, v) in &o.accepted_by_type {
            *self.accepted_by_type.entry(k).or_insert(0) += v;
        }
        self.replayed += o.replayed;
        for (k, v) in &o.rejected {
            *self.rejected.entry(k).or_insert(0) += v;
        }
        self.events += o.events;
        for (k, v) in &o.events_by_type {
            *self.events_by_type.entry(k).or_insert(0) += v;
        }
        self.crashes += o.crashes;
        self.faults_before += o.faults_before;
        self.faults_after += o.faults_after;
        self.storage_errors += o.storage_errors;
        self.lost_acks_replayed += o.lost_acks_replayed;
        self.failed_writes_recorded += o.failed_writes_recorded;
        self.premised_rejections += o.premised_rejections;
        self.batches += o.batches;
        self.concurrent_steps += o.concurrent_steps;
        self.verifies += o.verifies;
        for i in 0..3 {
            self.edges[i] += o.edges[i];
        }
        self.expired_at_edge += o.expired_at_edge;
        self.expired += o.expired;
        self.members_max = self.members_max.max(o.members_max);
    }

    pub fn summary(&self) -> String {
        let rejected: u64 = self.rejected.values().sum();
        format!(
            "runs {} | steps {} | commands {} (accepted {}, replayed {}, rejected {rejected}, storage errors {}) | events {} \
             | crashes/reopens {} | injected write failures {} (before writing {}, ack lost after writing {}) \
             | lost acks replayed on retry {} | failed writes recorded on retry {} | rejections premised on an unwritten command {} \
             | batches {} | concurrent steps {} | verifies {} | clock on expiry edges -1s/0/+1s {:?} | lots expired {} (at exactly expires_at {}) \
             | accepted by type {:?} | events by type {:?} | rejections by code {:?}",
            self.runs,
            self.steps,
            self.commands,
            self.accepted,
            self.replayed,
            self.storage_errors,
            self.events,
            self.crashes,
            self.faults_before + self.faults_after,
            self.faults_before,
            self.faults_after,
            self.lost_acks_replayed,
            self.failed_writes_recorded,
            self.premised_rejections,
            self.batches,
            self.concurrent_steps,
            self.verifies,
            self.edges,
            self.expired,
            self.expired_at_edge,
            self.accepted_by_type,
            self.events_by_type,
            self.rejected,
        )
    }
}

/// Where a failing run is, for the message of a panic raised outside our checks.
#[derive(Default)]
pub struct Context {
    pub step: u64,
    pub lines: Vec<String>,
}

enum Backend {
    Memory(Arc<MemoryStore>),
    Sled {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
}

/// A recorded command: its spec and the positions and hashes of its events.
pub struct Recorded {
    pub spec: Spec,
    pub events: Vec<(u64, [u8; 32])>,
}

/// One command handed to the ledger and what came back.
pub struct Sub {
    pub thread: usize,
    pub spec: Spec,
    pub cmd: Command,
    pub outcome: Result<Receipt, Error>,
}

/// A command as found in the new part of the log.
struct LogCmd {
    id: Uuid,
    events: Vec<(u64, [u8; 32])>,
}

pub struct Sim {
    pub(super) seed: u64,
    pub(super) cfg: Config,
    pub(super) rng: Rng,
    pub(super) model: Model,
    pub(super) ids: HashMap<Uuid, Recorded>,
    pub(super) history: Vec<Spec>,
    pub(super) pending: Vec<Spec>,
    pub(super) members: Vec<String>,
    pub(super) stores: Vec<String>,
    pub(super) clock: i64,
    /// The ledger's clock: the simulation's, read by the ledger through `Clock::from_fn`.
    now: Arc<std::sync::atomic::AtomicI64>,
    pub(super) step: u64,
    pub(super) stats: Stats,
    pub(super) ghosts: u64,
    ledger: Option<Ledger>,
    backend: Backend,
    faults: Arc<Faults>,
    cursor: u64,
    seen: HashSet<Uuid>,
    accounts: BTreeMap<Account, i64>,
    trial: i64,
    lost_acks: HashSet<Uuid>,
    failed_writes: HashSet<Uuid>,
    ctx: Arc<Mutex<Context>>,
}

/// 2026-01-01T08:00:00Z.
pub const EPOCH: i64 = 1_767_254_400;

pub fn uses_sled(seed: u64, cfg: &Config) -> bool {
    match cfg.store.as_deref() {
        Some("sled") => true,
        Some("memory") => false,
        Some(other) => panic!("MEMBERLEDGER_SIM_STORE is memory or sled, not {other}"),
        None => seed % 3 == 0,
    }
}

impl Sim {
    pub fn new(seed: u64, cfg: Config, ctx: Arc<Mutex<Context>>) -> Sim {
        let mut rng = Rng::new(mix(seed));
        let members = (0..rng.range(20, 50)).map(|i| format!("M{i:02}")).collect();
        let stores = (1..=rng.range(3, 6)).map(|i| format!("S{i}")).collect();
        let backend = if uses_sled(seed, &cfg) {
            let dir = tempfile::tempdir().expect("a temp dir");
            let path = dir.path().join("ledger");
            Backend::Sled { _dir: dir, path }
        } else {
            Backend::Memory(Arc::new(MemoryStore::new()))
        };
        // Long runs fail and crash less often per step: every reopen and every failed write
        // replays the whole log, so their cost grows with it.
        let long = cfg.steps > 2_000;
        let faults = if long {
            Faults::new(mix(seed ^ 0xFA17), 10, 10)
        } else {
            Faults::new(mix(seed ^ 0xFA17), 30, 30)
        };
        let mut sim = Sim {
            seed,
            cfg,
            rng,
            model: Model::default(),
            ids: HashMap::new(),
            history: Vec::new(),
            pending: Vec::new(),
            members,
            stores,
            clock: EPOCH,
            now: Arc::new(std::sync::atomic::AtomicI64::new(EPOCH)),
            step: 0,
            stats: Stats {
                runs: 1,
                ..Stats::default()
            },
            ghosts: 0,
            ledger: None,
            backend,
            faults,
            cursor: 0,
            seen: HashSet::new(),
            accounts: BTreeMap::new(),
            trial: 0,
            lost_acks: HashSet::new(),
            failed_writes: HashSet::new(),
            ctx,
        };
        sim.open(Some(Policy::builtin()));
        sim.check_policy();
        sim
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Memory(_) => "memory",
            Backend::Sled { .. } => "sled",
        }
    }

    pub fn run(mut self) -> Stats {
        let started = std::time::Instant::now();
        for _ in 0..self.cfg.steps {
            self.one_step();
            if self.cfg.steps > 2_000 && self.step % 2_000 == 0 {
                eprintln!(
                    "seed={} step={} events={} crashes={} ({:.0}s)",
                    self.seed,
                    self.step,
                    self.cursor,
                    self.stats.crashes,
                    started.elapsed().as_secs_f64()
                );
            }
        }
        // Whatever is still pending is retried with faults off, then everything is checked.
        self.faults.arm(false);
        self.step += 1;
        if let Ok(mut c) = self.ctx.lock() {
            c.step = self.step;
            c.lines.clear();
        }
        let pending = std::mem::take(&mut self.pending);
        let mut subs = Vec::new();
        for spec in pending {
            self.submit(0, spec, &mut subs, false);
        }
        self.check_step(subs, Vec::new(), true);
        self.stats.steps = self.cfg.steps;
        self.stats.members_max = u64::try_from(self.model.members.len()).expect("few");
        self.stats
    }

    fn ledger(&self) -> &Ledger {
        self.ledger.as_ref().expect("the ledger is open")
    }

    fn open(&mut self, policy: Option<Policy>) {
        let inner: Arc<dyn EventStore> = match &self.backend {
            Backend::Memory(m) => Arc::clone(m) as Arc<dyn EventStore>,
            Backend::Sled { path, .. } => Arc::new(
                SledStore::open(path).unwrap_or_else(|e| self.fail(&format!("sled reopen: {e}"))),
            ),
        };
        let store = FaultStore::new(inner, Arc::clone(&self.faults));
        // The first open records the founding policy in the chain: no fault is injected
        // there (the model has no command for it).
        let armed = self.faults.armed();
        self.faults.arm(false);
        let ledger = Ledger::with_store(Box::new(store), policy)
            .unwrap_or_else(|e| self.fail(&format!("the ledger does not open: {e}")));
        let now = Arc::clone(&self.now);
        ledger.set_clock(memberledger::Clock::from_fn(move || {
            super::spec::timestamp(now.load(std::sync::atomic::Ordering::SeqCst))
        }));
        self.faults.arm(armed);
        self.ledger = Some(ledger);
    }

    /// The process dies between two commands: the ledger is dropped and opened again over
    /// what the store holds (sled reopens its directory).
    pub(super) fn crash(&mut self) {
        self.ledger = None;
        self.open(None);
        self.stats.crashes += 1;
    }

    /// The model hard-codes the built-in policy; make sure that is the policy in force.
    fn check_policy(&self) {
        use memberledger_core::Decimal;
        let p = self.ledger().policy();
        assert_eq!(p.tiers.len(), TIERS.len());
        for (t, m) in p.tiers.iter().zip(&TIERS) {
            assert_eq!(t.name, m.name);
            assert_eq!(t.discount, Decimal::new(m.discount, 2));
            assert_eq!(t.points_per_yuan, Decimal::new(m.points_x10, 1));
        }
        assert_eq!(p.bonus_expiry_days, Some(365));
        assert_eq!(p.points_expiry_days, Some(730));
        assert!(p.refund.claw_back_used_bonus);
        assert_eq!(p.recharge_bonus.len(), 5);
        assert_eq!(p.spend_order, memberledger_core::SpendOrder::Proportional);
        assert_eq!(p.freeze.allow_recharge, FREEZE_ALLOWS_RECHARGE);
        assert_eq!(p.freeze.allow_refunds, FREEZE_ALLOWS_REFUNDS);
        let refund_to = match p.packages.refund_to {
            memberledger_core::PackageRefundTo::Original => RefundTo::Original,
            memberledger_core::PackageRefundTo::Cash => RefundTo::Cash,
            memberledger_core::PackageRefundTo::Balance => RefundTo::Balance,
        };
        assert_eq!(refund_to, PACKAGE_REFUND_TO);
    }

    /// Fails the run with everything needed to reproduce it.
    pub(super) fn fail(&self, what: &str) -> ! {
        let lines = self
            .ctx
            .lock()
            .map(|c| c.lines.join("\n    "))
            .unwrap_or_default();
        panic!(
            "simulation failed: seed={} step={} store={}\n  {what}\n  commands of this step:\n    {lines}\n  reproduce: MEMBERLEDGER_SIM_SEED={} MEMBERLEDGER_SIM_STEPS={} cargo test -p memberledger --test simulation",
            self.seed,
            self.step,
            self.backend_name(),
            self.seed,
            self.cfg.steps
        );
    }

    fn note_line(&self, line: String) {
        if let Ok(mut c) = self.ctx.lock() {
            c.lines.push(line);
        }
    }

    fn one_step(&mut self) {
        self.step += 1;
        if let Ok(mut c) = self.ctx.lock() {
            c.step = self.step;
            c.lines.clear();
        }
        let focus = self.advance_clock();
        self.model.now = self.clock;
        self.now
            .store(self.clock, std::sync::atomic::Ordering::SeqCst);
        let crash_per_mille = match (&self.backend, self.cfg.steps > 2_000) {
            (Backend::Sled { .. }, false) => 15,
            (Backend::Memory(_), false) => 25,
            (_, true) => 5,
        };
        let crashes = self.stats.crashes;
        if self.rng.chance(crash_per_mille) {
            self.crash();
        }
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
        // After a crash, and every 25 steps, every member is compared, not only those touched.
        let all = self.stats.crashes != crashes || self.step % 25 == 0;
        self.check_step(subs, injected, all);
    }

    fn single(&mut self, focus: Option<String>, subs: &mut Vec<Sub>) {
        match self.gen_single(focus) {
            super::gen::Gen::Valid(spec) => self.submit(0, spec, subs, true),
            super::gen::Gen::Bad(line, code) => self.submit_bad(&line, code),
        }
    }

    /// A line the parser must refuse with `code`; nothing reaches the ledger.
    fn submit_bad(&mut self, line: &str, code: &str) {
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

    pub(super) fn parse(&mut self, spec: &Spec) -> Command {
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
    pub(super) fn submit(&mut self, thread: usize, spec: Spec, subs: &mut Vec<Sub>, faults: bool) {
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
            match self.rng.weighted(&[50, 20, 30]) {
                0 if attempt < 3 => {}
                1 if attempt < 3 => self.crash(),
                _ => {
                    self.pending.push(spec);
                    return;
                }
            }
        }
    }

    fn batch(&mut self, subs: &mut Vec<Sub>) {
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
    fn concurrent(&mut self, subs: &mut Vec<Sub>) -> bool {
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
    fn scan_log(&mut self) -> Vec<LogCmd> {
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

    /// Checks a step: the commands recorded (in log order) are exactly those the model
    /// accepts in that order; every client saw what the model says it should, at some point
    /// of that order consistent with its own order; then the ledger equals the model.
    fn check_step(&mut self, subs: Vec<Sub>, injected: Vec<Injected>, all: bool) {
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
        let log = self.scan_log();
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
        let mut snaps: Vec<Model> = vec![self.model.clone()];
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
        let stream_failed: HashSet<String> = subs
            .iter()
            .filter(|s| storage(s) && !after_recorded.contains(&s.spec.id))
            .map(|s| s.spec.stream().to_owned())
            .collect();
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
        for (lc, spec) in log.into_iter().zip(log_specs) {
            self.ids.insert(
                lc.id,
                Recorded {
                    spec,
                    events: lc.events,
                },
            );
        }
        let touched: Vec<String> = if all {
            self.members.clone()
        } else {
            subs.iter().filter_map(|s| s.spec.member.clone()).collect()
        };
        self.compare(&touched, all);
        if all || self.step % self.cfg.verify_every == 0 {
            self.verify();
        }
    }

    /// Checks one client's command at or after point `m` of the log order; returns the point
    /// after it.
    #[allow(clippy::too_many_arguments)]
    fn check_sub(
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

    /// The ledger's members, books and clearing equal the model's.
    fn compare(&self, members: &[String], all: bool) {
        let ledger = self.ledger();
        for m in members {
            let id = MemberId::new(m.as_str()).expect("generated ids are valid");
            let got = ledger.member_state(&id);
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
            let model_lots = |ls: &[super::model::Lot]| -> String {
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
        if all {
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

    fn verify(&mut self) {
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

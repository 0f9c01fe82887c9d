//! The simulation: one seeded run of a ledger (in memory or sled) behind a fault-injecting
//! store, fed by the generator, crashed and reopened now and then, and checked after every
//! step against the reference model and the invariants.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use memberledger::domain::{check_balanced, postings, Account, EventBody, MemberState};
use memberledger::store::{EventStore, FileStore, MemoryStore, SledStore};
use memberledger::{Command, Error, Ledger, MemberId, Policy, Receipt, StoreId, Uuid};

use super::fault::{FaultKind, FaultStore, Faults, Injected};
use super::model::{money, timestamp, Spec};
use super::model::{
    Ids, Model, RefundTo, Verdict, FREEZE_ALLOWS_RECHARGE, FREEZE_ALLOWS_REFUNDS,
    PACKAGE_REFUND_TO, TIERS,
};
use super::rng::{mix, Rng};

mod check;
mod compare;
mod step;
mod timing;

pub use compare::Scope;
pub use timing::Timing;

/// What a run is asked to do.
#[derive(Clone, Debug)]
pub struct Config {
    pub steps: u64,
    /// `verify()` every this many steps (and with every deep check, and at the end).
    pub verify_every: u64,
    /// The deep check (every member re-read from the store, and `verify()`) every this many
    /// steps; `None` (a short run): with every comparison of every member, i.e. every 25
    /// steps and after every crash.
    pub deep_every: Option<u64>,
    /// Run the clients of a concurrent step one after another instead of in threads.
    pub serial: bool,
    /// Force the store (`memory` or `sled`) instead of letting the seed choose.
    pub store: Option<String>,
    /// Events between two checkpoints (`MEMBERLEDGER_SIM_CHECKPOINT_EVERY`; 0: none, every
    /// reopen replays from genesis).
    pub checkpoint_every: Option<u64>,
}

/// The simulation's late window: a command up to this many hours older than its member's
/// last event (from an offline terminal) is accepted, taking effect at that event.
const SIM_LATE_WINDOW_HOURS: i64 = 72;

/// Events between two checkpoints in the simulation (small, so crashes reopen from them).
const SIM_CHECKPOINT_EVERY: u64 = 150;

/// A run of more steps than this is a long run: lower fault rates, the deep check at a
/// cadence, progress on stderr.
pub const LONG_RUN: u64 = 2_000;

/// A long run adds a member to those the generator may enrol every this many steps, up to
/// [`LONG_RUN_MEMBERS`].
pub const NEW_MEMBER_EVERY: u64 = 50;

/// The most members a long run signs up: the generator picks among all enrolled members with
/// a cost that grows with their number, and a member's history grows with the log over their
/// number (a consumption refund re-reads the member's events): 1,000 keeps both small over a
/// million commands.
pub const LONG_RUN_MEMBERS: usize = 1_000;

/// The latest sign-ups a long run's generator may enrol (it scans them every step).
pub const SIGN_UP_WINDOW: usize = 50;

/// A long run's deep checks: about this many over the run (and at least 1,000 steps apart),
/// so together they cost about as much as reading the final log this many times over two:
/// a bounded share of a run whose every other cost is per step.
const DEEP_CHECKS_PER_LONG_RUN: u64 = 20;

impl Config {
    pub fn from_env() -> Config {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let steps = var("MEMBERLEDGER_SIM_STEPS").map_or(200, |v| {
            v.parse().expect("MEMBERLEDGER_SIM_STEPS is a number")
        });
        let verify_every: Option<u64> = var("MEMBERLEDGER_SIM_VERIFY_EVERY").map(|v| {
            v.parse::<u64>()
                .expect("MEMBERLEDGER_SIM_VERIFY_EVERY is a number")
                .max(1)
        });
        let (verify_every, deep_every) = Config::cadences(steps, verify_every);
        Config {
            steps,
            verify_every,
            deep_every,
            serial: var("MEMBERLEDGER_SIM_SERIAL").is_some_and(|v| v != "0"),
            store: var("MEMBERLEDGER_SIM_STORE"),
            checkpoint_every: var("MEMBERLEDGER_SIM_CHECKPOINT_EVERY").map_or(
                Some(Config::checkpoint_cadence(steps)),
                |v| {
                    let n: u64 = v
                        .parse()
                        .expect("MEMBERLEDGER_SIM_CHECKPOINT_EVERY is a number");
                    (n > 0).then_some(n)
                },
            ),
        }
    }

    /// How often a run of `steps` verifies and makes the deep check, given
    /// `MEMBERLEDGER_SIM_VERIFY_EVERY`: a short run verifies every step (or as asked) and
    /// makes the deep check with every comparison of every member (`None`); a long run makes
    /// both every `max(1,000, steps / 20)` steps (or as asked). The deep check re-reads every
    /// member from the store and `verify()` replays the log, each a read of the whole log, so
    /// about 20 of them keep a long run's time linear in its steps; every step still compares
    /// the members it touched.
    pub fn cadences(steps: u64, verify_every: Option<u64>) -> (u64, Option<u64>) {
        if steps <= LONG_RUN {
            return (verify_every.unwrap_or(1), None);
        }
        let deep = verify_every.unwrap_or((steps / DEEP_CHECKS_PER_LONG_RUN).max(1_000));
        (deep, Some(deep))
    }

    /// Events between two checkpoints unless asked: [`SIM_CHECKPOINT_EVERY`], or in a long
    /// run a tenth of its steps (about 40 checkpoints over the run). A checkpoint writes every
    /// member, so a fixed cadence would make a long run's checkpoints cost the square of its
    /// length; this keeps them a bounded share, and a reopen's tail at most that many events.
    pub fn checkpoint_cadence(steps: u64) -> u64 {
        if steps <= LONG_RUN {
            SIM_CHECKPOINT_EVERY
        } else {
            (steps / 10).max(SIM_CHECKPOINT_EVERY)
        }
    }

    /// A long run (over [`LONG_RUN`] steps).
    pub fn long(&self) -> bool {
        self.steps > LONG_RUN
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
pub(crate) struct LogCmd {
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
    /// The members the generator may enrol (in a long run, the latest sign-ups only).
    pub(super) members: Vec<String>,
    /// Every member id ever offered to the generator: what "every member" compares.
    roster: Vec<String>,
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
    /// Every member as the log read so far says (folded event by event as the log is read,
    /// with its refundable-consumption records): what `member_state` would re-read.
    folded: HashMap<MemberId, MemberState>,
    /// The members whose events the current step's part of the log names.
    step_members: BTreeSet<String>,
    trial: i64,
    lost_acks: HashSet<Uuid>,
    failed_writes: HashSet<Uuid>,
    ctx: Arc<Mutex<Context>>,
    /// Where a long run's time goes, printed with each slice.
    pub(super) timing: Timing,
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
        let members: Vec<String> = (0..rng.range(20, 50)).map(|i| format!("M{i:02}")).collect();
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
        let long = cfg.long();
        let faults = if long {
            Faults::new(mix(seed ^ 0xFA17), 10, 10)
        } else {
            Faults::new(mix(seed ^ 0xFA17), 30, 30)
        };
        let mut sim = Sim {
            seed,
            cfg,
            rng,
            model: Model {
                late_window: Some(SIM_LATE_WINDOW_HOURS * 3_600),
                visit_tiers: seed % 2 == 1,
                ..Model::default()
            },
            ids: HashMap::new(),
            history: Vec::new(),
            pending: Vec::new(),
            roster: members.clone(),
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
            folded: HashMap::new(),
            step_members: BTreeSet::new(),
            trial: 0,
            lost_acks: HashSet::new(),
            failed_writes: HashSet::new(),
            ctx,
            timing: Timing::default(),
        };
        // The built-in policy, with a late window for offline terminals (the model's too).
        let mut policy = Policy::builtin();
        policy.late_window_hours = Some(u32::try_from(SIM_LATE_WINDOW_HOURS).expect("hours"));
        // Odd seeds add the model's tier rules on spending and visits (and retain rules).
        if sim.model.visit_tiers {
            policy = with_visit_rules(&policy);
        }
        sim.open(Some(policy));
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
        let slice = if self.cfg.steps <= 100_000 {
            2_000
        } else {
            10_000
        };
        let mut slice_started = started;
        for _ in 0..self.cfg.steps {
            self.one_step();
            if self.cfg.long() && self.step % slice == 0 {
                self.progress(started, slice_started, slice);
                slice_started = std::time::Instant::now();
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
        self.check_step(subs, Vec::new(), Scope::Deep);
        self.stats.steps = self.cfg.steps;
        self.stats.members_max = u64::try_from(self.model.members.len()).expect("few");
        self.stats
    }

    /// A long run's progress line (stderr): where it is, and where the slice's time went.
    fn progress(
        &mut self,
        started: std::time::Instant,
        slice_started: std::time::Instant,
        slice: u64,
    ) {
        let secs = slice_started.elapsed().as_secs_f64();
        let per_1000 = 1_000.0 / f64::from(u32::try_from(slice).expect("a slice is small"));
        let reopen = self.timing.crash.as_secs_f64();
        eprintln!(
            "seed={} step={} commands={} events={} crashes={} members={} at {:.0}s: slice {secs:.1}s ({:.2}s per 1,000 steps, {:.2}s without reopens) = {}",
            self.seed,
            self.step,
            self.stats.commands,
            self.cursor,
            self.stats.crashes,
            self.model.members.len(),
            started.elapsed().as_secs_f64(),
            secs * per_1000,
            (secs - reopen) * per_1000,
            self.timing.take_line()
        );
    }

    fn ledger(&self) -> &Ledger {
        self.ledger.as_ref().expect("the ledger is open")
    }

    fn open(&mut self, policy: Option<Policy>) {
        let inner: Arc<dyn EventStore> = match &self.backend {
            Backend::Memory(m) => Arc::clone(m) as Arc<dyn EventStore>,
            // MEMBERLEDGER_SIM_DISK=file: the disk backend is the append-only file store.
            Backend::Sled { path, .. }
                if std::env::var("MEMBERLEDGER_SIM_DISK").as_deref() == Ok("file") =>
            {
                Arc::new(
                    FileStore::open(path)
                        .unwrap_or_else(|e| self.fail(&format!("file store reopen: {e}"))),
                )
            }
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
            .unwrap_or_else(|e| self.fail(&format!("the ledger does not open: {e}")))
            .with_checkpoint_every(self.cfg.checkpoint_every);
        let now = Arc::clone(&self.now);
        ledger.set_clock(memberledger::Clock::from_fn(move || {
            super::model::timestamp(now.load(std::sync::atomic::Ordering::SeqCst))
        }));
        self.faults.arm(armed);
        self.ledger = Some(ledger);
    }

    /// The process dies between two commands: the ledger is dropped and opened again over
    /// what the store holds (sled reopens its directory).
    ///
    /// On a sled ledger, some crashes come right after a checkpoint was written (the reopen
    /// uses it), and some in the middle of writing one (the torn file is never read).
    /// Decided by a hash of the seed and the crash count, so the generator's stream is the same.
    pub(super) fn crash(&mut self) {
        let started = std::time::Instant::now();
        let roll = mix(self.seed ^ 0xC4EC_4701 ^ self.stats.crashes) % 4;
        if let (Backend::Sled { path, .. }, Some(ledger)) = (&self.backend, &self.ledger) {
            match roll {
                0 if self.cfg.checkpoint_every.is_some() => {
                    if let Err(e) = ledger.checkpoint() {
                        self.fail(&format!("a checkpoint was not written: {e}"));
                    }
                }
                1 => damage_latest_checkpoint(path),
                _ => {}
            }
        }
        self.ledger = None;
        self.open(None);
        if let Some(note) = self.ledger().open_notes().first() {
            self.fail(&format!("the reopen passed over a checkpoint: {note}"));
        }
        self.stats.crashes += 1;
        Timing::add(&mut self.timing.crash, started);
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
        assert_eq!(
            p.late_window_hours.map(i64::from),
            Some(SIM_LATE_WINDOW_HOURS)
        );
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
}

/// A checkpoint write torn by a crash midway: half of the latest checkpoint left in a
/// temporary file, which the reopen must never read.
fn damage_latest_checkpoint(ledger: &std::path::Path) {
    let dir = ledger.join("checkpoints");
    let Some(latest) = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.to_string_lossy().ends_with(".tmp"))
        .max()
    else {
        return;
    };
    if let Ok(bytes) = std::fs::read(&latest) {
        let torn = latest.with_extension("tmp");
        let _ = std::fs::write(torn, &bytes[..bytes.len() / 2]);
    }
}

/// `policy` with [`VISIT_RULES_JSON`](super::model::VISIT_RULES_JSON) added to its tiers: each
/// tier's upgrade fields merged in, and its retain rule.
fn with_visit_rules(policy: &Policy) -> Policy {
    let mut v = serde_json::to_value(policy).expect("a policy serialises");
    let tiers = v["tiers"].as_array_mut().expect("tiers");
    for (t, (upgrade, retain)) in tiers.iter_mut().zip(super::model::VISIT_RULES_JSON) {
        let add: serde_json::Value = serde_json::from_str(upgrade).expect("upgrade fields");
        if let Some(fields) = add.as_object().filter(|f| !f.is_empty()) {
            let u = t["upgrade"].as_object_mut().expect("an upgrade to add to");
            u.extend(fields.clone());
        }
        if let Some(r) = retain {
            t["retain"] = serde_json::from_str(r).expect("retain rule");
        }
    }
    Policy::from_value(v).expect("the simulation's policy is valid")
}

use memberledger_core::{
    chain_hash, check_balanced, event_id, postings_into, write_canonical_json, Account,
    CardDirectory, Clearing, Hash, MemberState, Policy, PolicyHistory, Posting, RecordedEvent,
    Timestamp, Uuid, GENESIS_HASH,
};
use memberledger_store::{CommandPlace, EventStore, RawEventRef, RawPage, StoreError};
use rayon::prelude::*;

use crate::Error;

pub(crate) use crate::members::Members;

mod catch_up;
mod refold;
pub(crate) use catch_up::{catch_up, Projections};
use refold::Refolds;

/// Events read at a time when scanning the log: one read of the store (one query on a
/// server), and one lookup of the page's command places.
pub(crate) const SCAN_PAGE: usize = 8192;

/// The result of folding the whole log from genesis.
pub(crate) struct Replayed {
    pub members: Members,
    /// The sum of every account (zero in balanced books), wide enough never to overflow.
    pub trial_total: i128,
    /// What stores owe each other.
    pub clearing: Clearing,
    /// Which member holds which card.
    pub cards: CardDirectory,
    pub events: u64,
    pub head: Hash,
    /// The founding policy and every version published since.
    pub history: PolicyHistory,
    /// The time of the latest event (a new policy must take effect after it).
    pub latest_at: Option<Timestamp>,
    /// The first checkpoint found not to equal the replay at its position (only checked by a
    /// full replay), and how.
    pub checkpoint_problem: Option<(u64, String)>,
    /// Where the store's index, loaded from a snapshot rather than built from the log,
    /// disagrees with the log (only asked by a full replay; see
    /// [`EventStore::index_snapshot_problem`]).
    pub index_problem: Option<(u64, String)>,
}

/// What can be checked of one stored event on its own, in parallel with the others: each
/// stored record carries its hash and the previous one's, so every link of the chain is
/// independent of the rest.
struct Checked {
    position: u64,
    hash: Hash,
    chain_ok: bool,
    decoded: Result<Decoded, StoreError>,
}

struct Decoded {
    rec: RecordedEvent,
    id_ok: bool,
    /// The sum of the journal entry's postings (zero when it balances).
    entry_total: i128,
    /// The entry's inter-store postings, what the clearing folds in order: most entries have
    /// none. The rest of the entry is dropped by the thread that made it, where its memory
    /// is reused at once (freed by the fold's thread, it piled up as fresh memory).
    inter_store: Vec<Posting>,
    balanced: Result<(), String>,
    canonical_ok: bool,
}

thread_local! {
    /// Each replay thread's buffer for re-encoding events (`verify` compares every stored
    /// event with its canonical JSON).
    static CANONICAL: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Each replay thread's buffer for an event's journal entry.
    static ENTRY: std::cell::RefCell<Vec<Posting>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// What an event's journal entry says to the replay: whether it balances, its sum (zero when
/// it does) and its inter-store postings (what the clearing folds in order; most entries have
/// none), made in a buffer the thread keeps.
fn entry_of(event: &memberledger_core::Event) -> (Result<(), String>, i128, Vec<Posting>) {
    ENTRY.with_borrow_mut(|entry| {
        postings_into(event, entry);
        // In i128, postings of at most i64 cannot overflow it.
        let total = entry.iter().map(|p| i128::from(p.cents)).sum();
        let inter_store = entry
            .iter()
            .filter(|p| matches!(p.account, Account::InterStorePayable { .. }))
            .cloned()
            .collect();
        (check_balanced(entry), total, inter_store)
    })
}

/// Checks one stored event against the stored hash before it: the chain link, that it
/// decodes, its id, its journal entry, and (when `full`) that the bytes are its canonical JSON.
fn check_one(prev: &Hash, raw: RawEventRef<'_>, full: bool) -> Checked {
    let chain_ok = chain_hash(prev, raw.json) == *raw.hash;
    let decoded = raw.decode().map(|rec| {
        let id_ok = rec.event.id == event_id(rec.event.command, rec.event.index);
        let (balanced, entry_total, inter_store) = entry_of(&rec.event);
        let canonical_ok = !full
            || CANONICAL.with_borrow_mut(|buf| {
                buf.clear();
                write_canonical_json(buf, rec.position, &rec.event);
                *buf == raw.json
            });
        Decoded {
            rec,
            id_ok,
            entry_total,
            inter_store,
            balanced,
            canonical_ok,
        }
    });
    Checked {
        position: raw.position,
        hash: *raw.hash,
        chain_ok,
        decoded,
    }
}

/// A page of the log, checked, with the store's places of its commands.
///
/// Its buffers are large (a few MB for a page of [`SCAN_PAGE`] events) and are kept from one
/// page to the one after next rather than allocated afresh: an allocator hands memory that
/// large back to the system when it is freed, and taking it again costs a page fault and the
/// zeroing of every page of it, a large part of a replay's time when done for every page.
#[derive(Default)]
struct Page {
    /// The page as stored.
    raw: RawPage,
    checked: Vec<Checked>,
    /// Where the store places each command of the page (`None`: not recorded), asked of the
    /// store once for the whole page ([`EventStore::command_places`]).
    places: Places,
    /// The page's command ids, in the order it meets them (the question `places` answers).
    ids: Vec<Uuid>,
}

/// Reads a page from `from` into the buffers of `page` (a page already folded, or a new
/// one), checks each event of it in parallel, and asks the store where its commands are, all
/// at once; `prev` is the stored hash before `from`.
fn read_page(
    store: &dyn EventStore,
    from: u64,
    prev: Hash,
    full: bool,
    mut page: Page,
) -> Result<Page, StoreError> {
    store.read_raw_into(from, SCAN_PAGE, &mut page.raw)?;
    check_page(&page.raw, &prev, full, &mut page.checked);
    page_places(store, &mut page)?;
    Ok(page)
}

/// Checks each event of a page in parallel into `checked` (its buffer reused); `prev` is the
/// stored hash before the first.
fn check_page(raw: &RawPage, prev: &Hash, full: bool, checked: &mut Vec<Checked>) {
    (0..raw.len())
        .into_par_iter()
        .with_min_len(64)
        .map(|i| {
            let prev = if i == 0 { prev } else { raw.event(i - 1).hash };
            check_one(prev, raw.event(i), full)
        })
        .collect_into_vec(checked);
}

/// Where the store places the commands of a page, asked once for the whole page.
fn page_places(store: &dyn EventStore, page: &mut Page) -> Result<(), StoreError> {
    // A command's events are contiguous: each command once, in log order.
    page.ids.clear();
    for c in &page.checked {
        if let Ok(d) = &c.decoded {
            if page.ids.last() != Some(&d.rec.event.command) {
                page.ids.push(d.rec.event.command);
            }
        }
    }
    // Asked in as many pieces as there are cores, in parallel: each lookup is a few cache
    // misses in a large table, and the fold, when it is through its page first, takes a
    // piece (a store on a server gets as many queries a page).
    let piece = page
        .ids
        .len()
        .div_ceil(rayon::current_num_threads())
        .max(1024);
    let places = page
        .ids
        .par_chunks(piece)
        .map(|ids| store.command_places(ids))
        .collect::<Result<Vec<_>, _>>()?;
    page.places.clear();
    page.places
        .extend(page.ids.iter().copied().zip(places.into_iter().flatten()));
    Ok(())
}

/// The store's places of a page's commands, in the order the page meets them (the fold
/// takes them from the front as it meets each command).
type Places = std::collections::VecDeque<(Uuid, Option<CommandPlace>)>;

/// The sequential half of the replay: what needs the events in order.
struct Fold {
    members: Members,
    trial_total: i128,
    clearing: Clearing,
    cards: CardDirectory,
    prev: Hash,
    n: u64,
    /// The store's place of the command being read (a command's events are contiguous).
    place: Option<(Uuid, Option<CommandPlace>)>,
    /// How many commands it has met.
    commands: u64,
    history: PolicyHistory,
    latest_at: Option<Timestamp>,
    /// Whether members keep their refundable-consumption records (the full checks of
    /// `verify`), or fold without them (the compact projection a ledger caches).
    records: bool,
    /// Whether a member started here drops its spending window (a catch-up of a ledger whose
    /// policies name no rule that reads it: `projection`).
    drop_windows: bool,
    /// The positions of the checkpoints still to compare with the fold (a full replay's),
    /// ascending.
    checkpoints: Vec<u64>,
    /// The first checkpoint that differs from the fold at its position, and how.
    checkpoint_problem: Option<(u64, String)>,
    /// What checkpoints are streamed into, kept from one to the next (a fresh buffer of
    /// several megabytes costs its pages' zeroing).
    checkpoint_buf: Vec<u8>,
    /// The members a full replay folds again with their consumption records, noted as it
    /// goes (`None`: not deferred, members folding with them or without them throughout).
    refolds: Option<Refolds>,
}

impl Fold {
    /// Applies the checks in the order a sequential replay makes them, so the first failure
    /// found (and its message) does not depend on the parallel part. `places` are the store's
    /// places of the page's commands.
    fn event(
        &mut self,
        store: &dyn EventStore,
        places: &mut Places,
        c: &Checked,
    ) -> Result<(), Error> {
        let position = c.position;
        let corrupt = |why: String| Error::Corrupt { position, why };
        if position != self.n + 1 {
            return Err(Error::Corrupt {
                position: self.n + 1,
                why: format!(
                    "event {} is missing (the log jumps to {position})",
                    self.n + 1
                ),
            });
        }
        if !c.chain_ok {
            return Err(corrupt("the hash does not follow the chain (bytes changed, or an event removed, inserted or moved)".into()));
        }
        let d = c.decoded.as_ref().map_err(Clone::clone)?;
        if !d.id_ok {
            return Err(corrupt(
                "the event id is not UUID v5 of its command and index".into(),
            ));
        }
        let e = &d.rec.event;
        self.check_place(store, places, e, position)?;
        if let Err(why) = &d.balanced {
            return Err(corrupt(why.clone()));
        }
        self.clearing.fold_postings(e.at, &d.inter_store);
        // The trial balance: every entry's sum (zero, as each was checked to balance),
        // summed again over the log. In i128, postings of at most i64 cannot overflow it
        // before 2^64 of them.
        self.trial_total += d.entry_total;
        if !d.canonical_ok {
            return Err(corrupt(
                "the stored bytes are not the canonical JSON of the event".into(),
            ));
        }
        // The policy rules decide applied, checked of the recorded event by the core: a
        // publication after every event before it, every other event naming the version in
        // force at its time.
        self.history
            .check_recorded(e, self.latest_at)
            .map_err(corrupt)?;
        self.latest_at = self.latest_at.max(Some(e.at));
        self.fold(&d.rec, position)?;
        self.prev = c.hash;
        self.n = position;
        if self.checkpoints.first() == Some(&position) {
            self.checkpoints.remove(0);
            self.compare_checkpoint(store, position);
        }
        Ok(())
    }

    /// Compares the checkpoint the store keeps at `position` with the fold there, keeping the
    /// first difference (or failure to read it) as the replay's checkpoint problem.
    fn compare_checkpoint(&mut self, store: &dyn EventStore, position: u64) {
        if self.checkpoint_problem.is_some() {
            return;
        }
        let state = crate::checkpoint::State {
            members: &self.members,
            clearing: &self.clearing,
            cards: &self.cards,
            history: &self.history,
            latest_at: self.latest_at,
        };
        let why = crate::checkpoint::difference(
            store,
            (position, &self.prev),
            &state,
            &mut self.checkpoint_buf,
        );
        self.checkpoint_problem = why.map(|why| {
            (
                position,
                format!(
                    "the checkpoint at position {position} does not equal the replay there: {why}"
                ),
            )
        });
    }

    /// Checks that the store's index agrees with what the event says of itself: the place of
    /// its command as the page's lookup found it (or, for a command met again after others,
    /// which a sound log never has, as the store says now).
    fn check_place(
        &mut self,
        store: &dyn EventStore,
        places: &mut Places,
        e: &memberledger_core::Event,
        position: u64,
    ) -> Result<(), Error> {
        let corrupt = |why: String| Error::Corrupt { position, why };
        let place = match &self.place {
            Some((id, place)) if *id == e.command => place,
            _ => {
                self.command_ended(position)?;
                self.commands += 1;
                let place = match places.pop_front() {
                    Some((id, place)) if id == e.command => place,
                    // Not the page's next command (the page's lookup went by its events as
                    // decoded, and this one is met again after others): asked on its own.
                    _ => store.command_place(e.command)?,
                };
                &self.place.insert((e.command, place)).1
            }
        };
        match place {
            Some(c)
                if c.member == e.member
                    && position >= c.first_position
                    && position - c.first_position == u64::from(e.index)
                    && e.index < c.count => {}
            _ => return Err(corrupt(format!(
                "the store's index does not place this event as event {} of command {} of member {}",
                e.index, e.command, e.member
            ))),
        }
        Ok(())
    }

    /// Checks that the command being read ended with the event before `position` (the next
    /// event's, or the position after the log's end), as the store's index places it: an
    /// index that gives a command more events than the log holds is found here.
    fn command_ended(&self, position: u64) -> Result<(), Error> {
        match &self.place {
            Some((id, Some(c)))
                if c.first_position.checked_add(u64::from(c.count)) != Some(position) =>
            {
                Err(Error::Corrupt {
                    position,
                    why: format!(
                        "the store's index gives command {id} {} events; the log {}",
                        c.count,
                        position.saturating_sub(c.first_position)
                    ),
                })
            }
            _ => Ok(()),
        }
    }

    /// Folds a checked event onto its stream: the policy history, the clearing or a member.
    fn fold(&mut self, rec: &RecordedEvent, position: u64) -> Result<(), Error> {
        let corrupt = |why: String| Error::Corrupt { position, why };
        let e = &rec.event;
        // Fold in place; a refused event ends the replay, so a part-folded state is never
        // used.
        if e.member.is_policy() {
            self.history.apply(e).map_err(corrupt)?;
        } else if e.member.is_stores() {
            self.clearing
                .apply(&rec.event)
                .map_err(|f| corrupt(f.to_string()))?;
        } else {
            self.cards.fold(&rec.event);
            let current = self.members.get_mut(&rec.event.member);
            let started =
                MemberState::fold_next(current, &rec.event).map_err(|f| corrupt(f.to_string()))?;
            if let Some(mut state) = started {
                if !self.records {
                    state = state.without_consumption_records();
                }
                if self.drop_windows {
                    state.drop_spending_window();
                }
                self.members.insert(Box::new(state));
            }
            if let Some(refolds) = &mut self.refolds {
                refolds.note(&rec.event);
                if refolds.over_budget(self.members.len()) {
                    // Never reported: the replay starts again with every member's records.
                    return Err(corrupt(
                        "more members refund than a replay folds again".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Folds the log from the position after `n` to its end, checking that the end reaches
    /// the store's head as it was before the first read (with the same hash when it ends
    /// there). Other writers of a shared store may append while it reads: a log that ends
    /// past that head is theirs, chained like the rest.
    fn run(&mut self, store: &dyn EventStore, full: bool) -> Result<(), Error> {
        let head = store.head()?;
        let mut next = read_page(store, self.n + 1, self.prev, full, Page::default())?;
        // The buffers of the page before: the page after next is read into them.
        let mut spare = Page::default();
        while let Some(last) = next.checked.last() {
            let (from, prev) = (last.position + 1, last.hash);
            let page = std::mem::take(&mut next);
            let buffers = std::mem::take(&mut spare);
            let (folded, following) = rayon::join(
                || self.page(store, page),
                || read_page(store, from, prev, full, buffers),
            );
            spare = folded?;
            next = following?;
        }
        self.command_ended(self.n + 1)?;
        let short = head.position > self.n;
        if short || (head.position == self.n && head.hash != self.prev) {
            return Err(Error::Corrupt {
                position: self.n + 1,
                why: format!(
                    "the store's head is at {} but the log ends at {}",
                    head.position, self.n
                ),
            });
        }
        Ok(())
    }

    /// Folds a page's events in order; returns the page, its buffers for a page to come (its
    /// events are dropped there, by the reading side, where most of them were made).
    fn page(&mut self, store: &dyn EventStore, mut page: Page) -> Result<Page, Error> {
        let places = &mut page.places;
        // A page that starts within the command the last one ended in: its place is known.
        if places.front().map(|(id, _)| id) == self.place.as_ref().map(|(id, _)| id) {
            places.pop_front();
        }
        // Folded where they lie (an event is a few hundred bytes, moved at every step
        // otherwise), then dropped.
        for c in &page.checked {
            self.event(store, places, c)?;
        }
        Ok(page)
    }
}

/// Folds the whole log from genesis, checking as it goes that positions are contiguous, every
/// stored hash follows the chain rule over the stored bytes, every event decodes, has its id,
/// is placed by the store's index, posts a balanced entry and names the policy version in
/// force at its time, and every event folds onto its stream. The first failure is returned as
/// `Corrupt` with its position.
///
/// With `full` (what `verify` does), also: the stored bytes are the canonical JSON of the event
/// they decode to, and every refund is checked against what its consumption drew (the
/// refundable-consumption records, folded only for the members whose fold reads them: see
/// `refold`). The members come out compact, as a ledger caches them, or, when a full replay
/// had to fold every member's records after all, with them (the caller's compaction drops
/// them).
///
/// One pass, on every core: while one page is folded in order, the next is read and its
/// events checked in parallel (chain links, decoding, ids, journal entries, canonical bytes).
pub(crate) fn replay(
    store: &dyn EventStore,
    founding: &Policy,
    full: bool,
) -> Result<Replayed, Error> {
    if full {
        if let Some(replayed) = replay_deferring_records(store, founding) {
            return Ok(replayed);
        }
    }
    let mut fold = Fold::from_genesis(store, founding, full, None)?;
    fold.run(store, full)?;
    Ok(fold.finish(store, full))
}

/// A full replay that folds members without their consumption records and then folds again,
/// with them, only the members whose fold reads them; `None` when anything fails or differs
/// (replayed again with every member's records, to find the first failure in log order).
fn replay_deferring_records(store: &dyn EventStore, founding: &Policy) -> Option<Replayed> {
    let mut fold = Fold::from_genesis(store, founding, true, Some(Refolds::default())).ok()?;
    fold.run(store, true).ok()?;
    let refolds = fold.refolds.take()?;
    (refolds.is_empty() || refolds.hold(store, &fold.members, fold.n))
        .then(|| fold.finish(store, true))
}

impl Fold {
    /// A fold at genesis: `full`, the checks of `verify` (and the checkpoints to compare);
    /// members fold with their consumption records when `full` unless their `refolds` are
    /// noted instead.
    fn from_genesis(
        store: &dyn EventStore,
        founding: &Policy,
        full: bool,
        refolds: Option<Refolds>,
    ) -> Result<Fold, Error> {
        Ok(Fold {
            members: Members::default(),
            trial_total: 0,
            clearing: Clearing::default(),
            cards: CardDirectory::default(),
            prev: GENESIS_HASH,
            n: 0,
            place: None,
            commands: 0,
            history: PolicyHistory::new(founding.clone()),
            latest_at: None,
            records: full && refolds.is_none(),
            drop_windows: false,
            checkpoints: if full {
                store.checkpoint_positions()?
            } else {
                Vec::new()
            },
            checkpoint_problem: None,
            checkpoint_buf: Vec::new(),
            refolds,
        })
    }

    /// What the fold of the whole log gives, with a checkpoint past its end as the problem
    /// and, for a `full` replay, what the store says of an index it loaded from a snapshot,
    /// now that the whole log has been read through it.
    fn finish(self, store: &dyn EventStore, full: bool) -> Replayed {
        let index_problem = full
            .then(|| store.index_snapshot_problem(self.commands))
            .flatten();
        let Fold {
            members,
            trial_total,
            clearing,
            cards,
            prev,
            n,
            history,
            latest_at,
            mut checkpoint_problem,
            checkpoints,
            ..
        } = self;
        if let Some(&past) = checkpoints.first() {
            checkpoint_problem.get_or_insert((
                past,
                format!("the checkpoint at position {past} is past the end of the log ({n})"),
            ));
        }
        Replayed {
            members,
            trial_total,
            clearing,
            cards,
            events: n,
            head: prev,
            history,
            latest_at,
            checkpoint_problem,
            index_problem,
        }
    }
}

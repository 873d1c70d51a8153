//! Eight threads racing QueryInterface, AddRef, Release and
//! SynchronizeInBackground on one object through raw vtable pointers, as
//! eight threads of a C host would.
//!
//! Checked: exactly one sync runs at a time (the provider counts the threads
//! inside its method), every other start gets MAPI_E_BUSY with
//! `*phSyncDoneEvent` NULL, every S_OK gets exactly one `Done(S_OK)`, no
//! reference is lost or added (the counts of the object and of every host
//! object come back exactly), and the object outlives its last outside
//! reference until its worker ends (the provider's `Drop` runs once, after
//! its method returned). Iterations are bounded; nothing is timed.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};

use mapisync::{IMAPISync, MapiSync, SyncJob};
use mapisync_tests::*;

const THREADS: usize = 8;
/// Operations per thread (Miri runs the same races, fewer times).
const ROUNDS: usize = if cfg!(miri) { 40 } else { 5_000 };

/// What the provider saw, kept outside the object so it can be read after
/// the object is freed.
#[derive(Default)]
struct Race {
    /// Threads inside the provider's method now.
    inside: AtomicUsize,
    /// The most ever inside at once (must stay 1).
    most_inside: AtomicUsize,
    entered: AtomicUsize,
    exited: AtomicUsize,
    drops: AtomicUsize,
    /// Set by `Drop`: every sync had returned when the value was dropped.
    dropped_after_return: AtomicBool,
    /// Where a sync is held (to hold a worker at will).
    gate: HoldPoint,
}

struct Racer(Arc<Race>);

#[mapisync::provider]
impl MapiSync for Racer {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        let race = &self.0;
        race.entered.fetch_add(1, Ordering::SeqCst);
        let now = race.inside.fetch_add(1, Ordering::SeqCst) + 1;
        race.most_inside.fetch_max(now, Ordering::SeqCst);
        race.gate.pass();
        // Some work, giving other threads the chance to race in.
        for step in 1..=3 {
            std::thread::yield_now();
            job.progress("racing", step, 3)?;
        }
        race.inside.fetch_sub(1, Ordering::SeqCst);
        race.exited.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

impl Drop for Racer {
    fn drop(&mut self) {
        let race = &self.0;
        let returned = race.entered.load(Ordering::SeqCst) == race.exited.load(Ordering::SeqCst);
        race.dropped_after_return.store(returned, Ordering::SeqCst);
        race.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// A raw pointer handed between threads: an IMAPISync (each thread holds
/// its own reference) or a done event.
#[derive(Clone, Copy)]
struct Shared(*mut c_void);
// SAFETY: Send: COM objects made by mapisync are free-threaded; each thread
// calls through the pointer only while it holds a reference.
unsafe impl Send for Shared {}

/// A small deterministic generator, one per thread.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % sides
    }
}

/// What one thread did.
#[derive(Default, Debug)]
struct Tally {
    started: usize,
    busy: usize,
    queries: usize,
    add_refs: usize,
}

/// One random IUnknown call: QueryInterface for IMAPISync, IUnknown or an
/// unknown IID, or an AddRef/Release pair.
fn unknown_call(object: Raw, dice: &mut Dice, tally: &mut Tally) {
    match dice.roll(4) {
        0 => {
            let (hr, p) = object.query(&IID_IMAPISYNC);
            assert_eq!((hr, p), (S_OK, object.0), "IMAPISync is the object's own pointer");
            assert!(Raw(p).release() >= 1, "the thread still holds a reference");
            tally.queries += 1;
        }
        1 => {
            let (hr, p) = object.query(&IID_IUNKNOWN);
            assert_eq!((hr, p), (S_OK, object.0), "IUnknown identity is stable");
            assert!(Raw(p).release() >= 1);
            tally.queries += 1;
        }
        2 => {
            let (hr, p) = object.query(&IID_UNRELATED);
            assert_eq!((hr, p), (E_NOINTERFACE, std::ptr::null_mut()));
            tally.queries += 1;
        }
        _ => {
            assert!(object.add_ref() >= 2, "this thread's reference and the new one");
            assert!(object.release() >= 1);
            tally.add_refs += 1;
        }
    }
}

/// One thread's share of the race; returns its tally. Holds a reference to
/// `object` throughout (given to it by the caller) and keeps it.
///
/// Each round: a random IUnknown call, then all threads meet at `start` and
/// call SynchronizeInBackground at once. No sync is running then, so the
/// first start must get S_OK (the round's `winners` count checks that one
/// did); the winner waits for its done event while the others make more
/// random IUnknown calls against the running sync; then everyone meets at
/// `end`. A slow thread may start a second sync after the first ended: that
/// is allowed, overlapping syncs are not (the provider's `most_inside`).
fn race_on(object: Raw, rounds: &Rounds, seed: u64) -> Tally {
    let _abort = AbortOnPanic;
    let session = HostRef::session();
    let callback = HostRef::callback(Script::default());
    let mut dice = Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut tally = Tally::default();
    for round in 0..ROUNDS {
        unknown_call(object, &mut dice, &mut tally);
        rounds.start.wait();
        let sib = Sib::new(0, Some(&session), Some(&callback));
        // SAFETY: test: `object` is a live IMAPISync; `sib` is complete.
        match unsafe { object.synchronize(&*sib.sib) } {
            S_OK => {
                let event = sib.handle();
                assert!(!event.is_null() && event != SENTINEL);
                rounds.winners[round % 2].fetch_add(1, Ordering::SeqCst);
                tally.started += 1;
                assert!(wait_event(event, PATIENCE), "a started sync never signalled its event");
                close_event(event);
            }
            MAPI_E_BUSY => {
                assert!(sib.handle().is_null(), "*phSyncDoneEvent must be NULL on MAPI_E_BUSY");
                tally.busy += 1;
                for _ in 0..=dice.roll(4) {
                    unknown_call(object, &mut dice, &mut tally);
                }
            }
            other => panic!("SynchronizeInBackground returned {other:#x}"),
        }
        // The leader checks this round and resets the other round's count.
        if rounds.end.wait().is_leader() {
            let winners = rounds.winners[round % 2].swap(0, Ordering::SeqCst);
            assert!(winners >= 1, "round {round}: every start was refused with no sync running");
        }
        rounds.checked.wait();
    }
    // Every worker lets go of the callback after calling Done.
    assert_eq!(callback.wait_count(1, PATIENCE), 1, "a worker kept a reference to the callback");
    assert_eq!(session.wait_count(1, PATIENCE), 1, "a worker kept a reference to the session");
    // Only the HRESULT is checked here: each thread closes its event as soon
    // as it is signalled, often before the worker's Done, and a closed Win32
    // handle reads as unsignalled. raw_vtable checks signal-before-Done with
    // the event held open.
    let done: Vec<i32> = callback
        .calls()
        .into_iter()
        .filter_map(|call| match call {
            Call::Done { hr, .. } => Some(hr),
            _ => None,
        })
        .collect();
    assert_eq!(done.len(), tally.started, "exactly one Done per S_OK");
    assert!(done.iter().all(|&hr| hr == S_OK), "{done:?}");
    tally
}

/// A thread that fails an assertion would leave the others waiting at a
/// barrier forever: abort the test process instead (the message is printed first).
struct AbortOnPanic;

impl Drop for AbortOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            std::process::abort();
        }
    }
}

/// The threads' meeting points and the per-round count of S_OK starts.
struct Rounds {
    start: Barrier,
    end: Barrier,
    checked: Barrier,
    winners: [AtomicUsize; 2],
}

impl Rounds {
    fn new() -> Self {
        Self {
            start: Barrier::new(THREADS),
            end: Barrier::new(THREADS),
            checked: Barrier::new(THREADS),
            winners: Default::default(),
        }
    }
}

fn new_object(race: &Arc<Race>) -> Raw {
    let sync: IMAPISync = Racer(race.clone()).into();
    Raw(mapisync::Interface::into_raw(sync))
}

#[test]
fn eight_threads_race_one_object_and_every_count_comes_back() {
    let race = Arc::new(Race::default());
    let object = new_object(&race);
    let rounds = &Rounds::new();
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|seed| {
                let (hr, mine) = object.query(&IID_IMAPISYNC);
                assert_eq!(hr, S_OK);
                let mine = Shared(mine);
                scope.spawn(move || {
                    let mine = mine;
                    let tally = race_on(Raw(mine.0), rounds, seed as u64 + 1);
                    Raw(mine.0).release();
                    tally
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap()).collect()
    });

    let started: usize = tallies.iter().map(|t| t.started).sum();
    let busy: usize = tallies.iter().map(|t| t.busy).sum();
    eprintln!(
        "stress: {THREADS} threads x {ROUNDS} rounds: {started} syncs, {busy} MAPI_E_BUSY, {} queries, {} AddRef/Release pairs",
        tallies.iter().map(|t| t.queries).sum::<usize>(),
        tallies.iter().map(|t| t.add_refs).sum::<usize>(),
    );
    assert!(started >= ROUNDS, "at least one sync per round");
    assert_eq!(race.most_inside.load(Ordering::SeqCst), 1, "two syncs ran at once");
    assert_eq!(race.entered.load(Ordering::SeqCst), started);
    assert_eq!(race.exited.load(Ordering::SeqCst), started);

    // The workers let go after Done; then only the test's reference is left.
    let deadline = std::time::Instant::now() + PATIENCE;
    while object.count() != 1 && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert_eq!(object.count(), 1, "a reference was lost or leaked");
    assert_eq!(race.drops.load(Ordering::SeqCst), 0);
    assert_eq!(object.release(), 0);
    assert_eq!(race.drops.load(Ordering::SeqCst), 1, "the last Release frees exactly once");
    assert!(race.dropped_after_return.load(Ordering::SeqCst));
}

#[test]
fn racing_threads_release_every_outside_reference_while_a_worker_runs() {
    let race = Arc::new(Race::default());
    let object = new_object(&race);
    // Each thread gets a reference of its own; the test keeps none.
    let mine: Vec<Shared> = (0..THREADS)
        .map(|_| {
            object.add_ref();
            Shared(object.0)
        })
        .collect();
    assert_eq!(object.release(), THREADS as u32);

    let barrier = Barrier::new(THREADS);
    let rounds = Rounds::new();
    let held_event = Mutex::new(None::<Shared>);
    let releases: Vec<u32> = std::thread::scope(|scope| {
        let handles: Vec<_> = mine
            .into_iter()
            .enumerate()
            .map(|(index, reference)| {
                let (race, barrier, held_event, rounds) = (&race, &barrier, &held_event, &rounds);
                scope.spawn(move || {
                    let reference = reference;
                    let object = Raw(reference.0);
                    race_on(object, rounds, index as u64 + 101);
                    // Every sync of the race has ended: hold the next one in its worker.
                    barrier.wait();
                    if index == 0 {
                        race.gate.hold();
                        let sib = Sib::new(0, None, None);
                        // SAFETY: test: `object` is a live IMAPISync; `sib` is complete.
                        assert_eq!(unsafe { object.synchronize(&*sib.sib) }, S_OK);
                        *held_event.lock().unwrap() = Some(Shared(sib.handle()));
                        assert!(race.gate.wait_held());
                    }
                    barrier.wait();
                    // All eight outside references go at once while the worker runs.
                    object.release()
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap()).collect()
    });

    // Eight outside references and the worker's: the Releases returned 8..1 in some order.
    let mut sorted = releases.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=THREADS as u32).collect::<Vec<_>>(), "{releases:?}");
    assert_eq!(race.drops.load(Ordering::SeqCst), 0, "freed while its worker runs");
    assert_eq!(race.inside.load(Ordering::SeqCst), 1);

    race.gate.release();
    let event = held_event.lock().unwrap().take().expect("the held sync's event").0;
    assert!(wait_event(event, PATIENCE));
    close_event(event);
    let deadline = std::time::Instant::now() + PATIENCE;
    while race.drops.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert_eq!(race.drops.load(Ordering::SeqCst), 1, "the worker's release frees exactly once");
    assert!(race.dropped_after_return.load(Ordering::SeqCst), "dropped before its method returned");
    assert_eq!(race.most_inside.load(Ordering::SeqCst), 1);
}

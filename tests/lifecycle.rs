//! `mapisync::lifecycle` driven the way a C host and a provider's Shutdown /
//! StoreLogoff drive it: syncs started through raw vtable slot 3, cancelled,
//! drained, refused after a shutdown, and DllCanUnloadNow's answer.
//!
//! The registry of syncs is one per module (here: per test binary), so every
//! test takes `serial()` and leaves the module open and drained.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mapisync::lifecycle;
use mapisync::{IMAPISync, IUnknown, Interface, MapiSync, SyncJob};
use mapisync_tests::{
    Call, DropCount, HostRef, Latch, MAPI_E_NETWORK_ERROR, MAPI_E_USER_CANCEL, PATIENCE, Raw, S_OK, Script, Sib,
    close_event, gated, serial, settle_within,
};

const MAPI_E_END_OF_SESSION: i32 = 0x8004_0200_u32 as i32;
const S_FALSE: i32 = 1;
const ON_DEMAND: u32 = 0x2000_0000;

/// Reports progress every millisecond until cancelled (or 10 s pass).
struct Reporter {
    cancelled_seen: Arc<AtomicBool>,
    _drops: DropCount,
}

#[mapisync::provider]
impl MapiSync for Reporter {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        for step in 1..=10_000 {
            let reported = job.progress("Working", step, 0);
            if reported.is_err() {
                self.cancelled_seen.store(job.is_cancelled(), Ordering::SeqCst);
            }
            reported?;
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }
}

/// A new Reporter; the flag says whether it saw `is_cancelled` when a report
/// failed; the `DropCount` watches its drops.
fn reporter() -> (IMAPISync, Arc<AtomicBool>, DropCount) {
    let seen = Arc::new(AtomicBool::new(false));
    let drops = DropCount::new();
    let watch = drops.watch();
    (Reporter { cancelled_seen: seen.clone(), _drops: drops }.into(), seen, watch)
}

/// Starts a sync on `sync` through slot 3; returns the HRESULT and the MAPISIB.
fn start(sync: Raw, session: &HostRef, callback: &HostRef) -> (i32, Sib) {
    let sib = Sib::new(ON_DEMAND, Some(session), Some(callback));
    // SAFETY: COM: `sync` is a live IMAPISync; `sib` is a full MAPISIB.
    let hr = unsafe { sync.synchronize(&*sib.sib) };
    (hr, sib)
}

/// A host session and callback, and a sync started on `sync` with them that
/// answered S_OK.
fn started(sync: &IMAPISync) -> (HostRef, HostRef, Sib) {
    let (session, callback) = (HostRef::session(), HostRef::callback(Script::default()));
    let (hr, sib) = start(raw(sync), &session, &callback);
    assert_eq!(hr, S_OK);
    (session, callback, sib)
}

/// The sync ends with exactly the `done` calls, its worker is drained, and
/// the host closes its done event.
fn ends_with(callback: &HostRef, sib: Sib, done: &[i32]) {
    assert_eq!(done_calls(&callback.wait_done(PATIENCE)), done);
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
    close_event(sib.handle());
}

fn progress_calls(callback: &HostRef) -> usize {
    callback.calls().iter().filter(|call| matches!(call, Call::Progress { .. })).count()
}

fn done_calls(calls: &[Call]) -> Vec<i32> {
    calls.iter().filter_map(|call| if let Call::Done { hr, .. } = call { Some(*hr) } else { None }).collect()
}

/// Waits (bounded) until the host saw at least `n` Progress calls.
fn wait_progress(callback: &HostRef, n: usize) -> bool {
    let deadline = std::time::Instant::now() + PATIENCE;
    while progress_calls(callback) < n {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

fn raw(sync: &IMAPISync) -> Raw {
    Raw(sync.as_raw())
}

#[test]
fn cancel_stops_a_running_sync_with_exactly_one_done_user_cancel() {
    let _serial = serial();
    let (sync, seen, drops) = reporter();
    let (session, callback, sib) = started(&sync);
    assert!(wait_progress(&callback, 2), "the sync reports progress");

    assert!(lifecycle::cancel(&sync), "a sync was running");
    let before = progress_calls(&callback);
    let calls = callback.wait_done(PATIENCE);
    assert_eq!(done_calls(&calls), [MAPI_E_USER_CANCEL], "one Done, with the cancel HRESULT");
    assert!(progress_calls(&callback) <= before + 1, "at most the report in flight reached the host");
    assert!(seen.load(Ordering::SeqCst), "the provider saw is_cancelled() when progress failed");
    assert!(!lifecycle::cancel(&sync), "nothing runs any more");

    assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
    assert_eq!(lifecycle::running_workers(), 0);
    close_event(sib.handle());
    drop(sync);
    assert_eq!(drops.get(), 1);
    assert_eq!(callback.wait_count(1, PATIENCE), 1, "the worker gave back the callback once");
    assert_eq!(session.wait_count(1, PATIENCE), 1, "and the session");
}

#[test]
fn cancel_of_an_idle_object_reports_false_and_the_next_sync_is_not_cancelled() {
    let _serial = serial();
    let (sync, _seen, _drops) = reporter();
    assert!(!lifecycle::cancel(&sync));
    assert_eq!(lifecycle::cancel_all(), 0);
    let (_session, callback, sib) = started(&sync);
    assert!(wait_progress(&callback, 3), "an earlier cancel does not touch a later sync");
    assert_eq!(lifecycle::cancel_all(), 1, "cancel_all counts the one running sync");
    ends_with(&callback, sib, &[MAPI_E_USER_CANCEL]);
}

/// Waits on a latch without reporting; returns Ok, or `fail` if set.
struct Quiet {
    release: Arc<Latch>,
    token_seen: Arc<AtomicBool>,
    fail: Option<i32>,
}

#[mapisync::provider]
impl MapiSync for Quiet {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        let token = job.cancel_token();
        // Code that reports nothing checks the token (here on another thread).
        let watcher = std::thread::spawn(move || {
            while !token.is_cancelled() {
                std::thread::sleep(Duration::from_millis(1));
            }
            true
        });
        self.token_seen.store(watcher.join().unwrap_or(false), Ordering::SeqCst);
        assert!(self.release.wait(PATIENCE));
        match self.fail {
            Some(hr) => Err(mapisync::HRESULT(hr).into()),
            None => Ok(()),
        }
    }
}

fn quiet(fail: Option<i32>) -> (IMAPISync, Arc<Latch>, Arc<AtomicBool>) {
    let (release, token_seen) = (Arc::new(Latch::default()), Arc::new(AtomicBool::new(false)));
    let sync = Quiet { release: release.clone(), token_seen: token_seen.clone(), fail }.into();
    (sync, release, token_seen)
}

#[test]
fn a_cancel_token_reaches_code_that_reports_nothing_and_ok_then_ends_with_user_cancel() {
    let _serial = serial();
    let (sync, release, token_seen) = quiet(None);
    let (_session, callback, sib) = started(&sync);
    assert!(lifecycle::cancel(&sync));
    release.open();
    assert_eq!(done_calls(&callback.wait_done(PATIENCE)), [MAPI_E_USER_CANCEL], "Ok after a cancel is a cancel");
    assert!(token_seen.load(Ordering::SeqCst), "the token on another thread saw the cancel");
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
    close_event(sib.handle());
}

#[test]
fn the_providers_own_error_wins_over_the_cancel() {
    let _serial = serial();
    let (sync, release, _) = quiet(Some(MAPI_E_NETWORK_ERROR));
    let (_session, callback, sib) = started(&sync);
    assert!(lifecycle::cancel(&sync));
    release.open();
    ends_with(&callback, sib, &[MAPI_E_NETWORK_ERROR]);
}

/// Starts a sync on `sync`, cancels it through `cancel_by`, and checks the one Done.
fn start_and_cancel(sync: Raw, cancel_by: &IMAPISync) {
    let (session, callback) = (HostRef::session(), HostRef::callback(Script::default()));
    let (hr, sib) = start(sync, &session, &callback);
    assert_eq!(hr, S_OK);
    assert!(wait_progress(&callback, 1));
    assert!(lifecycle::cancel(cancel_by), "the running sync is found through this pointer");
    ends_with(&callback, sib, &[MAPI_E_USER_CANCEL]);
}

#[test]
fn cancel_reaches_an_aggregated_inner_object_and_a_tear_off() {
    let _serial = serial();
    // Aggregation: the store's IMAPISync is the inner object's delegating interface.
    let outer: IUnknown = reporter().0.cast().unwrap();
    let (provider, _seen, drops) = {
        let seen = Arc::new(AtomicBool::new(false));
        let drops = DropCount::new();
        let watch = drops.watch();
        (Reporter { cancelled_seen: seen.clone(), _drops: drops }, seen, watch)
    };
    // SAFETY: `outer` outlives `inner` (dropped after it) and is free-threaded.
    let inner: IUnknown = unsafe { mapisync::aggregate::create_inner(provider, &outer) };
    let delegating: IMAPISync = inner.cast().unwrap();
    start_and_cancel(raw(&delegating), &delegating);
    drop(delegating);
    drop(inner);
    assert_eq!(drops.get(), 1, "the inner provider is dropped once");
    drop(outer);

    // A tear-off: its slot 3 forwards to the sync object, and so does cancel.
    let (sync, _seen, _drops) = reporter();
    let store: IUnknown = reporter().0.cast().unwrap();
    let tear_off = mapisync::aggregate::tear_off(&store, &sync);
    start_and_cancel(raw(&tear_off), &tear_off);
    // Cancelling through the sync object itself finds the same sync.
    let another = mapisync::aggregate::tear_off(&store, &sync);
    start_and_cancel(raw(&another), &sync);
}

/// Touches a thread-local whose destructor sleeps, then sets `finished`.
struct SlowThreadLocal;

static SLOW_FINISHED: AtomicUsize = AtomicUsize::new(0);

struct SlowDrop(Cell<bool>);

impl Drop for SlowDrop {
    fn drop(&mut self) {
        std::thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 30 }));
        if self.0.get() {
            SLOW_FINISHED.fetch_add(1, Ordering::SeqCst);
        }
    }
}

thread_local! {
    static SLOW: SlowDrop = const { SlowDrop(Cell::new(false)) };
}

#[mapisync::provider]
impl MapiSync for SlowThreadLocal {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        SLOW.with(|slow| slow.0.set(true));
        job.progress("Touched", 1, 1)
    }
}

#[test]
fn drain_and_dll_can_unload_now_wait_for_thread_local_destructors() {
    let _serial = serial();
    let runs = if cfg!(miri) { 2 } else { 20 };
    for run in 1..=runs {
        let before = SLOW_FINISHED.load(Ordering::SeqCst);
        let sync: IMAPISync = SlowThreadLocal.into();
        let (_session, callback, sib) = started(&sync);
        drop(sync);
        assert_eq!(done_calls(&callback.wait_done(PATIENCE)), [S_OK]);
        close_event(sib.handle());
        if run % 2 == 0 {
            assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
        } else {
            let deadline = std::time::Instant::now() + PATIENCE;
            while mapisync::server::can_unload_now().0 != S_OK {
                assert!(std::time::Instant::now() < deadline, "DllCanUnloadNow never said S_OK");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        assert_eq!(SLOW_FINISHED.load(Ordering::SeqCst), before + 1, "run {run}: the destructor finished first");
        assert_eq!(lifecycle::running_workers(), 0);
    }
}

/// Ignores cancellation until released.
struct Stubborn {
    release: Arc<Latch>,
}

#[mapisync::provider]
impl MapiSync for Stubborn {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        assert!(self.release.wait(PATIENCE));
        Ok(())
    }
}

#[test]
fn a_provider_that_ignores_the_cancel_makes_shutdown_time_out_and_count_it() {
    let _serial = serial();
    let release = Arc::new(Latch::default());
    let sync: IMAPISync = Stubborn { release: release.clone() }.into();
    let (session, callback, sib) = started(&sync);
    drop(sync);

    assert_eq!(lifecycle::shutdown(Duration::from_millis(50)), Err(1), "one worker still runs");
    assert_eq!(lifecycle::running_workers(), 1);
    assert_eq!(mapisync::server::can_unload_now().0, S_FALSE);
    assert_eq!(lifecycle::drain(Duration::from_millis(10)), Err(1));
    assert!(callback.calls().is_empty(), "no Done while the provider runs");

    release.open();
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
    assert_eq!(done_calls(&callback.calls()), [MAPI_E_USER_CANCEL], "one Done, cancelled");
    close_event(sib.handle());
    assert_eq!(callback.count(), 1, "every reference given back once");
    assert_eq!(session.count(), 1);
    assert_eq!(mapisync::server::can_unload_now().0, S_OK);
    lifecycle::reopen();
}

#[test]
fn after_shutdown_a_sync_is_refused_with_end_of_session_and_nothing_starts() {
    let _serial = serial();
    assert_eq!(lifecycle::shutdown(PATIENCE), Ok(()));
    assert!(lifecycle::is_shut_down());
    let (sync, _seen, drops) = reporter();
    let (session, callback) = (HostRef::session(), HostRef::callback(Script::default()));
    let (hr, sib) = start(raw(&sync), &session, &callback);
    assert_eq!(hr, MAPI_E_END_OF_SESSION);
    assert!(sib.handle().is_null(), "*phSyncDoneEvent is NULL");
    assert_eq!(lifecycle::running_workers(), 0, "no thread started");
    assert_eq!(callback.count(), 1, "no reference kept on the callback");
    assert_eq!(session.count(), 1, "nor on the session");
    assert_eq!(raw(&sync).count(), 1, "nor on the object");
    assert!(callback.calls().is_empty());

    lifecycle::reopen();
    let (hr, sib) = start(raw(&sync), &session, &callback);
    assert_eq!(hr, S_OK, "reopen admits syncs again");
    assert!(lifecycle::cancel(&sync));
    ends_with(&callback, sib, &[MAPI_E_USER_CANCEL]);
    drop(sync);
    assert_eq!(drops.get(), 1);
}

/// Returns at once.
struct Quick;

#[mapisync::provider]
impl MapiSync for Quick {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        job.progress("Quick", 1, 1)
    }
}

#[test]
fn shutdown_racing_starts_refuses_or_cancels_every_one_and_leaves_no_worker() {
    let _serial = serial();
    let rounds = if cfg!(miri) { 2 } else { 100 };
    for round in 0..rounds {
        let sync: IMAPISync = Quick.into();
        let (session, callback) = (Arc::new(HostRef::session()), Arc::new(HostRef::callback(Script::default())));
        let starter = {
            let (sync, session, callback) = (raw(&sync).0 as usize, session.clone(), callback.clone());
            std::thread::spawn(move || {
                // The runtime never touches the MAPISIB after returning, so it may go here.
                let (hr, sib) = start(Raw(sync as *mut _), &session, &callback);
                (hr, sib.handle() as usize)
            })
        };
        if round % 2 == 0 {
            std::thread::yield_now();
        }
        assert_eq!(lifecycle::shutdown(PATIENCE), Ok(()), "round {round}");
        let (hr, handle) = starter.join().unwrap();
        match hr {
            // Started before the shutdown: it ran to one Done (cancelled, or
            // finished first); the shutdown waited for its thread.
            S_OK => {
                let done = done_calls(&callback.wait_done(PATIENCE));
                assert!(done == [S_OK] || done == [MAPI_E_USER_CANCEL], "round {round}: {done:?}");
                close_event(handle as *mut _);
            }
            MAPI_E_END_OF_SESSION => {
                assert_eq!(handle, 0, "round {round}: refused, *phSyncDoneEvent NULL");
                assert!(callback.calls().is_empty());
            }
            other => panic!("round {round}: SynchronizeInBackground said {other:#x}"),
        }
        assert_eq!(lifecycle::running_workers(), 0, "round {round}");
        assert_eq!(callback.count(), 1, "round {round}: every reference given back");
        lifecycle::reopen();
        drop(sync);
    }
}

#[test]
// Under Miri the three threads do not get through their thread-local
// destructors within the drain's wait on its virtual clock (Err(3) at 2 s; at
// 30 s the stubborn provider's own 30 s wait ends first), so this timing test
// runs on Linux and under Wine only.
#[cfg_attr(miri, ignore = "depends on threads finishing within a wall-clock wait")]
fn a_timed_out_drain_counts_only_the_threads_that_still_run() {
    let _serial = serial();
    // The stubborn sync is admitted first, so the drain waits for it first,
    // until the deadline; the three others exit meanwhile.
    let release = Arc::new(Latch::default());
    let stubborn: IMAPISync = Stubborn { release: release.clone() }.into();
    let (session, callback) = (HostRef::session(), HostRef::callback(Script::default()));
    let (hr, stubborn_sib) = start(raw(&stubborn), &session, &callback);
    assert_eq!(hr, S_OK);
    let quick: Vec<IMAPISync> = (0..3).map(|_| SlowThreadLocal.into()).collect();
    let callbacks: Vec<HostRef> = (0..3).map(|_| HostRef::callback(Script::default())).collect();
    let sibs: Vec<Sib> = quick
        .iter()
        .zip(&callbacks)
        .map(|(sync, callback)| {
            let (hr, sib) = start(raw(sync), &session, callback);
            assert_eq!(hr, S_OK);
            sib
        })
        .collect();
    for callback in &callbacks {
        assert_eq!(done_calls(&callback.wait_done(PATIENCE)), [S_OK]);
    }
    // Time enough for the three threads to run their thread-local destructors and exit.
    let patience = Duration::from_millis(500);
    assert_eq!(lifecycle::drain(patience), Err(1), "only the stubborn thread still runs");

    release.open();
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
    for sib in [stubborn_sib].iter().chain(&sibs) {
        close_event(sib.handle());
    }
}

/// What a `drain` or `shutdown` said: `Err(n)` with `n` threads still running.
type Drained = Result<(), usize>;

/// A named call of `drain` or `shutdown`.
type NamedDrain = (&'static str, fn() -> Drained);

/// What one `drain` or `shutdown` on a worker thread said, and how long it took.
type Said = (&'static str, Drained, Duration);

/// Calls `drain` (300 ms, then `Duration::MAX`) and `shutdown(MAX)`, and
/// records what each said and how long it took.
fn drain_and_shut_down(said: &Mutex<Vec<Said>>) {
    let calls: [NamedDrain; 3] = [
        ("drain(300 ms)", || lifecycle::drain(Duration::from_millis(300))),
        ("drain(MAX)", || lifecycle::drain(Duration::MAX)),
        ("shutdown(MAX)", || lifecycle::shutdown(Duration::MAX)),
    ];
    for (name, call) in calls {
        let started = std::time::Instant::now();
        let result = call();
        said.lock().unwrap().push((name, result, started.elapsed()));
    }
}

/// Each of [`drain_and_shut_down`]'s three calls returned `Ok` at once (`why`).
fn all_at_once_and_ok(said: &[Said], why: &str) {
    assert_eq!(said.len(), 3);
    for (name, result, took) in said {
        assert_eq!(*result, Ok(()), "{name}: {why}");
        assert!(*took < Duration::from_millis(250), "{name} returned at once, not after {took:?}");
    }
}

/// Calls `drain` and `shutdown` on its own worker thread (issue 17, item 1).
struct DrainsItself {
    said: Arc<Mutex<Vec<Said>>>,
}

#[mapisync::provider]
impl MapiSync for DrainsItself {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        drain_and_shut_down(&self.said);
        Ok(())
    }
}

/// Issue 17, item 1 (and issue 19, item 4): on a sync's own worker thread,
/// `drain` and `shutdown` never wait for that thread: it counts as exiting,
/// at once, whatever the timeout. On Linux main said `Err(1)` at once
/// (EDEADLK read as "still running"); on Windows main waited the whole
/// timeout, and for ever with `Duration::MAX`.
#[test]
fn drain_and_shutdown_on_the_syncs_own_worker_thread_skip_it_at_once() {
    let _serial = serial();
    let said = Arc::new(Mutex::new(Vec::new()));
    let sync: IMAPISync = DrainsItself { said: said.clone() }.into();
    let (_session, callback, sib) = started(&sync);
    let done = done_calls(&callback.wait_done(PATIENCE));
    assert_eq!(done, [MAPI_E_USER_CANCEL], "the shutdown cancelled the very sync that called it");
    let said = said.lock().unwrap().clone();
    eprintln!("on the worker: {said:?}");
    all_at_once_and_ok(&said, "the caller's own thread counts as exiting");
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()), "from another thread, the worker is waited for");
    assert_eq!(lifecycle::running_workers(), 0);
    lifecycle::reopen();
    close_event(sib.handle());
}

/// The same from the host's `Done`, which runs on the worker thread.
#[test]
fn drain_in_the_hosts_done_callback_returns_at_once() {
    let _serial = serial();
    let said = Arc::new(Mutex::new(Vec::new()));
    let record = said.clone();
    let host = mapisync::host::Host::new().on_event(move |event| {
        if matches!(event, mapisync::host::Event::Done { .. }) {
            let started = std::time::Instant::now();
            let result = lifecycle::drain(Duration::MAX);
            record.lock().unwrap().push((result, started.elapsed()));
        }
    });
    let sync: IMAPISync = Quick.into();
    assert_eq!(host.run(&sync).unwrap().done, Some(mapisync::S_OK));
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
    let said = said.lock().unwrap().clone();
    eprintln!("in Done: {said:?}");
    assert_eq!(said.len(), 1);
    assert_eq!(said[0].0, Ok(()));
    assert!(said[0].1 < Duration::from_millis(250), "took {:?}", said[0].1);
}

/// Keeps its job past its sync (safe code: `mem::replace`) and reports
/// through it from a thread of its own; returns once the host is inside that
/// report, so that the worker, done with the provider, waits for the call.
struct ReportsFromAKeptJob {
    in_progress: Arc<Latch>,
    reporter: Mutex<Option<std::thread::JoinHandle<[mapisync::Result<()>; 2]>>>,
}

#[mapisync::provider]
impl MapiSync for ReportsFromAKeptJob {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        let mut kept = std::mem::replace(job, SyncJob::new(job.flags()));
        let reporter = std::thread::spawn(move || {
            let first = kept.progress("kept", 1, 2);
            [first, kept.progress("after", 2, 2)]
        });
        *self.reporter.lock().unwrap() = Some(reporter);
        match self.in_progress.wait(PATIENCE) {
            true => Ok(()),
            false => Err(mapisync::Error::new(mapisync::E_UNEXPECTED, "the host never saw the report")),
        }
    }
}

/// Issue 17, item 3's cycle: the host's `Progress`, reached through a job
/// the provider kept, calls `drain` and `shutdown` on the provider's thread
/// while the sync's worker, its provider returned, waits for that very call
/// to end. The drain must not wait for that worker (it cannot exit before
/// the call returns): each returns `Ok` at once, the sync still ends with
/// one `Done`, last, and the host's objects are released. On main the
/// finite drain said `Err(1)` after its whole timeout, and `Duration::MAX`
/// hung for ever.
#[test]
fn drain_and_shutdown_inside_a_kept_jobs_progress_do_not_wait_for_its_sync() {
    let _serial = serial();
    let said = Arc::new(Mutex::new(Vec::<Said>::new()));
    let in_progress = Arc::new(Latch::default());
    let (record, entered) = (said.clone(), in_progress.clone());
    let host = mapisync_tests::on_progress(move || {
        entered.open();
        // Time for the provider to return and its worker to wait for this call.
        std::thread::sleep(Duration::from_millis(50));
        drain_and_shut_down(&record);
    });
    let sync: IMAPISync = ReportsFromAKeptJob { in_progress, reporter: Mutex::new(None) }.into();
    let report = host.run(&sync).unwrap();
    let reporter = mapisync::provider_of::<ReportsFromAKeptJob>(&sync).unwrap().reporter.lock().unwrap().take();
    let [first, after] = reporter.expect("the provider ran").join().unwrap();
    let said = said.lock().unwrap().clone();
    eprintln!("in the kept job's Progress: {said:?}; the reports said {first:?}, {after:?}");
    all_at_once_and_ok(&said, "a sync with a host call in flight here is not waited for");
    assert_eq!(first, Ok(()), "the report in flight reached the host");
    assert!(after.is_err(), "after the shutdown the kept job calls nothing: {after:?}");
    assert_eq!(report.done_calls, 1);
    assert_eq!(report.progress().count(), 1, "{:?}", report.events);
    assert!(matches!(report.events.last(), Some(mapisync::host::Event::Done { .. })), "{:?}", report.events);
    assert!(report.balanced(), "the host's objects were released: {report:?}");
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()), "from another thread, the worker is waited for");
    assert_eq!(lifecycle::running_workers(), 0);
    lifecycle::reopen();
}

/// A windows-rs store that lists IMAPISync and forwards to a mapisync object.
#[cfg(not(miri))]
#[windows_core::implement(mapisync::IMAPISync)]
struct ForwardingStore {
    sync: IMAPISync,
}

#[cfg(not(miri))]
impl mapisync::ForwardSync for ForwardingStore {
    fn sync(&self) -> &IMAPISync {
        &self.sync
    }
}

/// A [`ForwardingStore`] and the [`Reporter`] it forwards to.
#[cfg(not(miri))]
fn forwarding_reporter() -> (IMAPISync, IMAPISync) {
    let (reporter, _seen, _drops) = reporter();
    let store = windows_core::ComObject::new(ForwardingStore { sync: reporter.clone() }).into_interface();
    (store, reporter)
}

/// Issue 17, item 6: `lifecycle::cancel` of a `ForwardSync` store's own
/// IMAPISync finds the sync it forwarded (main: `false`, the sync ran on).
// windows-core's #[implement] objects do not pass Miri (see mapisync::forward).
#[cfg(not(miri))]
#[test]
fn cancel_of_a_forward_sync_stores_own_imapisync_reaches_its_sync() {
    let _serial = serial();
    let (store, _inner) = forwarding_reporter();
    start_and_cancel(raw(&store), &store);
    // And a handle made from the store, on another thread.
    let (_session, callback, sib) = started(&store);
    assert!(wait_progress(&callback, 1));
    let handle = lifecycle::SyncHandle::new(&store);
    assert!(std::thread::spawn(move || handle.cancel()).join().unwrap(), "StoreLogoff on another thread");
    ends_with(&callback, sib, &[MAPI_E_USER_CANCEL]);
}

// Issue 19: one lifecycle scope per provider instance.

/// Instance A's Shutdown while instance B syncs: A's sync is cancelled and
/// its next refused; B's sync ends S_OK and B's next sync starts. (On main,
/// with the DLL-wide `shutdown` the README prescribed, B's sync ended
/// MAPI_E_USER_CANCEL and its next start said MAPI_E_END_OF_SESSION.)
#[test]
fn a_shutdown_of_instance_a_while_b_syncs_leaves_b_untouched() {
    let _serial = serial();
    let (a, b) = (lifecycle::Scope::open(), lifecycle::Scope::open());
    let (sync_a, _seen, _drops) = reporter();
    let (sync_b, started_b, release_b) = gated();
    let (_handle_a, _handle_b) = (a.adopt(&sync_a), b.adopt(&sync_b));
    let (session, callback_a, sib_a) = started(&sync_a);
    let (_session_b, callback_b, sib_b) = started(&sync_b);
    assert!(started_b.wait(PATIENCE) && wait_progress(&callback_a, 1));
    assert_eq!(lifecycle::running_workers(), 2, "the module counts the workers of every scope");

    assert_eq!(a.shutdown(PATIENCE), Ok(()), "A's shutdown drains A's worker only");
    assert_eq!(done_calls(&callback_a.calls()), [MAPI_E_USER_CANCEL]);
    assert!(a.is_shut_down() && !b.is_shut_down() && !lifecycle::is_shut_down());
    assert_eq!(b.running_workers(), 1, "B's sync still runs");
    assert_eq!(mapisync::server::can_unload_now().0, S_FALSE, "and keeps the DLL");
    let refused = HostRef::callback(Script::default());
    let (hr, refused_sib) = start(raw(&sync_a), &session, &refused);
    assert_eq!(hr, MAPI_E_END_OF_SESSION, "A's objects are refused");
    assert!(refused_sib.handle().is_null());

    release_b.open();
    assert_eq!(done_calls(&callback_b.wait_done(PATIENCE)), [S_OK], "B's sync ends as it would have");
    let (sync_b2, _, release_b2) = gated();
    let _handle_b2 = b.adopt(&sync_b2);
    release_b2.open();
    let next = HostRef::callback(Script::default());
    let (hr, next_sib) = start(raw(&sync_b2), &session, &next);
    assert_eq!(hr, S_OK, "B's next sync starts");
    assert_eq!(done_calls(&next.wait_done(PATIENCE)), [S_OK]);
    assert_eq!(b.shutdown(PATIENCE), Ok(()));
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
    for sib in [sib_a, sib_b, next_sib] {
        close_event(sib.handle());
    }
}

/// One instance's Shutdown racing the next instance's MSProviderInit,
/// round after round: the new instance can always sync (the Outlook
/// example's live-provider counter lost 6 in 200,000 rounds on main).
#[test]
fn shutdown_racing_the_next_instances_open_leaves_no_instance_unable_to_sync() {
    let _serial = serial();
    let rounds = if cfg!(miri) { 3 } else { 300 };
    let mut old = lifecycle::Scope::open();
    for round in 0..rounds {
        let opener = std::thread::spawn(lifecycle::Scope::open);
        if round % 2 == 0 {
            std::thread::yield_now();
        }
        assert_eq!(old.shutdown(PATIENCE), Ok(()), "round {round}");
        let new = opener.join().unwrap();
        let sync: IMAPISync = Quick.into();
        let _handle = new.adopt(&sync);
        let callback = HostRef::callback(Script::default());
        let (hr, sib) = start(raw(&sync), &HostRef::session(), &callback);
        assert_eq!(hr, S_OK, "round {round}: the new instance syncs");
        assert_eq!(done_calls(&callback.wait_done(PATIENCE)), [S_OK], "round {round}");
        close_event(sib.handle());
        old = new;
    }
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
}

/// Waits (blocked, not polling) for the cancel, then persists and stops.
struct Persisting {
    persisted: Arc<AtomicBool>,
}

#[mapisync::provider]
impl MapiSync for Persisting {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        job.progress("Waiting for the server", 1, 2)?;
        if job.cancel_token().wait_cancelled(PATIENCE) {
            self.persisted.store(true, Ordering::SeqCst); // what must not be lost
            return Err(mapisync::MAPI_E_USER_CANCEL.into());
        }
        Ok(())
    }
}

/// Fast shutdown while a sync runs: QueryFastShutdown S_OK,
/// NotifyProcessShutdown refuses and cancels (the blocked provider wakes),
/// DoFastShutdown returns once the provider's cleanup ran.
#[test]
fn fast_shutdown_while_a_sync_runs_cancels_it_and_waits_for_its_cleanup() {
    let _serial = serial();
    let scope = lifecycle::Scope::open();
    let persisted = Arc::new(AtomicBool::new(false));
    let sync: IMAPISync = Persisting { persisted: persisted.clone() }.into();
    let _handle = scope.adopt(&sync);
    let (_session, callback, sib) = started(&sync);
    assert!(wait_progress(&callback, 1));
    assert_eq!(scope.query_fast_shutdown(), mapisync::S_OK);
    assert_eq!(scope.notify_process_shutdown(), mapisync::S_OK);
    assert!(scope.is_shut_down(), "no sync starts after NotifyProcessShutdown");
    assert_eq!(scope.do_fast_shutdown(PATIENCE), mapisync::S_OK);
    assert!(persisted.load(Ordering::SeqCst), "the provider saw the cancel and persisted");
    assert_eq!(scope.running_workers(), 0, "DoFastShutdown returned after the worker exited");
    assert_eq!(done_calls(&callback.calls()), [MAPI_E_USER_CANCEL]);
    close_event(sib.handle());
}

/// StoreLogoff on another thread cancels exactly that store's sync through
/// a `Send + Sync` handle; the other store of the same scope syncs on.
#[test]
fn a_sync_handle_cancels_exactly_its_stores_sync_from_another_thread() {
    let _serial = serial();
    let scope = lifecycle::Scope::open();
    let (logged_off, _seen, _drops) = reporter();
    let (other, other_started, release) = gated();
    let (handle, _other_handle) = (scope.adopt(&logged_off), scope.adopt(&other));
    let (_session, callback, sib) = started(&logged_off);
    let (_other_session, other_callback, other_sib) = started(&other);
    assert!(wait_progress(&callback, 1) && other_started.wait(PATIENCE));
    let logoff = std::thread::spawn(move || handle.cancel());
    assert!(logoff.join().unwrap(), "the store's sync was running");
    assert_eq!(done_calls(&callback.wait_done(PATIENCE)), [MAPI_E_USER_CANCEL]);
    assert!(other_callback.calls().is_empty(), "the other store's sync runs on");
    release.open();
    assert_eq!(done_calls(&other_callback.wait_done(PATIENCE)), [S_OK]);
    assert_eq!(scope.drain(PATIENCE), Ok(()));
    close_event(sib.handle());
    close_event(other_sib.handle());
}

/// Shuts its own scope down from its worker thread (MAPI may release the
/// last reference, and so run IMSProvider::Shutdown, there).
struct ShutsItsScope {
    scope: Arc<Mutex<Option<lifecycle::Scope>>>,
    said: Arc<Mutex<Option<(Drained, Duration)>>>,
}

#[mapisync::provider]
impl MapiSync for ShutsItsScope {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        let scope = self.scope.lock().unwrap().take().expect("the scope");
        let started = std::time::Instant::now();
        let result = scope.shutdown(Duration::MAX);
        *self.said.lock().unwrap() = Some((result, started.elapsed()));
        drop(scope); // the provider instance goes with it
        Ok(())
    }
}

/// Issue 19, item 4: Shutdown on a worker thread neither hangs nor keeps
/// the module's workers (and pin) for ever: the next call from outside reaps it.
#[test]
fn a_scopes_shutdown_on_its_own_worker_returns_at_once_and_the_worker_is_reaped() {
    let _serial = serial();
    let scope = Arc::new(Mutex::new(Some(lifecycle::Scope::open())));
    let said = Arc::new(Mutex::new(None));
    let sync: IMAPISync = ShutsItsScope { scope: scope.clone(), said: said.clone() }.into();
    let handle = scope.lock().unwrap().as_ref().unwrap().adopt(&sync);
    let (_session, callback, sib) = started(&sync);
    assert_eq!(done_calls(&callback.wait_done(PATIENCE)), [MAPI_E_USER_CANCEL]);
    let (result, took) = said.lock().unwrap().take().expect("the provider ran");
    assert_eq!(result, Ok(()));
    assert!(took < Duration::from_millis(250), "took {took:?}");
    assert_eq!(settle_within(0, PATIENCE, lifecycle::running_workers), 0, "DllCanUnloadNow reaps the worker");
    drop((handle, sync));
    assert_eq!(mapisync::server::can_unload_now().0, S_OK, "nothing keeps the DLL");
    close_event(sib.handle());
}

/// A windows-rs provider object (standing for the IMSProvider) answering
/// IMAPIProviderShutdown from its scope; `panics` makes its `scope` panic.
#[cfg(not(miri))]
#[windows_core::implement(mapisync::abi::IMAPIProviderShutdown)]
struct ShutdownProvider {
    scope: lifecycle::Scope,
    panics: bool,
}

#[cfg(not(miri))]
impl lifecycle::FastShutdown for ShutdownProvider {
    fn scope(&self) -> &lifecycle::Scope {
        assert!(!self.panics, "the provider's own bug");
        &self.scope
    }
}

/// Fast shutdown as MAPI drives it: QueryInterface for
/// IMAPIProviderShutdown, then its three calls while a sync runs; a panic
/// in the provider's `scope` answers E_UNEXPECTED instead of unwinding.
#[cfg(not(miri))]
#[test]
fn imapiprovidershutdown_from_an_implement_provider_stops_its_sync() {
    use mapisync::abi::IMAPIProviderShutdown;
    let _serial = serial();
    let object = windows_core::ComObject::new(ShutdownProvider { scope: lifecycle::Scope::open(), panics: false });
    let provider: IUnknown = object.to_interface();
    let shutdown: IMAPIProviderShutdown = provider.cast().expect("QI for IMAPIProviderShutdown");
    let persisted = Arc::new(AtomicBool::new(false));
    let sync: IMAPISync = Persisting { persisted: persisted.clone() }.into();
    let _handle = object.scope.adopt(&sync);
    let (_session, callback, sib) = started(&sync);
    assert!(wait_progress(&callback, 1));
    // SAFETY: COM: `shutdown` is a live IMAPIProviderShutdown.
    unsafe {
        assert_eq!(shutdown.QueryFastShutdown(), mapisync::S_OK);
        assert_eq!(shutdown.NotifyProcessShutdown(), mapisync::S_OK);
        assert_eq!(shutdown.DoFastShutdown(), mapisync::S_OK);
    }
    assert!(persisted.load(Ordering::SeqCst), "the provider's cleanup ran before DoFastShutdown returned");
    assert_eq!(done_calls(&callback.calls()), [MAPI_E_USER_CANCEL]);
    close_event(sib.handle());

    let broken: IMAPIProviderShutdown =
        windows_core::ComObject::new(ShutdownProvider { scope: lifecycle::Scope::open(), panics: true })
            .into_interface();
    // SAFETY: COM: `broken` is a live IMAPIProviderShutdown.
    unsafe {
        assert_eq!(broken.NotifyProcessShutdown(), mapisync::E_UNEXPECTED);
        assert_eq!(broken.DoFastShutdown(), mapisync::E_UNEXPECTED);
    }
}

// Issue 19, second review: handles that name the wrong object or scope.

/// Runs one sync of `sync` to its end: its Done HRESULTs, or the refusal.
fn one_sync(sync: &IMAPISync) -> Result<Vec<i32>, i32> {
    let (session, callback) = (HostRef::session(), HostRef::callback(Script::default()));
    let (hr, sib) = start(raw(sync), &session, &callback);
    if hr != S_OK {
        return Err(hr);
    }
    let done = done_calls(&callback.wait_done(PATIENCE));
    close_event(sib.handle());
    Ok(done)
}

/// Scopes A and B, an object A adopted and then B, and both handles (A's
/// stale).
fn adopted_by_a_then_b() -> (lifecycle::Scope, lifecycle::Scope, IMAPISync, lifecycle::SyncHandle, lifecycle::SyncHandle)
{
    let (a, b) = (lifecycle::Scope::open(), lifecycle::Scope::open());
    let sync: IMAPISync = Quick.into();
    let (handle_a, handle_b) = (a.adopt(&sync), b.adopt(&sync));
    (a, b, sync, handle_a, handle_b)
}

/// Adopting moves the object (A's handle is stale once B adopted it): a
/// clone of A's stale handle does not take it back, so A's shutdown leaves
/// B's object alone (main: the clone re-joined A, and B's next sync was
/// refused with MAPI_E_END_OF_SESSION).
#[test]
fn a_clone_of_a_stale_handle_does_not_take_the_object_back_from_the_scope_that_adopted_it() {
    let _serial = serial();
    let (a, _b, sync, handle_a, _handle_b) = adopted_by_a_then_b();
    let _copy_of_a = handle_a.clone();
    assert_eq!(a.shutdown(PATIENCE), Ok(()));
    assert_eq!(one_sync(&sync), Ok(vec![S_OK]), "A's shutdown leaves B's object alone");
    assert!(!handle_a.cancel(), "nothing runs");
}

/// Dropping a clone of a stale handle changes no membership (main: it took
/// the object out of B, whose shutdown then let its next sync run).
#[test]
fn dropping_a_clone_of_a_stale_handle_leaves_the_object_in_the_scope_that_adopted_it() {
    let _serial = serial();
    let (_a, b, sync, handle_a, _handle_b) = adopted_by_a_then_b();
    drop(handle_a.clone());
    drop(handle_a);
    assert_eq!(b.shutdown(PATIENCE), Ok(()));
    assert_eq!(one_sync(&sync), Err(MAPI_E_END_OF_SESSION), "B's handle lives: B's shutdown refuses the object");
}

/// A handle holds no COM reference: kept in an aggregated store (the
/// README's advice), it makes no cycle (main: it counted a reference on the
/// store itself, which was then never freed).
#[test]
fn a_sync_handle_holds_no_reference_on_an_aggregated_store() {
    let _serial = serial();
    let drops = DropCount::new();
    let watch = drops.watch();
    let made = mapisync_tests::aggregated(mapisync_tests::Steps { drops }, watch);
    let sync: IMAPISync = made.outer_unknown().cast().unwrap();
    let scope = lifecycle::Scope::open();
    let handle = scope.adopt(&sync);
    let plain = lifecycle::SyncHandle::new(&sync);
    drop(sync);
    let count = made.outer_count();
    assert_eq!(count, 1, "the handles count no reference on the store");
    drop((handle, plain, scope));
    made.release_and_check_freed();
}

/// An apartment-threaded C++ object (a non-atomic `++m_cRef`, ATL's
/// CComSingleThreadModel): clones of one handle on two threads touch the
/// object not at all (main: both AddRef'd it at once, a data race Miri reports).
mod single_threaded {
    use std::cell::UnsafeCell;
    use std::ffi::c_void;

    #[repr(C)]
    struct Vtbl {
        query: unsafe extern "system" fn(*mut c_void, *const mapisync_tests::Guid, *mut *mut c_void) -> i32,
        add_ref: unsafe extern "system" fn(*mut c_void) -> u32,
        release: unsafe extern "system" fn(*mut c_void) -> u32,
        sync: unsafe extern "system" fn(*mut c_void, *const c_void) -> i32,
    }

    #[repr(C)]
    struct Object {
        vtbl: &'static Vtbl,
        refs: UnsafeCell<u32>,
    }

    unsafe extern "system" fn query(this: *mut c_void, _: *const mapisync_tests::Guid, out: *mut *mut c_void) -> i32 {
        // SAFETY: COM: the caller passes a writable `out` and holds `this`.
        unsafe {
            *out = this;
            add_ref(this);
        }
        0
    }

    unsafe extern "system" fn add_ref(this: *mut c_void) -> u32 {
        // SAFETY: COM: `this` is live; the count is the apartment's own (non-atomic, the C++ way).
        unsafe {
            let refs = (*(this as *const Object)).refs.get();
            *refs += 1;
            *refs
        }
    }

    unsafe extern "system" fn release(this: *mut c_void) -> u32 {
        // SAFETY: COM: as `add_ref`; the object is freed with its last reference.
        unsafe {
            let refs = (*(this as *const Object)).refs.get();
            *refs -= 1;
            let left = *refs;
            if left == 0 {
                drop(Box::from_raw(this as *mut Object));
            }
            left
        }
    }

    unsafe extern "system" fn sync(_: *mut c_void, _: *const c_void) -> i32 {
        0x8004_0200_u32 as i32
    }

    static VTBL: Vtbl = Vtbl { query, add_ref, release, sync };

    pub fn new() -> mapisync::IMAPISync {
        let raw = Box::into_raw(Box::new(Object { vtbl: &VTBL, refs: UnsafeCell::new(1) })) as *mut c_void;
        // SAFETY: COM: `raw` is a live object with one reference, which this takes.
        unsafe { <mapisync::IMAPISync as mapisync::Interface>::from_raw(raw) }
    }
}

#[test]
fn clones_of_a_sync_handle_on_two_threads_never_touch_an_apartment_threaded_object() {
    let sync = single_threaded::new();
    let handle = lifecycle::SyncHandle::new(&sync);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..100 {
                    drop(handle.clone());
                }
            });
        }
    });
    drop(handle);
    drop(sync); // on its own thread, with the only reference it ever had
}

/// A windows-rs object that is not Send (an Rc inside), and records where it was dropped.
#[cfg(not(miri))]
#[windows_core::implement(mapisync::IMAPISync)]
struct ThreadBound {
    _shared: std::rc::Rc<()>,
    dropped_on: Arc<Mutex<Option<std::thread::ThreadId>>>,
}

#[cfg(not(miri))]
impl Drop for ThreadBound {
    fn drop(&mut self) {
        *self.dropped_on.lock().unwrap_or_else(PoisonError::into_inner) = Some(std::thread::current().id());
    }
}

#[cfg(not(miri))]
impl mapisync::abi::IMAPISync_Impl for ThreadBound_Impl {
    unsafe fn SynchronizeInBackground(&self, _: *const mapisync::abi::MAPISIB) -> windows_core::HRESULT {
        windows_core::HRESULT(MAPI_E_END_OF_SESSION)
    }
}

/// A handle sent to another thread takes no reference there: a !Send
/// object is released on its own thread (main: the handle's reference was
/// the last, and the object was dropped on the other thread).
#[cfg(not(miri))]
#[test]
fn a_sync_handle_sent_to_another_thread_never_releases_the_object_there() {
    let dropped_on = Arc::new(Mutex::new(None));
    let sync: IMAPISync =
        windows_core::ComObject::new(ThreadBound { _shared: std::rc::Rc::new(()), dropped_on: dropped_on.clone() })
            .into_interface();
    let handle = lifecycle::SyncHandle::new(&sync);
    drop(sync);
    assert_eq!(*dropped_on.lock().unwrap(), Some(std::thread::current().id()), "the handle held no reference");
    std::thread::spawn(move || drop(handle)).join().unwrap();
}

/// The worker holds the forwarding store until Done: a store released by
/// the host while its sync runs keeps its address, so no new store there
/// is confused with it (main: a new idle store landed on the address, and
/// cancelling it cancelled the old store's sync).
#[cfg(not(miri))]
#[test]
fn cancel_of_a_new_store_never_reaches_a_released_stores_running_sync() {
    let _serial = serial();
    let (old_store, busy) = forwarding_reporter();
    let old_address = old_store.as_raw() as usize;
    let (_session, callback, sib) = started(&old_store);
    assert!(wait_progress(&callback, 1));
    drop(old_store); // the host's last reference; the sync runs on
    let idle: IMAPISync = Quick.into();
    let mut reused = false;
    let mut cancelled = false;
    let mut kept = Vec::new();
    for _ in 0..1000 {
        let store: IMAPISync = windows_core::ComObject::new(ForwardingStore { sync: idle.clone() }).into_interface();
        reused |= store.as_raw() as usize == old_address;
        let handle = lifecycle::SyncHandle::new(&store);
        cancelled |= std::thread::spawn(move || handle.cancel()).join().unwrap() | lifecycle::cancel(&store);
        kept.push(store);
    }
    let old_done = done_calls(&callback.calls());
    assert!(lifecycle::cancel(&busy), "the old store's sync still runs");
    ends_with(&callback, sib, &[MAPI_E_USER_CANCEL]);
    assert!(!reused && !cancelled && old_done.is_empty(), "reused {reused}, cancelled {cancelled}, {old_done:?}");
}

/// A handle outlived by its mapisync object is stale: a new object made at
/// the same address is never cancelled through it.
#[cfg(not(miri))]
#[test]
fn a_handle_of_a_destroyed_object_never_cancels_a_new_object_at_its_address() {
    let _serial = serial();
    let (old, _seen, _drops) = reporter();
    let old_address = old.as_raw() as usize;
    let handle = lifecycle::SyncHandle::new(&old);
    drop(old);
    let mut kept = Vec::new();
    let new = loop {
        let (sync, seen, drops) = reporter();
        if sync.as_raw() as usize == old_address {
            break Some(sync);
        }
        kept.push((sync, seen, drops));
        if kept.len() > 1000 {
            break None;
        }
    };
    let Some(new) = new else {
        eprintln!("the allocator did not reuse the address: nothing to confuse");
        return;
    };
    let (_session, callback, sib) = started(&new);
    assert!(wait_progress(&callback, 1));
    assert!(!handle.cancel(), "the old object's handle is stale");
    assert!(lifecycle::cancel(&new));
    ends_with(&callback, sib, &[MAPI_E_USER_CANCEL]);
}

//! Drains inside host calls through kept jobs (issue 17, items 1 and 3), as
//! a review of the in-flight skip (41d17e6) tried to break it: drains
//! inside kept jobs' calls and on workers never wait for each other in a
//! cycle. 41d17e6 skipped only a sync with a call in flight on the draining
//! thread itself, so these drains waited out every timeout, and forever
//! with `Duration::MAX`; now a drain skips every sync with a call in flight
//! on any thread that is draining, when the drain itself may be waited for
//! (on a worker, or inside a host call through a running sync's job;
//! `workers/registry.rs`). A second review found that a27f4e0 applied that
//! to every drain: a host thread's shutdown, which nothing waits for,
//! returned `Ok` with a worker still running; the last three tests. A job
//! or token kept past its sync counts as alive for `DllCanUnloadNow`.
//! One test at a time (`serial()`): the registry is one per test binary.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mapisync::lifecycle;
use mapisync::{IMAPISync, MapiSync, SyncJob};
use mapisync_tests::{Gated, Latch, PATIENCE, serial};

/// Hands its job to a thread of its own that reports once; returns once
/// the host is inside that report (its worker then waits for the report).
struct HandsToThread {
    in_call: Arc<Latch>,
}

#[mapisync::provider]
impl MapiSync for HandsToThread {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        let mut kept = std::mem::replace(job, SyncJob::new(job.flags()));
        std::thread::spawn(move || kept.progress("kept", 1, 2));
        assert!(self.in_call.wait(PATIENCE));
        Ok(())
    }
}

/// Reports once through its own job, on its worker.
struct ReportsOnWorker;

#[mapisync::provider]
impl MapiSync for ReportsOnWorker {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        job.progress("on the worker", 1, 1)
    }
}

/// What a drain said, and how long it took.
type Drained = Option<(Result<(), usize>, Duration)>;
type Said = Arc<Mutex<Drained>>;

/// Runs the two syncs; `t_timeout` for T's drain (in A's kept Progress),
/// `c_timeout` for W_C's (in C's Progress). Returns what each said, once
/// both said something or `watchdog` passed.
fn cycle(t_timeout: Duration, c_timeout: Duration, watchdog: Duration) -> (Drained, Drained) {
    let (t_said, c_said): (Said, Said) = Default::default();
    let a_in = Arc::new(Latch::default());
    let c_in_drain = Arc::new(Latch::default());
    // C: its worker's Progress waits until T is in A's Progress, then drains.
    let (c_record, c_wait, c_started) = (c_said.clone(), a_in.clone(), c_in_drain.clone());
    let host_c = mapisync_tests::on_progress(move || {
        assert!(c_wait.wait(PATIENCE));
        std::thread::sleep(Duration::from_millis(50)); // W_A is in the gate's close by now
        c_started.open();
        let started = Instant::now();
        let result = lifecycle::drain(c_timeout);
        *c_record.lock().unwrap() = Some((result, started.elapsed()));
    });
    std::thread::spawn(move || {
        let sync: IMAPISync = ReportsOnWorker.into();
        let _ = host_c.run(&sync);
    });
    // A: T's Progress lets C go, waits until W_C is in its drain, then drains.
    let (t_record, t_entered, t_after) = (t_said.clone(), a_in.clone(), c_in_drain.clone());
    let host_a = mapisync_tests::on_progress(move || {
        t_entered.open();
        assert!(t_after.wait(PATIENCE));
        std::thread::sleep(Duration::from_millis(50));
        let started = Instant::now();
        let result = lifecycle::drain(t_timeout);
        *t_record.lock().unwrap() = Some((result, started.elapsed()));
    });
    let in_call = a_in.clone();
    std::thread::spawn(move || {
        let sync: IMAPISync = HandsToThread { in_call }.into();
        let _ = host_a.run(&sync);
    });
    let deadline = Instant::now() + watchdog;
    while Instant::now() < deadline && (t_said.lock().unwrap().is_none() || c_said.lock().unwrap().is_none()) {
        std::thread::sleep(Duration::from_millis(5));
    }

    (*t_said.lock().unwrap(), *c_said.lock().unwrap())
}

/// W_C's drain(2 s), on a worker, returns `Ok` at once: A's worker waits
/// only for T's call, and T drains. Before: `Err(1)` after the full 2 s.
#[test]
fn a_workers_drain_does_not_wait_for_itself_through_a_kept_jobs_thread() {
    let _serial = serial();
    let (t, c) = cycle(Duration::MAX, Duration::from_secs(2), PATIENCE);
    eprintln!("T's drain(MAX) in A's kept Progress: {t:?}; W_C's drain(2 s) in C's Progress: {c:?}");
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
    let (c_result, c_took) = c.expect("W_C's drain returned");
    assert!(
        c_result == Ok(()) && c_took < Duration::from_millis(500),
        "a drain on a worker waited for itself in a cycle: {c_result:?} after {c_took:?}"
    );
}

/// Duration::MAX on both drains: both return (watchdog 5 s). Before:
/// neither ever did.
#[test]
fn with_duration_max_on_both_drains_both_return() {
    let _serial = serial();
    let (t, c) = cycle(Duration::MAX, Duration::MAX, Duration::from_secs(5));
    eprintln!(
        "after 5 s: T's drain(MAX): {t:?}; W_C's drain(MAX): {c:?}; workers running: {}",
        lifecycle::running_workers()
    );
    assert!(c.is_some() && t.is_some(), "hung: T's drain {t:?}, W_C's drain {c:?}");
}

/// Two kept jobs: A's on thread T, B's on thread X; each host's Progress
/// (T in A's, X in B's) drains(2 s) once the other is in its Progress.
/// Each worker waits only for a draining thread's call, so both drains
/// return `Ok` at once. Before: T waited for W_B (which waits for X) and X
/// for W_A (which waits for T), each its full timeout.
#[test]
fn two_kept_jobs_threads_draining_in_their_progress_do_not_wait_for_each_other() {
    let _serial = serial();
    let (a_in, b_in) = (Arc::new(Latch::default()), Arc::new(Latch::default()));
    let (a_said, b_said): (Said, Said) = Default::default();
    let host = |mine: Arc<Latch>, other: Arc<Latch>, said: Said| {
        mapisync_tests::on_progress(move || {
            mine.open();
            assert!(other.wait(PATIENCE));
            std::thread::sleep(Duration::from_millis(100)); // both workers are in the gate's close
            let started = Instant::now();
            let result = lifecycle::drain(Duration::from_secs(2));
            *said.lock().unwrap() = Some((result, started.elapsed()));
        })
    };
    let runners: Vec<_> = [(a_in.clone(), b_in.clone(), a_said.clone()), (b_in.clone(), a_in.clone(), b_said.clone())]
        .into_iter()
        .map(|(mine, other, said)| {
            let host = host(mine.clone(), other, said);
            std::thread::spawn(move || {
                let sync: IMAPISync = HandsToThread { in_call: mine }.into();
                host.run(&sync).map(|report| report.done_calls)
            })
        })
        .collect();
    for runner in runners {
        assert_eq!(runner.join().unwrap().unwrap(), 1);
    }
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
    let said = (*a_said.lock().unwrap(), *b_said.lock().unwrap());
    eprintln!("drain(2 s) in A's kept Progress (T): {:?}; in B's kept Progress (X): {:?}", said.0, said.1);
    for (result, took) in [said.0.unwrap(), said.1.unwrap()] {
        assert!(result == Ok(()) && took < Duration::from_millis(500), "waited in a cycle: {result:?} after {took:?}");
    }
}

/// Keeps its job past the sync.
struct KeepsJob(Mutex<Option<SyncJob>>);

#[mapisync::provider]
impl MapiSync for KeepsJob {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        *self.0.lock().unwrap() = Some(std::mem::replace(job, SyncJob::new(job.flags())));
        Ok(())
    }
}

/// A job or a cancel token kept past its sync counts as alive, as a COM
/// object does: `DllCanUnloadNow` says S_FALSE until it is dropped, though
/// the sync's worker has exited. Before: S_OK once the worker exited, and
/// a host polling it (as COM's `CoFreeUnusedLibraries` does) then unmapped
/// the DLL under the provider's thread that held the job (a page fault
/// under Wine: `tests/cpp/lifecycle/kept_done_unload.cpp`).
#[test]
fn a_job_or_token_kept_past_its_sync_keeps_dll_can_unload_now_at_s_false_until_it_is_dropped() {
    let _serial = serial();
    assert_eq!(mapisync::server::can_unload_now(), mapisync::S_OK, "nothing of this module lives yet");
    let sync: IMAPISync = KeepsJob(Mutex::new(None)).into();
    let report = mapisync::host::Host::new().run(&sync).unwrap();
    assert_eq!(report.done_calls, 1);
    let kept = mapisync::provider_of::<KeepsJob>(&sync).unwrap().0.lock().unwrap().take().unwrap();
    drop(sync);
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
    assert_eq!(lifecycle::running_workers(), 0);
    assert_eq!(mapisync::server::can_unload_now(), mapisync::S_FALSE, "a job kept past its sync lives");
    let token = kept.cancel_token();
    drop(kept);
    assert_eq!(mapisync::server::can_unload_now(), mapisync::S_FALSE, "its cancel token lives");
    let clone = token.clone();
    drop(token);
    assert_eq!(mapisync::server::can_unload_now(), mapisync::S_FALSE, "a clone of the token lives");
    drop(clone);
    assert_eq!(mapisync::server::can_unload_now(), mapisync::S_OK, "the kept job and its tokens were dropped");
}

/// A `Gated` sync run by a host thread of its own (adopted by `scope` if
/// given), started: the latch that ends it, and the thread, which returns
/// the number of `Done` calls.
fn held_sync(scope: Option<Arc<lifecycle::Scope>>) -> (Arc<Latch>, std::thread::JoinHandle<mapisync::Result<usize>>) {
    let (started, release) = (Arc::new(Latch::default()), Arc::new(Latch::default()));
    let (entered, ends) = (started.clone(), release.clone());
    let runner = std::thread::spawn(move || {
        let sync: IMAPISync = Gated { started: entered, release: ends }.into();
        let _handle = scope.map(|scope| scope.adopt(&sync));
        mapisync::host::Host::new().run(&sync).map(|report| report.done_calls)
    });
    assert!(started.wait(PATIENCE));
    (release, runner)
}

/// What a `shutdown(5 s)` of `scope` on this thread saw; `release` opens
/// `after` it started.
struct Shutdown {
    result: Result<(), usize>,
    took: Duration,
    still_running: usize,
    returned_at: Instant,
}

impl Shutdown {
    /// Asserts that the shutdown of `which` said `Ok` only after that scope's
    /// sync had said `Done` (at `done_at`) and its worker had exited: the
    /// test's thread is in no cycle, so it waits.
    fn waited_for(&self, which: &str, done_at: Instant) {
        let Self { result, took, still_running, returned_at } = self;
        eprintln!(
            "scope {which}: shutdown(5 s) {result:?} after {took:?}; workers still running then: {still_running}; \
             Done came {:?} after the shutdown returned",
            done_at.saturating_duration_since(*returned_at)
        );
        assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
        assert_eq!(*result, Ok(()));
        assert!(*still_running == 0 && done_at <= *returned_at, "the shutdown said Ok with the worker still running");
    }
}

fn shut_down_releasing(scope: &lifecycle::Scope, release: Arc<Latch>, after: Duration) -> Shutdown {
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(after);
        release.open();
    });
    let started = Instant::now();
    let result = scope.shutdown(Duration::from_secs(5));
    let (took, returned_at) = (started.elapsed(), Instant::now());
    let still_running = scope.running_workers();
    releaser.join().unwrap();
    Shutdown { result, took, still_running, returned_at }
}

/// No cycle: thread X, inside A's kept Progress, drains scope B (whose sync
/// B runs until the test lets it go, 500 ms later). The test's own thread Y
/// (an ordinary host thread: no worker, no host call in flight, nobody waits
/// for it) shuts down scope A. A's worker waits for X's call, which waits
/// only for B, which ends on its own: Y's shutdown waits for A (about
/// 500 ms) and A's Done comes before it returns. A review of a27f4e0 found
/// it returned `Ok` at once, A's worker still running, its Done 500 ms later.
#[test]
fn an_ordinary_host_threads_shutdown_waits_for_a_sync_another_thread_drains_inside() {
    let _serial = serial();
    let (scope_a, scope_b) = (Arc::new(lifecycle::Scope::open()), Arc::new(lifecycle::Scope::open()));
    let (b_release, b_runner) = held_sync(Some(scope_b.clone()));
    // A: its kept job's Progress (on X) drains scope B.
    let (in_call, x_draining) = (Arc::new(Latch::default()), Arc::new(Latch::default()));
    let a_done_at: Arc<Mutex<Option<Instant>>> = Default::default();
    let (entered, draining, drains) = (in_call.clone(), x_draining.clone(), scope_b.clone());
    let done_at = a_done_at.clone();
    let host_a = mapisync::host::Host::new().on_event(move |event| match event {
        mapisync::host::Event::Progress { .. } => {
            entered.open();
            draining.open();
            let _ = drains.drain(Duration::MAX);
        }
        mapisync::host::Event::Done { .. } => *done_at.lock().unwrap() = Some(Instant::now()),
        _ => {}
    });
    let (a_in_call, scope) = (in_call.clone(), scope_a.clone());
    let a_runner = std::thread::spawn(move || {
        let sync_a: IMAPISync = HandsToThread { in_call: a_in_call }.into();
        let _handle_a = scope.adopt(&sync_a);
        host_a.run(&sync_a).map(|r| r.done_calls)
    });
    assert!(x_draining.wait(PATIENCE));
    std::thread::sleep(Duration::from_millis(100)); // X is in its drain, A's worker in the gate's close
    let seen = shut_down_releasing(&scope_a, b_release, Duration::from_millis(500));
    assert_eq!(b_runner.join().unwrap().unwrap(), 1);
    assert_eq!(a_runner.join().unwrap().unwrap(), 1);
    seen.waited_for("A, on an ordinary host thread", a_done_at.lock().unwrap().expect("A's Done"));
}

/// A host thread's drain(MAX) waiting 3 s for one sync waits for the
/// thread's exit at once: it wakes no more than a few times (this thread's
/// voluntary context switches, /proc/thread-self). Only a drain that skips
/// calls from draining threads looks again every 10 ms; a27f4e0 made every
/// drain do so (272 wake-ups, 7 ms of CPU in a debug build).
#[cfg(target_os = "linux")]
#[test]
fn a_host_threads_long_drain_does_not_wake_every_slice() {
    let _serial = serial();
    let (release, runner) = held_sync(None);
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3));
        release.open();
    });
    let measured = std::thread::spawn(|| {
        let read = || {
            let cpu: u64 = std::fs::read_to_string("/proc/thread-self/schedstat")
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
            let switches: u64 = status
                .lines()
                .find(|l| l.starts_with("voluntary_ctxt_switches"))
                .unwrap()
                .split_whitespace()
                .nth(1)
                .unwrap()
                .parse()
                .unwrap();
            (cpu, switches)
        };
        let before = read();
        let drained = lifecycle::drain(Duration::MAX);
        let after = read();
        (drained, Duration::from_nanos(after.0 - before.0), after.1 - before.1)
    });
    let (drained, cpu, wakeups) = measured.join().unwrap();
    releaser.join().unwrap();
    assert_eq!(runner.join().unwrap().unwrap(), 1);
    eprintln!("drain(MAX) for 3 s: {drained:?}; CPU {cpu:?}, {wakeups} voluntary context switches");
    assert_eq!(drained, Ok(()));
    assert!(wakeups < 10, "a drain waiting 3 s woke {wakeups} times (CPU {cpu:?})");
}

/// Reports once through its own job on its worker, then works on for
/// `after` (not looking at the cancel: a slow provider), then returns.
struct ReportsThenWorks {
    after: Duration,
}

#[mapisync::provider]
impl MapiSync for ReportsThenWorks {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        let _ = job.progress("on the worker", 1, 1);
        std::thread::sleep(self.after);
        Ok(())
    }
}

/// No kept job, no cycle: a host's `Progress` on a worker drains
/// (`lifecycle::drain(MAX)`, here waiting for sync B, which ends 300 ms
/// later), while MAPI's own thread Y calls provider instance C's Shutdown
/// (`scope_c.shutdown(5 s)`). Nothing waits for Y, so Y waits for C (about
/// 800 ms: C's worker's drain, then 500 ms more in its provider). A review
/// of a27f4e0 found Y skipped C (its worker's own Progress is a call in
/// flight on a draining thread) and returned `Ok` at once.
#[test]
fn a_hosts_shutdown_waits_for_a_worker_that_drains_in_its_own_progress() {
    let _serial = serial();
    let (b_release, b_runner) = held_sync(None);
    let c_draining = Arc::new(Latch::default());
    let c_done_at: Arc<Mutex<Option<Instant>>> = Default::default();
    let (draining, done_at) = (c_draining.clone(), c_done_at.clone());
    let host_c = mapisync::host::Host::new().on_event(move |event| match event {
        mapisync::host::Event::Progress { .. } => {
            draining.open();
            let _ = lifecycle::drain(Duration::MAX);
        }
        mapisync::host::Event::Done { .. } => *done_at.lock().unwrap() = Some(Instant::now()),
        _ => {}
    });
    let scope_c = Arc::new(lifecycle::Scope::open());
    let scope = scope_c.clone();
    let c_runner = std::thread::spawn(move || {
        let sync_c: IMAPISync = ReportsThenWorks { after: Duration::from_millis(500) }.into();
        let _handle_c = scope.adopt(&sync_c);
        host_c.run(&sync_c).map(|r| r.done_calls)
    });
    assert!(c_draining.wait(PATIENCE));
    std::thread::sleep(Duration::from_millis(50)); // C's worker is in its drain
    let seen = shut_down_releasing(&scope_c, b_release, Duration::from_millis(300));
    assert_eq!(b_runner.join().unwrap().unwrap(), 1);
    assert_eq!(c_runner.join().unwrap().unwrap(), 1);
    seen.waited_for("C, on MAPI's thread", c_done_at.lock().unwrap().expect("C's Done"));
}

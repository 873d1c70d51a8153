//! A drain inside a host call in flight through a kept job (issue 17,
//! item 3), as a review of its first fix (c60bc2d) tried to break it: the
//! record of the calls in flight allocates nothing on a call and takes no
//! TLS index (Windows); a kept job's `Error` as well as its `Progress`;
//! another sync, or another scope, is still waited for; nested kept jobs of
//! two syncs. The same review's two unload cases are C++ hosts
//! (`tests/cpp/lifecycle/kept_unload.cpp`, `stubborn_reload.cpp`).
//! One test at a time (`serial()`): the registry is one per test binary.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mapisync::lifecycle;
use mapisync::{IMAPISync, MapiSync, SyncJob};
use mapisync_tests::{Gated, Latch, PATIENCE, allocations_of, serial};

#[global_allocator]
static GLOBAL: mapisync_tests::Counting = mapisync_tests::Counting;

/// On a thread that never made a host call before, one `progress_count`
/// through a job allocates nothing (a static callback, a NULL text: nothing
/// else in the call allocates; the record of calls in flight has its room
/// from the sync's start).
#[test]
fn a_first_host_call_on_a_thread_allocates_nothing() {
    let _serial = serial();
    // SAFETY: the static callback is free-threaded (it does nothing).
    let mut job = unsafe {
        SyncJob::with_host_objects(mapisync::SyncFlags::empty(), None, Some(mapisync_tests::static_callback()))
    };
    let counted = std::thread::spawn(move || {
        // Warm up what is not the change's: the call itself once on the
        // test's thread would hide the first-use cost, so nothing else first.
        let (result, first) = allocations_of(|| job.progress_count(1, 2));
        let (again, second) = allocations_of(|| job.progress_count(2, 2));
        (result, again, first, second)
    });
    let (result, again, first, second) = counted.join().unwrap();
    eprintln!("first host call on a new thread: {first} allocation(s); the second: {second}");
    assert_eq!((result, again), (Ok(()), Ok(())));
    assert_eq!(first, 0, "the first host call through a job on a thread allocated");
}

/// The same for a drain with a sync registered, on a host thread that never
/// made a host call (MAPI's thread calling the provider's Shutdown):
/// `is_in_flight_here` reads the sync's record of calls in flight.
#[test]
fn a_drain_on_a_new_host_thread_allocates_nothing() {
    let _serial = serial();
    let (entered, release) = (Arc::new(Latch::default()), Arc::new(Latch::default()));
    let holds = Gated { started: entered.clone(), release: release.clone() };
    let runner = std::thread::spawn(move || {
        let sync: IMAPISync = holds.into();
        mapisync::host::Host::new().run(&sync).map(|report| report.done_calls)
    });
    assert!(entered.wait(PATIENCE));
    let counted = std::thread::spawn(|| {
        // One drain first on this thread for the registry's own use, then count.
        allocations_of(|| lifecycle::drain(Duration::ZERO))
    });
    let (drained, allocations) = counted.join().unwrap();
    release.open();
    assert_eq!(runner.join().unwrap().unwrap(), 1);
    eprintln!("drain(0) with one sync running, on a new thread: {drained:?}, {allocations} allocation(s)");
    assert_eq!(drained, Err(1));
    assert_eq!(allocations, 0, "a drain on a new host thread allocated (the record of calls in flight)");
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
}

// Kept jobs.

/// Keeps its job, reports through it from a thread of its own (`error` or
/// `progress`), returns once the host is inside that report.
struct KeptReporter {
    in_call: Arc<Latch>,
    use_error: bool,
    reporter: Mutex<Option<std::thread::JoinHandle<mapisync::Result<()>>>>,
}

#[mapisync::provider]
impl MapiSync for KeptReporter {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        let mut kept = std::mem::replace(job, SyncJob::new(job.flags()));
        let use_error = self.use_error;
        let reporter = std::thread::spawn(move || match use_error {
            true => kept.error(mapisync::MAPI_E_NETWORK_ERROR, "kept"),
            false => kept.progress("kept", 1, 2),
        });
        *self.reporter.lock().unwrap() = Some(reporter);
        match self.in_call.wait(PATIENCE) {
            true => Ok(()),
            false => Err(mapisync::Error::new(mapisync::E_UNEXPECTED, "the host never saw the report")),
        }
    }
}

/// One sync of a [`KeptReporter`] by `host`, and its reporter thread joined.
fn run_kept(host: &mapisync::host::Host, sync: &IMAPISync) -> mapisync::host::Report {
    let report = host.run(sync).unwrap();
    let reporter = mapisync::provider_of::<KeptReporter>(sync).unwrap().reporter.lock().unwrap().take();
    let _ = reporter.expect("the provider ran").join().unwrap();
    report
}

/// Sleeps `for_ms`, then returns.
struct Sleeps(u64);

#[mapisync::provider]
impl MapiSync for Sleeps {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        std::thread::sleep(Duration::from_millis(self.0));
        Ok(())
    }
}

/// A kept job's `Error` (not `Progress`) calls shutdown(MAX): not waited for.
#[test]
fn shutdown_inside_a_kept_jobs_error_does_not_wait_for_its_sync() {
    let _serial = serial();
    let said = Arc::new(Mutex::new(None));
    let in_call = Arc::new(Latch::default());
    let (record, entered) = (said.clone(), in_call.clone());
    let host = mapisync::host::Host::new().on_event(move |event| {
        if !matches!(event, mapisync::host::Event::Error { .. }) || entered.is_open() {
            return;
        }
        entered.open();
        std::thread::sleep(Duration::from_millis(50));
        let started = Instant::now();
        let result = lifecycle::shutdown(Duration::MAX);
        *record.lock().unwrap() = Some((result, started.elapsed()));
    });
    let sync: IMAPISync = KeptReporter { in_call, use_error: true, reporter: Mutex::new(None) }.into();
    let report = host.run(&sync).unwrap();
    let reporter = mapisync::provider_of::<KeptReporter>(&sync).unwrap().reporter.lock().unwrap().take();
    let reported = reporter.unwrap().join().unwrap();
    let said = said.lock().unwrap().take();
    eprintln!("shutdown in the kept job's Error: {said:?}; the report said {reported:?}");
    let (result, took) = said.expect("the host's Error ran");
    assert_eq!(result, Ok(()));
    assert!(took < Duration::from_millis(250), "{took:?}");
    assert_eq!(report.done_calls, 1);
    assert!(report.balanced(), "{report:?}");
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
    lifecycle::reopen();
}

/// A kept job's Progress drains while another sync (B, 300 ms) runs: B is
/// still waited for, A is not.
#[test]
fn a_drain_inside_a_kept_jobs_progress_still_waits_for_another_sync() {
    let _serial = serial();
    let b_done = Arc::new(AtomicBool::new(false));
    let said = Arc::new(Mutex::new(None));
    let in_call = Arc::new(Latch::default());
    let b_started = Arc::new(Latch::default());
    let (record, entered, b_seen, b_go) = (said.clone(), in_call.clone(), b_done.clone(), b_started.clone());
    let host_a = mapisync_tests::on_progress(move || {
        entered.open();
        assert!(b_go.wait(PATIENCE));
        std::thread::sleep(Duration::from_millis(50));
        let started = Instant::now();
        let result = lifecycle::drain(Duration::from_secs(5));
        *record.lock().unwrap() = Some((result, started.elapsed(), b_seen.load(Ordering::SeqCst)));
    });
    let b_flag = b_done.clone();
    let host_b = mapisync::host::Host::new().on_event(move |event| {
        if matches!(event, mapisync::host::Event::Done { .. }) {
            b_flag.store(true, Ordering::SeqCst);
        }
    });
    let b_runner = {
        let b_go = b_started.clone();
        std::thread::spawn(move || {
            let sync_b: IMAPISync = Sleeps(300).into();
            b_go.open();
            host_b.run(&sync_b).map(|report| report.done_calls)
        })
    };
    let sync_a: IMAPISync = KeptReporter { in_call, use_error: false, reporter: Mutex::new(None) }.into();
    let report = run_kept(&host_a, &sync_a);
    assert_eq!(b_runner.join().unwrap().unwrap(), 1);
    let said = said.lock().unwrap().take();
    eprintln!("drain in A's kept Progress while B runs: {said:?}");
    let (result, took, b_was_done) = said.expect("A's Progress ran");
    assert_eq!(result, Ok(()));
    assert!(b_was_done, "the drain returned before B's Done ({took:?})");
    assert_eq!(report.done_calls, 1);
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
}

// Nested: A's kept job's Progress (on P) reports through B's kept job (on P);
// B's Progress shuts down.

static B_JOB: Mutex<Option<SyncJob>> = Mutex::new(None);

/// Hands its job to `B_JOB`, returns once the host is inside a report through it.
struct HandsOver {
    in_call: Arc<Latch>,
}

#[mapisync::provider]
impl MapiSync for HandsOver {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        let kept = std::mem::replace(job, SyncJob::new(job.flags()));
        *B_JOB.lock().unwrap() = Some(kept);
        match self.in_call.wait(PATIENCE) {
            true => Ok(()),
            false => Err(mapisync::Error::new(mapisync::E_UNEXPECTED, "never reported")),
        }
    }
}

#[test]
fn shutdown_inside_nested_kept_jobs_of_two_syncs_waits_for_neither() {
    let _serial = serial();
    let said = Arc::new(Mutex::new(None));
    let (b_in, a_in) = (Arc::new(Latch::default()), Arc::new(Latch::default()));
    let record = said.clone();
    let b_entered = b_in.clone();
    let host_b = mapisync_tests::on_progress(move || {
        b_entered.open();
        std::thread::sleep(Duration::from_millis(50));
        let started = Instant::now();
        let result = lifecycle::shutdown(Duration::from_secs(3));
        *record.lock().unwrap() = Some((result, started.elapsed(), lifecycle::running_workers()));
    });
    let hands_over = HandsOver { in_call: b_in.clone() };
    let b_runner = std::thread::spawn(move || {
        let sync_b: IMAPISync = hands_over.into();
        host_b.run(&sync_b).map(|report| (report.done_calls, report.balanced()))
    });
    let a_entered = a_in.clone();
    let host_a = mapisync_tests::on_progress(move || {
        if a_entered.is_open() {
            return;
        }
        a_entered.open();
        let deadline = Instant::now() + PATIENCE;
        let mut b_job = loop {
            if let Some(job) = B_JOB.lock().unwrap().take() {
                break job;
            }
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(1));
        };
        let _ = b_job.progress("B through A", 1, 1);
    });
    let sync_a: IMAPISync = KeptReporter { in_call: a_in, use_error: false, reporter: Mutex::new(None) }.into();
    let report = run_kept(&host_a, &sync_a);
    let (b_done, b_balanced) = b_runner.join().unwrap().unwrap();
    let said = said.lock().unwrap().take();
    eprintln!("shutdown in B's Progress inside A's: {said:?}");
    let (result, took, _) = said.expect("B's Progress ran");
    assert_eq!(result, Ok(()), "took {took:?}");
    assert!(took < Duration::from_millis(250), "{took:?}");
    assert_eq!((report.done_calls, b_done), (1, 1));
    assert!(report.balanced() && b_balanced);
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
    lifecycle::reopen();
}

#[cfg(windows)]
#[link(name = "kernel32")]
unsafe extern "system" {
    fn TlsAlloc() -> u32;
    fn TlsFree(index: u32) -> i32;
}

/// The lowest free TLS index now (taken and given back at once).
#[cfg(windows)]
fn lowest_free_tls_index() -> u32 {
    // SAFETY: Win32: an index taken and freed at once.
    unsafe {
        let index = TlsAlloc();
        TlsFree(index);
        index
    }
}

/// The record of calls in flight takes no TLS index: on a target without
/// native TLS a thread-local is an OS key that an unloaded DLL never gives
/// back (c60bc2d's thread-local took one more per load; the lifecycle host
/// ran out of TLS indexes after 217 loads in one process instead of 271).
/// Decisive when it is the process's first host call: `-- --exact
/// the_record_of_calls_in_flight_takes_no_tls_index`.
#[cfg(windows)]
#[test]
fn the_record_of_calls_in_flight_takes_no_tls_index() {
    let _serial = serial();
    // Warm up everything but the record of calls in flight: a job without a callback goes
    // through the gate and returns before `host_calls::in_flight`.
    let mut quiet = SyncJob::new(mapisync::SyncFlags::empty());
    assert_eq!(quiet.progress_count(1, 2), Ok(()));
    // SAFETY: the static callback is free-threaded (it does nothing).
    let mut job = unsafe {
        SyncJob::with_host_objects(mapisync::SyncFlags::empty(), None, Some(mapisync_tests::static_callback()))
    };
    let before = lowest_free_tls_index();
    assert_eq!(job.progress_count(1, 2), Ok(()));
    let after = lowest_free_tls_index();
    eprintln!("lowest free TLS index before the first host call through a job: {before}, after: {after}");
    assert_eq!(before, after, "the first host call in the process took a TLS index");
}

/// Scopes: B's kept job's Progress (on the provider's thread P) shuts down
/// scope A (whose sync runs 300 ms: waited for), then its own scope B
/// (skipped at once: its worker waits for this very call).
#[test]
fn scope_shutdowns_inside_a_kept_jobs_progress() {
    let _serial = serial();
    let said = Arc::new(Mutex::new(Vec::new()));
    let a_done = Arc::new(AtomicBool::new(false));
    let (scope_a, scope_b) = (Arc::new(lifecycle::Scope::open()), Arc::new(lifecycle::Scope::open()));
    let a_started = Arc::new(Latch::default());
    let a_runner = {
        let (scope_a, a_started, a_done) = (scope_a.clone(), a_started.clone(), a_done.clone());
        std::thread::spawn(move || {
            let sync_a: IMAPISync = Sleeps(300).into();
            let _handle = scope_a.adopt(&sync_a);
            a_started.open();
            let host = mapisync::host::Host::new().on_event(move |event| {
                if matches!(event, mapisync::host::Event::Done { .. }) {
                    a_done.store(true, Ordering::SeqCst);
                }
            });
            host.run(&sync_a).map(|report| report.done_calls)
        })
    };
    assert!(a_started.wait(PATIENCE));
    let in_call = Arc::new(Latch::default());
    let (record, entered, scopes, a_seen) =
        (said.clone(), in_call.clone(), (scope_a.clone(), scope_b.clone()), a_done.clone());
    let host_b = mapisync_tests::on_progress(move || {
        entered.open();
        std::thread::sleep(Duration::from_millis(50));
        let started = Instant::now();
        let a = scopes.0.shutdown(Duration::from_secs(5));
        record.lock().unwrap().push(("scope A", a, started.elapsed(), a_seen.load(Ordering::SeqCst)));
        let started = Instant::now();
        let b = scopes.1.shutdown(Duration::MAX);
        record.lock().unwrap().push(("scope B", b, started.elapsed(), a_seen.load(Ordering::SeqCst)));
    });
    let sync_b: IMAPISync = KeptReporter { in_call, use_error: false, reporter: Mutex::new(None) }.into();
    let _handle_b = scope_b.adopt(&sync_b);
    let report = run_kept(&host_b, &sync_b);
    assert_eq!(a_runner.join().unwrap().unwrap(), 1);
    let said = said.lock().unwrap().clone();
    eprintln!("scope shutdowns in B's kept Progress: {said:?}");
    assert_eq!(said.len(), 2);
    assert_eq!(said[0].1, Ok(()));
    assert!(said[0].3, "scope A's shutdown returned before A's Done");
    assert_eq!(said[1].1, Ok(()));
    assert!(said[1].2 < Duration::from_millis(250), "{:?}", said[1].2);
    assert_eq!(report.done_calls, 1);
    assert!(report.balanced());
    assert_eq!(lifecycle::drain(PATIENCE), Ok(()));
}

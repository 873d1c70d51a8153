//! Probes of the record of host calls in flight (`workers/host_calls.rs`:
//! `std::thread::current().id()` in the sync's `Callers`), from a hostile
//! review of 379f198 that found nothing; kept as regression tests.
//!
//! - `host_calls::in_flight` now calls `std::thread::current()` on each host
//!   call through a job, which 99db6f4 never did. std's `current()` panics
//!   once the thread's std data is destroyed, and allocates a `Thread` on a
//!   thread std did not start. Neither happens (stable 1.95): a host call
//!   from a pthread key destructor (after std's thread cleanup) reaches the
//!   host, and the first host call on a `pthread_create` thread allocates
//!   nothing.
//! - The scoped-thread provider: a scoped thread's Progress calls
//!   running_workers, Scope::open + shutdown(MAX), SyncHandle::cancel,
//!   drain and shutdown(MAX): all return at once, one Done. Three scoped
//!   reporters with a shutdown(MAX) in one Progress; cancel_all +
//!   shutdown(MAX) in a Progress on the worker itself.
//!
//! One test at a time (`serial()`).

#![cfg_attr(any(not(target_os = "linux"), miri), allow(dead_code, unused_imports))]

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use mapisync::SyncJob;
use mapisync_tests::serial;

#[global_allocator]
static GLOBAL: mapisync_tests::Counting = mapisync_tests::Counting;

fn job_with_static_callback() -> SyncJob {
    // SAFETY: the static callback is free-threaded (it does nothing).
    unsafe { SyncJob::with_host_objects(mapisync::SyncFlags::empty(), None, Some(mapisync_tests::static_callback())) }
}

#[cfg(target_os = "linux")]
mod pthread {
    pub type Key = u32;
    pub type Thread = usize;
    unsafe extern "C" {
        pub fn pthread_key_create(key: *mut Key, dtor: Option<unsafe extern "C" fn(*mut core::ffi::c_void)>) -> i32;
        pub fn pthread_setspecific(key: Key, value: *const core::ffi::c_void) -> i32;
        pub fn pthread_create(
            thread: *mut Thread,
            attr: *const core::ffi::c_void,
            start: unsafe extern "C" fn(*mut core::ffi::c_void) -> *mut core::ffi::c_void,
            arg: *mut core::ffi::c_void,
        ) -> i32;
        pub fn pthread_join(thread: Thread, out: *mut *mut core::ffi::c_void) -> i32;
    }
}

/// What the late report said: `Some(Ok(result))`, or `Some(Err(()))` if it panicked.
#[cfg(target_os = "linux")]
static LATE: Mutex<Option<Result<mapisync::Result<()>, String>>> = Mutex::new(None);

/// Whether Rust's thread-local destructors had run when the key's destructor ran.
#[cfg(target_os = "linux")]
static RUST_TLS_GONE: AtomicBool = AtomicBool::new(false);

#[cfg(target_os = "linux")]
struct Mark;
#[cfg(target_os = "linux")]
impl Drop for Mark {
    fn drop(&mut self) {}
}
#[cfg(target_os = "linux")]
thread_local!(static MARK: Mark = const { Mark });

/// A pthread key destructor: runs at thread exit, after std's thread-local
/// destructors and std's thread cleanup (glibc runs key destructors last).
#[cfg(target_os = "linux")]
unsafe extern "C" fn report_late(job: *mut core::ffi::c_void) {
    // SAFETY: the test put a `Box<SyncJob>` there.
    let mut job = unsafe { Box::from_raw(job.cast::<SyncJob>()) };
    RUST_TLS_GONE.store(MARK.try_with(|_| ()).is_err(), Ordering::SeqCst);
    let said = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.progress_count(1, 1))).map_err(|panic| {
        panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default()
    });
    *LATE.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(said);
    drop(job);
}

/// A host call through a job from a destructor that runs at thread exit
/// after std's cleanup (a C library's per-thread state, a pthread key):
/// at 99db6f4 it reached the host (`Ok`); now `std::thread::current()`
/// inside `host_calls::in_flight` panics (and, in a real `extern "C"`
/// destructor without this test's `catch_unwind`, aborts the process).
#[cfg(all(target_os = "linux", not(miri)))]
#[test]
fn a_host_call_from_a_thread_exit_destructor_reaches_the_host() {
    let _serial = serial();
    let mut key = 0;
    // SAFETY: pthread: a new key with a destructor of the right type.
    assert_eq!(unsafe { pthread::pthread_key_create(&mut key, Some(report_late)) }, 0);
    let job = Box::new(job_with_static_callback());
    let before = mapisync_tests::static_progress_calls();
    std::thread::spawn(move || {
        // SAFETY: pthread: the key is live; the value is freed by its destructor.
        assert_eq!(unsafe { pthread::pthread_setspecific(key, Box::into_raw(job).cast()) }, 0);
        MARK.with(|_| ());
    })
    .join()
    .unwrap();
    let said = LATE.lock().unwrap().take();
    let gone = RUST_TLS_GONE.load(Ordering::SeqCst);
    eprintln!("host call from a pthread key destructor (Rust's thread-locals already destroyed: {gone}): {said:?}");
    assert!(gone, "the probe ran before std's thread cleanup: it proves nothing");
    assert_eq!(said, Some(Ok(Ok(()))), "the late host call panicked instead of reaching the host");
    assert_eq!(mapisync_tests::static_progress_calls(), before + 1);
}

#[cfg(target_os = "linux")]
static FOREIGN_JOB: Mutex<Option<SyncJob>> = Mutex::new(None);

#[cfg(target_os = "linux")]
unsafe extern "C" fn foreign_thread(_: *mut core::ffi::c_void) -> *mut core::ffi::c_void {
    let mut job = FOREIGN_JOB.lock().unwrap().take().unwrap();
    let (result, allocations) = mapisync_tests::allocations_of(|| job.progress_count(1, 2));
    *FOREIGN_JOB.lock().unwrap() = Some(job);
    Box::into_raw(Box::new((result, allocations))).cast()
}

/// The first host call through a job on a thread std did not start (a
/// host's thread: MAPI's, a C++ host's) allocates: `current()` makes the
/// thread's `Thread` handle and registers its destructor. Before 379f198 it
/// allocated nothing (the same call, a NULL text, a static callback).
#[cfg(all(target_os = "linux", not(miri)))]
#[test]
fn a_first_host_call_on_a_foreign_thread_allocates_nothing() {
    let _serial = serial();
    *FOREIGN_JOB.lock().unwrap() = Some(job_with_static_callback());
    let mut thread = 0;
    // SAFETY: pthread: a plain thread running `foreign_thread`.
    assert_eq!(
        unsafe { pthread::pthread_create(&mut thread, core::ptr::null(), foreign_thread, core::ptr::null_mut()) },
        0
    );
    let mut out = core::ptr::null_mut();
    // SAFETY: pthread: joined once.
    assert_eq!(unsafe { pthread::pthread_join(thread, &mut out) }, 0);
    // SAFETY: `foreign_thread` returned a boxed pair.
    let (result, allocations) = *unsafe { Box::from_raw(out.cast::<(mapisync::Result<()>, usize)>()) };
    eprintln!("first host call on a foreign (pthread_create) thread: {result:?}, {allocations} allocation(s)");
    assert_eq!(result, Ok(()));
    assert_eq!(allocations, 0, "the first host call on a foreign thread allocated");
}

// The scoped-thread provider, and lifecycle calls inside a host's Progress.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mapisync::lifecycle;
use mapisync::{IMAPISync, MapiSync};

/// Runs `body` on a thread; fails (instead of hanging) if it has not
/// returned within `limit`.
fn within<R: Send + 'static>(limit: Duration, body: impl FnOnce() -> R + Send + 'static) -> R {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || send.send(body()).unwrap());
    receive.recv_timeout(limit).expect("deadlock: the test body did not return in time")
}

/// One sync of `sync` by `host`: how many `Done` calls, and whether the
/// host's objects came back to their counts.
fn one_run(host: &mapisync::host::Host, sync: &IMAPISync) -> mapisync::Result<(usize, bool)> {
    host.run(sync).map(|report| (report.done_calls, report.balanced()))
}

/// The module drained and open again for the next test.
fn drained_and_reopened() {
    assert_eq!(lifecycle::drain(Duration::from_secs(5)), Ok(()));
    lifecycle::reopen();
}

/// Reports from `threads` scoped threads at once (std::thread::scope inside
/// the provider's method), `rounds` each.
struct Scoped {
    threads: usize,
    rounds: u32,
}

#[mapisync::provider]
impl MapiSync for Scoped {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        let job = Mutex::new(job);
        std::thread::scope(|scope| {
            for _ in 0..self.threads {
                scope.spawn(|| {
                    for round in 0..self.rounds {
                        // One at a time through the &mut: the lock is the provider's.
                        let mut job = job.lock().unwrap();
                        let _ = job.progress("scoped", round, self.rounds);
                    }
                });
            }
        });
        Ok(())
    }
}

static HANDLE: Mutex<Option<lifecycle::SyncHandle>> = Mutex::new(None);

/// A scoped thread's Progress calls every lifecycle entry point, shutdown(MAX) last.
#[test]
fn lifecycle_calls_inside_a_scoped_threads_progress_return() {
    let _serial = serial();
    let said = within(Duration::from_secs(20), || {
        let said = Arc::new(Mutex::new(Vec::new()));
        let record = said.clone();
        let once = Arc::new(AtomicBool::new(false));
        let host = mapisync_tests::on_progress(move || {
            if once.swap(true, Ordering::SeqCst) {
                return;
            }
            let started = Instant::now();
            let running = lifecycle::running_workers();
            let scope = lifecycle::Scope::open();
            let scope_shut = scope.shutdown(Duration::MAX);
            let handle_cancel = HANDLE.lock().unwrap().as_ref().map(lifecycle::SyncHandle::cancel);
            let drained = lifecycle::drain(Duration::from_secs(5));
            let shut = lifecycle::shutdown(Duration::MAX);
            record.lock().unwrap().push(format!(
                "running {running}, scope {scope_shut:?}, handle cancel {handle_cancel:?}, drain {drained:?}, shutdown {shut:?}, in {:?}",
                started.elapsed()
            ));
        });
        let sync: IMAPISync = Scoped { threads: 1, rounds: 3 }.into();
        *HANDLE.lock().unwrap() = Some(lifecycle::SyncHandle::new(&sync));
        let report = one_run(&host, &sync);
        HANDLE.lock().unwrap().take();
        let said = said.lock().unwrap().clone();
        (report, said)
    });
    eprintln!("{said:?}");
    let (report, said) = said;
    assert_eq!(report, Ok((1, true)));
    assert_eq!(said.len(), 1);
    assert!(said[0].contains("drain Ok(()), shutdown Ok(())"), "{said:?}");
    drained_and_reopened();
}

/// Three scoped threads report through one job (serialised by the
/// provider's Mutex: a `SyncJob` is `&mut`-only, so one sync never has two
/// host calls through its jobs at once, except nested on one thread) while
/// one Progress shuts down: every call ends, one Done.
#[test]
fn three_scoped_reporters_and_a_shutdown_in_one_progress() {
    let _serial = serial();
    let said = within(Duration::from_secs(20), || {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let host = mapisync_tests::on_progress(move || {
            if seen.fetch_add(1, Ordering::SeqCst) == 5 {
                let _ = lifecycle::shutdown(Duration::MAX);
            }
        });
        let sync: IMAPISync = Scoped { threads: 3, rounds: 20 }.into();
        let report = one_run(&host, &sync);
        (report, calls.load(Ordering::SeqCst))
    });
    eprintln!("{said:?}");
    assert_eq!(said.0, Ok((1, true)));
    drained_and_reopened();
}

/// Progress on the sync's own worker thread calls shutdown(MAX) and cancel: returns.
#[test]
fn shutdown_in_a_progress_on_the_worker_itself_returns() {
    let _serial = serial();
    let said = within(Duration::from_secs(20), || {
        let took = Arc::new(Mutex::new(None));
        let record = took.clone();
        let host = mapisync_tests::on_progress(move || {
            if record.lock().unwrap().is_some() {
                return;
            }
            let started = Instant::now();
            let cancelled = lifecycle::cancel_all();
            let shut = lifecycle::shutdown(Duration::MAX);
            *record.lock().unwrap() = Some((cancelled, shut, started.elapsed()));
        });
        let sync: IMAPISync = OnWorker.into();
        let report = one_run(&host, &sync);
        (report, took.lock().unwrap().take())
    });
    eprintln!("{said:?}");
    assert_eq!(said.0, Ok((1, true)));
    assert_eq!(said.1.map(|s| s.1), Some(Ok(())));
    lifecycle::reopen();
}

struct OnWorker;

#[mapisync::provider]
impl MapiSync for OnWorker {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        let _ = job.progress("on the worker", 1, 2);
        let _ = job.progress("on the worker", 2, 2);
        Ok(())
    }
}

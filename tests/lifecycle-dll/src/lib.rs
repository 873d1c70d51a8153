//! Test providers for the lifecycle hosts in `tests/cpp/lifecycle`, built as
//! an in-proc server DLL (`mapisync_lifecycle_dll.dll`,
//! `libmapisync_lifecycle_dll.so`) that the hosts load, drive and unload
//! again and again.
//!
//! Classes (created with `DllGetClassObject` and `CreateInstance`):
//! - [`Reporter`] `{6C1F0A01-...}`: reports progress every millisecond
//!   until cancelled (at most 10 s), stopping with `?` like an ordinary
//!   provider: cancelled, it ends with `Done(MAPI_E_USER_CANCEL)`.
//! - [`SlowTls`] `{6C1F0A02-...}`: reports one step and returns, after
//!   touching a thread-local whose destructor sleeps 20 ms and then counts
//!   itself in this DLL's memory: unloading the DLL before that destructor
//!   ran would crash the host.
//! - [`Stubborn`] `{6C1F0A03-...}`: ignores cancellation: waits, reporting
//!   nothing, until the host calls `mapisync_test_release_stubborn`.
//! - [`ShutsDownOnWorker`] `{6C1F0A04-...}`: calls the module's shutdown
//!   (without a time limit) on its own worker thread, as a provider whose
//!   `IMSProvider::Shutdown` MAPI runs there does, and returns.
//!
//! Plain C exports (`extern "C"`): `mapisync_test_shutdown(timeout_ms)` and
//! `mapisync_test_drain(timeout_ms)` (0 when every worker thread exited,
//! else how many still run), `mapisync_test_is_shut_down()`,
//! `mapisync_test_reopen()`, `mapisync_test_running_workers()`,
//! `mapisync_test_release_stubborn()`, `mapisync_test_provider_drops()`
//! and `mapisync_test_tls_drops()`.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use mapisync::{MapiSync, SyncJob};

/// Providers of this DLL dropped so far (each object drops its provider once).
static PROVIDER_DROPS: AtomicU32 = AtomicU32::new(0);
/// Slow thread-local destructors that ran to their end.
static TLS_DROPS: AtomicU32 = AtomicU32::new(0);
/// Set by the host to let [`Stubborn`]'s sync return.
static RELEASE_STUBBORN: AtomicBool = AtomicBool::new(false);

/// Counts its drop in [`PROVIDER_DROPS`].
#[derive(Debug, Default)]
pub struct DropCount;

impl Drop for DropCount {
    fn drop(&mut self) {
        PROVIDER_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

/// Reports progress until cancelled.
#[derive(Debug, Default)]
pub struct Reporter(DropCount);

#[mapisync::provider]
impl MapiSync for Reporter {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        report_until_cancelled(job)
    }
}

/// Reports a step a millisecond, 10,000 at most, until a report fails (the
/// sync was cancelled): [`Reporter`]'s body, and its variants'.
fn report_until_cancelled(job: &mut SyncJob) -> mapisync::Result<()> {
    for step in 1..=10_000 {
        job.progress("Working", step, 0)?;
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// A thread-local value whose destructor is slow and runs this DLL's code.
struct SlowDrop(Cell<u32>);

/// How long [`SlowDrop`]'s destructor sleeps (ms); 20 unless a host sets it
/// (`mapisync_test_slow_tls_ms`, unload_orders.cpp).
static SLOW_MS: AtomicU32 = AtomicU32::new(20);

/// How long [`LateReporter`] goes on once it has seen its cancellation (ms).
static LATE_MS: AtomicU32 = AtomicU32::new(300);

impl Drop for SlowDrop {
    fn drop(&mut self) {
        std::thread::sleep(Duration::from_millis(SLOW_MS.load(Ordering::SeqCst).into()));
        TLS_DROPS.fetch_add(self.0.get(), Ordering::SeqCst);
    }
}

thread_local! {
    static SLOW: SlowDrop = const { SlowDrop(Cell::new(0)) };
}

/// Touches [`SLOW`] on the worker thread, then reports one step.
#[derive(Debug, Default)]
pub struct SlowTls(DropCount);

#[mapisync::provider]
impl MapiSync for SlowTls {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        SLOW.with(|slow| slow.0.set(1));
        job.progress("Touched the slow thread-local", 1, 1)
    }
}

/// Ignores cancellation until released.
#[derive(Debug, Default)]
pub struct Stubborn(DropCount);

#[mapisync::provider]
impl MapiSync for Stubborn {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        while !RELEASE_STUBBORN.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }
}

/// Shuts the module down from its own worker thread.
#[derive(Debug, Default)]
pub struct ShutsDownOnWorker(DropCount);

#[mapisync::provider]
impl MapiSync for ShutsDownOnWorker {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        // Never waits for this very thread (it counts as exiting).
        let _ = mapisync::lifecycle::shutdown(Duration::MAX);
        Ok(())
    }
}

/// Set by [`KeptReporter`]'s thread just before its report through the kept job.
static KEPT_IN_CALL: AtomicBool = AtomicBool::new(false);
/// How long [`KeptReporter`]'s thread works after the host's `Progress` returned.
static KEPT_STEP_MS: AtomicU32 = AtomicU32::new(200);
/// [`KeptReporter`] threads that ran to their end.
static KEPT_FINISHED: AtomicU32 = AtomicU32::new(0);

/// Keeps its job and reports through it from a thread of its own, which,
/// once the host's `Progress` has returned, goes on in this DLL's code (its
/// next step: 200 ms of work, then its next report), as a reporter loop
/// does. Returns once the report is in flight.
#[derive(Debug, Default)]
pub struct KeptReporter(DropCount);

#[mapisync::provider]
impl MapiSync for KeptReporter {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        let mut kept = std::mem::replace(job, SyncJob::new(job.flags()));
        KEPT_IN_CALL.store(false, Ordering::SeqCst);
        std::thread::spawn(move || {
            KEPT_IN_CALL.store(true, Ordering::SeqCst);
            let _ = kept.progress("kept", 1, 2);
            let step = KEPT_STEP_MS.load(Ordering::SeqCst);
            if step > 0 {
                std::thread::sleep(Duration::from_millis(step.into()));
            }
            let _ = kept.progress("after", 2, 2);
            KEPT_FINISHED.fetch_add(1, Ordering::SeqCst);
        });
        while !KEPT_IN_CALL.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(50));
        Ok(())
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn mapisync_test_kept_step(ms: u32) {
    KEPT_STEP_MS.store(ms, Ordering::SeqCst);
}

#[unsafe(no_mangle)]
pub extern "C" fn mapisync_test_kept_finished() -> u32 {
    KEPT_FINISHED.load(Ordering::SeqCst)
}

mapisync::export_server! {
    KeptReporter => "{6C1F0A05-7B1E-4C2D-9E55-0A2B3C4D5E01}", KeptReporter::default;
    Reporter => "{6C1F0A01-7B1E-4C2D-9E55-0A2B3C4D5E01}", Reporter::default;
    SlowTls => "{6C1F0A02-7B1E-4C2D-9E55-0A2B3C4D5E01}", SlowTls::default;
    Stubborn => "{6C1F0A03-7B1E-4C2D-9E55-0A2B3C4D5E01}", Stubborn::default;
    ShutsDownOnWorker => "{6C1F0A04-7B1E-4C2D-9E55-0A2B3C4D5E01}", ShutsDownOnWorker::default;
    SlowReporter => "{6C1F0A06-7B1E-4C2D-9E55-0A2B3C4D5E01}", SlowReporter::default;
    LateReporter => "{6C1F0A07-7B1E-4C2D-9E55-0A2B3C4D5E01}", LateReporter::default;
    CallsBackReporter => "{6C1F0A08-7B1E-4C2D-9E55-0A2B3C4D5E01}", CallsBackReporter::default;
}

/// Thread-local destructors of [`CALLS_BACK`] that ran to their end.
static CALLS_BACK_DROPS: AtomicU32 = AtomicU32::new(0);

/// A thread-local whose destructor, after 200 ms, calls back into the
/// runtime (`running_workers`, a scope opened and dropped, `drain(0)`).
struct CallsBack(Cell<bool>);

impl Drop for CallsBack {
    fn drop(&mut self) {
        if !self.0.get() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
        let _ = mapisync::lifecycle::running_workers();
        drop(mapisync::lifecycle::Scope::open());
        let _ = mapisync::lifecycle::is_shut_down();
        std::thread::sleep(Duration::from_millis(50));
        CALLS_BACK_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

thread_local! {
    static CALLS_BACK: CallsBack = const { CallsBack(Cell::new(false)) };
}

/// As [`Reporter`], after touching [`CALLS_BACK`].
#[derive(Debug, Default)]
pub struct CallsBackReporter(DropCount);

#[mapisync::provider]
impl MapiSync for CallsBackReporter {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        CALLS_BACK.with(|it| it.0.set(true));
        report_until_cancelled(job)
    }
}

/// [`CallsBack`] destructors that finished.
#[unsafe(no_mangle)]
pub extern "C" fn mapisync_test_calls_back_drops() -> u32 {
    CALLS_BACK_DROPS.load(Ordering::SeqCst)
}

/// As [`Reporter`], but once cancelled it finishes its current step first
/// (`LATE_MS`, 300 ms: a download that ends its chunk) before it returns.
#[derive(Debug, Default)]
pub struct LateReporter(DropCount);

#[mapisync::provider]
impl MapiSync for LateReporter {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        report_until_cancelled(job)
            .inspect_err(|_| std::thread::sleep(Duration::from_millis(LATE_MS.load(Ordering::SeqCst).into())))
    }
}

/// Sets how long the slow thread-local's destructor sleeps (ms).
#[unsafe(no_mangle)]
pub extern "C" fn mapisync_test_slow_tls_ms(ms: u32) {
    SLOW_MS.store(ms, Ordering::SeqCst);
}

/// As [`Reporter`], after touching [`SLOW`] (its worker's thread
/// teardown takes 20 ms, as in scenario 2).
#[derive(Debug, Default)]
pub struct SlowReporter(DropCount);

#[mapisync::provider]
impl MapiSync for SlowReporter {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        report_until_cancelled(touch_slow(job))
    }
}

/// Touches [`SLOW`] on the calling thread (the worker), and passes `job` on.
fn touch_slow(job: &mut SyncJob) -> &mut SyncJob {
    SLOW.with(|slow| slow.0.set(1));
    job
}

/// One scope per store (slot), with the handles it adopted.
static SCOPES: std::sync::Mutex<[Option<Logon>; 4]> = std::sync::Mutex::new([None, None, None, None]);

/// A store's logon: its scope and the handles it adopted.
type Logon = (mapisync::lifecycle::Scope, Vec<mapisync::lifecycle::SyncHandle>);

/// Opens scope `slot` (a store's logon).
#[unsafe(no_mangle)]
pub extern "C" fn mapisync_test_scope_open(slot: u32) {
    SCOPES.lock().unwrap()[slot as usize] = Some((mapisync::lifecycle::Scope::open(), Vec::new()));
}

/// Scope `slot` adopts `sync` (a live IMAPISync the caller holds).
#[unsafe(no_mangle)]
pub extern "C" fn mapisync_test_scope_adopt(slot: u32, sync: *mut core::ffi::c_void) {
    use mapisync::Interface;
    // SAFETY: test: the host passes a live IMAPISync it holds for the call.
    let sync = unsafe { mapisync::IMAPISync::from_raw_borrowed(&sync) }.unwrap();
    let mut scopes = SCOPES.lock().unwrap();
    let (scope, handles) = scopes[slot as usize].as_mut().unwrap();
    handles.push(scope.adopt(sync));
}

/// Drops scope `slot` (the store's Shutdown), wherever it is called.
#[unsafe(no_mangle)]
pub extern "C" fn mapisync_test_scope_drop(slot: u32) {
    let taken = SCOPES.lock().unwrap()[slot as usize].take();
    drop(taken);
}

/// 0 when every worker thread exited, else how many still run.
fn outcome(result: Result<(), usize>) -> u32 {
    result.err().map_or(0, |running| u32::try_from(running).unwrap_or(u32::MAX))
}

/// What a provider's `IMSProvider::Shutdown` does: [`mapisync::lifecycle::shutdown`].
#[unsafe(no_mangle)]
pub extern "C" fn mapisync_test_shutdown(timeout_ms: u32) -> u32 {
    outcome(mapisync::lifecycle::shutdown(Duration::from_millis(timeout_ms.into())))
}

/// [`mapisync::lifecycle::drain`].
#[unsafe(no_mangle)]
pub extern "C" fn mapisync_test_drain(timeout_ms: u32) -> u32 {
    outcome(mapisync::lifecycle::drain(Duration::from_millis(timeout_ms.into())))
}

/// 1 once a shutdown refuses syncs (and so has cancelled the running ones).
#[unsafe(no_mangle)]
pub extern "C" fn mapisync_test_is_shut_down() -> u32 {
    mapisync::lifecycle::is_shut_down().into()
}

/// [`mapisync::lifecycle::reopen`], and [`Stubborn`] waits again.
#[unsafe(no_mangle)]
pub extern "C" fn mapisync_test_reopen() {
    RELEASE_STUBBORN.store(false, Ordering::SeqCst);
    mapisync::lifecycle::reopen();
}

/// [`mapisync::lifecycle::running_workers`].
#[unsafe(no_mangle)]
pub extern "C" fn mapisync_test_running_workers() -> u32 {
    u32::try_from(mapisync::lifecycle::running_workers()).unwrap_or(u32::MAX)
}

/// Lets [`Stubborn`]'s sync return.
#[unsafe(no_mangle)]
pub extern "C" fn mapisync_test_release_stubborn() {
    RELEASE_STUBBORN.store(true, Ordering::SeqCst);
}

/// Providers dropped since this DLL was loaded.
#[unsafe(no_mangle)]
pub extern "C" fn mapisync_test_provider_drops() -> u32 {
    PROVIDER_DROPS.load(Ordering::SeqCst)
}

/// Slow thread-local destructors that finished since this DLL was loaded.
#[unsafe(no_mangle)]
pub extern "C" fn mapisync_test_tls_drops() -> u32 {
    TLS_DROPS.load(Ordering::SeqCst)
}

/// Scope `slot`'s shutdown (its store's Shutdown that waits), then its drop; 0 when drained.
#[unsafe(no_mangle)]
pub extern "C" fn mapisync_test_scope_shutdown(slot: u32, timeout_ms: u32) -> u32 {
    let taken = SCOPES.lock().unwrap()[slot as usize].take();
    let Some((scope, handles)) = taken else { return u32::MAX };
    let result = outcome(scope.shutdown(Duration::from_millis(timeout_ms.into())));
    drop((handles, scope));
    result
}

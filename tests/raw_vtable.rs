//! Drives providers only through raw vtable pointers, as a C host does, and
//! checks every decision of the contract (`docs/contract.md`, "Decisions") and
//! every bad input: HRESULTs, out-parameters and reference counts.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mapisync::{Error, HRESULT, IMAPISync, Interface, MapiSync, SyncJob};
use mapisync_tests::*;

/// What one sync showed the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    flags: u32,
    session: bool,
    callback: bool,
}

/// Records what it sees, then blocks until `release` opens. Counts its drops.
#[derive(Default)]
struct Observed {
    entered: Latch,
    release: Latch,
    seen: Mutex<Vec<Seen>>,
    drops: DropCount,
}

#[mapisync::provider]
impl MapiSync for Observed {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        self.seen.lock().unwrap().push(Seen {
            flags: job.flags().bits(),
            session: job.session().is_some(),
            callback: job.callback().is_some(),
        });
        self.entered.open();
        assert!(self.release.wait(PATIENCE), "the test never released the provider");
        Ok(())
    }
}

struct Panics;

#[mapisync::provider]
impl MapiSync for Panics {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        panic!("the disk caught fire")
    }
}

struct FailsWith(i32);

#[mapisync::provider]
impl MapiSync for FailsWith {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Err(Error::from_hresult(HRESULT(self.0)))
    }
}

/// Warns through `Error`, then reports a count-only progress update.
struct Warns;

#[mapisync::provider]
impl MapiSync for Warns {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        job.error(HRESULT(MAPI_E_NETWORK_ERROR), "slow link")?;
        job.progress_count(2, 5)?;
        Ok(())
    }
}

/// A fresh object as a raw IMAPISync pointer owning one reference.
fn raw(provider: impl Into<IMAPISync>) -> Raw {
    Raw(provider.into().into_raw())
}

/// A provider behind an `Arc`, so the test can watch it while the object owns it.
struct Shared(Arc<Observed>);

#[mapisync::provider]
impl MapiSync for Shared {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        self.0.synchronize_in_background(job)
    }
}

fn observed() -> (Arc<Observed>, Raw) {
    let state = Arc::new(Observed::default());
    (state.clone(), raw(Shared(state)))
}

/// Starts a sync expected to succeed and returns its done event.
fn start(object: Raw, sib: &Sib) -> *mut c_void {
    // SAFETY: test: `object` is a live IMAPISync; `sib` is complete.
    let hr = unsafe { object.synchronize(&*sib.sib) };
    assert_eq!(hr, S_OK);
    let handle = sib.handle();
    assert!(!handle.is_null() && handle != SENTINEL, "S_OK must come with a done event");
    handle
}

/// Calls a sync expected to fail with `expected`, then checks the handle slot was set to NULL.
fn refused(object: Raw, sib: &Sib, expected: i32) {
    // SAFETY: test: `object` is a live IMAPISync; `sib` is complete.
    let hr = unsafe { object.synchronize(&*sib.sib) };
    assert_eq!(hr, expected);
    assert!(sib.handle().is_null(), "*phSyncDoneEvent must be NULL on failure");
}

/// Gives up the test's reference once the worker has given up its own (it
/// releases the object last, after `Done` and the event), and checks that
/// this was the last one.
fn release_last(object: Raw) {
    assert_eq!(object.wait_count(1, PATIENCE), 1, "the worker releases the object");
    assert_eq!(object.release(), 0);
}

fn wait_and_close(handle: *mut c_void) {
    assert!(wait_event(handle, PATIENCE), "the done event was never signalled");
    close_event(handle);
}

fn progress(calls: &[Call]) -> Vec<(Option<String>, u32, u32)> {
    calls
        .iter()
        .filter_map(|call| match call {
            Call::Progress { text, index, max } => Some((text.clone(), *index, *max)),
            _ => None,
        })
        .collect()
}

fn done(calls: &[Call]) -> Vec<(usize, i32, bool)> {
    calls
        .iter()
        .filter_map(|call| match call {
            Call::Done { event, hr, event_was_signalled } => Some((*event, *hr, *event_was_signalled)),
            _ => None,
        })
        .collect()
}

// ---- QueryInterface, AddRef, Release (decision 6) ----

#[test]
fn iunknown_and_imapisync_share_one_identity() {
    let object = raw(Steps::default());
    let (hr, unknown) = object.query(&IID_IUNKNOWN);
    assert_eq!(hr, S_OK);
    assert_eq!(unknown, object.0);
    let (hr, sync) = Raw(unknown).query(&IID_IMAPISYNC);
    assert_eq!(hr, S_OK);
    assert_eq!(sync, object.0);
    assert_eq!(object.count(), 3);
    Raw(unknown).release();
    Raw(sync).release();
    assert_eq!(object.release(), 0);
}

#[test]
fn unknown_iid_is_e_nointerface_with_null_out() {
    let object = raw(Steps::default());
    for iid in [IID_UNRELATED, IID_IMAPISYNC_PROGRESS_CALLBACK, IID_ICLASSFACTORY] {
        let (hr, out) = object.query(&iid);
        assert_eq!(hr, E_NOINTERFACE);
        assert!(out.is_null());
    }
    assert_eq!(object.count(), 1, "a miss takes no reference");
    assert_eq!(object.release(), 0);
}

#[test]
fn null_out_pointer_is_e_pointer() {
    let object = raw(Steps::default());
    // SAFETY: test: a NULL out-pointer is the input under test.
    let hr = unsafe { object.query_raw(&IID_IUNKNOWN, std::ptr::null_mut()) };
    assert_eq!(hr, E_POINTER);
    assert_eq!(object.count(), 1);
    assert_eq!(object.release(), 0);
}

#[test]
fn null_iid_is_e_pointer_with_null_out() {
    let object = raw(Steps::default());
    let mut out = SENTINEL;
    // SAFETY: test: a NULL IID is the input under test.
    let hr = unsafe { object.query_raw(std::ptr::null(), &mut out) };
    assert_eq!(hr, E_POINTER);
    assert!(out.is_null());
    assert_eq!(object.release(), 0);
}

#[test]
fn add_ref_and_release_count_and_free_exactly_once() {
    let provider = Observed::default();
    let drops = provider.drops.watch();
    let object = raw(provider);
    assert_eq!(object.add_ref(), 2);
    assert_eq!(object.add_ref(), 3);
    assert_eq!(object.release(), 2);
    assert_eq!(object.release(), 1);
    assert_eq!(drops.get(), 0);
    assert_eq!(object.release(), 0);
    assert_eq!(drops.get(), 1);
}

// ---- The sync protocol (decisions 1 to 4) ----

#[test]
fn sync_reports_each_step_then_signals_and_calls_done_once() {
    let object = raw(Steps::default());
    let (session, callback) = (HostRef::session(), HostRef::callback(Script::default()));
    let sib = Sib::new(0x80, Some(&session), Some(&callback));
    let handle = start(object, &sib);
    let calls = callback.wait_done(PATIENCE);
    assert_eq!(progress(&calls), (1..=3).map(|i| (Some(format!("Step {i}")), i, 3)).collect::<Vec<_>>());
    assert_eq!(done(&calls), vec![(handle as usize, S_OK, true)], "Done(event, S_OK) once, after the signal");
    assert!(matches!(calls.last(), Some(Call::Done { .. })), "Done is the last call");
    wait_and_close(handle);
    assert_eq!(callback.wait_count(1, PATIENCE), 1, "the worker releases the callback");
    assert_eq!(session.wait_count(1, PATIENCE), 1, "the worker releases the session");
    release_last(object);
}

#[test]
fn call_returns_before_the_work_and_never_reads_mapisib_afterwards() {
    let (state, object) = observed();
    let (session, callback) = (HostRef::session(), HostRef::callback(Script::default()));
    let sib = Sib::new(0x2000_0080, Some(&session), Some(&callback));
    let handle = start(object, &sib);
    // The caller's MAPISIB and handle slot are gone before the worker runs:
    // any later read is a use-after-free that Miri and ASan report.
    drop(sib);
    assert!(state.entered.wait(PATIENCE));
    assert!(!wait_event(handle, Duration::ZERO), "not signalled while the provider runs");
    // Decision 2: the worker holds its own references while it runs.
    assert_eq!(session.count(), 2);
    assert_eq!(callback.count(), 2);
    assert_eq!(object.count(), 2);
    state.release.open();
    wait_and_close(handle);
    callback.wait_done(PATIENCE);
    assert_eq!(session.wait_count(1, PATIENCE), 1);
    assert_eq!(callback.wait_count(1, PATIENCE), 1);
    release_last(object);
    assert_eq!(state.seen.lock().unwrap()[0], Seen { flags: 0x2000_0080, session: true, callback: true });
}

/// Keeps its job past the sync (safe code: `mem::replace`) on a thread of
/// its own that reports progress until the job refuses.
#[derive(Default)]
struct KeepsItsJob {
    reporter: Mutex<Option<std::thread::JoinHandle<i32>>>,
}

#[mapisync::provider]
impl MapiSync for KeepsItsJob {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        let mut kept = std::mem::replace(job, SyncJob::new(job.flags()));
        kept.progress_count(0, 1)?;
        let reporter = std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + PATIENCE;
            while std::time::Instant::now() < deadline {
                if let Err(error) = kept.progress_count(1, 1) {
                    return error.code().0;
                }
                std::thread::yield_now();
            }
            S_OK
        });
        *self.reporter.lock().unwrap() = Some(reporter);
        Ok(())
    }
}

#[test]
fn a_job_kept_past_its_sync_calls_nothing_after_done_and_holds_no_reference() {
    let provider = KeepsItsJob::default();
    let sync: IMAPISync = provider.into();
    let object = Raw(sync.clone().into_raw());
    let (session, callback) = (HostRef::session(), HostRef::callback(Script::default()));
    let sib = Sib::new(0, Some(&session), Some(&callback));
    let handle = start(object, &sib);
    callback.wait_done(PATIENCE);
    let reporter = mapisync::provider_of::<KeepsItsJob>(&sync).unwrap().reporter.lock().unwrap().take();
    let refused = reporter.expect("the provider ran").join().unwrap();
    assert_eq!(refused, E_UNEXPECTED, "the kept job is refused once the sync has ended");
    let calls = callback.calls();
    assert!(matches!(calls.last(), Some(Call::Done { .. })), "nothing reached the host after Done: {calls:?}");
    assert_eq!(done(&calls).len(), 1);
    assert_eq!(callback.wait_count(1, PATIENCE), 1, "the worker released the callback");
    assert_eq!(session.wait_count(1, PATIENCE), 1, "the worker released the session");
    wait_and_close(handle);
    drop(sync);
    release_last(object);
}

#[test]
fn failed_progress_stops_the_sync_and_its_hresult_reaches_done() {
    let object = raw(Steps::default());
    let callback = HostRef::callback(Script { fail_progress_from: Some((2, MAPI_E_USER_CANCEL)), ..Script::default() });
    let sib = Sib::new(0, None, Some(&callback));
    let handle = start(object, &sib);
    let calls = callback.wait_done(PATIENCE);
    assert_eq!(progress(&calls).len(), 2, "the provider stopped at the failed step");
    assert_eq!(done(&calls), vec![(handle as usize, MAPI_E_USER_CANCEL, true)]);
    wait_and_close(handle);
    assert_eq!(callback.wait_count(1, PATIENCE), 1);
    object.release();
}

#[test]
fn failed_error_call_surfaces_to_the_provider() {
    let object = raw(Warns);
    let callback = HostRef::callback(Script { error_returns: Some(MAPI_E_USER_CANCEL), ..Script::default() });
    let sib = Sib::new(0, None, Some(&callback));
    let handle = start(object, &sib);
    let calls = callback.wait_done(PATIENCE);
    assert_eq!(calls[0], Call::Error { hr: MAPI_E_NETWORK_ERROR, text: Some("slow link".into()) });
    assert!(progress(&calls).is_empty(), "the provider stopped after the failed Error call");
    assert_eq!(done(&calls)[0].1, MAPI_E_USER_CANCEL);
    wait_and_close(handle);
    object.release();
}

#[test]
fn warnings_and_count_only_progress_reach_the_host() {
    let object = raw(Warns);
    let callback = HostRef::callback(Script::default());
    let sib = Sib::new(0, None, Some(&callback));
    let handle = start(object, &sib);
    let calls = callback.wait_done(PATIENCE);
    assert_eq!(progress(&calls), vec![(None, 2, 5)], "a count-only update passes NULL text");
    assert_eq!(done(&calls)[0].1, S_OK);
    wait_and_close(handle);
    object.release();
}

#[test]
fn provider_error_reaches_done() {
    let object = raw(FailsWith(MAPI_E_NETWORK_ERROR));
    let callback = HostRef::callback(Script::default());
    let sib = Sib::new(0, None, Some(&callback));
    let handle = start(object, &sib);
    let calls = callback.wait_done(PATIENCE);
    assert_eq!(done(&calls), vec![(handle as usize, MAPI_E_NETWORK_ERROR, true)]);
    assert_eq!(calls.len(), 1, "an error without a message is reported by Done alone");
    wait_and_close(handle);
    object.release();
}

/// Fails with a message for the user.
struct FailsWithText;

#[mapisync::provider]
impl MapiSync for FailsWithText {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Err(Error::new(HRESULT(MAPI_E_NETWORK_ERROR), "cannot reach imap.example.com"))
    }
}

#[test]
fn provider_error_with_a_message_reaches_error_then_done() {
    let object = raw(FailsWithText);
    let callback = HostRef::callback(Script::default());
    let sib = Sib::new(0, None, Some(&callback));
    let handle = start(object, &sib);
    let calls = callback.wait_done(PATIENCE);
    let error = Call::Error { hr: MAPI_E_NETWORK_ERROR, text: Some("cannot reach imap.example.com".into()) };
    assert_eq!(calls[0], error, "Error(hr, text) first");
    assert_eq!(done(&calls[1..]), vec![(handle as usize, MAPI_E_NETWORK_ERROR, true)], "then Done(event, hr)");
    assert_eq!(calls.len(), 2);
    wait_and_close(handle);
    object.release();
}

#[test]
fn provider_error_with_a_success_code_becomes_e_fail() {
    let object = raw(FailsWith(1));
    let callback = HostRef::callback(Script::default());
    let sib = Sib::new(0, None, Some(&callback));
    let handle = start(object, &sib);
    assert_eq!(done(&callback.wait_done(PATIENCE))[0].1, E_FAIL);
    wait_and_close(handle);
    object.release();
}

#[test]
fn host_may_close_the_event_before_the_sync_ends() {
    let (state, object) = observed();
    let callback = HostRef::callback(Script::default());
    let sib = Sib::new(0, None, Some(&callback));
    let handle = start(object, &sib);
    close_event(handle);
    state.release.open();
    let calls = callback.wait_done(PATIENCE);
    assert_eq!(done(&calls).len(), 1);
    assert_eq!(callback.wait_count(1, PATIENCE), 1);
    object.release();
}

/// Swaps the job it was given for an empty one and keeps the host's job
/// after the sync (as a provider's background cache might).
#[derive(Default)]
struct SwapsItsJob {
    kept: Mutex<Option<SyncJob>>,
}

#[mapisync::provider]
impl MapiSync for SwapsItsJob {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        let hosts = std::mem::replace(job, SyncJob::new(mapisync::SyncFlags::empty()));
        *self.kept.lock().unwrap() = Some(hosts);
        Err(Error::from_hresult(HRESULT(MAPI_E_NETWORK_ERROR)))
    }
}

#[test]
fn done_reaches_the_host_whatever_the_provider_does_with_its_job() {
    let object = raw(SwapsItsJob::default());
    let callback = HostRef::callback(Script::default());
    let sib = Sib::new(0, None, Some(&callback));
    let handle = start(object, &sib);
    let calls = callback.wait_done(PATIENCE);
    assert_eq!(done(&calls), vec![(handle as usize, MAPI_E_NETWORK_ERROR, true)], "Done exactly once");
    wait_and_close(handle);
    // The provider still holds the host's job, but not the host's callback:
    // the worker released it with Done.
    assert_eq!(callback.wait_count(1, PATIENCE), 1, "the worker released the callback");
    assert_eq!(object.wait_count(1, PATIENCE), 1);
    // SAFETY: test: `object` is a live SwapsItsJob object, held by the test.
    let sync = unsafe { IMAPISync::from_raw_borrowed(&object.0) }.unwrap();
    let provider = mapisync::provider_of::<SwapsItsJob>(sync).unwrap();
    let mut kept = provider.kept.lock().unwrap().take().expect("the provider kept the job");
    assert_eq!(kept.progress("late", 1, 1).unwrap_err().code(), HRESULT(E_UNEXPECTED));
    assert_eq!(callback.calls().len(), 1, "nothing reached the host after Done");
    drop(kept);
    release_last(object);
}

/// Returns at once: the shortest path from the worker's start to `Done`.
struct Immediate;

#[mapisync::provider]
impl MapiSync for Immediate {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

/// A host callback in the common C++ shape: the host's done-event variable
/// is what it passed as `phSyncDoneEvent`, and `Done` compares the handle it
/// receives with that variable (`if (h == m_hSync) ...`).
#[repr(C)]
struct SlotHost {
    vtbl: &'static ICallbackVtbl,
    refs: std::sync::atomic::AtomicU32,
    /// The host's variable (the MAPISIB's `phSyncDoneEvent`).
    slot: *mut *mut c_void,
    dones: AtomicUsize,
    mismatches: AtomicUsize,
}

static SLOT_HOST_VTBL: ICallbackVtbl = callback_vtbl::<SlotHost>();

// SAFETY: CallbackObject: `#[repr(C)]` with the vtable first; the test makes
// it with Box::into_raw (and, holding the last reference, frees it itself).
unsafe impl CallbackObject for SlotHost {
    fn refs(&self) -> &std::sync::atomic::AtomicU32 {
        &self.refs
    }

    fn done(&self, event: *mut c_void, _: i32) -> i32 {
        // A plain read, as a C++ host's `m_hSync` is: decision 1 makes the
        // runtime's write happen before the worker starts.
        // SAFETY: MAPISIB: the slot outlives every sync the test starts with it.
        if unsafe { self.slot.read() } != event {
            self.mismatches.fetch_add(1, Ordering::Relaxed);
        }
        self.dones.fetch_add(1, Ordering::Release);
        S_OK
    }
}

#[test]
fn done_sees_its_handle_already_in_the_hosts_variable() {
    // Miri's data-race detector needs only a few runs to see an unordered write.
    let syncs = if cfg!(miri) { 3 } else { 3000 };
    let object = raw(Immediate);
    let mut sib = Sib::new(0, None, None);
    let host = Box::into_raw(Box::new(SlotHost {
        vtbl: &SLOT_HOST_VTBL,
        refs: std::sync::atomic::AtomicU32::new(1),
        slot: sib.sib.phSyncDoneEvent,
        dones: AtomicUsize::new(0),
        mismatches: AtomicUsize::new(0),
    }));
    sib.sib.punkCallBack = host.cast();
    // SAFETY: test: the test owns `host` and frees it only at the end.
    let (dones, refs) = unsafe { (&(*host).dones, &(*host).refs) };
    for run in 1..=syncs {
        let handle = start(object, &sib);
        assert!(wait_until(|| dones.load(Ordering::Acquire) == run), "Done never came");
        wait_and_close(handle);
    }
    assert!(wait_until(|| refs.load(Ordering::Acquire) == 1), "the worker releases the callback");
    // SAFETY: test: Box: the test owns `host` and frees it only below.
    let mismatches = unsafe { &(*host).mismatches }.load(Ordering::Relaxed);
    assert_eq!(mismatches, 0, "{mismatches} of {syncs} Done calls found another value in *phSyncDoneEvent");
    // SAFETY: Box: the test's reference is the last one; the object came from Box::into_raw.
    drop(unsafe { Box::from_raw(host) });
    release_last(object);
}

/// Polls `done` until it holds or [`PATIENCE`] passes.
fn wait_until(done: impl Fn() -> bool) -> bool {
    let deadline = std::time::Instant::now() + PATIENCE;
    while !done() {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::yield_now();
    }
    true
}

/// Blocks until released; its Drop records whether the method had returned.
#[derive(Default)]
struct Lingers {
    entered: Arc<Latch>,
    release: Arc<Latch>,
    returned: Arc<AtomicBool>,
    drops_after_return: Arc<AtomicUsize>,
    drops: DropCount,
}

impl Drop for Lingers {
    fn drop(&mut self) {
        if self.returned.load(Ordering::SeqCst) {
            self.drops_after_return.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[mapisync::provider]
impl MapiSync for Lingers {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        self.entered.open();
        assert!(self.release.wait(PATIENCE));
        self.returned.store(true, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn releasing_the_last_outside_reference_keeps_the_object_alive_until_the_worker_ends() {
    let provider = Lingers::default();
    let (entered, release) = (provider.entered.clone(), provider.release.clone());
    let (drops, drops_after_return) = (provider.drops.watch(), provider.drops_after_return.clone());
    let object = raw(provider);
    let callback = HostRef::callback(Script::default());
    let sib = Sib::new(0, None, Some(&callback));
    let handle = start(object, &sib);
    assert!(entered.wait(PATIENCE));
    assert_eq!(object.release(), 1, "the worker's reference remains");
    assert_eq!(drops.get(), 0, "alive while the worker runs");
    release.open();
    wait_and_close(handle);
    callback.wait_done(PATIENCE);
    assert_eq!(drops.wait_for(1, PATIENCE), 1, "freed once, by the worker's release");
    assert_eq!(drops_after_return.load(Ordering::SeqCst), 1, "freed only after the method returned");
}

// ---- Bad input (decision 5) ----

#[test]
fn null_mapisib_is_e_invalidarg() {
    let object = raw(Steps::default());
    // SAFETY: test: NULL is the input under test.
    assert_eq!(unsafe { object.synchronize(std::ptr::null()) }, E_INVALIDARG);
    assert_eq!(object.count(), 1, "nothing was started");
    object.release();
}

#[test]
fn short_ulsize_is_e_invalidarg_and_nothing_past_it_is_read() {
    let object = raw(Steps::default());
    let full = size_of::<Mapisib>() as u32;
    for size in (4..full).step_by(4) {
        // Exactly `size` bytes: a read past ulSize would leave the allocation (Miri/ASan).
        let mut short = vec![0u32; size as usize / 4].into_boxed_slice();
        short[0] = size;
        // SAFETY: test: the runtime may read `size` bytes, which the box holds.
        let hr = unsafe { object.synchronize(short.as_ptr() as *const Mapisib) };
        assert_eq!(hr, E_INVALIDARG, "ulSize = {size}");
    }
    // A complete structure that claims one byte too few: the handle slot is neither read nor written.
    let callback = HostRef::callback(Script::default());
    let sib = Sib::new(0, None, Some(&callback));
    let mut short = Sib::new(0, None, Some(&callback));
    short.sib.ulSize = full - 1;
    // SAFETY: test: a complete MAPISIB with a short ulSize.
    assert_eq!(unsafe { object.synchronize(&*short.sib) }, E_INVALIDARG);
    assert_eq!(short.handle(), SENTINEL);
    drop(sib);
    assert_eq!(callback.count(), 1, "no reference was taken");
    object.release();
}

#[test]
fn larger_ulsize_from_a_newer_host_is_accepted() {
    #[repr(C)]
    struct Newer {
        sib: Mapisib,
        extra: [u64; 8],
    }
    let object = raw(Steps::default());
    let callback = HostRef::callback(Script::default());
    let mut handle: *mut c_void = SENTINEL;
    let newer = Newer {
        sib: Mapisib {
            ulSize: size_of::<Newer>() as u32,
            ulFlags: 0,
            psesSync: std::ptr::null_mut(),
            punkCallBack: callback.as_raw(),
            phSyncDoneEvent: &mut handle,
        },
        extra: [u64::MAX; 8],
    };
    // SAFETY: test: a larger, complete structure.
    assert_eq!(unsafe { object.synchronize(&newer.sib) }, S_OK);
    assert_eq!(done(&callback.wait_done(PATIENCE))[0].1, S_OK);
    wait_and_close(handle);
    let _ = newer.extra;
    object.release();
}

#[test]
fn null_event_pointer_is_e_invalidarg_and_starts_nothing() {
    let (state, object) = observed();
    let callback = HostRef::callback(Script::default());
    let mut sib = Sib::new(0, None, Some(&callback));
    sib.sib.phSyncDoneEvent = std::ptr::null_mut();
    // SAFETY: test: a NULL handle slot is the input under test.
    assert_eq!(unsafe { object.synchronize(&*sib.sib) }, E_INVALIDARG);
    assert_eq!(callback.count(), 1, "no reference was taken");
    // Had a worker started, the object would be busy now (its provider blocks until released).
    let sib = Sib::new(0, None, Some(&callback));
    let handle = start(object, &sib);
    state.release.open();
    wait_and_close(handle);
    callback.wait_done(PATIENCE);
    assert_eq!(state.seen.lock().unwrap().len(), 1, "exactly one sync ran");
    object.release();
}

#[test]
fn null_callback_still_runs_the_sync() {
    let (state, object) = observed();
    state.release.open();
    let sib = Sib::new(0, None, None);
    let handle = start(object, &sib);
    wait_and_close(handle);
    assert_eq!(state.seen.lock().unwrap()[0], Seen { flags: 0, session: false, callback: false });
    object.release();
}

#[test]
fn callback_refusing_the_interface_still_runs_the_sync_and_keeps_no_reference() {
    let (state, object) = observed();
    state.release.open();
    let refusing = HostRef::callback(Script { refuse_query: true, ..Script::default() });
    let sib = Sib::new(0, None, Some(&refusing));
    let handle = start(object, &sib);
    wait_and_close(handle);
    assert!(!state.seen.lock().unwrap()[0].callback, "progress goes nowhere");
    assert!(refusing.calls().is_empty());
    assert_eq!(refusing.wait_count(1, PATIENCE), 1);
    object.release();
}

#[test]
fn null_session_is_none_for_the_provider_and_unknown_flags_are_kept() {
    let (state, object) = observed();
    state.release.open();
    let sib = Sib::new(0xFFFF_FFFF, None, None);
    let handle = start(object, &sib);
    wait_and_close(handle);
    assert_eq!(state.seen.lock().unwrap()[0], Seen { flags: 0xFFFF_FFFF, session: false, callback: false });
    object.release();
}

#[test]
fn second_call_while_running_is_busy_and_the_next_after_the_event_succeeds() {
    let (state, object) = observed();
    let callback = HostRef::callback(Script::default());
    let first = Sib::new(0, None, Some(&callback));
    let handle = start(object, &first);
    assert!(state.entered.wait(PATIENCE));
    let second = Sib::new(0, None, Some(&callback));
    refused(object, &second, MAPI_E_BUSY);
    assert_eq!(callback.count(), 2, "the busy call took no reference");
    state.release.open();
    wait_and_close(handle);
    // The sync has ended once its event is signalled: a new one may start.
    let third = Sib::new(0, None, Some(&callback));
    let handle = start(object, &third);
    wait_and_close(handle);
    assert_eq!(callback.wait_count(1, PATIENCE), 1);
    let dones = callback.calls().iter().filter(|c| matches!(c, Call::Done { .. })).count();
    assert_eq!(dones, 2, "one Done per S_OK, none for MAPI_E_BUSY");
    object.release();
}

#[test]
fn panic_becomes_e_unexpected_through_error_and_done_and_the_object_lives_on() {
    let object = raw(Panics);
    for _ in 0..2 {
        let callback = HostRef::callback(Script::default());
        let sib = Sib::new(0, None, Some(&callback));
        let handle = start(object, &sib);
        let calls = callback.wait_done(PATIENCE);
        match &calls[0] {
            Call::Error { hr, text } => {
                assert_eq!(*hr, E_UNEXPECTED);
                assert!(text.as_deref().unwrap_or_default().contains("the disk caught fire"), "{text:?}");
            }
            other => panic!("expected Error first, got {other:?}"),
        }
        assert_eq!(done(&calls), vec![(handle as usize, E_UNEXPECTED, true)]);
        wait_and_close(handle);
        assert_eq!(callback.wait_count(1, PATIENCE), 1);
    }
    release_last(object);
}

//! The fuzzed scenario: an arbitrary `MAPISIB` (size, flags, NULL or valid
//! session, callback and out-pointer), an arbitrary host (callback methods
//! answering arbitrary HRESULTs, a callback refusing QueryInterface, no
//! callback), an arbitrary provider script (progress, errors, an `Err` with
//! any HRESULT, a panic), an optional second call while the first sync runs,
//! and a QueryInterface for an arbitrary IID.
//!
//! [`run`] drives one provider object through raw vtable calls as a C host
//! would and checks the invariants the contract promises (`imapisync.md`,
//! "Decisions"): no crash; the documented HRESULT for the input; on failure
//! `*phSyncDoneEvent` NULL when the pointer is usable (untouched when it lies
//! past `ulSize`), no sync started, no callback call; on S_OK a done event
//! that is signalled, and `Done(event, hr)` exactly once with the HRESULT
//! the provider's script and the host's answers imply; MAPI_E_BUSY for a
//! second call while one runs; reference counts of the host's objects and
//! the provider's balanced, the provider dropped exactly once, after its
//! method returned. A broken invariant panics (libFuzzer reports a crash).

use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use arbitrary::Arbitrary;
use mapisync::abi::{IID_IMAPISync, IID_IMAPISyncProgressCallback, IID_IUnknown, IMAPISyncProgressCallback_Vtbl};
use mapisync::{
    E_FAIL, E_INVALIDARG, E_NOINTERFACE, E_UNEXPECTED, Error, HRESULT, IMAPISync, Interface, MAPI_E_BUSY, MAPISIB,
    MapiSync, S_OK, SyncJob,
};
use windows_core::{GUID, IUnknown_Vtbl};

/// How long a started sync may take before the run counts as hung.
const PATIENCE: Duration = Duration::from_secs(20);
/// A value no runtime writes to `*phSyncDoneEvent`.
const SENTINEL: usize = 0x5EAF_00D5;

/// One fuzzed run.
#[derive(Arbitrary, Debug)]
pub struct Scenario {
    /// The MAPISIB argument.
    pub sib: Shape,
    /// `ulFlags`, any bits.
    pub flags: u32,
    /// Pass a session object (else NULL).
    pub session: bool,
    /// What `punkCallBack` is.
    pub callback: Callback,
    /// Pass a writable `phSyncDoneEvent` (else NULL).
    pub event_out: bool,
    /// What the provider does, in order (at most 12 steps are used).
    pub steps: Vec<Step>,
    /// Call SynchronizeInBackground again while the first sync runs.
    pub second_call: bool,
    /// An IID to query the object for.
    pub query: u128,
}

/// The MAPISIB pointer and its `ulSize`.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Shape {
    /// `psibpb` NULL.
    Null,
    /// `ulSize` below the structure's size; only that many bytes are allocated.
    Short(u8),
    /// The exact size.
    Exact,
    /// A newer host's larger structure: this many extra bytes.
    Longer(u8),
}

/// The host's callback object.
#[derive(Arbitrary, Debug, Clone)]
pub enum Callback {
    /// `punkCallBack` NULL.
    Null,
    /// An object answering only IUnknown.
    Refusing,
    /// An IMAPISyncProgressCallback whose methods answer these HRESULTs in
    /// turn (S_OK once a list runs out).
    Answering {
        /// Answers to `Progress`.
        progress: Vec<i32>,
        /// Answers to `Error`.
        error: Vec<i32>,
        /// The answer to `Done` (which the runtime ignores).
        done: i32,
    },
}

/// One step of the provider's script.
#[derive(Arbitrary, Debug, Clone)]
pub enum Step {
    /// `job.progress(text, index, max)?`.
    Progress(String, u32, u32),
    /// `job.progress_count(index, max)?`.
    ProgressCount(u32, u32),
    /// `job.error(hr, text)?`.
    Error(i32, String),
    /// `return Err(hr)`.
    Fail(i32),
    /// `panic!`.
    Panic,
}

/// The payload of the provider's scripted panics, which the fuzz target's
/// panic hook lets through (any other panic aborts, as libFuzzer wants).
pub struct ScriptedPanic;

/// Installs a panic hook that stays quiet for [`ScriptedPanic`] and keeps
/// the previous hook (libFuzzer's abort) for every other panic.
pub fn quiet_scripted_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.payload().is::<ScriptedPanic>() {
            previous(info);
        }
    }));
}

// ---------------------------------------------------------------------------
// The provider.

/// What the provider's runs left behind; outlives the provider.
#[derive(Default)]
struct Trace {
    state: Mutex<TraceState>,
    changed: Condvar,
}

#[derive(Default)]
struct TraceState {
    entered: usize,
    returned: usize,
    drops: usize,
    dropped_after_return: bool,
    /// The provider waits while this is set (to hold a sync for a second call).
    held: bool,
}

impl Trace {
    fn lock(&self) -> std::sync::MutexGuard<'_, TraceState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, change: impl FnOnce(&mut TraceState)) {
        change(&mut self.lock());
        self.changed.notify_all();
    }

    fn wait(&self, until: impl Fn(&TraceState) -> bool) -> bool {
        let guard = self.lock();
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, PATIENCE, |state| !until(state))
            .unwrap_or_else(PoisonError::into_inner);
        until(&guard)
    }
}

struct Scripted {
    steps: Vec<Step>,
    trace: Arc<Trace>,
}

/// Marks the method as returned when dropped, even by a panic's unwinding.
struct Returned<'a>(&'a Trace);

impl Drop for Returned<'_> {
    fn drop(&mut self) {
        self.0.update(|state| state.returned += 1);
    }
}

#[mapisync::provider]
impl MapiSync for Scripted {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        let _returned = Returned(&self.trace);
        self.trace.update(|state| state.entered += 1);
        assert!(self.trace.wait(|state| !state.held), "the harness never let the sync go on");
        for step in &self.steps {
            match step {
                Step::Progress(text, index, max) => job.progress(text, *index, *max)?,
                Step::ProgressCount(index, max) => job.progress_count(*index, *max)?,
                Step::Error(hr, text) => job.error(HRESULT(*hr), text)?,
                Step::Fail(hr) => return Err(Error::from_hresult(HRESULT(*hr))),
                Step::Panic => std::panic::panic_any(ScriptedPanic),
            }
        }
        Ok(())
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.trace.update(|state| {
            state.dropped_after_return = state.entered == state.returned;
            state.drops += 1;
        });
    }
}

// ---------------------------------------------------------------------------
// The host's objects, written as a C host writes them.

#[derive(Clone, Debug, PartialEq, Eq)]
enum Call {
    Progress,
    Error(i32),
    Done { event: usize, hr: i32 },
}

#[repr(C)]
struct HostObject {
    vtbl: &'static IMAPISyncProgressCallback_Vtbl,
    refs: AtomicU32,
    answers_callback: bool,
    progress: Vec<i32>,
    error: Vec<i32>,
    done: i32,
    progress_calls: AtomicUsize,
    error_calls: AtomicUsize,
    calls: Mutex<Vec<Call>>,
    changed: Condvar,
}

static HOST_VTBL: IMAPISyncProgressCallback_Vtbl = IMAPISyncProgressCallback_Vtbl {
    base__: IUnknown_Vtbl { QueryInterface: host_query, AddRef: host_add_ref, Release: host_release },
    Progress: host_progress,
    Error: host_error,
    Done: host_done,
};

/// # Safety
/// COM: `this` is a live HostObject.
unsafe fn host<'a>(this: *mut c_void) -> &'a HostObject {
    // SAFETY: COM: the caller holds a reference; the vtable pointer is at offset 0 (repr(C)).
    unsafe { &*(this as *const HostObject) }
}

unsafe extern "system" fn host_query(this: *mut c_void, iid: *const GUID, out: *mut *mut c_void) -> HRESULT {
    // SAFETY: COM: the runtime passes a live object and valid pointers.
    unsafe {
        let object = host(this);
        let iid = *iid;
        if iid == IID_IUnknown || (iid == IID_IMAPISyncProgressCallback && object.answers_callback) {
            object.refs.fetch_add(1, Ordering::Relaxed);
            *out = this;
            S_OK
        } else {
            *out = std::ptr::null_mut();
            E_NOINTERFACE
        }
    }
}

unsafe extern "system" fn host_add_ref(this: *mut c_void) -> u32 {
    // SAFETY: COM: the caller holds a reference.
    unsafe { host(this) }.refs.fetch_add(1, Ordering::Relaxed) + 1
}

unsafe extern "system" fn host_release(this: *mut c_void) -> u32 {
    // SAFETY: COM: the caller gives up a reference it holds.
    let object = unsafe { host(this) };
    let left = object.refs.fetch_sub(1, Ordering::AcqRel) - 1;
    if left == 0 {
        // SAFETY: Box: the last reference; the object came from Box::into_raw.
        drop(unsafe { Box::from_raw(this as *mut HostObject) });
    }
    // Nothing of `object` is touched after the decrement: once this
    // reference is given up, another thread may free the object.
    left
}

impl HostObject {
    fn record(&self, call: Call) {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner).push(call);
        self.changed.notify_all();
    }
}

unsafe extern "system" fn host_progress(this: *mut c_void, text: *const u16, _index: u32, _max: u32) -> HRESULT {
    // SAFETY: COM: the caller holds a reference.
    let object = unsafe { host(this) };
    assert!(object.answers_callback, "Progress called on an object that refused the callback interface");
    if !text.is_null() {
        // The text must be NUL-terminated: read it (ASan catches an overrun).
        let mut len = 0;
        // SAFETY: the contract: NUL-terminated UTF-16.
        while unsafe { *text.add(len) } != 0 {
            len += 1;
        }
    }
    let call = object.progress_calls.fetch_add(1, Ordering::Relaxed);
    object.record(Call::Progress);
    HRESULT(object.progress.get(call).copied().unwrap_or(0))
}

unsafe extern "system" fn host_error(this: *mut c_void, hr: HRESULT, text: *const u16) -> HRESULT {
    // SAFETY: COM: the caller holds a reference.
    let object = unsafe { host(this) };
    assert!(object.answers_callback, "Error called on an object that refused the callback interface");
    if !text.is_null() {
        let mut len = 0;
        // SAFETY: the contract: NUL-terminated UTF-16.
        while unsafe { *text.add(len) } != 0 {
            len += 1;
        }
    }
    let call = object.error_calls.fetch_add(1, Ordering::Relaxed);
    object.record(Call::Error(hr.0));
    HRESULT(object.error.get(call).copied().unwrap_or(0))
}

unsafe extern "system" fn host_done(this: *mut c_void, event: *mut c_void, hr: HRESULT) -> HRESULT {
    // SAFETY: COM: the caller holds a reference.
    let object = unsafe { host(this) };
    assert!(object.answers_callback, "Done called on an object that refused the callback interface");
    object.record(Call::Done { event: event as usize, hr: hr.0 });
    HRESULT(object.done)
}

/// The harness's own reference to a host object.
struct HostRef(*mut HostObject);

impl HostRef {
    fn new(answers_callback: bool, progress: Vec<i32>, error: Vec<i32>, done: i32) -> Self {
        Self(Box::into_raw(Box::new(HostObject {
            vtbl: &HOST_VTBL,
            refs: AtomicU32::new(1),
            answers_callback,
            progress,
            error,
            done,
            progress_calls: AtomicUsize::new(0),
            error_calls: AtomicUsize::new(0),
            calls: Mutex::new(Vec::new()),
            changed: Condvar::new(),
        })))
    }

    fn raw(&self) -> *mut c_void {
        self.0.cast()
    }

    fn object(&self) -> &HostObject {
        // SAFETY: COM: `self` holds a reference.
        unsafe { &*self.0 }
    }

    fn count(&self) -> u32 {
        self.object().refs.load(Ordering::Acquire)
    }

    fn calls(&self) -> Vec<Call> {
        self.object().calls.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Waits until the count is back to one (only the harness's reference).
    fn wait_alone(&self) -> bool {
        let deadline = std::time::Instant::now() + PATIENCE;
        while self.count() != 1 && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        self.count() == 1
    }
}

impl Drop for HostRef {
    fn drop(&mut self) {
        // SAFETY: COM: `self` owns one reference and gives it up once.
        unsafe { host_release(self.raw()) };
    }
}

// ---------------------------------------------------------------------------
// The provider object, through raw calls.

struct Raw(*mut c_void);

impl Raw {
    fn vtbl(&self) -> &mapisync::abi::IMAPISync_Vtbl {
        // SAFETY: COM: a live interface pointer points to its vtable pointer.
        unsafe { &**(self.0 as *const *const mapisync::abi::IMAPISync_Vtbl) }
    }

    fn query(&self, iid: &GUID) -> (HRESULT, *mut c_void) {
        let mut out = SENTINEL as *mut c_void;
        // SAFETY: COM: `self` is live; `iid` and `out` are valid.
        let hr = unsafe { (self.vtbl().base__.QueryInterface)(self.0, iid, &mut out) };
        (hr, out)
    }

    fn release(&self) -> u32 {
        // SAFETY: COM: the caller gives up a reference it holds.
        unsafe { (self.vtbl().base__.Release)(self.0) }
    }

    fn count(&self) -> u32 {
        // SAFETY: COM: `self` is live; the reference taken is given back at once.
        unsafe {
            let n = (self.vtbl().base__.AddRef)(self.0);
            (self.vtbl().base__.Release)(self.0);
            n - 1
        }
    }

    /// # Safety
    /// `sib` is NULL or readable for its `ulSize` bytes, with valid pointers.
    unsafe fn synchronize(&self, sib: *const MAPISIB) -> HRESULT {
        // SAFETY: COM: `self` is a live IMAPISync; the caller vouches for `sib`.
        unsafe { (self.vtbl().SynchronizeInBackground)(self.0, sib) }
    }
}

/// The bytes of a MAPISIB of `size` bytes (exactly that many are allocated,
/// so AddressSanitizer catches a read past `ulSize`).
fn sib_bytes(size: usize, flags: u32, session: *mut c_void, callback: *mut c_void, out: *mut *mut c_void) -> Vec<u8> {
    let mut full = Vec::with_capacity(MAPISIB::SIZE as usize);
    full.extend_from_slice(&(size as u32).to_ne_bytes());
    full.extend_from_slice(&flags.to_ne_bytes());
    for pointer in [session as usize, callback as usize, out as usize] {
        full.extend_from_slice(&pointer.to_ne_bytes());
    }
    assert_eq!(full.len(), MAPISIB::SIZE as usize);
    full.resize(size.max(full.len()), 0xA5);
    full.truncate(size.max(4));
    full
}

/// The `Done` HRESULT the script and the host's answers imply, and the
/// number of `Progress` and `Error` calls before it.
fn expected_outcome(steps: &[Step], callback: &Callback) -> (HRESULT, usize, usize) {
    let (progress, error) = match callback {
        Callback::Answering { progress, error, .. } => (Some(progress), Some(error)),
        _ => (None, None),
    };
    let (mut progress_calls, mut error_calls) = (0, 0);
    for step in steps {
        let answer = match step {
            Step::Progress(..) | Step::ProgressCount(..) => progress.map(|answers| {
                progress_calls += 1;
                answers.get(progress_calls - 1).copied().unwrap_or(0)
            }),
            Step::Error(..) => error.map(|answers| {
                error_calls += 1;
                answers.get(error_calls - 1).copied().unwrap_or(0)
            }),
            // An Err carrying a success code is still a failure: E_FAIL.
            Step::Fail(hr) => return (if *hr >= 0 { E_FAIL } else { HRESULT(*hr) }, progress_calls, error_calls),
            // The runtime reports the panic through Error, then Done(E_UNEXPECTED).
            Step::Panic => return (E_UNEXPECTED, progress_calls, error_calls + usize::from(error.is_some())),
        };
        if let Some(answer) = answer.filter(|answer| *answer < 0) {
            return (HRESULT(answer), progress_calls, error_calls);
        }
    }
    (S_OK, progress_calls, error_calls)
}

/// The threads of this process now (Linux: the entries of /proc/self/task).
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |tasks| tasks.count())
}

/// Runs one scenario and checks every invariant; panics if one breaks.
pub fn run(scenario: &Scenario) {
    let threads_before = threads();
    let steps: Vec<Step> = scenario.steps.iter().take(12).cloned().collect();
    let trace = Arc::new(Trace::default());
    let hold = scenario.second_call;
    trace.update(|state| state.held = hold);
    let sync: IMAPISync = Scripted { steps: steps.clone(), trace: trace.clone() }.into();
    let object = Raw(sync.into_raw());

    // QueryInterface for an arbitrary IID.
    let iid = GUID::from_u128(scenario.query);
    let (hr, out) = object.query(&iid);
    if iid == IID_IUnknown || iid == IID_IMAPISync {
        assert_eq!((hr, out), (S_OK, object.0));
        Raw(out).release();
    } else {
        assert_eq!((hr, out), (E_NOINTERFACE, std::ptr::null_mut()), "QueryInterface({iid:?})");
    }
    assert_eq!(object.count(), 1, "QueryInterface left the count changed");

    let session = scenario.session.then(|| HostRef::new(false, Vec::new(), Vec::new(), 0));
    let callback = match &scenario.callback {
        Callback::Null => None,
        Callback::Refusing => Some(HostRef::new(false, Vec::new(), Vec::new(), 0)),
        Callback::Answering { progress, error, done } => {
            Some(HostRef::new(true, progress.clone(), error.clone(), *done))
        }
    };
    let mut handle = SENTINEL as *mut c_void;
    let out_pointer: *mut *mut c_void = if scenario.event_out { &mut handle } else { std::ptr::null_mut() };
    let full = MAPISIB::SIZE as usize;
    let size = match scenario.sib {
        Shape::Null => 0,
        Shape::Short(n) => usize::from(n) % full,
        Shape::Exact => full,
        Shape::Longer(extra) => full + usize::from(extra),
    };
    let bytes = sib_bytes(
        size,
        scenario.flags,
        session.as_ref().map_or(std::ptr::null_mut(), HostRef::raw),
        callback.as_ref().map_or(std::ptr::null_mut(), HostRef::raw),
        out_pointer,
    );
    let sib: *const MAPISIB = match scenario.sib {
        Shape::Null => std::ptr::null(),
        _ => bytes.as_ptr().cast(),
    };
    let expected_start = if sib.is_null() || size < full || !scenario.event_out { E_INVALIDARG } else { S_OK };
    if expected_start != S_OK {
        trace.update(|state| state.held = false);
    }

    // SAFETY: harness: `sib` is NULL or `size` readable bytes holding valid pointers.
    let started = unsafe { object.synchronize(sib) };
    assert_eq!(started, expected_start, "{:?}", scenario.sib);
    // SAFETY: harness: `handle` is a local the runtime may have written.
    let handle_now = unsafe { std::ptr::read_volatile(&handle) };

    if started != S_OK {
        if scenario.event_out && size >= full {
            assert!(handle_now.is_null(), "*phSyncDoneEvent not NULL after {started:?}");
        } else {
            assert_eq!(handle_now as usize, SENTINEL, "the out-pointer past ulSize was written");
        }
        assert_eq!(trace.lock().entered, 0, "a refused call started the provider");
        for host in session.iter().chain(callback.iter()) {
            assert_eq!(host.count(), 1, "a refused call kept a host reference");
            assert!(host.calls().is_empty(), "a refused call called the host");
        }
    } else {
        assert!(!handle_now.is_null() && handle_now as usize != SENTINEL, "S_OK without a done event");
        if hold {
            // A second call while the first sync is held inside the provider.
            assert!(trace.wait(|state| state.entered == 1));
            let mut second_handle = SENTINEL as *mut c_void;
            let second =
                sib_bytes(full, scenario.flags, std::ptr::null_mut(), std::ptr::null_mut(), &mut second_handle);
            // SAFETY: harness: a complete MAPISIB.
            assert_eq!(unsafe { object.synchronize(second.as_ptr().cast()) }, MAPI_E_BUSY);
            assert!(second_handle.is_null(), "*phSyncDoneEvent not NULL after MAPI_E_BUSY");
            trace.update(|state| state.held = false);
        }
        // SAFETY: harness: a done event the runtime just handed over, waited on and closed once.
        unsafe {
            assert_eq!(
                mapisync::event::mapisync_wait_event(handle_now, PATIENCE.as_millis() as u32),
                0,
                "never signalled"
            );
            assert_eq!(mapisync::event::mapisync_close_event(handle_now), 1);
        }
    }

    // Let go of the object; it lives until its worker is done, then drops once.
    object.release();
    assert!(trace.wait(|state| state.drops > 0), "the provider was never dropped");
    {
        let state = trace.lock();
        assert_eq!(state.drops, 1);
        assert!(state.dropped_after_return, "dropped while its method ran");
        assert_eq!(state.entered, usize::from(started == S_OK), "one run per S_OK");
    }
    for host in session.iter().chain(callback.iter()) {
        assert!(host.wait_alone(), "the worker kept a host reference (count {})", host.count());
    }
    // The worker thread has let go of everything; wait until it has exited
    // too, so LeakSanitizer's check after this input never sees a thread
    // halfway through its exit (its thread-local destructor list).
    let deadline = std::time::Instant::now() + PATIENCE;
    while threads() > threads_before && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    if let (Some(callback), Callback::Answering { .. }) = (&callback, &scenario.callback) {
        let calls = callback.calls();
        let done: Vec<&Call> = calls.iter().filter(|call| matches!(call, Call::Done { .. })).collect();
        if started == S_OK {
            let (hr, progress_calls, error_calls) = expected_outcome(&steps, &scenario.callback);
            assert_eq!(done, vec![&Call::Done { event: handle_now as usize, hr: hr.0 }], "{calls:?}");
            assert!(matches!(calls.last(), Some(Call::Done { .. })), "a call after Done: {calls:?}");
            assert_eq!(calls.iter().filter(|call| matches!(call, Call::Progress)).count(), progress_calls);
            assert_eq!(calls.iter().filter(|call| matches!(call, Call::Error(_))).count(), error_calls);
        } else {
            assert!(calls.is_empty());
        }
    }
}

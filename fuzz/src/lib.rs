//! The fuzzed scenario: an arbitrary `MAPISIB` (size, flags, NULL or valid
//! session, callback and out-pointer), an arbitrary host (callback methods
//! answering arbitrary HRESULTs, a callback refusing QueryInterface, no
//! callback), an arbitrary provider script (progress, errors, an `Err` with
//! any HRESULT, a panic), an optional second call while the first sync runs,
//! and a QueryInterface for an arbitrary IID.
//!
//! [`run`] drives one provider object through raw vtable calls as a C host
//! would and checks the invariants the contract promises (`docs/contract.md`,
//! "Decisions"): no crash; the documented HRESULT for the input; on failure
//! `*phSyncDoneEvent` NULL when the pointer is usable (untouched when it lies
//! past `ulSize`), no sync started, no callback call; on S_OK a done event
//! that is signalled, and `Done(event, hr)` exactly once with the HRESULT
//! the provider's script and the host's answers imply; MAPI_E_BUSY for a
//! second call while one runs; reference counts of the host's objects and
//! the provider's balanced, the provider dropped exactly once, after its
//! method returned. A broken invariant panics (libFuzzer reports a crash).

use std::ffi::c_void;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use arbitrary::Arbitrary;
use mapisync::{Error, HRESULT, IMAPISync, Interface, MapiSync, SyncJob};
use mapisync_tests::{
    Call, E_FAIL, E_INVALIDARG, E_NOINTERFACE, E_UNEXPECTED, Guid, HostRef, IID_IMAPISYNC, IID_IUNKNOWN, MAPI_E_BUSY,
    Mapisib, Raw, S_OK, SENTINEL, Script, close_event, wait_event,
};

/// How long a started sync may take before the run counts as hung.
const PATIENCE: Duration = Duration::from_secs(20);

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
// The host's objects, written as a C host writes them: the integration
// tests' own (`mapisync_tests`, tests/support), scripted with the fuzzed answers.

/// The callback object `callback` describes (none for `Callback::Null`).
fn host_callback(callback: &Callback) -> Option<HostRef> {
    match callback {
        Callback::Null => None,
        Callback::Refusing => Some(HostRef::session()),
        Callback::Answering { progress, error, done } => Some(HostRef::callback(Script {
            progress_answers: progress.clone(),
            error_answers: error.clone(),
            done_returns: *done,
            ..Script::default()
        })),
    }
}

/// The size of a complete MAPISIB.
const FULL: usize = size_of::<Mapisib>();

/// The bytes of a MAPISIB of `size` bytes (exactly that many are allocated,
/// so AddressSanitizer catches a read past `ulSize`).
fn sib_bytes(size: usize, flags: u32, session: *mut c_void, callback: *mut c_void, out: *mut *mut c_void) -> Vec<u8> {
    let mut full = Vec::with_capacity(FULL);
    full.extend_from_slice(&(size as u32).to_ne_bytes());
    full.extend_from_slice(&flags.to_ne_bytes());
    for pointer in [session as usize, callback as usize, out as usize] {
        full.extend_from_slice(&pointer.to_ne_bytes());
    }
    assert_eq!(full.len(), FULL);
    full.resize(size.max(full.len()), 0xA5);
    full.truncate(size.max(4));
    full
}

/// The `Done` HRESULT the script and the host's answers imply, and the
/// number of `Progress` and `Error` calls before it.
fn expected_outcome(steps: &[Step], callback: &Callback) -> (i32, usize, usize) {
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
            Step::Fail(hr) => return (if *hr >= 0 { E_FAIL } else { *hr }, progress_calls, error_calls),
            // The runtime reports the panic through Error, then Done(E_UNEXPECTED).
            Step::Panic => return (E_UNEXPECTED, progress_calls, error_calls + usize::from(error.is_some())),
        };
        if let Some(answer) = answer.filter(|answer| *answer < 0) {
            return (answer, progress_calls, error_calls);
        }
    }
    (S_OK, progress_calls, error_calls)
}

/// The threads of this process now (Linux: the entries of /proc/self/task).
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |tasks| tasks.count())
}

/// The scenario's MAPISIB: `ulSize`, and the bytes (NULL pointer for `Shape::Null`).
fn scenario_sib(
    scenario: &Scenario,
    session: Option<&HostRef>,
    callback: Option<&HostRef>,
    out: *mut *mut c_void,
) -> (usize, Vec<u8>) {
    let size = match scenario.sib {
        Shape::Null => 0,
        Shape::Short(n) => usize::from(n) % FULL,
        Shape::Exact => FULL,
        Shape::Longer(extra) => FULL + usize::from(extra),
    };
    let null = std::ptr::null_mut();
    let bytes = sib_bytes(
        size,
        scenario.flags,
        session.map_or(null, HostRef::as_raw),
        callback.map_or(null, HostRef::as_raw),
        out,
    );
    (size, bytes)
}

/// A fresh provider object, checked against QueryInterface for the scenario's IID.
fn provider_object(scenario: &Scenario, steps: &[Step], trace: &Arc<Trace>) -> Raw {
    let sync: IMAPISync = Scripted { steps: steps.to_vec(), trace: trace.clone() }.into();
    let object = Raw(sync.into_raw());
    let iid = Guid::from_u128(scenario.query);
    let (hr, out) = object.query(&iid);
    if iid == IID_IUNKNOWN || iid == IID_IMAPISYNC {
        assert_eq!((hr, out), (S_OK, object.0));
        Raw(out).release();
    } else {
        assert_eq!((hr, out), (E_NOINTERFACE, std::ptr::null_mut()), "QueryInterface({iid:?})");
    }
    assert_eq!(object.count(), 1, "QueryInterface left the count changed");
    object
}

/// A refused call: the out-handle NULL (or untouched past `ulSize`), nothing started, the host untouched.
fn check_refused(scenario: &Scenario, size: usize, handle_now: *mut c_void, trace: &Trace, hosts: &[&HostRef]) {
    if scenario.event_out && size >= FULL {
        assert!(handle_now.is_null(), "*phSyncDoneEvent not NULL after a refused call");
    } else {
        assert_eq!(handle_now, SENTINEL, "the out-pointer past ulSize was written");
    }
    assert_eq!(trace.lock().entered, 0, "a refused call started the provider");
    for host in hosts {
        assert_eq!(host.count(), 1, "a refused call kept a host reference");
        assert!(host.calls().is_empty(), "a refused call called the host");
    }
}

/// A started sync: a done event; MAPI_E_BUSY for a second call while it is held; the event signalled, then closed.
fn check_started(scenario: &Scenario, object: &Raw, handle_now: *mut c_void, trace: &Trace) {
    assert!(!handle_now.is_null() && handle_now != SENTINEL, "S_OK without a done event");
    if scenario.second_call {
        // A second call while the first sync is held inside the provider.
        assert!(trace.wait(|state| state.entered == 1));
        let mut second_handle = SENTINEL;
        let second = sib_bytes(FULL, scenario.flags, std::ptr::null_mut(), std::ptr::null_mut(), &mut second_handle);
        // SAFETY: harness: a complete MAPISIB.
        assert_eq!(unsafe { object.synchronize(second.as_ptr().cast()) }, MAPI_E_BUSY);
        assert!(second_handle.is_null(), "*phSyncDoneEvent not NULL after MAPI_E_BUSY");
        trace.update(|state| state.held = false);
    }
    assert!(wait_event(handle_now, PATIENCE), "never signalled");
    close_event(handle_now);
}

/// After the last release: the provider dropped once, after its method
/// returned; every host reference given back; the worker thread gone.
fn check_released(started: bool, trace: &Trace, hosts: &[&HostRef], threads_before: usize) {
    assert!(trace.wait(|state| state.drops > 0), "the provider was never dropped");
    {
        let state = trace.lock();
        assert_eq!(state.drops, 1);
        assert!(state.dropped_after_return, "dropped while its method ran");
        assert_eq!(state.entered, usize::from(started), "one run per S_OK");
    }
    for host in hosts {
        assert_eq!(host.wait_count(1, PATIENCE), 1, "the worker kept a host reference");
    }
    // The worker thread has let go of everything; wait until it has exited
    // too, so LeakSanitizer's check after this input never sees a thread
    // halfway through its exit (its thread-local destructor list).
    let deadline = std::time::Instant::now() + PATIENCE;
    while threads() > threads_before && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
}

/// The callback's calls: none for a refusing callback or a refused call;
/// else `Done(event, hr)` once and last, after the calls the script implies.
fn check_calls(scenario: &Scenario, steps: &[Step], started: bool, handle_now: *mut c_void, callback: &HostRef) {
    let calls = callback.calls();
    if !started || !matches!(scenario.callback, Callback::Answering { .. }) {
        assert!(calls.is_empty(), "{calls:?}");
        return;
    }
    let (hr, progress_calls, error_calls) = expected_outcome(steps, &scenario.callback);
    let done: Vec<(usize, i32)> = calls
        .iter()
        .filter_map(|call| match call {
            Call::Done { event, hr, .. } => Some((*event, *hr)),
            _ => None,
        })
        .collect();
    assert_eq!(done, [(handle_now as usize, hr)], "{calls:?}");
    assert!(matches!(calls.last(), Some(Call::Done { .. })), "a call after Done: {calls:?}");
    assert_eq!(calls.iter().filter(|call| matches!(call, Call::Progress { .. })).count(), progress_calls);
    assert_eq!(calls.iter().filter(|call| matches!(call, Call::Error { .. })).count(), error_calls);
}

/// Runs one scenario and checks every invariant; panics if one breaks.
pub fn run(scenario: &Scenario) {
    let threads_before = threads();
    let steps: Vec<Step> = scenario.steps.iter().take(12).cloned().collect();
    let trace = Arc::new(Trace::default());
    trace.update(|state| state.held = scenario.second_call);
    let object = provider_object(scenario, &steps, &trace);

    let session = scenario.session.then(HostRef::session);
    let callback = host_callback(&scenario.callback);
    let hosts: Vec<&HostRef> = session.iter().chain(callback.iter()).collect();
    let mut handle = SENTINEL;
    let out_pointer: *mut *mut c_void = if scenario.event_out { &mut handle } else { std::ptr::null_mut() };
    let (size, bytes) = scenario_sib(scenario, session.as_ref(), callback.as_ref(), out_pointer);
    let sib: *const Mapisib = match scenario.sib {
        Shape::Null => std::ptr::null(),
        _ => bytes.as_ptr().cast(),
    };
    let expected_start = if sib.is_null() || size < FULL || !scenario.event_out { E_INVALIDARG } else { S_OK };
    if expected_start != S_OK {
        trace.update(|state| state.held = false);
    }

    // SAFETY: harness: `sib` is NULL or `size` readable bytes holding valid pointers.
    let started = unsafe { object.synchronize(sib) };
    assert_eq!(started, expected_start, "{:?}", scenario.sib);
    // SAFETY: harness: `handle` is a local the runtime may have written.
    let handle_now = unsafe { std::ptr::read_volatile(&handle) };
    if started == S_OK {
        check_started(scenario, &object, handle_now, &trace);
    } else {
        check_refused(scenario, size, handle_now, &trace, &hosts);
    }

    // Let go of the object; it lives until its worker is done, then drops once.
    object.release();
    check_released(started == S_OK, &trace, &hosts, threads_before);
    if let Some(callback) = &callback {
        check_calls(scenario, &steps, started == S_OK, handle_now, callback);
    }
}

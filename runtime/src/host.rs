//! A host simulator: drives any IMAPISync object the way Outlook does.
//!
//! It queries the object for IMAPISync, fills a `MAPISIB` correctly, passes a
//! session object and a callback object of its own that records every call,
//! waits on the done event and for `Done`, closes the event, and reports what
//! it saw, including the reference counts of its own objects before and after
//! (a provider that leaks or over-releases them shows up there).
//!
//! ```
//! use mapisync::host::{Host, Method};
//!
//! struct Slow;
//! #[mapisync::provider]
//! impl mapisync::MapiSync for Slow {
//!     fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
//!         for step in 1..=3 {
//!             job.progress("Working", step, 3)?;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let sync: mapisync::IMAPISync = Slow.into();
//! let report = Host::new()
//!     .fail_from(Method::Progress, 2, mapisync::MAPI_E_USER_CANCEL)
//!     .run(&sync)
//!     .unwrap();
//! assert_eq!(report.done, Some(mapisync::MAPI_E_USER_CANCEL));
//! assert_eq!(report.progress().count(), 2);
//! assert!(report.balanced());
//! ```

use core::ffi::c_void;
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use windows_core::{GUID, HRESULT, IUnknown_Vtbl, Interface};

use crate::abi::{
    HANDLE, IID_IMAPISyncProgressCallback, IID_IUnknown, IMAPISync, IMAPISyncProgressCallback_Vtbl, MAPISIB,
};
use crate::event::DoneEvent;
use crate::flags::SyncFlags;
use crate::hresult::S_OK;
use crate::object::{Class, ComObject, ObjectRef, iunknown_vtbl};
use crate::unwind::forget_payload;

/// The COM [`conformance`](crate::conformance) checker, also here beside the
/// host simulator, since tests use the two together.
pub use crate::conformance::{Conformance, ConformanceReport, Rule, Violation, check_conformance};

/// A callback method, for choosing where the host fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `IMAPISyncProgressCallback::Progress`.
    Progress,
    /// `IMAPISyncProgressCallback::Error`.
    Error,
    /// `IMAPISyncProgressCallback::Done`.
    Done,
}

/// One call the provider made on the host's callback, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `Progress(text, index, max)`; `text` is `None` for a NULL string.
    Progress {
        /// The text, if any.
        text: Option<String>,
        /// Steps done.
        index: u32,
        /// Steps in all.
        max: u32,
    },
    /// `Error(hr, text)`.
    Error {
        /// The HRESULT reported.
        hr: HRESULT,
        /// The text, if any.
        text: Option<String>,
    },
    /// `Done(event, hr)`.
    Done {
        /// The final HRESULT.
        hr: HRESULT,
        /// Whether the handle passed back is the one written to `*phSyncDoneEvent`.
        same_event: bool,
    },
}

/// What the host passes as `punkCallBack`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackMode {
    /// A recording IMAPISyncProgressCallback (the default).
    Recording,
    /// NULL.
    Null,
    /// An object that answers only IUnknown, refusing IMAPISyncProgressCallback.
    Refusing,
}

/// Reference counts of one of the host's objects, before the call and after
/// the sync ended and the worker let go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefCounts {
    /// Before `SynchronizeInBackground` (the host's own reference: 1).
    pub before: u32,
    /// After `Done` and the wait for the worker's releases.
    pub after: u32,
}

/// What one run saw.
#[derive(Clone, Debug)]
pub struct Report {
    /// What `SynchronizeInBackground` returned.
    pub started: HRESULT,
    /// The handle written to `*phSyncDoneEvent`, as a number (0 for NULL).
    pub event_handle: usize,
    /// Whether the done event was signalled within the timeout.
    pub event_signalled: bool,
    /// Every callback call, in order.
    pub events: Vec<Event>,
    /// The HRESULT of the first `Done` call, if any.
    pub done: Option<HRESULT>,
    /// How many times `Done` was called (the contract: once per S_OK).
    pub done_calls: usize,
    /// From the call to its return.
    pub call_duration: Duration,
    /// From the call to `Done` (or to the end of waiting).
    pub duration: Duration,
    /// The host's callback object (absent with [`CallbackMode::Null`]).
    pub callback_refs: Option<RefCounts>,
    /// The host's session object (absent with [`Host::without_session`]).
    pub session_refs: Option<RefCounts>,
}

impl Report {
    /// The `Progress` calls as `(text, index, max)`.
    pub fn progress(&self) -> impl Iterator<Item = (Option<&str>, u32, u32)> {
        self.events.iter().filter_map(|event| match event {
            Event::Progress { text, index, max } => Some((text.as_deref(), *index, *max)),
            _ => None,
        })
    }

    /// The `Error` calls as `(hr, text)`.
    pub fn errors(&self) -> impl Iterator<Item = (HRESULT, Option<&str>)> {
        self.events.iter().filter_map(|event| match event {
            Event::Error { hr, text } => Some((*hr, text.as_deref())),
            _ => None,
        })
    }

    /// Whether every host object is back to the count it started with.
    pub fn balanced(&self) -> bool {
        [self.callback_refs, self.session_refs].iter().flatten().all(|refs| refs.before == refs.after)
    }
}

/// A configurable Outlook stand-in. See the [module docs](self).
///
/// [`Host::new`] (and `Default`) asks for what Outlook's Send/Receive asks
/// for: a full on-demand sync, `ulFlags` =
/// `UPLOAD_HIERARCHY | DOWNLOAD_HIERARCHY | UPLOAD_CONTENTS | DOWNLOAD_CONTENTS | ON_DEMAND`
/// ([`SyncFlags`], `0x2000_00C3`), with a session
/// object, a recording callback that answers every call with S_OK, no
/// listener, and a 30-second timeout. Each is changed by the method of the
/// same name.
///
/// ```
/// use mapisync::SyncFlags;
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// struct Flags(AtomicU32);
/// #[mapisync::provider]
/// impl mapisync::MapiSync for Flags {
///     fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
///         self.0.store(job.flags().bits(), Ordering::SeqCst);
///         assert!(job.session().is_some() && job.callback().is_some());
///         Ok(())
///     }
/// }
///
/// let sync: mapisync::IMAPISync = Flags(AtomicU32::new(0)).into();
/// let report = mapisync::host::Host::new().run(&sync).unwrap();
/// assert_eq!(report.done, Some(mapisync::S_OK));
/// let sent = mapisync::provider_of::<Flags>(&sync).unwrap().0.load(Ordering::SeqCst);
/// let full = SyncFlags::UPLOAD_HIERARCHY
///     | SyncFlags::DOWNLOAD_HIERARCHY
///     | SyncFlags::UPLOAD_CONTENTS
///     | SyncFlags::DOWNLOAD_CONTENTS
///     | SyncFlags::ON_DEMAND;
/// assert_eq!(sent, full.bits());
/// assert_eq!(sent, 0x2000_00C3);
/// ```
#[derive(Clone)]
pub struct Host {
    flags: SyncFlags,
    session: bool,
    callback: CallbackMode,
    failures: Vec<(Method, usize, HRESULT)>,
    timeout: Duration,
    listener: Option<Listener>,
}

type Listener = Arc<dyn Fn(&Event) + Send + Sync>;

impl Default for Host {
    fn default() -> Self {
        Self::new()
    }
}

impl Host {
    /// A host that asks for a full on-demand sync, passes a session and a
    /// recording callback, and waits up to 30 seconds.
    pub fn new() -> Self {
        Self {
            flags: SyncFlags::UPLOAD_HIERARCHY
                | SyncFlags::DOWNLOAD_HIERARCHY
                | SyncFlags::UPLOAD_CONTENTS
                | SyncFlags::DOWNLOAD_CONTENTS
                | SyncFlags::ON_DEMAND,
            session: true,
            callback: CallbackMode::Recording,
            failures: Vec::new(),
            timeout: Duration::from_secs(30),
            listener: None,
        }
    }

    /// The `ulFlags` to send.
    pub fn flags(mut self, flags: SyncFlags) -> Self {
        self.flags = flags;
        self
    }

    /// Passes a NULL session.
    pub fn without_session(mut self) -> Self {
        self.session = false;
        self
    }

    /// What to pass as `punkCallBack`.
    pub fn callback(mut self, mode: CallbackMode) -> Self {
        self.callback = mode;
        self
    }

    /// From the `call`-th call of `method` on (counting from 1), the callback
    /// returns `hr`, as a host whose user pressed Cancel.
    pub fn fail_from(mut self, method: Method, call: usize, hr: HRESULT) -> Self {
        self.failures.push((method, call, hr));
        self
    }

    /// How long to wait for the event, `Done` and the worker's releases.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Called on the worker's thread for every callback call, as it happens
    /// (for a live progress bar).
    ///
    /// A panic in `listener` (a test's `assert!`) is caught in the callback
    /// method, so it never unwinds into the provider, and [`run`](Self::run)
    /// re-raises the first one on its own thread once the sync has ended.
    pub fn on_event(mut self, listener: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    /// Queries `object` for IMAPISync (the error if it does not answer), runs
    /// one sync and reports.
    pub fn run(&self, object: &impl Interface) -> crate::Result<Report> {
        let sync: IMAPISync = object.cast()?;
        Ok(self.run_sync(&sync))
    }

    fn run_sync(&self, sync: &IMAPISync) -> Report {
        let callback = self.new_callback().map(Counted::new);
        let session = self.session.then(|| Counted::new(HostObject::Plain(ObjectRef::new(()))));
        let mut handle: HANDLE = core::ptr::null_mut();
        let sib = MAPISIB {
            ulSize: MAPISIB::SIZE,
            ulFlags: self.flags.bits(),
            psesSync: session.as_ref().map_or(core::ptr::null_mut(), Counted::as_raw),
            punkCallBack: callback.as_ref().map_or(core::ptr::null_mut(), Counted::as_raw),
            phSyncDoneEvent: &mut handle,
        };
        let start = Instant::now();
        // SAFETY: COM: `sync` is counted; `sib` is a complete MAPISIB whose
        // objects the host keeps alive until the worker lets go of them.
        let started = unsafe { sync.SynchronizeInBackground(&sib) };
        let call_duration = start.elapsed();
        let deadline = start + self.timeout;

        // SAFETY: done event: the handle was written by SynchronizeInBackground, is owned by
        // the host from now on, and is closed once when `event` drops.
        let event = unsafe { DoneEvent::from_raw(handle) };
        let event_signalled = event.as_ref().is_some_and(|event| event.wait(Some(left(deadline))));
        let recorder = callback.as_ref().and_then(Counted::recorder);
        let recorded = recorder.map(|recorder| recorder.finish(started, handle, deadline)).unwrap_or_default();
        let report = Report {
            started,
            event_handle: handle as usize,
            event_signalled,
            done: recorded.first_done(),
            done_calls: recorded.done_calls,
            duration: recorded.done_at.map_or_else(|| start.elapsed(), |at| at.duration_since(start)),
            events: recorded.events,
            call_duration,
            callback_refs: callback.as_ref().map(|object| object.settle(deadline)),
            session_refs: session.as_ref().map(|object| object.settle(deadline)),
        };
        if let Some(payload) = recorder.and_then(Recorder::take_panic) {
            resume_unwind(payload);
        }
        report
    }

    /// The object to pass as `punkCallBack`, if any.
    fn new_callback(&self) -> Option<HostObject> {
        let recorder = || Recorder {
            failures: self.failures.clone(),
            listener: self.listener.clone(),
            state: Mutex::default(),
            changed: Condvar::new(),
            listener_panic: Mutex::default(),
        };
        match self.callback {
            CallbackMode::Recording => Some(HostObject::Recording(ObjectRef::new(recorder()))),
            CallbackMode::Refusing => Some(HostObject::Plain(ObjectRef::new(()))),
            CallbackMode::Null => None,
        }
    }
}

/// What is left of the time from now to `deadline`.
fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// One of the host's objects with its reference count before the call.
struct Counted {
    object: HostObject,
    before: u32,
}

impl Counted {
    fn new(object: HostObject) -> Self {
        let before = object.ref_count();
        Self { object, before }
    }

    fn as_raw(&self) -> *mut c_void {
        self.object.as_raw()
    }

    fn recorder(&self) -> Option<&Recorder> {
        match &self.object {
            HostObject::Recording(recorder) => Some(&recorder.object().value),
            HostObject::Plain(_) => None,
        }
    }

    /// Waits (until `deadline`) for the count to return to where it started.
    fn settle(&self, deadline: Instant) -> RefCounts {
        while self.object.ref_count() != self.before && !left(deadline).is_zero() {
            std::thread::sleep(Duration::from_millis(1));
        }
        RefCounts { before: self.before, after: self.object.ref_count() }
    }
}

/// One of the host's own COM objects.
enum HostObject {
    Recording(ObjectRef<RecordingCallback>),
    Plain(ObjectRef<PlainUnknown>),
}

impl HostObject {
    fn as_raw(&self) -> *mut c_void {
        match self {
            Self::Recording(object) => object.as_raw(),
            Self::Plain(object) => object.as_raw(),
        }
    }

    fn ref_count(&self) -> u32 {
        match self {
            Self::Recording(object) => object.object().ref_count(),
            Self::Plain(object) => object.object().ref_count(),
        }
    }
}

/// A COM object that answers only IUnknown: the session, or a refusing callback.
struct PlainUnknown;
static PLAIN_VTBL: IUnknown_Vtbl = iunknown_vtbl::<PlainUnknown>();
impl Class for PlainUnknown {
    type Value = ();
    type Vtable = IUnknown_Vtbl;
    const VTABLE: &'static IUnknown_Vtbl = &PLAIN_VTBL;
    const IID: GUID = IID_IUnknown;
}

/// The recording IMAPISyncProgressCallback.
struct RecordingCallback;
static RECORDING_VTBL: IMAPISyncProgressCallback_Vtbl = IMAPISyncProgressCallback_Vtbl {
    base__: iunknown_vtbl::<RecordingCallback>(),
    Progress: on_progress,
    Error: on_error,
    Done: on_done,
};
impl Class for RecordingCallback {
    type Value = Recorder;
    type Vtable = IMAPISyncProgressCallback_Vtbl;
    const VTABLE: &'static IMAPISyncProgressCallback_Vtbl = &RECORDING_VTBL;
    const IID: GUID = IID_IMAPISyncProgressCallback;
}

struct Recorder {
    failures: Vec<(Method, usize, HRESULT)>,
    listener: Option<Listener>,
    state: Mutex<Recorded>,
    changed: Condvar,
    /// The listener's first panic, caught in the callback method (it must
    /// not unwind into the provider) and re-raised by `run` on its own thread.
    listener_panic: Mutex<Option<Box<dyn Any + Send>>>,
}

#[derive(Clone, Default)]
struct Recorded {
    events: Vec<Event>,
    calls: [usize; 3],
    done_calls: usize,
    done_at: Option<Instant>,
    /// The handle `Done` should pass back; 0 until the host knows it.
    done_handles: Vec<usize>,
}

impl Recorded {
    /// The HRESULT of the first `Done`.
    fn first_done(&self) -> Option<HRESULT> {
        self.events.iter().find_map(|event| match event {
            Event::Done { hr, .. } => Some(*hr),
            _ => None,
        })
    }
}

impl Recorder {
    fn state(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait(&self, timeout: Duration, until: impl Fn(&Recorded) -> bool) {
        let guard = self.state();
        let _ = self.changed.wait_timeout_while(guard, timeout, |state| !until(state));
    }

    /// Waits (until `deadline`) for `Done` after a started sync, then returns
    /// what was recorded, `same_event` filled in from the host's `handle`.
    fn finish(&self, started: HRESULT, handle: HANDLE, deadline: Instant) -> Recorded {
        if started == S_OK {
            self.wait(left(deadline), |state| state.done_calls > 0);
        }
        self.set_expected_event(handle as usize);
        self.state().clone()
    }

    /// Fills in `same_event` for `Done` calls now that the handle is known.
    fn set_expected_event(&self, handle: usize) {
        let mut state = self.state();
        let handles = std::mem::take(&mut state.done_handles);
        let mut handles = handles.into_iter();
        for event in &mut state.events {
            if let Event::Done { same_event, .. } = event {
                *same_event = handles.next() == Some(handle);
            }
        }
    }

    /// Shows `event` to the listener, catching its panic for `run`.
    fn notify(&self, event: &Event) {
        let Some(listener) = &self.listener else { return };
        let Err(payload) = catch_unwind(AssertUnwindSafe(|| listener(event))) else { return };
        let mut first = self.listener_panic.lock().unwrap_or_else(PoisonError::into_inner);
        if first.is_none() {
            *first = Some(payload);
        } else {
            drop(first);
            forget_payload(payload);
        }
    }

    /// The listener's first panic, if it panicked.
    fn take_panic(&self) -> Option<Box<dyn Any + Send>> {
        self.listener_panic.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn record(&self, method: Method, event: Event, handle: Option<usize>) -> HRESULT {
        self.notify(&event);
        let mut state = self.state();
        let slot = method as usize;
        state.calls[slot] += 1;
        let call = state.calls[slot];
        if method == Method::Done {
            state.done_calls += 1;
            state.done_at.get_or_insert_with(Instant::now);
            state.done_handles.extend(handle);
        }
        state.events.push(event);
        drop(state);
        self.changed.notify_all();
        self.failures
            .iter()
            .find(|(failing, from, _)| *failing == method && call >= *from)
            .map_or(S_OK, |(_, _, hr)| *hr)
    }
}

/// Reads a NUL-terminated UTF-16 string (at most 64 Ki units); NULL gives `None`.
///
/// # Safety
/// `text` is NULL or NUL-terminated within its allocation.
unsafe fn read_text(text: *const u16) -> Option<String> {
    if text.is_null() {
        return None;
    }
    let mut len = 0;
    // SAFETY: UTF-16 text: the caller vouches for a terminating NUL; the cap bounds a bad provider's string.
    while len < 65_536 && unsafe { *text.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: UTF-16 text: the `len` units before the NUL were just read.
    Some(String::from_utf16_lossy(unsafe { core::slice::from_raw_parts(text, len) }))
}

/// # Safety
/// COM: `this` is a live `RecordingCallback`.
unsafe fn recorder<'a>(this: *mut c_void) -> &'a Recorder {
    // SAFETY: COM: the caller (the provider) holds a reference for the whole call.
    &unsafe { ComObject::<RecordingCallback>::from_this(this) }.value
}

/// `Progress`: records the call and answers as scripted.
///
/// # Safety
/// COM: the provider calls through the recording callback's vtable: `this` is a
/// live `RecordingCallback` it holds a reference to; `text` is NULL or NUL-terminated.
unsafe extern "system" fn on_progress(this: *mut c_void, text: *const u16, index: u32, max: u32) -> HRESULT {
    // SAFETY: COM: as the vtable's contract; `text` is NULL or NUL-terminated.
    let (recorder, text) = unsafe { (recorder(this), read_text(text)) };
    recorder.record(Method::Progress, Event::Progress { text, index, max }, None)
}

/// `Error`: records the call and answers as scripted.
///
/// # Safety
/// COM: the provider calls through the recording callback's vtable: `this` is a
/// live `RecordingCallback` it holds a reference to; `text` is NULL or NUL-terminated.
unsafe extern "system" fn on_error(this: *mut c_void, hr: HRESULT, text: *const u16) -> HRESULT {
    // SAFETY: COM: as the vtable's contract; `text` is NULL or NUL-terminated.
    let (recorder, text) = unsafe { (recorder(this), read_text(text)) };
    recorder.record(Method::Error, Event::Error { hr, text }, None)
}

/// `Done`: records the call and the handle it passes back.
///
/// # Safety
/// COM: `this` is a live `RecordingCallback` the caller holds a reference to.
unsafe extern "system" fn on_done(this: *mut c_void, event: HANDLE, hr: HRESULT) -> HRESULT {
    // SAFETY: COM: as the vtable's contract.
    let recorder = unsafe { recorder(this) };
    recorder.record(Method::Done, Event::Done { hr, same_event: false }, Some(event as usize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hresult::{E_NOINTERFACE, E_UNEXPECTED, MAPI_E_USER_CANCEL};
    use crate::{MapiSync, SyncJob};

    /// Reports two steps and one warning; records whether it saw a session.
    struct TwoSteps(std::sync::atomic::AtomicBool);

    #[mapisync::provider]
    impl MapiSync for TwoSteps {
        fn synchronize_in_background(&self, job: &mut SyncJob) -> crate::Result<()> {
            self.0.store(job.session().is_some(), std::sync::atomic::Ordering::SeqCst);
            job.progress("one", 1, 2)?;
            job.error(crate::MAPI_E_NETWORK_ERROR, "slow")?;
            job.progress_count(2, 2)?;
            Ok(())
        }
    }

    fn object() -> IMAPISync {
        TwoSteps(Default::default()).into()
    }

    #[test]
    fn records_every_call_in_order_and_balances() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let live = seen.clone();
        let report = Host::new().on_event(move |e| live.lock().unwrap().push(e.clone())).run(&object()).unwrap();
        assert_eq!(report.started, S_OK);
        assert_ne!(report.event_handle, 0);
        assert!(report.event_signalled);
        assert_eq!(report.progress().collect::<Vec<_>>(), vec![(Some("one"), 1, 2), (None, 2, 2)]);
        assert_eq!(report.errors().collect::<Vec<_>>(), vec![(crate::MAPI_E_NETWORK_ERROR, Some("slow"))]);
        assert_eq!(report.done, Some(S_OK));
        assert_eq!(report.done_calls, 1);
        assert!(matches!(report.events.last(), Some(Event::Done { same_event: true, .. })));
        assert_eq!(report.callback_refs, Some(RefCounts { before: 1, after: 1 }));
        assert_eq!(report.session_refs, Some(RefCounts { before: 1, after: 1 }));
        assert_eq!(seen.lock().unwrap().len(), report.events.len(), "the listener saw every call live");
    }

    #[test]
    fn fails_from_the_chosen_call_on() {
        let report = Host::new().fail_from(Method::Error, 1, MAPI_E_USER_CANCEL).run(&object()).unwrap();
        assert_eq!(report.done, Some(MAPI_E_USER_CANCEL));
        assert_eq!(report.progress().count(), 1);
    }

    #[test]
    fn null_and_refusing_callbacks_and_no_session() {
        for mode in [CallbackMode::Null, CallbackMode::Refusing] {
            let provider = TwoSteps(Default::default());
            let sync: IMAPISync = provider.into();
            let report = Host::new().callback(mode).without_session().run(&sync).unwrap();
            assert_eq!(report.started, S_OK);
            assert!(report.event_signalled);
            assert!(report.events.is_empty());
            assert_eq!(report.session_refs, None);
            assert_eq!(report.callback_refs.is_some(), mode == CallbackMode::Refusing);
            assert!(report.balanced());
            let seen = crate::provider_of::<TwoSteps>(&sync).unwrap();
            assert!(!seen.0.load(std::sync::atomic::Ordering::SeqCst), "no session was passed");
        }
    }

    /// Fails with a message after `?` on a windows-core result succeeded.
    struct Unreachable;

    #[mapisync::provider]
    impl MapiSync for Unreachable {
        fn synchronize_in_background(&self, _: &mut SyncJob) -> crate::Result<()> {
            windows_core::HRESULT(0).ok()?;
            Err(crate::Error::new(crate::MAPI_E_NETWORK_ERROR, "cannot reach imap.example.com"))
        }
    }

    #[test]
    fn an_error_with_a_message_is_reported_by_error_then_done() {
        let report = Host::new().run(&IMAPISync::from(Unreachable)).unwrap();
        let text = Some("cannot reach imap.example.com".to_string());
        let hr = crate::MAPI_E_NETWORK_ERROR;
        assert_eq!(report.events, [Event::Error { hr, text }, Event::Done { hr, same_event: true }]);
    }

    /// An IMAPISync whose slot 3 refuses every start with the code in its
    /// value, as the contract says: `*phSyncDoneEvent` NULL, no worker.
    struct Refusing;
    static REFUSING_VTBL: crate::abi::IMAPISync_Vtbl =
        crate::abi::IMAPISync_Vtbl { base__: iunknown_vtbl::<Refusing>(), SynchronizeInBackground: refuse };
    impl Class for Refusing {
        type Value = HRESULT;
        type Vtable = crate::abi::IMAPISync_Vtbl;
        const VTABLE: &'static crate::abi::IMAPISync_Vtbl = &REFUSING_VTBL;
        const IID: GUID = crate::abi::IID_IMAPISync;
    }

    /// # Safety
    /// COM: `this` is a live `Refusing`; `sib` is a complete MAPISIB.
    unsafe extern "system" fn refuse(this: *mut c_void, sib: *const MAPISIB) -> HRESULT {
        // SAFETY: test: the host simulator passes a complete MAPISIB with a writable out-pointer.
        unsafe { (*sib).phSyncDoneEvent.write(core::ptr::null_mut()) };
        // SAFETY: COM: the caller holds a reference for the call.
        unsafe { ComObject::<Refusing>::from_this(this) }.value
    }

    #[test]
    fn every_refused_start_is_reported_without_touching_a_null_event() {
        use crate::hresult::{E_INVALIDARG, E_OUTOFMEMORY, MAPI_E_BUSY, MAPI_E_END_OF_SESSION};
        for code in [MAPI_E_BUSY, MAPI_E_END_OF_SESSION, E_INVALIDARG, E_OUTOFMEMORY] {
            let refusing = ObjectRef::<Refusing>::new(code);
            let raw = refusing.as_raw();
            // SAFETY: test: a live IMAPISync whose reference `refusing` keeps.
            let sync = unsafe { IMAPISync::from_raw_borrowed(&raw) }.unwrap();
            let report = Host::new().timeout(Duration::from_millis(50)).run(sync).unwrap();
            assert_eq!(report.started, code);
            assert_eq!(report.event_handle, 0);
            assert!(!report.event_signalled);
            assert_eq!((report.done, report.done_calls), (None, 0));
            assert!(report.balanced(), "{code:?}: {report:?}");
        }
    }

    /// Blocks its sync until the test lets it go.
    #[derive(Default)]
    struct Blocking {
        entered: std::sync::atomic::AtomicBool,
        released: Mutex<bool>,
        changed: Condvar,
    }

    #[mapisync::provider]
    impl MapiSync for Blocking {
        fn synchronize_in_background(&self, _: &mut SyncJob) -> crate::Result<()> {
            self.entered.store(true, std::sync::atomic::Ordering::SeqCst);
            let released = self.released.lock().unwrap();
            drop(self.changed.wait_timeout_while(released, Duration::from_secs(30), |released| !*released));
            Ok(())
        }
    }

    /// A mapisync object sent to another thread: its methods are free-threaded.
    struct Agile(IMAPISync);
    // SAFETY: Send: a mapisync object's IUnknown and slot 3 may be called from any thread.
    unsafe impl Send for Agile {}

    #[test]
    fn a_busy_mapisync_object_is_reported_as_busy() {
        let sync: IMAPISync = Blocking::default().into();
        let agile = Agile(sync.clone());
        let first = std::thread::spawn(move || Host::new().run(&{ agile }.0).unwrap().done);
        let blocking = crate::provider_of::<Blocking>(&sync).unwrap();
        while !blocking.entered.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::yield_now();
        }
        let second = Host::new().run(&sync).unwrap();
        assert_eq!((second.started, second.event_handle, second.done_calls), (crate::MAPI_E_BUSY, 0, 0));
        assert!(second.balanced());
        *blocking.released.lock().unwrap() = true;
        blocking.changed.notify_all();
        assert_eq!(first.join().unwrap(), Some(S_OK));
    }

    /// Keeps its job past the sync, with safe code: swaps in a fresh one.
    struct Keeper(Mutex<Option<SyncJob>>);

    #[mapisync::provider]
    impl MapiSync for Keeper {
        fn synchronize_in_background(&self, job: &mut SyncJob) -> crate::Result<()> {
            job.progress("before the end", 1, 2)?;
            let kept = std::mem::replace(job, SyncJob::new(job.flags()));
            *self.0.lock().unwrap() = Some(kept);
            Ok(())
        }
    }

    #[test]
    fn a_job_kept_past_its_sync_reaches_the_host_no_more_and_holds_nothing() {
        let sync: IMAPISync = Keeper(Mutex::new(None)).into();
        let after_done = Arc::new(Mutex::new(Vec::new()));
        let seen = after_done.clone();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ended = done.clone();
        let report = Host::new()
            .on_event(move |event| {
                if ended.load(std::sync::atomic::Ordering::SeqCst) {
                    seen.lock().unwrap().push(event.clone());
                }
                if matches!(event, Event::Done { .. }) {
                    ended.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            })
            .run(&sync)
            .unwrap();
        assert_eq!((report.done, report.done_calls), (Some(S_OK), 1));
        assert!(report.balanced(), "the worker released the host's objects: {report:?}");
        let keeper = crate::provider_of::<Keeper>(&sync).unwrap();
        let mut kept = keeper.0.lock().unwrap().take().unwrap();
        let late = kept.progress("after the end", 2, 2).unwrap_err();
        assert_eq!(late.code(), E_UNEXPECTED);
        assert!(kept.error(crate::MAPI_E_NETWORK_ERROR, "late").is_err());
        assert!(kept.progress_count(2, 2).is_err());
        assert!(kept.session().is_none() && kept.callback().is_none());
        assert_eq!(after_done.lock().unwrap().as_slice(), [], "nothing reached the host after Done");
    }

    #[test]
    fn an_object_without_imapisync_is_refused() {
        let plain = ObjectRef::<PlainUnknown>::new(());
        let raw = plain.as_raw();
        // SAFETY: test: the pointer is a live IUnknown whose reference `plain` keeps.
        let unknown = unsafe { windows_core::IUnknown::from_raw_borrowed(&raw) }.unwrap();
        assert_eq!(Host::new().run(unknown).unwrap_err().code(), E_NOINTERFACE);
    }
}

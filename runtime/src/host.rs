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

mod objects;
mod report;

use std::panic::resume_unwind;
use std::sync::Arc;
use std::time::{Duration, Instant};

use windows_core::{HRESULT, Interface};

use self::objects::{Counted, HostObject, Recorder};
pub use self::report::{CallbackMode, Event, Method, RefCounts, Report};
use crate::abi::{HANDLE, IMAPISync, MAPISIB};
use crate::event::DoneEvent;
use crate::flags::SyncFlags;

/// The COM [`conformance`](crate::conformance) checker, also here beside the
/// host simulator, since tests use the two together.
pub use crate::conformance::{Conformance, ConformanceReport, Rule, Violation, check_conformance};

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

/// The listener [`Host::on_event`] installs.
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
        let session = self.session.then(|| Counted::new(HostObject::plain()));
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
        match self.callback {
            CallbackMode::Recording => Some(HostObject::recording(self.failures.clone(), self.listener.clone())),
            CallbackMode::Refusing => Some(HostObject::plain()),
            CallbackMode::Null => None,
        }
    }
}

/// What is left of the time from now to `deadline`.
pub(super) fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

#[cfg(test)]
mod tests {
    use core::ffi::c_void;
    use std::sync::{Condvar, Mutex};

    use super::objects::PlainUnknown;
    use super::*;
    use crate::hresult::S_OK;
    use crate::hresult::{E_NOINTERFACE, E_UNEXPECTED, MAPI_E_USER_CANCEL};
    use crate::object::{Class, ComObject, ObjectRef, iunknown_vtbl};
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

//! What the provider sees of one sync: [`SyncJob`], and the host's objects
//! it shares with the worker.
//!
//! The host's session and callback are held once, in a [`HostObjects`] that
//! the job and the worker share. When the provider's method returns, the
//! worker closes it ([`Gated`]): it waits for host calls in flight through
//! any job of the sync, takes the host's objects, calls `Done` and releases
//! them. So whatever the provider does with its `&mut SyncJob` (replace it,
//! keep it past the sync), the host hears `Done` exactly once, hears
//! nothing after it, and gets its references back.

use core::cell::Cell;
use core::marker::PhantomData;
use std::sync::Arc;

use windows_core::{HRESULT, IUnknown};

use crate::abi::{HANDLE, IMAPISyncProgressCallback};
use crate::error::Error;
use crate::flags::SyncFlags;
use crate::gate::Gated;
use crate::hresult::{E_UNEXPECTED, MAPI_E_USER_CANCEL};
use crate::workers::{CancelToken, host_calls};

/// One sync as the provider sees it: the host's flags and session, and the
/// host's progress sink.
///
/// Every method that calls the host returns the host's failure as `Err`, so
/// `?` stops the sync when the user cancels; that HRESULT then reaches `Done`.
/// Without a callback (the host passed none, or it does not answer
/// `IMAPISyncProgressCallback`) progress goes nowhere and the calls return `Ok`.
///
/// A job belongs to its sync: once the provider's method has returned, a
/// job of that sync (one the provider kept, say) calls the host no more:
/// its methods return `Err(E_UNEXPECTED)`, `session()` and `callback()`
/// give `None`, and the host's objects were released with `Done`.
pub struct SyncJob {
    flags: SyncFlags,
    host: Arc<HostObjects>,
    text: Vec<u16>,
    /// Set by `lifecycle::cancel`/`cancel_all`/`shutdown`; ended by the worker.
    cancel: CancelToken,
    /// `!Sync`: one thread at a time talks to the host through a job.
    not_sync: PhantomData<Cell<()>>,
}

impl SyncJob {
    /// A job outside any host, for testing provider code directly: no
    /// session, and progress goes nowhere.
    ///
    /// ```
    /// let job = mapisync::SyncJob::new(mapisync::SyncFlags::ON_DEMAND);
    /// assert!(job.flags().contains(mapisync::SyncFlags::ON_DEMAND));
    /// assert!(job.session().is_none() && job.callback().is_none());
    /// ```
    pub fn new(flags: SyncFlags) -> Self {
        Self::with_host(flags, HostRefs { session: None, callback: None })
    }

    /// A job that reports to `callback` and shows `session` to the provider,
    /// for driving provider code with host objects of your own.
    ///
    /// # Safety
    /// `session` and `callback` must be free-threaded: callable, AddRef'd and
    /// Released from any thread, as the contract requires of the objects a
    /// host passes in `MAPISIB`. The job is `Send`, so the provider may use
    /// and drop them on another thread; windows-core makes interface pointers
    /// `!Send` because most objects (apartment-threaded ones) are not.
    ///
    /// ```
    /// use mapisync::{Interface, SyncFlags, SyncJob};
    ///
    /// struct Stub;
    /// #[mapisync::provider]
    /// impl mapisync::MapiSync for Stub {
    ///     fn synchronize_in_background(&self, _: &mut SyncJob) -> mapisync::Result<()> { Ok(()) }
    /// }
    ///
    /// // A stand-in session: a mapisync object, free-threaded like every one.
    /// let session: mapisync::IUnknown = mapisync::IMAPISync::from(Stub).cast().unwrap();
    /// // SAFETY: the session object is free-threaded; there is no callback.
    /// let job = unsafe { SyncJob::with_host_objects(SyncFlags::empty(), Some(session), None) };
    /// assert!(job.session().is_some());
    /// ```
    pub unsafe fn with_host_objects(
        flags: SyncFlags,
        session: Option<IUnknown>,
        callback: Option<IMAPISyncProgressCallback>,
    ) -> Self {
        Self::with_host(flags, HostRefs { session, callback })
    }

    fn with_host(flags: SyncFlags, refs: HostRefs) -> Self {
        let host = Arc::new(HostObjects(Gated::new(refs)));
        Self { flags, host, text: Vec::new(), cancel: crate::workers::new_token(), not_sync: PhantomData }
    }

    /// The `ulFlags` the host sent, unknown bits included.
    pub fn flags(&self) -> SyncFlags {
        self.flags
    }

    /// The host's `IMAPISession`, if it passed one: a reference of your
    /// own (released when you drop it). `None` once the sync has ended.
    pub fn session(&self) -> Option<IUnknown> {
        self.host.0.with(|refs| refs.session.clone()).flatten()
    }

    /// The host's progress callback, if it has one: a reference of your own.
    /// `None` once the sync has ended.
    pub fn callback(&self) -> Option<IMAPISyncProgressCallback> {
        self.host.0.with(|refs| refs.callback.clone()).flatten()
    }

    /// Whether the sync was cancelled ([`lifecycle::cancel`](crate::lifecycle::cancel),
    /// [`cancel_all`](crate::lifecycle::cancel_all), [`shutdown`](crate::lifecycle::shutdown)):
    /// the provider should stop soon; the sync then ends with
    /// `Done(event, MAPI_E_USER_CANCEL)` unless it returns another error.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// A token that tells whether this sync was cancelled, for code that
    /// reports no progress (a download loop, a network client on another thread).
    pub fn cancel_token(&self) -> CancelToken {
        self.cancel.clone()
    }

    /// Calls `call` with the host's callback, if the sync still runs, was
    /// not cancelled, and the host has a callback.
    fn call_host(&self, call: impl FnOnce(&IMAPISyncProgressCallback) -> HRESULT) -> crate::Result<()> {
        let cancel = &self.cancel;
        let outcome = self.host.0.with(|refs| {
            if cancel.is_cancelled() {
                return Err(MAPI_E_USER_CANCEL.into());
            }
            let Some(callback) = refs.callback.as_ref() else { return Ok(()) };
            // Recorded as in flight: a drain inside the call, on this
            // thread, does not wait for this sync's worker (which waits for
            // the call; `workers::host_calls`).
            crate::error::check(host_calls::in_flight(crate::workers::token_state(cancel), || call(callback)))
        });
        outcome.unwrap_or_else(|| Err(Error::new(E_UNEXPECTED, "the sync this job belongs to has ended")))
    }

    /// Shows `text` and "`index` of `max` done" in the host's Send/Receive dialog.
    /// The text ends at its first NUL, if it has one. Once the sync was
    /// cancelled, returns `Err(MAPI_E_USER_CANCEL)` without calling the host;
    /// once it has ended, `Err(E_UNEXPECTED)`.
    pub fn progress(&mut self, text: &str, index: u32, max: u32) -> crate::Result<()> {
        let text = encode(&mut self.text, text);
        // SAFETY: COM: `callback` is a counted reference; `text` is NUL-terminated UTF-16.
        self.call_host(|callback| unsafe { callback.Progress(text, index, max) })
    }

    /// Updates only the numbers, keeping the host's current text (a NULL
    /// string). Cancelled or ended, as [`progress`](Self::progress).
    pub fn progress_count(&mut self, index: u32, max: u32) -> crate::Result<()> {
        // SAFETY: COM: `callback` is a counted reference; NULL text is allowed.
        self.call_host(|callback| unsafe { callback.Progress(core::ptr::null(), index, max) })
    }

    /// Reports an error or warning; the sync goes on unless the provider
    /// stops it. Cancelled or ended, as [`progress`](Self::progress).
    pub fn error(&mut self, hr: HRESULT, text: &str) -> crate::Result<()> {
        let text = encode(&mut self.text, text);
        // SAFETY: COM: `callback` is a counted reference; `text` is NUL-terminated UTF-16.
        self.call_host(|callback| unsafe { callback.Error(hr, text) })
    }

    /// The worker's own share of the host's objects.
    pub(crate) fn host(&self) -> Arc<HostObjects> {
        self.host.clone()
    }
}

impl core::fmt::Debug for SyncJob {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let host = self.host.0.with(|refs| (refs.session.is_some(), refs.callback.is_some()));
        f.debug_struct("SyncJob")
            .field("flags", &self.flags)
            .field("ended", &host.is_none())
            .field("session", &host.is_some_and(|(session, _)| session))
            .field("callback", &host.is_some_and(|(_, callback)| callback))
            .finish()
    }
}

/// The host's session and callback, shared by the jobs of one sync and its
/// worker until the worker [`close`](Self::close)s them.
pub(crate) struct HostObjects(Gated<HostRefs>);

impl HostObjects {
    /// Ends the sync's use of the host's objects: waits for calls in flight
    /// through any job of the sync, refuses every later one, and hands the
    /// references to the caller (the worker), once.
    pub(crate) fn close(&self) -> Option<HostRefs> {
        self.0.close()
    }
}

/// The host's session and callback: one COM reference each.
pub(crate) struct HostRefs {
    session: Option<IUnknown>,
    callback: Option<IMAPISyncProgressCallback>,
}

// SAFETY: Send + Sync: the objects are free-threaded, which is all that
// using and releasing them from any thread needs. They come either from
// MAPISIB, whose objects the contract has the provider use from its own
// background thread ("InBackground"; Outlook's are free-threaded), or from
// `SyncJob::with_host_objects`, whose caller vouches for it (its `# Safety`);
// the safe `SyncJob::new` holds none.
unsafe impl Send for HostRefs {}
// SAFETY: Sync: as for Send (free-threaded objects), the rule of the line above.
unsafe impl Sync for HostRefs {}

impl HostRefs {
    /// Calls `Error(hr, text)`.
    pub(crate) fn error(&self, hr: HRESULT, text: &str) -> crate::Result<()> {
        let Some(callback) = &self.callback else { return Ok(()) };
        let mut buffer = Vec::new();
        let text = encode(&mut buffer, text);
        // SAFETY: COM: `callback` is a counted reference; `text` is NUL-terminated UTF-16.
        crate::error::check(unsafe { callback.Error(hr, text) })
    }

    /// Calls `Done(event, hr)`; the host's answer is not the provider's concern.
    pub(crate) fn done(&self, event: HANDLE, hr: HRESULT) {
        if let Some(callback) = &self.callback {
            // SAFETY: COM: `callback` is a counted reference; `event` is passed by value.
            let _ = unsafe { callback.Done(event, hr) };
        }
    }
}

/// Encodes `text` as NUL-terminated UTF-16 into `buffer`, cut at any NUL.
fn encode(buffer: &mut Vec<u16>, text: &str) -> *const u16 {
    buffer.clear();
    buffer.extend(text.encode_utf16().take_while(|&unit| unit != 0));
    buffer.push(0);
    buffer.as_ptr()
}

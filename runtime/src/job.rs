//! What the provider sees of one sync: [`SyncJob`], and the host's objects
//! it shares with the worker.
//!
//! The host's session and callback are held once, in a [`HostObjects`] that
//! the job and the worker share: the worker calls `Done` through its own
//! share, so whatever the provider does with its `&mut SyncJob` (replace it,
//! keep it past the sync), the host hears `Done` exactly once.

use core::cell::Cell;
use core::marker::PhantomData;
use std::sync::Arc;

use windows_core::{HRESULT, IUnknown};

use crate::abi::{HANDLE, IMAPISyncProgressCallback};
use crate::error::Error;
use crate::flags::SyncFlags;
use crate::hresult::MAPI_E_USER_CANCEL;
use crate::workers::CancelToken;

/// One sync as the provider sees it: the host's flags and session, and the
/// host's progress sink.
///
/// Every method that calls the host returns the host's failure as `Err`, so
/// `?` stops the sync when the user cancels; that HRESULT then reaches `Done`.
/// Without a callback (the host passed none, or it does not answer
/// `IMAPISyncProgressCallback`) progress goes nowhere and the calls return `Ok`.
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
        Self::with_host(flags, HostObjects { session: None, callback: None })
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
        Self::with_host(flags, HostObjects { session, callback })
    }

    fn with_host(flags: SyncFlags, host: HostObjects) -> Self {
        Self { flags, host: Arc::new(host), text: Vec::new(), cancel: CancelToken::new(), not_sync: PhantomData }
    }

    /// The `ulFlags` the host sent, unknown bits included.
    pub fn flags(&self) -> SyncFlags {
        self.flags
    }

    /// The host's `IMAPISession`, if it passed one.
    pub fn session(&self) -> Option<&IUnknown> {
        self.host.session.as_ref()
    }

    /// The host's progress callback, if it has one.
    pub fn callback(&self) -> Option<&IMAPISyncProgressCallback> {
        self.host.callback.as_ref()
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

    /// `Err(MAPI_E_USER_CANCEL)` once the sync was cancelled.
    fn check_cancelled(&self) -> crate::Result<()> {
        if self.cancel.is_cancelled() { Err(MAPI_E_USER_CANCEL.into()) } else { Ok(()) }
    }

    /// Shows `text` and "`index` of `max` done" in the host's Send/Receive dialog.
    /// The text ends at its first NUL, if it has one. Once the sync was
    /// cancelled, returns `Err(MAPI_E_USER_CANCEL)` without calling the host.
    pub fn progress(&mut self, text: &str, index: u32, max: u32) -> crate::Result<()> {
        self.check_cancelled()?;
        let Some(callback) = &self.host.callback else { return Ok(()) };
        let text = encode(&mut self.text, text);
        // SAFETY: COM: `callback` is a counted reference; `text` is NUL-terminated UTF-16.
        Error::check(unsafe { callback.Progress(text, index, max) })
    }

    /// Updates only the numbers, keeping the host's current text (a NULL
    /// string). Cancelled, as [`progress`](Self::progress).
    pub fn progress_count(&mut self, index: u32, max: u32) -> crate::Result<()> {
        self.check_cancelled()?;
        let Some(callback) = &self.host.callback else { return Ok(()) };
        // SAFETY: COM: `callback` is a counted reference; NULL text is allowed.
        Error::check(unsafe { callback.Progress(core::ptr::null(), index, max) })
    }

    /// Reports an error or warning; the sync goes on unless the provider
    /// stops it. Cancelled, as [`progress`](Self::progress).
    pub fn error(&mut self, hr: HRESULT, text: &str) -> crate::Result<()> {
        self.check_cancelled()?;
        self.host.error(&mut self.text, hr, text)
    }

    /// The worker's own share of the host's objects.
    pub(crate) fn host(&self) -> Arc<HostObjects> {
        self.host.clone()
    }
}

impl core::fmt::Debug for SyncJob {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SyncJob")
            .field("flags", &self.flags)
            .field("session", &self.host.session)
            .field("callback", &self.host.callback)
            .finish()
    }
}

/// The host's session and callback: one COM reference each, released when
/// the last of the job and the worker lets go.
pub(crate) struct HostObjects {
    session: Option<IUnknown>,
    callback: Option<IMAPISyncProgressCallback>,
}

// SAFETY: Send + Sync: the objects are free-threaded, which is all that
// using and releasing them from any thread needs. They come either from
// MAPISIB, whose objects the contract has the provider use from its own
// background thread ("InBackground"; Outlook's are free-threaded), or from
// `SyncJob::with_host_objects`, whose caller vouches for it (its `# Safety`);
// the safe `SyncJob::new` holds none.
unsafe impl Send for HostObjects {}
// SAFETY: Sync: as for Send (free-threaded objects), the rule of the line above.
unsafe impl Sync for HostObjects {}

impl HostObjects {
    /// Calls `Error(hr, text)`; `buffer` holds the UTF-16 text for the call.
    pub(crate) fn error(&self, buffer: &mut Vec<u16>, hr: HRESULT, text: &str) -> crate::Result<()> {
        let Some(callback) = &self.callback else { return Ok(()) };
        let text = encode(buffer, text);
        // SAFETY: COM: `callback` is a counted reference; `text` is NUL-terminated UTF-16.
        Error::check(unsafe { callback.Error(hr, text) })
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

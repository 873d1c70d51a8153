//! The background-sync protocol: unpacking `MAPISIB`, the worker thread, the
//! done event and the progress callback, as the contract's "Decisions" say.
//!
//! `SynchronizeInBackground` validates and copies what it needs, takes the
//! references the worker keeps, creates the done event, starts the worker and
//! returns S_OK at once. The worker runs the provider's method, then clears
//! the busy flag, signals the event, calls `Done(event, hr)` and releases
//! everything it held, each exactly once.

use core::ffi::c_void;
use core::marker::PhantomData;
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use windows_core::{GUID, HRESULT, IUnknown, Interface};

use crate::abi::{HANDLE, IID_IMAPISync, IMAPISync, IMAPISync_Vtbl, IMAPISyncProgressCallback, MAPISIB};
use crate::event::{self, WorkerEvent};
use crate::flags::SyncFlags;
use crate::hresult::{E_FAIL, E_INVALIDARG, E_UNEXPECTED, MAPI_E_BUSY, MAPI_E_USER_CANCEL, S_OK};
use crate::lifecycle::{self, CancelToken};
use crate::object::{Class, ComObject, ObjectRef, iunknown_vtbl};
use crate::state::Busy;

/// The one method a provider writes.
///
/// Put `#[mapisync::provider]` on the impl to make the type a COM object:
///
/// ```
/// struct Store;
///
/// #[mapisync::provider]
/// impl mapisync::MapiSync for Store {
///     fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
///         job.progress("Checking the inbox", 1, 1)?;
///         Ok(())
///     }
/// }
///
/// let sync: mapisync::IMAPISync = Store.into();
/// ```
pub trait MapiSync {
    /// Runs one sync on the worker thread.
    ///
    /// `Ok(())` ends the sync with `Done(event, S_OK)`; `Err(e)` with
    /// `Done(event, e.code())`. A panic is caught and reported as
    /// E_UNEXPECTED through `Error` and `Done`.
    fn synchronize_in_background(&self, job: &mut SyncJob) -> crate::Result<()>;
}

/// One sync as the provider sees it: the host's flags and session, and the
/// host's progress sink.
///
/// Every method that calls the host returns the host's failure as `Err`, so
/// `?` stops the sync when the user cancels; that HRESULT then reaches `Done`.
/// Without a callback (the host passed none, or it does not answer
/// `IMAPISyncProgressCallback`) progress goes nowhere and the calls return `Ok`.
pub struct SyncJob {
    flags: SyncFlags,
    session: Option<IUnknown>,
    callback: Option<IMAPISyncProgressCallback>,
    text: Vec<u16>,
    /// Set by `lifecycle::cancel`/`cancel_all`/`shutdown`; ended by the worker.
    cancel: CancelToken,
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
        Self { flags, session: None, callback: None, text: Vec::new(), cancel: CancelToken::new() }
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
        Self { flags, session, callback, text: Vec::new(), cancel: CancelToken::new() }
    }

    /// The `ulFlags` the host sent, unknown bits included.
    pub fn flags(&self) -> SyncFlags {
        self.flags
    }

    /// The host's `IMAPISession`, if it passed one.
    pub fn session(&self) -> Option<&IUnknown> {
        self.session.as_ref()
    }

    /// The host's progress callback, if it has one.
    pub fn callback(&self) -> Option<&IMAPISyncProgressCallback> {
        self.callback.as_ref()
    }

    /// Whether the sync was cancelled ([`lifecycle::cancel`],
    /// [`cancel_all`](lifecycle::cancel_all), [`shutdown`](lifecycle::shutdown)):
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
        let Some(callback) = &self.callback else { return Ok(()) };
        let text = encode(&mut self.text, text);
        // SAFETY: COM: `callback` is a counted reference; `text` is NUL-terminated UTF-16.
        unsafe { callback.Progress(text, index, max) }.ok()
    }

    /// Updates only the numbers, keeping the host's current text (a NULL
    /// string). Cancelled, as [`progress`](Self::progress).
    pub fn progress_count(&mut self, index: u32, max: u32) -> crate::Result<()> {
        self.check_cancelled()?;
        let Some(callback) = &self.callback else { return Ok(()) };
        // SAFETY: COM: `callback` is a counted reference; NULL text is allowed.
        unsafe { callback.Progress(core::ptr::null(), index, max) }.ok()
    }

    /// Reports an error or warning; the sync goes on unless the provider
    /// stops it. Cancelled, as [`progress`](Self::progress).
    pub fn error(&mut self, hr: HRESULT, text: &str) -> crate::Result<()> {
        self.check_cancelled()?;
        let Some(callback) = &self.callback else { return Ok(()) };
        let text = encode(&mut self.text, text);
        // SAFETY: COM: `callback` is a counted reference; `text` is NUL-terminated UTF-16.
        unsafe { callback.Error(hr, text) }.ok()
    }

    /// Calls `Done(event, hr)`; the host's answer is not the provider's concern.
    fn done(&self, event: HANDLE, hr: HRESULT) {
        if let Some(callback) = &self.callback {
            // SAFETY: COM: `callback` is a counted reference; `event` is passed by value.
            let _ = unsafe { callback.Done(event, hr) };
        }
    }
}

// SAFETY: Send: the host objects in a job are free-threaded, which is all
// that moving them to another thread needs. They come either from MAPISIB,
// whose objects the contract has the provider use from its own background
// thread ("InBackground"; Outlook's are free-threaded), or from
// `with_host_objects`, whose caller vouches for it (its `# Safety`); the
// safe `new` holds none.
unsafe impl Send for SyncJob {}

impl core::fmt::Debug for SyncJob {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SyncJob")
            .field("flags", &self.flags)
            .field("session", &self.session)
            .field("callback", &self.callback)
            .finish()
    }
}

/// Encodes `text` as NUL-terminated UTF-16 into `buffer`, cut at any NUL.
fn encode(buffer: &mut Vec<u16>, text: &str) -> *const u16 {
    buffer.clear();
    buffer.extend(text.encode_utf16().take_while(|&unit| unit != 0));
    buffer.push(0);
    buffer.as_ptr()
}

/// Implemented by `#[mapisync::provider]`; not by hand.
///
/// # Safety
/// `VTABLE` is [`vtable::<Self>()`](vtable).
#[doc(hidden)]
pub unsafe trait Provider: MapiSync + Send + Sync + Sized + 'static {
    /// The IMAPISync vtable of this provider.
    const VTABLE: &'static IMAPISync_Vtbl;
}

/// The object-layer class of provider `T`.
pub(crate) struct SyncClass<T>(PhantomData<T>);

impl<T: Provider> Class for SyncClass<T> {
    type Value = T;
    type Vtable = IMAPISync_Vtbl;
    const VTABLE: &'static IMAPISync_Vtbl = T::VTABLE;
    const IID: GUID = IID_IMAPISync;
}

/// The IMAPISync vtable for provider `T`, instantiated by the macro.
#[doc(hidden)]
pub const fn vtable<T: Provider>() -> IMAPISync_Vtbl {
    IMAPISync_Vtbl {
        base__: iunknown_vtbl::<SyncClass<T>>(),
        SynchronizeInBackground: synchronize_in_background::<SyncClass<T>>,
    }
}

/// Boxes a provider as a COM object with a count of one.
#[doc(hidden)]
pub fn into_interface<T: Provider>(value: T) -> IMAPISync {
    let this = ObjectRef::<SyncClass<T>>::new(value).into_raw();
    // SAFETY: COM: `this` is a new IMAPISync object whose one reference we hand over.
    unsafe { IMAPISync::from_raw(this) }
}

/// The provider value behind `sync`, if `sync` is a mapisync object of type `T`.
///
/// ```
/// struct Store(u32);
/// #[mapisync::provider]
/// impl mapisync::MapiSync for Store {
///     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
/// }
/// let sync: mapisync::IMAPISync = Store(7).into();
/// assert_eq!(mapisync::provider_of::<Store>(&sync).map(|s| s.0), Some(7));
/// ```
pub fn provider_of<T: Provider>(sync: &IMAPISync) -> Option<&T> {
    let ours: *const IMAPISync_Vtbl = T::VTABLE;
    // SAFETY: COM: `sync` holds a reference; its first word is its vtable pointer.
    let theirs = unsafe { *(sync.as_raw() as *const *const IMAPISync_Vtbl) };
    if core::ptr::eq(ours, theirs) {
        // SAFETY: the vtable identifies the object as a ComObject<SyncClass<T>>,
        // alive while `sync` is borrowed.
        Some(&unsafe { ComObject::<SyncClass<T>>::from_this(sync.as_raw()) }.value)
    } else {
        None
    }
}

/// How the sync protocol reaches the parts of an IMAPISync object of one
/// shape: a plain object ([`SyncClass`]) or the inner object of an aggregate
/// (`aggregate::Aggregate`). Slot 3, `start` and `run` are generic over it,
/// so each shape is read through its own type. (A tear-off is not a shape:
/// its slot 3 forwards to its sync object's, which is one of these.)
///
/// # Safety
/// `parts` returns the busy flag and the provider of the object behind
/// `this`, and AddRef/Release through `this`'s own vtable keep that object
/// alive (for an aggregate, by counting on the outer, which holds it).
pub(crate) unsafe trait Shape: 'static {
    /// The provider inside.
    type Provider: Provider;

    /// The busy flag and the provider of the object behind `this`.
    ///
    /// # Safety
    /// COM: `this` is a live IMAPISync of this shape, referenced for `'a`.
    unsafe fn parts<'a>(this: *mut c_void) -> (&'a Busy, &'a Self::Provider);
}

// SAFETY: Shape: `parts` reads the header and value of the
// `ComObject<SyncClass<T>>` that `this` points to; its IUnknown is its own.
unsafe impl<T: Provider> Shape for SyncClass<T> {
    type Provider = T;

    unsafe fn parts<'a>(this: *mut c_void) -> (&'a Busy, &'a T) {
        // SAFETY: COM: forwarded from `parts`' contract.
        let object = unsafe { ComObject::<Self>::from_this(this) };
        (&object.state, &object.value)
    }
}

/// Slot 3 for objects of shape `S`.
///
/// # Safety
/// COM: `this` is a live IMAPISync of shape `S`; `psibpb` as the contract says.
pub(crate) unsafe extern "system" fn synchronize_in_background<S: Shape>(
    this: *mut c_void,
    psibpb: *const MAPISIB,
) -> HRESULT {
    // Nothing below should panic; if it ever does, the host sees E_UNEXPECTED
    // rather than an unwind.
    // SAFETY: COM: forwarded from this function's own contract.
    catch_unwind(AssertUnwindSafe(|| unsafe { start::<S>(this, psibpb) })).unwrap_or(E_UNEXPECTED)
}

/// What the worker owns: each field is released exactly once when it drops.
struct Worker<S: Shape> {
    /// The worker's reference, taken and given up through the object's own
    /// vtable: an object whose IUnknown methods delegate (an aggregated
    /// inner object) keeps its controlling object alive this way.
    object: IMAPISync,
    shape: PhantomData<S>,
    job: SyncJob,
    event: WorkerEvent,
    /// The host's handle, passed back in `Done` (a value, never used to signal).
    host_event: HANDLE,
}

// SAFETY: Send: `object` is a mapisync object of shape `S` (its slot 3 is
// `synchronize_in_background::<S>`, which is how the worker came to exist),
// whose IUnknown methods are atomic and whose provider is Send + Sync. When
// the object is the inner part of an aggregate, its AddRef/Release reach the
// controlling object, which must then be free-threaded too (ThreadingModel
// "Both", as the whole provider is); the job is Send for its own reasons; the
// host's event handle is only carried as a value to `Done`.
unsafe impl<S: Shape> Send for Worker<S> {}

/// Checks `psibpb` and copies it; sets `*phSyncDoneEvent` to NULL.
///
/// # Safety
/// MAPISIB: `psibpb` is NULL or readable for its `ulSize` bytes, and a
/// non-null `phSyncDoneEvent` in it is writable.
unsafe fn read_mapisib(psibpb: *const MAPISIB) -> Result<MAPISIB, HRESULT> {
    if psibpb.is_null() {
        return Err(E_INVALIDARG);
    }
    // SAFETY: MAPISIB: a non-null argument is readable at least for its first field.
    let size = unsafe { core::ptr::addr_of!((*psibpb).ulSize).read_unaligned() };
    if size < MAPISIB::SIZE {
        return Err(E_INVALIDARG);
    }
    // SAFETY: MAPISIB: ulSize was checked to cover the whole structure.
    let sib = unsafe { psibpb.read_unaligned() };
    if sib.phSyncDoneEvent.is_null() {
        return Err(E_INVALIDARG);
    }
    // SAFETY: MAPISIB: a non-null phSyncDoneEvent is writable for one HANDLE.
    unsafe { sib.phSyncDoneEvent.write_unaligned(core::ptr::null_mut()) };
    Ok(sib)
}

/// The job for a sync the host asked for in `sib`, holding the worker's own
/// references to the session and the callback.
///
/// # Safety
/// COM: the interface pointers in `sib` are NULL or live for this call.
unsafe fn host_job(sib: &MAPISIB) -> SyncJob {
    // SAFETY: COM: the session is borrowed for the call; clone takes the worker's own reference.
    let session = unsafe { IUnknown::from_raw_borrowed(&sib.psesSync) }.cloned();
    // SAFETY: COM: the callback object is borrowed for the call; cast queries
    // it for the callback interface and takes the worker's own reference.
    let callback = unsafe { IUnknown::from_raw_borrowed(&sib.punkCallBack) }
        .and_then(|unknown| unknown.cast::<IMAPISyncProgressCallback>().ok());
    // SAFETY: the contract: the objects a host passes in MAPISIB are free-threaded.
    unsafe { SyncJob::with_host_objects(SyncFlags::from_bits(sib.ulFlags), session, callback) }
}

/// # Safety
/// As [`synchronize_in_background`].
unsafe fn start<S: Shape>(this: *mut c_void, psibpb: *const MAPISIB) -> HRESULT {
    // SAFETY: MAPISIB: forwarded from this function's own contract.
    let sib = match unsafe { read_mapisib(psibpb) } {
        Ok(sib) => sib,
        Err(hr) => return hr,
    };
    // SAFETY: COM: the caller holds a reference for the whole call.
    let (busy, _) = unsafe { S::parts(this) };
    if !busy.try_start() {
        return MAPI_E_BUSY;
    }
    let busy_guard = BusyGuard(busy);
    // SAFETY: COM: the caller's MAPISIB pointers are live for this call.
    let job = unsafe { host_job(&sib) };
    let token = job.cancel_token();
    let (host_event, event) = match event::create() {
        Ok(pair) => pair,
        Err(hr) => return hr,
    };
    let worker = Worker::<S> {
        // SAFETY: COM: `this` is a live IMAPISync the caller holds for the whole
        // call; ManuallyDrop borrows it without a Release, clone AddRefs it.
        object: (*core::mem::ManuallyDrop::new(unsafe { IMAPISync::from_raw(this) })).clone(),
        shape: PhantomData,
        job,
        event,
        host_event,
    };
    // Decision 1: the handle is in the host's variable before the worker can
    // call anything; the spawn below orders this write before the worker's
    // first instruction, and nothing here touches the variable afterwards
    // (by then the host may already have cleared it in `Done`).
    // SAFETY: MAPISIB: checked non-null and writable above.
    unsafe { sib.phSyncDoneEvent.write_unaligned(host_event) };
    if let Err(hr) = lifecycle::start_worker(this, &token, move || run(worker)) {
        // Refused (shutdown) or no thread: no worker exists, so the variable
        // is still ours to take back. The closure, and with it every
        // reference the worker took, is already dropped.
        // SAFETY: MAPISIB: checked non-null and writable above.
        unsafe { sib.phSyncDoneEvent.write_unaligned(core::ptr::null_mut()) };
        event::close_unhanded(host_event);
        return hr;
    }
    core::mem::forget(busy_guard); // the worker clears the flag now
    S_OK
}

/// Clears the busy flag on a failed start.
struct BusyGuard<'a>(&'a Busy);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// The worker thread's body.
fn run<S: Shape>(worker: Worker<S>) {
    let Worker { object, mut job, event, host_event, .. } = worker;
    // SAFETY: COM: `object` holds a reference, so the object outlives these borrows.
    let (busy, provider) = unsafe { S::parts(object.as_raw()) };
    let outcome = catch_unwind(AssertUnwindSafe(|| provider.synchronize_in_background(&mut job)));
    // From here on the sync cannot be cancelled; `cancelled` says whether it was.
    let cancelled = job.cancel.0.end();
    let hr = done_hresult(outcome, cancelled, &mut job);
    // The sync has ended: the next one may start, then the host is told.
    busy.finish();
    event.signal();
    job.done(host_event, hr);
    drop(job);
    drop(event);
    drop(object);
}

/// The HRESULT of `Done` for what the provider's method did.
fn done_hresult(outcome: std::thread::Result<crate::Result<()>>, cancelled: bool, job: &mut SyncJob) -> HRESULT {
    match outcome {
        Ok(Ok(())) if cancelled => MAPI_E_USER_CANCEL,
        Ok(Ok(())) => S_OK,
        // An Err that carries a success code is still a failure.
        Ok(Err(error)) if error.code().is_ok() => E_FAIL,
        Ok(Err(error)) => error.code(),
        Err(payload) => {
            let text = format!("the provider panicked: {}", panic_text(&*payload));
            forget_payload(payload);
            let _ = job.error(E_UNEXPECTED, &text);
            E_UNEXPECTED
        }
    }
}

fn panic_text(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Drops a panic payload without letting a panicking Drop escape.
fn forget_payload(payload: Box<dyn Any + Send>) {
    if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        core::mem::forget(again);
    }
}

//! The background-sync protocol: unpacking `MAPISIB`, the worker thread, the
//! done event and the progress callback, as the contract's "Decisions" say.
//!
//! `SynchronizeInBackground` validates and copies what it needs, takes the
//! references the worker keeps, creates the done event, starts the worker and
//! returns S_OK at once. The worker runs the provider's method, then clears
//! the busy flag, signals the event, calls `Done(event, hr)` and releases
//! everything it held, each exactly once.

use crate::atomic::Ordering;
use core::ffi::c_void;
use core::marker::PhantomData;
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use windows_core::{GUID, HRESULT, IUnknown, Interface};

use crate::abi::{HANDLE, IID_IMAPISync, IMAPISync, IMAPISync_Vtbl, IMAPISyncProgressCallback, MAPISIB};
use crate::event::{self, WorkerEvent};
use crate::flags::SyncFlags;
use crate::hresult::{E_FAIL, E_INVALIDARG, E_OUTOFMEMORY, E_UNEXPECTED, MAPI_E_BUSY, S_OK};
use crate::object::{Class, ComObject, ObjectRef, iunknown_vtbl};

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
}

impl SyncJob {
    /// A job outside any host, for testing provider code directly.
    ///
    /// ```
    /// let job = mapisync::SyncJob::new(mapisync::SyncFlags::ON_DEMAND, None, None);
    /// assert!(job.flags().contains(mapisync::SyncFlags::ON_DEMAND));
    /// ```
    pub fn new(flags: SyncFlags, session: Option<IUnknown>, callback: Option<IMAPISyncProgressCallback>) -> Self {
        Self { flags, session, callback, text: Vec::new() }
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

    /// Shows `text` and "`index` of `max` done" in the host's Send/Receive dialog.
    /// The text ends at its first NUL, if it has one.
    pub fn progress(&mut self, text: &str, index: u32, max: u32) -> crate::Result<()> {
        let Some(callback) = &self.callback else { return Ok(()) };
        let text = encode(&mut self.text, text);
        // SAFETY: COM: `callback` is a counted reference; `text` is NUL-terminated UTF-16.
        unsafe { callback.Progress(text, index, max) }.ok()
    }

    /// Updates only the numbers, keeping the host's current text (a NULL string).
    pub fn progress_count(&mut self, index: u32, max: u32) -> crate::Result<()> {
        let Some(callback) = &self.callback else { return Ok(()) };
        // SAFETY: COM: `callback` is a counted reference; NULL text is allowed.
        unsafe { callback.Progress(core::ptr::null(), index, max) }.ok()
    }

    /// Reports an error or warning; the sync goes on unless the provider stops it.
    pub fn error(&mut self, hr: HRESULT, text: &str) -> crate::Result<()> {
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

// SAFETY: Send: the contract has the provider call the host's callback and
// session from its own background thread ("InBackground"), so the host's
// objects handed over in MAPISIB must be usable from another thread
// (Outlook's are free-threaded). The job moves to the worker once.
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
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a mapisync provider: its `impl MapiSync` lacks `#[mapisync::provider]`",
    label = "not a provider",
    note = "write `#[mapisync::provider]` on the line above `impl mapisync::MapiSync for {Self}`"
)]
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
    IMAPISync_Vtbl { base__: iunknown_vtbl::<SyncClass<T>>(), SynchronizeInBackground: synchronize_in_background::<T> }
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

const IDLE: u32 = 0;
const RUNNING: u32 = 1;

/// Slot 3 for provider `T`.
///
/// # Safety
/// COM: `this` is a live object of `SyncClass<T>`; `psibpb` as the contract says.
unsafe extern "system" fn synchronize_in_background<T: Provider>(this: *mut c_void, psibpb: *const MAPISIB) -> HRESULT {
    // Nothing below should panic; if it ever does, the host sees E_UNEXPECTED
    // rather than an unwind.
    // SAFETY: forwarded from this function's own contract.
    catch_unwind(AssertUnwindSafe(|| unsafe { start::<T>(this, psibpb) })).unwrap_or(E_UNEXPECTED)
}

/// What the worker owns: each field is released exactly once when it drops.
struct Worker<T: Provider> {
    /// The worker's reference, taken and given up through the object's own
    /// vtable: an object whose IUnknown methods delegate (an aggregated
    /// inner object) keeps its controlling object alive this way.
    object: IMAPISync,
    provider: PhantomData<T>,
    job: SyncJob,
    event: WorkerEvent,
    /// The host's handle, passed back in `Done` (a value, never used to signal).
    host_event: HANDLE,
}

// SAFETY: Send: `object` is a mapisync object of provider `T` (its slot 3 is
// `synchronize_in_background::<T>`, which is how the worker came to exist),
// whose IUnknown methods are atomic and whose value is Send + Sync. When the
// object is the inner part of an aggregate, its AddRef/Release reach the
// controlling object, which must then be free-threaded too (ThreadingModel
// "Both", as the whole provider is); the job is Send for its own reasons; the
// host's event handle is only carried as a value to `Done`.
unsafe impl<T: Provider> Send for Worker<T> {}

/// # Safety
/// As [`synchronize_in_background`].
unsafe fn start<T: Provider>(this: *mut c_void, psibpb: *const MAPISIB) -> HRESULT {
    if psibpb.is_null() {
        return E_INVALIDARG;
    }
    // SAFETY: MAPISIB: a non-null argument is readable at least for its first field.
    let size = unsafe { core::ptr::addr_of!((*psibpb).ulSize).read_unaligned() };
    if size < MAPISIB::SIZE {
        return E_INVALIDARG;
    }
    // SAFETY: MAPISIB: ulSize was checked to cover the whole structure.
    let sib = unsafe { psibpb.read_unaligned() };
    if sib.phSyncDoneEvent.is_null() {
        return E_INVALIDARG;
    }
    // SAFETY: MAPISIB: a non-null phSyncDoneEvent is writable for one HANDLE.
    unsafe { sib.phSyncDoneEvent.write_unaligned(core::ptr::null_mut()) };

    // SAFETY: COM: the caller holds a reference for the whole call.
    let object = unsafe { ComObject::<SyncClass<T>>::from_this(this) };
    if object.state.compare_exchange(IDLE, RUNNING, Ordering::Acquire, Ordering::Relaxed).is_err() {
        return MAPI_E_BUSY;
    }
    let busy_guard = BusyGuard(&object.state);

    // SAFETY: COM: the session is borrowed for the call; clone takes the worker's own reference.
    let session = unsafe { IUnknown::from_raw_borrowed(&sib.psesSync) }.cloned();
    // SAFETY: COM: as above for the callback object; cast queries it for the callback interface.
    let callback = unsafe { IUnknown::from_raw_borrowed(&sib.punkCallBack) }
        .and_then(|unknown| unknown.cast::<IMAPISyncProgressCallback>().ok());
    let job = SyncJob::new(SyncFlags::from_bits_retain(sib.ulFlags), session, callback);

    let (host_event, event) = match event::create() {
        Ok(pair) => pair,
        Err(hr) => return hr,
    };
    let worker = Worker::<T> {
        // SAFETY: COM: `this` is a live IMAPISync the caller holds for the whole
        // call; ManuallyDrop borrows it without a Release, clone AddRefs it.
        object: (*core::mem::ManuallyDrop::new(unsafe { IMAPISync::from_raw(this) })).clone(),
        provider: PhantomData,
        job,
        event,
        host_event,
    };
    let spawned = std::thread::Builder::new().name("mapisync-sync".into()).spawn(move || run(worker));
    if spawned.is_err() {
        // The closure, and with it every reference the worker took, is already dropped.
        event::close_unhanded(host_event);
        return E_OUTOFMEMORY;
    }
    core::mem::forget(busy_guard); // the worker clears the flag now
    // SAFETY: MAPISIB: checked non-null and writable above.
    unsafe { sib.phSyncDoneEvent.write_unaligned(host_event) };
    S_OK
}

/// Clears the busy flag on a failed start.
struct BusyGuard<'a>(&'a crate::atomic::AtomicU32);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.store(IDLE, Ordering::Release);
    }
}

/// The worker thread's body.
fn run<T: Provider>(worker: Worker<T>) {
    let Worker { object, mut job, event, host_event, .. } = worker;
    // SAFETY: COM: `object` holds a reference, so the object outlives this borrow.
    let object_ref = unsafe { ComObject::<SyncClass<T>>::from_this(object.as_raw()) };
    let provider: &T = &object_ref.value;
    let outcome = catch_unwind(AssertUnwindSafe(|| provider.synchronize_in_background(&mut job)));
    let hr = match outcome {
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
    };
    // The sync has ended: the next one may start, then the host is told.
    object_ref.state.store(IDLE, Ordering::Release);
    event.signal();
    job.done(host_event, hr);
    drop(job);
    drop(event);
    drop(object);
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

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
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use windows_core::{GUID, HRESULT, IUnknown, Interface};

use crate::abi::{HANDLE, IID_IMAPISync, IMAPISync, IMAPISync_Vtbl, IMAPISyncProgressCallback, MAPISIB};
use crate::job::HostObjects;
// Re-exported for the in-proc server's tests, which name it here.
use crate::event::{self, WorkerEvent};
use crate::flags::SyncFlags;
use crate::hresult::{E_INVALIDARG, E_OUTOFMEMORY, E_UNEXPECTED, MAPI_E_BUSY, S_OK};
pub(crate) use crate::job::SyncJob;
use crate::object::{Class, ComObject, ObjectRef, iunknown_vtbl};
use crate::unwind::{forget_payload, panic_text};

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
    /// `Done(event, e.code())`, preceded by `Error(e.code(), e.message())`
    /// when `e` has a message (Outlook shows it in its Send/Receive dialog).
    /// A success code in an `Err` reaches the host as E_FAIL. A panic is
    /// caught and reported as E_UNEXPECTED through `Error` and `Done`.
    ///
    /// ```
    /// use mapisync::{Error, MAPI_E_NETWORK_ERROR};
    ///
    /// struct Offline;
    /// #[mapisync::provider]
    /// impl mapisync::MapiSync for Offline {
    ///     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> {
    ///         Err(Error::new(MAPI_E_NETWORK_ERROR, "cannot reach imap.example.com"))
    ///     }
    /// }
    ///
    /// let report = mapisync::host::Host::new().run(&mapisync::IMAPISync::from(Offline)).unwrap();
    /// let errors: Vec<_> = report.errors().collect();
    /// assert_eq!(errors, [(MAPI_E_NETWORK_ERROR, Some("cannot reach imap.example.com"))]);
    /// assert_eq!(report.done, Some(MAPI_E_NETWORK_ERROR));
    /// ```
    fn synchronize_in_background(&self, job: &mut SyncJob) -> crate::Result<()>;
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
        // SAFETY: COM: the vtable identifies the object as a ComObject<SyncClass<T>>,
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
    // SAFETY: COM: the host's call gives what `start` needs (this function's
    // `# Safety`: a live object of `SyncClass<T>`, MAPISIB as the contract says).
    catch_unwind(AssertUnwindSafe(|| unsafe { start::<T>(this, psibpb) })).unwrap_or_else(|payload| {
        forget_payload(payload);
        E_UNEXPECTED
    })
}

/// What the worker owns: each field is released exactly once when it drops.
struct Worker<T: Provider> {
    /// The worker's reference, taken and given up through the object's own
    /// vtable: an object whose IUnknown methods delegate (an aggregated
    /// inner object) keeps its controlling object alive this way.
    object: IMAPISync,
    provider: PhantomData<T>,
    job: SyncJob,
    /// The worker's own share of the host's objects: `Done` goes through it,
    /// whatever the provider does with `job`.
    host: Arc<HostObjects>,
    event: WorkerEvent,
    /// The host's handle, passed back in `Done` (a value, never used to signal).
    host_event: HANDLE,
}

// SAFETY: Send: `object` is a mapisync object of provider `T` (its slot 3 is
// `synchronize_in_background::<T>`, which is how the worker came to exist),
// whose IUnknown methods are atomic and whose value is Send + Sync. When the
// object is the inner part of an aggregate, its AddRef/Release reach the
// controlling object, which must then be free-threaded too (ThreadingModel
// "Both", as the whole provider is); the job and the host's objects are Send
// for their own reasons (job.rs); the host's event handle is only carried as
// a value to `Done`.
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
    // SAFETY: COM: the callback object is borrowed for the call; cast queries it and
    // takes the worker's own reference to the callback interface.
    let callback = unsafe { IUnknown::from_raw_borrowed(&sib.punkCallBack) }
        .and_then(|unknown| unknown.cast::<IMAPISyncProgressCallback>().ok());
    // SAFETY: MAPISIB: the contract: the objects a host passes in it are free-threaded.
    let job = unsafe { SyncJob::with_host_objects(SyncFlags::from_bits_retain(sib.ulFlags), session, callback) };

    let host = job.host();
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
        host,
        event,
        host_event,
    };
    // Decision 1: the handle is in the host's variable before the worker can
    // call anything; the spawn below orders this write before the worker's
    // first instruction, and nothing here touches the variable afterwards
    // (by then the host may already have cleared it in `Done`).
    // SAFETY: MAPISIB: checked non-null and writable above.
    unsafe { sib.phSyncDoneEvent.write_unaligned(host_event) };
    let spawned = std::thread::Builder::new().name("mapisync-sync".into()).spawn(move || run(worker));
    if spawned.is_err() {
        // No worker exists, so the variable is still ours to take back. The
        // closure, and with it every reference the worker took, is already dropped.
        // SAFETY: MAPISIB: checked non-null and writable above.
        unsafe { sib.phSyncDoneEvent.write_unaligned(core::ptr::null_mut()) };
        event::close_unhanded(host_event);
        return E_OUTOFMEMORY;
    }
    core::mem::forget(busy_guard); // the worker clears the flag now
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
    let Worker { object, mut job, host, event, host_event, .. } = worker;
    // SAFETY: COM: `object` holds a reference, so the object outlives this borrow.
    let object_ref = unsafe { ComObject::<SyncClass<T>>::from_this(object.as_raw()) };
    let provider: &T = &object_ref.value;
    let outcome = catch_unwind(AssertUnwindSafe(|| provider.synchronize_in_background(&mut job)));
    let hr = match outcome {
        Ok(Ok(())) => S_OK,
        // Decision 7: a message reaches the host's Error before Done.
        Ok(Err(error)) if !error.message().is_empty() => {
            let _ = host.error(&mut Vec::new(), error.failure_code(), error.message());
            error.failure_code()
        }
        Ok(Err(error)) => error.failure_code(),
        Err(payload) => {
            let text = format!("the provider panicked: {}", panic_text(&*payload));
            forget_payload(payload);
            let _ = host.error(&mut Vec::new(), E_UNEXPECTED, &text);
            E_UNEXPECTED
        }
    };
    // The sync has ended: the next one may start, then the host is told.
    object_ref.state.store(IDLE, Ordering::Release);
    event.signal();
    host.done(host_event, hr);
    drop(job);
    drop(host);
    drop(event);
    drop(object);
}

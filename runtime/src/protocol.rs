//! The background-sync protocol: unpacking `MAPISIB`, the worker thread, the
//! done event and the progress callback, as the contract's "Decisions" say.
//!
//! `SynchronizeInBackground` validates and copies what it needs, takes the
//! references the worker keeps, creates the done event, has the module's
//! [`lifecycle`](crate::lifecycle) registry admit the sync and start the
//! worker, and returns S_OK at once. The worker runs the provider's method,
//! ends the job's cancel word, clears the busy flag, signals the event,
//! calls `Done(event, hr)` and releases everything it held, each exactly
//! once; then its thread exits, which the registry observes. The protocol
//! is generic over the object's `Shape` (a plain object or an aggregated
//! inner object).

use core::ffi::c_void;
use core::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use windows_core::{HRESULT, IUnknown, Interface};

use crate::abi::{HANDLE, IMAPISync, IMAPISync_Vtbl, IMAPISyncProgressCallback, MAPISIB};
use crate::job::{HostObjects, HostRefs};
// Re-exported for the in-proc server's tests, which name it here.
use crate::event::worker::{self as event, WorkerEvent};
use crate::flags::SyncFlags;
use crate::hresult::{E_INVALIDARG, E_UNEXPECTED, MAPI_E_BUSY, MAPI_E_USER_CANCEL, S_OK};
pub(crate) use crate::job::SyncJob;
use crate::object::{Class, ComObject, ObjectRef, iunknown_vtbl};
use crate::state::Busy;
use crate::unwind::{forget_payload, panic_text};
use crate::workers::CancelToken;

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
}

/// The IMAPISync vtable for provider `T`, instantiated by the macro.
#[doc(hidden)]
pub const fn vtable<T: Provider>() -> IMAPISync_Vtbl {
    IMAPISync_Vtbl {
        base__: iunknown_vtbl::<SyncClass<T>>(),
        SynchronizeInBackground: synchronize_in_background::<SyncClass<T>>,
    }
}

/// `ProviderProbe<T>: ProviderOf<T>`: `T` is a provider. Implemented by
/// `#[mapisync::provider]` beside [`Provider`]; not by hand.
///
/// It exists for the error message: the blanket `From` below is bound on
/// this trait, whose self type is neither the user's type nor `IMAPISync`,
/// so rustc shows this message for `.into()` and `IMAPISync::from` alike (a
/// bound on `T: Provider` was reported as the bare root obligation
/// `T: Into<IMAPISync>`; one on `IMAPISync` lost `IMAPISync::from` to the
/// reflexive `From<T> for T`, a bare "mismatched types").
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{T}` is not a mapisync provider: its `impl MapiSync` lacks `#[mapisync::provider]`",
    label = "not a provider",
    note = "write `#[mapisync::provider]` on the line above `impl mapisync::MapiSync for {T}`"
)]
pub trait ProviderOf<T> {
    /// `provider` as a live COM object: [`into_interface`].
    fn into_sync(provider: T) -> IMAPISync;
}

/// The self type of [`ProviderOf`]: a type of this crate's, so the
/// attribute's `impl ProviderOf<MyStore> for ProviderProbe<MyStore>` is the
/// user crate's to write (its type is the first local one) and no other
/// crate's.
#[doc(hidden)]
pub struct ProviderProbe<T>(PhantomData<T>);

/// A provider becomes a live COM object (count one) with IMAPISync's vtable:
/// `let sync: mapisync::IMAPISync = MyStore.into();` for any type whose
/// `impl MapiSync` carries `#[mapisync::provider]`.
impl<T> From<T> for IMAPISync
where
    ProviderProbe<T>: ProviderOf<T>,
{
    #[inline]
    fn from(provider: T) -> Self {
        <ProviderProbe<T> as ProviderOf<T>>::into_sync(provider)
    }
}

impl IMAPISync {
    /// `IMAPISync::from(MyStore)`, the same as `MyStore.into()`. Inherent,
    /// so that for a type without the attribute rustc reports the missing
    /// attribute here too: through the trait, `IMAPISync::from(x)` also
    /// matches core's reflexive `From<T> for T`, and the error was a bare
    /// "mismatched types".
    #[allow(clippy::should_implement_trait)] // it does implement From; this is the same conversion
    #[inline]
    pub fn from<T>(provider: T) -> Self
    where
        ProviderProbe<T>: ProviderOf<T>,
    {
        <ProviderProbe<T> as ProviderOf<T>>::into_sync(provider)
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
        // SAFETY: COM: the vtable identifies the object as a ComObject<SyncClass<T>>,
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
        // SAFETY: COM: `parts`' Safety: `this` is a live object of this class, referenced for 'a.
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
    // SAFETY: COM: the host's call gives what `start` needs (this function's
    // `# Safety`: a live object of shape `S`, MAPISIB as the contract says).
    catch_unwind(AssertUnwindSafe(|| unsafe { start::<S>(this, psibpb) })).unwrap_or_else(|payload| {
        forget_payload(payload);
        E_UNEXPECTED
    })
}

/// What the worker owns: each field is released exactly once when it drops.
struct Worker<S: Shape> {
    /// The worker's reference, taken and given up through the object's own
    /// vtable: an object whose IUnknown methods delegate (an aggregated
    /// inner object) keeps its controlling object alive this way.
    object: IMAPISync,
    shape: PhantomData<S>,
    job: SyncJob,
    /// The worker's own share of the host's objects: `Done` goes through it,
    /// whatever the provider does with `job`.
    host: Arc<HostObjects>,
    /// The worker's own copy of the job's cancel word, ended by the worker
    /// (the provider may replace its `job`).
    token: CancelToken,
    event: WorkerEvent,
    /// The host's handle, passed back in `Done` (a value, never used to signal).
    host_event: HANDLE,
}

// SAFETY: Send: `object` is a mapisync object of shape `S` (its slot 3 is
// `synchronize_in_background::<S>`, which is how the worker came to exist),
// whose IUnknown methods are atomic and whose provider is Send + Sync. When
// the object is the inner part of an aggregate, its AddRef/Release reach the
// controlling object, which must then be free-threaded too (ThreadingModel
// "Both", as the whole provider is); the job and the host's objects are Send
// for their own reasons (job.rs), the token is an Arc of atomics; the host's
// event handle is only carried as a value to `Done`.
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

/// Refuses a start with `hr`, as every failure does: `*phSyncDoneEvent`
/// set to NULL where MAPISIB is complete and the pointer is usable (a
/// structure too short is not read past `ulSize`).
///
/// # Safety
/// As [`read_mapisib`].
pub(crate) unsafe fn refuse_start(psibpb: *const MAPISIB, hr: HRESULT) -> HRESULT {
    // SAFETY: MAPISIB: the caller's `psibpb` is as `read_mapisib` requires.
    let _ = unsafe { read_mapisib(psibpb) };
    hr
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
    // SAFETY: MAPISIB: the contract: the objects a host passes in it are free-threaded.
    unsafe { SyncJob::with_host_objects(SyncFlags::from_bits_retain(sib.ulFlags), session, callback) }
}

/// # Safety
/// As [`synchronize_in_background`].
unsafe fn start<S: Shape>(this: *mut c_void, psibpb: *const MAPISIB) -> HRESULT {
    // SAFETY: MAPISIB: this function's Safety: `psibpb` is null or points to a host's MAPISIB.
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
    let (host, token) = (job.host(), job.cancel_token());
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
        host,
        token: token.clone(),
        event,
        host_event,
    };
    // Decision 1: the handle is in the host's variable before the worker can
    // call anything; the spawn below orders this write before the worker's
    // first instruction, and nothing here touches the variable afterwards
    // (by then the host may already have cleared it in `Done`).
    // SAFETY: MAPISIB: checked non-null and writable above.
    unsafe { sib.phSyncDoneEvent.write_unaligned(host_event) };
    if let Err(hr) = crate::spawn::start_worker(this, &token, Box::new(move || run(worker))) {
        // Refused (shutdown) or no thread: no worker exists, so the variable
        // is still ours to take back. The closure, and with it every
        // reference the worker took, is already dropped.
        // SAFETY: MAPISIB: checked non-null and writable above.
        unsafe { sib.phSyncDoneEvent.write_unaligned(core::ptr::null_mut()) };
        // SAFETY: the handle is the host's from `event::create` above, and the
        // host was never given it (its variable was just reset).
        unsafe { event::close_unhanded(host_event) };
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
    let Worker { object, mut job, host, token, event, host_event, .. } = worker;
    // SAFETY: COM: `object` holds a reference, so the object outlives these borrows.
    let (busy, provider) = unsafe { S::parts(object.as_raw()) };
    let outcome = catch_unwind(AssertUnwindSafe(|| provider.synchronize_in_background(&mut job)));
    // From here on the sync cannot be cancelled; `cancelled` says whether it was.
    let cancelled = crate::workers::token_state(&token).end();
    // No job of this sync reaches the host any more, whoever kept one: the
    // worker waits for calls in flight and owns the host's objects now.
    let refs = host.close();
    let hr = done_hresult(outcome, cancelled, refs.as_ref());
    // The sync has ended: the next one may start, then the host is told.
    busy.finish();
    event.signal();
    if let Some(refs) = &refs {
        refs.done(host_event, hr);
    }
    drop(refs);
    drop(job);
    drop(host);
    drop(event);
    drop(object);
}

/// The HRESULT of `Done` for what the provider's method did; a message or a
/// panic reaches the host's `Error` first, unless the sync was cancelled.
fn done_hresult(outcome: std::thread::Result<crate::Result<()>>, cancelled: bool, host: Option<&HostRefs>) -> HRESULT {
    let report = |hr, text: &str| {
        if let Some(host) = host {
            let _ = host.error(hr, text);
        }
    };
    match outcome {
        Ok(Ok(())) if cancelled => MAPI_E_USER_CANCEL,
        Ok(Ok(())) => S_OK,
        // Decision 7: a message reaches the host's Error before Done.
        Ok(Err(error)) if !error.message().is_empty() && !cancelled => {
            report(crate::error::failure_code(&error), error.message());
            crate::error::failure_code(&error)
        }
        Ok(Err(error)) => crate::error::failure_code(&error),
        Err(payload) => {
            let text = format!("the provider panicked: {}", panic_text(&*payload));
            forget_payload(payload);
            if !cancelled {
                report(E_UNEXPECTED, &text);
            }
            E_UNEXPECTED
        }
    }
}

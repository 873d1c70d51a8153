//! Putting IMAPISync on a store object: COM aggregation and tear-offs.
//!
//! Outlook asks the provider's store object (its `IMsgStore`) for
//! IID_IMAPISync, and COM's identity rule says the answer must lead back to
//! that store's IUnknown. Two ways to get there:
//!
//! | | [aggregation](create_inner) | [tear-off](tear_off) |
//! |---|---|---|
//! | the store | is made by a factory (or constructor) that can hand its own IUnknown to mapisync at creation | is any object whose QueryInterface you write yourself |
//! | QI(IMAPISync) on the store | forward to the inner object's non-delegating IUnknown | return `tear_off(store, &sync)` |
//! | the IMAPISync pointer | the same pointer every time, counted on the store | a small new object per query, with its own count |
//! | a running sync | keeps the store alive (the worker's reference is the store's) | keeps the sync object alive; the store may go |
//! | identity | fully preserved: AddRef, Release and QueryInterface are the store's | QueryInterface is the store's; the count is the tear-off's |
//!
//! Use aggregation when the store can hold the inner object for its whole
//! life (a class factory that supports aggregation, or a windows-rs
//! `#[implement]` store that forwards its IMAPISync methods, as the
//! `store_object` example does); use a tear-off when the store is your own
//! object and adding a creation-time link is not practical.
//!
//! # Aggregation: the rules the outer object follows
//! [`create_inner`] makes the inner object. The outer (controlling) object:
//! 1. passes its own controlling IUnknown at creation and keeps the
//!    returned **non-delegating** IUnknown for its whole life; that
//!    reference is the only one that keeps the inner object alive;
//! 2. answers QueryInterface for IID_IMAPISync by forwarding the call to
//!    that non-delegating IUnknown: the IMAPISync it gets back delegates
//!    QueryInterface, AddRef and Release to the outer, and the reference
//!    it carries is counted on the outer;
//! 3. if it keeps such an IMAPISync pointer cached, calls Release on
//!    **itself** (its own controlling IUnknown) right after obtaining it,
//!    and AddRef on itself just before releasing the cached pointer in its
//!    destructor: otherwise the cache holds the outer alive forever;
//! 4. releases the non-delegating IUnknown in its destructor, once;
//! 5. is free-threaded: the sync runs on a worker thread, which AddRefs
//!    and Releases the outer from there (and holds it alive until `Done`).
//!
//! The inner object keeps a plain, uncounted pointer to the outer: counting
//! it would make a cycle. That is why [`create_inner`] is `unsafe`.

use core::ffi::c_void;
use core::marker::PhantomData;
use core::mem::offset_of;
use core::ptr::NonNull;

use windows_core::{GUID, HRESULT, IUnknown, IUnknown_Vtbl, Interface};

use crate::abi::{IID_IMAPISync, IID_IUnknown, IMAPISync, IMAPISync_Vtbl, MAPISIB};
use crate::hresult::E_NOINTERFACE;
use crate::object::{AddRef, Class, ComObject, add_ref, iunknown_vtbl, query_by, release};
use crate::protocol::{Provider, Shape, SyncClass, synchronize_in_background};
use crate::server::{Instance, OuterUnknown};
use crate::state::Busy;

/// Makes provider `T` the inner object of the aggregate whose controlling
/// IUnknown is `outer`, and returns the inner object's **non-delegating**
/// IUnknown (its only reference).
///
/// - The returned IUnknown has a count of its own; QueryInterface on it
///   answers IUnknown (itself) and IMAPISync (the delegating IMAPISync,
///   with one reference taken on `outer`); anything else is E_NOINTERFACE.
/// - The IMAPISync's QueryInterface, AddRef and Release are `outer`'s, so
///   QueryInterface(IID_IUnknown) on it gives `outer`'s identity, and a
///   running sync keeps `outer` alive.
/// - Its `SynchronizeInBackground` is the provider's, with the usual busy
///   flag; [`provider_of`](crate::provider_of) does not see through it.
///
/// ```
/// # struct Store;
/// # #[mapisync::provider]
/// # impl mapisync::MapiSync for Store {
/// #     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
/// # }
/// use mapisync::{IMAPISync, IUnknown, Interface};
/// # let outer: IUnknown = { let plain: IMAPISync = Store.into(); plain.into() };
/// // `outer` stands for the store's controlling IUnknown (see the module docs).
/// // SAFETY: `outer` outlives `inner` (it is dropped last) and is free-threaded.
/// let inner: IUnknown = unsafe { mapisync::aggregate::create_inner(Store, &outer) };
/// let sync: IMAPISync = inner.cast().unwrap(); // delegating: counted on `outer`
/// assert_eq!(sync.cast::<IUnknown>().unwrap(), outer); // the outer's identity
/// drop(sync);
/// drop(inner); // what the outer does in its destructor
/// ```
///
/// # Safety
/// `outer` outlives the inner object and every interface pointer obtained
/// from it: the outer holds the returned IUnknown and releases it in its
/// destructor, following the rules in the [module docs](self). `outer` is
/// free-threaded (it is AddRef'd and Released on the worker thread).
pub unsafe fn create_inner<T: Provider>(provider: T, outer: &IUnknown) -> IUnknown {
    // SAFETY: NonNull: a live interface pointer is not null.
    let outer = Outer(unsafe { NonNull::new_unchecked(outer.as_raw()) });
    let inner = Aggregate::<T>::create(provider, outer);
    // SAFETY: COM: `inner` is a new non-delegating IUnknown whose one reference we hand over.
    unsafe { IUnknown::from_raw(inner.as_ptr()) }
}

/// A [`server::Constructor`](crate::server::Constructor) for a provider
/// that can be aggregated: with a NULL `outer`, `new()` as a plain
/// IMAPISync object; with an outer unknown, `new()` as the inner object of
/// that aggregate, returned as its non-delegating IUnknown. The class
/// factory has already refused (CLASS_E_NOAGGREGATION) an outer that asks
/// for anything but IID_IUnknown, as COM requires.
///
/// ```
/// # struct Store;
/// # #[mapisync::provider]
/// # impl mapisync::MapiSync for Store {
/// #     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
/// # }
/// use mapisync::server::{ServerClass, clsid};
/// static CLASSES: &[ServerClass] = &[ServerClass::new(
///     clsid("{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}"),
///     "Store",
///     |outer| mapisync::aggregate::new_aggregatable(outer, || Store),
/// )];
/// # assert_eq!(CLASSES.len(), 1);
/// ```
pub fn new_aggregatable<T: Provider>(outer: OuterUnknown<'_>, new: impl FnOnce() -> T) -> Result<Instance, HRESULT> {
    let object = match outer.as_ptr() {
        None => ComObject::<SyncClass<T>>::create(new()),
        // COM: the factory's caller passed a live outer unknown, which owns
        // the returned inner object and so outlives it (OuterUnknown's rule).
        Some(outer) => Aggregate::<T>::create(new(), Outer(outer)),
    };
    // SAFETY: COM: a new object (plain, or the inner's non-delegating
    // IUnknown) with one reference, handed over; both are free-threaded.
    Ok(unsafe { Instance::from_raw(object) })
}

/// The controlling IUnknown, not counted (a counted one would be a cycle).
#[derive(Clone, Copy)]
struct Outer(NonNull<c_void>);

// SAFETY: Send/Sync: the aggregation contract (`create_inner`'s Safety)
// requires a free-threaded outer, whose IUnknown may be called from any thread.
unsafe impl Send for Outer {}
// SAFETY: Send/Sync: a free-threaded outer (`create_inner`'s Safety) may be
// called from several threads at once, so sharing the pointer is sound too.
unsafe impl Sync for Outer {}

impl Outer {
    fn unknown(&self) -> &IUnknown_Vtbl {
        // SAFETY: COM: the outer outlives the inner object (the aggregation
        // contract); an interface pointer points to its vtable pointer.
        unsafe { &**(self.0.as_ptr() as *const *const IUnknown_Vtbl) }
    }
}

/// The value of an aggregated inner object: the provider, the
/// non-delegating IUnknown's vtable pointer (its interface pointer points
/// there) and the uncounted outer. The sync protocol reaches the provider
/// through [`Shape`] for `Aggregate<T>`, never through another class's layout.
struct Aggregated<T> {
    provider: T,
    /// The non-delegating IUnknown's interface pointer points here.
    inner_vtable: &'static IUnknown_Vtbl,
    outer: Outer,
}

/// The object-layer class of an aggregated inner object: its primary
/// vtable is the delegating IMAPISync, its count the non-delegating one's.
struct Aggregate<T>(PhantomData<T>);

impl<T: Provider> Class for Aggregate<T> {
    type Value = Aggregated<T>;
    type Vtable = IMAPISync_Vtbl;
    const VTABLE: &'static IMAPISync_Vtbl = &IMAPISync_Vtbl {
        base__: IUnknown_Vtbl {
            QueryInterface: delegating_query_interface::<T>,
            AddRef: delegating_add_ref::<T>,
            Release: delegating_release::<T>,
        },
        // The sync protocol for this shape: it reaches the provider through
        // `Shape` below and takes the worker's reference through the
        // delegating AddRef (so on the outer).
        SynchronizeInBackground: synchronize_in_background::<Aggregate<T>>,
    };
}

impl<T: Provider> Aggregate<T> {
    /// The non-delegating IUnknown's vtable.
    const INNER_VTABLE: &'static IUnknown_Vtbl = &IUnknown_Vtbl {
        QueryInterface: inner_query_interface::<T>,
        AddRef: inner_add_ref::<T>,
        Release: inner_release::<T>,
    };

    /// From the object (IMAPISync) pointer to the non-delegating IUnknown pointer.
    const INNER_OFFSET: usize = offset_of!(ComObject<Aggregate<T>>, value) + offset_of!(Aggregated<T>, inner_vtable);

    /// Boxes `provider` as the inner object of `outer`'s aggregate and
    /// returns its non-delegating IUnknown with a count of one.
    fn create(provider: T, outer: Outer) -> NonNull<c_void> {
        let object = ComObject::<Self>::create(Aggregated { provider, inner_vtable: Self::INNER_VTABLE, outer });
        // SAFETY: in bounds: INNER_OFFSET is a field of the object just
        // created; the pointer keeps the provenance of the whole allocation.
        unsafe { object.byte_add(Self::INNER_OFFSET) }
    }

    /// The object (IMAPISync) pointer behind a non-delegating IUnknown pointer.
    ///
    /// # Safety
    /// `inner` is a non-delegating IUnknown pointer made by `create`.
    unsafe fn object_of(inner: *mut c_void) -> *mut c_void {
        // SAFETY: in bounds: `inner` is INNER_OFFSET bytes into the object (see `create`).
        unsafe { inner.byte_sub(Self::INNER_OFFSET) }
    }

    /// The controlling IUnknown of the object behind `this`.
    ///
    /// # Safety
    /// COM: `this` is a live object (IMAPISync) pointer of this class.
    unsafe fn outer(this: *mut c_void) -> Outer {
        // SAFETY: COM: the caller holds a reference (counted on the outer,
        // which holds the inner alive).
        unsafe { ComObject::<Self>::from_this(this) }.value.outer
    }
}

// SAFETY: Shape: `parts` reads the busy flag and the provider of the
// `ComObject<Aggregate<T>>` that `this` (the delegating IMAPISync pointer,
// which is the object pointer) points to.
unsafe impl<T: Provider> Shape for Aggregate<T> {
    type Provider = T;

    unsafe fn parts<'a>(this: *mut c_void) -> (&'a Busy, &'a T) {
        // SAFETY: COM: `parts`' Safety: `this` is a live object of this
        // class, referenced for 'a; the reference is counted on the outer,
        // which holds the inner object alive).
        let object = unsafe { ComObject::<Self>::from_this(this) };
        (&object.state, &object.value.provider)
    }
}

/// Slot 0 of the delegating IMAPISync: the outer's QueryInterface.
///
/// # Safety
/// COM: `this` is a live aggregated IMAPISync; `riid` and `ppv` as the outer accepts them.
unsafe extern "system" fn delegating_query_interface<T: Provider>(
    this: *mut c_void,
    riid: *const GUID,
    ppv: *mut *mut c_void,
) -> HRESULT {
    // SAFETY: COM: this function's Safety: `this` is a live aggregated IMAPISync.
    let outer = unsafe { Aggregate::<T>::outer(this) };
    // SAFETY: COM: the outer is alive (aggregation contract); the arguments are the caller's.
    unsafe { (outer.unknown().QueryInterface)(outer.0.as_ptr(), riid, ppv) }
}

/// Slot 1 of the delegating IMAPISync: the outer's AddRef.
///
/// # Safety
/// COM: `this` is a live aggregated IMAPISync.
unsafe extern "system" fn delegating_add_ref<T: Provider>(this: *mut c_void) -> u32 {
    // SAFETY: COM: this function's Safety: `this` is a live aggregated IMAPISync.
    let outer = unsafe { Aggregate::<T>::outer(this) };
    // SAFETY: COM: the caller's reference is counted on the outer, which is alive.
    unsafe { (outer.unknown().AddRef)(outer.0.as_ptr()) }
}

/// Slot 2 of the delegating IMAPISync: the outer's Release.
///
/// # Safety
/// COM: `this` is a live aggregated IMAPISync and the caller gives up a
/// reference, which is counted on the outer.
unsafe extern "system" fn delegating_release<T: Provider>(this: *mut c_void) -> u32 {
    // Read the outer before the call: the Release may free the outer, and
    // with it (through the outer's destructor) this inner object.
    // SAFETY: COM: this function's Safety: `this` is a live aggregated IMAPISync.
    let outer = unsafe { Aggregate::<T>::outer(this) };
    // SAFETY: COM: the caller gives up a reference counted on the outer.
    unsafe { (outer.unknown().Release)(outer.0.as_ptr()) }
}

/// Slot 0 of the non-delegating IUnknown: IUnknown gives itself (counted
/// on the inner object), IMAPISync the delegating pointer (counted on the
/// outer); anything else E_NOINTERFACE with `*ppv` NULL.
///
/// # Safety
/// COM: `this` is a live non-delegating IUnknown of `Aggregate<T>`; `riid`
/// and `ppv` are null or valid.
unsafe extern "system" fn inner_query_interface<T: Provider>(
    this: *mut c_void,
    riid: *const GUID,
    ppv: *mut *mut c_void,
) -> HRESULT {
    let answer = |iid: &GUID| -> Option<(*mut c_void, AddRef)> {
        if *iid == IID_IUnknown {
            Some((this, inner_add_ref::<T>))
        } else if *iid == IID_IMAPISync {
            // SAFETY: COM: `this` is a non-delegating pointer of this class (the caller's contract).
            let sync = unsafe { Aggregate::<T>::object_of(this) };
            // The reference handed out is the delegating interface's, so it
            // is counted where its Release will go: on the outer.
            Some((sync, delegating_add_ref::<T>))
        } else {
            None
        }
    };
    // SAFETY: COM: this function's Safety: `riid` and `ppv` are null or
    // valid; the caller holds a reference to the inner object, and so (the
    // inner object being alive) to its outer, which both AddRefs count.
    unsafe { query_by(riid, ppv, answer, || E_NOINTERFACE) }
}

/// Slot 1 of the non-delegating IUnknown: the inner object's own count.
///
/// # Safety
/// COM: `this` is a live non-delegating IUnknown of `Aggregate<T>`.
unsafe extern "system" fn inner_add_ref<T: Provider>(this: *mut c_void) -> u32 {
    // SAFETY: COM: the caller holds a reference; the object pointer is the
    // one `ComObject::create` returned.
    unsafe { add_ref::<Aggregate<T>>(Aggregate::<T>::object_of(this)) }
}

/// Slot 2 of the non-delegating IUnknown: the inner object's own count;
/// frees the inner object (and drops the provider) at zero.
///
/// # Safety
/// COM: `this` is a live non-delegating IUnknown of `Aggregate<T>` and the
/// caller gives up a reference.
unsafe extern "system" fn inner_release<T: Provider>(this: *mut c_void) -> u32 {
    // SAFETY: COM: the caller gives up a reference to the object `create` made.
    unsafe { release::<Aggregate<T>>(Aggregate::<T>::object_of(this)) }
}

/// A tear-off IMAPISync for `store`: a small object of its own that
/// answers QueryInterface for IMAPISync with itself and delegates every
/// other QueryInterface (IUnknown included) to `store`, holds one
/// reference to `store` for as long as it lives, and forwards
/// `SynchronizeInBackground` to `sync`.
///
/// The store's QueryInterface calls this for IID_IMAPISync and hands out
/// the result; `sync` is the store's one mapisync object (make it once with
/// `.into()` and keep it in the store), so the busy flag is shared by every
/// tear-off, and the worker of a running sync keeps `sync` (not the store)
/// alive. Never cache the tear-off in the store: it holds the store.
/// Like every object of the provider, the store must be free-threaded: the
/// host may call and release the tear-off from any thread.
///
/// ```
/// # struct Store;
/// # #[mapisync::provider]
/// # impl mapisync::MapiSync for Store {
/// #     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
/// # }
/// use mapisync::{IMAPISync, IUnknown, Interface};
/// let sync: IMAPISync = Store.into(); // kept by the store
/// # let store: IUnknown = { let plain: IMAPISync = Store.into(); plain.into() };
/// // `store` stands for the store's IUnknown.
/// let answer: IMAPISync = mapisync::aggregate::tear_off(&store, &sync);
/// assert_eq!(answer.cast::<IUnknown>().unwrap(), store); // the store's identity
/// let report = mapisync::host::Host::new().run(&answer).unwrap();
/// assert_eq!(report.done, Some(mapisync::S_OK));
/// ```
pub fn tear_off(store: &IUnknown, sync: &IMAPISync) -> IMAPISync {
    let this = ComObject::<TearOffClass>::create(TearOff { store: store.clone(), sync: sync.clone() });
    // SAFETY: COM: `this` is a new IMAPISync object whose one reference we hand over.
    unsafe { IMAPISync::from_raw(this.as_ptr()) }
}

/// What a tear-off holds: a reference to its store and to the sync object.
struct TearOff {
    store: IUnknown,
    sync: IMAPISync,
}

// SAFETY: Send/Sync: the tear-off calls `store` and `sync` only inside
// calls the host makes on the tear-off (and releases them when the host's
// last Release frees it), so from the host's threads, as the host would
// call the store itself. The store belongs to the provider, whose objects
// are free-threaded (ThreadingModel "Both"), and `sync` is a mapisync object.
unsafe impl Send for TearOff {}
// SAFETY: Send/Sync: for the same reason, shared use is sound: every call
// it makes goes to free-threaded objects (the store's and mapisync's).
unsafe impl Sync for TearOff {}

/// The object-layer class of a tear-off.
struct TearOffClass;

/// The tear-offs' vtable, a static so that its address identifies a
/// tear-off (see [`sync_key`]).
static TEAR_OFF_VTABLE: IMAPISync_Vtbl = IMAPISync_Vtbl {
    base__: IUnknown_Vtbl { QueryInterface: tear_off_query_interface, ..iunknown_vtbl::<TearOffClass>() },
    SynchronizeInBackground: tear_off_synchronize,
};

impl Class for TearOffClass {
    type Value = TearOff;
    type Vtable = IMAPISync_Vtbl;
    const VTABLE: &'static IMAPISync_Vtbl = &TEAR_OFF_VTABLE;
}

/// The object whose sync `sync` starts, as a number for
/// [`lifecycle::cancel`](crate::lifecycle::cancel): see [`sync_target`].
pub(crate) fn sync_key(sync: &IMAPISync) -> usize {
    sync_target(sync).as_raw() as usize
}

/// The object that stands for the syncs `sync` starts: a tear-off's slot 3
/// forwards to its sync object, so a tear-off stands for that object; a
/// plain or aggregated object stands for itself (its slot 3 runs the
/// protocol with this very pointer), and so does a `ForwardSync` store,
/// whose forwarded syncs the registry records under the store too.
pub(crate) fn sync_target(sync: &IMAPISync) -> &IMAPISync {
    let mut sync = sync;
    loop {
        // SAFETY: COM: `sync` holds a reference; its first word is its vtable pointer.
        let vtable = unsafe { *(sync.as_raw() as *const *const IMAPISync_Vtbl) };
        if !core::ptr::eq(vtable, &TEAR_OFF_VTABLE) {
            return sync;
        }
        // SAFETY: COM: the vtable identifies a live tear-off (borrowed with
        // `sync`), which holds its sync object for as long as it lives.
        sync = &unsafe { ComObject::<TearOffClass>::from_this(sync.as_raw()) }.value.sync;
    }
}

/// Slot 0 of a tear-off: IMAPISync is the tear-off itself; everything else,
/// IUnknown included, is the store's answer.
///
/// # Safety
/// COM: `this` is a live tear-off; `riid` and `ppv` are null or valid.
unsafe extern "system" fn tear_off_query_interface(
    this: *mut c_void,
    riid: *const GUID,
    ppv: *mut *mut c_void,
) -> HRESULT {
    let answer = |iid: &GUID| (*iid == IID_IMAPISync).then_some((this, add_ref::<TearOffClass> as AddRef));
    let store = || {
        // SAFETY: COM: the caller holds a reference, so the tear-off (and its store) is alive.
        let store = &unsafe { ComObject::<TearOffClass>::from_this(this) }.value.store;
        // SAFETY: COM: `store` is counted; `riid` and `ppv` were checked by `query_by`.
        unsafe { (store.vtable().QueryInterface)(store.as_raw(), riid, ppv) }
    };
    // SAFETY: COM: this function's Safety: `riid` and `ppv` are null or
    // valid; the caller holds a reference to the tear-off, which its AddRef counts.
    unsafe { query_by(riid, ppv, answer, store) }
}

/// Slot 3 of a tear-off: the sync object's own slot 3.
///
/// # Safety
/// COM: `this` is a live tear-off; `psibpb` as the contract says.
unsafe extern "system" fn tear_off_synchronize(this: *mut c_void, psibpb: *const MAPISIB) -> HRESULT {
    // SAFETY: COM: the caller holds a reference, so the tear-off (and its sync) is alive.
    let sync = &unsafe { ComObject::<TearOffClass>::from_this(this) }.value.sync;
    // SAFETY: COM: `sync` is counted; the caller vouches for `psibpb`.
    unsafe { sync.SynchronizeInBackground(psibpb) }
}

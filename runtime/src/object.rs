//! The COM object: a `#[repr(C)]` header (vtable pointer, reference count,
//! one state word) followed by the value, reached from its own interface
//! pointer.
//!
//! ```text
//! interface pointer ──► ┌──────────────────────┐
//!                       │ &'static Vtable      │  8 bytes (64-bit)
//!                       │ refs: AtomicU32      │  4
//!                       │ state: Busy          │  4  (the sync protocol's busy flag)
//!                       │ value: T             │
//!                       └──────────────────────┘
//! ```
//! The interface pointer is the pointer `Box::into_raw` returned, so it
//! carries provenance over the whole allocation and every access below is a
//! plain field access through it.

use crate::atomic::{AtomicU32, Ordering, fence};
use core::ffi::c_void;
use core::marker::PhantomData;
use core::ptr::NonNull;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::AtomicUsize;

use windows_core::{GUID, HRESULT, IUnknown_Vtbl};

use crate::abi::{
    IClassFactory_Vtbl, IID_IClassFactory, IID_IMAPISync, IID_IMAPISyncProgressCallback, IID_IUnknown, IMAPISync_Vtbl,
    IMAPISyncProgressCallback_Vtbl,
};
use crate::hresult::{E_NOINTERFACE, E_POINTER, S_OK};
use crate::state::Busy;
use crate::unwind::forget_payload;

/// What the object layer needs to know of a class: the value it holds and
/// its vtable, whose type names the one interface (besides IUnknown) the
/// class implements.
pub(crate) trait Class: 'static {
    /// The value behind the header.
    type Value: Send + Sync + 'static;
    /// The interface's vtable; it starts with `IUnknown_Vtbl`.
    type Vtable: InterfaceVtable;
    /// The vtable every object of this class points to.
    const VTABLE: &'static Self::Vtable;
}

/// A vtable type and the interface it implements: its IID, said once here
/// for every class whose objects point to such a vtable.
pub(crate) trait InterfaceVtable: 'static {
    /// The interface the vtable implements.
    const IID: GUID;
}

/// Each vtable type the runtime's classes use, with its interface's IID.
macro_rules! interface_vtables {
    ($($vtable:ty => $iid:expr),* $(,)?) => {
        $(impl InterfaceVtable for $vtable {
            const IID: GUID = $iid;
        })*
    };
}

interface_vtables! {
    IUnknown_Vtbl => IID_IUnknown,
    IMAPISync_Vtbl => IID_IMAPISync,
    IMAPISyncProgressCallback_Vtbl => IID_IMAPISyncProgressCallback,
    IClassFactory_Vtbl => IID_IClassFactory,
}

/// The class of an object that answers only IUnknown and holds a `V`: the
/// host simulator's session and refusing callback, and the tests' and loom
/// models' plain objects.
#[cfg(any(test, feature = "host"))]
pub(crate) struct UnknownOnly<V>(PhantomData<V>);

#[cfg(any(test, feature = "host"))]
impl<V: Send + Sync + 'static> Class for UnknownOnly<V> {
    type Value = V;
    type Vtable = IUnknown_Vtbl;
    const VTABLE: &'static IUnknown_Vtbl = &iunknown_vtbl::<Self>();
}

/// The reference count at which an object becomes immortal: AddRef beyond it
/// pins the count at [`PINNED`] and the object is never freed (a leak, never
/// a wrap to zero and a premature free).
pub(crate) const REF_CAP: u32 = 0x8000_0000;
/// The value a pinned count is reset to on every call, far from both ends.
pub(crate) const PINNED: u32 = 0xC000_0000;

/// Objects of every class alive in this module, for `DllCanUnloadNow`.
/// Counted in `create` and `free` only, never on the AddRef/Release path.
static LIVE_OBJECTS: AtomicUsize = AtomicUsize::new(0);

/// How many objects this module has created and not yet freed.
pub(crate) fn live_objects() -> usize {
    // Acquire: pairs with the Release decrement in `free`, so a zero seen
    // here follows every freed object's last use.
    LIVE_OBJECTS.load(Ordering::Acquire)
}

/// The header and value of one COM object.
#[repr(C)]
pub(crate) struct ComObject<C: Class> {
    vtable: &'static C::Vtable,
    refs: AtomicU32,
    /// The sync protocol's busy flag (unused by other classes).
    pub(crate) state: Busy,
    pub(crate) value: C::Value,
}

impl<C: Class> ComObject<C> {
    /// Boxes `value` with a count of one and returns its interface pointer.
    pub(crate) fn create(value: C::Value) -> NonNull<c_void> {
        let object = Box::new(ComObject::<C> { vtable: C::VTABLE, refs: AtomicU32::new(1), state: Busy::new(), value });
        LIVE_OBJECTS.fetch_add(1, Ordering::Relaxed);
        NonNull::from(Box::leak(object)).cast()
    }

    /// The object behind an interface pointer of this class.
    ///
    /// # Safety
    /// `this` is an interface pointer returned by [`ComObject::create`] for
    /// `C`, and the caller holds a reference for the lifetime `'a`.
    #[inline(always)]
    pub(crate) unsafe fn from_this<'a>(this: *mut c_void) -> &'a Self {
        // SAFETY: COM: the caller holds a reference, so the allocation made in
        // `create` is alive; the vtable pointer sits at offset 0 (repr(C)).
        unsafe { &*(this as *const Self) }
    }

    /// The current count (for reports and tests; racy by nature).
    #[cfg(any(test, feature = "host"))]
    pub(crate) fn ref_count(&self) -> u32 {
        self.refs.load(Ordering::Relaxed)
    }

    #[inline(always)]
    fn add_ref(&self) -> u32 {
        // Relaxed, as std's Arc::clone: a new reference is made from an
        // existing one, which already orders every access to the object.
        let old = self.refs.fetch_add(1, Ordering::Relaxed);
        if old >= REF_CAP {
            return self.pin();
        }
        old + 1
    }

    /// Keeps an immortal object's count far from zero and from wrapping.
    #[cold]
    fn pin(&self) -> u32 {
        self.refs.store(PINNED, Ordering::Relaxed);
        PINNED
    }

    /// Drops one reference and frees the object when it was the last.
    ///
    /// # Safety
    /// `this` is this object's interface pointer and the caller gives up one
    /// reference it holds.
    #[inline(always)]
    unsafe fn release(this: *mut c_void) -> u32 {
        // SAFETY: COM: the caller holds the reference it is giving up, so the
        // object is alive until the decrement below.
        let object = unsafe { Self::from_this(this) };
        // Release, as std's Arc::drop: every use of the object through this
        // reference happens before the decrement that another thread sees.
        let old = object.refs.fetch_sub(1, Ordering::Release);
        // One signed compare sends every case but the common one (a count
        // of 2 up to REF_CAP) to the cold path: the last reference (1), a
        // count already at zero, and a pinned count (REF_CAP and above read
        // as negative).
        if (old as i32) <= 1 {
            // SAFETY: COM: the caller's reference, just given up, is the one
            // `release_rare` accounts for (its `# Safety`).
            return unsafe { Self::release_rare(this, old) };
        }
        old - 1
    }

    /// The rare outcomes of a Release whose decrement found `old`: the free
    /// at the last reference, or a pin.
    ///
    /// # Safety
    /// `this` is this object's interface pointer, and the caller's reference
    /// was given up by the decrement that found `old` (at most 1, or at
    /// least REF_CAP).
    #[cold]
    #[inline(never)]
    unsafe fn release_rare(this: *mut c_void, old: u32) -> u32 {
        if old == 1 {
            // Acquire: the free below happens after every other thread's
            // last use, which their Release decrements published.
            fence(Ordering::Acquire);
            // SAFETY: Box: `this` came from Box::leak in `create`, and the
            // count just reached zero, so no other reference exists.
            unsafe { Self::free(this) };
            return 0;
        }
        // Immortal (see REF_CAP), or an unbalanced Release found the count
        // already at zero: pin rather than free a second time.
        // SAFETY: COM: the caller held a reference up to the decrement, and
        // a count other than 1 freed nothing, so the object is still alive.
        unsafe { Self::from_this(this) }.pin()
    }

    /// # Safety
    /// `this` came from `create` and no reference to it is left.
    #[cold]
    unsafe fn free(this: *mut c_void) {
        // Before the memory can be reused: the handles of this object go
        // stale, so none acts on a later object at this address.
        crate::workers::forget(this as usize);
        // SAFETY: Box: the caller guarantees unique ownership of the allocation `create` leaked.
        let boxed = unsafe { Box::from_raw(this as *mut Self) };
        // A panicking Drop in the value must not unwind into the host; the
        // allocation is freed by the unwinding drop glue all the same. Its
        // payload may panic again when dropped: forget_payload contains that.
        if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(boxed))) {
            forget_payload(payload);
        }
        LIVE_OBJECTS.fetch_sub(1, Ordering::Release);
    }
}

/// IUnknown's three slots for class `C`.
pub(crate) const fn iunknown_vtbl<C: Class>() -> IUnknown_Vtbl {
    IUnknown_Vtbl { QueryInterface: query_interface::<C>, AddRef: add_ref::<C>, Release: release::<C> }
}

/// `QueryInterface`: IUnknown and `C`'s interface answer with the same pointer
/// (one identity); anything else is E_NOINTERFACE with `*ppv` NULL; a NULL
/// `ppv` or `riid` is E_POINTER.
///
/// # Safety
/// COM: `this` is a live object of class `C`; `riid` and `ppv` are null or valid.
pub(crate) unsafe extern "system" fn query_interface<C: Class>(
    this: *mut c_void,
    riid: *const GUID,
    ppv: *mut *mut c_void,
) -> HRESULT {
    if ppv.is_null() {
        return E_POINTER;
    }
    if riid.is_null() {
        // SAFETY: COM: a non-null `ppv` is writable for one pointer.
        unsafe { *ppv = core::ptr::null_mut() };
        return E_POINTER;
    }
    // SAFETY: COM: a non-null `riid` points to a GUID for the whole call. A
    // GUID is repr(C) u32, u16, u16, [u8; 8]: 16 bytes without padding, all
    // initialised, so it reads as two words; unaligned, as its alignment is 4.
    let iid = unsafe { riid.cast::<[u64; 2]>().read_unaligned() };
    let (ours, unknown) =
        (const { iid_words(&<C::Vtable as InterfaceVtable>::IID) }, const { iid_words(&IID_IUnknown) });
    // The first word tells the two apart, and decides most misses alone.
    let hit = if iid[0] == ours[0] { iid[1] == ours[1] } else { iid[0] == unknown[0] && iid[1] == unknown[1] };
    if hit {
        // SAFETY: COM: the caller holds a reference for the whole call.
        unsafe { ComObject::<C>::from_this(this) }.add_ref();
        // SAFETY: COM: a non-null `ppv` is writable for one pointer.
        unsafe { *ppv = this };
        S_OK
    } else {
        // SAFETY: COM: a non-null `ppv` is writable for one pointer.
        unsafe { *ppv = core::ptr::null_mut() };
        E_NOINTERFACE
    }
}

/// An IID as the two words its 16 bytes hold in memory, so QueryInterface
/// compares an IID in at most two word compares (the derived `GUID == GUID`
/// compares field by field: four compares and branches for a hit).
const fn iid_words(iid: &GUID) -> [u64; 2] {
    let (a, b, c) = (iid.data1.to_ne_bytes(), iid.data2.to_ne_bytes(), iid.data3.to_ne_bytes());
    [u64::from_ne_bytes([a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1]]), u64::from_ne_bytes(iid.data4)]
}

/// The prologue every `(riid, ppv)` entry point off the QueryInterface hot
/// path shares: E_POINTER for a NULL `ppv` (nothing written); otherwise
/// `*ppv` is set to NULL first, then E_POINTER for a NULL `riid`, else the IID.
///
/// # Safety
/// COM: `riid` and `ppv` are NULL or valid for the whole call.
pub(crate) unsafe fn out_param_and_iid(riid: *const GUID, ppv: *mut *mut c_void) -> Result<GUID, HRESULT> {
    if ppv.is_null() {
        return Err(E_POINTER);
    }
    // SAFETY: COM: a non-null `ppv` is writable for one pointer.
    unsafe { *ppv = core::ptr::null_mut() };
    if riid.is_null() {
        return Err(E_POINTER);
    }
    // SAFETY: COM: a non-null `riid` points to a GUID for the whole call.
    Ok(unsafe { *riid })
}

/// An AddRef slot.
pub(crate) type AddRef = unsafe extern "system" fn(*mut c_void) -> u32;

/// A QueryInterface off the hot path: [`out_param_and_iid`]'s prologue,
/// then the pointer `answer` gives for the IID, with one more reference
/// counted by the AddRef it gives beside it (S_OK); where it gives none,
/// `otherwise()` answers (with `*ppv` already NULL).
///
/// # Safety
/// COM: `riid` and `ppv` are NULL or valid for the whole call; every
/// pointer `answer` gives is live, the caller holds a reference to it, and
/// the AddRef beside it counts it.
pub(crate) unsafe fn query_by(
    riid: *const GUID,
    ppv: *mut *mut c_void,
    answer: impl FnOnce(&GUID) -> Option<(*mut c_void, AddRef)>,
    otherwise: impl FnOnce() -> HRESULT,
) -> HRESULT {
    // SAFETY: COM: this function's Safety: `riid` and `ppv` are NULL or valid.
    let iid = match unsafe { out_param_and_iid(riid, ppv) } {
        Ok(iid) => iid,
        Err(hr) => return hr,
    };
    let Some((pointer, add_ref)) = answer(&iid) else {
        return otherwise();
    };
    // SAFETY: COM: this function's Safety: `pointer` is live and `add_ref` counts it.
    unsafe { add_ref(pointer) };
    // SAFETY: COM: `out_param_and_iid` checked `ppv` non-null; this function's Safety makes it writable.
    unsafe { *ppv = pointer };
    S_OK
}

/// `AddRef`: returns the new count.
///
/// # Safety
/// COM: `this` is a live object of class `C`.
pub(crate) unsafe extern "system" fn add_ref<C: Class>(this: *mut c_void) -> u32 {
    // SAFETY: COM: the caller holds a reference for the whole call.
    unsafe { ComObject::<C>::from_this(this) }.add_ref()
}

/// `Release`: returns the new count; frees the object at zero.
///
/// # Safety
/// COM: `this` is a live object of class `C` and the caller gives up a reference.
pub(crate) unsafe extern "system" fn release<C: Class>(this: *mut c_void) -> u32 {
    // SAFETY: COM: the caller gives up one reference it holds.
    unsafe { ComObject::<C>::release(this) }
}

/// An owned (counted) reference to an object of class `C`, for the runtime's
/// own use: the worker's reference to its provider, the host's to its
/// callback. Dropping it releases the reference exactly once.
pub(crate) struct ObjectRef<C: Class> {
    this: NonNull<c_void>,
    class: PhantomData<C>,
}

// SAFETY: Send/Sync: the object is shared across threads only through
// atomics and `&C::Value`, and `C::Value: Send + Sync`.
unsafe impl<C: Class> Send for ObjectRef<C> {}
// SAFETY: Sync: the object is shared across threads only through atomics
// and `&C::Value`, and `C::Value: Send + Sync`.
unsafe impl<C: Class> Sync for ObjectRef<C> {}

impl<C: Class> ObjectRef<C> {
    /// A new object with this reference as its only one.
    pub(crate) fn new(value: C::Value) -> Self {
        Self { this: ComObject::<C>::create(value), class: PhantomData }
    }

    /// Takes one more reference to the object behind `this`.
    ///
    /// # Safety
    /// `this` is a live object of class `C` and the caller holds a reference
    /// for the duration of this call.
    #[cfg(test)]
    pub(crate) unsafe fn add_ref_from(this: *mut c_void) -> Self {
        // SAFETY: COM: the caller holds a reference for the whole call.
        unsafe { ComObject::<C>::from_this(this) }.add_ref();
        // SAFETY: NonNull: a live object's pointer is not null.
        Self { this: unsafe { NonNull::new_unchecked(this) }, class: PhantomData }
    }

    /// The interface pointer (still owned by `self`).
    #[cfg(any(test, feature = "host"))]
    pub(crate) fn as_raw(&self) -> *mut c_void {
        self.this.as_ptr()
    }

    /// Gives up ownership: the caller now owns the reference.
    pub(crate) fn into_raw(self) -> *mut c_void {
        let raw = self.this.as_ptr();
        core::mem::forget(self);
        raw
    }

    #[cfg(any(test, feature = "host"))]
    pub(crate) fn object(&self) -> &ComObject<C> {
        // SAFETY: COM: `self` holds a reference, so the object outlives the borrow.
        unsafe { ComObject::<C>::from_this(self.this.as_ptr()) }
    }
}

impl<C: Class> Drop for ObjectRef<C> {
    fn drop(&mut self) {
        // SAFETY: COM: `self` owns exactly one reference and gives it up once.
        unsafe { ComObject::<C>::release(self.this.as_ptr()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    type Probe = UnknownOnly<Dropped>;
    struct Dropped(Arc<AtomicUsize>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn header_is_a_pointer_and_two_words() {
        let overhead = size_of::<ComObject<Probe>>() - size_of::<Dropped>();
        assert_eq!(overhead, size_of::<usize>() + 8);
    }

    #[test]
    fn frees_exactly_once_at_zero() {
        let drops = Arc::new(AtomicUsize::new(0));
        let first = ObjectRef::<Probe>::new(Dropped(drops.clone()));
        // SAFETY: test: `first` holds a reference.
        let second = unsafe { ObjectRef::<Probe>::add_ref_from(first.as_raw()) };
        assert_eq!(first.object().ref_count(), 2);
        drop(first);
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        drop(second);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn count_past_the_cap_pins_instead_of_wrapping() {
        let drops = Arc::new(AtomicUsize::new(0));
        let object = ObjectRef::<Probe>::new(Dropped(drops.clone()));
        object.object().refs.store(u32::MAX, Ordering::Relaxed);
        // SAFETY: test: `object` holds a reference; the count says many more exist.
        let raw = object.as_raw();
        assert_eq!(unsafe { add_ref::<Probe>(raw) }, PINNED);
        assert_eq!(unsafe { release::<Probe>(raw) }, PINNED);
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        // Pinned objects are never freed; unpin this one so the test leaks
        // nothing (Miri and LeakSanitizer check) and frees exactly once.
        object.object().refs.store(1, Ordering::Relaxed);
        drop(object);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }
}

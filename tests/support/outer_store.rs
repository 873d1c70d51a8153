//! A hand-written store: the outer object of an aggregate, or the object
//! whose QueryInterface hands out tear-offs, written as a C host writes a
//! COM object (vtable pointer, count, raw calls), for the tests of both.

use std::ffi::c_void;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};

use mapisync::aggregate::{create_inner, tear_off};
use mapisync::{IMAPISync, IUnknown, Interface};

use crate::{
    DropCount, E_NOINTERFACE, E_POINTER, Guid, IID_IMAPISYNC, IID_IUNKNOWN, IUnknownVtbl, Raw, S_OK, count_add_ref,
    count_release,
};

/// A made-up store interface: IUnknown, then one method returning a number.
pub const ISTORE: u128 = 0x6f3e2a10_5b7c_4d21_9a0e_52c4d1e8f301;
pub const IID_ISTORE: Guid = Guid::from_u128(ISTORE);

#[repr(C)]
pub struct IStoreVtbl {
    pub base: IUnknownVtbl,
    pub StoreNumber: unsafe extern "system" fn(*mut c_void) -> u32,
}

/// The number `StoreNumber` returns.
pub const STORE_NUMBER: u32 = 42;

/// What a store does with IID_IMAPISync.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SyncSide {
    /// Forwards the query to the aggregated inner object's non-delegating IUnknown.
    Aggregated,
    /// Hands out `tear_off(store, sync)`.
    TearOff,
}

/// A C-style COM object: vtable pointer, count, and either the inner
/// object's non-delegating IUnknown or the mapisync object its tear-offs use.
#[repr(C)]
pub struct Store {
    pub vtbl: &'static IStoreVtbl,
    pub refs: AtomicU32,
    pub sync: SyncSide,
    /// Aggregated: the non-delegating IUnknown (released in the destructor).
    /// TearOff: an IMAPISync reference (released in the destructor).
    pub held: AtomicPtr<c_void>,
    pub freed: Arc<AtomicUsize>,
}

static STORE_VTBL: IStoreVtbl = IStoreVtbl {
    base: IUnknownVtbl { QueryInterface: store_query, AddRef: store_add_ref, Release: store_release },
    StoreNumber: store_number,
};

/// # Safety
/// COM: `this` is a live Store.
pub unsafe fn store<'a>(this: *mut c_void) -> &'a Store {
    // SAFETY: COM: the caller holds a reference; the vtable pointer is at offset 0.
    unsafe { &*(this as *const Store) }
}

unsafe extern "system" fn store_query(this: *mut c_void, iid: *const Guid, out: *mut *mut c_void) -> i32 {
    if out.is_null() {
        return E_POINTER;
    }
    // SAFETY: COM: a non-null `out` is writable.
    unsafe { *out = std::ptr::null_mut() };
    if iid.is_null() {
        return E_POINTER;
    }
    // SAFETY: COM: the caller holds a reference; a non-null `iid` is readable.
    let (object, iid) = unsafe { (store(this), *iid) };
    if iid == IID_IUNKNOWN || iid == IID_ISTORE {
        object.refs.fetch_add(1, Ordering::Relaxed);
        // SAFETY: COM: `out` was checked non-null and the caller makes it writable.
        unsafe { *out = this };
        return S_OK;
    }
    let held = object.held.load(Ordering::Acquire);
    if iid == IID_IMAPISYNC && !held.is_null() {
        return match object.sync {
            // The classic aggregation rule: forward to the inner object's non-delegating IUnknown.
            // SAFETY: COM: the store holds the inner object; `iid` and `out` are valid.
            SyncSide::Aggregated => unsafe { Raw(held).query_raw(&iid, out) },
            SyncSide::TearOff => {
                // SAFETY: COM: the store holds both references for the whole call.
                let (unknown, sync) = unsafe {
                    (
                        IUnknown::from_raw_borrowed(&this).expect("a live store"),
                        IMAPISync::from_raw_borrowed(&held).expect("a live sync object"),
                    )
                };
                // SAFETY: COM: `out` was checked non-null and the caller makes it writable.
                unsafe { *out = tear_off(unknown, sync).into_raw() };
                S_OK
            }
        };
    }
    E_NOINTERFACE
}

unsafe extern "system" fn store_add_ref(this: *mut c_void) -> u32 {
    // SAFETY: COM: the caller holds a reference.
    count_add_ref(&unsafe { store(this) }.refs)
}

unsafe extern "system" fn store_release(this: *mut c_void) -> u32 {
    // SAFETY: COM: the caller gives up a reference it holds.
    let object = unsafe { store(this) };
    let left = count_release(&object.refs);
    if left == 0 {
        // The destructor: a guard count, as COM's aggregation rules advise,
        // so nothing the inner object does while it goes frees the store twice.
        object.refs.store(1, Ordering::Relaxed);
        let held = object.held.swap(std::ptr::null_mut(), Ordering::AcqRel);
        if !held.is_null() {
            Raw(held).release();
        }
        object.freed.fetch_add(1, Ordering::SeqCst);
        // SAFETY: Box: the last reference; the store came from Box::into_raw.
        drop(unsafe { Box::from_raw(this as *mut Store) });
    }
    left
}

unsafe extern "system" fn store_number(_this: *mut c_void) -> u32 {
    STORE_NUMBER
}

/// The test's view of one store: its raw IUnknown (one reference) and how
/// many times it and its provider were freed.
pub struct Made {
    pub outer: Raw,
    /// Aggregated: the inner object's non-delegating IUnknown (the store's reference; not ours).
    pub inner: Raw,
    pub store_freed: Arc<AtomicUsize>,
    pub provider_drops: DropCount,
}

impl Made {
    /// The store's own reference count, read directly.
    pub fn outer_count(&self) -> u32 {
        // SAFETY: test: the store is alive while the test holds `outer`.
        unsafe { store(self.outer.0) }.refs.load(Ordering::Acquire)
    }

    pub fn outer_unknown(&self) -> &IUnknown {
        // SAFETY: test: `outer` is a live IUnknown the test holds.
        unsafe { IUnknown::from_raw_borrowed(&self.outer.0) }.expect("a live store")
    }

    /// The host lets go of the store first and keeps only `kept`, an
    /// IMAPISync of it: `kept` keeps the store and its provider alive, and its
    /// last Release frees both, once.
    pub fn release_outer_keeping(self, kept: Raw) {
        assert_eq!(self.outer.release(), 1);
        assert_eq!(self.store_freed.load(Ordering::SeqCst), 0, "the kept IMAPISync keeps the store alive");
        assert_eq!(self.provider_drops.get(), 0);
        assert_eq!(kept.release(), 0, "the kept IMAPISync was the last reference");
        assert_eq!(self.store_freed.load(Ordering::SeqCst), 1, "the store is freed exactly once");
        assert_eq!(self.provider_drops.get(), 1, "the provider is dropped exactly once");
    }

    /// Releases the test's reference and checks everything was freed exactly once.
    ///
    /// The provider's drop may come a moment later: with a tear-off the
    /// worker of a finished sync holds the sync object (not the store) until
    /// just after `Done`, so the last reference can be the worker's.
    pub fn release_and_check_freed(self) {
        assert_eq!(self.outer.release(), 0);
        assert_eq!(self.store_freed.load(Ordering::SeqCst), 1, "the store is freed exactly once");
        let drops = crate::settle_within(1, crate::PATIENCE, || self.provider_drops.get());
        assert_eq!(drops, 1, "the provider is dropped exactly once");
    }
}

/// A store (count one) that has not made its IMAPISync side yet.
pub fn new_store(sync: SyncSide) -> (*mut c_void, Arc<AtomicUsize>) {
    let freed = Arc::new(AtomicUsize::new(0));
    let object = Box::new(Store {
        vtbl: &STORE_VTBL,
        refs: AtomicU32::new(1),
        sync,
        held: AtomicPtr::new(std::ptr::null_mut()),
        freed: freed.clone(),
    });
    (Box::into_raw(object) as *mut c_void, freed)
}

/// A store aggregating `provider` with `create_inner`, as a Rust outer would.
pub fn aggregated(provider: impl mapisync::__private::Provider, drops: DropCount) -> Made {
    let (outer, store_freed) = new_store(SyncSide::Aggregated);
    // SAFETY: test: `outer` is a live IUnknown we hold.
    let unknown = unsafe { IUnknown::from_raw_borrowed(&outer) }.expect("a live store");
    // SAFETY: aggregation: the store keeps the inner object's non-delegating
    // IUnknown and releases it in its destructor; it is free-threaded (atomics only).
    let inner = unsafe { create_inner(provider, unknown) }.into_raw();
    // SAFETY: test: the store is alive.
    unsafe { store(outer) }.held.store(inner, Ordering::Release);
    Made { outer: Raw(outer), inner: Raw(inner), store_freed, provider_drops: drops }
}

/// A store whose QueryInterface hands out tear-offs over one mapisync object.
pub fn tear_off_store(provider: impl Into<IMAPISync>, drops: DropCount) -> Made {
    let (outer, store_freed) = new_store(SyncSide::TearOff);
    let sync = provider.into().into_raw();
    // SAFETY: test: the store is alive; it now owns the sync object's reference.
    unsafe { store(outer) }.held.store(sync, Ordering::Release);
    Made { outer: Raw(outer), inner: Raw(sync), store_freed, provider_drops: drops }
}

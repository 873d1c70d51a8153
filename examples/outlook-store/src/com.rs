//! The COM object layer of the example's own MAPI objects (provider, logon,
//! store): a vtable pointer, an atomic reference count and a value, plus
//! the out-parameter helpers every method uses.

use core::ffi::c_void;
use core::sync::atomic::{AtomicU32, Ordering, fence};

use mapisync::{E_NOINTERFACE, E_POINTER, HRESULT, S_OK};
use windows_core::GUID;

/// A heap COM object: `this` points at `vtable`, so the object pointer is
/// the interface pointer. `V` is the vtable type, `T` the object's state.
#[repr(C)]
pub(crate) struct ComObject<V: 'static, T> {
    vtable: &'static V,
    refs: AtomicU32,
    pub(crate) value: T,
}

impl<V: 'static, T> ComObject<V, T> {
    /// Boxes `value` with a count of one and returns the interface pointer.
    pub(crate) fn create(vtable: &'static V, value: T) -> *mut c_void {
        Box::into_raw(Box::new(ComObject { vtable, refs: AtomicU32::new(1), value })).cast()
    }

    /// The object behind an interface pointer.
    ///
    /// # Safety
    /// COM: `this` came from [`ComObject::create`] with these `V` and `T`,
    /// and the caller holds a reference for as long as it uses the result.
    pub(crate) unsafe fn from_this<'a>(this: *mut c_void) -> &'a Self {
        // SAFETY: COM: this function's Safety: `this` came from `ComObject::create` for these V, T.
        unsafe { &*this.cast::<Self>() }
    }

    /// IUnknown::AddRef.
    ///
    /// # Safety
    /// As [`ComObject::from_this`].
    pub(crate) unsafe extern "system" fn add_ref(this: *mut c_void) -> u32 {
        // Relaxed, as Arc's clone: a new reference can only be made from an
        // existing one, which keeps the object alive; nothing is published.
        // SAFETY: COM: the caller holds a reference.
        unsafe { Self::from_this(this) }.refs.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// IUnknown::Release: frees the object (and drops `T`) at zero.
    ///
    /// # Safety
    /// As [`ComObject::from_this`]; the caller gives up its reference.
    pub(crate) unsafe extern "system" fn release(this: *mut c_void) -> u32 {
        // Release, as Arc's drop: this thread's uses of the object happen
        // before whichever thread frees it.
        // SAFETY: COM: the caller holds the reference it gives up here.
        let left = unsafe { Self::from_this(this) }.refs.fetch_sub(1, Ordering::Release) - 1;
        if left == 0 {
            // Acquire: every other thread's uses happen before the drop.
            fence(Ordering::Acquire);
            // SAFETY: COM: the count reached zero, so no reference is left;
            // `this` is the pointer Box::into_raw returned in `create`.
            drop(unsafe { Box::from_raw(this.cast::<Self>()) });
        }
        left
    }

    /// IUnknown::QueryInterface answering `iids` with the object itself.
    ///
    /// # Safety
    /// As [`ComObject::from_this`]; `riid` and `ppv` are null or valid.
    pub(crate) unsafe fn query(this: *mut c_void, riid: *const GUID, ppv: *mut *mut c_void, iids: &[GUID]) -> HRESULT {
        // SAFETY: COM: this function's Safety: `riid` and `ppv` are null or valid.
        let iid = match unsafe { iid_and_clear(riid, ppv) } {
            Ok(iid) => iid,
            Err(hr) => return hr,
        };
        if !iids.contains(&iid) {
            return E_NOINTERFACE;
        }
        // SAFETY: COM: the caller holds a reference; `ppv` was checked.
        unsafe {
            Self::add_ref(this);
            *ppv = this;
        }
        S_OK
    }
}

/// Reads `*riid` and sets `*ppv` to NULL: E_POINTER when either is NULL.
///
/// # Safety
/// `riid` and `ppv` are null or valid for a read and a write.
pub(crate) unsafe fn iid_and_clear(riid: *const GUID, ppv: *mut *mut c_void) -> Result<GUID, HRESULT> {
    if ppv.is_null() {
        return Err(E_POINTER);
    }
    // SAFETY: COM: `ppv` is non-null, so writable (the caller's contract).
    unsafe { *ppv = core::ptr::null_mut() };
    if riid.is_null() {
        return Err(E_POINTER);
    }
    // SAFETY: COM: `riid` is non-null, so readable.
    Ok(unsafe { *riid })
}

/// Writes `value` through an out-parameter if the caller passed one.
///
/// # Safety
/// `out` is null or valid for a write of `T`.
pub(crate) unsafe fn put<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: MAPI: a non-null out-parameter is writable (the caller's contract).
        unsafe { out.write(value) };
    }
}

/// The value an unsupported method leaves in an out-parameter: NULL for a
/// pointer, zero for a count.
pub(crate) trait Cleared {
    /// NULL or zero.
    const CLEARED: Self;
}

impl<T> Cleared for *mut T {
    const CLEARED: Self = core::ptr::null_mut();
}

impl Cleared for u32 {
    const CLEARED: Self = 0;
}

/// Defines a MAPI method this example does not support: it sets each
/// listed out-parameter (when non-null) to NULL or zero and returns
/// MAPI_E_NO_SUPPORT. Parameters that are not cleared start with `_`.
macro_rules! no_support {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) clears [$($out:ident),*]) => {
        $(#[$doc])*
        /// Answers MAPI_E_NO_SUPPORT; out-parameters are left NULL (or zero).
        ///
        /// # Safety
        /// MAPI: each out-parameter is null or valid for a write.
        unsafe extern "system" fn $name(_this: *mut core::ffi::c_void, $($arg: $ty),*) -> mapisync::HRESULT {
            $(
                // SAFETY: MAPI: an out-parameter is null or writable (this function's contract).
                unsafe { $crate::com::put($out, <_ as $crate::com::Cleared>::CLEARED) };
            )*
            mapisync::MAPI_E_NO_SUPPORT
        }
    };
}
pub(crate) use no_support;

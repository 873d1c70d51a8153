//! [`ServerClass`]: one class an in-proc server exports, and the
//! constructors that make its objects.

use core::ffi::c_void;
use core::ptr::NonNull;

use windows_core::{GUID, HRESULT, IUnknown_Vtbl};

use crate::abi::IID_IUnknown;
use crate::hresult::CLASS_E_NOAGGREGATION;
use crate::object::ComObject;
use crate::protocol::{Provider, SyncClass};

/// Makes one object of a class: its IUnknown with one reference, or the
/// HRESULT that `CreateInstance` returns. Gets the outer unknown, non-NULL
/// when the host asks for aggregation.
pub type Constructor = fn(outer: *mut c_void) -> Result<NonNull<c_void>, HRESULT>;

/// One class an in-proc server exports: its CLSID, a name for the registry,
/// and how to make an instance. [`export_server!`](crate::export_server)
/// builds these; a hand-written server may too.
///
/// ```
/// # struct Store;
/// # #[mapisync::provider]
/// # impl mapisync::MapiSync for Store {
/// #     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
/// # }
/// use mapisync::server::{ServerClass, clsid, new_provider};
/// static CLASSES: &[ServerClass] = &[ServerClass::new(
///     clsid("{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}"),
///     "Store",
///     |outer| new_provider(outer, || Store),
/// )];
/// assert_eq!(CLASSES[0].clsid(), clsid("39a7c4c5-53ce-4119-89cb-bd5c40bd5c7c"));
/// ```
#[derive(Debug)]
pub struct ServerClass {
    clsid: GUID,
    name: &'static str,
    create: Constructor,
}

impl ServerClass {
    /// A class served under `clsid`; `name` is the registry's description.
    pub const fn new(clsid: GUID, name: &'static str, create: Constructor) -> Self {
        Self { clsid, name, create }
    }

    /// The class identifier.
    pub fn clsid(&self) -> GUID {
        self.clsid
    }

    /// The name registration writes as the CLSID key's default value.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Makes one object and queries it for `riid`; the creation reference
    /// is released either way, so a failed query frees the object.
    ///
    /// # Safety
    /// COM: `outer` is NULL or a live IUnknown; `riid` points to a GUID and
    /// `ppv` is writable, for the whole call.
    pub(super) unsafe fn create_instance(
        &self,
        outer: *mut c_void,
        riid: *const GUID,
        ppv: *mut *mut c_void,
    ) -> HRESULT {
        // COM: an aggregate's inner object is only ever handed out as its
        // non-delegating IUnknown, so an outer must ask for that.
        // SAFETY: COM: the caller vouches that `riid` points to a GUID.
        if !outer.is_null() && unsafe { *riid } != IID_IUnknown {
            return CLASS_E_NOAGGREGATION;
        }
        let object = match (self.create)(outer) {
            Ok(object) => object.as_ptr(),
            Err(hr) => return hr,
        };
        // SAFETY: COM: `create` returned a live object with one reference,
        // whose first word points to a vtable that starts with IUnknown's.
        let unknown = unsafe { &**(object as *const *const IUnknown_Vtbl) };
        // SAFETY: COM: we hold the creation reference; the caller vouches for `riid` and `ppv`.
        let hr = unsafe { (unknown.QueryInterface)(object, riid, ppv) };
        // SAFETY: COM: gives up the creation reference, once.
        unsafe { (unknown.Release)(object) };
        hr
    }
}

/// The [`Constructor`] of a provider that cannot be aggregated: a non-NULL
/// `outer` is CLASS_E_NOAGGREGATION (and `new` is not called), otherwise
/// `new()` boxed as an IMAPISync object with one reference.
pub fn new_provider<T: Provider>(outer: *mut c_void, new: impl FnOnce() -> T) -> Result<NonNull<c_void>, HRESULT> {
    if !outer.is_null() {
        return Err(CLASS_E_NOAGGREGATION);
    }
    Ok(ComObject::<SyncClass<T>>::create(new()))
}

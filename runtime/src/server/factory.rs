//! The class factory (`IClassFactory`) and `DllGetClassObject`, which hands
//! one out for a CLSID the server exports.

use core::any::Any;
use core::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};

use windows_core::{GUID, HRESULT};

use super::class::ServerClass;
use super::unload;
use crate::abi::IClassFactory_Vtbl;
use crate::hresult::{CLASS_E_CLASSNOTAVAILABLE, E_POINTER, E_UNEXPECTED};
use crate::object::{Class, ComObject, iunknown_vtbl, out_param_and_iid, query_interface, release};
use crate::unwind::forget_payload;

/// `DllGetClassObject`: a new class factory for `*rclsid` if `classes`
/// serves it, queried for `*riid` (IUnknown or IClassFactory).
///
/// # Safety
/// COM: each pointer is NULL or valid for the whole call (`rclsid` and
/// `riid` readable, `ppv` writable).
pub unsafe fn get_class_object(
    classes: &'static [ServerClass],
    rclsid: *const GUID,
    riid: *const GUID,
    ppv: *mut *mut c_void,
) -> HRESULT {
    // SAFETY: COM: the caller passes `riid` and `ppv` NULL or valid for the
    // whole call (this function's contract), as `out_param_and_iid` requires.
    if let Err(hr) = unsafe { out_param_and_iid(riid, ppv) } {
        return hr;
    }
    if rclsid.is_null() {
        return E_POINTER;
    }
    // SAFETY: COM: a non-null `rclsid` points to a GUID for the whole call.
    let wanted = unsafe { *rclsid };
    let Some(class) = classes.iter().find(|class| class.clsid() == wanted) else {
        return CLASS_E_CLASSNOTAVAILABLE;
    };
    let outcome = catch_unwind(|| {
        let factory = ComObject::<FactoryClass>::create(class).as_ptr();
        // SAFETY: COM: we hold the factory's creation reference; the caller
        // vouches for `riid` and `ppv`.
        let hr = unsafe { query_interface::<FactoryClass>(factory, riid, ppv) };
        // SAFETY: COM: gives up the creation reference, once.
        unsafe { release::<FactoryClass>(factory) };
        hr
    });
    outcome.unwrap_or_else(unexpected)
}

/// The object-layer class of the class factory: its value is the class it makes.
struct FactoryClass;

impl Class for FactoryClass {
    type Value = &'static ServerClass;
    type Vtable = IClassFactory_Vtbl;
    const VTABLE: &'static IClassFactory_Vtbl = &IClassFactory_Vtbl {
        base__: iunknown_vtbl::<FactoryClass>(),
        CreateInstance: factory_create_instance,
        LockServer: factory_lock_server,
    };
}

/// Slot 3 of the class factory.
///
/// # Safety
/// COM: `this` is a live class factory; the other pointers are NULL or valid.
unsafe extern "system" fn factory_create_instance(
    this: *mut c_void,
    outer: *mut c_void,
    riid: *const GUID,
    ppv: *mut *mut c_void,
) -> HRESULT {
    // SAFETY: COM: the host passes `riid` and `ppv` NULL or valid for the
    // whole call, as `out_param_and_iid` requires.
    if let Err(hr) = unsafe { out_param_and_iid(riid, ppv) } {
        return hr;
    }
    // SAFETY: COM: the caller holds a reference to the factory for the whole call.
    let class: &ServerClass = unsafe { ComObject::<FactoryClass>::from_this(this) }.value;
    // A panicking constructor must not unwind into the host.
    // SAFETY: COM: the host passes `outer` NULL or live for the whole call;
    // `riid` and `ppv` were checked non-NULL above and are valid (COM's caller rule).
    let outcome = catch_unwind(AssertUnwindSafe(|| unsafe { class.create_instance(outer, riid, ppv) }));
    outcome.unwrap_or_else(unexpected)
}

/// Slot 4 of the class factory: counts a module-wide lock.
///
/// # Safety
/// COM: `this` is a live class factory (not used otherwise).
unsafe extern "system" fn factory_lock_server(_this: *mut c_void, lock: i32) -> HRESULT {
    unload::lock_server(lock != 0)
}

/// E_UNEXPECTED for a caught panic; the payload goes where a panic in its
/// own `Drop` cannot unwind into the host either.
fn unexpected(payload: Box<dyn Any + Send>) -> HRESULT {
    forget_payload(payload);
    E_UNEXPECTED
}

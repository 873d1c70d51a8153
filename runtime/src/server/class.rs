//! [`ServerClass`]: one class an in-proc server exports, and the
//! constructors that make its objects.

use core::ffi::c_void;
use core::marker::PhantomData;
use core::ptr::NonNull;

use windows_core::{GUID, HRESULT, IUnknown_Vtbl};

use crate::abi::IID_IUnknown;
use crate::hresult::CLASS_E_NOAGGREGATION;
use crate::object::ComObject;
use crate::protocol::{Provider, SyncClass};

/// Makes one object of a class, or the HRESULT that `CreateInstance`
/// returns. Gets the outer unknown the host passed (none unless it asks for
/// aggregation).
pub type Constructor = for<'call> fn(outer: OuterUnknown<'call>) -> Result<Instance, HRESULT>;

/// The outer unknown a host passed to `IClassFactory::CreateInstance`:
/// none, or the controlling IUnknown of the aggregate being built.
///
/// Only the class factory makes one, from the pointer the host passed, and
/// it lives only for that call (it is neither `Clone` nor `'static`), so a
/// constructor can rely on it: a made-up pointer cannot reach
/// [`aggregate::new_aggregatable`](crate::aggregate::new_aggregatable).
#[derive(Debug)]
pub struct OuterUnknown<'call> {
    unknown: Option<NonNull<c_void>>,
    call: PhantomData<&'call ()>,
}

impl OuterUnknown<'_> {
    /// The outer unknown of a `CreateInstance` call.
    ///
    /// # Safety
    /// COM: `unknown` is NULL or the live IUnknown a host passed as
    /// `pUnkOuter`, which outlives the object being built (COM's aggregation
    /// rule: the outer owns the inner).
    pub(super) unsafe fn new(unknown: *mut c_void) -> Self {
        Self { unknown: NonNull::new(unknown), call: PhantomData }
    }

    /// The outer unknown, or `None` when the host asked for a plain object.
    pub fn as_ptr(&self) -> Option<NonNull<c_void>> {
        self.unknown
    }

    /// Whether the host asked for a plain object (no aggregation).
    pub fn is_none(&self) -> bool {
        self.unknown.is_none()
    }
}

/// A new COM object a [`Constructor`] made: its IUnknown and the one
/// reference the class factory takes over (dropping it releases that
/// reference).
///
/// The runtime's constructors, [`new_provider`] and
/// [`aggregate::new_aggregatable`](crate::aggregate::new_aggregatable),
/// make one safely; [`Instance::from_raw`] wraps an object made by hand.
#[derive(Debug)]
#[must_use = "dropping an Instance releases the object"]
pub struct Instance(NonNull<c_void>);

impl Instance {
    /// Takes over one reference to a COM object.
    ///
    /// # Safety
    /// COM: `unknown` is a live object's IUnknown (its first word points to
    /// a vtable that starts with `IUnknown_Vtbl`) and the caller hands over
    /// one reference to it, which the `Instance` releases once. The object
    /// follows COM's rules for the interfaces it answers, on any thread
    /// (the factory's callers may be on any thread of a free-threaded host).
    pub unsafe fn from_raw(unknown: NonNull<c_void>) -> Self {
        Self(unknown)
    }

    /// The object's IUnknown; the `Instance` still holds its reference.
    pub fn as_raw(&self) -> *mut c_void {
        self.0.as_ptr()
    }

    /// The IUnknown slots of the object.
    fn unknown(&self) -> &IUnknown_Vtbl {
        // SAFETY: COM: `from_raw`'s contract: a live object whose first word
        // points to a vtable starting with IUnknown's; we hold a reference.
        unsafe { &**(self.0.as_ptr() as *const *const IUnknown_Vtbl) }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: COM: gives up the one reference `from_raw` handed over, once.
        unsafe { (self.unknown().Release)(self.0.as_ptr()) };
    }
}

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
///
/// A constructor cannot hand the factory a pointer it made up: only the
/// runtime's constructors (or the `unsafe` [`Instance::from_raw`]) make
/// the [`Instance`] it returns, so safe code cannot build a class whose
/// `CreateInstance` would call through a dangling pointer:
///
/// ```compile_fail,E0308
/// use mapisync::server::{ServerClass, clsid};
/// static CLASSES: &[ServerClass] = &[ServerClass::new(
///     clsid("{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}"),
///     "Dangling",
///     |_| Ok(core::ptr::NonNull::dangling()),
/// )];
/// ```
/// Nor can it pass a made-up outer unknown to a constructor:
///
/// ```compile_fail,E0308
/// # struct Store;
/// # #[mapisync::provider]
/// # impl mapisync::MapiSync for Store {
/// #     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
/// # }
/// let made_up = core::ptr::dangling_mut::<core::ffi::c_void>();
/// let _ = mapisync::aggregate::new_aggregatable(made_up, || Store);
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
        // SAFETY: COM: the caller vouches that `outer` is NULL or a live
        // IUnknown, which as the aggregate's owner outlives the object.
        let outer = unsafe { OuterUnknown::new(outer) };
        let instance = match (self.create)(outer) {
            Ok(instance) => instance,
            Err(hr) => return hr,
        };
        let object = instance.as_raw();
        // SAFETY: COM: `instance` holds a reference to `object`; the caller
        // vouches for `riid` and `ppv`.
        let hr = unsafe { (instance.unknown().QueryInterface)(object, riid, ppv) };
        // Gives up the creation reference: a failed query frees the object.
        drop(instance);
        hr
    }
}

/// The [`Constructor`] of a provider that cannot be aggregated: an outer
/// unknown is CLASS_E_NOAGGREGATION (and `new` is not called), otherwise
/// `new()` boxed as an IMAPISync object with one reference.
pub fn new_provider<T: Provider>(outer: OuterUnknown<'_>, new: impl FnOnce() -> T) -> Result<Instance, HRESULT> {
    if !outer.is_none() {
        return Err(CLASS_E_NOAGGREGATION);
    }
    let object = ComObject::<SyncClass<T>>::create(new());
    // SAFETY: COM: `create` made a new object, whose one reference we hand over;
    // SyncClass's vtable starts with IUnknown's and its objects are free-threaded.
    Ok(unsafe { Instance::from_raw(object) })
}

//! The in-proc COM server: the entry points a provider DLL exports, so a
//! host can make its objects with `DllGetClassObject` (or, on Windows,
//! `CoCreateInstance` after registration).
//!
//! One line in the provider crate exports them all:
//!
//! ```
//! pub struct MyStore;
//!
//! impl MyStore {
//!     pub fn new() -> Self {
//!         MyStore
//!     }
//! }
//!
//! #[mapisync::provider]
//! impl mapisync::MapiSync for MyStore {
//!     fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
//!         job.progress("Checking the inbox", 1, 1)
//!     }
//! }
//!
//! mapisync::export_server!(MyStore => "{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}", MyStore::new);
//! ```
//!
//! What the exported functions do:
//! - `DllGetClassObject(rclsid, riid, ppv)`: a new class factory for a CLSID
//!   the server exports, answering IUnknown and IClassFactory. An unknown
//!   CLSID is CLASS_E_CLASSNOTAVAILABLE; a NULL pointer argument is
//!   E_POINTER; `*ppv` is NULL on every failure.
//! - `IClassFactory::CreateInstance(outer, riid, ppv)`: makes one object and
//!   queries it for `riid`, so any interface the object answers can be asked
//!   for; the creation reference is released, so a failed query frees the
//!   object again. A non-NULL `outer` with any `riid` but IID_IUnknown is
//!   CLASS_E_NOAGGREGATION, as COM requires; with IID_IUnknown it reaches
//!   the [`ServerClass`] constructor, which refuses it (CLASS_E_NOAGGREGATION)
//!   unless the class is aggregatable (see [`crate::aggregate`]). A
//!   panicking constructor is E_UNEXPECTED.
//! - `IClassFactory::LockServer(lock)`: counts module-wide locks; an unlock
//!   without a lock is E_UNEXPECTED.
//! - `DllCanUnloadNow()`: S_FALSE while any worker thread of this module has
//!   not exited, or any object (class factories included) or lock lives, S_OK after.
//! - On Windows, `DllRegisterServer` / `DllUnregisterServer` write or remove
//!   `HKLM\Software\Classes\CLSID\{clsid}` with an `InprocServer32` key
//!   naming the DLL's own path and `ThreadingModel` "Both", and
//!   `DllInstall(install, cmdline)` does the same under HKCU when `cmdline`
//!   is "user" (`regsvr32 /n /i:user`), under HKLM when it is empty.

use core::ffi::c_void;
use core::ptr::NonNull;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};

pub use windows_core::GUID;
use windows_core::{HRESULT, IUnknown_Vtbl};

use crate::abi::IID_IClassFactory;
use crate::hresult::{CLASS_E_CLASSNOTAVAILABLE, CLASS_E_NOAGGREGATION, E_POINTER, E_UNEXPECTED, S_FALSE, S_OK};
use crate::object::{Class, ComObject, iunknown_vtbl, live_objects, out_param_and_iid, query_interface, release};
use crate::protocol::{Provider, SyncClass};

/// The vtable of `IClassFactory`: IUnknown's three slots, then
/// `CreateInstance` and `LockServer`.
#[repr(C)]
#[allow(non_snake_case)]
pub struct IClassFactory_Vtbl {
    /// Slots 0 to 2.
    pub base__: IUnknown_Vtbl,
    /// Slot 3: `HRESULT CreateInstance(IUnknown *pUnkOuter, REFIID riid, void **ppvObject)`.
    pub CreateInstance: unsafe extern "system" fn(
        this: *mut c_void,
        outer: *mut c_void,
        riid: *const GUID,
        ppv: *mut *mut c_void,
    ) -> HRESULT,
    /// Slot 4: `HRESULT LockServer(BOOL fLock)`.
    pub LockServer: unsafe extern "system" fn(this: *mut c_void, lock: i32) -> HRESULT,
}

const _: () = {
    let ptr = core::mem::size_of::<*const c_void>();
    assert!(core::mem::size_of::<IClassFactory_Vtbl>() == 5 * ptr);
    assert!(core::mem::offset_of!(IClassFactory_Vtbl, CreateInstance) == 3 * ptr);
    assert!(core::mem::offset_of!(IClassFactory_Vtbl, LockServer) == 4 * ptr);
};

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
    unsafe fn create_instance(&self, outer: *mut c_void, riid: *const GUID, ppv: *mut *mut c_void) -> HRESULT {
        // COM: an aggregate's inner object is only ever handed out as its
        // non-delegating IUnknown, so an outer must ask for that.
        // SAFETY: COM: the caller vouches that `riid` points to a GUID.
        if !outer.is_null() && unsafe { *riid } != crate::abi::IID_IUnknown {
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

/// Parses a CLSID written as `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}` (the
/// braces are optional, hex digits of either case). Panics on anything
/// else, which in a `static` or `const` is a compile error.
///
/// ```
/// use mapisync::server::clsid;
/// assert_eq!(clsid("{00000001-0000-0000-C000-000000000046}"), mapisync::abi::IID_IClassFactory);
/// ```
pub const fn clsid(text: &str) -> GUID {
    let bytes = text.as_bytes();
    let (start, len) = match bytes.len() {
        38 if bytes[0] == b'{' && bytes[37] == b'}' => (1, 36),
        36 => (0, 36),
        _ => panic!("a CLSID is 32 hex digits grouped 8-4-4-4-12, optionally in braces"),
    };
    let mut value: u128 = 0;
    let mut i = 0;
    while i < len {
        let byte = bytes[start + i];
        if i == 8 || i == 13 || i == 18 || i == 23 {
            assert!(byte == b'-', "a CLSID has dashes after 8, 12, 16 and 20 hex digits");
        } else {
            let digit = match byte {
                b'0'..=b'9' => byte - b'0',
                b'a'..=b'f' => byte - b'a' + 10,
                b'A'..=b'F' => byte - b'A' + 10,
                _ => panic!("a CLSID has only hex digits between its dashes"),
            };
            value = value << 4 | digit as u128;
        }
        i += 1;
    }
    GUID::from_u128(value)
}

/// Formats a GUID the way the registry writes it: `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`.
///
/// ```
/// use mapisync::server::{clsid, registry_name};
/// let text = "{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}";
/// assert_eq!(registry_name(&clsid(text)), text);
/// ```
pub fn registry_name(guid: &GUID) -> String {
    let d4 = guid.data4;
    format!(
        "{{{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}}}",
        guid.data1, guid.data2, guid.data3, d4[0], d4[1], d4[2], d4[3], d4[4], d4[5], d4[6], d4[7]
    )
}

/// Module-wide `LockServer` locks.
static LOCKS: AtomicUsize = AtomicUsize::new(0);

/// `DllCanUnloadNow`'s answer for a number of live objects and locks.
fn unload_answer(live: usize, locks: usize) -> HRESULT {
    if live == 0 && locks == 0 { S_OK } else { S_FALSE }
}

/// `DllCanUnloadNow`: S_FALSE while any worker thread of this module has not
/// exited (see [`lifecycle`](crate::lifecycle)) or any object made by this
/// module (class factories included) or any `LockServer` lock lives, S_OK after.
pub fn can_unload_now() -> HRESULT {
    // Worker threads first: once every one has exited, none holds an object.
    if crate::lifecycle::running_workers() > 0 {
        return S_FALSE;
    }
    // Acquire: pairs with LockServer's Release decrement, as `live_objects` does with `free`.
    unload_answer(live_objects(), LOCKS.load(Ordering::Acquire))
}

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
    // SAFETY: COM: forwarded from this function's own contract.
    if let Err(hr) = unsafe { out_param_and_iid(riid, ppv) } {
        return hr;
    }
    if rclsid.is_null() {
        return E_POINTER;
    }
    // SAFETY: COM: a non-null `rclsid` points to a GUID for the whole call.
    let wanted = unsafe { *rclsid };
    let Some(class) = classes.iter().find(|class| class.clsid == wanted) else {
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
    outcome.unwrap_or(E_UNEXPECTED)
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
    const IID: GUID = IID_IClassFactory;
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
    // SAFETY: COM: forwarded from this function's own contract.
    if let Err(hr) = unsafe { out_param_and_iid(riid, ppv) } {
        return hr;
    }
    // SAFETY: COM: the caller holds a reference to the factory for the whole call.
    let class: &ServerClass = unsafe { ComObject::<FactoryClass>::from_this(this) }.value;
    // A panicking constructor must not unwind into the host.
    // SAFETY: forwarded from this function's own contract; `ppv` and `riid` checked above.
    let outcome = catch_unwind(AssertUnwindSafe(|| unsafe { class.create_instance(outer, riid, ppv) }));
    outcome.unwrap_or(E_UNEXPECTED)
}

/// Slot 4 of the class factory: counts a module-wide lock.
///
/// # Safety
/// COM: `this` is a live class factory (not used otherwise).
unsafe extern "system" fn factory_lock_server(_this: *mut c_void, lock: i32) -> HRESULT {
    if lock != 0 {
        // Relaxed: a lock is only a number that DllCanUnloadNow reads.
        LOCKS.fetch_add(1, Ordering::Relaxed);
        return S_OK;
    }
    // Release: pairs with the Acquire load in `can_unload_now`.
    match LOCKS.fetch_update(Ordering::Release, Ordering::Relaxed, |locks| locks.checked_sub(1)) {
        Ok(_) => S_OK,
        Err(_) => E_UNEXPECTED,
    }
}

/// Exports the in-proc server entry points for one or more provider classes:
/// `DllGetClassObject` and `DllCanUnloadNow`, and on Windows
/// `DllRegisterServer`, `DllUnregisterServer` and `DllInstall`.
///
/// Each class is `Type => "{CLSID}", constructor`, where the constructor is
/// any expression callable as `FnOnce() -> Type` (a path such as
/// `Type::new` or `Type::default`, or a closure that captures nothing).
/// Classes are separated by `;`. A class followed by `, aggregatable` can
/// be created as the inner object of a COM aggregate (its constructor is
/// [`aggregate::new_aggregatable`](crate::aggregate::new_aggregatable));
/// the others refuse an outer unknown. Use it once per crate, at module level:
///
/// ```
/// # #[derive(Default)] pub struct Inbox;
/// # #[derive(Default)] pub struct Archive;
/// # #[mapisync::provider]
/// # impl mapisync::MapiSync for Inbox {
/// #     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
/// # }
/// # #[mapisync::provider]
/// # impl mapisync::MapiSync for Archive {
/// #     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
/// # }
/// mapisync::export_server! {
///     Inbox => "{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}", Inbox::default;
///     Archive => "{39A7C4C6-53CE-4119-89CB-BD5C40BD5C7C}", || Archive, aggregatable;
/// }
/// ```
/// A malformed CLSID is a compile error.
#[macro_export]
macro_rules! export_server {
    ($($provider:ty => $clsid:literal, $new:expr $(, $aggregatable:ident)?);+ $(;)?) => {
        const _: () = {
            static CLASSES: &[$crate::server::ServerClass] = &[$(
                $crate::server::ServerClass::new(
                    $crate::server::clsid($clsid),
                    ::core::stringify!($provider),
                    |outer| $crate::__server_constructor!($provider, outer, $new $(, $aggregatable)?),
                )
            ),+];

            /// COM: makes a class factory for one of this module's classes.
            ///
            /// # Safety
            /// Each pointer is NULL or valid for the whole call.
            #[unsafe(no_mangle)]
            #[allow(non_snake_case)]
            pub unsafe extern "system" fn DllGetClassObject(
                rclsid: *const $crate::server::GUID,
                riid: *const $crate::server::GUID,
                ppv: *mut *mut ::core::ffi::c_void,
            ) -> $crate::HRESULT {
                // SAFETY: COM: forwarded from this function's own contract.
                unsafe { $crate::server::get_class_object(CLASSES, rclsid, riid, ppv) }
            }

            /// COM: S_OK when no object or lock of this module lives.
            #[unsafe(no_mangle)]
            #[allow(non_snake_case)]
            pub extern "system" fn DllCanUnloadNow() -> $crate::HRESULT {
                $crate::server::can_unload_now()
            }

            /// COM: registers every class under HKLM.
            #[cfg(windows)]
            #[unsafe(no_mangle)]
            #[allow(non_snake_case)]
            pub extern "system" fn DllRegisterServer() -> $crate::HRESULT {
                $crate::server::register(CLASSES, $crate::server::Scope::Machine)
            }

            /// COM: removes every class from HKLM.
            #[cfg(windows)]
            #[unsafe(no_mangle)]
            #[allow(non_snake_case)]
            pub extern "system" fn DllUnregisterServer() -> $crate::HRESULT {
                $crate::server::unregister(CLASSES, $crate::server::Scope::Machine)
            }

            /// COM: `regsvr32 /n /i:user` registers under HKCU, `/n /i` under HKLM.
            ///
            /// # Safety
            /// `cmdline` is NULL or a NUL-terminated UTF-16 string.
            #[cfg(windows)]
            #[unsafe(no_mangle)]
            #[allow(non_snake_case)]
            pub unsafe extern "system" fn DllInstall(install: i32, cmdline: *const u16) -> $crate::HRESULT {
                // SAFETY: forwarded from this function's own contract.
                unsafe { $crate::server::install(CLASSES, install, cmdline) }
            }
        };
    };
}

/// The constructor `export_server!` uses for one class: plain, or `aggregatable`.
#[doc(hidden)]
#[macro_export]
macro_rules! __server_constructor {
    ($provider:ty, $outer:ident, $new:expr) => {
        $crate::server::new_provider::<$provider>($outer, $new)
    };
    ($provider:ty, $outer:ident, $new:expr, aggregatable) => {
        $crate::aggregate::new_aggregatable::<$provider>($outer, $new)
    };
}

/// Where registration writes: `HKLM` or `HKCU`, under `Software\Classes\CLSID`.
#[cfg(windows)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `HKEY_LOCAL_MACHINE`: every user (`regsvr32`; needs an administrator).
    Machine,
    /// `HKEY_CURRENT_USER`: this user only (`regsvr32 /n /i:user`).
    User,
}

#[cfg(windows)]
pub use registry::{install, register, unregister};

#[cfg(windows)]
mod registry {
    use super::{Scope, ServerClass, registry_name};
    use crate::hresult::{E_INVALIDARG, S_OK};
    use windows_core::HRESULT;
    use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_SUCCESS, GetLastError, HMODULE, WIN32_ERROR};
    use windows_sys::Win32::System::LibraryLoader::{
        GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT, GetModuleFileNameW,
        GetModuleHandleExW,
    };
    use windows_sys::Win32::System::Registry::{
        HKEY, HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, KEY_WRITE, REG_OPTION_NON_VOLATILE, REG_SZ, RegCloseKey,
        RegCreateKeyExW, RegDeleteTreeW, RegSetValueExW,
    };

    fn check(status: WIN32_ERROR) -> Result<(), HRESULT> {
        if status == ERROR_SUCCESS { Ok(()) } else { Err(HRESULT::from_win32(status)) }
    }

    fn wide(text: &str) -> Vec<u16> {
        text.encode_utf16().chain(Some(0)).collect()
    }

    fn root(scope: Scope) -> HKEY {
        match scope {
            Scope::Machine => HKEY_LOCAL_MACHINE,
            Scope::User => HKEY_CURRENT_USER,
        }
    }

    /// `Software\Classes\CLSID\{...}`, the key registration owns.
    pub(super) fn class_key(class: &ServerClass) -> String {
        format!("Software\\Classes\\CLSID\\{}", registry_name(&class.clsid))
    }

    /// The full path of the module (DLL or EXE) this code was linked into,
    /// NUL-terminated.
    pub(super) fn module_path() -> Result<Vec<u16>, HRESULT> {
        let mut module: HMODULE = core::ptr::null_mut();
        let address = module_path as fn() -> Result<Vec<u16>, HRESULT> as *const u16;
        // SAFETY: Win32: FROM_ADDRESS takes any address inside a loaded
        // module (this function's); UNCHANGED_REFCOUNT takes no reference
        // to release; `module` is writable.
        let found = unsafe {
            GetModuleHandleExW(
                GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                address,
                &mut module,
            )
        };
        if found == 0 {
            // SAFETY: Win32: GetLastError has no preconditions.
            return Err(HRESULT::from_win32(unsafe { GetLastError() }));
        }
        let mut buffer = vec![0u16; 260];
        loop {
            let size = buffer.len() as u32;
            // SAFETY: Win32: `buffer` is writable for `size` UTF-16 units; the module stays loaded (it holds this code).
            let written = unsafe { GetModuleFileNameW(module, buffer.as_mut_ptr(), size) };
            if written == 0 {
                // SAFETY: Win32: GetLastError has no preconditions.
                return Err(HRESULT::from_win32(unsafe { GetLastError() }));
            }
            if written < size {
                buffer.truncate(written as usize);
                buffer.push(0);
                return Ok(buffer);
            }
            // Truncated: try again with room for the longest path Windows allows.
            if buffer.len() >= 32_768 {
                return Err(HRESULT::from_win32(windows_sys::Win32::Foundation::ERROR_INSUFFICIENT_BUFFER));
            }
            buffer.resize(buffer.len() * 4, 0);
        }
    }

    /// An open registry key, closed on drop.
    struct Key(HKEY);

    impl Key {
        fn create(parent: HKEY, path: &str) -> Result<Key, HRESULT> {
            let path = wide(path);
            let mut key: HKEY = core::ptr::null_mut();
            // SAFETY: Win32: `path` is NUL-terminated; class, security
            // attributes and disposition may be NULL; `key` is writable.
            check(unsafe {
                RegCreateKeyExW(
                    parent,
                    path.as_ptr(),
                    0,
                    core::ptr::null(),
                    REG_OPTION_NON_VOLATILE,
                    KEY_WRITE,
                    core::ptr::null(),
                    &mut key,
                    core::ptr::null_mut(),
                )
            })?;
            Ok(Key(key))
        }

        /// Sets a REG_SZ value; `None` is the key's default value.
        fn set(&self, name: Option<&str>, value: &[u16]) -> Result<(), HRESULT> {
            let name = name.map(wide);
            let name_ptr = name.as_ref().map_or(core::ptr::null(), |name| name.as_ptr());
            let bytes = u32::try_from(value.len() * 2).map_err(|_| E_INVALIDARG)?;
            // SAFETY: Win32: `self.0` is open for writing; `name_ptr` is NULL
            // or NUL-terminated; `value` is NUL-terminated and `bytes` long.
            check(unsafe { RegSetValueExW(self.0, name_ptr, 0, REG_SZ, value.as_ptr().cast(), bytes) })
        }
    }

    impl Drop for Key {
        fn drop(&mut self) {
            // SAFETY: Win32: our own open key, closed once.
            unsafe { RegCloseKey(self.0) };
        }
    }

    fn register_class(class: &ServerClass, scope: Scope, path: &[u16]) -> Result<(), HRESULT> {
        let key = Key::create(root(scope), &class_key(class))?;
        key.set(None, &wide(class.name()))?;
        let server = Key::create(key.0, "InprocServer32")?;
        server.set(None, path)?;
        server.set(Some("ThreadingModel"), &wide("Both"))
    }

    /// Registers every class under `scope`: `Software\Classes\CLSID\{clsid}`
    /// (default value: the class name) and its `InprocServer32` (default
    /// value: this module's path; `ThreadingModel` "Both"). On failure
    /// whatever was written is removed again.
    pub fn register(classes: &[ServerClass], scope: Scope) -> HRESULT {
        let path = match module_path() {
            Ok(path) => path,
            Err(hr) => return hr,
        };
        for class in classes {
            if let Err(hr) = register_class(class, scope, &path) {
                let _ = unregister(classes, scope);
                return hr;
            }
        }
        S_OK
    }

    /// Removes every class's key under `scope`; a key that is not there is
    /// not an error.
    pub fn unregister(classes: &[ServerClass], scope: Scope) -> HRESULT {
        let mut result = S_OK;
        for class in classes {
            let path = wide(&class_key(class));
            // SAFETY: Win32: a predefined root key and a NUL-terminated path.
            let status = unsafe { RegDeleteTreeW(root(scope), path.as_ptr()) };
            if status != ERROR_SUCCESS && status != ERROR_FILE_NOT_FOUND {
                result = HRESULT::from_win32(status);
            }
        }
        result
    }

    /// `DllInstall(install, cmdline)`: `cmdline` "user" (any case) is
    /// [`Scope::User`], NULL or empty is [`Scope::Machine`], anything else
    /// E_INVALIDARG; `install` non-zero registers, zero unregisters.
    ///
    /// # Safety
    /// `cmdline` is NULL or a NUL-terminated UTF-16 string.
    pub unsafe fn install(classes: &[ServerClass], install: i32, cmdline: *const u16) -> HRESULT {
        let mut text = Vec::new();
        if !cmdline.is_null() {
            let mut at = cmdline;
            // SAFETY: the caller vouches for a NUL-terminated string; the
            // loop stops at its NUL (and gives up on absurd lengths).
            while let unit @ 1.. = unsafe { *at } {
                if text.len() > 64 {
                    break;
                }
                text.push(unit);
                // SAFETY: `at` is not at the NUL yet, so the next unit is still inside the string.
                at = unsafe { at.add(1) };
            }
        }
        let text = String::from_utf16_lossy(&text);
        let scope = if text.is_empty() {
            Scope::Machine
        } else if text.trim().eq_ignore_ascii_case("user") {
            Scope::User
        } else {
            return E_INVALIDARG;
        };
        if install != 0 { register(classes, scope) } else { unregister(classes, scope) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{IID_IMAPISync, IID_IMAPISyncProgressCallback, IID_IUnknown, IMAPISync_Vtbl};
    use crate::hresult::E_NOINTERFACE;
    use crate::protocol::{MapiSync, SyncJob, vtable};
    use std::sync::{Mutex, MutexGuard, PoisonError};
    use windows_core::Interface;

    /// Every test here uses the module-wide lock count and object counter:
    /// one at a time, so their figures are their own.
    static SERIAL: Mutex<()> = Mutex::new(());
    fn serial() -> MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
    }

    static BUILT: AtomicUsize = AtomicUsize::new(0);
    static DROPPED: AtomicUsize = AtomicUsize::new(0);

    struct Store;
    impl Store {
        fn new() -> Self {
            BUILT.fetch_add(1, Ordering::SeqCst);
            Store
        }
    }
    impl Drop for Store {
        fn drop(&mut self) {
            DROPPED.fetch_add(1, Ordering::SeqCst);
        }
    }
    impl MapiSync for Store {
        fn synchronize_in_background(&self, job: &mut SyncJob) -> crate::Result<()> {
            job.progress("one", 1, 1)
        }
    }
    // One static, so `provider_of` finds one address.
    static STORE_VTBL: IMAPISync_Vtbl = vtable::<Store>();
    // SAFETY: Provider: VTABLE is vtable::<Store>().
    unsafe impl Provider for Store {
        const VTABLE: &'static IMAPISync_Vtbl = &STORE_VTBL;
    }

    const STORE_CLSID: GUID = clsid("{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}");
    const OTHER_CLSID: GUID = clsid("{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7D}");
    static CLASSES: &[ServerClass] = &[
        ServerClass::new(STORE_CLSID, "Store", |outer| new_provider(outer, Store::new)),
        ServerClass::new(OTHER_CLSID, "Panics", |outer| new_provider::<Store>(outer, || panic!("constructor failed"))),
    ];

    /// The IUnknown slots of any object.
    unsafe fn unknown<'a>(this: *mut c_void) -> &'a IUnknown_Vtbl {
        // SAFETY: test: `this` is a live COM object; its first word is its vtable.
        unsafe { &**(this as *const *const IUnknown_Vtbl) }
    }
    fn add_ref(this: *mut c_void) -> u32 {
        // SAFETY: test: the caller holds a reference.
        unsafe { (unknown(this).AddRef)(this) }
    }
    fn release_raw(this: *mut c_void) -> u32 {
        // SAFETY: test: the caller gives up a reference it holds.
        unsafe { (unknown(this).Release)(this) }
    }
    /// The current count, read as AddRef then Release.
    fn count(this: *mut c_void) -> u32 {
        add_ref(this);
        release_raw(this)
    }
    fn query(this: *mut c_void, iid: &GUID) -> (HRESULT, *mut c_void) {
        let mut out = core::ptr::dangling_mut::<c_void>();
        // SAFETY: test: `this` is live; `iid` and `out` are valid.
        let hr = unsafe { (unknown(this).QueryInterface)(this, iid, &mut out) };
        (hr, out)
    }

    fn class_object(clsid: &GUID, iid: &GUID) -> (HRESULT, *mut c_void) {
        let mut out = core::ptr::dangling_mut::<c_void>();
        // SAFETY: test: every pointer is valid.
        let hr = unsafe { get_class_object(CLASSES, clsid, iid, &mut out) };
        (hr, out)
    }
    fn factory() -> *mut c_void {
        let (hr, factory) = class_object(&STORE_CLSID, &IID_IClassFactory);
        assert_eq!(hr, S_OK);
        factory
    }
    fn vtbl<'a>(factory: *mut c_void) -> &'a IClassFactory_Vtbl {
        // SAFETY: test: a live class factory from `get_class_object`.
        unsafe { &**(factory as *const *const IClassFactory_Vtbl) }
    }
    fn create(factory: *mut c_void, outer: *mut c_void, iid: &GUID) -> (HRESULT, *mut c_void) {
        let mut out = core::ptr::dangling_mut::<c_void>();
        // SAFETY: test: a live factory; valid pointers.
        let hr = unsafe { (vtbl(factory).CreateInstance)(factory, outer, iid, &mut out) };
        (hr, out)
    }

    #[test]
    fn clsid_parses_with_or_without_braces_in_any_case() {
        let upper = clsid("{5024A385-2D44-486A-81A8-8F0ECB6071DD}");
        assert_eq!(upper, IID_IMAPISync);
        assert_eq!(clsid("5024a385-2d44-486a-81a8-8f0ecb6071dd"), upper);
        assert_eq!(clsid("{00000000-0000-0000-C000-000000000046}"), IID_IUnknown);
        assert_eq!(registry_name(&IID_IMAPISync), "{5024A385-2D44-486A-81A8-8F0ECB6071DD}");
    }

    #[test]
    fn clsid_rejects_malformed_text() {
        for bad in [
            "",
            "{5024A385-2D44-486A-81A8-8F0ECB6071DD",
            "5024A385-2D44-486A-81A8-8F0ECB6071DDX",
            "{5024A385_2D44-486A-81A8-8F0ECB6071DD}",
            "{5024A385-2D44-486A-81A8-8F0ECB6071DG}",
            "(5024A385-2D44-486A-81A8-8F0ECB6071DD)",
        ] {
            assert!(std::panic::catch_unwind(|| clsid(bad)).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn unload_answer_is_ok_only_with_no_object_and_no_lock() {
        assert_eq!(unload_answer(0, 0), S_OK);
        assert_eq!(unload_answer(1, 0), S_FALSE);
        assert_eq!(unload_answer(0, 1), S_FALSE);
    }

    #[test]
    fn get_class_object_rejects_null_pointers() {
        let _serial = serial();
        // SAFETY: test: NULL is accepted for each pointer.
        unsafe {
            assert_eq!(get_class_object(CLASSES, &STORE_CLSID, &IID_IClassFactory, core::ptr::null_mut()), E_POINTER);
            let mut out = core::ptr::dangling_mut::<c_void>();
            assert_eq!(get_class_object(CLASSES, core::ptr::null(), &IID_IClassFactory, &mut out), E_POINTER);
            assert!(out.is_null());
            out = core::ptr::dangling_mut::<c_void>();
            assert_eq!(get_class_object(CLASSES, &STORE_CLSID, core::ptr::null(), &mut out), E_POINTER);
            assert!(out.is_null());
        }
    }

    #[test]
    fn get_class_object_refuses_an_unknown_clsid_and_interface() {
        let _serial = serial();
        let (hr, out) = class_object(&IID_IMAPISync, &IID_IClassFactory);
        assert_eq!((hr, out), (CLASS_E_CLASSNOTAVAILABLE, core::ptr::null_mut()));
        let (hr, out) = class_object(&STORE_CLSID, &IID_IMAPISync);
        assert_eq!((hr, out), (E_NOINTERFACE, core::ptr::null_mut()));
    }

    #[test]
    fn class_factory_has_one_identity_and_one_reference() {
        let _serial = serial();
        let (hr, unknown) = class_object(&STORE_CLSID, &IID_IUnknown);
        assert_eq!(hr, S_OK);
        assert_eq!(count(unknown), 1);
        let (hr, factory) = query(unknown, &IID_IClassFactory);
        assert_eq!((hr, factory), (S_OK, unknown));
        assert_eq!(count(unknown), 2);
        let (hr, none) = query(unknown, &IID_IMAPISync);
        assert_eq!((hr, none), (E_NOINTERFACE, core::ptr::null_mut()));
        assert_eq!(release_raw(factory), 1);
        assert_eq!(can_unload_now(), S_FALSE, "a live class factory keeps the module loaded");
        assert_eq!(release_raw(unknown), 0);
    }

    #[test]
    fn create_instance_answers_every_interface_the_object_does() {
        let _serial = serial();
        let factory = factory();
        let (hr, sync) = create(factory, core::ptr::null_mut(), &IID_IMAPISync);
        assert_eq!(hr, S_OK);
        assert_eq!(count(sync), 1, "the creation reference was released");
        let (hr, unknown) = create(factory, core::ptr::null_mut(), &IID_IUnknown);
        assert_eq!(hr, S_OK);
        assert_ne!(unknown, sync, "each CreateInstance makes a new object");
        let (hr, same) = query(unknown, &IID_IMAPISync);
        assert_eq!((hr, same), (S_OK, unknown));
        // SAFETY: test: `same` is a counted IMAPISync reference, handed over.
        let object = unsafe { crate::IMAPISync::from_raw(same) };
        assert!(crate::provider_of::<Store>(&object).is_some());
        let report = crate::host::Host::new().run(&object).unwrap();
        assert_eq!(report.done, Some(S_OK));
        drop(object);
        assert_eq!(release_raw(unknown), 0);
        assert_eq!(release_raw(sync), 0);
        assert_eq!(release_raw(factory), 0);
    }

    #[test]
    fn create_instance_frees_the_object_when_the_interface_is_missing() {
        let _serial = serial();
        let factory = factory();
        let (built, dropped) = (BUILT.load(Ordering::SeqCst), DROPPED.load(Ordering::SeqCst));
        let (hr, out) = create(factory, core::ptr::null_mut(), &IID_IMAPISyncProgressCallback);
        assert_eq!((hr, out), (E_NOINTERFACE, core::ptr::null_mut()));
        assert_eq!(BUILT.load(Ordering::SeqCst), built + 1);
        assert_eq!(DROPPED.load(Ordering::SeqCst), dropped + 1);
        assert_eq!(release_raw(factory), 0);
    }

    #[test]
    fn create_instance_refuses_aggregation_without_building() {
        let _serial = serial();
        let factory = factory();
        let (hr, outer) = create(factory, core::ptr::null_mut(), &IID_IUnknown);
        assert_eq!(hr, S_OK);
        let built = BUILT.load(Ordering::SeqCst);
        let (hr, out) = create(factory, outer, &IID_IUnknown);
        assert_eq!((hr, out), (CLASS_E_NOAGGREGATION, core::ptr::null_mut()));
        assert_eq!(BUILT.load(Ordering::SeqCst), built, "the constructor did not run");
        assert_eq!(count(outer), 1, "the outer unknown was not kept");
        assert_eq!(release_raw(outer), 0);
        assert_eq!(release_raw(factory), 0);
    }

    #[test]
    fn create_instance_rejects_null_pointers() {
        let _serial = serial();
        let factory = factory();
        // SAFETY: test: a live factory; NULL is accepted for riid and ppv.
        unsafe {
            let create = vtbl(factory).CreateInstance;
            assert_eq!(create(factory, core::ptr::null_mut(), &IID_IMAPISync, core::ptr::null_mut()), E_POINTER);
            let mut out = core::ptr::dangling_mut::<c_void>();
            assert_eq!(create(factory, core::ptr::null_mut(), core::ptr::null(), &mut out), E_POINTER);
            assert!(out.is_null());
        }
        assert_eq!(release_raw(factory), 0);
    }

    #[test]
    fn a_panicking_constructor_is_e_unexpected() {
        let _serial = serial();
        let (hr, factory) = class_object(&OTHER_CLSID, &IID_IClassFactory);
        assert_eq!(hr, S_OK);
        let (hr, out) = create(factory, core::ptr::null_mut(), &IID_IMAPISync);
        assert_eq!((hr, out), (E_UNEXPECTED, core::ptr::null_mut()));
        assert_eq!(release_raw(factory), 0);
    }

    #[test]
    fn lock_server_counts_and_keeps_the_module_loaded() {
        let _serial = serial();
        let factory = factory();
        let lock = vtbl(factory).LockServer;
        let before = LOCKS.load(Ordering::SeqCst);
        // SAFETY: test: a live factory.
        unsafe {
            assert_eq!(lock(factory, 1), S_OK);
            assert_eq!(lock(factory, 1), S_OK);
            assert_eq!(LOCKS.load(Ordering::SeqCst), before + 2);
            assert_eq!(can_unload_now(), S_FALSE);
            assert_eq!(lock(factory, 0), S_OK);
            assert_eq!(lock(factory, 0), S_OK);
            assert_eq!(LOCKS.load(Ordering::SeqCst), before);
            if before == 0 {
                assert_eq!(lock(factory, 0), E_UNEXPECTED, "an unlock without a lock");
                assert_eq!(LOCKS.load(Ordering::SeqCst), 0);
            }
        }
        assert_eq!(release_raw(factory), 0);
    }

    #[test]
    fn a_live_object_keeps_the_module_loaded() {
        let _serial = serial();
        let factory = factory();
        let (hr, sync) = create(factory, core::ptr::null_mut(), &IID_IMAPISync);
        assert_eq!(hr, S_OK);
        assert_eq!(release_raw(factory), 0);
        assert_eq!(can_unload_now(), S_FALSE);
        let dropped = DROPPED.load(Ordering::SeqCst);
        assert_eq!(release_raw(sync), 0);
        assert_eq!(DROPPED.load(Ordering::SeqCst), dropped + 1, "the last Release freed the provider");
    }

    #[cfg(windows)]
    mod registration {
        use super::*;
        use windows_sys::Win32::System::Registry::{HKEY_CURRENT_USER, RRF_RT_REG_SZ, RegGetValueW};

        fn read(path: &str, name: Option<&str>) -> Option<String> {
            let wide = |s: &str| s.encode_utf16().chain(Some(0)).collect::<Vec<u16>>();
            let path = wide(path);
            let name = name.map(wide);
            let mut buffer = vec![0u16; 1024];
            let mut bytes = (buffer.len() * 2) as u32;
            // SAFETY: test: valid NUL-terminated strings and a writable buffer of `bytes` bytes.
            let status = unsafe {
                RegGetValueW(
                    HKEY_CURRENT_USER,
                    path.as_ptr(),
                    name.as_ref().map_or(core::ptr::null(), |n| n.as_ptr()),
                    RRF_RT_REG_SZ,
                    core::ptr::null_mut(),
                    buffer.as_mut_ptr().cast(),
                    &mut bytes,
                )
            };
            (status == 0).then(|| String::from_utf16_lossy(&buffer[..bytes as usize / 2 - 1]))
        }

        const KEY: &str = "Software\\Classes\\CLSID\\{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}";

        #[test]
        fn user_registration_names_this_module_and_threading_both() {
            let _serial = serial();
            let classes = &CLASSES[..1];
            assert_eq!(register(classes, Scope::User), S_OK);
            let exe = std::env::current_exe().unwrap();
            let path = read(&format!("{KEY}\\InprocServer32"), None).expect("InprocServer32 written");
            assert!(path.eq_ignore_ascii_case(exe.to_str().unwrap()), "{path} is not {exe:?}");
            assert_eq!(read(&format!("{KEY}\\InprocServer32"), Some("ThreadingModel")).as_deref(), Some("Both"));
            assert_eq!(read(KEY, None).as_deref(), Some("Store"));
            assert_eq!(unregister(classes, Scope::User), S_OK);
            assert_eq!(read(KEY, None), None);
            assert_eq!(unregister(classes, Scope::User), S_OK, "a missing key is not an error");
        }

        #[test]
        fn dll_install_takes_user_in_any_case_and_nothing_else() {
            let _serial = serial();
            let classes = &CLASSES[..1];
            let text = |s: &str| s.encode_utf16().chain(Some(0)).collect::<Vec<u16>>();
            // SAFETY: test: NUL-terminated strings.
            unsafe {
                assert_eq!(install(classes, 1, text("USER").as_ptr()), S_OK);
                assert!(read(KEY, None).is_some());
                assert_eq!(install(classes, 0, text("user").as_ptr()), S_OK);
                assert_eq!(read(KEY, None), None);
                assert_eq!(install(classes, 1, text("everyone").as_ptr()), crate::E_INVALIDARG);
                assert_eq!(read(KEY, None), None);
            }
        }
    }
}

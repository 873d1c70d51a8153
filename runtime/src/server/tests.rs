//! The in-proc server driven through raw vtables, as a C host drives it:
//! class factories, CreateInstance, LockServer, DllCanUnloadNow and, on
//! Windows, registration.

use core::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use windows_core::{GUID, HRESULT, IUnknown_Vtbl, Interface};

use super::unload::{Holds, locks, unload_answer};
use super::*;
use crate::abi::{IID_IClassFactory, IID_IMAPISync, IID_IMAPISyncProgressCallback, IID_IUnknown, IMAPISync_Vtbl};
use crate::hresult::{
    CLASS_E_CLASSNOTAVAILABLE, CLASS_E_NOAGGREGATION, E_NOINTERFACE, E_POINTER, E_UNEXPECTED, S_FALSE, S_OK,
};
use crate::protocol::{MapiSync, Provider, SyncJob, vtable};

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
const PANICKY_CLSID: GUID = clsid("{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7E}");

/// A panic payload whose own Drop panics again.
struct PanicsOnDrop;
impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("the payload's Drop panicked");
    }
}
static CLASSES: &[ServerClass] = &[
    ServerClass::new(STORE_CLSID, "Store", |outer| new_provider(outer, Store::new)),
    ServerClass::new(OTHER_CLSID, "Panics", |outer| new_provider::<Store>(outer, || panic!("constructor failed"))),
    ServerClass::new(PANICKY_CLSID, "PanicsTwice", |outer| {
        new_provider::<Store>(outer, || std::panic::panic_any(PanicsOnDrop))
    }),
];

/// The IUnknown slots of any object.
///
/// # Safety
/// COM: `this` is a live object the caller holds a reference to.
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
fn unload_answer_is_ok_only_with_no_worker_no_object_no_job_and_no_lock() {
    let none = Holds::default();
    assert_eq!(unload_answer(Holds { workers: 0, objects: 0, locks: 0, tokens: 0 }), S_OK);
    assert_eq!(unload_answer(Holds { objects: 1, ..none }), S_FALSE);
    assert_eq!(unload_answer(Holds { locks: 1, ..none }), S_FALSE);
    assert_eq!(unload_answer(Holds { workers: 1, ..none }), S_FALSE);
    assert_eq!(unload_answer(Holds { tokens: 1, ..none }), S_FALSE);
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

/// CreateInstance on the factory of `clsid`, whose constructor panics:
/// E_UNEXPECTED and a NULL `*ppv`, and the factory goes as usual.
fn assert_construction_is_e_unexpected(clsid: &GUID) {
    let _serial = serial();
    let (hr, factory) = class_object(clsid, &IID_IClassFactory);
    assert_eq!(hr, S_OK);
    let (hr, out) = create(factory, core::ptr::null_mut(), &IID_IMAPISync);
    assert_eq!((hr, out), (E_UNEXPECTED, core::ptr::null_mut()));
    assert_eq!(release_raw(factory), 0);
}

#[test]
fn a_panicking_constructor_is_e_unexpected() {
    assert_construction_is_e_unexpected(&OTHER_CLSID);
}

#[test]
fn a_constructor_panic_whose_payload_panics_on_drop_is_e_unexpected() {
    assert_construction_is_e_unexpected(&PANICKY_CLSID);
}

#[test]
fn lock_server_counts_and_keeps_the_module_loaded() {
    let _serial = serial();
    let factory = factory();
    let lock = vtbl(factory).LockServer;
    let before = locks();
    // SAFETY: test: a live factory.
    unsafe {
        assert_eq!(lock(factory, 1), S_OK);
        assert_eq!(lock(factory, 1), S_OK);
        assert_eq!(locks(), before + 2);
        assert_eq!(can_unload_now(), S_FALSE);
        assert_eq!(lock(factory, 0), S_OK);
        assert_eq!(lock(factory, 0), S_OK);
        assert_eq!(locks(), before);
        if before == 0 {
            assert_eq!(lock(factory, 0), E_UNEXPECTED, "an unlock without a lock");
            assert_eq!(locks(), 0);
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

    /// `s` as a NUL-terminated UTF-16 string.
    fn text(s: &str) -> Vec<u16> {
        s.encode_utf16().chain(Some(0)).collect()
    }

    #[test]
    fn dll_install_reads_the_whole_command_line() {
        let _serial = serial();
        let classes = &CLASSES[..1];
        let cmdline = format!("user{}everyone", " ".repeat(61));
        // SAFETY: test: a NUL-terminated string.
        let hr = unsafe { install(classes, 1, text(&cmdline).as_ptr()) };
        let registered = read(KEY, None).is_some();
        let _ = unregister(classes, Scope::User);
        assert_eq!((hr, registered), (crate::E_INVALIDARG, false), "\"user\", 61 spaces, \"everyone\" is not \"user\"");
    }

    #[test]
    fn dll_install_takes_whitespace_only_as_empty() {
        let _serial = serial();
        let classes = &CLASSES[..1];
        // Uninstall only: HKLM is left as it was (a missing key is not an error).
        for blank in ["", " ", "\t  \t", "   \r\n"] {
            // SAFETY: test: NULL and NUL-terminated strings.
            unsafe {
                assert_eq!(install(classes, 0, text(blank).as_ptr()), S_OK, "{blank:?} is the machine scope");
            }
        }
        // SAFETY: test: NULL is a valid command line.
        assert_eq!(unsafe { install(classes, 0, core::ptr::null()) }, S_OK);
    }

    /// A key as the test left it before calling `register`, for comparing after.
    #[derive(Debug, PartialEq)]
    struct Found {
        default: Option<String>,
        marker: Option<String>,
        server: Option<String>,
        model: Option<String>,
    }
    fn found(key: &str) -> Found {
        let server = format!("{key}\\InprocServer32");
        Found {
            default: read(key, None),
            marker: read(key, Some("Marker")),
            server: read(&server, None),
            model: read(&server, Some("ThreadingModel")),
        }
    }

    #[test]
    fn a_failed_registration_leaves_the_registry_as_it_found_it() {
        let _serial = serial();
        let first = "Software\\Classes\\CLSID\\{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}";
        let second = "Software\\Classes\\CLSID\\{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7D}";
        let _ = unregister(CLASSES, Scope::User);
        // The first class is already registered by someone else, with a value of theirs.
        write(first, false, &[(None, "Theirs"), (Some("Marker"), "kept")]);
        write(
            &format!("{first}\\InprocServer32"),
            false,
            &[(None, "C:\\theirs.dll"), (Some("ThreadingModel"), "Apartment")],
        );
        // The second class's key is volatile, so its non-volatile InprocServer32
        // cannot be created: registration fails half-way (ERROR_CHILD_MUST_BE_VOLATILE).
        write(second, true, &[(Some("Marker"), "volatile")]);
        let (first_before, second_before) = (found(first), found(second));
        let hr = register(CLASSES, Scope::User);
        let (first_after, second_after) = (found(first), found(second));
        delete(first);
        delete(second);
        assert_eq!(hr, windows_core::HRESULT::from_win32(1021), "ERROR_CHILD_MUST_BE_VOLATILE");
        assert_eq!(first_after, first_before, "the first class's key, registered before");
        assert_eq!(second_after, second_before, "the second class's key, there before");
    }

    /// Creates `path` under HKCU (volatile or not) and sets REG_SZ values.
    fn write(path: &str, volatile: bool, values: &[(Option<&str>, &str)]) {
        use windows_sys::Win32::System::Registry::{
            HKEY, KEY_WRITE, REG_OPTION_NON_VOLATILE, REG_OPTION_VOLATILE, REG_SZ, RegCloseKey, RegCreateKeyExW,
            RegSetValueExW,
        };
        let options = if volatile { REG_OPTION_VOLATILE } else { REG_OPTION_NON_VOLATILE };
        let mut key: HKEY = core::ptr::null_mut();
        let path = text(path);
        // SAFETY: test: a NUL-terminated path; NULL class, security and disposition; `key` writable.
        let status = unsafe {
            RegCreateKeyExW(
                HKEY_CURRENT_USER,
                path.as_ptr(),
                0,
                core::ptr::null(),
                options,
                KEY_WRITE,
                core::ptr::null(),
                &mut key,
                core::ptr::null_mut(),
            )
        };
        assert_eq!(status, 0, "RegCreateKeyExW");
        for (name, value) in values {
            let name = name.map(text);
            let value = text(value);
            // SAFETY: test: an open key; NULL or NUL-terminated name; a NUL-terminated value of the given size.
            let status = unsafe {
                RegSetValueExW(
                    key,
                    name.as_ref().map_or(core::ptr::null(), |n| n.as_ptr()),
                    0,
                    REG_SZ,
                    value.as_ptr().cast(),
                    (value.len() * 2) as u32,
                )
            };
            assert_eq!(status, 0, "RegSetValueExW");
        }
        // SAFETY: test: our own open key, closed once.
        unsafe { RegCloseKey(key) };
    }

    /// Deletes `path` and everything under it from HKCU.
    fn delete(path: &str) {
        let path = text(path);
        // SAFETY: test: a predefined root and a NUL-terminated path.
        unsafe { windows_sys::Win32::System::Registry::RegDeleteTreeW(HKEY_CURRENT_USER, path.as_ptr()) };
    }
}

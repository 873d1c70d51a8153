//! Every example provider passes `mapisync::host::check_conformance`: COM's
//! QueryInterface rules (reflexive, symmetric, transitive, one stable
//! IUnknown, E_NOINTERFACE with NULL) and balanced reference counts, on all
//! the interfaces each one answers; mapisync's own objects (which promise
//! it) also E_POINTER for a NULL out-pointer.

use std::ffi::c_void;
use std::time::Duration;

use mapisync::abi::{IID_IClassFactory, IID_IMAPISync, IID_IUnknown};
use mapisync::host::{Conformance, Host, check_conformance};
use mapisync::{HRESULT, IMAPISync, IUnknown, Interface, S_OK};
use mapisync_example_provider::{CLSID, ExampleStore};
use mapisync_examples::mailbox::{MailboxStore, Store, sample_dir};
use mapisync_examples::quick_start::MyStore;
use mapisync_examples::store_object::{IMsgStoreLike, MsgStore};
use windows_core::{GUID, IUnknown_Vtbl};

/// Checks `object`, runs one sync on it (which must leave it as it was), and checks again.
fn conforms(object: &impl Interface, conformance: &Conformance) {
    let report = conformance.check(object).unwrap_or_else(|violations| {
        panic!(
            "{} violations:\n{}",
            violations.len(),
            violations.iter().map(|v| format!("  {v}\n")).collect::<String>()
        )
    });
    assert!(report.interfaces.contains(&IID_IUnknown) && report.interfaces.contains(&IID_IMAPISync));
    let run = Host::new().run(object).unwrap();
    assert_eq!(run.done, Some(S_OK));
    assert!(run.balanced());
    // The worker's reference goes after Done: wait for the count to settle before checking again.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while conformance.check(object).is_err() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(conformance.check(object), Ok(report), "the object changed after a sync");
}

#[test]
fn quick_start_provider_conforms() {
    let sync: IMAPISync = MyStore.into();
    conforms(&sync, &Conformance::new().promises_e_pointer());
}

#[test]
#[cfg_attr(miri, ignore = "the mailbox reads its sample messages from disk, which Miri's isolation forbids")]
fn mailbox_provider_conforms() {
    let sync: IMAPISync = MailboxStore::new(sample_dir(), Store::default(), Duration::ZERO).into();
    conforms(&sync, &Conformance::new().promises_e_pointer());
}

#[test]
#[cfg_attr(
    miri,
    ignore = "windows-core's #[implement] objects do not pass Miri (Stacked Borrows, in windows-core's unknown.rs)"
)]
fn windows_rs_store_object_conforms_on_all_its_interfaces() {
    let store = MsgStore::create(3);
    let conformance = Conformance::new().answers(IMsgStoreLike::IID);
    conforms(&store, &conformance);
    // The same rules hold from the IMAPISync the host gets, and from the store interface.
    conforms(&store.cast::<IMAPISync>().unwrap(), &conformance);
    conforms(&store.cast::<IMsgStoreLike>().unwrap(), &conformance);
}

#[test]
fn dll_example_provider_conforms() {
    let sync: IMAPISync = ExampleStore::new().into();
    conforms(&sync, &Conformance::new().promises_e_pointer());
}

unsafe extern "system" {
    /// The example DLL's export (linked from its rlib, as a host would find it in the .so).
    fn DllGetClassObject(rclsid: *const GUID, riid: *const GUID, ppv: *mut *mut c_void) -> HRESULT;
}

/// `IClassFactory`'s vtable, as a C host declares it.
#[repr(C)]
struct ClassFactoryVtbl {
    base: IUnknown_Vtbl,
    create_instance: unsafe extern "system" fn(*mut c_void, *mut c_void, *const GUID, *mut *mut c_void) -> HRESULT,
    lock_server: unsafe extern "system" fn(*mut c_void, i32) -> HRESULT,
}

#[test]
fn dll_class_factory_and_the_objects_it_makes_conform() {
    let mut factory: *mut c_void = std::ptr::null_mut();
    // SAFETY: test: valid GUIDs and out-pointer.
    assert_eq!(unsafe { DllGetClassObject(&CLSID, &IID_IClassFactory, &mut factory) }, S_OK);
    // SAFETY: test: DllGetClassObject handed us one reference.
    let factory_unknown = unsafe { IUnknown::from_raw(factory) };
    let report = Conformance::new()
        .refuses(IID_IMAPISync)
        .answers(IID_IClassFactory)
        .promises_e_pointer()
        .check(&factory_unknown);
    assert!(report.is_ok(), "the class factory: {report:?}");

    for iid in [IID_IMAPISync, IID_IUnknown] {
        let mut made: *mut c_void = std::ptr::null_mut();
        // SAFETY: test: `factory` is a live IClassFactory (slot 3 is CreateInstance).
        let hr = unsafe {
            let vtbl = &**(factory as *const *const ClassFactoryVtbl);
            (vtbl.create_instance)(factory, std::ptr::null_mut(), &iid, &mut made)
        };
        assert_eq!(hr, S_OK);
        // SAFETY: test: CreateInstance handed us one reference.
        let made = unsafe { IUnknown::from_raw(made) };
        conforms(&made, &Conformance::new().promises_e_pointer());
    }
    drop(factory_unknown);
}

#[test]
fn the_checker_finds_a_missing_interface_on_a_real_provider() {
    // A check that cannot fail proves nothing: ask a provider for an interface it lacks.
    let sync: IMAPISync = MyStore.into();
    let violations = Conformance::new().answers(IMsgStoreLike::IID).check(&sync).unwrap_err();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(check_conformance(&sync).is_ok(), "the failed check left the object changed");
}

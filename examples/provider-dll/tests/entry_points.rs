//! The example DLL's exported entry points, called by their C names as a
//! host calls them, and its documented sync behaviour.

use core::ffi::c_void;
use std::time::{Duration, Instant};

use mapisync::abi::{IID_IClassFactory, IID_IMAPISync};
use mapisync::host::{Host, Method};
use mapisync::server::{GUID, IClassFactory_Vtbl};
use mapisync::{HRESULT, IMAPISync, Interface, MAPI_E_USER_CANCEL, S_FALSE, S_OK};
use mapisync_example_provider::{CLSID, STEPS};

// The DLL's own exports (this test links the crate as an rlib).
unsafe extern "system" {
    fn DllGetClassObject(rclsid: *const GUID, riid: *const GUID, ppv: *mut *mut c_void) -> HRESULT;
    fn DllCanUnloadNow() -> HRESULT;
}

/// Makes one object the way a host does: class factory, CreateInstance, Release.
fn create() -> IMAPISync {
    let mut factory = core::ptr::null_mut();
    // SAFETY: test: valid pointers; the export is the runtime's DllGetClassObject.
    assert_eq!(unsafe { DllGetClassObject(&CLSID, &IID_IClassFactory, &mut factory) }, S_OK);
    // SAFETY: test: `factory` is a live IClassFactory we hold a reference to.
    let vtbl = unsafe { &**(factory as *const *const IClassFactory_Vtbl) };
    let mut sync = core::ptr::null_mut();
    // SAFETY: test: `factory` is a live IClassFactory; the other pointers are valid.
    assert_eq!(unsafe { (vtbl.CreateInstance)(factory, core::ptr::null_mut(), &IID_IMAPISync, &mut sync) }, S_OK);
    // SAFETY: test: gives up our factory reference.
    assert_eq!(unsafe { (vtbl.base__.Release)(factory) }, 0);
    // SAFETY: test: `sync` is a counted IMAPISync reference, handed over.
    unsafe { IMAPISync::from_raw(sync) }
}

/// One test, so no other test's objects are alive when DllCanUnloadNow is asked.
#[test]
fn the_dll_reports_three_steps_stops_on_cancel_and_unloads_when_idle() {
    let sync = create();
    // SAFETY: test: DllCanUnloadNow takes no arguments.
    assert_eq!(unsafe { DllCanUnloadNow() }, S_FALSE, "an object lives");

    let report = Host::new().run(&sync).unwrap();
    let expected: Vec<_> = (1..).zip(STEPS).map(|(index, text)| (Some(text), index, 3)).collect();
    assert_eq!(report.progress().collect::<Vec<_>>(), expected);
    assert_eq!(report.done, Some(S_OK));
    assert_eq!(report.done_calls, 1);
    assert!(report.balanced());

    let report = Host::new().fail_from(Method::Progress, 2, MAPI_E_USER_CANCEL).run(&sync).unwrap();
    assert_eq!(report.progress().count(), 2, "stopped at the failed call");
    assert_eq!(report.done, Some(MAPI_E_USER_CANCEL));
    assert!(report.balanced());

    drop(sync);
    // The worker lets go of the provider just after Done: allow it a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    // SAFETY: test: DllCanUnloadNow takes no arguments.
    while unsafe { DllCanUnloadNow() } != S_OK && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: test: DllCanUnloadNow takes no arguments.
    assert_eq!(unsafe { DllCanUnloadNow() }, S_OK);
}

//! The provider driven through its raw vtables, as MAPI drives it:
//! MSProviderInit, Logon with a minimal IMAPISupport of this test's own,
//! QueryInterface(IID_IMAPISync) on the store and COM identity both ways,
//! a sync through mapisync's host simulator, StoreLogoff, Logoff, Shutdown.

use core::ffi::c_void;
use core::ptr::null_mut;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use mapisync::abi::{IID_IMAPISync, IID_IUnknown};
use mapisync::{E_INVALIDARG, E_NOINTERFACE, HRESULT, IMAPISync, IUnknown, Interface, MAPI_E_NO_SUPPORT, S_OK};
use mapisync_outlook_store::MSProviderInit;
use mapisync_outlook_store::mapi_abi::*;
use mapisync_outlook_store::provider::STORE_UID;
use windows_core::{GUID, IUnknown_Vtbl};

/// This test's IMAPISupport: a vtable pointer, a count, what it was asked.
#[repr(C)]
struct Support {
    vtable: &'static IMAPISupport_Vtbl,
    refs: AtomicU32,
    provider_uids: Mutex<Vec<MAPIUID>>,
}

/// # Safety
/// COM: `this` is a `Support`.
unsafe fn support<'a>(this: *mut c_void) -> &'a Support {
    // SAFETY: COM: this function's Safety: `this` is a `Support`.
    unsafe { &*this.cast::<Support>() }
}

unsafe extern "system" fn support_qi(this: *mut c_void, riid: *const GUID, ppv: *mut *mut c_void) -> HRESULT {
    // SAFETY: COM: the provider passes valid pointers.
    let iid = unsafe { *riid };
    if iid == IID_IUnknown || iid == IID_IMAPISup {
        // SAFETY: COM: `this` is the test's live Support object.
        unsafe { support(this) }.refs.fetch_add(1, Ordering::Relaxed);
        // SAFETY: COM: the provider passes a writable `ppv`.
        unsafe { *ppv = this };
        return S_OK;
    }
    // SAFETY: COM: the provider passes a writable `ppv`.
    unsafe { *ppv = null_mut() };
    E_NOINTERFACE
}
unsafe extern "system" fn support_add_ref(this: *mut c_void) -> u32 {
    // SAFETY: COM: the test's support object outlives every call.
    unsafe { support(this) }.refs.fetch_add(1, Ordering::Relaxed) + 1
}
unsafe extern "system" fn support_release(this: *mut c_void) -> u32 {
    // SAFETY: COM: the test's support object outlives every call; the count is only checked.
    unsafe { support(this) }.refs.fetch_sub(1, Ordering::Relaxed) - 1
}
unsafe extern "system" fn set_provider_uid(this: *mut c_void, uid: *const MAPIUID, _flags: u32) -> HRESULT {
    // SAFETY: COM: the provider passes a readable MAPIUID; the support is alive.
    unsafe { support(this) }.provider_uids.lock().unwrap().push(unsafe { *uid });
    S_OK
}
unsafe extern "system" fn no_alloc(
    _: *mut c_void,
    _: *mut Option<AllocateBuffer>,
    _: *mut Option<AllocateMore>,
    _: *mut Option<FreeBuffer>,
) -> HRESULT {
    MAPI_E_NO_SUPPORT
}
unsafe extern "system" fn no_status(_: *mut c_void, _: u32, _: Opaque, _: u32) -> HRESULT {
    MAPI_E_NO_SUPPORT
}
unsafe extern "system" fn no_uid(_: *mut c_void, _: *mut MAPIUID) -> HRESULT {
    MAPI_E_NO_SUPPORT
}
unsafe extern "system" fn no_invalid(_: *mut c_void, _: u32, _: *mut c_void, _: u32, _: u32) -> HRESULT {
    MAPI_E_NO_SUPPORT
}
unsafe extern "system" fn no_notify(_: *mut c_void, _: u32, _: *mut c_void) -> HRESULT {
    MAPI_E_NO_SUPPORT
}
unsafe extern "system" fn no_wrap(
    _: *mut c_void,
    _: u32,
    _: *const ENTRYID,
    _: *mut u32,
    _: *mut *mut ENTRYID,
) -> HRESULT {
    MAPI_E_NO_SUPPORT
}

/// Only the seven methods a provider may rely on are there; the provider
/// calling any other slot would crash the test on a null pointer.
static SUPPORT_VTABLE: IMAPISupport_Vtbl = IMAPISupport_Vtbl {
    base__: IUnknown_Vtbl { QueryInterface: support_qi, AddRef: support_add_ref, Release: support_release },
    GetLastError: None,
    GetMemAllocRoutines: no_alloc,
    Subscribe: None,
    Unsubscribe: None,
    Notify: None,
    ModifyStatusRow: no_status,
    OpenProfileSection: None,
    RegisterPreprocessor: None,
    NewUID: no_uid,
    MakeInvalid: no_invalid,
    SpoolerYield: None,
    SpoolerNotify: no_notify,
    CreateOneOff: None,
    SetProviderUID: set_provider_uid,
    unused_14_to_36: [None; 23],
    WrapStoreEntryID: no_wrap,
    ModifyProfile: None,
    IStorageFromStream: None,
    GetSvcConfigSupportObj: None,
};

/// Calls MSProviderInit as MAPI does; returns (hr, provider version, provider).
fn init(mapi_version: u32) -> (HRESULT, u32, *mut c_void) {
    let mut version = 0;
    let mut provider = core::ptr::dangling_mut::<c_void>(); // not NULL: the call must write it
    // SAFETY: MAPI: the out-parameters are writable; the rest is not read.
    let hr = unsafe {
        MSProviderInit(null_mut(), null_mut(), None, None, None, 0, mapi_version, &mut version, &mut provider)
    };
    (hr, version, provider)
}

/// The vtable behind an interface pointer.
///
/// # Safety
/// COM: `this` is a live interface pointer whose vtable is a `V`.
unsafe fn vtable<'a, V>(this: *mut c_void) -> &'a V {
    // SAFETY: COM: this function's Safety: `this` is a live interface pointer whose vtable is a `V`.
    unsafe { &**this.cast::<*const V>() }
}

#[test]
fn an_older_mapi_is_refused_with_mapi_e_version() {
    let (hr, version, provider) = init(CURRENT_SPI_VERSION - 1);
    assert_eq!(hr, MAPI_E_VERSION);
    assert_eq!(version, CURRENT_SPI_VERSION);
    assert!(provider.is_null());
}

#[test]
fn the_outlook_flow_works_end_to_end_through_raw_vtables() {
    let (hr, version, provider) = init(CURRENT_SPI_VERSION);
    assert_eq!((hr, version), (S_OK, CURRENT_SPI_VERSION));
    let support = Support { vtable: &SUPPORT_VTABLE, refs: AtomicU32::new(1), provider_uids: Mutex::new(Vec::new()) };
    let support_ptr = &support as *const Support as *mut c_void;
    // SAFETY: COM: `provider` is the live IMSProvider MSProviderInit returned.
    let pv = unsafe { vtable::<IMSProvider_Vtbl>(provider) };
    let (mut logon, mut store, mut error) = (null_mut(), null_mut(), null_mut());
    let (mut cb_security, mut security) = (7u32, core::ptr::dangling_mut::<u8>());
    let profile = c"profile".as_ptr();
    // SAFETY: COM: every pointer is valid; MAPI's documented default-store logon.
    let hr = unsafe {
        (pv.Logon)(
            provider,
            support_ptr,
            0,
            profile,
            0,
            core::ptr::null(),
            0,
            core::ptr::null(),
            &mut cb_security,
            &mut security,
            &mut error,
            &mut logon,
            &mut store,
        )
    };
    assert_eq!(hr, S_OK);
    assert!(!logon.is_null() && !store.is_null() && error.is_null() && security.is_null());
    assert_eq!(cb_security, 0);
    assert_eq!(*support.provider_uids.lock().unwrap(), [STORE_UID]);
    assert!(support.refs.load(Ordering::Relaxed) > 1, "the logon holds the support object");

    // SAFETY: COM: `store` is a counted IMsgStore; IUnknown takes that reference.
    let store_unknown = unsafe { IUnknown::from_raw(store) };
    let sync: IMAPISync = store_unknown.cast().expect("the store answers IID_IMAPISync");
    assert_eq!(sync.cast::<IUnknown>().unwrap(), store_unknown.cast::<IUnknown>().unwrap());
    let mut back = null_mut();
    // SAFETY: COM: `sync` is live; IID_IMsgStore from it must be the store pointer.
    assert_eq!(unsafe { (sync.vtable().base__.QueryInterface)(sync.as_raw(), &IID_IMsgStore, &mut back) }, S_OK);
    assert_eq!(back, store);
    // SAFETY: COM: `back` carries one reference.
    drop(unsafe { IUnknown::from_raw(back) });
    assert_ne!(IID_IMAPISync, IID_IMsgStore);

    let report = mapisync::host::Host::new().run(&sync).unwrap();
    assert_eq!(report.done, Some(S_OK));
    assert_eq!(report.progress().count(), 3);
    drop(sync);

    // SAFETY: COM: the store is live; StoreLogoff with a flags variable, then NULL.
    let sv = unsafe { vtable::<IMsgStore_Vtbl>(store) };
    let mut flags = 0x10;
    // SAFETY: COM: the object is live; the arguments are valid for the call.
    assert_eq!(unsafe { (sv.StoreLogoff)(store, &mut flags) }, S_OK);
    assert_eq!(flags, 0);
    // SAFETY: COM: the object is live; the arguments are valid for the call.
    assert_eq!(unsafe { (sv.StoreLogoff)(store, null_mut()) }, E_INVALIDARG);
    let mut props: Opaque = core::ptr::dangling_mut();
    let mut count = 5;
    // SAFETY: COM: the store is live and the out-parameters are writable locals.
    assert_eq!(unsafe { (sv.base__.GetProps)(store, null_mut(), 0, &mut count, &mut props) }, MAPI_E_NO_SUPPORT);
    assert!(props.is_null() && count == 0);
    drop(store_unknown);

    // SAFETY: COM: `logon` is a counted IMSLogon.
    let lv = unsafe { vtable::<IMSLogon_Vtbl>(logon) };
    // SAFETY: COM: the object is live; the arguments are valid for the call.
    assert_eq!(unsafe { (lv.Logoff)(logon, &mut flags) }, S_OK);
    // SAFETY: COM: the object is live (the reference released here is the last use).
    assert_eq!(unsafe { (lv.base__.Release)(logon) }, 0);
    assert_eq!(support.refs.load(Ordering::Relaxed), 1, "Logoff released the support object");

    // SAFETY: COM: `provider` is live until its Release.
    assert_eq!(unsafe { (pv.Shutdown)(provider, &mut flags) }, S_OK);
    // SAFETY: COM: the object is live (the reference released here is the last use).
    assert_eq!(unsafe { (pv.base__.Release)(provider) }, 0);
}

#[test]
fn logon_refuses_what_the_example_does_not_open() {
    let (_, _, provider) = init(CURRENT_SPI_VERSION);
    let support = Support { vtable: &SUPPORT_VTABLE, refs: AtomicU32::new(1), provider_uids: Mutex::new(Vec::new()) };
    let support_ptr = &support as *const Support as *mut c_void;
    // SAFETY: COM: `provider` is live.
    let pv = unsafe { vtable::<IMSProvider_Vtbl>(provider) };
    let entry = [0u8; 20];
    let cases: [(u32, *const ENTRYID, *const GUID, HRESULT); 2] = [
        (20, entry.as_ptr().cast(), core::ptr::null(), MAPI_E_NO_SUPPORT),
        (0, core::ptr::null(), &IID_IMSLogon, E_NOINTERFACE),
    ];
    for (cb, id, iid, expected) in cases {
        let (mut logon, mut store) = (core::ptr::dangling_mut::<c_void>(), core::ptr::dangling_mut::<c_void>());
        // SAFETY: COM: valid pointers; a logon MAPI could ask for.
        let hr = unsafe {
            (pv.Logon)(
                provider,
                support_ptr,
                0,
                c"p".as_ptr(),
                cb,
                id,
                0,
                iid,
                null_mut(),
                null_mut(),
                null_mut(),
                &mut logon,
                &mut store,
            )
        };
        assert_eq!(hr, expected);
        assert!(logon.is_null() && store.is_null());
    }
    assert_eq!(support.refs.load(Ordering::Relaxed), 1);
    // SAFETY: COM: `provider` is live until its Release.
    assert_eq!(unsafe { (pv.Shutdown)(provider, null_mut()) }, S_OK);
    // SAFETY: COM: the object is live (the reference released here is the last use).
    assert_eq!(unsafe { (pv.base__.Release)(provider) }, 0);
}

/// A store pointer the host's event listener may carry to the worker thread.
#[derive(Clone, Copy)]
struct StorePtr(*mut c_void);

// SAFETY: Send/Sync: the store is free-threaded (atomic count, no
// thread-bound state), as MAPI objects are; the pointer is only used while
// the running sync holds the store alive.
unsafe impl Send for StorePtr {}
// SAFETY: Send/Sync: a free-threaded store may be used from several threads at once.
unsafe impl Sync for StorePtr {}

impl StorePtr {
    /// The pointer (a method, so a closure captures the whole `StorePtr`).
    fn get(self) -> *mut c_void {
        self.0
    }
}

#[test]
fn store_logoff_from_inside_a_progress_call_cancels_the_running_sync() {
    let (_, _, provider) = init(CURRENT_SPI_VERSION);
    let support = Support { vtable: &SUPPORT_VTABLE, refs: AtomicU32::new(1), provider_uids: Mutex::new(Vec::new()) };
    let support_ptr = &support as *const Support as *mut c_void;
    // SAFETY: COM: `provider` is live.
    let pv = unsafe { vtable::<IMSProvider_Vtbl>(provider) };
    let (mut logon, mut store) = (null_mut(), null_mut());
    // SAFETY: COM: valid pointers; the default-store logon.
    let hr = unsafe {
        (pv.Logon)(
            provider,
            support_ptr,
            0,
            c"p".as_ptr(),
            0,
            core::ptr::null(),
            0,
            core::ptr::null(),
            null_mut(),
            null_mut(),
            null_mut(),
            &mut logon,
            &mut store,
        )
    };
    assert_eq!(hr, S_OK);
    // SAFETY: COM: `store` carries one reference, now owned by `store_unknown`.
    let store_unknown = unsafe { IUnknown::from_raw(store) };
    let sync: IMAPISync = store_unknown.cast().unwrap();

    // StoreLogoff from inside the first Progress: the sync is surely running.
    let target = StorePtr(store);
    let report = mapisync::host::Host::new()
        .on_event(move |event| {
            if let mapisync::host::Event::Progress { index: 1, .. } = event {
                let store = target.get();
                let mut flags = 0;
                // SAFETY: COM: the running sync holds the store alive (aggregation).
                let sv = unsafe { vtable::<IMsgStore_Vtbl>(store) };
                // SAFETY: COM: the object is live; the arguments are valid for the call.
                assert_eq!(unsafe { (sv.StoreLogoff)(store, &mut flags) }, S_OK);
            }
        })
        .run(&sync)
        .unwrap();
    assert_eq!(report.done, Some(mapisync::MAPI_E_USER_CANCEL));
    assert_eq!(report.done_calls, 1);
    assert_eq!(report.progress().count(), 1, "no Progress after the cancel");
    drop((sync, store_unknown));

    // SAFETY: COM: `logon` and `provider` are live until their Release.
    let lv = unsafe { vtable::<IMSLogon_Vtbl>(logon) };
    // SAFETY: COM: the object is live; the arguments are valid for the call.
    assert_eq!(unsafe { (lv.Logoff)(logon, null_mut()) }, S_OK);
    // SAFETY: COM: the object is live (the reference released here is the last use).
    assert_eq!(unsafe { (lv.base__.Release)(logon) }, 0);
    // SAFETY: COM: the object is live; the arguments are valid for the call.
    assert_eq!(unsafe { (pv.Shutdown)(provider, null_mut()) }, S_OK);
    // SAFETY: COM: the object is live (the reference released here is the last use).
    assert_eq!(unsafe { (pv.base__.Release)(provider) }, 0);
}

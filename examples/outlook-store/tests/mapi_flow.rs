//! The provider driven through Microsoft's MAPI bindings (outlook-mapi-sys)
//! as MAPI drives it: MSProviderInit, Logon with an IMAPISupport of this
//! test's own, QueryInterface(IID_IMAPISync) on the store and COM identity
//! both ways, a sync through mapisync's host simulator, StoreLogoff,
//! Logoff, Shutdown; and a sync whose MAPISIB carries a session that
//! answers IID_IMAPISession. Windows only (run under Wine on Linux).
#![cfg(windows)]

mod mapi_support;

use core::ffi::c_void;
use core::ptr::null_mut;
use std::sync::atomic::{AtomicU32, Ordering};

use mapisync::abi::MAPISIB;
use mapisync::{E_INVALIDARG, IMAPISync, IUnknown, Interface, S_OK};
use mapisync_outlook_store::MSProviderInit;
use mapisync_outlook_store::spi::{IID_IMAPISUP, SPI_VERSION, store_uid};
use outlook_mapi_sys::Microsoft::Office::Outlook::MAPI::Win32::{
    CURRENT_SPI_VERSION, IMAPIProp, IMAPISession, IMAPISupport, IMSLogon, IMSProvider, IMsgStore, MAPI_E_NO_SUPPORT,
    MAPI_E_VERSION,
};
use windows::Win32::Foundation::{CloseHandle, HANDLE, HINSTANCE, WAIT_OBJECT_0};
use windows::Win32::System::Threading::WaitForSingleObject;
use windows_core::{GUID, IUnknown_Vtbl, OutRef, Ref};

use mapi_support::Support;

/// Calls MSProviderInit as MAPI does; returns (result, provider version, provider).
fn init(mapi_version: u32) -> (windows_core::HRESULT, u32, Option<IMSProvider>) {
    let (mut version, mut provider) = (0, None);
    // SAFETY: MAPI: the out-parameters are writable; the rest is not read.
    let hr = unsafe {
        MSProviderInit(
            HINSTANCE::default(),
            Ref::default(),
            None,
            None,
            None,
            0,
            mapi_version,
            &mut version,
            OutRef::from(&mut provider),
        )
    };
    (hr, version, provider)
}

/// Logon to the default store: (logon, store).
fn logon(provider: &IMSProvider, support: &IMAPISupport) -> (IMSLogon, IMsgStore) {
    let (mut logon, mut store, mut error) = (None, None, null_mut());
    let (mut cb_security, mut security) = (7u32, core::ptr::dangling_mut::<u8>());
    let mut profile = *b"profile\0";
    // SAFETY: COM: every pointer is valid for the call; MAPI's documented default-store logon.
    unsafe {
        provider.Logon(
            support,
            0,
            profile.as_mut_ptr().cast(),
            0,
            null_mut(),
            0,
            null_mut(),
            &mut cb_security,
            &mut security,
            &mut error,
            &mut logon,
            &mut store,
        )
    }
    .expect("Logon to the default store");
    assert!(error.is_null() && security.is_null() && cb_security == 0);
    (logon.expect("a logon"), store.expect("a store"))
}

#[test]
fn the_spi_version_the_bindings_declare_as_i32_is_the_ulong_mapi_passes() {
    assert_eq!(SPI_VERSION, 0x0001_0010);
    assert_eq!(SPI_VERSION as i32, CURRENT_SPI_VERSION);
}

#[test]
fn the_bindings_imapisupport_iid_is_zero_so_the_example_names_mapis() {
    assert_eq!(IMAPISupport::IID, GUID::zeroed());
    assert_eq!(IID_IMAPISUP, GUID::from_u128(0x0002030f_0000_0000_c000_000000000046));
}

#[test]
fn an_older_mapi_is_refused_with_mapi_e_version() {
    let (hr, version, provider) = init(SPI_VERSION - 1);
    assert_eq!(hr, MAPI_E_VERSION);
    assert_eq!(version, SPI_VERSION);
    assert!(provider.is_none());
}

#[test]
fn the_outlook_flow_works_end_to_end_through_the_bindings() {
    let (hr, version, provider) = init(SPI_VERSION);
    assert_eq!((hr, version), (S_OK, SPI_VERSION));
    let provider = provider.expect("a provider");
    let support_object = windows_core::ComObject::new(Support::default());
    let support: IMAPISupport = support_object.to_interface();
    let (logon, store) = logon(&provider, &support);
    assert_eq!(*support_object.provider_uids.lock().unwrap(), [store_uid().ab]);

    let sync: IMAPISync = store.cast().expect("the store answers IID_IMAPISync");
    assert_eq!(sync.cast::<IUnknown>().unwrap(), store.cast::<IUnknown>().unwrap());
    assert_eq!(sync.cast::<IMsgStore>().unwrap(), store);
    assert!(store.cast::<IMAPIProp>().is_ok());
    assert!(store.cast::<IMSLogon>().is_err());

    let report = mapisync::host::Host::new().run(&sync).unwrap();
    assert_eq!(report.done, Some(S_OK));
    assert_eq!(report.progress().count(), 3);
    assert!(report.balanced());

    let mut flags = 0x10;
    // SAFETY: COM: the store is live; `flags` is writable.
    unsafe { store.StoreLogoff(&mut flags) }.unwrap();
    assert_eq!(flags, 0);
    // SAFETY: COM: a NULL lpulFlags is the documented misuse.
    assert_eq!(unsafe { store.StoreLogoff(null_mut()) }.unwrap_err().code(), E_INVALIDARG);
    // SAFETY: COM: the store is live.
    let hr = unsafe { store.GetReceiveFolderTable(0) };
    assert_eq!(hr.map(drop).unwrap_err().code(), MAPI_E_NO_SUPPORT);
    drop((sync, store));

    let mut flags = 7;
    // SAFETY: COM: the logon is live; `flags` is writable.
    unsafe { logon.Logoff(&mut flags) }.unwrap();
    assert_eq!(flags, 0);
    drop(logon);
    // SAFETY: COM: the provider is live.
    unsafe { provider.Shutdown(&mut flags) }.unwrap();
    assert!(support_object.unexpected.lock().unwrap().is_empty(), "the provider called only SetProviderUID");
}

// ---------------------------------------------------------------- the session

/// A session object as MAPI passes one in MAPISIB: it answers IUnknown and
/// IID_IMAPISession (with itself: the sync only casts and releases it) and
/// counts both the queries for IMAPISession and its references.
#[repr(C)]
struct Session {
    vtable: &'static IUnknown_Vtbl,
    refs: AtomicU32,
    session_queries: AtomicU32,
}

/// # Safety
/// COM: `this` is a `Session`.
unsafe fn session<'a>(this: *mut c_void) -> &'a Session {
    // SAFETY: COM: this function's Safety.
    unsafe { &*this.cast::<Session>() }
}

unsafe extern "system" fn session_qi(
    this: *mut c_void,
    riid: *const GUID,
    ppv: *mut *mut c_void,
) -> windows_core::HRESULT {
    // SAFETY: COM: the caller passes a readable IID and a writable `ppv`; `this` is the test's Session.
    unsafe {
        let iid = *riid;
        if iid == IMAPISession::IID {
            session(this).session_queries.fetch_add(1, Ordering::Relaxed);
        }
        if iid == IUnknown::IID || iid == IMAPISession::IID {
            session(this).refs.fetch_add(1, Ordering::Relaxed);
            *ppv = this;
            return S_OK;
        }
        *ppv = null_mut();
    }
    mapisync::E_NOINTERFACE
}
unsafe extern "system" fn session_add_ref(this: *mut c_void) -> u32 {
    // SAFETY: COM: the test's session outlives every call.
    unsafe { session(this) }.refs.fetch_add(1, Ordering::Relaxed) + 1
}
unsafe extern "system" fn session_release(this: *mut c_void) -> u32 {
    // SAFETY: COM: the test's session outlives every call; the count is only checked.
    unsafe { session(this) }.refs.fetch_sub(1, Ordering::Relaxed) - 1
}
static SESSION_VTABLE: IUnknown_Vtbl =
    IUnknown_Vtbl { QueryInterface: session_qi, AddRef: session_add_ref, Release: session_release };

/// Outlook's side of the sync: counts Progress calls and records Done's HRESULT.
#[windows_core::implement(mapisync::abi::IMAPISyncProgressCallback)]
#[derive(Default)]
struct Recorder {
    progress: AtomicU32,
    done: std::sync::Mutex<Option<windows_core::HRESULT>>,
}

impl mapisync::abi::IMAPISyncProgressCallback_Impl for Recorder_Impl {
    unsafe fn Progress(&self, _: *const u16, _: u32, _: u32) -> windows_core::HRESULT {
        self.progress.fetch_add(1, Ordering::Relaxed);
        S_OK
    }
    unsafe fn Error(&self, _: windows_core::HRESULT, _: *const u16) -> windows_core::HRESULT {
        S_OK
    }
    unsafe fn Done(&self, _: mapisync::abi::HANDLE, hr: windows_core::HRESULT) -> windows_core::HRESULT {
        *self.done.lock().unwrap() = Some(hr);
        S_OK
    }
}

/// `job.session()` cast to Microsoft's IMAPISession: the store's sync asks
/// the session in MAPISIB for IID_IMAPISession (once), runs to Done(S_OK)
/// with its three steps, and releases every reference it took.
#[test]
fn the_sync_reaches_the_session_as_an_imapisession() {
    let (_, _, provider) = init(SPI_VERSION);
    let provider = provider.expect("a provider");
    let support_object = windows_core::ComObject::new(Support::default());
    let (logon, store) = logon(&provider, &support_object.to_interface());
    let sync: IMAPISync = store.cast().unwrap();

    let session = Session { vtable: &SESSION_VTABLE, refs: AtomicU32::new(1), session_queries: AtomicU32::new(0) };
    let recorder = windows_core::ComObject::new(Recorder::default());
    let callback: IUnknown = recorder.to_interface();
    let mut done = HANDLE::default();
    let sib = MAPISIB {
        ulSize: MAPISIB::SIZE,
        ulFlags: 0,
        psesSync: (&raw const session).cast_mut().cast(),
        punkCallBack: callback.as_raw(),
        phSyncDoneEvent: (&raw mut done).cast(),
    };
    // SAFETY: COM: the MAPISIB and the objects it points to outlive the sync (waited for below).
    assert_eq!(unsafe { (sync.vtable().SynchronizeInBackground)(sync.as_raw(), &sib) }, S_OK);
    // SAFETY: Win32: the done event the sync handed over; closed once.
    unsafe {
        assert_eq!(WaitForSingleObject(done, 10_000), WAIT_OBJECT_0);
        CloseHandle(done).unwrap();
    }
    assert!(mapisync::lifecycle::drain(std::time::Duration::from_secs(10)).is_ok());
    assert_eq!(session.session_queries.load(Ordering::Relaxed), 1, "the sync asked for IID_IMAPISession");
    assert_eq!(session.refs.load(Ordering::Relaxed), 1, "the sync released the session");
    assert_eq!(*recorder.done.lock().unwrap(), Some(S_OK));
    assert_eq!(recorder.progress.load(Ordering::Relaxed), 3);
    drop((sync, store));
    let mut flags = 0;
    // SAFETY: COM: live objects, writable flags.
    unsafe { (logon.Logoff(&mut flags).unwrap(), provider.Shutdown(&mut flags).unwrap()) };
}

// ---------------------------------------------------------------- provider instances

/// Two provider instances of the DLL (two MSProviderInit calls): A's
/// Shutdown refuses A's syncs (MAPI_E_END_OF_SESSION) and leaves B's store
/// syncing, as MAPI's per-instance lifecycle wants.
#[test]
fn one_instances_shutdown_leaves_another_instance_syncing() {
    let (_, _, a) = init(SPI_VERSION);
    let (_, _, b) = init(SPI_VERSION);
    let (a, b) = (a.expect("provider A"), b.expect("provider B"));
    let support_object = windows_core::ComObject::new(Support::default());
    let support: IMAPISupport = support_object.to_interface();
    let (logon_a, store_a) = logon(&a, &support);
    let (logon_b, store_b) = logon(&b, &support);
    let mut flags = 0;
    // SAFETY: COM: the provider is live; `flags` is writable.
    unsafe { a.Shutdown(&mut flags) }.unwrap();
    let host = mapisync::host::Host::new();
    assert_eq!(host.run(&store_a).unwrap().started, mapisync::MAPI_E_END_OF_SESSION, "A's syncs are refused");
    let report = host.run(&store_b).unwrap();
    assert_eq!((report.started, report.done), (S_OK, Some(S_OK)), "B is untouched");
    drop((store_a, store_b));
    // SAFETY: COM: live objects, writable flags.
    unsafe {
        (logon_a.Logoff(&mut flags).unwrap(), logon_b.Logoff(&mut flags).unwrap(), b.Shutdown(&mut flags).unwrap())
    };
}

/// The IMSProvider answers IMAPIProviderShutdown ({00020398-...}): the
/// three calls answer S_OK, and the instance's syncs are refused after them.
#[test]
fn the_provider_answers_imapiprovidershutdown() {
    let (_, _, provider) = init(SPI_VERSION);
    let provider = provider.expect("a provider");
    let fast: mapisync::abi::IMAPIProviderShutdown = provider.cast().expect("the IMSProvider answers fast shutdown");
    assert_eq!(<mapisync::abi::IMAPIProviderShutdown as Interface>::IID, mapisync::abi::IID_IMAPIProviderShutdown);
    let support_object = windows_core::ComObject::new(Support::default());
    let (logon, store) = logon(&provider, &support_object.to_interface());
    // SAFETY: COM: `fast` is a live IMAPIProviderShutdown.
    unsafe {
        assert_eq!(fast.QueryFastShutdown(), S_OK);
        assert_eq!(fast.NotifyProcessShutdown(), S_OK);
        assert_eq!(fast.DoFastShutdown(), S_OK);
    }
    let report = mapisync::host::Host::new().run(&store).unwrap();
    assert_eq!(report.started, mapisync::MAPI_E_END_OF_SESSION, "no sync starts after fast shutdown");
    drop(store);
    let mut flags = 0;
    // SAFETY: COM: the logon is live; `flags` is writable.
    unsafe { logon.Logoff(&mut flags) }.unwrap();
}

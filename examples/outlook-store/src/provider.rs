//! `MSProviderInit`, the entry point MAPI calls after loading the DLL, and
//! the `IMSProvider` object it returns.
//!
//! - `MSProviderInit` answers `*lpulProviderVer` with CURRENT_SPI_VERSION;
//!   an older `ulMAPIVer` is MAPI_E_VERSION with `*lppMSProvider` NULL.
//! - `Logon` opens the example's one store: no entry ID (`cbEntryID` 0,
//!   `lpEntryID` NULL); `lpInterface` NULL, IID_IMsgStore, IID_IMAPIProp
//!   or IID_IUnknown; `ulFlags` and the profile name are not read (no
//!   dialogs, nothing stored in the profile). Of the support object it
//!   calls AddRef/Release and `SetProviderUID` only.
//! - `Shutdown` cancels and drains every sync of the DLL when it is the
//!   last live provider (see `module.rs`).
//! - `SpoolerLogon` is MAPI_E_NO_SUPPORT (the store does not handle mail);
//!   `CompareStoreIDs` compares the bytes of the two entry IDs.

use core::ffi::{c_char, c_void};
use core::sync::atomic::{AtomicBool, Ordering};

use mapisync::abi::IID_IUnknown;
use mapisync::{E_INVALIDARG, E_NOINTERFACE, E_UNEXPECTED, HRESULT, IUnknown, Interface, MAPI_E_NO_SUPPORT, S_OK};
use windows_core::{GUID, IUnknown_Vtbl};

use crate::com::{ComObject, no_support, put};
use crate::diagnostics::{guard, install_panic_hook, log};
use crate::mapi_abi::{
    AllocateBuffer, AllocateMore, CURRENT_SPI_VERSION, ENTRYID, FreeBuffer, IID_IMAPIProp, IID_IMSProvider,
    IID_IMsgStore, IMAPISupport_Vtbl, IMSProvider_Vtbl, LPCIID, MAPI_E_VERSION, MAPIUID, MSProviderInitFn, Opaque,
};
use crate::{logon, module, store};

/// The UID this provider registers with `IMAPISupport::SetProviderUID`:
/// MAPI routes entry IDs that carry it to this provider.
pub const STORE_UID: MAPIUID = MAPIUID { ab: *b"mapisync-example" };

/// The provider's state.
pub(crate) struct Provider {
    shut_down: AtomicBool,
}

impl Provider {
    /// Counts this provider out of the DLL's live providers, once.
    fn stop(&self) {
        if !self.shut_down.swap(true, Ordering::AcqRel) {
            module::provider_stopped();
        }
    }
}

impl Drop for Provider {
    /// A provider released without Shutdown still lets the DLL drain.
    fn drop(&mut self) {
        self.stop();
    }
}

type ProviderObject = ComObject<IMSProvider_Vtbl, Provider>;

/// The store provider's entry point (`MSPROVIDERINIT`, C calling convention).
///
/// # Safety
/// MAPI: `lpulProviderVer` and `lppMSProvider` are null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn MSProviderInit(
    _hInstance: *mut c_void,
    _lpMalloc: *mut c_void,
    _lpAllocateBuffer: Option<AllocateBuffer>,
    _lpAllocateMore: Option<AllocateMore>,
    _lpFreeBuffer: Option<FreeBuffer>,
    _ulFlags: u32,
    ulMAPIVer: u32,
    lpulProviderVer: *mut u32,
    lppMSProvider: *mut *mut c_void,
) -> HRESULT {
    install_panic_hook();
    guard("MSProviderInit", || {
        if lpulProviderVer.is_null() || lppMSProvider.is_null() {
            return E_INVALIDARG;
        }
        // SAFETY: MAPI: both out-parameters are non-null, so writable.
        unsafe {
            *lppMSProvider = core::ptr::null_mut();
            *lpulProviderVer = CURRENT_SPI_VERSION;
        }
        if ulMAPIVer < CURRENT_SPI_VERSION {
            log(&format!(
                "MSProviderInit: MAPI's SPI version {ulMAPIVer:#010x} is older than {CURRENT_SPI_VERSION:#010x}"
            ));
            return MAPI_E_VERSION;
        }
        module::provider_started();
        let provider = ProviderObject::create(&VTABLE, Provider { shut_down: AtomicBool::new(false) });
        // SAFETY: MAPI: checked non-null above.
        unsafe { *lppMSProvider = provider };
        S_OK
    })
}

/// The export has exactly MSPROVIDERINIT's type.
const _: MSProviderInitFn = MSProviderInit;

/// Slot 0: IUnknown and IMSProvider are the provider itself.
///
/// # Safety
/// COM: `this` is a live provider; `riid` and `ppv` are null or valid.
unsafe extern "system" fn query_interface(this: *mut c_void, riid: *const GUID, ppv: *mut *mut c_void) -> HRESULT {
    // SAFETY: COM: this function's Safety: `this` is a live provider; `riid`, `ppv` null or valid.
    unsafe { ProviderObject::query(this, riid, ppv, &[IID_IUnknown, IID_IMSProvider]) }
}

/// Slot 3, `Shutdown`: see `module::provider_stopped`. Sets
/// `*lpulFlags` (reserved, when non-null) to 0; always S_OK.
///
/// # Safety
/// COM: `this` is a live provider; `lpulFlags` is null or valid.
unsafe extern "system" fn shutdown(this: *mut c_void, lpulFlags: *mut u32) -> HRESULT {
    guard("IMSProvider::Shutdown", || {
        // SAFETY: COM: the caller holds a reference to the provider.
        unsafe { ProviderObject::from_this(this) }.value.stop();
        // SAFETY: MAPI: null or writable (this function's contract).
        unsafe { put(lpulFlags, 0) };
        S_OK
    })
}

/// Slot 4, `Logon`.
///
/// # Safety
/// COM: `this` is a live provider; every pointer is null or valid as
/// IMSProvider::Logon documents.
unsafe extern "system" fn logon(
    this: *mut c_void,
    lpMAPISup: *mut c_void,
    _ulUIParam: usize,
    _lpszProfileName: *const c_char,
    cbEntryID: u32,
    lpEntryID: *const ENTRYID,
    _ulFlags: u32,
    lpInterface: LPCIID,
    lpcbSpoolSecurity: *mut u32,
    lppbSpoolSecurity: *mut *mut u8,
    lppMAPIError: *mut Opaque,
    lppMSLogon: *mut *mut c_void,
    lppMDB: *mut *mut c_void,
) -> HRESULT {
    // SAFETY: MAPI: each out-parameter is null or writable (this function's contract).
    unsafe {
        put(lpcbSpoolSecurity, 0);
        put(lppbSpoolSecurity, core::ptr::null_mut());
        put(lppMAPIError, core::ptr::null_mut());
        put(lppMSLogon, core::ptr::null_mut());
        put(lppMDB, core::ptr::null_mut());
    }
    guard("IMSProvider::Logon", || {
        // SAFETY: COM: the caller holds a reference to the provider.
        if unsafe { ProviderObject::from_this(this) }.value.shut_down.load(Ordering::Acquire) {
            return E_UNEXPECTED;
        }
        if lppMSLogon.is_null() || lppMDB.is_null() {
            return E_INVALIDARG;
        }
        if cbEntryID != 0 || !lpEntryID.is_null() {
            return MAPI_E_NO_SUPPORT; // this example opens only its default store
        }
        // SAFETY: MAPI: a non-null LPCIID points to an IID.
        if !lpInterface.is_null() && ![IID_IUnknown, IID_IMAPIProp, IID_IMsgStore].contains(unsafe { &*lpInterface }) {
            return E_NOINTERFACE;
        }
        // SAFETY: COM: MAPI holds its support object for the whole call.
        let Some(support) = (unsafe { IUnknown::from_raw_borrowed(&lpMAPISup) }) else { return E_INVALIDARG };
        // SAFETY: COM: MAPI holds `support` for the call; the out-pointers were checked non-null.
        unsafe { open_default_store(support, lppMSLogon, lppMDB) }
    })
}

/// Registers the store's UID with MAPI, then makes the store and its logon.
///
/// # Safety
/// COM: `support` is MAPI's live IMAPISupport; `logon_out` and `store_out` are writable.
unsafe fn open_default_store(support: &IUnknown, logon_out: *mut *mut c_void, store_out: *mut *mut c_void) -> HRESULT {
    // SAFETY: COM: `support` is an IMAPISupport pointer (the Logon contract),
    // so it points to an IMAPISupport vtable.
    let vtable = unsafe { &**support.as_raw().cast::<*const IMAPISupport_Vtbl>() };
    // SAFETY: COM: SetProviderUID is one of the support methods a provider
    // may rely on; STORE_UID is read during the call only.
    let hr = unsafe { (vtable.SetProviderUID)(support.as_raw(), &STORE_UID, 0) };
    if hr.is_err() {
        log(&format!("Logon: IMAPISupport::SetProviderUID failed with {:#010x}", hr.0 as u32));
        return hr;
    }
    // SAFETY: COM: `store::create` hands over the new store's one reference.
    let store = unsafe { IUnknown::from_raw(store::create()) };
    let logon = logon::create(&store, support);
    // SAFETY: MAPI: checked non-null by the caller.
    unsafe {
        *logon_out = logon;
        *store_out = store.into_raw();
    }
    S_OK
}

/// Slot 6, `CompareStoreIDs`: `*lpulResult` is TRUE when the two entry IDs
/// have the same bytes. E_INVALIDARG for a NULL `lpulResult` or an entry
/// ID that is NULL with a non-zero size.
///
/// # Safety
/// COM: `this` is a live provider; each entry ID is valid for its size.
unsafe extern "system" fn compare_store_ids(
    _this: *mut c_void,
    cbEntryID1: u32,
    lpEntryID1: *const ENTRYID,
    cbEntryID2: u32,
    lpEntryID2: *const ENTRYID,
    _ulFlags: u32,
    lpulResult: *mut u32,
) -> HRESULT {
    // SAFETY: MAPI: each entry ID is null or valid for its size (this function's contract).
    let (Some(first), Some(second)) =
        (unsafe { entry_bytes(cbEntryID1, lpEntryID1) }, unsafe { entry_bytes(cbEntryID2, lpEntryID2) })
    else {
        return E_INVALIDARG;
    };
    if lpulResult.is_null() {
        return E_INVALIDARG;
    }
    // SAFETY: MAPI: checked non-null.
    unsafe { *lpulResult = u32::from(first == second) };
    S_OK
}

/// The bytes of an entry ID; None when it is NULL with a non-zero size.
///
/// # Safety
/// `id` is null or valid for reads of `cb` bytes.
unsafe fn entry_bytes<'a>(cb: u32, id: *const ENTRYID) -> Option<&'a [u8]> {
    match (cb, id.is_null()) {
        (0, _) => Some(&[]),
        (_, true) => None,
        // SAFETY: MAPI: a non-null entry ID is readable for its size.
        (cb, false) => Some(unsafe { core::slice::from_raw_parts(id.cast::<u8>(), cb as usize) }),
    }
}

static VTABLE: IMSProvider_Vtbl = IMSProvider_Vtbl {
    base__: IUnknown_Vtbl {
        QueryInterface: query_interface,
        AddRef: ProviderObject::add_ref,
        Release: ProviderObject::release,
    },
    Shutdown: shutdown,
    Logon: logon,
    SpoolerLogon: spooler_logon,
    CompareStoreIDs: compare_store_ids,
};

no_support!(fn spooler_logon(
    _support: *mut c_void, _ui: usize, _profile: *const c_char, _cb: u32, _id: *const ENTRYID, _flags: u32,
    _iid: LPCIID, _cb_security: u32, _security: *const u8, error: *mut Opaque,
    logon: *mut *mut c_void, store: *mut *mut c_void
) clears [error, logon, store]);

//! `MSProviderInit`, the entry point MAPI calls after loading the DLL, and
//! the `IMSProvider` object it returns (`#[implement(IMSProvider)]`).
//!
//! - `MSProviderInit` answers `*lpulProviderVer` with CURRENT_SPI_VERSION;
//!   an older `ulMAPIVer` is MAPI_E_VERSION with `*lppMSProvider` NULL. It
//!   is `extern "C"`, not the bindings' `extern "system"` (see `spi`).
//! - `Logon` opens the example's one store: no entry ID (`cbEntryID` 0,
//!   `lpEntryID` NULL); `lpInterface` NULL, IID_IMsgStore, IID_IMAPIProp
//!   or IID_IUnknown; `ulFlags` and the profile name are not read (no
//!   dialogs, nothing stored in the profile). Of the support object it
//!   calls AddRef/Release and `SetProviderUID` only.
//! - Each provider keeps its own `mapisync::lifecycle::Scope`, opened by
//!   `MSProviderInit`; `Shutdown` refuses, cancels and drains the syncs of
//!   this instance's stores only (see `module.rs`), and a later `Logon` is
//!   E_UNEXPECTED.
//! - Fast shutdown: the provider answers `IMAPIProviderShutdown`
//!   (`{00020398-0000-0000-C000-000000000046}`) through
//!   `mapisync::lifecycle::FastShutdown`: `QueryFastShutdown` S_OK,
//!   `NotifyProcessShutdown` refuses and cancels this instance's syncs,
//!   `DoFastShutdown` gives them 2 s to persist their state (see `sync`)
//!   and returns; the process exits right after, without `Shutdown`.
//! - `SpoolerLogon` is MAPI_E_NO_SUPPORT (the store does not handle mail);
//!   `CompareStoreIDs` compares the bytes of the two entry IDs.

use std::mem::ManuallyDrop;

use mapisync::lifecycle::{FastShutdown, Scope};
use mapisync::{E_INVALIDARG, E_NOINTERFACE, E_UNEXPECTED, HRESULT, MAPI_E_NO_SUPPORT, S_OK};
use outlook_mapi_sys::Microsoft::Office::Outlook::MAPI::Win32::{
    ENTRYID, IMAPIProp, IMAPISupport, IMSLogon, IMSProvider, IMSProvider_Impl, IMsgStore, LPALLOCATEBUFFER,
    LPALLOCATEMORE, LPFREEBUFFER, MAPI_E_VERSION, MAPIERROR,
};
use windows::Win32::Foundation::HINSTANCE;
use windows::Win32::System::Com::IMalloc;
use windows_core::{GUID, IUnknown, Interface, OutRef, Ref, Result, implement};

use crate::diagnostics::{fail_point, guard, guarded, guarded_drop, install_panic_hook, log};
use crate::logon::Logon;
use crate::module;
use crate::spi::{MsProviderInit, SPI_VERSION, put, store_uid};
use crate::store::Store;

/// The store provider's entry point: `MSPROVIDERINIT` with the C calling
/// convention MAPI uses (the bindings' type says `extern "system"`; see `spi`).
///
/// # Safety
/// MAPI: `lpulProviderVer` and `lppMSProvider` are null or valid for a write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn MSProviderInit(
    _hInstance: HINSTANCE,
    _lpMalloc: Ref<IMalloc>,
    _lpAllocateBuffer: LPALLOCATEBUFFER,
    _lpAllocateMore: LPALLOCATEMORE,
    _lpFreeBuffer: LPFREEBUFFER,
    _ulFlags: u32,
    ulMAPIVer: u32,
    lpulProviderVer: *mut u32,
    lppMSProvider: OutRef<IMSProvider>,
) -> HRESULT {
    install_panic_hook();
    guard("MSProviderInit", || {
        if lpulProviderVer.is_null() || lppMSProvider.is_null() {
            return E_INVALIDARG;
        }
        // SAFETY: MAPI: checked non-null, so writable.
        unsafe { *lpulProviderVer = SPI_VERSION };
        if ulMAPIVer < SPI_VERSION {
            log(&format!("MSProviderInit: MAPI's SPI version {ulMAPIVer:#010x} is older than {SPI_VERSION:#010x}"));
            let _ = lppMSProvider.write(None);
            return MAPI_E_VERSION;
        }
        match lppMSProvider.write(Some(Provider::create())) {
            Ok(()) => S_OK,
            Err(error) => error.code(),
        }
    })
}

/// The export has exactly MSPROVIDERINIT's parameters, with the C convention.
const _: MsProviderInit = MSProviderInit;

/// The provider instance: the scope of its stores' syncs. A provider
/// released without Shutdown ends its scope when it is dropped.
#[implement(IMSProvider, mapisync::abi::IMAPIProviderShutdown)]
pub(crate) struct Provider {
    /// Dropped by hand, in [`Provider`]'s `Drop`, inside its guard.
    scope: ManuallyDrop<Scope>,
}

impl Provider {
    /// A new provider instance, with a scope of its own: MSProviderInit's answer.
    fn create() -> IMSProvider {
        Provider { scope: ManuallyDrop::new(Scope::open()) }.into()
    }
}

/// Reached from the provider's last Release (windows-rs's `extern "system"`
/// trampoline): the scope's end (a lifecycle shutdown of its syncs) runs
/// guarded, so a panic there cannot abort the host.
impl Drop for Provider {
    fn drop(&mut self) {
        guarded_drop("Provider::drop", || {
            fail_point("Provider::drop");
            // SAFETY: ManuallyDrop::drop: `scope` is dropped only here, once, and not used after.
            unsafe { ManuallyDrop::drop(&mut self.scope) };
        });
    }
}

/// `IMAPIProviderShutdown`, answered from the scope (see the file's docs).
impl FastShutdown for Provider {
    fn scope(&self) -> &Scope {
        &self.scope
    }
}

/// The IIDs `Logon` can hand the store out as.
fn is_store_iid(iid: &GUID) -> bool {
    [IUnknown::IID, IMAPIProp::IID, IMsgStore::IID].contains(iid)
}

impl IMSProvider_Impl for Provider_Impl {
    /// See `module::shutdown`: this instance's syncs only. Sets
    /// `*lpulflags` (reserved, when non-null) to 0; S_OK.
    fn Shutdown(&self, lpulflags: *mut u32) -> Result<()> {
        guarded("IMSProvider::Shutdown", || {
            module::shutdown(&self.scope);
            // SAFETY: MAPI: null or writable.
            unsafe { put(lpulflags, 0) };
            Ok(())
        })
    }

    fn Logon(
        &self,
        lpmapisup: Ref<IMAPISupport>,
        _uluiparam: usize,
        _lpszprofilename: *mut i8,
        cbentryid: u32,
        lpentryid: *mut ENTRYID,
        _ulflags: u32,
        lpinterface: *mut GUID,
        lpcbspoolsecurity: *mut u32,
        lppbspoolsecurity: *mut *mut u8,
        lppmapierror: *mut *mut MAPIERROR,
        lppmslogon: OutRef<IMSLogon>,
        lppmdb: OutRef<IMsgStore>,
    ) -> Result<()> {
        // SAFETY: MAPI: each out-parameter is null or writable.
        unsafe {
            put(lpcbspoolsecurity, 0);
            put(lppbspoolsecurity, core::ptr::null_mut());
            put(lppmapierror, core::ptr::null_mut());
        }
        if lppmslogon.is_null() || lppmdb.is_null() {
            return Err(E_INVALIDARG.into());
        }
        let opened = guarded("IMSProvider::Logon", || {
            if self.scope.is_shut_down() {
                return Err(E_UNEXPECTED.into());
            }
            if cbentryid != 0 || !lpentryid.is_null() {
                return Err(MAPI_E_NO_SUPPORT.into()); // this example opens only its default store
            }
            // SAFETY: MAPI: a non-null LPCIID points to an IID.
            if !lpinterface.is_null() && !is_store_iid(unsafe { &*lpinterface }) {
                return Err(E_NOINTERFACE.into());
            }
            open_default_store(lpmapisup.ok()?, &self.scope)
        });
        // Both out-parameters are written once: the new objects, or NULL.
        match opened {
            Ok((logon, store)) => {
                lppmslogon.write(Some(logon))?;
                lppmdb.write(Some(store))
            }
            Err(error) => {
                let _ = lppmslogon.write(None);
                let _ = lppmdb.write(None);
                Err(error)
            }
        }
    }

    fn SpoolerLogon(
        &self,
        _: Ref<IMAPISupport>,
        _: usize,
        _: *mut i8,
        _: u32,
        _: *mut ENTRYID,
        _: u32,
        _: *mut GUID,
        _: u32,
        _: *mut u8,
        lppmapierror: *mut *mut MAPIERROR,
        lppmslogon: OutRef<IMSLogon>,
        lppmdb: OutRef<IMsgStore>,
    ) -> Result<()> {
        guarded("IMSProvider::SpoolerLogon", || {
            // SAFETY: MAPI: an out-parameter is null or writable.
            unsafe { put(lppmapierror, core::ptr::null_mut()) };
            let _ = lppmslogon.write(None);
            let _ = lppmdb.write(None);
            Err(MAPI_E_NO_SUPPORT.into())
        })
    }

    /// `*lpulresult` is TRUE when the two entry IDs have the same bytes.
    /// E_INVALIDARG for a NULL `lpulresult` or an entry ID that is NULL
    /// with a non-zero size.
    fn CompareStoreIDs(
        &self,
        cbentryid1: u32,
        lpentryid1: *mut ENTRYID,
        cbentryid2: u32,
        lpentryid2: *mut ENTRYID,
        _ulflags: u32,
        lpulresult: *mut u32,
    ) -> Result<()> {
        guarded("IMSProvider::CompareStoreIDs", || {
            fail_point("IMSProvider::CompareStoreIDs");
            // SAFETY: MAPI: each entry ID is null or valid for its size.
            let (first, second) = unsafe { (entry_bytes(cbentryid1, lpentryid1), entry_bytes(cbentryid2, lpentryid2)) };
            let (Some(first), Some(second)) = (first, second) else { return Err(E_INVALIDARG.into()) };
            if lpulresult.is_null() {
                return Err(E_INVALIDARG.into());
            }
            // SAFETY: MAPI: checked non-null.
            unsafe { *lpulresult = u32::from(first == second) };
            Ok(())
        })
    }
}

/// Registers the store's UID with MAPI, then makes the store and its logon.
fn open_default_store(support: &IMAPISupport, scope: &Scope) -> Result<(IMSLogon, IMsgStore)> {
    let mut uid = store_uid(); // the bindings take a *mut MAPIUID: a copy of our own
    // SAFETY: COM: MAPI holds `support` for the whole Logon call; `uid` is read during the call only.
    if let Err(error) = unsafe { support.SetProviderUID(&mut uid, 0) } {
        log(&format!("Logon: IMAPISupport::SetProviderUID failed with {:#010x}", error.code().0 as u32));
        return Err(error);
    }
    let store = Store::create(scope);
    let logon = Logon::create(&store, support);
    Ok((logon, store.to_interface()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::panic_next;

    /// A panic inside an `#[implement]` method (here CompareStoreIDs, made
    /// to panic by the test) reaches the caller as E_UNEXPECTED through
    /// windows-rs's vtable; unguarded, it would abort this process (Rust
    /// aborts an unwind out of the `extern "system"` trampoline).
    #[test]
    fn a_panic_in_an_implement_method_is_e_unexpected_not_an_abort() {
        let provider = Provider::create();
        let mut id = *b"same-id!";
        let mut result = 7;
        panic_next("IMSProvider::CompareStoreIDs");
        // SAFETY: COM: the provider is live; the entry IDs are 8 readable bytes; `result` is writable.
        let hr =
            unsafe { provider.CompareStoreIDs(8, id.as_mut_ptr().cast(), 8, id.as_mut_ptr().cast(), 0, &mut result) };
        assert_eq!(hr.unwrap_err().code(), E_UNEXPECTED);
        assert_eq!(result, 7, "the panicking call wrote nothing");
        // SAFETY: as above; the provider keeps working after the panic.
        unsafe { provider.CompareStoreIDs(8, id.as_mut_ptr().cast(), 8, id.as_mut_ptr().cast(), 0, &mut result) }
            .unwrap();
        assert_eq!(result, 1);
        // SAFETY: COM: the provider is live.
        unsafe { provider.Shutdown(core::ptr::null_mut()) }.unwrap();
    }

    /// A panic in the provider's Drop, reached from its last Release (an
    /// `extern "system"` trampoline), is caught there: no abort.
    #[test]
    fn a_panic_in_the_providers_drop_is_caught_not_an_abort() {
        let doomed = Provider::create();
        panic_next("Provider::drop");
        drop(doomed);
        // Still running; the next provider works.
        let next = Provider::create();
        // SAFETY: COM: the provider is live.
        unsafe { next.Shutdown(core::ptr::null_mut()) }.unwrap();
    }

    #[test]
    fn compare_store_ids_refuses_a_null_id_with_a_size() {
        let provider = Provider::create();
        let mut result = 0;
        // SAFETY: COM: a NULL entry ID with size 4 is the documented misuse.
        let hr =
            unsafe { provider.CompareStoreIDs(4, core::ptr::null_mut(), 0, core::ptr::null_mut(), 0, &mut result) };
        assert_eq!(hr.unwrap_err().code(), E_INVALIDARG);
        // SAFETY: COM: the provider is live.
        unsafe { provider.Shutdown(core::ptr::null_mut()) }.unwrap();
    }
}

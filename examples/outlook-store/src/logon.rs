//! The `IMSLogon` object `IMSProvider::Logon` returns beside the store:
//! MAPI's handle on one logged-on store, `#[implement(IMSLogon)]`.
//!
//! It holds a reference to the store and to MAPI's support object from
//! `Logon` until `Logoff`, which cancels the store's sync and releases
//! both (as does the logon's last Release, if Logoff never came). Every
//! other method answers MAPI_E_NO_SUPPORT with its out-parameters NULL,
//! through `unsupported` (OpenEntry, CompareEntryIDs, Advise and Unadvise
//! are the store's own, written once there for both).

use std::sync::Mutex;

use outlook_mapi_sys::Microsoft::Office::Outlook::MAPI::Win32::{IMAPISupport, IMSLogon, IMSLogon_Impl, MAPIERROR};
use windows_core::{ComObject, GUID, HRESULT, Result, implement};

use crate::diagnostics::{guarded, guarded_drop};
use crate::spi::put;
use crate::store::Store;
use crate::unsupported::{store_entry_methods, unsupported, unsupported_clearing};

/// What a logon holds until Logoff.
struct Session {
    /// A counted reference to the store `Logon` returned with this logon.
    store: ComObject<Store>,
    /// MAPI's support object, AddRef'd in Logon as MAPI asks providers to.
    _support: IMAPISupport,
}

/// Reached from the logon's last Release (windows-rs's `extern "system"`
/// trampoline): guarded, so a panic cannot abort the host.
impl Drop for Session {
    fn drop(&mut self) {
        guarded_drop("logon Session::drop", || {
            crate::diagnostics::fail_point("Session::drop");
            self.store.cancel_sync();
        });
    }
}

/// The logon: the session, taken by Logoff.
#[implement(IMSLogon)]
pub(crate) struct Logon {
    session: Mutex<Option<Session>>,
}

impl Logon {
    /// A logon for `store` and `support`, taking a reference to each.
    pub(crate) fn create(store: &ComObject<Store>, support: &IMAPISupport) -> IMSLogon {
        let session = Session { store: store.clone(), _support: support.clone() };
        Logon { session: Mutex::new(Some(session)) }.into()
    }
}

impl IMSLogon_Impl for Logon_Impl {
    /// Cancels the store's sync and releases the store and the support
    /// object; a second call does nothing. `*lpulflags` (reserved, when
    /// non-null) is set to 0. S_OK.
    fn Logoff(&self, lpulflags: *mut u32) -> Result<()> {
        guarded("IMSLogon::Logoff", || {
            // A panic while the lock was held cannot leave the Option half-taken.
            let session = self.session.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
            drop(session);
            // SAFETY: MAPI: `lpulflags` is null or writable.
            unsafe { put(lpulflags, 0) };
            Ok(())
        })
    }

    fn GetLastError(&self, _: HRESULT, _: u32, error: *mut *mut MAPIERROR) -> Result<()> {
        // SAFETY: MAPI: an out-parameter is null or writable.
        unsafe { unsupported_clearing("IMSLogon::GetLastError", error, core::ptr::null_mut()) }
    }
    store_entry_methods!("IMSLogon");
    fn OpenStatusEntry(&self, _: *mut GUID, _: u32, kind: *mut u32, entry: *mut *mut core::ffi::c_void) -> Result<()> {
        unsupported("IMSLogon::OpenStatusEntry", || {
            // SAFETY: MAPI: each out-parameter is null or writable.
            unsafe { (put(kind, 0), put(entry, core::ptr::null_mut())) };
        })
    }
}

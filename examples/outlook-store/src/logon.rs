//! The `IMSLogon` object `IMSProvider::Logon` returns beside the store:
//! MAPI's handle on one logged-on store.
//!
//! It holds a reference to the store and to MAPI's support object from
//! `Logon` until `Logoff`, which cancels the store's sync and releases
//! both (as does the logon's last Release, if Logoff never came). Every
//! other method answers MAPI_E_NO_SUPPORT with its out-parameters NULL.

use core::ffi::c_void;
use std::sync::Mutex;

use mapisync::abi::IID_IUnknown;
use mapisync::{HRESULT, IUnknown, Interface, S_OK};
use windows_core::{GUID, IUnknown_Vtbl};

use crate::com::{ComObject, no_support, put};
use crate::mapi_abi::{ENTRYID, IID_IMSLogon, IMSLogon_Vtbl, LPCIID, Opaque};
use crate::store;

/// What a logon holds until Logoff.
struct Session {
    /// A counted reference to the store `Logon` returned with this logon.
    store: IUnknown,
    /// MAPI's support object, AddRef'd in Logon as MAPI asks providers to.
    _support: IUnknown,
}

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: COM: `store` is a counted reference to a store made by
        // `store::create` (see `create`), alive until this drop ends.
        unsafe { store::cancel_sync(self.store.as_raw()) };
    }
}

/// The logon's state: the session, taken by Logoff.
pub(crate) struct Logon {
    session: Mutex<Option<Session>>,
}

type LogonObject = ComObject<IMSLogon_Vtbl, Logon>;

/// Makes a logon with a count of one for `store` (a store made by
/// [`store::create`]) and `support`, taking a reference to each; returns
/// its `IMSLogon` pointer.
pub(crate) fn create(store: &IUnknown, support: &IUnknown) -> *mut c_void {
    let session = Session { store: store.clone(), _support: support.clone() };
    LogonObject::create(&VTABLE, Logon { session: Mutex::new(Some(session)) })
}

/// Slot 0: IUnknown and IMSLogon are the logon itself.
///
/// # Safety
/// COM: `this` is a live logon; `riid` and `ppv` are null or valid.
unsafe extern "system" fn query_interface(this: *mut c_void, riid: *const GUID, ppv: *mut *mut c_void) -> HRESULT {
    // SAFETY: COM: this function's Safety: `this` is a live logon; `riid` and `ppv` are null or valid.
    unsafe { LogonObject::query(this, riid, ppv, &[IID_IUnknown, IID_IMSLogon]) }
}

/// Slot 4, `Logoff`: cancels the store's sync and releases the store and
/// the support object; a second call does nothing. `*lpulFlags` (reserved,
/// when non-null) is set to 0. Always S_OK.
///
/// # Safety
/// COM: `this` is a live logon; `lpulFlags` is null or valid.
unsafe extern "system" fn logoff(this: *mut c_void, lpulFlags: *mut u32) -> HRESULT {
    // SAFETY: COM: the caller holds a reference to the logon.
    let logon = unsafe { LogonObject::from_this(this) };
    // A panic while the lock was held cannot leave the Option half-taken.
    let session = logon.value.session.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
    drop(session);
    // SAFETY: MAPI: `lpulFlags` is null or writable (this function's contract).
    unsafe { put(lpulFlags, 0) };
    S_OK
}

static VTABLE: IMSLogon_Vtbl = IMSLogon_Vtbl {
    base__: IUnknown_Vtbl {
        QueryInterface: query_interface,
        AddRef: LogonObject::add_ref,
        Release: LogonObject::release,
    },
    GetLastError: get_last_error,
    Logoff: logoff,
    OpenEntry: open_entry,
    CompareEntryIDs: compare_entry_ids,
    Advise: advise,
    Unadvise: unadvise,
    OpenStatusEntry: open_status_entry,
};

no_support!(fn get_last_error(_hr: HRESULT, _flags: u32, error: *mut Opaque) clears [error]);
no_support!(fn open_entry(
    _cb: u32, _id: *const ENTRYID, _iid: LPCIID, _flags: u32, kind: *mut u32, unk: *mut *mut c_void
) clears [kind, unk]);
no_support!(fn compare_entry_ids(
    _cb1: u32, _id1: *const ENTRYID, _cb2: u32, _id2: *const ENTRYID, _flags: u32, result: *mut u32
) clears [result]);
no_support!(fn advise(_cb: u32, _id: *const ENTRYID, _mask: u32, _sink: Opaque, _connection: *mut usize) clears []);
no_support!(fn unadvise(_connection: usize) clears []);
no_support!(fn open_status_entry(_iid: LPCIID, _flags: u32, kind: *mut u32, entry: *mut Opaque) clears [kind, entry]);

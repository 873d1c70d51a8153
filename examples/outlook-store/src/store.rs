//! The message store object (`IMsgStore`, with its `IMAPIProp` base) that
//! `IMSProvider::Logon` returns, and that Outlook asks for IMAPISync.
//!
//! The store is the controlling object of a COM aggregate whose inner
//! object is the mapisync provider ([`StoreSync`]), made with
//! [`mapisync::aggregate::create_inner`]: QueryInterface(IID_IMAPISync) on
//! the store is forwarded to the inner object, whose IMAPISync delegates
//! QueryInterface, AddRef and Release back to the store. So IUnknown asked
//! of that IMAPISync is the store's IUnknown, IID_IMsgStore gives the store
//! back, and a running sync holds the store alive until its `Done`.
//!
//! What works: QueryInterface (IUnknown, IMAPIProp, IMsgStore, IMAPISync),
//! AddRef, Release and StoreLogoff (which cancels the store's sync). Every
//! other method answers MAPI_E_NO_SUPPORT with its out-parameters NULL.

use core::ffi::{c_char, c_void};
use std::sync::OnceLock;

use mapisync::abi::{IID_IMAPISync, IID_IUnknown};
use mapisync::{E_INVALIDARG, HRESULT, IMAPISync, IUnknown, Interface, S_OK};
use windows_core::{GUID, IUnknown_Vtbl};

use crate::com::{ComObject, iid_and_clear, no_support, put};
use crate::mapi_abi::{ENTRYID, IID_IMAPIProp, IID_IMsgStore, IMAPIProp_Vtbl, IMsgStore_Vtbl, LPCIID, Opaque};
use crate::sync::StoreSync;
use mapisync::lifecycle;

/// The store's state: the inner object of its aggregate.
pub(crate) struct Store {
    /// The inner object's non-delegating IUnknown: the only reference that
    /// keeps it alive, released when the store is freed (aggregation rule 4).
    inner: OnceLock<IUnknown>,
}

type StoreObject = ComObject<IMsgStore_Vtbl, Store>;

/// Makes a store with a count of one and returns its `IMsgStore` pointer.
pub(crate) fn create() -> *mut c_void {
    let this = StoreObject::create(&VTABLE, Store { inner: OnceLock::new() });
    // SAFETY: COM: `this` is a live object whose one reference we hold; the
    // borrowed IUnknown is not released.
    let outer = unsafe { IUnknown::from_raw_borrowed(&this) }.expect("a new object is not null");
    // SAFETY: aggregation contract: the store owns the inner IUnknown and releases it
    // only when it is freed itself (so it outlives the inner object); it is free-threaded.
    let inner = unsafe { mapisync::aggregate::create_inner(StoreSync, outer) };
    // SAFETY: COM: we hold the only reference to `this`.
    let store = unsafe { StoreObject::from_this(this) };
    let _ = store.value.inner.set(inner);
    this
}

/// Cancels the sync this store runs, if any; true if one was cancelled.
///
/// # Safety
/// COM: `this` is a live store made by [`create`] and the caller holds a
/// reference for the call.
pub(crate) unsafe fn cancel_sync(this: *mut c_void) -> bool {
    // SAFETY: COM: this function's Safety: `this` is a live store the caller holds.
    let store = unsafe { StoreObject::from_this(this) };
    let Some(inner) = store.value.inner.get() else { return false };
    // The IMAPISync got here is counted on the store, which the caller keeps alive.
    match inner.cast::<IMAPISync>() {
        Ok(sync) => lifecycle::cancel(&sync),
        Err(_) => false,
    }
}

/// Slot 0: IUnknown, IMAPIProp and IMsgStore are the store itself;
/// IMAPISync is the inner object's answer; anything else E_NOINTERFACE.
///
/// # Safety
/// COM: `this` is a live store; `riid` and `ppv` are null or valid.
unsafe extern "system" fn query_interface(this: *mut c_void, riid: *const GUID, ppv: *mut *mut c_void) -> HRESULT {
    // SAFETY: COM: this function's Safety: `this` is a live store; `riid` and `ppv` are null or valid.
    let iid = match unsafe { iid_and_clear(riid, ppv) } {
        Ok(iid) => iid,
        Err(hr) => return hr,
    };
    if iid == IID_IMAPISync {
        // SAFETY: COM: the caller holds a reference to the store.
        let store = unsafe { StoreObject::from_this(this) };
        if let Some(inner) = store.value.inner.get() {
            // SAFETY: COM: `inner` is counted by the store; `riid` and `ppv` were checked.
            return unsafe { (inner.vtable().QueryInterface)(inner.as_raw(), riid, ppv) };
        }
    }
    // SAFETY: COM: this function's Safety: `this` is a live store; `riid` and `ppv` are null or valid.
    unsafe { StoreObject::query(this, riid, ppv, &[IID_IUnknown, IID_IMAPIProp, IID_IMsgStore]) }
}

/// Slot 21, `StoreLogoff`: cancels the store's sync; `*lpulFlags` is set
/// to 0 on return (no transport activity to report). A NULL `lpulFlags`
/// is E_INVALIDARG.
///
/// # Safety
/// COM: `this` is a live store; `lpulFlags` is null or valid.
unsafe extern "system" fn store_logoff(this: *mut c_void, lpulFlags: *mut u32) -> HRESULT {
    if lpulFlags.is_null() {
        return E_INVALIDARG;
    }
    // SAFETY: COM: the caller holds a reference to the store.
    unsafe { cancel_sync(this) };
    // SAFETY: MAPI: `lpulFlags` is non-null, so writable.
    unsafe { put(lpulFlags, 0) };
    S_OK
}

static VTABLE: IMsgStore_Vtbl = IMsgStore_Vtbl {
    base__: IMAPIProp_Vtbl {
        base__: IUnknown_Vtbl {
            QueryInterface: query_interface,
            AddRef: StoreObject::add_ref,
            Release: StoreObject::release,
        },
        GetLastError: get_last_error,
        SaveChanges: save_changes,
        GetProps: get_props,
        GetPropList: get_prop_list,
        OpenProperty: open_property,
        SetProps: set_props,
        DeleteProps: delete_props,
        CopyTo: copy_to,
        CopyProps: copy_props,
        GetNamesFromIDs: get_names_from_ids,
        GetIDsFromNames: get_ids_from_names,
    },
    Advise: advise,
    Unadvise: unadvise,
    CompareEntryIDs: compare_entry_ids,
    OpenEntry: open_entry,
    SetReceiveFolder: set_receive_folder,
    GetReceiveFolder: get_receive_folder,
    GetReceiveFolderTable: get_receive_folder_table,
    StoreLogoff: store_logoff,
    AbortSubmit: abort_submit,
    GetOutgoingQueue: get_outgoing_queue,
    SetLockState: set_lock_state,
    FinishedMsg: finished_msg,
    NotifyNewMail: notify_new_mail,
};

no_support!(fn get_last_error(_hr: HRESULT, _flags: u32, error: *mut Opaque) clears [error]);
no_support!(fn save_changes(_flags: u32) clears []);
no_support!(fn get_props(_tags: Opaque, _flags: u32, count: *mut u32, props: *mut Opaque) clears [count, props]);
no_support!(fn get_prop_list(_flags: u32, tags: *mut Opaque) clears [tags]);
no_support!(fn open_property(_tag: u32, _iid: LPCIID, _options: u32, _flags: u32, unk: *mut *mut c_void) clears [unk]);
no_support!(fn set_props(_count: u32, _props: Opaque, problems: *mut Opaque) clears [problems]);
no_support!(fn delete_props(_tags: Opaque, problems: *mut Opaque) clears [problems]);
no_support!(fn copy_to(
    _ciid: u32, _iids: LPCIID, _exclude: Opaque, _ui: usize, _progress: Opaque,
    _iid: LPCIID, _dest: Opaque, _flags: u32, problems: *mut Opaque
) clears [problems]);
no_support!(fn copy_props(
    _include: Opaque, _ui: usize, _progress: Opaque, _iid: LPCIID, _dest: Opaque, _flags: u32, problems: *mut Opaque
) clears [problems]);
no_support!(fn get_names_from_ids(
    _tags: *mut Opaque, _set: *mut GUID, _flags: u32, count: *mut u32, names: *mut Opaque
) clears [count, names]);
no_support!(fn get_ids_from_names(_count: u32, _names: Opaque, _flags: u32, tags: *mut Opaque) clears [tags]);
no_support!(fn advise(_cb: u32, _id: *const ENTRYID, _mask: u32, _sink: Opaque, _connection: *mut usize) clears []);
no_support!(fn unadvise(_connection: usize) clears []);
no_support!(fn compare_entry_ids(
    _cb1: u32, _id1: *const ENTRYID, _cb2: u32, _id2: *const ENTRYID, _flags: u32, result: *mut u32
) clears [result]);
no_support!(fn open_entry(
    _cb: u32, _id: *const ENTRYID, _iid: LPCIID, _flags: u32, kind: *mut u32, unk: *mut *mut c_void
) clears [kind, unk]);
no_support!(fn set_receive_folder(_class: *const c_char, _flags: u32, _cb: u32, _id: *const ENTRYID) clears []);
no_support!(fn get_receive_folder(
    _class: *const c_char, _flags: u32, cb: *mut u32, id: *mut *mut ENTRYID, explicit: *mut *mut c_char
) clears [cb, id, explicit]);
no_support!(fn get_receive_folder_table(_flags: u32, table: *mut Opaque) clears [table]);
no_support!(fn abort_submit(_cb: u32, _id: *const ENTRYID, _flags: u32) clears []);
no_support!(fn get_outgoing_queue(_flags: u32, table: *mut Opaque) clears [table]);
no_support!(fn set_lock_state(_message: Opaque, _state: u32) clears []);
no_support!(fn finished_msg(_flags: u32, _cb: u32, _id: *const ENTRYID) clears []);
no_support!(fn notify_new_mail(_notification: Opaque) clears []);

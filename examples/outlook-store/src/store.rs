//! The message store object (`IMsgStore`, with its `IMAPIProp` base) that
//! `IMSProvider::Logon` returns, and that Outlook asks for IMAPISync.
//!
//! A windows-rs object, `#[implement(IMsgStore, mapisync::IMAPISync)]`:
//! windows-rs writes QueryInterface (IUnknown, IMAPIProp, IMsgStore,
//! IMAPISync), AddRef and Release, and `mapisync::ForwardSync` forwards
//! `SynchronizeInBackground` to the mapisync object ([`StoreSync`]) the
//! store holds. So the host only ever sees the store's own IMAPISync
//! pointer, and COM identity is the store's both ways.
//!
//! **ForwardSync, not aggregation**: a running sync holds the mapisync
//! object, not the store, so MAPI may release the store before `Done`.
//! That is right here because the sync reads nothing of the store, and
//! StoreLogoff, Logoff and Shutdown cancel it. A store whose sync reads
//! the store's own state (its folders, its open files) must outlive the
//! sync: that store aggregates the mapisync object instead
//! (`mapisync::aggregate::create_inner`, docs/store-objects.md), which
//! makes every running sync count a reference on the store.
//!
//! The store adopts its mapisync object into its provider instance's
//! `lifecycle::Scope` and keeps the `SyncHandle` (see `module`).
//!
//! What works: the IUnknown methods and StoreLogoff (which cancels the
//! store's sync, and only its, on any thread). Every other method answers MAPI_E_NO_SUPPORT with its
//! out-parameters NULL, through `unsupported` (see `spi` for the two it cannot clear).

use core::ffi::c_void;

use mapisync::lifecycle::{Scope, SyncHandle};
use mapisync::{E_INVALIDARG, ForwardSync, IMAPISync};
use outlook_mapi_sys::Microsoft::Office::Outlook::MAPI::Win32::{
    ENTRYID, IMAPIProgress, IMAPIProp_Impl, IMAPITable, IMessage, IMsgStore, IMsgStore_Impl, MAPIERROR, MAPINAMEID,
    NOTIFICATION, SPropProblemArray, SPropTagArray, SPropValue,
};
use windows_core::{ComObject, GUID, HRESULT, IUnknown, OutRef, Ref, Result, implement};

use crate::diagnostics::guarded;
use crate::module;
use crate::spi::put;
use crate::sync::StoreSync;
use crate::unsupported::{store_entry_methods, unsupported, unsupported_clearing};

/// The store: the mapisync object that runs its syncs, and the handle
/// that cancels them from any thread.
#[implement(IMsgStore, mapisync::IMAPISync)]
pub(crate) struct Store {
    sync: IMAPISync,
    /// `scope.adopt(&sync)`: makes the sync object the provider instance's
    /// (its Shutdown reaches this store's syncs, no other instance's does),
    /// and is `Send + Sync`, for a StoreLogoff on any thread.
    handle: SyncHandle,
}

impl Store {
    /// A new store of the provider instance that owns `scope`, with a count of one.
    pub(crate) fn create(scope: &Scope) -> ComObject<Store> {
        let sync: IMAPISync = StoreSync.into();
        let handle = scope.adopt(&sync);
        ComObject::new(Store { sync, handle })
    }

    /// Cancels the sync this store runs, if any (StoreLogoff, Logoff).
    pub(crate) fn cancel_sync(&self) {
        module::cancel_store_sync(&self.handle);
    }
}

impl ForwardSync for Store {
    fn sync(&self) -> &IMAPISync {
        &self.sync
    }
}

impl IMsgStore_Impl for Store_Impl {
    /// Cancels the store's sync; `*lpulflags` is set to 0 on return (no
    /// transport activity to report). A NULL `lpulflags` is E_INVALIDARG.
    fn StoreLogoff(&self, lpulflags: *mut u32) -> Result<()> {
        guarded("IMsgStore::StoreLogoff", || {
            if lpulflags.is_null() {
                return Err(E_INVALIDARG.into());
            }
            crate::diagnostics::fail_point("IMsgStore::StoreLogoff");
            self.cancel_sync();
            // SAFETY: MAPI: checked non-null, so writable.
            unsafe { put(lpulflags, 0) };
            Ok(())
        })
    }

    store_entry_methods!("IMsgStore");
    fn SetReceiveFolder(&self, _: *mut i8, _: u32, _: u32, _: *mut ENTRYID) -> Result<()> {
        unsupported("IMsgStore::SetReceiveFolder", || {})
    }
    fn GetReceiveFolder(
        &self,
        _: *mut i8,
        _: u32,
        cb: *mut u32,
        id: *mut *mut ENTRYID,
        explicit: *mut *mut i8,
    ) -> Result<()> {
        unsupported("IMsgStore::GetReceiveFolder", || {
            // SAFETY: MAPI: each out-parameter is null or writable.
            unsafe { (put(cb, 0), put(id, core::ptr::null_mut()), put(explicit, core::ptr::null_mut())) };
        })
    }
    fn GetReceiveFolderTable(&self, _: u32) -> Result<IMAPITable> {
        unsupported("IMsgStore::GetReceiveFolderTable", || {})
    }
    fn AbortSubmit(&self, _: u32, _: *mut ENTRYID, _: u32) -> Result<()> {
        unsupported("IMsgStore::AbortSubmit", || {})
    }
    fn GetOutgoingQueue(&self, _: u32) -> Result<IMAPITable> {
        unsupported("IMsgStore::GetOutgoingQueue", || {})
    }
    fn SetLockState(&self, _: Ref<IMessage>, _: u32) -> Result<()> {
        unsupported("IMsgStore::SetLockState", || {})
    }
    fn FinishedMsg(&self, _: u32, _: u32, _: *mut ENTRYID) -> Result<()> {
        unsupported("IMsgStore::FinishedMsg", || {})
    }
    fn NotifyNewMail(&self, _: *mut NOTIFICATION) -> Result<()> {
        unsupported("IMsgStore::NotifyNewMail", || {})
    }
}

impl IMAPIProp_Impl for Store_Impl {
    fn GetLastError(&self, _: HRESULT, _: u32, error: *mut *mut MAPIERROR) -> Result<()> {
        // SAFETY: MAPI: an out-parameter is null or writable.
        unsafe { unsupported_clearing("IMAPIProp::GetLastError", error, core::ptr::null_mut()) }
    }
    fn SaveChanges(&self, _: u32) -> Result<()> {
        unsupported("IMAPIProp::SaveChanges", || {})
    }
    fn GetProps(&self, _: *mut SPropTagArray, _: u32, count: *mut u32, props: *mut *mut SPropValue) -> Result<()> {
        unsupported("IMAPIProp::GetProps", || {
            // SAFETY: MAPI: each out-parameter is null or writable.
            unsafe { (put(count, 0), put(props, core::ptr::null_mut())) };
        })
    }
    fn GetPropList(&self, _: u32, tags: *mut *mut SPropTagArray) -> Result<()> {
        // SAFETY: MAPI: an out-parameter is null or writable.
        unsafe { unsupported_clearing("IMAPIProp::GetPropList", tags, core::ptr::null_mut()) }
    }
    fn OpenProperty(&self, _: u32, _: *mut GUID, _: u32, _: u32, unk: OutRef<IUnknown>) -> Result<()> {
        unsupported("IMAPIProp::OpenProperty", || {
            let _ = unk.write(None);
        })
    }
    fn SetProps(&self, _: u32, _: *mut SPropValue, problems: *mut *mut SPropProblemArray) -> Result<()> {
        // SAFETY: MAPI: an out-parameter is null or writable.
        unsafe { unsupported_clearing("IMAPIProp::SetProps", problems, core::ptr::null_mut()) }
    }
    fn DeleteProps(&self, _: *mut SPropTagArray, problems: *mut *mut SPropProblemArray) -> Result<()> {
        // SAFETY: MAPI: an out-parameter is null or writable.
        unsafe { unsupported_clearing("IMAPIProp::DeleteProps", problems, core::ptr::null_mut()) }
    }
    fn CopyTo(
        &self,
        _: u32,
        _: *mut GUID,
        _: *mut SPropTagArray,
        _: usize,
        _: Ref<IMAPIProgress>,
        _: *mut GUID,
        _: *mut c_void,
        _: u32,
        problems: *mut *mut SPropProblemArray,
    ) -> Result<()> {
        // SAFETY: MAPI: an out-parameter is null or writable.
        unsafe { unsupported_clearing("IMAPIProp::CopyTo", problems, core::ptr::null_mut()) }
    }
    fn CopyProps(
        &self,
        _: *mut SPropTagArray,
        _: usize,
        _: Ref<IMAPIProgress>,
        _: *mut GUID,
        _: *mut c_void,
        _: u32,
        problems: *mut *mut SPropProblemArray,
    ) -> Result<()> {
        // SAFETY: MAPI: an out-parameter is null or writable.
        unsafe { unsupported_clearing("IMAPIProp::CopyProps", problems, core::ptr::null_mut()) }
    }
    fn GetNamesFromIDs(
        &self,
        _: *mut *mut SPropTagArray,
        _: *mut GUID,
        _: u32,
        count: *mut u32,
        names: *mut *mut *mut MAPINAMEID,
    ) -> Result<()> {
        unsupported("IMAPIProp::GetNamesFromIDs", || {
            // SAFETY: MAPI: each out-parameter is null or writable.
            unsafe { (put(count, 0), put(names, core::ptr::null_mut())) };
        })
    }
    fn GetIDsFromNames(&self, _: u32, _: *mut *mut MAPINAMEID, _: u32, tags: *mut *mut SPropTagArray) -> Result<()> {
        // SAFETY: MAPI: an out-parameter is null or writable.
        unsafe { unsupported_clearing("IMAPIProp::GetIDsFromNames", tags, core::ptr::null_mut()) }
    }
}

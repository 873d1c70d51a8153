//! A message store written with windows-rs (windows-core's `#[implement]`)
//! that answers QueryInterface for IID_IMAPISync with COM identity intact.
//!
//! Outlook asks the store object for IMAPISync; the answer must share the
//! store's IUnknown. `#[implement]` writes the store's QueryInterface and
//! answers exactly the interfaces it lists (plus IUnknown, IInspectable and
//! its own agile-object interfaces): there is no hook to return another
//! object's pointer for IID_IMAPISync. So the store lists IMAPISync itself,
//! declared here with `#[windows_core::interface]` ([`IMAPISyncSlot`]: the
//! same IID and vtable as [`mapisync::IMAPISync`]), and its one method
//! forwards to a mapisync object **aggregated** into the store:
//!
//! ```text
//! host ── QI(IID_IMAPISync) ──► MsgStore (windows-core object: one identity, one count)
//!                                 │ IMAPISyncSlot::SynchronizeInBackground
//!                                 ▼
//!                    inner mapisync object (create_inner, outer = the store)
//!                    its IMAPISync's AddRef/Release/QI are the store's
//! ```
//! - QueryInterface, AddRef and Release of the IMAPISync the host holds are
//!   the store's own (windows-core's), so identity holds in every direction.
//! - The mapisync object is the store's inner object: the store keeps its
//!   non-delegating IUnknown and releases it when the store is dropped. Its
//!   delegating IMAPISync, through which the worker takes its reference,
//!   counts on the store, so a running sync keeps the store alive until
//!   `Done`, even after the host let go of it.
//! - The store never caches that delegating IMAPISync (it asks the inner
//!   object for it on each call), so the aggregation rule about cached
//!   pointers does not arise.

// COM method names keep their published spelling.
#![allow(non_snake_case)]

use std::sync::OnceLock;

use mapisync::{E_POINTER, E_UNEXPECTED, HRESULT, IMAPISync, IUnknown, Interface, MAPISIB, MapiSync, SyncJob};
// `#[interface]` names the parent's vtable unqualified, so `IUnknown_Vtbl` must be in scope.
use windows_core::{ComObject, IUnknown_Vtbl, implement, interface};

/// A made-up store interface, standing in for `IMsgStore`.
#[interface("6F3E2A10-5B7C-4D21-9A0E-52C4D1E8F301")]
pub unsafe trait IMsgStoreLike: IUnknown {
    /// How many messages the store holds.
    fn MessageCount(&self, count: *mut u32) -> HRESULT;
}

/// IMAPISync as windows-core's `#[interface]` declares it: the IID and
/// vtable of [`mapisync::IMAPISync`], declared again so that `#[implement]`
/// can put it on the store (mapisync's own type has no `_Impl` trait).
#[interface("5024A385-2D44-486A-81A8-8F0ECB6071DD")]
pub unsafe trait IMAPISyncSlot: IUnknown {
    /// Slot 3, forwarded to the store's mapisync object.
    fn SynchronizeInBackground(&self, psibpb: *const MAPISIB) -> HRESULT;
}

/// The sync the store runs: one progress step per message.
#[derive(Debug)]
pub struct MessageSync {
    messages: u32,
}

#[mapisync::provider]
impl MapiSync for MessageSync {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        for index in 1..=self.messages {
            job.progress(&format!("Message {index} of {}", self.messages), index, self.messages)?;
        }
        Ok(())
    }
}

/// The store object: a windows-core COM object answering [`IMsgStoreLike`]
/// and IMAPISync.
#[implement(IMsgStoreLike, IMAPISyncSlot)]
pub struct MsgStore {
    messages: u32,
    /// The aggregated mapisync object's non-delegating IUnknown, set once
    /// right after the store exists; dropped (released) with the store.
    sync: OnceLock<IUnknown>,
}

impl MsgStore {
    /// A new store holding `messages` messages, as its IUnknown (count one).
    pub fn create(messages: u32) -> IUnknown {
        let store = ComObject::new(MsgStore { messages, sync: OnceLock::new() });
        let outer: IUnknown = store.to_interface();
        // SAFETY: aggregation: the store holds the inner's IUnknown in `sync` until it drops,
        // so it outlives the inner; windows-core counts atomically, so the worker may
        // AddRef and Release the store from its own thread.
        let inner = unsafe { mapisync::aggregate::create_inner(MessageSync { messages }, &outer) };
        if store.sync.set(inner).is_err() {
            unreachable!("`sync` is set once, here");
        }
        outer
    }
}

impl IMsgStoreLike_Impl for MsgStore_Impl {
    unsafe fn MessageCount(&self, count: *mut u32) -> HRESULT {
        if count.is_null() {
            return E_POINTER;
        }
        // SAFETY: COM: a non-null out-parameter is writable.
        unsafe { *count = self.messages };
        mapisync::S_OK
    }
}

impl IMAPISyncSlot_Impl for MsgStore_Impl {
    unsafe fn SynchronizeInBackground(&self, psibpb: *const MAPISIB) -> HRESULT {
        let Some(inner) = self.sync.get() else { return E_UNEXPECTED };
        // The inner object's delegating IMAPISync, counted on this store
        // for the duration of the call (and by the worker, for the sync's).
        match inner.cast::<IMAPISync>() {
            // SAFETY: COM: `sync` is counted; the host vouches for `psibpb`.
            Ok(sync) => unsafe { sync.SynchronizeInBackground(psibpb) },
            Err(error) => error.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mapisync::host::{Conformance, Host};

    #[test]
    fn the_store_answers_imapisync_with_its_own_identity() {
        let store = MsgStore::create(2);
        let sync: IMAPISync = store.cast().unwrap();
        assert_eq!(sync.cast::<IUnknown>().unwrap(), store);
        let other: IMsgStoreLike = sync.cast().unwrap();
        let mut count = 0;
        // SAFETY: test: `count` is writable.
        assert_eq!(unsafe { other.MessageCount(&mut count) }, mapisync::S_OK);
        assert_eq!(count, 2);
    }

    #[test]
    fn the_store_passes_the_conformance_checker_and_the_host_simulator() {
        let store = MsgStore::create(3);
        Conformance::new().answers(IMsgStoreLike::IID).check(&store).unwrap_or_else(|v| panic!("{v:#?}"));
        let report = Host::new().run(&store).unwrap();
        assert_eq!(report.done, Some(mapisync::S_OK));
        assert_eq!(report.progress().count(), 3);
        assert!(report.balanced());
    }
}

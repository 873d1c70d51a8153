//! A message store written with windows-rs (windows-core's `#[implement]`)
//! that answers QueryInterface for IID_IMAPISync with COM identity intact.
//!
//! Outlook asks the store object for IMAPISync; the answer must share the
//! store's IUnknown. The store lists `mapisync::IMAPISync` in its
//! `#[implement]`, so windows-core answers that query with the store's own
//! pointer, and implements [`mapisync::ForwardSync`] to name the mapisync
//! object that runs its syncs:
//!
//! ```text
//! host ── QI(IID_IMAPISync) ──► MsgStore (windows-core object: one identity, one count)
//!                                 │ SynchronizeInBackground (mapisync::ForwardSync)
//!                                 ▼
//!                    MessageSync, a mapisync object the store holds
//! ```
//! No `unsafe`, and no interface declared twice. The worker of a running
//! sync holds the mapisync object, so the sync runs to `Done` even if the
//! host lets go of the store first.

// COM method names keep their published spelling.
#![allow(non_snake_case)]

use mapisync::{E_POINTER, ForwardSync, HRESULT, IMAPISync, IUnknown, MapiSync, SyncJob};
// `#[interface]` names the parent's vtable unqualified, so `IUnknown_Vtbl` must be in scope.
use windows_core::{ComObject, IUnknown_Vtbl, implement, interface};

/// A made-up store interface, standing in for `IMsgStore`.
#[interface("6F3E2A10-5B7C-4D21-9A0E-52C4D1E8F301")]
pub unsafe trait IMsgStoreLike: IUnknown {
    /// How many messages the store holds.
    fn MessageCount(&self, count: *mut u32) -> HRESULT;
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
#[implement(IMsgStoreLike, mapisync::IMAPISync)]
pub struct MsgStore {
    messages: u32,
    /// The mapisync object the store's IMAPISync forwards to.
    sync: IMAPISync,
}

impl MsgStore {
    /// A new store holding `messages` messages, as its IUnknown (count one).
    pub fn create(messages: u32) -> IUnknown {
        ComObject::new(MsgStore { messages, sync: MessageSync { messages }.into() }).into_interface()
    }
}

impl ForwardSync for MsgStore {
    fn sync(&self) -> &IMAPISync {
        &self.sync
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

#[cfg(test)]
mod tests {
    use super::*;
    use mapisync::Interface;
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

//! A windows-rs store that lists `mapisync::IMAPISync` itself.
//!
//! windows-core's `#[implement]` writes a store's QueryInterface, AddRef and
//! Release and answers exactly the interfaces it lists. List
//! [`IMAPISync`] there, implement [`ForwardSync`] to name the mapisync
//! object that runs the store's syncs, and the store's
//! `SynchronizeInBackground` forwards to it: no `unsafe`, no redeclared
//! interface, and COM identity is the store's in every direction (the host
//! only ever sees the store's own IMAPISync pointer).
//!
//! ```
//! # // windows-core's #[implement] objects do not pass Miri (see the end of these docs).
//! # #[cfg(not(miri))]
//! # fn main() {
//! use mapisync::{ForwardSync, IMAPISync, IUnknown, Interface, MapiSync, SyncJob};
//! use windows_core::{ComObject, implement};
//!
//! struct Inbox;
//!
//! #[mapisync::provider]
//! impl MapiSync for Inbox {
//!     fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
//!         job.progress("Checking the inbox", 1, 1)
//!     }
//! }
//!
//! #[implement(mapisync::IMAPISync)]
//! struct Store {
//!     sync: IMAPISync,
//! }
//!
//! impl ForwardSync for Store {
//!     fn sync(&self) -> &IMAPISync {
//!         &self.sync
//!     }
//! }
//!
//! let store: IUnknown = ComObject::new(Store { sync: Inbox.into() }).into_interface();
//! let report = mapisync::host::Host::new().run(&store).unwrap(); // QI(IMAPISync) on the store
//! assert_eq!(report.done, Some(mapisync::S_OK));
//! let sync: IMAPISync = store.cast().unwrap();
//! assert_eq!(sync.cast::<IUnknown>().unwrap(), store); // the store's identity
//! # }
//! # #[cfg(miri)]
//! # fn main() {}
//! ```
//!
//! The worker of a running sync holds the mapisync object and the store
//! (one reference each, released after `Done`): the host may release the
//! store before `Done`, and the store lives on until the sync has ended.
//! So the store's address, under which `lifecycle::cancel` and scopes find
//! its sync, is never another store's while that sync runs.
//!
//! The store depends on `windows-core = "0.62"` itself: `#[implement]`
//! expands to `::windows_core` paths (see `mapisync::windows_core`).
//!
//! The forwarding goes through windows-core's `#[implement]` objects, which
//! Miri cannot check (its Stacked Borrows model rejects their
//! QueryInterface), so this example and the `store_object` tests skip Miri;
//! the mapisync object it forwards to is the one every raw-vtable test
//! (under Miri) drives.

use std::panic::{AssertUnwindSafe, catch_unwind};

use windows_core::{ComObjectInterface, HRESULT, IUnknownImpl, Interface};

use crate::abi::{IMAPISync, IMAPISync_Impl, MAPISIB};
use crate::hresult::E_UNEXPECTED;
use crate::protocol::refuse_start;
use crate::unwind::forget_payload;

/// A windows-core `#[implement]` object that lists [`IMAPISync`] and runs
/// its syncs on a mapisync object it holds. See the [module docs](self).
pub trait ForwardSync {
    /// The object `SynchronizeInBackground` forwards to: a mapisync
    /// provider made with `.into()` (or any IMAPISync), kept by the store.
    ///
    /// A panic here (a store asked to sync before its logon, say) is caught
    /// at the COM boundary: the host gets E_UNEXPECTED with
    /// `*phSyncDoneEvent` NULL, and nothing is started.
    fn sync(&self) -> &IMAPISync;
}

/// `#[implement(mapisync::IMAPISync)]` on a [`ForwardSync`] type: slot 3
/// forwards to [`ForwardSync::sync`].
impl<Identity> IMAPISync_Impl for Identity
where
    Identity: IUnknownImpl + ComObjectInterface<IMAPISync>,
    Identity::Impl: ForwardSync,
{
    /// Slot 3 of the store: the target's slot 3.
    ///
    /// # Safety
    /// COM: the host holds a reference to the store for the call; `psibpb` as the
    /// contract says (null, or a `MAPISIB` readable for its `ulSize` bytes).
    unsafe fn SynchronizeInBackground(&self, psibpb: *const MAPISIB) -> HRESULT {
        let store = self.get_impl();
        // `sync` is the store author's code, called from the host's COM call:
        // its panic must not unwind into windows-core's `extern "system"` shim
        // (which would abort the host process).
        let sync = match catch_unwind(AssertUnwindSafe(|| store.sync())) {
            Ok(sync) => sync,
            Err(payload) => {
                forget_payload(payload);
                // SAFETY: MAPISIB: the host's `psibpb`, valid as this method's contract says.
                return unsafe { refuse_start(psibpb, E_UNEXPECTED) };
            }
        };
        // The sync is recorded under the store's IMAPISync too, so that
        // `lifecycle::cancel(store)` and a scope that adopted the store find it.
        let forwarder = self.as_interface::<IMAPISync>().as_raw();
        // SAFETY: COM: `sync` is counted by the store, which the host holds
        // for the whole call; `psibpb` is the host's, valid as its caller
        // vouches (this method's contract, the same as the target's).
        crate::workers::forwarding_from(forwarder, || unsafe { sync.SynchronizeInBackground(psibpb) })
    }
}

#[cfg(all(test, not(miri)))]
mod tests {
    //! windows-core's `#[implement]` objects stop Miri (see the module docs).

    use core::ffi::c_void;

    use windows_core::{ComObject, IUnknown, Interface, implement};

    use super::ForwardSync;
    use crate::abi::{HANDLE, IMAPISync, MAPISIB};
    use crate::hresult::E_UNEXPECTED;

    /// A store whose `sync()` panics: the store is not open yet.
    #[implement(mapisync::IMAPISync)]
    struct NotOpen {}

    impl ForwardSync for NotOpen {
        fn sync(&self) -> &IMAPISync {
            panic!("store not open")
        }
    }

    #[test]
    fn a_panic_in_sync_is_e_unexpected_with_a_null_event() {
        let store: IUnknown = ComObject::new(NotOpen {}).into_interface();
        let sync: IMAPISync = store.cast().unwrap();
        let mut handle: HANDLE = 0x5EAF_usize as *mut c_void;
        let sib = MAPISIB {
            ulSize: MAPISIB::SIZE,
            ulFlags: 0,
            psesSync: core::ptr::null_mut(),
            punkCallBack: core::ptr::null_mut(),
            phSyncDoneEvent: &mut handle,
        };
        // SAFETY: test: a complete MAPISIB with a writable out-pointer; `sync` is counted.
        let hr = unsafe { sync.SynchronizeInBackground(&sib) };
        assert_eq!(hr, E_UNEXPECTED);
        assert!(handle.is_null(), "*phSyncDoneEvent is NULL on failure");
        drop(sync);
        // SAFETY: test: `store` is live; AddRef then Release reads its count.
        let count = unsafe { (store.vtable().AddRef)(store.as_raw()) - 1 };
        // SAFETY: test: gives back the reference just taken.
        unsafe { (store.vtable().Release)(store.as_raw()) };
        assert_eq!(count, 1, "the failed call kept no reference to the store");
    }
}

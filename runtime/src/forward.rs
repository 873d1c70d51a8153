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
//! The worker of a running sync holds the mapisync object, not the store:
//! the host may release the store before `Done`, and the sync runs to its
//! end. A store that must live until `Done` aggregates the mapisync object
//! instead ([`aggregate::create_inner`](crate::aggregate::create_inner)).
//!
//! The store depends on `windows-core = "0.62"` itself: `#[implement]`
//! expands to `::windows_core` paths (see [`crate::windows_core`]).
//!
//! The forwarding goes through windows-core's `#[implement]` objects, which
//! Miri cannot check (its Stacked Borrows model rejects their
//! QueryInterface), so this example and the `store_object` tests skip Miri;
//! the mapisync object it forwards to is the one every raw-vtable test
//! (under Miri) drives.

use windows_core::{ComObjectInterface, HRESULT, IUnknownImpl, Interface};

use crate::abi::{IMAPISync, IMAPISync_Impl, MAPISIB};

/// A windows-core `#[implement]` object that lists [`IMAPISync`] and runs
/// its syncs on a mapisync object it holds. See the [module docs](self).
pub trait ForwardSync {
    /// The object `SynchronizeInBackground` forwards to: a mapisync
    /// provider made with `.into()` (or any IMAPISync), kept by the store.
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
        let sync = self.get_impl().sync();
        // The sync is recorded under the store's IMAPISync too, so that
        // `lifecycle::cancel(store)` and a scope that adopted the store find it.
        let store = self.as_interface::<IMAPISync>().as_raw();
        // SAFETY: COM: `sync` is counted by the store, which the host holds
        // for the whole call; `psibpb` is the host's, valid as its caller
        // vouches (this method's contract, the same as the target's).
        crate::workers::forwarding_from(store, || unsafe { sync.SynchronizeInBackground(psibpb) })
    }
}

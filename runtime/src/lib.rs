//! Implement the Outlook MAPI interface `IMAPISync` in plain Rust.
//!
//! A message store provider writes one trait method; `#[mapisync::provider]`
//! turns the impl into a complete COM object: the IMAPISync vtable,
//! QueryInterface, AddRef, Release, safe unpacking of `MAPISIB`, and the
//! background-sync protocol (done event, worker thread, progress callbacks).
//!
//! ```
//! struct MyStore;
//!
//! #[mapisync::provider]
//! impl mapisync::MapiSync for MyStore {
//!     fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
//!         job.progress("Downloading headers", 1, 3)?;
//!         job.progress("Downloading bodies", 2, 3)?;
//!         job.progress("Uploading changes", 3, 3)?;
//!         Ok(())
//!     }
//! }
//!
//! let sync: mapisync::IMAPISync = MyStore.into(); // a live COM object, count 1
//! let report = mapisync::host::Host::new().run(&sync).unwrap();
//! assert_eq!(report.done, Some(mapisync::S_OK));
//! assert_eq!(report.progress().count(), 3);
//! ```
//!
//! Layers, lowest first; each module uses only the ones before it:
//! 1. the raw ABI: [`abi`] (IIDs, `MAPISIB`, the vtables and interface
//!    types), `hresult` (the HRESULT constants, at the crate root), `flags`
//!    ([`SyncFlags`]), `atomic` (the atomics and locks, swapped for loom's in
//!    its models);
//! 2. failures: `error` ([`Error`], [`Result`]) and `unwind` (panics kept
//!    from crossing a COM boundary);
//! 3. the COM object: `state` (the busy flag in its header and a sync's
//!    cancel word, with their orderings) and `object` (header, reference
//!    count, QueryInterface);
//! 4. the done [`event`], and `workers` (the module's registry of syncs:
//!    admission, cancel words, worker threads reaped once they have exited);
//! 5. the sync protocol: `job` ([`SyncJob`], what the provider sees) and
//!    `protocol` ([`MapiSync`], slot 3, the worker);
//! 6. other object shapes: [`aggregate`] (aggregation and tear-offs) and
//!    [`forward`] (a windows-rs `#[implement]` store listing IMAPISync);
//! 7. [`lifecycle`]: cancel, drain and shut down the module's syncs;
//! 8. the in-proc [`server`] (class factory, registration, DLL exports);
//! 9. tools for tests (feature `host`): the [`host`] simulator, which drives
//!    any IMAPISync object as Outlook would, and the COM [`conformance`]
//!    checker; `loom_models` (the loom models, in loom test builds only).

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

// Lets the crate's own tests use `#[mapisync::provider]`, whose expansion names `::mapisync`.
extern crate self as mapisync;

pub mod abi;
pub mod aggregate;
mod atomic;
#[cfg(any(test, feature = "host"))]
#[cfg_attr(docsrs, doc(cfg(feature = "host")))]
pub mod conformance;
mod error;
pub mod event;
mod flags;
pub mod forward;
#[cfg(any(test, feature = "host"))]
#[cfg_attr(docsrs, doc(cfg(feature = "host")))]
pub mod host;
mod hresult;
mod job;
pub mod lifecycle;
#[cfg(all(test, loom))]
mod loom_models;
mod object;
mod protocol;
pub mod server;
mod state;
mod unwind;
mod workers;

pub use abi::{IMAPISync, IMAPISyncProgressCallback, MAPISIB};
pub use error::{Error, Result};
pub use flags::SyncFlags;
pub use forward::ForwardSync;
pub use hresult::*;
pub use job::SyncJob;
pub use lifecycle::CancelToken;
pub use mapisync_macros::provider;
pub use protocol::{MapiSync, provider_of};
pub use windows_core::{GUID, HRESULT, IUnknown, Interface};

/// The windows-core this crate is built on (0.62), for naming its types
/// without a dependency of your own (`mapisync::windows_core::GUID`).
///
/// A crate that uses windows-core's macros (`#[implement]`, `#[interface]`)
/// depends on it itself, since they expand to `::windows_core` paths, and
/// that dependency must be the same major version: `windows-core = "0.62"`. `cargo add windows-core` picks the newest release
/// (0.100 today), whose types are distinct from 0.62's even where they look
/// the same: mixing them fails with E0599 "multiple different versions of
/// crate `windows_core` in the dependency graph".
///
/// ```
/// use mapisync::windows_core::{HRESULT, Interface};
///
/// // The same HRESULT and IUnknown types mapisync's API uses.
/// let code: HRESULT = mapisync::MAPI_E_USER_CANCEL;
/// assert_eq!(code, HRESULT(0x8004_0113_u32 as i32));
/// assert_eq!(mapisync::windows_core::IUnknown::IID, mapisync::abi::IID_IUnknown);
/// ```
pub use windows_core;

/// What `#[mapisync::provider]` expands to refers to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::abi::IMAPISync_Vtbl;
    pub use crate::protocol::{Provider, into_interface, vtable};
}

/// Compiles the README's Rust examples as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

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
//! Layers, lowest first: [`abi`] (the raw types), the COM object, the sync
//! protocol ([`MapiSync`], [`SyncJob`]), the done [`event`], and the [`host`]
//! simulator that drives any IMAPISync object as Outlook would.

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

// Lets the crate's own tests use `#[mapisync::provider]`, whose expansion names `::mapisync`.
extern crate self as mapisync;

pub mod abi;
pub mod aggregate;
mod atomic;
mod conformance;
pub mod event;
mod flags;
pub mod host;
mod hresult;
pub mod lifecycle;
#[cfg(all(test, loom))]
mod loom_models;
mod object;
mod protocol;
pub mod server;
mod state;

pub use abi::{IMAPISync, IMAPISyncProgressCallback, MAPISIB};
pub use flags::SyncFlags;
pub use hresult::*;
pub use lifecycle::CancelToken;
pub use mapisync_macros::provider;
pub use protocol::{MapiSync, SyncJob, provider_of};
pub use windows_core::{Error, HRESULT, IUnknown, Interface};

/// `windows_core::Result`: an `Err` carries the HRESULT that reaches `Done`.
pub type Result<T> = windows_core::Result<T>;

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

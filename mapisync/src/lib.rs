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
//! This crate is the one to depend on. It re-exports two crates: the
//! runtime ([`mapisync-runtime`](https://docs.rs/mapisync-runtime): the COM
//! object, the protocol, the server, the host simulator) and the attribute
//! ([`mapisync-macros`](https://docs.rs/mapisync-macros)). Everything is
//! reached as `mapisync::...`; the split only lets cargo compile the
//! attribute and the runtime at the same time.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub use mapisync_macros::provider;
pub use mapisync_runtime::*;

/// Compiles the README's Rust examples as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

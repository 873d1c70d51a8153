//! Implement the Outlook MAPI interface `IMAPISync` in plain Rust.
//!
//! Outlook starts a Send/Receive by asking a message store for IMAPISync
//! and calling `SynchronizeInBackground`. A store provider built with
//! mapisync writes one trait method, [`MapiSync::synchronize_in_background`];
//! [`#[mapisync::provider]`](provider) on the impl makes the type a complete
//! COM object: the IMAPISync vtable, QueryInterface, AddRef, Release, safe
//! unpacking of [`MAPISIB`], and the background sync (done event, worker
//! thread, progress callbacks).
//!
//! ```
//! struct MyStore;
//!
//! #[mapisync::provider]
//! impl mapisync::MapiSync for MyStore {
//!     fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
//!         job.progress("Downloading headers", 1, 3)?; // `?` stops when the user cancels
//!         job.progress("Downloading bodies", 2, 3)?;
//!         job.progress("Uploading changes", 3, 3)?;
//!         Ok(())
//!     }
//! }
//!
//! let sync: mapisync::IMAPISync = MyStore.into(); // a live COM object, count 1
//! // With the `host` feature (a dev-dependency): drive it as Outlook would.
//! let report = mapisync::host::Host::new().run(&sync)?;
//! assert_eq!(report.done, Some(mapisync::S_OK));
//! assert_eq!(report.progress().count(), 3);
//! # Ok::<(), mapisync::Error>(())
//! ```
//!
//! # What to read first
//!
//! 1. [`MapiSync`], the method you write, and [`SyncJob`], what a sync
//!    gives it: [`progress`](SyncJob::progress), [`error`](SyncJob::error),
//!    [`flags`](SyncJob::flags) ([`SyncFlags`]), [`session`](SyncJob::session)
//!    and cancellation ([`is_cancelled`](SyncJob::is_cancelled),
//!    [`CancelToken`]).
//! 2. [`provider`], the attribute: what it accepts, and the errors it gives
//!    at your tokens for what it cannot accept.
//! 3. [`Error`] and [`Result`]: an error with a message reaches Outlook's
//!    Send/Receive dialog through `Error(hr, text)`, then `Done(event, hr)`;
//!    a panic becomes [`E_UNEXPECTED`] and the host lives on.
//! 4. Building the DLL: [`export_server!`] exports the in-proc server entry
//!    points for hosts that create the class with COM activation. A store
//!    provider that MAPI loads (through MAPISVC.INF and `MSProviderInit`)
//!    puts IMAPISync on its store object with [`aggregate::create_inner`],
//!    and calls [`lifecycle`] from `StoreLogoff` and `IMSProvider::Shutdown`,
//!    so that no sync thread outlives the DLL.
//! 5. Testing: see [Features](#features).
//!
//! # What a host sees
//!
//! `SynchronizeInBackground` checks the `MAPISIB`, writes the done event to
//! `*phSyncDoneEvent` and returns `S_OK` at once; bad input gets a documented
//! HRESULT and starts nothing. Then, from the sync's worker thread: the
//! `Progress` and `Error` calls, the done event signalled, `Done(event, hr)`,
//! and, after `Done` has returned, the worker's release of the callback, the
//! session and the object, each exactly once. The host owns the event
//! ([`event`] has the details for each platform).
//!
//! # C and C++
//!
//! The package ships `include/imapisync.h`, the C and C++ declarations of
//! IMAPISync, `MAPISIB`, IMAPISyncProgressCallback, their IIDs, the
//! `SYNC_*` bits and these HRESULTs, for a C++ store that aggregates the Rust
//! object or a host that drives it. The contract the crate implements,
//! with the decisions where Microsoft's pages are silent, is
//! [docs/contract.md](https://github.com/mapisync/mapisync/blob/main/docs/contract.md).
//!
//! # Everything else
//!
//! [`abi`] has the raw types (IIDs, `MAPISIB`, the vtables); [`event`] the
//! done event; [`forward`] lets a windows-rs `#[implement]` store list
//! IMAPISync; [`server`] has what [`export_server!`] builds on (the class
//! factory, registration); the HRESULT constants (`S_OK`, `MAPI_E_BUSY`,
//! ...) are at the crate root; [`windows_core`] is the windows-core this
//! crate speaks (0.62).
// The `host` module exists with its feature only: without it, the links go to docs.rs.
#![cfg_attr(
    feature = "host",
    doc = "\n# Features\n\n- `host` (off by default), for tests, examples and tools; leave it out of \
           the provider DLL's own dependency: [`host::Host`] drives any IMAPISync object as Outlook \
           does and reports what it saw; [`host::check_conformance`] checks COM's QueryInterface \
           and reference-count rules."
)]
#![cfg_attr(
    not(feature = "host"),
    doc = "\n# Features\n\n- `host` (off by default), for tests, examples and tools; leave it out of \
           the provider DLL's own dependency: \
           [`host::Host`](https://docs.rs/mapisync/latest/mapisync/host/struct.Host.html) drives any \
           IMAPISync object as Outlook does and reports what it saw; \
           [`host::check_conformance`](https://docs.rs/mapisync/latest/mapisync/host/fn.check_conformance.html) \
           checks COM's QueryInterface and reference-count rules."
)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

// The runtime is a crate of its own so that it compiles beside the
// proc-macro crate, not after it; everything users name is here, at the
// paths the attribute's expansion and the docs use (`::mapisync::...`).
#[doc(inline)]
pub use mapisync_runtime::*;

/// Put it on `impl mapisync::MapiSync for YourType` to make the type a
/// provider: a COM object with IMAPISync's vtable, made with `.into()`.
///
/// ```
/// struct Inbox;
///
/// #[mapisync::provider]
/// impl mapisync::MapiSync for Inbox {
///     fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
///         job.progress("Checking the inbox", 1, 1)
///     }
/// }
///
/// let sync: mapisync::IMAPISync = Inbox.into(); // one reference, released on drop
/// assert!(mapisync::provider_of::<Inbox>(&sync).is_some());
/// ```
///
/// The method is [`MapiSync::synchronize_in_background`]; what a sync
/// offers it is [`SyncJob`]. A DLL exports the type with
/// [`export_server!`]; a store object aggregates it with
/// [`aggregate::create_inner`]. What the attribute accepts and rejects:
#[doc(inline)]
pub use mapisync_macros::provider;

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

/// Compiles the README's Rust examples as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

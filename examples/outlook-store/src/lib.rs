//! An example MAPI message store provider on Microsoft's own MAPI bindings
//! ([`outlook-mapi-sys`](https://crates.io/crates/outlook-mapi-sys)), loaded
//! the way Outlook loads one, whose store answers `IMAPISync` with a
//! mapisync provider.
//!
//! MAPI reads the provider's sections in MAPISVC.INF, loads the DLL
//! (`mapisync_outlook_store32.dll`: MAPI inserts "32" before the first
//! period of the name in MAPISVC.INF), calls `MSProviderInit`, then
//! `IMSProvider::Logon`, which returns an `IMSLogon` and an `IMsgStore`.
//! Outlook asks that store for IMAPISync with QueryInterface, and starts a
//! Send/Receive with `SynchronizeInBackground`. At the end MAPI calls
//! `StoreLogoff` / `IMSLogon::Logoff` (each cancels the store's sync, on
//! any thread), then `IMSProvider::Shutdown` (cancels and waits for the
//! syncs of that provider instance's stores, leaving any other instance
//! of the DLL alone), then FreeLibrary. On Outlook's fast shutdown MAPI
//! instead asks the IMSProvider for `IMAPIProviderShutdown`, calls
//! `QueryFastShutdown`, `NotifyProcessShutdown` and `DoFastShutdown`
//! (the running syncs see the cancel and persist their state), and the
//! process exits.
//!
//! **Windows only.** The provider (every MAPI object and export) is built
//! for Windows targets only: outlook-mapi-sys and the `windows` crate are
//! Windows dependencies. On other targets the crate holds just the
//! MAPISVC.INF text transform ([`mapisvc`]) and the file rewrite of
//! [`install`], so their tests run everywhere.
//!
//! Files, one job each: `spi` (what Microsoft's bindings declare
//! differently from what MAPI does, and the example's answer to each),
//! `provider` (MSProviderInit and `#[implement(IMSProvider)]`), `logon`
//! (`#[implement(IMSLogon)]`), `store` (`#[implement(IMsgStore,
//! mapisync::IMAPISync)]`, with `mapisync::ForwardSync`), `unsupported`
//! (the answer of the logon's and the store's unsupported methods), `sync` (what a
//! sync does, and the session as an `IMAPISession`), `module` (every call
//! into `mapisync::lifecycle`: a `Scope` per provider instance, a
//! `SyncHandle` per store), [`mapisvc`] and [`install`] (MAPISVC.INF),
//! [`diagnostics`] (where errors and panics go inside OUTLOOK.EXE, and the
//! guard every `#[implement]` method runs its body in).
//!
//! Exports: `MSProviderInit`, `MergeWithMAPISVC(W)`, `RemoveFromMAPISVC(W)`.

#![deny(unsafe_op_in_unsafe_fn)]
// Parameters keep the names of the MAPI reference (lpulFlags, ulMAPIVer...).
#![allow(non_snake_case)]

pub mod diagnostics;
pub mod install;
pub mod mapisvc;

#[cfg(windows)]
mod logon;
#[cfg(windows)]
mod module;
#[cfg(windows)]
pub mod provider;
#[cfg(windows)]
pub mod spi;
#[cfg(windows)]
mod store;
#[cfg(windows)]
pub mod sync;
#[cfg(windows)]
mod unsupported;

#[cfg(windows)]
pub use install::{MergeWithMAPISVC, MergeWithMAPISVCW, RemoveFromMAPISVC, RemoveFromMAPISVCW};
#[cfg(windows)]
pub use provider::MSProviderInit;

//! An example MAPI message store provider, loaded the way Outlook loads
//! one, whose store answers `IMAPISync` with a mapisync provider.
//!
//! MAPI reads the provider's sections in MAPISVC.INF, loads the DLL
//! (`mapisync_outlook_store32.dll`: MAPI inserts "32" before the first
//! period of the name in MAPISVC.INF), calls [`MSProviderInit`], then
//! `IMSProvider::Logon`, which returns an `IMSLogon` and an `IMsgStore`.
//! Outlook asks that store for IMAPISync with QueryInterface, and starts a
//! Send/Receive with `SynchronizeInBackground`. At the end MAPI calls
//! `StoreLogoff` / `IMSLogon::Logoff` (each cancels the store's sync),
//! then `IMSProvider::Shutdown` (cancels and waits for every sync of the
//! DLL), then FreeLibrary.
//!
//! Files, one job each: [`mapi_abi`] (the MAPI declarations), `com` (the
//! objects' reference counting), [`provider`] (MSProviderInit and
//! IMSProvider), `logon` (IMSLogon), `store` (IMsgStore and its
//! aggregated IMAPISync), [`sync`] (what a sync does), `module` (what
//! the last Shutdown does), [`mapisvc`] and [`install`] (MAPISVC.INF),
//! [`diagnostics`] (where errors and panics go inside OUTLOOK.EXE).
//!
//! Exports: `MSProviderInit`, `MergeWithMAPISVC`, `RemoveFromMAPISVC`.

#![deny(unsafe_op_in_unsafe_fn)]
// Parameters keep the names of the MAPI reference (lpulFlags, ulMAPIVer...).
#![allow(non_snake_case)]

mod com;
pub mod diagnostics;
pub mod install;
mod logon;
pub mod mapi_abi;
pub mod mapisvc;
mod module;
pub mod provider;
mod store;
pub mod sync;

pub use install::{MergeWithMAPISVC, RemoveFromMAPISVC};
pub use provider::MSProviderInit;

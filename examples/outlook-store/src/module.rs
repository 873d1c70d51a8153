//! Every call the example makes into `mapisync::lifecycle`, in one place.
//!
//! Each provider instance (one `IMSProvider` per `MSProviderInit`; a
//! process may hold several of one DLL: two profiles, an add-in's own
//! `MAPILogonEx`, the spooler) keeps a [`Scope`]; each store adopts its
//! sync object into its provider's scope and keeps the [`SyncHandle`]:
//!
//! | MAPI calls | the example calls |
//! |---|---|
//! | `MSProviderInit` | [`Scope::open`], kept in the IMSProvider |
//! | `IMSProvider::Logon` | [`Scope::adopt`], the handle kept in the store |
//! | `StoreLogoff`, `IMSLogon::Logoff` (any thread) | [`SyncHandle::cancel`] |
//! | `IMSProvider::Shutdown` | [`Scope::shutdown`] ([`shutdown`]) |
//! | `QueryFastShutdown`, `NotifyProcessShutdown`, `DoFastShutdown` | `mapisync::lifecycle::FastShutdown` on the IMSProvider |
//!
//! No counter of live providers: one instance's Shutdown refuses, cancels
//! and drains that instance's syncs only, and an `MSProviderInit` racing
//! it opens a scope of its own.

use std::time::Duration;

use mapisync::lifecycle::{Scope, SyncHandle};

use crate::diagnostics::log;

/// How long `IMSProvider::Shutdown` waits for the instance's syncs to end.
pub(crate) const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// `IMSProvider::Shutdown`: refuses new syncs of this instance's stores,
/// cancels the running ones and waits until each worker thread has exited.
/// Should some still run at the timeout, mapisync keeps its load reference
/// on the DLL until they are reaped, so MAPI's FreeLibrary leaves their code
/// in place instead of crashing the process; the count goes to the debugger
/// output. Other provider instances are untouched.
pub(crate) fn shutdown(scope: &Scope) {
    if let Err(running) = scope.shutdown(SHUTDOWN_TIMEOUT) {
        log(&format!("Shutdown: {running} sync worker(s) still running after {SHUTDOWN_TIMEOUT:?}"));
    }
}

/// StoreLogoff / Logoff, on whatever thread MAPI calls them: cancels the
/// store's running sync, if any, and no other.
pub(crate) fn cancel_store_sync(handle: &SyncHandle) {
    handle.cancel();
}

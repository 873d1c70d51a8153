//! Cancelling syncs, waiting for their worker threads to *exit*, and
//! refusing new ones: what a provider's `IMSProvider::Shutdown`, fast
//! shutdown (`IMAPIProviderShutdown`) and `IMsgStore::StoreLogoff` /
//! `IMSLogon::Logoff` call.
//!
//! MAPI does not unload a store provider the COM way: it calls
//! `IMSProvider::Shutdown` after the last logon is gone and `FreeLibrary`s
//! the DLL once MAPI is uninitialized, without asking `DllCanUnloadNow`; on
//! a fast shutdown it calls `DoFastShutdown` and the process exits. A
//! worker thread still running the DLL's code then crashes Outlook.
//!
//! One DLL may serve several provider instances at once (one `IMSProvider`
//! per `MSProviderInit`), so each instance keeps a [`Scope`]: the syncs of
//! the objects it [adopted](Scope::adopt) are its own to refuse, cancel and
//! drain, and its shutdown leaves other instances alone.
//!
//! ```no_run
//! use std::time::Duration;
//! use mapisync::lifecycle::{Scope, SyncHandle};
//!
//! # fn provider(sync: &mapisync::IMAPISync) {
//! let scope = Scope::open(); // MSProviderInit: kept in the IMSProvider
//! let handle: SyncHandle = scope.adopt(sync); // IMSProvider::Logon: kept in the store
//! // IMsgStore::StoreLogoff / IMSLogon::Logoff, on any thread: stop this store's sync.
//! handle.cancel();
//! // IMSProvider::Shutdown: refuse this instance's new syncs, cancel its
//! // running ones, and wait (at most 5 s) until their threads have exited.
//! if let Err(still_running) = scope.shutdown(Duration::from_secs(5)) {
//!     eprintln!("{still_running} sync threads ignored the cancel");
//! }
//! // Fast shutdown: see FastShutdown (NotifyProcessShutdown, DoFastShutdown).
//! # }
//! ```
//!
//! A DLL that makes one provider instance at a time may use the
//! module-wide functions instead: [`cancel`], [`shutdown`], [`reopen`].
//!
//! # On a worker thread
//! The provider's code, and the host's `Done`, `Progress` and `Error`, run
//! on the sync's worker thread, and MAPI may release its last reference
//! (and so call `IMSProvider::Shutdown`) there. A [`drain`] or shutdown
//! called there never waits for the calling thread: its own sync counts as
//! exiting, at once, on every platform and for every timeout, and so does a
//! worker that is itself inside a drain. The worker is reaped, and the
//! module's load reference given back, by the next call into the DLL from
//! another thread (the next sync, `DllCanUnloadNow`, a drain).
//!
//! # What cancelling does
//! Inside the provider, [`SyncJob::is_cancelled`](crate::SyncJob::is_cancelled)
//! turns true, and [`progress`](crate::SyncJob::progress) and
//! [`error`](crate::SyncJob::error) return `Err(MAPI_E_USER_CANCEL)` without
//! calling the host, so a provider that uses `?` stops at its next report.
//! Code that reports nothing (a download) checks a
//! [`CancelToken`] from [`SyncJob::cancel_token`](crate::SyncJob::cancel_token),
//! or blocks in [`CancelToken::wait_cancelled`], which a cancel wakes at once.
//! The sync still ends with exactly one `Done(event, hr)`: `hr` is
//! `MAPI_E_USER_CANCEL`, unless the provider returned another error.
//!
//! # The worker thread
//! Each sync runs on a new thread (named `mapisync-sync`) that
//! `SynchronizeInBackground` starts and that exits after `Done` and after
//! releasing every reference it held; threads are not reused, so nothing of
//! one sync (thread-locals included) survives into the next except what the
//! provider keeps in its object or in statics. The runtime joins no COM
//! apartment on it. A provider that uses the session (`job.session()`) as a
//! MAPI client initializes MAPI on this thread first and undoes it before
//! returning: `CoInitializeEx(NULL, COINIT_MULTITHREADED)`, then
//! `MAPIInitialize` with `MAPI_NO_COINIT` (COM is initialized already, in
//! the free-threaded model MAPI uses), and at the end `MAPIUninitialize`,
//! `CoUninitialize`.
//!
//! # What "exited" means
//! [`drain`] and `DllCanUnloadNow` wait for each worker thread to
//! *terminate*, thread-local destructors (the provider's too) and std's
//! thread teardown included; releasing the last reference is not enough.
//! On Windows the test is the thread's handle (signalled only once the
//! thread terminated); on Linux a join (`pthread_tryjoin_np`,
//! `pthread_timedjoin_np`). While any worker thread has not been reaped, the
//! module holds a load reference on itself (`GetModuleHandleExW` /
//! `dlopen(RTLD_NOLOAD)`), given back by the call that reaps the last one
//! (the next sync, `DllCanUnloadNow`, `drain`): a host that unloads without
//! asking leaves the DLL loaded instead of crashing. (The registry behind
//! these functions is the crate's `workers` module.)
//!
//! Two other designs were set aside. `FreeLibraryAndExitThread` at the end
//! of the worker would end a std thread without std's teardown and, when it
//! drops the last load reference, without the DLL's thread-local
//! destructors (they run in the DLL's TLS callback, gone by then). The
//! system thread pool (`FreeLibraryWhenCallbackReturns` with a cleanup group)
//! reuses its threads, so a provider's thread-locals would outlive the sync
//! and be destroyed after the DLL is gone; it exists on Windows only. The
//! reaping costs about 500 instructions a sync (the next start joins the
//! previous worker's thread; see BENCHMARKS.md).

use std::time::Duration;

use crate::abi::IMAPISync;
pub use crate::workers::CancelToken;
use crate::workers::{self, registry::Which};

mod fast;
mod scope;

pub use fast::FastShutdown;
pub use scope::{Scope, SyncHandle};

/// Cancels the running sync of this object, if any (for `StoreLogoff` and
/// `IMSLogon::Logoff`). Works for a plain provider, an aggregated inner
/// object's IMAPISync, a [tear-off](crate::aggregate::tear_off) and a
/// [`ForwardSync`](crate::ForwardSync) store (the store's own IMAPISync or
/// the object it forwards to, `store.sync()`). Returns whether a sync was
/// running and is now cancelled. From a thread that cannot hold the
/// `!Send` IMAPISync, use a [`SyncHandle`].
///
/// ```
/// # struct Store;
/// # #[mapisync::provider]
/// # impl mapisync::MapiSync for Store {
/// #     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
/// # }
/// let sync: mapisync::IMAPISync = Store.into();
/// assert!(!mapisync::lifecycle::cancel(&sync), "no sync runs");
/// ```
pub fn cancel(sync: &IMAPISync) -> bool {
    workers::REGISTRY.cancel(crate::aggregate::sync_key(sync))
}

/// Cancels every running sync of this module (DLL); how many were running.
pub fn cancel_all() -> usize {
    workers::REGISTRY.cancel_all(Which::All)
}

/// Waits until every worker thread of this module has exited (not only
/// released its references), at most `timeout`. `Ok(())` when none runs;
/// `Err(n)`: `n` were still running when the time ran out.
///
/// On a worker thread of this module (called by the provider's code, or by
/// the host's `Done`, `Progress` or `Error`, which run on the worker), the
/// calling thread is never waited for: its own sync counts as exiting, and
/// so does any other worker that is itself inside a drain (two workers
/// never wait for each other). It is reaped by a later call (the next
/// sync, `DllCanUnloadNow`, a drain from another thread). The same on
/// every platform, whatever `timeout`, `Duration::MAX` included.
///
/// Nor, on any thread, is the worker of a sync that has a host call in
/// flight on the calling thread through one of its [`SyncJob`](crate::SyncJob)s
/// (a job the provider kept or handed to a thread of its own, whose
/// `Progress` ends in the provider's Shutdown): that worker may wait for
/// the call to return (the provider joining that thread, or the worker
/// closing the sync), so waiting for it could only time out. A drain on a
/// worker or inside such a call skips, in the same way, a sync with a host
/// call in flight on any other thread that is draining now, so that drains
/// never wait for each other in a cycle; a drain on a host's own thread,
/// which nothing waits for, skips none of those. A skipped sync counts as
/// exiting too; its `Done` comes after
/// the call returns, and the DLL stays loaded (its pin on itself) until a
/// call into the DLL after the worker has exited gives the pin back: a
/// host that frees the library right after such a shutdown leaves it
/// loaded, never unloads it under the thread that is still in it.
/// A cycle through another thread (a `Progress` that waits for a UI thread
/// which is itself inside Shutdown) is not seen: it ends with `timeout`.
///
/// ```
/// assert_eq!(mapisync::lifecycle::drain(std::time::Duration::from_secs(1)), Ok(()));
/// ```
pub fn drain(timeout: Duration) -> Result<(), usize> {
    workers::REGISTRY.drain(timeout, Which::All)
}

/// For `IMSProvider::Shutdown` of a DLL with one provider instance (with
/// several, each instance's [`Scope::shutdown`]): refuses new syncs (`SynchronizeInBackground`
/// then answers [`MAPI_E_END_OF_SESSION`](crate::MAPI_E_END_OF_SESSION),
/// starts nothing and leaves `*phSyncDoneEvent` NULL), cancels every running
/// sync, then [`drain`]s for at most `timeout`. Refusing and cancelling are
/// one step: no sync can start in between and escape the cancel. Reaches
/// every [`Scope`].
pub fn shutdown(timeout: Duration) -> Result<(), usize> {
    workers::REGISTRY.close_and_cancel(Which::All);
    workers::REGISTRY.drain(timeout, Which::All)
}

/// Accepts syncs again after [`shutdown`] (`MSProviderInit` called again
/// within the same load of the DLL, in a DLL with one instance; tests). A
/// [`Scope`] that was shut down stays shut down.
pub fn reopen() {
    workers::REGISTRY.reopen();
}

/// Whether [`shutdown`] refuses new syncs now.
pub fn is_shut_down() -> bool {
    workers::REGISTRY.is_closed(Which::All)
}

/// Worker threads of this module that have not exited yet.
pub fn running_workers() -> usize {
    workers::REGISTRY.running(Which::All)
}

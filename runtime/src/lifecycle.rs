//! Cancelling syncs, waiting for their worker threads to *exit*, and
//! refusing new ones: what a provider's `IMSProvider::Shutdown` and
//! `IMsgStore::StoreLogoff` / `IMSLogon::Logoff` call.
//!
//! MAPI does not unload a store provider the COM way: it calls
//! `IMSProvider::Shutdown` after the last logon is gone and `FreeLibrary`s
//! the DLL once MAPI is uninitialized, without asking `DllCanUnloadNow`. A
//! worker thread still running the DLL's code then crashes Outlook, so:
//!
//! ```no_run
//! use std::time::Duration;
//!
//! // IMsgStore::StoreLogoff / IMSLogon::Logoff: stop this store's sync.
//! # fn store_logoff(sync: &mapisync::IMAPISync) {
//! mapisync::lifecycle::cancel(sync);
//! # }
//! // IMSProvider::Shutdown: refuse new syncs, cancel the running ones, and
//! // wait (at most 5 s) until every worker thread has exited.
//! # fn shutdown() {
//! if let Err(still_running) = mapisync::lifecycle::shutdown(Duration::from_secs(5)) {
//!     eprintln!("{still_running} sync threads ignored the cancel");
//! }
//! # }
//! ```
//!
//! # What cancelling does
//! Inside the provider, [`SyncJob::is_cancelled`](crate::SyncJob::is_cancelled)
//! turns true, and [`progress`](crate::SyncJob::progress) and
//! [`error`](crate::SyncJob::error) return `Err(MAPI_E_USER_CANCEL)` without
//! calling the host, so a provider that uses `?` stops at its next report.
//! Code that reports nothing (a download) checks a
//! [`CancelToken`] from [`SyncJob::cancel_token`](crate::SyncJob::cancel_token).
//! The sync still ends with exactly one `Done(event, hr)`: `hr` is
//! `MAPI_E_USER_CANCEL`, unless the provider returned another error.
//!
//! # What "exited" means
//! [`drain`] and `DllCanUnloadNow` wait for each worker thread to
//! *terminate*, thread-local destructors (the provider's too) and std's
//! thread teardown included; releasing the last reference is not enough.
//! On Windows the test is the thread's handle (signalled only once the
//! thread terminated); on Linux a join (`pthread_tryjoin_np`,
//! `pthread_timedjoin_np`). While any worker thread has not been reaped, the
//! module holds a load reference on itself (`GetModuleHandleExW` /
//! `dlopen(RTLD_NOLOAD)`), given back by the reaping call: a host that
//! unloads without asking leaves the DLL loaded instead of crashing.
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

mod pin;
pub(crate) mod registry;
mod thread;

use core::ffi::c_void;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use windows_core::HRESULT;

use crate::abi::IMAPISync;
use crate::state::JobState;
use registry::Registry;
use thread::WorkerThread;

/// This module's (DLL's) syncs.
static REGISTRY: LazyLock<Registry<WorkerThread>> = LazyLock::new(Registry::new);

/// Cancels the running sync of this object, if any (for `StoreLogoff` and
/// `IMSLogon::Logoff`). Works for a plain provider, an aggregated inner
/// object's IMAPISync and a [tear-off](crate::aggregate::tear_off).
/// Returns whether a sync was running and is now cancelled.
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
    REGISTRY.cancel(crate::aggregate::sync_key(sync))
}

/// Cancels every running sync of this module (DLL); how many were running.
pub fn cancel_all() -> usize {
    REGISTRY.cancel_all()
}

/// Waits until every worker thread of this module has exited (not only
/// released its references), at most `timeout`. `Ok(())` when none runs;
/// `Err(n)`: `n` were still running when the time ran out.
///
/// ```
/// assert_eq!(mapisync::lifecycle::drain(std::time::Duration::from_secs(1)), Ok(()));
/// ```
pub fn drain(timeout: Duration) -> Result<(), usize> {
    REGISTRY.drain(timeout)
}

/// For `IMSProvider::Shutdown`: refuses new syncs (`SynchronizeInBackground`
/// then answers [`MAPI_E_END_OF_SESSION`](crate::MAPI_E_END_OF_SESSION),
/// starts nothing and leaves `*phSyncDoneEvent` NULL), cancels every running
/// sync, then [`drain`]s for at most `timeout`. Refusing and cancelling are
/// one step: no sync can start in between and escape the cancel.
pub fn shutdown(timeout: Duration) -> Result<(), usize> {
    REGISTRY.close_and_cancel();
    REGISTRY.drain(timeout)
}

/// Accepts syncs again after [`shutdown`] (`MSProviderInit` called again
/// within the same load of the DLL; tests).
pub fn reopen() {
    REGISTRY.reopen();
}

/// Whether [`shutdown`] refuses new syncs now.
pub fn is_shut_down() -> bool {
    REGISTRY.is_closed()
}

/// Worker threads of this module that have not exited yet.
pub fn running_workers() -> usize {
    REGISTRY.running()
}

/// Admits a sync of the object at `key` and starts `body` on its worker
/// thread; MAPI_E_END_OF_SESSION after [`shutdown`], E_OUTOFMEMORY when no
/// thread could start (then `body` has been dropped).
pub(crate) fn start_worker(
    key: *mut c_void,
    token: &CancelToken,
    body: impl FnOnce() + Send + 'static,
) -> Result<(), HRESULT> {
    REGISTRY.admit(key as usize, &token.0, move || WorkerThread::spawn(body))
}

/// Whether a sync was cancelled, for provider code that reports no progress
/// (a download loop, a network client). Cheap to check and to clone; valid
/// after the sync ended.
///
/// ```
/// let job = mapisync::SyncJob::new(mapisync::SyncFlags::ON_DEMAND);
/// let token = job.cancel_token();
/// let download = std::thread::spawn(move || {
///     while !token.is_cancelled() {
///         std::thread::yield_now(); // fetch the next chunk
///     }
/// });
/// assert!(job.cancel_token().cancel());
/// download.join().unwrap();
/// assert!(job.is_cancelled());
/// ```
#[derive(Clone)]
pub struct CancelToken(pub(crate) Arc<JobState>);

impl CancelToken {
    /// A token for a new sync, not cancelled.
    pub(crate) fn new() -> Self {
        Self(Arc::new(JobState::new()))
    }

    /// Whether the sync was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }

    /// Cancels the sync, as [`cancel`] would; whether it was still running.
    /// (For provider code and tests: a provider can stop its own sync this
    /// way, which then ends with `MAPI_E_USER_CANCEL`.)
    pub fn cancel(&self) -> bool {
        self.0.cancel()
    }
}

impl core::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.0.is_cancelled())
            .field("ended", &self.0.has_ended())
            .finish()
    }
}

//! Every call the example makes into `mapisync::lifecycle`, in one place:
//! how many providers MAPI holds, what the last `IMSProvider::Shutdown`
//! does so that MAPI's FreeLibrary right after it is safe, and how a
//! store's logoff cancels its sync.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mapisync::{IMAPISync, lifecycle};

use crate::diagnostics::log;

/// How long the last Shutdown waits for running syncs to end.
pub(crate) const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Providers made by MSProviderInit and not shut down yet.
static LIVE_PROVIDERS: AtomicUsize = AtomicUsize::new(0);

/// MSProviderInit made a provider. The first one after a shutdown lets
/// syncs start again (MAPI may call MSProviderInit again without unloading).
pub(crate) fn provider_started() {
    if LIVE_PROVIDERS.fetch_add(1, Ordering::AcqRel) == 0 {
        lifecycle::reopen();
    }
}

/// A provider was shut down (or released without Shutdown). The last one
/// refuses new syncs, cancels every running sync of the DLL and waits
/// until each worker thread has exited. Should some still run at the
/// timeout, mapisync keeps its load reference on the DLL until they are
/// reaped, so MAPI's FreeLibrary leaves their code in place instead of
/// crashing the process; the count goes to the debugger output.
pub(crate) fn provider_stopped() {
    if LIVE_PROVIDERS.fetch_sub(1, Ordering::AcqRel) != 1 {
        return;
    }
    if let Err(running) = lifecycle::shutdown(SHUTDOWN_TIMEOUT) {
        log(&format!("Shutdown: {running} sync worker(s) still running after {SHUTDOWN_TIMEOUT:?}"));
    }
}

/// StoreLogoff / Logoff: cancels the sync `sync` runs, if any (the object
/// the store's `ForwardSync::sync` returns).
pub(crate) fn cancel_store_sync(sync: &IMAPISync) {
    lifecycle::cancel(sync);
}

//! The DLL as a whole: how many providers MAPI holds, and what the last
//! `IMSProvider::Shutdown` does so that MAPI's FreeLibrary right after it
//! is safe.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::diagnostics::log;
use crate::lifecycle;

/// How long the last Shutdown waits for running syncs to end.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Providers made by MSProviderInit and not shut down yet.
static LIVE_PROVIDERS: AtomicUsize = AtomicUsize::new(0);

/// MSProviderInit made a provider. The first one after a shutdown lets
/// syncs start again (MAPI may call MSProviderInit again without unloading).
pub fn provider_started() {
    if LIVE_PROVIDERS.fetch_add(1, Ordering::AcqRel) == 0 {
        lifecycle::reopen();
    }
}

/// A provider was shut down (or released without Shutdown). The last one
/// refuses new syncs, cancels every running sync of the DLL and waits
/// until each worker thread has exited. If some still run at the timeout,
/// the DLL pins itself in memory: FreeLibrary then leaves the code those
/// threads execute in place instead of crashing the process.
pub fn provider_stopped() {
    if LIVE_PROVIDERS.fetch_sub(1, Ordering::AcqRel) != 1 {
        return;
    }
    if let Err(running) = lifecycle::shutdown(SHUTDOWN_TIMEOUT) {
        log(&format!("Shutdown: {running} sync worker(s) still running after {SHUTDOWN_TIMEOUT:?}; pinning the DLL"));
        pin_module();
    }
}

/// Keeps this DLL loaded until the process exits.
#[cfg(windows)]
fn pin_module() {
    use windows_sys::Win32::System::LibraryLoader::{
        GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, GET_MODULE_HANDLE_EX_FLAG_PIN, GetModuleHandleExW,
    };
    let mut module = core::ptr::null_mut();
    let address = pin_module as *const u16;
    // SAFETY: Win32: FROM_ADDRESS takes any address inside this module
    // (this function's); `module` is a valid out-parameter.
    let ok = unsafe {
        GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN, address, &mut module)
    };
    if ok == 0 {
        log("Shutdown: GetModuleHandleExW(PIN) failed; FreeLibrary may unload code still running");
    }
}

/// Elsewhere a shared object is not unloaded under running threads by MAPI.
#[cfg(not(windows))]
fn pin_module() {}

//! What the example's store does when Outlook asks it to synchronize: the
//! one trait method of mapisync, and how it reaches the session as a MAPI
//! type.
//!
//! **The session.** `job.session()` is the `IMAPISession` Outlook passed in
//! `MAPISIB`, as an `IUnknown`; one line gives Microsoft's type:
//!
//! ```text
//! let session: Option<IMAPISession> = job.session().and_then(|s| s.cast::<IMAPISession>().ok());
//! ```
//!
//! (`.map(|s| s.cast::<IMAPISession>()).transpose()?` instead makes a
//! session that is not one end the sync with its E_NOINTERFACE.) The sync
//! runs on mapisync's own worker thread, which has joined no COM apartment
//! and has not initialized MAPI: before calling the session's methods, call
//! `CoInitializeEx(NULL, COINIT_MULTITHREADED)` and `MAPIInitialize` with
//! `MAPI_NO_COINIT` (and `MAPI_MULTITHREAD_NOTIFICATIONS`) on that thread,
//! and undo both before returning. [`MapiClient`] does exactly that, and the
//! sync below holds one while it has a session.

use mapisync::{Interface, MapiSync, SyncJob};
use outlook_mapi_sys::Microsoft::Office::Outlook::MAPI::Win32::{
    IMAPISession, MAPI_INIT_VERSION, MAPI_MULTITHREAD_NOTIFICATIONS, MAPI_NO_COINIT, MAPIINIT, MAPIInitialize,
    MAPIUninitialize,
};
use windows::Win32::System::Com::{COINIT_MULTITHREADED, CoInitializeEx, CoUninitialize};

/// The texts of the sync's steps, in order.
pub const STEPS: [&str; 3] = ["Connecting to the server", "Downloading new messages", "Uploading local changes"];

/// The store's sync: reports each of [`STEPS`] as progress. A cancelled
/// sync (the store logged off, the provider shut down, or the user
/// pressed Cancel) makes the next `progress` fail, and `?` ends it there.
#[derive(Debug, Default)]
pub struct StoreSync;

#[mapisync::provider]
impl MapiSync for StoreSync {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        // The session as Microsoft's type, when the host passed a MAPI session.
        let session: Option<IMAPISession> = job.session().and_then(|s| s.cast::<IMAPISession>().ok());
        // A MAPI client on this thread for as long as the session is used.
        let _client = session.as_ref().map(|_| MapiClient::enter()).transpose()?;
        let max = STEPS.len() as u32;
        for (index, text) in (1..).zip(STEPS) {
            job.progress(text, index, max)?;
        }
        Ok(())
    }
}

/// COM (multithreaded) and MAPI initialized on the current thread, undone
/// when dropped, in that order's reverse: what a sync that calls the
/// session's methods holds on mapisync's worker thread.
#[derive(Debug)]
pub struct MapiClient {
    /// Whether `CoInitializeEx` succeeded, so `CoUninitialize` is owed.
    com: bool,
}

impl MapiClient {
    /// `CoInitializeEx(COINIT_MULTITHREADED)`, then `MAPIInitialize` with
    /// `MAPI_NO_COINIT | MAPI_MULTITHREAD_NOTIFICATIONS`.
    pub fn enter() -> windows_core::Result<Self> {
        // SAFETY: Win32: no reserved pointer; balanced by Drop (when it succeeded).
        let com = unsafe { CoInitializeEx(None, COINIT_MULTITHREADED) }.is_ok();
        let mut init =
            MAPIINIT { ulVersion: MAPI_INIT_VERSION, ulFlags: MAPI_NO_COINIT | MAPI_MULTITHREAD_NOTIFICATIONS };
        // SAFETY: MAPI: `init` is a MAPIINIT alive for the call; balanced by Drop.
        if let Err(error) = unsafe { MAPIInitialize((&raw mut init).cast()) } {
            if com {
                // SAFETY: Win32: balances the successful CoInitializeEx above.
                unsafe { CoUninitialize() };
            }
            return Err(error);
        }
        Ok(Self { com })
    }
}

impl Drop for MapiClient {
    fn drop(&mut self) {
        // SAFETY: MAPI: `enter` returned this value only after MAPIInitialize succeeded.
        unsafe { MAPIUninitialize() };
        if self.com {
            // SAFETY: Win32: balances the successful CoInitializeEx of `enter`.
            unsafe { CoUninitialize() };
        }
    }
}

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
//! and undo both before returning (`MAPIUninitialize`, `CoUninitialize`),
//! on every path out of `synchronize_in_background`. This example's sync
//! only casts and releases the session, so it initializes nothing: under
//! Wine's mapi32, with no MAPI installed, `MAPIInitialize` fails with
//! MAPI_E_NOT_INITIALIZED.
//!
//! **On a cancel** (the store logged off, its provider instance shut down,
//! Outlook's fast shutdown, or the user pressed Cancel), the next
//! `job.progress` fails with MAPI_E_USER_CANCEL. The sync then writes what
//! must not be lost, here how far it got, to its state file ([`state_path`]),
//! and returns at once: on a fast shutdown `DoFastShutdown` waits 2 s for
//! that, and the process exits right after.

use std::path::PathBuf;

use mapisync::{Interface, MapiSync, SyncJob};
use outlook_mapi_sys::Microsoft::Office::Outlook::MAPI::Win32::IMAPISession;

/// The texts of the sync's steps, in order.
pub const STEPS: [&str; 3] = ["Connecting to the server", "Downloading new messages", "Uploading local changes"];

/// The environment variable that names the file the sync writes its
/// state to when cancelled (the MAPI host sets it); unset, that file is
/// `mapisync-outlook-store.state` in the temporary folder.
pub const STATE_VARIABLE: &str = "MAPISYNC_OUTLOOK_STATE";

/// Where a cancelled sync writes its state (see [`STATE_VARIABLE`]).
pub fn state_path() -> PathBuf {
    std::env::var_os(STATE_VARIABLE)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("mapisync-outlook-store.state"))
}

/// The state a sync cancelled after `done` of the [`STEPS`] persists.
pub fn cancelled_state(done: usize) -> String {
    format!("cancelled after {done} of {} steps\r\n", STEPS.len())
}

/// The store's sync: reports each of [`STEPS`] as progress. A cancelled
/// sync (the store logged off, the provider shut down, Outlook's fast
/// shutdown, or the user pressed Cancel) makes the next `progress` fail;
/// the sync then persists how far it got ([`cancelled_state`], in
/// [`state_path`]) and returns the cancel.
#[derive(Debug, Default)]
pub struct StoreSync;

#[mapisync::provider]
impl MapiSync for StoreSync {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        // The session as Microsoft's type, when the host passed a MAPI session.
        let session: Option<IMAPISession> = job.session().and_then(|s| s.cast::<IMAPISession>().ok());
        // A sync that calls `session`'s methods initializes COM and MAPI here first.
        drop(session);
        let max = STEPS.len() as u32;
        for (done, text) in STEPS.into_iter().enumerate() {
            if let Err(error) = job.progress(text, done as u32 + 1, max) {
                if job.is_cancelled() {
                    persist(&cancelled_state(done)); // `done` steps were reported
                }
                return Err(error);
            }
        }
        Ok(())
    }
}

/// Writes the sync's state; a failure goes to the debugger output (the
/// sync ends with its cancel either way).
fn persist(state: &str) {
    let path = state_path();
    if let Err(error) = std::fs::write(&path, state) {
        crate::diagnostics::log(&format!("sync: could not write its state to {}: {error}", path.display()));
    }
}

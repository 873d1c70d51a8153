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

use mapisync::{Interface, MapiSync, SyncJob};
use outlook_mapi_sys::Microsoft::Office::Outlook::MAPI::Win32::IMAPISession;

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
        // A sync that calls `session`'s methods initializes COM and MAPI here first.
        drop(session);
        let max = STEPS.len() as u32;
        for (index, text) in (1..).zip(STEPS) {
            job.progress(text, index, max)?;
        }
        Ok(())
    }
}

//! What the example's store does when Outlook asks it to synchronize: the
//! one trait method of mapisync.

use mapisync::{MapiSync, SyncJob};

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
        let max = STEPS.len() as u32;
        for (index, text) in (1..).zip(STEPS) {
            job.progress(text, index, max)?;
        }
        Ok(())
    }
}

//! The provider whose build time scripts/compile-time.sh measures.

/// A store that reports one step and is done.
pub struct Store;

#[mapisync::provider]
impl mapisync::MapiSync for Store {
    fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
        let steps = 1; // compile-time.sh edits this line
        job.progress("Syncing", steps, steps)
    }
}

/// A new object (non-generic, so the glue is compiled here, not at a caller).
pub fn create() -> mapisync::IMAPISync {
    Store.into()
}

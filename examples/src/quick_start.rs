//! The README's quick start: the smallest provider worth writing.

use mapisync::{MapiSync, SyncJob};

/// A store with nothing to fetch that still reports its three phases.
pub struct MyStore;

#[mapisync::provider]
impl MapiSync for MyStore {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        job.progress("Downloading headers", 1, 3)?;
        job.progress("Downloading bodies", 2, 3)?;
        job.progress("Uploading changes", 3, 3)?;
        Ok(())
    }
}

//! Providers several test files share.

use mapisync::{MapiSync, SyncJob};

use crate::DropCount;

/// Reports three steps with text ("Step 1" to "Step 3"); stops at the first
/// failed callback. Counts its drops (keep a `drops.watch()` to read them).
#[derive(Default)]
pub struct Steps {
    pub drops: DropCount,
}

#[mapisync::provider]
impl MapiSync for Steps {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        for step in 1..=3 {
            job.progress(&format!("Step {step}"), step, 3)?;
        }
        Ok(())
    }
}

//! Providers several test files share.

use std::sync::Arc;

use mapisync::{MapiSync, SyncJob};

use crate::{DropCount, Latch, PATIENCE};

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

/// Opens `started`, then returns Ok once `release` opens (or [`PATIENCE`]
/// passes).
pub struct Gated {
    pub started: Arc<Latch>,
    pub release: Arc<Latch>,
}

#[mapisync::provider]
impl MapiSync for Gated {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        self.started.open();
        self.release.wait(PATIENCE);
        Ok(())
    }
}

/// A new [`Gated`] as IMAPISync, with its `started` and `release` latches.
pub fn gated() -> (mapisync::IMAPISync, Arc<Latch>, Arc<Latch>) {
    let (started, release) = (Arc::new(Latch::default()), Arc::new(Latch::default()));
    (Gated { started: started.clone(), release: release.clone() }.into(), started, release)
}

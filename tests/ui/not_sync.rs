use std::cell::Cell;

use mapisync::{MapiSync, SyncJob};

struct Store {
    count: Cell<u32>,
}

#[mapisync::provider]
impl MapiSync for Store {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        self.count.set(self.count.get() + 1);
        Ok(())
    }
}

fn main() {}

use mapisync::{MapiSync, SyncJob};

struct Store;

#[mapisync::provider]
default impl MapiSync for Store {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

fn main() {}

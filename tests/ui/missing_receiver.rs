use mapisync::{MapiSync, SyncJob};

struct Store;

#[mapisync::provider]
impl MapiSync for Store {
    fn synchronize_in_background(_job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

fn main() {}

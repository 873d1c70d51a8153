use mapisync::{MapiSync, SyncJob};

struct Store;

#[mapisync::provider]
impl MapiSync for Store {
    fn synchronise_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

fn main() {}

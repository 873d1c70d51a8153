use mapisync::{MapiSync, SyncJob};

struct Store;

#[mapisync::provider]
impl MapiSync for Store {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> Result<(), String> {
        Ok(())
    }
}

fn main() {}

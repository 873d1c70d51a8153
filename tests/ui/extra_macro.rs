use mapisync::{MapiSync, SyncJob};

struct Store;

macro_rules! method {
    () => {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
    };
}

#[mapisync::provider]
impl MapiSync for Store {
    method!();
}

fn main() {}

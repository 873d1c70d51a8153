use mapisync::{MapiSync, SyncJob};

struct Store;

#[mapisync::provider(crate = ::mapisync, crate = ::mapisync)]
impl MapiSync for Store {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

fn main() {}

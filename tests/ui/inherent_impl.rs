use mapisync::SyncJob;

struct Store;

#[mapisync::provider]
impl Store {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

fn main() {}

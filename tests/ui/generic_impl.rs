use mapisync::{MapiSync, SyncJob};

struct Store<T>(T);

#[mapisync::provider]
impl<T: Send + Sync + 'static> MapiSync for Store<T> {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

fn main() {}

use mapisync::{MapiSync, SyncJob};

struct Store;

#[mapisync::provider(threads = 4)]
unsafe impl MapiSync for Store {
    async fn synchronize_in_background(&mut self, _job: SyncJob) -> Result<u32, ()> {
        Ok(0)
    }

    fn helper(&self) {}
}

fn main() {}

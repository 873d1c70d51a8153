// Rust 2015 only: a helper named with a later keyword gets the same
// message as any other helper.
struct Store;

#[mapisync::provider]
impl mapisync::MapiSync for Store {
    fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
        job.progress_count(1, 1)
    }

    fn async(&self) {}
}

fn main() {}

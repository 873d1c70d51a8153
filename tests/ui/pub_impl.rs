// `pub impl` is not Rust: rustc reports it itself, at the `pub`, and the
// attribute adds nothing to its message.
use mapisync::{MapiSync, SyncJob};

struct Store;

#[mapisync::provider]
pub impl MapiSync for Store {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

fn main() {}

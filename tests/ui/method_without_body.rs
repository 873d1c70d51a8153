// A method without a body: rustc reports it itself, and the attribute
// adds nothing to its message.
use mapisync::{MapiSync, SyncJob};

struct Store;

#[mapisync::provider]
impl MapiSync for Store {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()>;
}

fn main() {}

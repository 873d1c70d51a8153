// A generic impl whose bounds syn cannot read (`async Fn()`, unstable
// syntax rustc parses and then reports as unstable): one clear error from
// the macro, beside rustc's own.
use mapisync::{MapiSync, SyncJob};

struct Store<T>(T);

#[mapisync::provider]
impl<T: async Fn()> MapiSync for Store<T> {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

fn main() {}

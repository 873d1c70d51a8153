// The method itself is what syn cannot read: one error from the macro, no
// false "missing `fn synchronize_in_background`" and no "lacks
// `#[mapisync::provider]`" at `.into()`.
use mapisync::{MapiSync, SyncJob};

struct Store;

#[mapisync::provider]
impl MapiSync for Store {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> Ok(()) {}
}

fn main() {
    let _sync: mapisync::IMAPISync = Store.into();
}

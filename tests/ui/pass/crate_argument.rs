// A crate that reaches mapisync through a re-export names it with `crate =`.
mod reexport {
    pub use ::mapisync;
}

use reexport::mapisync::{MapiSync, SyncJob};

struct Store;

#[reexport::mapisync::provider(crate = crate::reexport::mapisync)]
impl MapiSync for Store {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> reexport::mapisync::Result<()> {
        Ok(())
    }
}

fn main() {
    let sync: reexport::mapisync::IMAPISync = Store.into();
    assert!(reexport::mapisync::provider_of::<Store>(&sync).is_some());
}

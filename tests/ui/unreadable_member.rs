// A member syn cannot read (a missing `,`, which rustc reports too): one
// error from the macro, no "lacks `#[mapisync::provider]`" at `.into()`
// and no "not a member of trait" from rustc.
use mapisync::{MapiSync, SyncJob};

struct Store;

#[mapisync::provider]
impl MapiSync for Store {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }

    fn helper(&self, _first: u8 _second: u8) {}
}

fn main() {
    let _sync: mapisync::IMAPISync = Store.into();
}

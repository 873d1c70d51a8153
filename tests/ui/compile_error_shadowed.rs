// A crate with a macro of its own named `compile_error`: the attribute's
// errors go through `::std::compile_error!`, so the misspelled method is
// still an error (with a bare `compile_error!` the user's macro swallowed
// it, and the fallback's stub made the provider compile and answer S_OK).
use mapisync::{MapiSync, SyncJob};

macro_rules! compile_error {
    ($($anything:tt)*) => {};
}

struct Store;

#[mapisync::provider]
impl MapiSync for Store {
    fn synchronise_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

fn main() {
    compile_error!(this one is the users own);
}

// The impl without `#[mapisync::provider]`, then `IMAPISync::from`: the
// runtime's blanket `From<T> for IMAPISync` is bound on `ProviderProbe<T>:
// ProviderOf<T>`, whose message names the type and says to add the attribute.
use mapisync::{IMAPISync, MapiSync, SyncJob};

struct Store;

impl MapiSync for Store {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

fn main() {
    let _sync = IMAPISync::from(Store);
}

// The impl without `#[mapisync::provider]`: every API bounded by the hidden
// `Provider` trait (`provider_of`) or by `IMAPISync: ProviderOf<T>` (`.into()`,
// `IMAPISync::from`) says to add the attribute (`#[diagnostic::on_unimplemented]`
// on both); the `.into()` alone is `missing_attribute_into.rs`.
use mapisync::{MapiSync, SyncJob};

struct Store;

impl MapiSync for Store {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

fn main() {
    let sync: mapisync::IMAPISync = Store.into();
    let _ = mapisync::provider_of::<Store>(&sync);
}

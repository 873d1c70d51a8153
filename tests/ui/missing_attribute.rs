// The impl without `#[mapisync::provider]`: every API bounded by the hidden
// `Provider` trait says to add the attribute (`#[diagnostic::on_unimplemented]`).
// `.into()` still names `From<Store>`: a foreign trait takes no such attribute,
// and the runtime has no blanket `From` impl that would route it through `Provider`.
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

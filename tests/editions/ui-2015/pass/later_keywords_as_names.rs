// Rust 2015 only: names that later editions reserve, in the signature the
// attribute reads (`async`) and in the body it does not (`dyn`).
struct Store;

#[mapisync::provider]
impl mapisync::MapiSync for Store {
    fn synchronize_in_background(&self, async: &mut mapisync::SyncJob) -> mapisync::Result<()> {
        let dyn = 1;
        async.progress_count(dyn, 1)?;
        Ok(())
    }
}

fn main() {
    let sync: mapisync::IMAPISync = Store.into();
    let report = mapisync::host::Host::new().run(&sync).expect("the host drives the provider");
    assert_eq!(report.done, Some(mapisync::S_OK));
}

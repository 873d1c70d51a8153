// A provider compiles and runs in every edition (no `use`: Rust 2015
// resolves it from the crate root).
struct Store;

#[mapisync::provider]
impl mapisync::MapiSync for Store {
    fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
        job.progress_count(1, 1)
    }
}

fn main() {
    let sync: mapisync::IMAPISync = Store.into();
    let report = mapisync::host::Host::new().run(&sync).expect("the host drives the provider");
    assert_eq!(report.done, Some(mapisync::S_OK));
}

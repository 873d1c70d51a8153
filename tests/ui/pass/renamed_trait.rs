// A renamed import of the trait: the macro cannot see through `use ... as`,
// so it leaves the trait check to rustc.
use mapisync::MapiSync as Sync2;
use mapisync::SyncJob;

struct Store;

#[mapisync::provider]
impl Sync2 for Store {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        job.progress_count(1, 1)
    }
}

fn main() {
    let sync: mapisync::IMAPISync = Store.into();
    let report = mapisync::host::Host::new().run(&sync).expect("the host drives the provider");
    assert_eq!(report.done, Some(mapisync::S_OK));
}

// A concrete impl may carry a `where` clause rustc accepts (bounds that
// hold for the type): the attribute leaves it to rustc (issue 17.5).
use mapisync::{MapiSync, SyncJob};

struct Store;

#[mapisync::provider]
impl MapiSync for Store
where
    Store: Send + Sync,
{
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        job.progress_count(1, 1)
    }
}

fn main() {
    let sync: mapisync::IMAPISync = Store.into();
    let report = mapisync::host::Host::new().run(&sync).expect("the host drives the provider");
    assert_eq!(report.done, Some(mapisync::S_OK));
}

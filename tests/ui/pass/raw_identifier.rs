// `r#synchronize_in_background` is the same identifier as the method's name.
use mapisync::{MapiSync, SyncJob};

struct Store;

#[mapisync::provider]
impl MapiSync for Store {
    fn r#synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        job.progress_count(1, 1)
    }
}

fn main() {
    let sync: mapisync::IMAPISync = Store.into();
    let report = mapisync::host::Host::new().run(&sync).expect("the host drives the provider");
    assert_eq!(report.done, Some(mapisync::S_OK));
    assert_eq!(report.progress().count(), 1);
}

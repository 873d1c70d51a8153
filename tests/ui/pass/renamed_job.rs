// A renamed import of the job type: the macro cannot see through
// `use ... as`, so it leaves the parameter's type to rustc.
use mapisync::MapiSync;
use mapisync::SyncJob as Job;

struct Store;

#[mapisync::provider]
impl MapiSync for Store {
    fn synchronize_in_background(&self, job: &mut Job) -> mapisync::Result<()> {
        job.progress_count(1, 1)
    }
}

fn main() {
    let sync: mapisync::IMAPISync = Store.into();
    let report = mapisync::host::Host::new().run(&sync).expect("the host drives the provider");
    assert_eq!(report.done, Some(mapisync::S_OK));
}

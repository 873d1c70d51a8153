use mapisync::host::{Host, Method};
use mapisync::{MapiSync, SyncJob};

struct Store;

#[mapisync::provider]
impl MapiSync for Store {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        job.progress("Downloading headers", 1, 3)?;
        job.progress_count(2, 3)?;
        job.error(mapisync::MAPI_E_USER_CANCEL, "skipped one message")?;
        job.progress("Uploading changes", 3, 3)?;
        Ok(())
    }
}

fn main() {
    let sync: mapisync::IMAPISync = Store.into();
    // The host fails the second progress call: `?` stops the sync there and
    // its HRESULT reaches Done.
    let report = Host::new()
        .fail_from(Method::Progress, 2, mapisync::MAPI_E_USER_CANCEL)
        .run(&sync)
        .expect("the host drives the provider");
    assert_eq!(report.done, Some(mapisync::MAPI_E_USER_CANCEL));
    assert_eq!(report.errors().count(), 0);
}

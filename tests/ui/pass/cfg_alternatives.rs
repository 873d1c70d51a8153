// Two definitions of the method, of which `#[cfg]` keeps exactly one: legal
// Rust, so the macro must not call it a duplicate.
use mapisync::{MapiSync, SyncJob};

struct Store;

#[mapisync::provider]
impl MapiSync for Store {
    #[cfg(debug_assertions)]
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        job.progress("debug build", 1, 1)
    }

    #[cfg(not(debug_assertions))]
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        job.progress("release build", 1, 1)
    }
}

fn main() {
    let sync: mapisync::IMAPISync = Store.into();
    let report = mapisync::host::Host::new().run(&sync).expect("the host drives the provider");
    assert_eq!(report.done, Some(mapisync::S_OK));
    let expected = if cfg!(debug_assertions) { "debug build" } else { "release build" };
    let texts: Vec<_> = report.progress().map(|(text, ..)| text).collect();
    assert_eq!(texts, [Some(expected)]);
}

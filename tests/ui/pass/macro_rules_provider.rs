// A provider written by a `macro_rules!` macro: the trait, the type and
// the job type arrive as `$fragment`s, which rustc wraps in invisible
// groups; the macro looks into them.
macro_rules! provider {
    ($name:ident, $trait_:path, $ty:ty, $job:ty) => {
        struct $name;

        #[mapisync::provider]
        impl $trait_ for $ty {
            fn synchronize_in_background(&self, job: $job) -> mapisync::Result<()> {
                job.progress_count(1, 1)
            }
        }
    };
}

provider!(Store, mapisync::MapiSync, Store, &mut mapisync::SyncJob);

fn main() {
    let sync: mapisync::IMAPISync = Store.into();
    let report = mapisync::host::Host::new().run(&sync).expect("the host drives the provider");
    assert_eq!(report.done, Some(mapisync::S_OK));
}

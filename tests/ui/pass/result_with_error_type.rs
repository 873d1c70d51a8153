// `Result<(), mapisync::Error>` is the type `mapisync::Result<()>` names (and
// the one rustc suggests); other spellings the macro cannot judge, such as a
// crate's own alias, are left to rustc.
use mapisync::{MapiSync, SyncJob};

type Outcome = mapisync::Result<()>;

struct Spelled;

#[mapisync::provider]
impl MapiSync for Spelled {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<(), mapisync::Error> {
        job.progress_count(1, 1)
    }
}

struct Aliased;

#[mapisync::provider]
impl MapiSync for Aliased {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> Outcome {
        job.progress_count(1, 1)
    }
}

struct Qualified;

#[mapisync::provider]
impl MapiSync for Qualified {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> ::core::result::Result<(), ::mapisync::Error> {
        job.progress_count(1, 1)
    }
}

fn main() {
    let host = mapisync::host::Host::new();
    for sync in [mapisync::IMAPISync::from(Spelled), Aliased.into(), Qualified.into()] {
        let report = host.run(&sync).expect("the host drives the provider");
        assert_eq!(report.done, Some(mapisync::S_OK));
        assert_eq!(report.progress().count(), 1);
    }
}

// 100 levels of nesting inside a method body are fine: the macro never
// reads a body, so its nesting limit is only for what it reads. Also when a
// `macro_rules!` macro passes the body on as `$body:block` (`Relayed`):
// rustc hands it to the attribute in an invisible group around the braces,
// which `hollow` empties like visible braces, so it is not measured either
// (no false "nested deeper"). Both compile and run.
use mapisync::{MapiSync, SyncJob};

struct Store;

#[mapisync::provider]
impl MapiSync for Store {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        let _deep: &&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&u32 = &&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&1;
        job.progress_count(1, 1)
    }
}

struct Relayed;

macro_rules! provider {
    ($job:ident, $body:block) => {
        #[mapisync::provider]
        impl MapiSync for Relayed {
            fn synchronize_in_background(&self, $job: &mut SyncJob) -> mapisync::Result<()> $body
        }
    };
}

provider!(job, {
        #[allow(unused_parens)]
        let _parens: u32 = ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))));
        job.progress_count(1, 1)
    });

fn main() {
    for sync in [mapisync::IMAPISync::from(Store), Relayed.into()] {
        let report = mapisync::host::Host::new().run(&sync).expect("the host drives the provider");
        assert_eq!(report.done, Some(mapisync::S_OK));
    }
}

// The old misuse: safe code put a COM pointer that windows-core keeps
// `!Send` (it may be apartment-threaded) into a `SyncJob`, then moved the
// job to another thread. `SyncJob::new` takes no host objects now.
use mapisync::{IMAPISync, IUnknown, Interface, MapiSync, SyncFlags, SyncJob};

struct Stub;

#[mapisync::provider]
impl MapiSync for Stub {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

fn main() {
    let unknown: IUnknown = IMAPISync::from(Stub).cast().unwrap();
    let job = SyncJob::new(SyncFlags::empty(), Some(unknown), None);
    std::thread::spawn(move || drop(job)).join().unwrap();
}

// Putting host objects into a `SyncJob` is `unsafe`: the caller vouches
// that they are free-threaded, since the job may move to another thread.
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
    let job = SyncJob::with_host_objects(SyncFlags::empty(), Some(unknown), None);
    std::thread::spawn(move || drop(job)).join().unwrap();
}

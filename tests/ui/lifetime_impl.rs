use mapisync::{MapiSync, SyncJob};

struct Store<'a>(&'a str);

#[mapisync::provider]
impl<'a> MapiSync for Store<'a> {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

fn main() {}

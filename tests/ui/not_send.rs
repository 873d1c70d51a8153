use std::rc::Rc;

use mapisync::{MapiSync, SyncJob};

struct Store {
    cache: Rc<Vec<u8>>,
}

#[mapisync::provider]
impl MapiSync for Store {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        let _ = self.cache.len();
        Ok(())
    }
}

fn main() {}

use mapisync::SyncJob;

struct Store;

#[mapisync::provider]
impl Default for Store {
    fn default() -> Self {
        Store
    }
}

fn main() {
    let _ = std::mem::size_of::<SyncJob>();
}

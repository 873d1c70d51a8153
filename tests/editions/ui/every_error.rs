// Misuses of every kind in one impl, written the same in every edition
// (no `use`: Rust 2015 resolves it from the crate root). Each edition's
// crate under tests/editions compiles this file against the one
// .stderr beside it: the messages read the same in every edition.
struct Store;

#[mapisync::provider(threads = 4)]
unsafe impl mapisync::MapiSync for Store {
    fn synchronize_in_background(&mut self, _job: mapisync::SyncJob) -> Result<u32, ()> {
        Ok(0)
    }

    fn helper(&self) {}
}

fn main() {}

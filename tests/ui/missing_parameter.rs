use mapisync::MapiSync;

struct Store;

#[mapisync::provider]
impl MapiSync for Store {
    fn synchronize_in_background(&self) -> mapisync::Result<()> {
        Ok(())
    }
}

fn main() {}

use mapisync::MapiSync;

struct Store;

#[mapisync::provider]
impl MapiSync for Store {}

fn main() {}

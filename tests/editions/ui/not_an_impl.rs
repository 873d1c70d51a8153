// The attribute on another item: its error reads the same in every edition.
#[mapisync::provider]
struct Store;

fn main() {}

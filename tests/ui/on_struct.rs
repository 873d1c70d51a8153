#[mapisync::provider]
struct Store;

fn main() {
    let _store = Store;
}

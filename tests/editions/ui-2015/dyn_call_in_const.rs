// Rust 2015: `dyn` is a keyword only in a type, before what begins a bound.
// In an expression `dyn(1)` is a call of the const fn `dyn` (rustc 2015
// compiles this impl without the attribute), and the attribute reads it so
// too (`dyn (` a name outside a type): the same error as for any const in
// the impl (unexpected associated const `N`), not "cannot read this item:
// expected an expression".
struct Store;

#[allow(non_snake_case)]
const fn dyn(x: u8) -> u8 {
    x
}

#[mapisync::provider]
impl mapisync::MapiSync for Store {
    const N: u8 = dyn(1);
    fn synchronize_in_background(&self, _job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

fn main() {
    let _sync: mapisync::IMAPISync = Store.into();
}

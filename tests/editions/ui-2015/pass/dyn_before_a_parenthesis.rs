// Rust 2015 only: before `(`, `dyn` is the keyword in a type (`dyn (Send)`)
// and a name in an expression (`dyn(1)`, ui-2015/dyn_call_in_const.rs), as
// rustc reads it. Read as Rust 2015 (for `try::`), the type keeps its `dyn`
// keyword and the user's tokens are emitted: it compiles and runs.
#![allow(unused_parens)]

extern crate mapisync;

struct Store;

mod try {
    pub struct Marker;
}

#[mapisync::provider]
impl mapisync::MapiSync for Store {
    // `try::` makes the attribute read the signature as Rust 2015.
    fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()>
    where
        Box<dyn (Send)>: Sized,
        try::Marker: Sized,
    {
        job.progress_count(1, 1)
    }
}

fn main() {
    let sync: mapisync::IMAPISync = Store.into();
    let report = mapisync::host::Host::new().run(&sync).expect("the host drives the provider");
    assert_eq!(report.done, Some(mapisync::S_OK));
}

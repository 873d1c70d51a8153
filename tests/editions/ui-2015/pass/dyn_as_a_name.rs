// Rust 2015 only: `dyn` is a name unless what follows can begin a bound of
// a trait object (rustc's rule), so in the signature the attribute reads it
// is a module before `::`, a type before `where`, `as` and `<`, and a real
// `dyn Trait` still is one.
#![allow(non_camel_case_types, dead_code)]

// Rust 2015: `use` paths start at the crate root.
extern crate mapisync;

struct Store;

mod dyn {
    pub use mapisync::SyncJob;
}

mod aliases {
    pub type dyn = ::mapisync::Result<()>;
}

mod units {
    pub type dyn = ::mapisync::Result<()>;
}

mod generic {
    pub type dyn<T> = T;
}

trait Same {
    type Out;
}

impl<T> Same for T {
    type Out = T;
}

#[mapisync::provider]
impl mapisync::MapiSync for Store {
    // `dyn ::`, `dyn where`, and a real `dyn Send` in the `where` clause.
    #[cfg(debug_assertions)]
    fn synchronize_in_background(&self, dyn: &mut dyn::SyncJob) -> aliases::dyn
    where
        Box<dyn Send>: Sized,
    {
        dyn.progress_count(1, 1)
    }

    // `dyn as` and `dyn <`.
    #[cfg(not(debug_assertions))]
    fn synchronize_in_background(&self, job: &mut dyn::SyncJob) -> <units::dyn as Same>::Out
    where
        generic::dyn<Box<dyn for<'a> Fn(&'a u8)>>: Sized,
    {
        job.progress_count(1, 1)
    }
}

fn main() {
    let sync: mapisync::IMAPISync = Store.into();
    let report = mapisync::host::Host::new().run(&sync).expect("the host drives the provider");
    assert_eq!(report.done, Some(mapisync::S_OK));
}

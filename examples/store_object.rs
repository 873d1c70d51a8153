//! A windows-rs store object that lists IMAPISync and forwards it to a mapisync object:
//! `cargo run --example store_object`.

use mapisync::host::{Conformance, Host};
use mapisync::{IMAPISync, IUnknown, Interface};
use mapisync_examples::store_object::{IMsgStoreLike, MsgStore};

fn main() -> mapisync::Result<()> {
    let store: IUnknown = MsgStore::create(3); // the store's IUnknown, count 1

    // Outlook's view: QueryInterface the store for IMAPISync; identity holds both ways.
    let sync: IMAPISync = store.cast()?;
    println!("IUnknown through IMAPISync is the store's: {}", sync.cast::<IUnknown>()? == store);
    println!("the store interface through IMAPISync:    {}", sync.cast::<IMsgStoreLike>().is_ok());
    drop(sync);

    let report = Conformance::new().answers(IMsgStoreLike::IID).check(&store);
    match report {
        Ok(report) => println!("COM conformance: {} checks held", report.checks),
        Err(violations) => println!("COM conformance broken: {violations:#?}"),
    }

    let report = Host::new().run(&store)?; // QueryInterface for IMAPISync, then a sync as Outlook runs it
    for (text, index, max) in report.progress() {
        println!("{index}/{max} {}", text.unwrap_or_default());
    }
    println!("Done: {:?}", report.done);
    Ok(())
}

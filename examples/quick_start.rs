//! The README's quick start, runnable: `cargo run --example quick_start`.

use mapisync::host::Host;
use mapisync_examples::quick_start::MyStore;

fn main() -> mapisync::Result<()> {
    let sync: mapisync::IMAPISync = MyStore.into(); // a live COM object, count 1
    let report = Host::new().run(&sync)?; // drives it as Outlook would
    for (text, index, max) in report.progress() {
        println!("{index}/{max} {}", text.unwrap_or_default());
    }
    println!("Done: {:?}", report.done);
    Ok(())
}

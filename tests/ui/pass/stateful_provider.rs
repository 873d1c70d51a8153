use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use mapisync::{MapiSync, SyncJob};

/// Fields, shared state behind an `Arc`, and interior mutability.
struct Store {
    name: String,
    folders: Vec<&'static str>,
    synced: Mutex<Vec<String>>,
    runs: Arc<AtomicU32>,
}

#[mapisync::provider]
impl MapiSync for Store {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        let max = self.folders.len() as u32;
        for (index, folder) in self.folders.iter().enumerate() {
            job.progress(folder, index as u32 + 1, max)?;
            self.synced.lock().unwrap().push(format!("{}/{folder}", self.name));
        }
        self.runs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn main() {
    let runs = Arc::new(AtomicU32::new(0));
    let store = Store {
        name: String::from("mailbox"),
        folders: vec!["Inbox", "Sent Items"],
        synced: Mutex::new(Vec::new()),
        runs: Arc::clone(&runs),
    };
    let sync: mapisync::IMAPISync = store.into();
    let report = mapisync::host::Host::new().run(&sync).expect("the host drives the provider");
    assert_eq!(report.done, Some(mapisync::S_OK));
    assert_eq!(runs.load(Ordering::Relaxed), 1);
    let store = mapisync::provider_of::<Store>(&sync).expect("a Store object");
    assert_eq!(*store.synced.lock().unwrap(), ["mailbox/Inbox", "mailbox/Sent Items"]);
}

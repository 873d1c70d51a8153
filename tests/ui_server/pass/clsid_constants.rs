//! `export_server!` gives each class its CLSID as a constant, and `GUID` is
//! at the crate root: a host or test names the class, never the literal.

use mapisync::GUID;
use mapisync::server::{ExportedClass, clsid};

#[derive(Default)]
pub struct Inbox;

#[mapisync::provider]
impl mapisync::MapiSync for Inbox {
    fn synchronize_in_background(&self, _job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

#[derive(Default)]
pub struct Archive;

#[mapisync::provider]
impl mapisync::MapiSync for Archive {
    fn synchronize_in_background(&self, _job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

mapisync::export_server! {
    Inbox => "{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}", Inbox::default;
    Archive => "{39a7c4c6-53ce-4119-89cb-bd5c40bd5c7c}", Archive::default, aggregatable;
}

const INBOX: GUID = Inbox::CLSID;

fn main() {
    assert_eq!(INBOX, clsid("39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C"));
    assert_eq!(Archive::CLSID, clsid("{39A7C4C6-53CE-4119-89CB-BD5C40BD5C7C}"));
    assert_eq!((Inbox::NAME, Archive::NAME), ("Inbox", "Archive"));
}

//! Two `export_server!` in one crate: an error at `cargo check` time that
//! points at the second call, not a duplicate-symbol error at link time.

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

mapisync::export_server!(Inbox => "{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}", Inbox::default);

mod archive {
    mapisync::export_server!(super::Archive => "{39A7C4C6-53CE-4119-89CB-BD5C40BD5C7C}", super::Archive::default);
}

fn main() {}

#[mapisync::provider]
fn synchronize_in_background(_job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
    Ok(())
}

fn main() {}

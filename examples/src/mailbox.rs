//! A provider that synchronizes a directory of `.eml` files (the "server")
//! into an in-memory store, reporting progress per message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mapisync::{E_FAIL, Error, MAPI_E_NETWORK_ERROR, MapiSync, SyncFlags, SyncJob};

use crate::eml::{self, Message};

/// The in-memory store, keyed by message id; shared with whoever shows it.
pub type Store = Arc<Mutex<BTreeMap<String, Message>>>;

/// The shipped sample messages.
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("mailbox_sync").join("messages")
}

/// Syncs `source` into `store`.
pub struct MailboxStore {
    source: PathBuf,
    store: Store,
    latency: Duration,
}

impl MailboxStore {
    /// A provider reading `source`, filling `store`, waiting `latency` per
    /// message to stand in for the network.
    pub fn new(source: impl Into<PathBuf>, store: Store, latency: Duration) -> Self {
        Self { source: source.into(), store, latency }
    }

    fn messages_on_server(&self) -> mapisync::Result<Vec<PathBuf>> {
        let entries = std::fs::read_dir(&self.source)
            .map_err(|e| Error::new(MAPI_E_NETWORK_ERROR, format!("cannot reach {}: {e}", self.source.display())))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("eml")))
            .collect();
        files.sort();
        Ok(files)
    }
}

#[mapisync::provider]
impl MapiSync for MailboxStore {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        if !job.flags().intersects(SyncFlags::DOWNLOAD_CONTENTS | SyncFlags::GLOBAL_HEADERS) {
            return Ok(()); // nothing to download in this sync
        }
        let headers_only = job.flags().contains(SyncFlags::GLOBAL_HEADERS);
        let files = self.messages_on_server()?;
        let total = files.len() as u32;
        job.progress("Connecting to the mailbox", 0, total)?;
        for (done, path) in (1..).zip(&files) {
            std::thread::sleep(self.latency);
            let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let text = match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) => {
                    job.error(E_FAIL, &format!("skipped {name}: {e}"))?;
                    continue;
                }
            };
            let mut message = eml::parse(&text, &name);
            if headers_only {
                message.body = None;
            }
            let subject = if message.subject.is_empty() { "(no subject)".to_owned() } else { message.subject.clone() };
            self.store.lock().unwrap_or_else(PoisonError::into_inner).insert(message.id.clone(), message);
            job.progress(&format!("Downloaded \"{subject}\""), done, total)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mapisync::host::{Host, Method};

    fn store() -> Store {
        Arc::default()
    }

    #[test]
    fn syncs_every_sample_message_with_one_progress_step_each() {
        let store = store();
        let sync: mapisync::IMAPISync = MailboxStore::new(sample_dir(), store.clone(), Duration::ZERO).into();
        let report = Host::new().run(&sync).unwrap();
        assert_eq!(report.done, Some(mapisync::S_OK));
        let files = std::fs::read_dir(sample_dir()).unwrap().count();
        assert_eq!(store.lock().unwrap().len(), files);
        assert_eq!(report.progress().count(), files + 1, "connect, then one step per message");
        assert!(report.balanced());
    }

    #[test]
    fn headers_only_sync_keeps_no_bodies() {
        let store = store();
        let sync: mapisync::IMAPISync = MailboxStore::new(sample_dir(), store.clone(), Duration::ZERO).into();
        let report = Host::new().flags(SyncFlags::GLOBAL_HEADERS).run(&sync).unwrap();
        assert_eq!(report.done, Some(mapisync::S_OK));
        assert!(store.lock().unwrap().values().all(|m| m.body.is_none()));
    }

    #[test]
    fn missing_directory_is_a_network_error() {
        let sync: mapisync::IMAPISync = MailboxStore::new(sample_dir().join("absent"), store(), Duration::ZERO).into();
        let report = Host::new().run(&sync).unwrap();
        assert_eq!(report.done, Some(MAPI_E_NETWORK_ERROR));
    }

    #[test]
    fn cancel_stops_after_the_cancelled_step() {
        let store = store();
        let sync: mapisync::IMAPISync = MailboxStore::new(sample_dir(), store.clone(), Duration::ZERO).into();
        let report = Host::new().fail_from(Method::Progress, 3, mapisync::MAPI_E_USER_CANCEL).run(&sync).unwrap();
        assert_eq!(report.done, Some(mapisync::MAPI_E_USER_CANCEL));
        assert_eq!(store.lock().unwrap().len(), 2, "the second message was stored before the cancel");
    }
}

//! The module's registry of syncs: whether new syncs are admitted, each
//! running sync's cancel word and worker thread, and the module's pin on
//! itself. One lock guards it all, so "refuse new syncs and cancel the
//! running ones" is one step that no start can slip through.
//!
//! An entry lives from the start of a sync until its thread has *exited*
//! and been reaped (joined, or its handle closed) by a later call:
//! [`admit`](Registry::admit) (the next start), [`running`](Registry::running)
//! (`DllCanUnloadNow`, `running_workers`) or [`drain`](Registry::drain).
//! A worker thread never touches the registry.
//!
//! The registry is generic over the thread ([`Exit`]) so that the loom
//! models run this very code with loom threads.

use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use windows_core::HRESULT;

use crate::atomic::{Condvar, Mutex, MutexGuard};
use crate::hresult::{E_OUTOFMEMORY, MAPI_E_END_OF_SESSION};
use crate::state::JobState;
use crate::workers::pin::ModulePin;

/// A worker thread whose exit can be observed.
pub(crate) trait Exit: Send {
    /// Whether the thread has exited, without blocking. Once `true`, the
    /// thread is reaped and every later call says `true`.
    fn has_exited(&mut self) -> bool;

    /// Waits until the thread exited (`true`) or `deadline` passed (`false`);
    /// `None` waits without a limit.
    fn wait_exit(&mut self, deadline: Option<Instant>) -> bool;
}

/// One sync, from its start until its thread is reaped.
struct Entry<W> {
    /// The address of the object whose slot 3 started the sync: compared by
    /// `cancel`, never dereferenced. The object outlives the sync's end
    /// (the worker holds a reference until after `JobState::end`), and an
    /// ended entry is never matched, so a reused address cannot be confused.
    key: usize,
    job: Arc<JobState>,
    /// `None` while a `drain` waits for this thread outside the lock.
    thread: Option<W>,
}

struct Inner<W> {
    closed: bool,
    entries: Vec<Entry<W>>,
    /// Held while `entries` is not empty (see `pin.rs`).
    pin: Option<ModulePin>,
}

/// The registry (one per module, in `lifecycle.rs`; one per model in loom).
pub(crate) struct Registry<W> {
    inner: Mutex<Inner<W>>,
    /// Notified when a `drain` finishes waiting for a thread.
    reaped: Condvar,
}

impl<W: Exit> Registry<W> {
    /// An open registry with no sync.
    pub(crate) fn new() -> Self {
        Self { inner: Mutex::new(Inner { closed: false, entries: Vec::new(), pin: None }), reaped: Condvar::new() }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<W>> {
        // Nothing panics while the lock is held; if something did, the
        // entries are still consistent (each change is one Vec operation).
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits the sync `job` of the object at `key` and starts its thread
    /// with `spawn`, under the lock, so a concurrent shutdown either refuses
    /// it or cancels it. MAPI_E_END_OF_SESSION after
    /// [`close_and_cancel`](Self::close_and_cancel); E_OUTOFMEMORY when no
    /// thread could be started (nothing is kept).
    pub(crate) fn admit(
        &self,
        key: usize,
        job: &Arc<JobState>,
        spawn: impl FnOnce() -> std::io::Result<W>,
    ) -> Result<(), HRESULT> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(MAPI_E_END_OF_SESSION);
        }
        // Reap, but keep the pin: the new entry is about to need it.
        inner.reap_exited();
        let thread = spawn().map_err(|_| E_OUTOFMEMORY)?;
        inner.entries.push(Entry { key, job: job.clone(), thread: Some(thread) });
        if inner.pin.is_none() {
            inner.pin = ModulePin::take();
        }
        Ok(())
    }

    /// Cancels the running sync of the object at `key`; whether there was one.
    pub(crate) fn cancel(&self, key: usize) -> bool {
        let inner = self.lock();
        // Every match is cancelled (`|`, not `||`); there is at most one
        // running sync per object, the busy flag sees to that.
        inner.entries.iter().filter(|entry| entry.key == key).fold(false, |any, entry| entry.job.cancel() | any)
    }

    /// Cancels every running sync; how many were running.
    pub(crate) fn cancel_all(&self) -> usize {
        Self::cancel_entries(&self.lock())
    }

    fn cancel_entries(inner: &Inner<W>) -> usize {
        inner.entries.iter().filter(|entry| entry.job.cancel()).count()
    }

    /// Refuses every later [`admit`](Self::admit) and cancels every running
    /// sync, in one step; how many were cancelled.
    pub(crate) fn close_and_cancel(&self) -> usize {
        let mut inner = self.lock();
        inner.closed = true;
        Self::cancel_entries(&inner)
    }

    /// Admits syncs again.
    pub(crate) fn reopen(&self) {
        self.lock().closed = false;
    }

    /// Whether [`close_and_cancel`](Self::close_and_cancel) refuses syncs now.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Worker threads that have not exited, after reaping those that have.
    pub(crate) fn running(&self) -> usize {
        let mut inner = self.lock();
        inner.reap_exited();
        inner.release_pin_if_idle();
        inner.entries.len()
    }

    /// Waits until every worker thread has exited, at most `timeout`:
    /// `Err(n)` with the `n` threads still there when the time ran out.
    pub(crate) fn drain(&self, timeout: Duration) -> Result<(), usize> {
        let deadline = Instant::now().checked_add(timeout);
        let mut inner = self.lock();
        loop {
            inner.reap_exited();
            inner.release_pin_if_idle();
            if inner.entries.is_empty() {
                return Ok(());
            }
            match inner.entries.iter_mut().find_map(|entry| Some((entry.job.clone(), entry.thread.take()?))) {
                Some((job, thread)) => inner = self.wait_for(inner, job, thread, deadline)?,
                None if deadline.is_some_and(|deadline| Instant::now() >= deadline) => {
                    return Err(inner.entries.len());
                }
                // Every thread left is being waited for by another drain.
                None => inner = self.wait_for_other_drain(inner, deadline),
            }
        }
    }

    /// Waits for one thread outside the lock, then removes its entry (it
    /// exited) or puts it back and gives up (the time ran out).
    fn wait_for<'a>(
        &'a self,
        inner: MutexGuard<'a, Inner<W>>,
        job: Arc<JobState>,
        mut thread: W,
        deadline: Option<Instant>,
    ) -> Result<MutexGuard<'a, Inner<W>>, usize> {
        drop(inner);
        let exited = thread.wait_exit(deadline);
        let mut inner = self.lock();
        // Only the holder of the thread removes an entry whose thread is taken.
        let index = inner.entries.iter().position(|entry| Arc::ptr_eq(&entry.job, &job));
        let index = index.expect("an entry whose thread is taken stays in the registry");
        if exited {
            inner.entries.swap_remove(index);
        } else {
            inner.entries[index].thread = Some(thread);
        }
        self.reaped.notify_all();
        if exited {
            return Ok(inner);
        }
        // Count only what still runs: threads that exited while this one was
        // waited for are reaped first.
        inner.reap_exited();
        Err(inner.entries.len())
    }

    fn wait_for_other_drain<'a>(
        &'a self,
        inner: MutexGuard<'a, Inner<W>>,
        deadline: Option<Instant>,
    ) -> MutexGuard<'a, Inner<W>> {
        match deadline {
            None => self.reaped.wait(inner).unwrap_or_else(PoisonError::into_inner),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                self.reaped.wait_timeout(inner, left).unwrap_or_else(PoisonError::into_inner).0
            }
        }
    }
}

impl<W: Exit> Inner<W> {
    /// Drops the entries whose thread has exited (a taken thread is a
    /// drain's to reap).
    fn reap_exited(&mut self) {
        self.entries.retain_mut(|entry| entry.thread.as_mut().is_none_or(|thread| !thread.has_exited()));
    }

    /// Gives up the module's pin once no worker thread is left. Called only
    /// from calls the host makes into the DLL (see `pin.rs`), never from a
    /// worker: a worker's own entry keeps `entries` non-empty.
    fn release_pin_if_idle(&mut self) {
        if self.entries.is_empty() {
            self.pin = None;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A thread that has already exited.
    struct Exited;

    impl Exit for Exited {
        fn has_exited(&mut self) -> bool {
            true
        }

        fn wait_exit(&mut self, _deadline: Option<Instant>) -> bool {
            true
        }
    }

    /// Decision 5's "the worker thread cannot be started": slot 3 answers
    /// what `admit` does (protocol.rs then clears `*phSyncDoneEvent`, the
    /// branch the refused-after-shutdown tests drive), and nothing is kept.
    #[test]
    fn a_thread_that_cannot_start_is_e_outofmemory_and_leaves_nothing_behind() {
        let registry = Registry::<Exited>::new();
        let job = Arc::new(JobState::new());
        let refused = registry.admit(1, &job, || Err(std::io::Error::other("no thread for you")));
        assert_eq!(refused, Err(E_OUTOFMEMORY));
        assert_eq!(registry.running(), 0);
        assert!(!registry.cancel(1), "no entry was kept for the sync that never started");
        assert_eq!(registry.admit(1, &job, || Ok(Exited)), Ok(()), "the next start is admitted");
        assert_eq!(registry.running(), 0, "its exited thread is reaped");
    }
}

//! The host calls in flight through a sync's [`SyncJob`](crate::SyncJob)s,
//! by calling thread, so that a drain on such a thread never waits for that
//! sync's worker.
//!
//! A sync's worker, once the provider's method has returned, waits for every
//! host call in flight through any job of the sync before it calls `Done`
//! and exits (`job/gate.rs`). A drain made inside such a call, on the same
//! thread (a host's `Progress` that calls [`shutdown`](crate::lifecycle::shutdown),
//! or whose code ends in the provider's Shutdown), would wait for a worker
//! that waits for it. So the drain skips that worker, as it skips its own
//! ([`Registry::drain`](super::registry::Registry::drain)): the worker cannot
//! exit before the call returns, which is after the drain returns.
//!
//! The callers are kept in the sync's own [`JobState`], not in a
//! thread-local: on targets without native TLS (windows-gnu) every
//! thread-local takes an OS TLS index that an unloaded DLL never gives
//! back, and a host that loads and frees the DLL often runs out of them.

use std::sync::PoisonError;

use crate::atomic::Mutex;
use crate::state::JobState;

#[cfg(all(loom, test))]
use loom::thread::{ThreadId, current};
#[cfg(not(all(loom, test)))]
use std::thread::{ThreadId, current};

/// The threads with a host call in flight through a job of one sync, once
/// per call (a nested call on the same thread is listed again).
pub(crate) struct Callers(Mutex<Vec<ThreadId>>);

impl Default for Callers {
    /// Room for two calls at once, made with the sync: a host call
    /// allocates nothing unless more are in flight together.
    fn default() -> Self {
        Self(Mutex::new(Vec::with_capacity(2)))
    }
}

impl Callers {
    fn list(&self) -> crate::atomic::MutexGuard<'_, Vec<ThreadId>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs `call` (a call to the host through a job of `sync`) recorded as
/// in flight on this thread.
pub(crate) fn in_flight<R>(sync: &JobState, call: impl FnOnce() -> R) -> R {
    /// Takes this call off the list, even if `call` unwinds.
    struct Ended<'a>(&'a Callers, ThreadId);
    impl Drop for Ended<'_> {
        fn drop(&mut self) {
            let mut list = self.0.list();
            if let Some(at) = list.iter().rposition(|caller| *caller == self.1) {
                list.swap_remove(at);
            }
        }
    }
    let me = current().id();
    sync.callers().list().push(me);
    let _ended = Ended(sync.callers(), me);
    call()
}

/// Whether this thread is inside a host call through a job of `sync`.
pub(crate) fn is_in_flight_here(sync: &JobState) -> bool {
    let me = current().id();
    sync.callers().list().contains(&me)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn nested_calls_are_all_seen_and_each_goes_with_its_call() {
        let (a, b) = (JobState::new(), JobState::new());
        assert!(!is_in_flight_here(&a));
        in_flight(&a, || {
            assert!(is_in_flight_here(&a) && !is_in_flight_here(&b));
            in_flight(&b, || assert!(is_in_flight_here(&a) && is_in_flight_here(&b)));
            in_flight(&a, || assert!(is_in_flight_here(&a)));
            assert!(is_in_flight_here(&a) && !is_in_flight_here(&b), "the nested call on `a` took only itself off");
            std::thread::scope(|scope| {
                let other = scope.spawn(|| is_in_flight_here(&a));
                assert!(!other.join().unwrap(), "another thread has no call in flight");
            });
        });
        assert!(!is_in_flight_here(&a));
    }

    #[test]
    fn an_unwinding_call_takes_itself_off() {
        let a = JobState::new();
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| in_flight(&a, || panic!("host"))));
        assert!(unwound.is_err());
        assert!(!is_in_flight_here(&a) && a.callers().list().is_empty());
    }
}

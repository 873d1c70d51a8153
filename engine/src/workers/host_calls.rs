//! The host calls in flight through a sync's [`SyncJob`](https://docs.rs/mapisync/latest/mapisync/struct.SyncJob.html)s,
//! by calling thread, so that drains made inside such calls never wait for
//! that sync's worker, nor for each other in a cycle.
//!
//! A sync's worker may wait for a host call in flight through one of the
//! sync's jobs: once the provider's method has returned, the worker waits
//! for every such call before it calls `Done` and exits (`job/gate.rs`);
//! before that, the provider itself may wait for the thread that makes the
//! call (a provider that reports from scoped threads joins them). A drain
//! made inside such a call (a host's `Progress` that calls
//! [`shutdown`](https://docs.rs/mapisync/latest/mapisync/lifecycle/fn.shutdown.html), or whose code ends in the
//! provider's Shutdown) would then wait for a worker that waits for it. So
//! a drain skips every sync with a host call in flight on a thread that is
//! draining now, this one or another ([`Registry::drain`](super::registry::Registry::drain)),
//! as it skips its own worker: that sync's code is on the draining thread's
//! stack, which the host cannot unload under it anyway, and its worker
//! stays in the registry (which keeps the module pinned) until it exits.
//!
//! The callers are kept in the sync's own [`JobState`], not in a
//! thread-local: on targets without native TLS (windows-gnu) every
//! thread-local takes an OS TLS index that an unloaded DLL never gives
//! back, and a host that loads and frees the DLL often runs out of them.

use std::sync::PoisonError;

use crate::atomic::Mutex;
use crate::state::JobState;

#[cfg(all(loom, test))]
pub use loom::thread::ThreadId;
#[cfg(all(loom, test))]
use loom::thread::current;
#[cfg(not(all(loom, test)))]
pub use std::thread::ThreadId;
#[cfg(not(all(loom, test)))]
use std::thread::current;

/// The threads with a host call in flight through a job of one sync, once
/// per call (a nested call on the same thread is listed again).
pub struct Callers(Mutex<Vec<ThreadId>>);

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
pub fn in_flight<R>(sync: &JobState, call: impl FnOnce() -> R) -> R {
    let _ended = Ended::record(sync.callers());
    call()
}

/// One call of [`in_flight`] on the list: takes it off when dropped, even
/// if the call unwinds. Not generic, so compiled once, here.
struct Ended<'a>(&'a Callers, ThreadId);

impl<'a> Ended<'a> {
    fn record(callers: &'a Callers) -> Self {
        let me = current().id();
        callers.list().push(me);
        Self(callers, me)
    }
}

impl Drop for Ended<'_> {
    fn drop(&mut self) {
        let mut list = self.0.list();
        if let Some(at) = list.iter().rposition(|caller| *caller == self.1) {
            list.swap_remove(at);
        }
    }
}

/// This thread, as [`in_flight`] records it.
pub fn this_thread() -> ThreadId {
    current().id()
}

/// Whether a thread in `draining` has a host call in flight through a job
/// of `sync`.
pub fn has_call_from(sync: &JobState, draining: &[ThreadId]) -> bool {
    sync.callers().list().iter().any(|caller| draining.contains(caller))
}

/// Whether this thread is inside a host call through a job of `sync`.
#[cfg(all(test, not(loom)))]
fn is_in_flight_here(sync: &JobState) -> bool {
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
    fn a_call_from_a_draining_thread_is_seen_and_ends_with_its_call() {
        let a = JobState::new();
        let me = this_thread();
        assert!(!has_call_from(&a, &[me]), "no call in flight");
        in_flight(&a, || {
            assert!(has_call_from(&a, &[me]));
            assert!(!has_call_from(&a, &[]), "a call from a thread that is not draining");
            let (entered, release) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
            std::thread::scope(|scope| {
                let other = scope.spawn(|| {
                    in_flight(&a, || {
                        entered.wait();
                        release.wait();
                    });
                    this_thread()
                });
                entered.wait();
                assert!(has_call_from(&a, &[me]), "one of the two calls is from a draining thread");
                release.wait();
                let other = other.join().unwrap();
                assert!(!has_call_from(&a, &[other]), "the other thread's call ended and went off the list");
            });
        });
        assert!(!has_call_from(&a, &[me]));
    }

    #[test]
    fn an_unwinding_call_takes_itself_off() {
        let a = JobState::new();
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| in_flight(&a, || panic!("host"))));
        assert!(unwound.is_err());
        assert!(!is_in_flight_here(&a) && a.callers().list().is_empty());
    }
}

//! The two atomic states of the sync protocol, each with its orderings, used
//! by `protocol.rs`, by `lifecycle` and by the loom models alike (so loom
//! checks the code that ships):
//!
//! - [`Busy`]: one object's busy flag, IDLE or RUNNING: one sync per object
//!   at a time.
//! - [`JobState`]: one sync's cancel and end word, shared by the job, the
//!   module's registry of running syncs and every
//!   [`CancelToken`](https://docs.rs/mapisync/latest/mapisync/struct.CancelToken.html) the provider holds.
//!   Cancelling and ending are read-modify-writes of this one word, so they
//!   are totally ordered: a `cancel` that reports success is always seen by
//!   the worker when it ends, and one that comes after the end fails. Code
//!   that blocks can [wait](JobState::wait_cancelled) for the cancel (or the
//!   end) instead of polling.

use std::sync::PoisonError;
use std::time::{Duration, Instant};

use crate::atomic::{AtomicU32, Condvar, Mutex, Ordering};
use crate::workers::host_calls::Callers;

const IDLE: u32 = 0;
const RUNNING: u32 = 1;

/// One object's busy flag, kept in the object's header.
pub struct Busy(AtomicU32);

// Made with `new` only, by mapisync's crates: a `Default` would be one
// more public item of a hidden type.
#[allow(clippy::new_without_default)]
impl Busy {
    /// An idle flag.
    pub fn new() -> Self {
        Self(AtomicU32::new(IDLE))
    }

    /// IDLE to RUNNING; `false` when a sync of this object already runs
    /// (the caller answers MAPI_E_BUSY).
    ///
    /// Acquire on success: pairs with [`finish`](Self::finish)'s Release, so
    /// the new sync's use of the provider happens after the previous sync's.
    /// Relaxed on failure: a refused start touches nothing.
    pub fn try_start(&self) -> bool {
        self.0.compare_exchange(IDLE, RUNNING, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }

    /// RUNNING to IDLE: the sync has ended (or its start failed).
    ///
    /// Release: everything the ending sync did to the provider happens
    /// before the next [`try_start`](Self::try_start) that succeeds.
    pub fn finish(&self) {
        self.0.store(IDLE, Ordering::Release);
    }

    /// Whether a sync runs now (racy by nature: for tests).
    #[cfg(all(test, not(loom)))]
    pub fn is_running(&self) -> bool {
        self.0.load(Ordering::Relaxed) == RUNNING
    }
}

const CANCELLED: u32 = 1;
const ENDED: u32 = 2;

/// One sync's cancel and end word: neither, cancelled, ended, or both (a
/// sync that was cancelled, then ended); and where waiters for a change sleep.
pub struct JobState {
    word: AtomicU32,
    /// Taken by a waiter to check the word and sleep, and by `cancel` and
    /// `end` to wake it: a change made before the waiter checked is seen by
    /// the check, one made after it wakes the waiter.
    sleepers: Mutex<()>,
    changed: Condvar,
    /// The threads with a host call in flight through a job of this sync.
    callers: Callers,
}

// Made with `new` only, by mapisync's crates: a `Default` would be one
// more public item of a hidden type.
#[allow(clippy::new_without_default)]
impl JobState {
    /// A running sync, not cancelled.
    pub fn new() -> Self {
        Self { word: AtomicU32::new(0), sleepers: Mutex::new(()), changed: Condvar::new(), callers: Callers::default() }
    }

    /// The threads with a host call in flight through a job of this sync.
    pub fn callers(&self) -> &Callers {
        &self.callers
    }

    /// Wakes every [`wait_cancelled`](Self::wait_cancelled) after the word changed.
    fn wake(&self) {
        drop(self.sleepers.lock().unwrap_or_else(PoisonError::into_inner));
        self.changed.notify_all();
    }

    /// Waits at most `timeout` until the sync is cancelled (`true`) or has
    /// ended uncancelled (`false`); `false` too when the time ran out.
    /// `Duration::MAX` waits without a limit.
    pub fn wait_cancelled(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut sleepers = self.sleepers.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let bits = self.word.load(Ordering::Acquire);
            if bits != 0 {
                return bits & CANCELLED != 0;
            }
            sleepers = match deadline {
                None => self.changed.wait(sleepers).unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    self.changed.wait_timeout(sleepers, left).unwrap_or_else(PoisonError::into_inner).0
                }
            };
        }
    }

    /// Cancels the sync unless it has ended; returns whether it was running
    /// (and so is now cancelled: cancelling twice reports `true` twice).
    ///
    /// Release on success: what the canceller did before (closing the
    /// module, say) happens before the worker's [`is_cancelled`](Self::is_cancelled)
    /// that sees it. Acquire on the read: an ended sync is seen as ended.
    pub fn cancel(&self) -> bool {
        let cancelled = self
            .word
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |bits| (bits & ENDED == 0).then_some(bits | CANCELLED))
            .is_ok();
        if cancelled {
            self.wake();
        }
        cancelled
    }

    /// Whether the sync was cancelled. Acquire: pairs with `cancel`.
    pub fn is_cancelled(&self) -> bool {
        self.word.load(Ordering::Acquire) & CANCELLED != 0
    }

    /// Marks the sync ended (its provider method has returned); returns
    /// whether it was cancelled first, which decides the HRESULT of `Done`.
    ///
    /// AcqRel: Acquire pairs with `cancel`'s Release; Release orders the
    /// provider's work before a registry that sees the end.
    pub fn end(&self) -> bool {
        let cancelled = self.word.fetch_or(ENDED, Ordering::AcqRel) & CANCELLED != 0;
        self.wake();
        cancelled
    }

    /// Whether the provider method has returned. Acquire: pairs with `end`.
    pub fn has_ended(&self) -> bool {
        self.word.load(Ordering::Acquire) & ENDED != 0
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn busy_admits_one_sync_until_it_finishes() {
        let busy = Busy::new();
        assert!(busy.try_start());
        assert!(busy.is_running());
        assert!(!busy.try_start(), "a second start is refused");
        busy.finish();
        assert!(!busy.is_running());
        assert!(busy.try_start(), "the next sync may start");
    }

    #[test]
    fn cancel_before_the_end_is_seen_by_the_end() {
        let job = JobState::new();
        assert!(!job.is_cancelled());
        assert!(job.cancel());
        assert!(job.cancel(), "cancelling a running sync twice still reports it running");
        assert!(job.is_cancelled());
        assert!(job.end(), "the end sees the cancel");
        assert!(job.has_ended());
        assert!(!job.cancel(), "an ended sync cannot be cancelled");
    }

    /// Issue 17, item 6: a provider blocked in I/O can wait for the cancel.
    #[test]
    fn a_waiter_wakes_at_the_cancel_and_at_the_end_and_times_out_otherwise() {
        let job = std::sync::Arc::new(JobState::new());
        assert!(!job.wait_cancelled(Duration::from_millis(1)), "nothing happened: the wait times out");
        let canceller = job.clone();
        let cancel = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            canceller.cancel()
        });
        assert!(job.wait_cancelled(Duration::MAX), "a cancel wakes a wait without a limit");
        assert!(cancel.join().unwrap());
        let ended = std::sync::Arc::new(JobState::new());
        let ender = ended.clone();
        let end = std::thread::spawn(move || ender.end());
        assert!(!ended.wait_cancelled(Duration::MAX), "the end wakes the wait, which reports no cancel");
        assert!(!end.join().unwrap());
    }

    #[test]
    fn cancel_after_the_end_fails_and_changes_nothing() {
        let job = JobState::new();
        assert!(!job.end());
        assert!(!job.cancel());
        assert!(!job.is_cancelled());
    }
}

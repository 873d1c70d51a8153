//! The two atomic states of the sync protocol, each with its orderings, used
//! by `protocol.rs`, by `lifecycle` and by the loom models alike (so loom
//! checks the code that ships):
//!
//! - [`Busy`]: one object's busy flag, IDLE or RUNNING: one sync per object
//!   at a time.
//! - [`JobState`]: one sync's cancel and end word, shared by the job, the
//!   module's registry of running syncs and every
//!   [`CancelToken`](crate::lifecycle::CancelToken) the provider holds.
//!   Cancelling and ending are read-modify-writes of this one word, so they
//!   are totally ordered: a `cancel` that reports success is always seen by
//!   the worker when it ends, and one that comes after the end fails.

use crate::atomic::{AtomicU32, Ordering};

const IDLE: u32 = 0;
const RUNNING: u32 = 1;

/// One object's busy flag, kept in the object's header.
pub(crate) struct Busy(AtomicU32);

impl Busy {
    /// An idle flag.
    pub(crate) fn new() -> Self {
        Self(AtomicU32::new(IDLE))
    }

    /// IDLE to RUNNING; `false` when a sync of this object already runs
    /// (the caller answers MAPI_E_BUSY).
    ///
    /// Acquire on success: pairs with [`finish`](Self::finish)'s Release, so
    /// the new sync's use of the provider happens after the previous sync's.
    /// Relaxed on failure: a refused start touches nothing.
    pub(crate) fn try_start(&self) -> bool {
        self.0.compare_exchange(IDLE, RUNNING, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }

    /// RUNNING to IDLE: the sync has ended (or its start failed).
    ///
    /// Release: everything the ending sync did to the provider happens
    /// before the next [`try_start`](Self::try_start) that succeeds.
    pub(crate) fn finish(&self) {
        self.0.store(IDLE, Ordering::Release);
    }

    /// Whether a sync runs now (racy by nature: for reports and tests).
    #[cfg(test)]
    pub(crate) fn is_running(&self) -> bool {
        self.0.load(Ordering::Relaxed) == RUNNING
    }
}

const CANCELLED: u32 = 1;
const ENDED: u32 = 2;

/// One sync's cancel and end word: neither, cancelled, ended, or both (a
/// sync that was cancelled, then ended).
pub(crate) struct JobState(AtomicU32);

impl JobState {
    /// A running sync, not cancelled.
    pub(crate) fn new() -> Self {
        Self(AtomicU32::new(0))
    }

    /// Cancels the sync unless it has ended; returns whether it was running
    /// (and so is now cancelled: cancelling twice reports `true` twice).
    ///
    /// Release on success: what the canceller did before (closing the
    /// module, say) happens before the worker's [`is_cancelled`](Self::is_cancelled)
    /// that sees it. Acquire on the read: an ended sync is seen as ended.
    pub(crate) fn cancel(&self) -> bool {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |bits| (bits & ENDED == 0).then_some(bits | CANCELLED))
            .is_ok()
    }

    /// Whether the sync was cancelled. Acquire: pairs with `cancel`.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire) & CANCELLED != 0
    }

    /// Marks the sync ended (its provider method has returned); returns
    /// whether it was cancelled first, which decides the HRESULT of `Done`.
    ///
    /// AcqRel: Acquire pairs with `cancel`'s Release; Release orders the
    /// provider's work before a registry that sees the end.
    pub(crate) fn end(&self) -> bool {
        self.0.fetch_or(ENDED, Ordering::AcqRel) & CANCELLED != 0
    }

    /// Whether the provider method has returned. Acquire: pairs with `end`.
    pub(crate) fn has_ended(&self) -> bool {
        self.0.load(Ordering::Acquire) & ENDED != 0
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

    #[test]
    fn cancel_after_the_end_fails_and_changes_nothing() {
        let job = JobState::new();
        assert!(!job.end());
        assert!(!job.cancel());
        assert!(!job.is_cancelled());
    }
}

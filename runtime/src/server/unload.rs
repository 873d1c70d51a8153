//! Unload accounting: what keeps the module loaded (worker threads that
//! have not exited, live objects and `LockServer` locks), and the answer of
//! `DllCanUnloadNow`.
//!
//! To make something else keep the module loaded, add a field to [`Holds`],
//! fill it in [`holds`]: `unload_answer` already says S_FALSE for any
//! non-zero field.

use std::sync::atomic::{AtomicUsize, Ordering};

use windows_core::HRESULT;

use crate::hresult::{E_UNEXPECTED, S_FALSE, S_OK};
use crate::object::live_objects;

/// Module-wide `LockServer` locks.
static LOCKS: AtomicUsize = AtomicUsize::new(0);

/// What keeps the module loaded, counted at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Holds {
    /// Worker threads that have not exited yet (see [`lifecycle`](crate::lifecycle)):
    /// a worker runs this module's code after its last Release, through its
    /// thread-local destructors.
    pub(super) workers: usize,
    /// Objects made by this module and not yet freed (class factories included).
    pub(super) objects: usize,
    /// `LockServer(TRUE)` calls not yet matched by `LockServer(FALSE)`.
    pub(super) locks: usize,
    /// `SyncJob`s and `CancelToken`s alive: one kept past its sync runs this
    /// module's code on a thread of the provider's own until it is dropped.
    pub(super) tokens: usize,
}

/// What keeps the module loaded now.
pub(super) fn holds() -> Holds {
    // Workers first: once every one has exited (a join or a signalled thread
    // handle, which orders its whole run before this), none holds an object.
    let workers = crate::lifecycle::running_workers();
    // Acquire (both loads): pairs with the Release decrements in `free` and
    // `lock_server`, so a zero seen here follows the last use it counts.
    Holds {
        workers,
        objects: live_objects(),
        locks: LOCKS.load(Ordering::Acquire),
        tokens: crate::workers::live_tokens(),
    }
}

/// `DllCanUnloadNow`'s answer: S_OK only when nothing holds the module.
pub(super) fn unload_answer(holds: Holds) -> HRESULT {
    if holds == Holds::default() { S_OK } else { S_FALSE }
}

/// `DllCanUnloadNow`: S_FALSE while any worker thread of this module has not
/// exited, or any object made by this module (class factories included),
/// any `SyncJob` or `CancelToken` (one a provider kept past its sync, on a
/// thread of its own) or any `LockServer` lock lives, S_OK after.
///
/// ```
/// // Nothing of this module lives in this doctest yet.
/// assert_eq!(mapisync::server::can_unload_now(), mapisync::S_OK);
/// ```
pub fn can_unload_now() -> HRESULT {
    unload_answer(holds())
}

/// `IClassFactory::LockServer(lock)`: counts a lock, or takes one away; an
/// unlock without a lock is E_UNEXPECTED.
pub(super) fn lock_server(lock: bool) -> HRESULT {
    if lock {
        // Relaxed: a lock is only a number that DllCanUnloadNow reads.
        LOCKS.fetch_add(1, Ordering::Relaxed);
        return S_OK;
    }
    // Release: pairs with the Acquire load in `holds`.
    match LOCKS.fetch_update(Ordering::Release, Ordering::Relaxed, |locks| locks.checked_sub(1)) {
        Ok(_) => S_OK,
        Err(_) => E_UNEXPECTED,
    }
}

/// The current number of locks, for tests.
#[cfg(test)]
pub(super) fn locks() -> usize {
    LOCKS.load(Ordering::SeqCst)
}

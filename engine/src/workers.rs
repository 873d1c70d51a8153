//! The module's worker threads: the registry that admits each sync (or
//! refuses it after a shutdown), holds its cancel word, and reaps its thread
//! once the thread has exited; and the [`CancelToken`] a provider sees.
//! [`lifecycle`](https://docs.rs/mapisync/latest/mapisync/lifecycle/index.html) is the public API over it; the protocol
//! starts every worker through [`start_worker`].
//!
//! # What "exited" means
//! [`lifecycle::drain`](https://docs.rs/mapisync/latest/mapisync/lifecycle/fn.drain.html) and `DllCanUnloadNow` wait for each worker thread to
//! *terminate*, thread-local destructors (the provider's too) and std's
//! thread teardown included; releasing the last reference is not enough.
//! On Windows the test is the thread's handle (signalled only once the
//! thread terminated); on Linux a join (`pthread_tryjoin_np`,
//! `pthread_timedjoin_np`). While any worker thread has not been reaped, the
//! module holds a load reference on itself (`GetModuleHandleExW` /
//! `dlopen(RTLD_NOLOAD)`), given back by the reaping call: a host that
//! unloads without asking leaves the DLL loaded instead of crashing.

pub mod host_calls;
mod pin;
pub mod registry;
mod thread;

use core::cell::Cell;
use core::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use windows_result::HRESULT;

use crate::state::JobState;
use registry::{Registry, ScopeId, Ticket, Which};
use thread::WorkerThread;

/// This module's (DLL's) syncs.
pub static REGISTRY: LazyLock<ModuleRegistry> = LazyLock::new(|| ModuleRegistry(Registry::new()));

/// The module's registry: [`Registry`] with the module's worker threads,
/// behind methods that are not generic, so that its code is compiled once,
/// in this crate, and not again in the runtime that calls it (which, being
/// another crate, would otherwise instantiate the generic methods itself).
/// Each method is [`Registry`]'s of the same name.
pub struct ModuleRegistry(Registry<WorkerThread>);

impl ModuleRegistry {
    /// [`Registry::cancel`].
    pub fn cancel(&self, key: usize) -> bool {
        self.0.cancel(key)
    }

    /// [`Registry::cancel_all`].
    pub fn cancel_all(&self, which: Which) -> usize {
        self.0.cancel_all(which)
    }

    /// [`Registry::close_and_cancel`].
    pub fn close_and_cancel(&self, which: Which) -> usize {
        self.0.close_and_cancel(which)
    }

    /// [`Registry::reopen`].
    pub fn reopen(&self) {
        self.0.reopen();
    }

    /// [`Registry::is_closed`].
    pub fn is_closed(&self, which: Which) -> bool {
        self.0.is_closed(which)
    }

    /// [`Registry::open_scope`].
    pub fn open_scope(&self) -> ScopeId {
        self.0.open_scope()
    }

    /// [`Registry::running`].
    pub fn running(&self, which: Which) -> usize {
        self.0.running(which)
    }

    /// [`Registry::drain`].
    pub fn drain(&self, timeout: Duration, which: Which) -> Result<(), usize> {
        self.0.drain(timeout, which)
    }

    /// [`Registry::ask_for_hand_off`].
    pub fn ask_for_hand_off(&self) {
        self.0.ask_for_hand_off();
    }

    /// [`Registry::handle`].
    pub fn handle(&self, key: usize, scope: Option<ScopeId>) -> Ticket {
        self.0.handle(key, scope)
    }

    /// [`Registry::clone_handle`].
    pub fn clone_handle(&self, ticket: &Ticket) {
        self.0.clone_handle(ticket);
    }

    /// [`Registry::drop_handle`].
    pub fn drop_handle(&self, ticket: &Ticket) {
        self.0.drop_handle(ticket);
    }

    /// [`Registry::cancel_handle`].
    pub fn cancel_handle(&self, ticket: &Ticket) -> bool {
        self.0.cancel_handle(ticket)
    }
}

/// Admits a sync of the object at `key` (recorded with `alias`, the
/// forwarding store's address, if any) and starts `body` on its worker
/// thread; MAPI_E_END_OF_SESSION after `lifecycle::shutdown`, E_OUTOFMEMORY
/// when no thread could start (then `body` has been dropped).
///
/// Not generic: `body` comes boxed, so std's thread spawning is compiled
/// once, here, instead of in every provider crate (the provider's own build
/// stays as small as a windows-rs one; BENCHMARKS.md, build time).
pub fn start_worker(
    key: usize,
    alias: Option<usize>,
    token: &CancelToken,
    body: Box<dyn FnOnce() + Send>,
) -> Result<(), HRESULT> {
    // Should no thread start, `body` is dropped under the registry's lock:
    // none of its references is the last (the host holds the object, and the
    // store, for the call), so no object is destroyed (and no `forget`
    // locks the registry again) there.
    let body = Box::new(move || {
        body();
        REGISTRY.0.worker_ending(|| REGISTRY.0.reap());
    });
    REGISTRY.0.admit(key, alias, &token.0, move || WorkerThread::spawn(body))
}

/// The `ForwardSync` store whose slot 3 is forwarding on this thread now
/// (its IMAPISync pointer), if any: the alias of the sync it starts.
pub fn forwarder() -> Option<usize> {
    FORWARDING.get()
}

/// The object at `key` (a mapisync object's IMAPISync pointer) is being
/// destroyed: its [`SyncHandle`](https://docs.rs/mapisync/latest/mapisync/lifecycle/struct.SyncHandle.html)s go stale.
pub fn forget(key: usize) {
    // Loom models run their own registries; the module's is not theirs.
    #[cfg(not(all(loom, test)))]
    REGISTRY.0.forget(key);
    #[cfg(all(loom, test))]
    let _ = key;
}

thread_local! {
    /// The `ForwardSync` store whose slot 3 is forwarding on this thread
    /// now (the outermost one), so the sync it starts can be cancelled and
    /// scoped through the store's own IMAPISync too.
    static FORWARDING: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Runs `call` (a forwarding store's slot 3 calling its target's) with
/// `store` (the store's IMAPISync pointer) recorded as the forwarder, so
/// [`lifecycle::cancel`](https://docs.rs/mapisync/latest/mapisync/lifecycle/fn.cancel.html) and scopes resolve the
/// store to the sync it forwarded to.
pub fn forwarding_from<R>(store: *mut c_void, call: impl FnOnce() -> R) -> R {
    /// Restores the previous forwarder, even if `call` unwinds.
    struct Restore(Option<usize>);
    impl Drop for Restore {
        fn drop(&mut self) {
            FORWARDING.set(self.0);
        }
    }
    let outer = FORWARDING.get();
    let _restore = Restore(outer);
    FORWARDING.set(Some(outer.unwrap_or(store as usize)));
    call()
}

/// Whether a sync was cancelled, for provider code that reports no progress
/// (a download loop, a network client). Cheap to check and to clone; valid
/// after the sync ended.
///
/// ```
/// let job = mapisync::SyncJob::new(mapisync::SyncFlags::ON_DEMAND);
/// let token = job.cancel_token();
/// let download = std::thread::spawn(move || {
///     while !token.is_cancelled() {
///         std::thread::yield_now(); // fetch the next chunk
///     }
/// });
/// assert!(job.cancel_token().cancel());
/// download.join().unwrap();
/// assert!(job.is_cancelled());
/// ```
#[derive(Clone)]
pub struct CancelToken(pub(crate) Arc<JobState>, Alive);

/// A token for a new sync, not cancelled, for the runtime (not a method:
/// [`CancelToken`] is public, and this is not).
pub fn new_token() -> CancelToken {
    CancelToken::new()
}

/// The sync state behind `token`, for the runtime (not a method, for the
/// same reason as [`new_token`]).
pub fn token_state(token: &CancelToken) -> &Arc<JobState> {
    &token.0
}

/// Tokens alive in this module, every [`SyncJob`](https://docs.rs/mapisync/latest/mapisync/struct.SyncJob.html)'s own
/// among them, for `DllCanUnloadNow` (`server/unload.rs`): one kept past its
/// sync, on a thread of the provider's own, runs this module's code until
/// it is dropped, after the sync's worker has exited, as a live object does.
static LIVE_TOKENS: AtomicUsize = AtomicUsize::new(0);

/// How many tokens (and so jobs) are alive now.
pub fn live_tokens() -> usize {
    // Acquire: pairs with the Release decrement in `Alive::drop`, so a zero
    // seen here follows every dropped token's last use of its state.
    LIVE_TOKENS.load(Ordering::Acquire)
}

/// One token's share of [`LIVE_TOKENS`]: the token's last field, so the
/// count goes down after its state is dropped.
struct Alive;

impl Alive {
    fn new() -> Self {
        // Relaxed: only a number that `live_tokens` reads.
        LIVE_TOKENS.fetch_add(1, Ordering::Relaxed);
        Self
    }
}

impl Clone for Alive {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        LIVE_TOKENS.fetch_sub(1, Ordering::Release);
    }
}

impl CancelToken {
    /// A token for a new sync, not cancelled.
    pub(crate) fn new() -> Self {
        Self(Arc::new(JobState::new()), Alive::new())
    }

    /// Whether the sync was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }

    /// Cancels the sync, as [`lifecycle::cancel`](https://docs.rs/mapisync/latest/mapisync/lifecycle/fn.cancel.html)
    /// would; whether it was still running.
    /// (For provider code and tests: a provider can stop its own sync this
    /// way, which then ends with `MAPI_E_USER_CANCEL`.)
    pub fn cancel(&self) -> bool {
        self.0.cancel()
    }

    /// Waits at most `timeout` for the cancel, for provider code that
    /// blocks (a helper thread that would sleep between retries, a loop
    /// around a blocking read with a timeout of its own): `true` as soon as
    /// the sync is cancelled, at once if it already was; `false` when the
    /// sync ended without a cancel or `timeout` passed. `Duration::MAX`
    /// waits without a limit (until the cancel or the end). A cancel wakes
    /// every waiter at once, from whichever thread cancels.
    ///
    /// ```
    /// use std::time::Duration;
    /// let job = mapisync::SyncJob::new(mapisync::SyncFlags::ON_DEMAND);
    /// let token = job.cancel_token();
    /// // Retry every 30 s, but stop at once when the sync is cancelled.
    /// let retries = std::thread::spawn(move || {
    ///     let mut attempts = 0;
    ///     while !token.wait_cancelled(Duration::from_secs(30)) {
    ///         attempts += 1; // try the server again
    ///     }
    ///     attempts
    /// });
    /// job.cancel_token().cancel();
    /// assert_eq!(retries.join().unwrap(), 0, "the cancel woke the wait before its first timeout");
    /// ```
    #[must_use = "the result says whether the sync was cancelled"]
    pub fn wait_cancelled(&self, timeout: Duration) -> bool {
        self.0.wait_cancelled(timeout)
    }
}

impl core::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.0.is_cancelled())
            .field("ended", &self.0.has_ended())
            .finish()
    }
}

//! The done event: the handle a sync writes to `*phSyncDoneEvent` and
//! signals when it ends.
//!
//! On Windows it is a real Win32 manual-reset event (`CreateEventW`); the
//! host waits on it with `WaitForSingleObject` and closes it with
//! `CloseHandle`. Elsewhere it is a portable event owned by this crate: wait
//! on it with [`wait`] (or the C function [`mapisync_wait_event`]) and close it
//! with [`close`] (or [`mapisync_close_event`]). Either way the host owns the
//! handle once `SynchronizeInBackground` returns S_OK, and the worker signals
//! its own duplicate, so a host that closes early never makes the worker
//! touch a dead handle.

use core::time::Duration;

use crate::HANDLE;

/// `WaitForSingleObject`'s result when the event was signalled.
pub const WAIT_OBJECT_0: u32 = 0;
/// `WaitForSingleObject`'s result when the time ran out first.
pub const WAIT_TIMEOUT: u32 = 0x102;
/// `WaitForSingleObject`'s result for a bad handle.
pub const WAIT_FAILED: u32 = 0xFFFF_FFFF;
/// `INFINITE`: wait without a time limit.
pub const INFINITE: u32 = 0xFFFF_FFFF;

/// The protocol's side of the done event: what the runtime creates, signals
/// and closes; not a public API.
#[doc(hidden)]
pub mod worker {
    use windows_result::HRESULT;

    use super::{close, platform};
    use crate::HANDLE;

    /// The worker's side of a done event: signals, and closes its own handle on drop.
    pub struct WorkerEvent(platform::Event);

    /// Creates a done event; returns the host's handle and the worker's side.
    pub fn create() -> Result<(HANDLE, WorkerEvent), HRESULT> {
        platform::create().map(|(host, worker)| (host, WorkerEvent(worker)))
    }

    impl WorkerEvent {
        /// Wakes every waiter, now and later (manual reset).
        pub fn signal(&self) {
            self.0.signal();
        }
    }

    /// Closes a host handle that was never handed over (a failed start).
    ///
    /// # Safety
    /// `handle` is the host's handle from a [`create`] and was never given
    /// to anyone.
    pub unsafe fn close_unhanded(handle: HANDLE) {
        // SAFETY: this function's Safety: the handle came from `create` and nobody else has it.
        unsafe { close(handle) };
    }
}

/// Waits until the event is signalled or `timeout` passes (`None`: no limit).
/// Returns whether it was signalled; `false` for a NULL handle.
///
/// The timeout is rounded up to whole milliseconds (a wait of 1 µs waits
/// 1 ms, never 0), and a finite timeout stays finite: it is capped just
/// below `INFINITE`, at about 49.7 days.
///
/// # Safety
/// `handle` is NULL or a done event from `SynchronizeInBackground` that has
/// not been closed.
#[must_use = "false means the time ran out before the event was signalled"]
pub unsafe fn wait(handle: HANDLE, timeout: Option<Duration>) -> bool {
    if handle.is_null() {
        return false;
    }
    // SAFETY: the caller vouches for a non-null handle.
    unsafe { platform::wait(handle, timeout_ms(timeout)) == WAIT_OBJECT_0 }
}

/// `timeout` as `WaitForSingleObject` milliseconds: rounded up, and finite
/// unless `None` (`INFINITE`).
fn timeout_ms(timeout: Option<Duration>) -> u32 {
    const LONGEST: u32 = INFINITE - 1;
    timeout.map_or(INFINITE, |t| {
        let ms = t.as_nanos().div_ceil(1_000_000);
        u32::try_from(ms).map_or(LONGEST, |ms| ms.min(LONGEST))
    })
}

/// Closes a done event. Each handle is closed exactly once, by its owner;
/// closing NULL does nothing.
///
/// # Safety
/// `handle` is NULL or a done event from `SynchronizeInBackground` that has
/// not been closed.
pub unsafe fn close(handle: HANDLE) {
    if handle.is_null() {
        return;
    }
    // SAFETY: the caller vouches for a non-null handle.
    unsafe { platform::close(handle) };
}

/// A done event owned by Rust code: waits, and closes on drop.
///
/// ```no_run
/// # fn f(handle_from_mapisib: mapisync::abi::HANDLE) {
/// // SAFETY: the handle was just written by a successful SynchronizeInBackground.
/// let event = unsafe { mapisync::event::DoneEvent::from_raw(handle_from_mapisib) }.unwrap();
/// assert!(event.wait(Some(std::time::Duration::from_secs(5))));
/// # }
/// ```
#[derive(Debug)]
pub struct DoneEvent(HANDLE);

// SAFETY: Send: a Win32 event handle, or the portable event (an Arc of a
// Mutex and Condvar), may be waited on and closed from any thread.
unsafe impl Send for DoneEvent {}
// SAFETY: Sync: waiting takes `&self` and is thread-safe for both kinds.
unsafe impl Sync for DoneEvent {}

impl DoneEvent {
    /// Takes ownership of a handle; `None` for NULL.
    ///
    /// # Safety
    /// `handle` is NULL or an open done event that nobody else will close.
    pub unsafe fn from_raw(handle: HANDLE) -> Option<Self> {
        // `then`, not `then_some`: a DoneEvent of NULL must never exist, even
        // briefly (its Drop would close NULL).
        (!handle.is_null()).then(|| Self(handle))
    }

    /// The raw handle (still owned by `self`).
    pub fn as_raw(&self) -> HANDLE {
        self.0
    }

    /// Waits until signalled or `timeout` passes (`None`: no limit), with
    /// [`wait`](fn@wait)'s rounding. Returns whether it was signalled.
    #[must_use = "false means the time ran out before the event was signalled"]
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        // SAFETY: `self` owns an open handle.
        unsafe { wait(self.0, timeout) }
    }

    /// Whether the event is signalled now, without waiting.
    #[must_use]
    pub fn is_signalled(&self) -> bool {
        self.wait(Some(Duration::ZERO))
    }
}

impl Drop for DoneEvent {
    fn drop(&mut self) {
        // SAFETY: `self` owns the handle and closes it once.
        unsafe { close(self.0) };
    }
}

/// C entry point for hosts on platforms without Win32 events:
/// `WaitForSingleObject` semantics. Returns [`WAIT_OBJECT_0`],
/// [`WAIT_TIMEOUT`], or [`WAIT_FAILED`] for a NULL handle.
///
/// A provider library exports it under this name on platforms other than
/// Windows (`include/imapisync.h` declares its type). On Windows the host
/// uses `WaitForSingleObject`, and a provider DLL exports only the entry
/// points its author asked for, so there it is a plain Rust function.
///
/// # Safety
/// `handle` is NULL or an open done event.
// Not in the crate's unit tests: they link a second, non-test build of the
// crate (through the dev-dependency on mapisync the doctests need), which
// exports these two names; the test build's copies keep Rust names.
#[cfg_attr(all(not(windows), not(test)), unsafe(no_mangle))]
pub unsafe extern "C" fn mapisync_wait_event(handle: HANDLE, timeout_ms: u32) -> u32 {
    if handle.is_null() {
        return WAIT_FAILED;
    }
    // SAFETY: the caller vouches for a non-null handle.
    unsafe { platform::wait(handle, timeout_ms) }
}

/// C entry point: `CloseHandle` semantics. Returns 1, or 0 for a NULL handle.
///
/// Exported, as [`mapisync_wait_event`] is, on platforms other than Windows
/// only; on Windows the host uses `CloseHandle`.
///
/// # Safety
/// `handle` is NULL or an open done event, closed at most once.
#[cfg_attr(all(not(windows), not(test)), unsafe(no_mangle))]
pub unsafe extern "C" fn mapisync_close_event(handle: HANDLE) -> i32 {
    if handle.is_null() {
        return 0;
    }
    // SAFETY: the caller vouches for a non-null handle.
    unsafe { platform::close(handle) };
    1
}

#[cfg(windows)]
mod platform {
    use super::HANDLE;
    use crate::win32::{
        CloseHandle, CreateEventW, DUPLICATE_SAME_ACCESS, DuplicateHandle, GetCurrentProcess, GetLastError, SetEvent,
        WaitForSingleObject,
    };
    use windows_result::HRESULT;

    /// The worker's own duplicate of the event handle.
    pub(super) struct Event(HANDLE);
    // SAFETY: Send: a Win32 handle may be used and closed from any thread.
    unsafe impl Send for Event {}

    fn last_error() -> HRESULT {
        // SAFETY: Win32: GetLastError has no preconditions.
        HRESULT::from_win32(unsafe { GetLastError() })
    }

    pub(super) fn create() -> Result<(HANDLE, Event), HRESULT> {
        // SAFETY: Win32: null security attributes and name are allowed; manual reset, not signalled.
        let host = unsafe { CreateEventW(core::ptr::null(), 1, 0, core::ptr::null()) };
        if host.is_null() {
            return Err(last_error());
        }
        let mut worker: HANDLE = core::ptr::null_mut();
        // SAFETY: Win32: `host` is a handle we just opened in this process; `worker` is writable.
        let ok = unsafe {
            let process = GetCurrentProcess();
            DuplicateHandle(process, host, process, &mut worker, 0, 0, DUPLICATE_SAME_ACCESS)
        };
        if ok == 0 {
            let hr = last_error();
            // SAFETY: Win32: `host` is ours and not handed over yet.
            unsafe { CloseHandle(host) };
            return Err(hr);
        }
        Ok((host, Event(worker)))
    }

    impl Event {
        pub(super) fn signal(&self) {
            // SAFETY: Win32: `self.0` is our own open duplicate.
            unsafe { SetEvent(self.0) };
        }
    }

    impl Drop for Event {
        fn drop(&mut self) {
            // SAFETY: Win32: our own duplicate, closed once.
            unsafe { CloseHandle(self.0) };
        }
    }

    /// Waits up to `ms` milliseconds (`INFINITE`: no limit) for the event.
    ///
    /// # Safety
    /// Win32: `handle` is an open event handle the caller owns.
    pub(super) unsafe fn wait(handle: HANDLE, ms: u32) -> u32 {
        // SAFETY: Win32: the caller vouches for the handle.
        unsafe { WaitForSingleObject(handle, ms) }
    }

    /// Closes the event.
    ///
    /// # Safety
    /// Win32: `handle` is an open event handle the caller owns; it is closed once.
    pub(super) unsafe fn close(handle: HANDLE) {
        if handle.is_null() {
            return;
        }
        // SAFETY: Win32: the caller vouches for the handle and closes it once.
        unsafe { CloseHandle(handle) };
    }
}

#[cfg(not(windows))]
mod platform {
    use super::{HANDLE, INFINITE, WAIT_OBJECT_0, WAIT_TIMEOUT};
    use std::sync::{Arc, Condvar, Mutex, PoisonError};
    use std::time::{Duration, Instant};
    use windows_result::HRESULT;

    /// A manual-reset event. The host's handle is one `Arc` turned into a raw
    /// pointer; the worker holds another.
    #[derive(Default)]
    pub(super) struct Shared {
        state: Mutex<State>,
        woken: Condvar,
    }

    #[derive(Default)]
    struct State {
        signalled: bool,
        /// Threads blocked in `wait`: with none, `signal` skips the wake-up
        /// (a futex call on Linux), the common case of a host waiting on `Done`.
        waiters: u32,
    }

    pub(super) struct Event(Arc<Shared>);

    pub(super) fn create() -> Result<(HANDLE, Event), HRESULT> {
        let shared = Arc::new(Shared::default());
        let host = Arc::into_raw(shared.clone()) as HANDLE;
        Ok((host, Event(shared)))
    }

    impl Event {
        pub(super) fn signal(&self) {
            let mut state = self.0.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.signalled = true;
            let waiters = state.waiters;
            drop(state);
            if waiters > 0 {
                self.0.woken.notify_all();
            }
        }
    }

    /// Waits up to `ms` milliseconds (`INFINITE`: no limit) for the event.
    ///
    /// # Safety
    /// Arc: `handle` came from `create` and has not been closed.
    pub(super) unsafe fn wait(handle: HANDLE, ms: u32) -> u32 {
        // SAFETY: Arc: the handle is an Arc<Shared> from `create` that is not
        // closed, so the pointee is alive for this borrow.
        let shared = unsafe { &*(handle as *const Shared) };
        let deadline = (ms != INFINITE).then(|| Instant::now() + Duration::from_millis(ms.into()));
        let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.waiters += 1;
        while !state.signalled {
            state = match deadline {
                None => shared.woken.wait(state).unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    shared.woken.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0
                }
            };
        }
        state.waiters -= 1;
        if state.signalled { WAIT_OBJECT_0 } else { WAIT_TIMEOUT }
    }

    /// Closes the event: gives up the handle's strong count.
    ///
    /// # Safety
    /// Arc: `handle` came from `create` and is closed once.
    pub(super) unsafe fn close(handle: HANDLE) {
        if handle.is_null() {
            return;
        }
        // SAFETY: Arc: the handle owns one strong count from `create`; this gives it up once.
        drop(unsafe { Arc::from_raw(handle as *const Shared) });
    }
}

#[cfg(test)]
mod tests {
    use super::worker::{close_unhanded, create};
    use super::*;

    #[test]
    fn signal_wakes_a_waiter_and_stays_signalled() {
        let (host, worker) = create().unwrap();
        // SAFETY: test: `host` is a fresh handle owned here.
        let event = unsafe { DoneEvent::from_raw(host) }.unwrap();
        assert!(!event.is_signalled());
        let waiter = std::thread::spawn(move || event.wait(None));
        worker.signal();
        assert!(waiter.join().unwrap());
    }

    #[test]
    fn wait_times_out_when_not_signalled() {
        let (host, _worker) = create().unwrap();
        // SAFETY: test: `host` is a fresh handle owned here.
        let event = unsafe { DoneEvent::from_raw(host) }.unwrap();
        assert!(!event.wait(Some(Duration::from_millis(10))));
    }

    #[test]
    fn c_entry_points_reject_null() {
        // SAFETY: test: NULL is an accepted input.
        unsafe {
            assert_eq!(mapisync_wait_event(core::ptr::null_mut(), 0), WAIT_FAILED);
            assert_eq!(mapisync_close_event(core::ptr::null_mut()), 0);
        }
    }

    #[test]
    fn closing_null_does_nothing_on_every_path() {
        // SAFETY: test: NULL is an accepted input everywhere.
        unsafe {
            close(core::ptr::null_mut());
            platform::close(core::ptr::null_mut());
            assert!(!wait(core::ptr::null_mut(), Some(Duration::ZERO)));
            assert!(DoneEvent::from_raw(core::ptr::null_mut()).is_none());
        }
    }

    #[test]
    fn a_sub_millisecond_wait_waits_and_a_finite_one_stays_finite() {
        let (host, _worker) = create().unwrap();
        // SAFETY: test: `host` is a fresh handle owned here.
        let event = unsafe { DoneEvent::from_raw(host) }.unwrap();
        let start = std::time::Instant::now();
        assert!(!event.wait(Some(Duration::from_micros(300))));
        assert!(start.elapsed() >= Duration::from_micros(300), "waited {:?}", start.elapsed());
        assert_eq!(timeout_ms(Some(Duration::from_nanos(1))), 1);
        assert_eq!(timeout_ms(Some(Duration::ZERO)), 0);
        assert_eq!(timeout_ms(Some(Duration::from_millis(0xFFFF_FFFF))), INFINITE - 1);
        assert_eq!(timeout_ms(Some(Duration::MAX)), INFINITE - 1);
        assert_eq!(timeout_ms(None), INFINITE);
    }

    #[test]
    fn host_may_close_before_the_worker_signals() {
        let (host, worker) = create().unwrap();
        // SAFETY: `host` is from `create` just above and given to no one.
        unsafe { close_unhanded(host) };
        worker.signal();
    }
}

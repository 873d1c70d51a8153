//! Worker threads whose *exit* can be observed: not the end of the closure
//! (`JoinHandle::is_finished`), but the end of the thread, after std's
//! teardown and every thread-local destructor (provider code included).
//!
//! - Windows: the thread's own handle. A thread handle is signalled only
//!   after the thread terminated, TLS callbacks (which run Rust's
//!   thread-local destructors) and `DLL_THREAD_DETACH` done;
//!   `WaitForSingleObject` tests it (0 ms) or waits for it.
//! - Linux (glibc, musl): the thread's `pthread_t`, taken from std's handle.
//!   `pthread_tryjoin_np` tests and `pthread_timedjoin_np` waits; a join
//!   returns only once the thread has terminated, after its thread-local
//!   destructors ran.
//! - Elsewhere (and under Miri, which cannot call the above): std's
//!   `JoinHandle`. A thread counts as exited once `is_finished` says its
//!   closure returned, and is then joined, which waits for the rest of its
//!   teardown; the wait for a slow thread-local destructor is then not
//!   bounded by the timeout.

use std::io;
use std::thread::ThreadId;
use std::time::Instant;

use crate::workers::registry::Exit;

/// The name every worker thread carries (debuggers, `ps -L`).
const NAME: &str = "mapisync-sync";

/// A running (or exited, not yet reaped) worker thread, and its identity.
pub struct WorkerThread(platform::Thread, ThreadId);

impl WorkerThread {
    /// Starts `body` on a new thread.
    pub fn spawn(body: Box<dyn FnOnce() + Send>) -> io::Result<Self> {
        let handle = std::thread::Builder::new().name(NAME.into()).spawn(body)?;
        let id = handle.thread().id();
        Ok(Self(platform::Thread::from_std(handle), id))
    }
}

impl Exit for WorkerThread {
    type Id = ThreadId;

    fn id(&self) -> ThreadId {
        self.1
    }

    fn current() -> ThreadId {
        std::thread::current().id()
    }

    fn has_exited(&mut self) -> bool {
        self.0.try_reap()
    }

    fn wait_exit(&mut self, deadline: Option<Instant>) -> bool {
        self.0.wait(deadline)
    }

    #[cfg(windows)]
    fn raw(&self) -> Option<crate::workers::pin::RawThread> {
        Some(self.0.raw())
    }
}

/// `left` as `WaitForSingleObject` milliseconds, at most `longest`: rounded
/// up, so a sub-millisecond rest waits 1 ms instead of testing once (0 ms).
#[cfg(any(windows, test))]
fn wait_ms(left: std::time::Duration, longest: u32) -> u32 {
    u32::try_from(left.as_nanos().div_ceil(1_000_000)).map_or(longest, |ms| ms.min(longest))
}

#[cfg(test)]
#[test]
fn a_sub_millisecond_rest_waits_a_millisecond_and_a_long_one_stays_finite() {
    use std::time::Duration;
    assert_eq!(wait_ms(Duration::ZERO, 9), 0);
    assert_eq!(wait_ms(Duration::from_micros(500), 9), 1, "rounded up, not down to a 0 ms test");
    assert_eq!(wait_ms(Duration::from_nanos(1_000_001), 9), 2);
    assert_eq!(wait_ms(Duration::MAX, u32::MAX - 1), u32::MAX - 1, "never INFINITE");
}

#[cfg(windows)]
mod platform {
    use std::os::windows::io::IntoRawHandle;
    use std::thread::JoinHandle;
    use std::time::Instant;

    use crate::event::{INFINITE, WAIT_OBJECT_0};
    use crate::win32::{CloseHandle, HANDLE, WaitForSingleObject};

    /// The thread's handle, owned (closed on drop).
    pub(super) struct Thread(HANDLE);

    // SAFETY: Send: a Win32 thread handle may be waited on and closed from any thread.
    unsafe impl Send for Thread {}

    impl Thread {
        pub(super) fn from_std(handle: JoinHandle<()>) -> Self {
            // into_raw_handle: std gives up the handle without closing it.
            Self(handle.into_raw_handle() as HANDLE)
        }

        /// The handle, open until this value is dropped.
        pub(super) fn raw(&self) -> HANDLE {
            self.0
        }

        /// Whether the thread has terminated, without waiting.
        pub(super) fn try_reap(&mut self) -> bool {
            // SAFETY: Win32: `self.0` is our open thread handle (closed only in Drop).
            unsafe { WaitForSingleObject(self.0, 0) == WAIT_OBJECT_0 }
        }

        /// Waits until the thread terminated or `deadline` passes (`None`: no limit).
        pub(super) fn wait(&mut self, deadline: Option<Instant>) -> bool {
            let ms = match deadline {
                None => INFINITE,
                Some(deadline) => super::wait_ms(deadline.saturating_duration_since(Instant::now()), INFINITE - 1),
            };
            // SAFETY: Win32: `self.0` is our open thread handle (closed only in Drop).
            unsafe { WaitForSingleObject(self.0, ms) == WAIT_OBJECT_0 }
        }
    }

    impl Drop for Thread {
        fn drop(&mut self) {
            // SAFETY: Win32: our own handle, closed once. Closing a running
            // thread's handle does not stop the thread (a detach).
            unsafe { CloseHandle(self.0) };
        }
    }
}

#[cfg(all(target_os = "linux", not(miri)))]
mod platform {
    use core::ffi::{c_int, c_long, c_void};
    use std::os::unix::thread::{JoinHandleExt, RawPthread};
    use std::thread::JoinHandle;
    use std::time::{Instant, SystemTime, UNIX_EPOCH};

    /// `struct timespec` as glibc and musl declare it for these calls (a
    /// `long` pair on both 64-bit and classic 32-bit Linux).
    #[repr(C)]
    struct Timespec {
        tv_sec: c_long,
        tv_nsec: c_long,
    }

    // `EBUSY` (tryjoin: still running) and `ETIMEDOUT` (timedjoin) are the
    // "not yet" answers; anything but 0 means the thread was not joined.
    unsafe extern "C" {
        fn pthread_tryjoin_np(thread: RawPthread, retval: *mut *mut c_void) -> c_int;
        fn pthread_timedjoin_np(thread: RawPthread, retval: *mut *mut c_void, abstime: *const Timespec) -> c_int;
        fn pthread_join(thread: RawPthread, retval: *mut *mut c_void) -> c_int;
        fn pthread_detach(thread: RawPthread) -> c_int;
    }

    /// The thread, owned: joinable until `joined`.
    pub(super) struct Thread {
        id: RawPthread,
        joined: bool,
    }

    impl Thread {
        pub(super) fn from_std(handle: JoinHandle<()>) -> Self {
            // into_pthread_t: std hands over the joinable thread; joining or
            // detaching it is now ours to do, exactly once.
            Self { id: handle.into_pthread_t(), joined: false }
        }

        /// Joins the thread if it has terminated, without waiting.
        pub(super) fn try_reap(&mut self) -> bool {
            if !self.joined {
                // SAFETY: pthread: `self.id` is joinable and not yet joined
                // (`joined` is false), and `&mut self` means one join at a time.
                self.joined = unsafe { pthread_tryjoin_np(self.id, &mut core::ptr::null_mut()) } == 0;
            }
            self.joined
        }

        /// Joins the thread if it terminates before `deadline` (`None`: no limit).
        pub(super) fn wait(&mut self, deadline: Option<Instant>) -> bool {
            if self.joined {
                return true;
            }
            let mut result = core::ptr::null_mut();
            // SAFETY: pthread: `self.id` is joinable and not yet joined
            // (`joined` is false), and `&mut self` means one join at a time.
            let status = unsafe {
                match deadline {
                    None => pthread_join(self.id, &mut result),
                    Some(deadline) if deadline <= Instant::now() => pthread_tryjoin_np(self.id, &mut result),
                    Some(deadline) => pthread_timedjoin_np(self.id, &mut result, &wall_clock(deadline)),
                }
            };
            self.joined = status == 0;
            self.joined
        }
    }

    /// `deadline` on CLOCK_REALTIME, the clock `pthread_timedjoin_np` reads.
    fn wall_clock(deadline: Instant) -> Timespec {
        let at = SystemTime::now() + deadline.saturating_duration_since(Instant::now());
        let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
        Timespec { tv_sec: since.as_secs() as c_long, tv_nsec: since.subsec_nanos() as c_long }
    }

    impl Drop for Thread {
        fn drop(&mut self) {
            if !self.joined {
                // SAFETY: pthread: joinable and never joined: detached once,
                // so its resources go when it ends.
                unsafe { pthread_detach(self.id) };
            }
        }
    }
}

#[cfg(any(miri, not(any(windows, target_os = "linux"))))]
mod platform {
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    /// std's handle; `None` once joined.
    pub(super) struct Thread(Option<JoinHandle<()>>);

    impl Thread {
        pub(super) fn from_std(handle: JoinHandle<()>) -> Self {
            Self(Some(handle))
        }

        /// Joins the thread if its closure has returned, without waiting
        /// for it to return.
        pub(super) fn try_reap(&mut self) -> bool {
            self.wait(Some(Instant::now()))
        }

        /// Joins the thread once its closure has returned, polling until
        /// `deadline` (`None`: joins at once, without a limit).
        pub(super) fn wait(&mut self, deadline: Option<Instant>) -> bool {
            let Some(handle) = self.0.take() else { return true };
            if let Some(deadline) = deadline {
                while !handle.is_finished() {
                    if Instant::now() >= deadline {
                        self.0 = Some(handle);
                        return false;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            // The closure caught every panic, so the join's result is Ok;
            // either way the thread is gone.
            let _ = handle.join();
            true
        }
    }
}

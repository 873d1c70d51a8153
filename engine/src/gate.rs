//! [`Gated`]: a value that calls may use until its owner closes it. Closing
//! waits for the calls in flight, refuses every later one, and hands the
//! value to the closer, who then owns it alone.
//!
//! The job's host objects live in one: every [`SyncJob`](https://docs.rs/mapisync/latest/mapisync/struct.SyncJob.html) of
//! a sync reaches the host through it, and the worker closes it when the
//! provider's method returns, so a job the provider kept (`mem::replace`
//! into a static, say) never reaches the host after the sync, and the
//! worker releases the host's objects itself, with `Done`.
//!
//! One word holds the calls in flight and a CLOSED bit: a call is one
//! `fetch_add` in and one `fetch_sub` out (the hot path: no lock); the lock
//! and condition variable are touched only when the closer must wait.

use crate::atomic::{AtomicU32, Condvar, Mutex, Ordering};

/// Set once the value was closed; the low bits count calls in flight.
const CLOSED: u32 = 1 << 31;

/// A value shared by calls until it is closed. See the [module docs](self).
pub struct Gated<T> {
    gate: Gate,
    value: cell::UnsafeCell<Option<T>>,
}

/// The gate's word, lock and condition variable: the part of a [`Gated`]
/// that does not depend on the value, so it is compiled once, here, not
/// in every crate that gates a value of its own type.
struct Gate {
    /// Calls in flight, and CLOSED.
    state: AtomicU32,
    /// The closer waits here for the calls in flight to end.
    lock: Mutex<()>,
    drained: Condvar,
}

// SAFETY: Send: the value moves with the Gated, and to whoever closes it
// (T: Send).
unsafe impl<T: Send> Send for Gated<T> {}
// SAFETY: Sync: `with` lends `&T` to several threads at once (T: Sync);
// `close` moves the value to the closing thread (T: Send), and only after
// every such loan has ended (the protocol of the state word).
unsafe impl<T: Send + Sync> Sync for Gated<T> {}

impl<T> Gated<T> {
    /// An open gate around `value`.
    pub fn new(value: T) -> Self {
        Self { gate: Gate::new(), value: cell::UnsafeCell::new(Some(value)) }
    }

    /// Runs `f` on the value unless the gate was closed (`None` then).
    /// A `close` meanwhile waits until `f` has returned.
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        let open = self.gate.enter();
        let _exit = Exit(&self.gate);
        if !open {
            return None;
        }
        self.value.with(|value| {
            // SAFETY: the state word: this call was counted before the
            // gate closed, so the closer waits for `_exit` before it takes
            // the value; until then the value is only read.
            unsafe { (*value).as_ref() }.map(f)
        })
    }

    /// Closes the gate: waits for the calls in flight, then takes the value.
    /// `None` if it was closed before.
    pub fn close(&self) -> Option<T> {
        if !self.gate.close() {
            return None;
        }
        self.value.with_mut(|value| {
            // SAFETY: the state word: closed, and no call counted before
            // the close is in flight; later calls see CLOSED and never read.
            unsafe { (*value).take() }
        })
    }
}

impl Gate {
    fn new() -> Self {
        Self { state: AtomicU32::new(0), lock: Mutex::new(()), drained: Condvar::new() }
    }

    /// Counts a call in (an [`Exit`] counts it out, open or not); whether
    /// the gate was still open.
    fn enter(&self) -> bool {
        // Acquire: nothing to pair with on the way in (the value was
        // written before the gate was shared); kept for symmetry with the
        // closer's reads. An RMW, so it is ordered against `close`'s.
        let entered = self.state.fetch_add(1, Ordering::Acquire);
        entered & CLOSED == 0
    }

    /// Closes the gate and waits for the calls in flight; whether this call
    /// closed it (`false`: it was closed before).
    fn close(&self) -> bool {
        // Acquire: pairs with the Release of every `Exit` before it in the
        // word's modification order, so their reads of the value happen
        // before the caller's take.
        let before = self.state.fetch_or(CLOSED, Ordering::Acquire);
        if before & CLOSED != 0 {
            return false;
        }
        if before != 0 {
            let mut guard = self.lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            // Acquire: pairs with the Release of the last `Exit`.
            while self.state.load(Ordering::Acquire) != CLOSED {
                guard = self.drained.wait(guard).unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        }
        true
    }
}

/// Ends one call: uncounts it, and wakes a closer waiting for the last one.
struct Exit<'a>(&'a Gate);

impl Drop for Exit<'_> {
    fn drop(&mut self) {
        // Release: this call's reads of the value happen before the
        // closer's take (which reads the word with Acquire).
        let before = self.0.state.fetch_sub(1, Ordering::Release);
        if before == CLOSED | 1 {
            // The last call a closer may be waiting for. Taking the lock
            // orders this wake-up after the closer's check, or the check
            // after the decrement: the wake-up is never lost.
            drop(self.0.lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
            self.0.drained.notify_all();
        }
    }
}

/// The cell behind the gate: loom's in its models (which then check every
/// access against happens-before), else a plain `UnsafeCell` with loom's API.
mod cell {
    #[cfg(all(loom, test))]
    pub use loom::cell::UnsafeCell;

    /// `core::cell::UnsafeCell` with loom's `with`/`with_mut`.
    #[cfg(not(all(loom, test)))]
    pub struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

    #[cfg(not(all(loom, test)))]
    impl<T> UnsafeCell<T> {
        pub const fn new(value: T) -> Self {
            Self(core::cell::UnsafeCell::new(value))
        }

        pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn calls_reach_the_value_until_it_is_closed_then_never() {
        let gate = Gated::new(String::from("host"));
        assert_eq!(gate.with(String::len), Some(4));
        assert_eq!(gate.close().as_deref(), Some("host"));
        assert_eq!(gate.with(String::len), None);
        assert_eq!(gate.close(), None, "closed once");
    }

    #[test]
    fn close_waits_for_a_call_in_flight() {
        let gate = Arc::new(Gated::new(7_u32));
        let (inside, finished) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        let call = std::thread::spawn({
            let (gate, inside, finished) = (gate.clone(), inside.clone(), finished.clone());
            move || {
                gate.with(|value| {
                    inside.store(true, std::sync::atomic::Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    finished.store(true, std::sync::atomic::Ordering::SeqCst);
                    *value
                })
            }
        });
        while !inside.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::yield_now();
        }
        assert_eq!(gate.close(), Some(7));
        assert!(finished.load(std::sync::atomic::Ordering::SeqCst), "close returned while a call was in flight");
        assert_eq!(call.join().unwrap(), Some(7));
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    //! The gate under loom: a call racing the close either runs on the
    //! value before the close takes it (the gate's loom cell checks that
    //! order) or is refused; the close never returns while a call is in flight.
    //! (Checked to fail, with loom's "concurrent read and write accesses to
    //! `UnsafeCell`", when `Exit`'s Release and `close`'s Acquires are made Relaxed.)

    use std::sync::atomic::{AtomicUsize, Ordering};

    use loom::sync::Arc;
    use loom::thread;

    use super::Gated;

    #[test]
    fn a_call_racing_the_close_is_served_before_it_or_refused() {
        static EXECUTIONS: AtomicUsize = AtomicUsize::new(0);
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(3);
        builder.check(|| {
            EXECUTIONS.fetch_add(1, Ordering::Relaxed);
            let gate = Arc::new(Gated::new(1_u32));
            let callers: Vec<_> = (0..2)
                .map(|_| {
                    let gate = gate.clone();
                    thread::spawn(move || gate.with(|value| *value))
                })
                .collect();
            assert_eq!(gate.close(), Some(1), "closed once, with the value");
            for caller in callers {
                assert!(matches!(caller.join().unwrap(), None | Some(1)));
            }
            assert_eq!(gate.with(|value| *value), None);
        });
        println!("loom: gate model, {} executions explored", EXECUTIONS.load(Ordering::Relaxed));
    }
}

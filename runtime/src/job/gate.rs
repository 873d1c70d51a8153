//! [`Gated`]: a value that calls may use until its owner closes it. Closing
//! refuses every later call and hands the value, once no call counted
//! before the close is in flight, to a finisher the closer gave: the closer
//! never waits.
//!
//! The job's host objects live in one: every [`SyncJob`](crate::SyncJob) of
//! a sync reaches the host through it, and the worker closes it when the
//! provider's method returns, so a job the provider kept (`mem::replace`
//! into a static, say) never reaches the host after the sync, and the
//! finisher releases the host's objects, with `Done`.
//!
//! The finisher runs on the closer's thread when no call is in flight, else
//! on the thread of the last call in flight, right after that call: a host
//! call that cannot return until the worker has exited (the host calls
//! `lifecycle::shutdown` inside `Progress`) ends the sync instead of
//! deadlocking with it.
//!
//! One word holds the calls in flight and a CLOSED bit: a call is one
//! `fetch_add` in and one `fetch_sub` out (the hot path: no lock); the
//! finisher's slot and its lock are touched only by the close and by the
//! call that brings the count to zero after it.

use crate::atomic::{AtomicU32, Mutex, Ordering};

/// Set once the value was closed; the low bits count calls in flight.
const CLOSED: u32 = 1 << 31;

/// What the closer hands the value to: `None` if the gate was closed before.
pub(crate) type Finish<T> = Box<dyn FnOnce(Option<T>) + Send>;

/// A value shared by calls until it is closed. See the [module docs](self).
pub(crate) struct Gated<T> {
    /// Calls in flight, and CLOSED.
    state: AtomicU32,
    /// The closer's finisher until a thread takes it to run it (once).
    finish: Mutex<Option<Finish<T>>>,
    value: cell::UnsafeCell<Option<T>>,
}

// SAFETY: Send: the value moves with the Gated, and to whoever runs the
// finisher (T: Send).
unsafe impl<T: Send> Send for Gated<T> {}
// SAFETY: Sync: `with` lends `&T` to several threads at once (T: Sync);
// the finisher's thread takes the value (T: Send), and only after every
// such loan has ended (the protocol of the state word).
unsafe impl<T: Send + Sync> Sync for Gated<T> {}

impl<T> Gated<T> {
    /// An open gate around `value`.
    pub(crate) fn new(value: T) -> Self {
        Self { state: AtomicU32::new(0), finish: Mutex::new(None), value: cell::UnsafeCell::new(Some(value)) }
    }

    /// Runs `f` on the value unless the gate was closed (`None` then).
    /// A close meanwhile hands the value on only after `f` has returned.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        // Acquire: nothing to pair with on the way in (the value was
        // written before the gate was shared); kept for symmetry with the
        // taker's reads. An RMW, so it is ordered against `close`'s.
        let entered = self.state.fetch_add(1, Ordering::Acquire);
        let _exit = Exit(self);
        if entered & CLOSED != 0 {
            return None;
        }
        self.value.with(|value| {
            // SAFETY: the state word: this call was counted before the
            // gate closed, so the value is taken only after `_exit` has
            // uncounted it; until then the value is only read.
            unsafe { (*value).as_ref() }.map(f)
        })
    }

    /// Closes the gate: refuses every later call, and runs `finish` with the
    /// value once no call counted before is in flight: here and now if none
    /// is, else on the thread of the last one, right after it. Never waits
    /// for a call. A second close runs its `finish` at once, with `None`.
    pub(crate) fn close(&self, finish: Finish<T>) {
        let mut slot = self.finish.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Acquire: pairs with the Release of every `Exit` before it in the
        // word's modification order, so their reads of the value happen
        // before this thread's take below. Under the slot's lock: the `Exit`
        // that brings the count to zero after this takes the lock next, and
        // so finds the finisher in the slot.
        let before = self.state.fetch_or(CLOSED, Ordering::Acquire);
        if before & CLOSED != 0 {
            drop(slot);
            finish(None);
        } else {
            *slot = Some(finish);
            drop(slot);
            if before == 0 {
                self.run_finish();
            }
        }
    }

    /// Takes the finisher, if no thread took it yet, and runs it with the
    /// value. Called only once the word is CLOSED with no call counted.
    fn run_finish(&self) {
        let finish = self.finish.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        let Some(finish) = finish else { return };
        let value = self.value.with_mut(|value| {
            // SAFETY: the state word: closed, and no call counted before
            // the close is in flight (this thread saw the count reach zero
            // with an Acquire RMW, after their Release ones); later calls
            // see CLOSED and never read. `take` under the slot's lock runs
            // this once, so the value is taken once.
            unsafe { (*value).take() }
        });
        finish(value);
    }
}

/// Ends one call: uncounts it, and runs the finisher when it was the last
/// call in flight after a close.
struct Exit<'a, T>(&'a Gated<T>);

impl<T> Drop for Exit<'_, T> {
    fn drop(&mut self) {
        // Release: this call's reads of the value happen before the take of
        // whichever thread runs the finisher. Acquire: when this brings the
        // count to zero, every earlier call's Release decrement (all in this
        // RMW's release sequence) happens before this thread's take.
        let before = self.0.state.fetch_sub(1, Ordering::AcqRel);
        if before == CLOSED | 1 {
            self.0.run_finish();
        }
    }
}

/// The cell behind the gate: loom's in its models (which then check every
/// access against happens-before), else a plain `UnsafeCell` with loom's API.
mod cell {
    #[cfg(all(loom, test))]
    pub(crate) use loom::cell::UnsafeCell;

    /// `core::cell::UnsafeCell` with loom's `with`/`with_mut`.
    #[cfg(not(all(loom, test)))]
    pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

    #[cfg(not(all(loom, test)))]
    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(core::cell::UnsafeCell::new(value))
        }

        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::sync::{Arc, Barrier};

    /// A finisher that sends what it was given, and the thread it ran on.
    fn sender<T: Send + 'static>(to: mpsc::Sender<(Option<T>, std::thread::ThreadId)>) -> Finish<T> {
        Box::new(move |value| {
            let _ = to.send((value, std::thread::current().id()));
        })
    }

    #[test]
    fn calls_reach_the_value_until_it_is_closed_then_never() {
        let gate = Gated::new(String::from("host"));
        assert_eq!(gate.with(String::len), Some(4));
        let (to, finished) = mpsc::channel();
        gate.close(sender(to.clone()));
        let (value, thread) = finished.try_recv().expect("no call in flight: finished at once");
        assert_eq!((value.as_deref(), thread), (Some("host"), std::thread::current().id()));
        assert_eq!(gate.with(String::len), None);
        gate.close(sender(to));
        assert_eq!(finished.try_recv().map(|(value, _)| value), Ok(None), "closed once");
        assert!(finished.try_recv().is_err(), "each finisher ran once");
    }

    #[test]
    fn close_hands_the_value_to_the_call_in_flight_and_never_waits() {
        let gate = Arc::new(Gated::new(7_u32));
        let (inside, release) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
        let call = std::thread::spawn({
            let (gate, inside, release) = (gate.clone(), inside.clone(), release.clone());
            move || {
                let served = gate.with(|value| {
                    inside.wait();
                    release.wait(); // until the close has returned
                    *value
                });
                (served, std::thread::current().id())
            }
        });
        inside.wait();
        let (to, finished) = mpsc::channel();
        gate.close(sender(to)); // returns with the call still inside
        assert!(finished.try_recv().is_err(), "the value was handed on while a call was in flight");
        assert_eq!(gate.with(|value| *value), None, "a late call is refused");
        release.wait();
        let (served, caller) = call.join().unwrap();
        assert_eq!(served, Some(7));
        assert_eq!(finished.try_recv(), Ok((Some(7), caller)), "finished by the last call, on its thread");
        assert!(finished.try_recv().is_err(), "finished once");
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    //! The gate under loom: a call racing the close either runs on the
    //! value before the finisher takes it (the gate's loom cell checks every
    //! read against the take) or is refused; the finisher runs exactly once,
    //! with the value, on whichever thread ends the last call (or the
    //! closer's). (Checked to fail, with loom's "concurrent read and write
    //! accesses to `UnsafeCell`", when `Exit`'s AcqRel and `close`'s Acquire
    //! are made Relaxed.)

    use std::sync::atomic::{AtomicUsize, Ordering};

    use loom::sync::{Arc, Mutex};
    use loom::thread;

    use super::Gated;

    #[test]
    fn a_call_racing_the_close_is_served_before_the_finisher_or_refused() {
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
            let finished = Arc::new(Mutex::new(Vec::new()));
            let record = finished.clone();
            gate.close(Box::new(move |value| record.lock().unwrap().push(value)));
            for caller in callers {
                assert!(matches!(caller.join().unwrap(), None | Some(1)));
            }
            assert_eq!(*finished.lock().unwrap(), [Some(1)], "finished exactly once, with the value");
            assert_eq!(gate.with(|value| *value), None);
        });
        println!("loom: gate model, {} executions explored", EXECUTIONS.load(Ordering::Relaxed));
    }
}

//! The atomics and the lock the runtime's shared state uses: `core`'s and
//! `std`'s, or loom's in the crate's own tests built with `--cfg loom` (the
//! loom models; loom is a dev-dependency). A provider built with
//! `--cfg loom` for its own models gets `core`'s and `std`'s.

#[cfg(all(loom, test))]
pub use loom::sync::atomic::{AtomicU32, Ordering, fence};
#[cfg(all(loom, test))]
pub use loom::sync::{Condvar, Mutex, MutexGuard};

#[cfg(not(all(loom, test)))]
pub use core::sync::atomic::{AtomicU32, Ordering, fence};
#[cfg(not(all(loom, test)))]
pub use std::sync::{Condvar, Mutex, MutexGuard};

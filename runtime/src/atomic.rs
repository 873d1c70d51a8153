//! The atomics the object and protocol layers use: `core`'s, or loom's when
//! the crate is built with `--cfg loom` for model checking.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, Ordering, fence};

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicU32, Ordering, fence};

//! Panics that must not cross a COM boundary: their text, and dropping their
//! payloads without a second unwind.
//!
//! A panic payload is a `Box<dyn Any + Send>` whose `Drop` is arbitrary code;
//! dropping it can panic again, and that second panic would escape the
//! `catch_unwind` that caught the first. [`forget_payload`] drops it inside a
//! `catch_unwind` of its own, and so on for what that one catches.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The message of a panic payload (`panic!("...")` with or without arguments).
pub fn panic_text(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Lets go of a panic payload without letting a panicking Drop escape.
///
/// A payload whose Drop panics leaves that panic's payload to drop in turn
/// (usually a string, which drops cleanly); after a few such rounds (a
/// payload that keeps making panicking payloads) the last one is leaked
/// rather than dropped.
pub fn forget_payload(payload: Box<dyn Any + Send>) {
    let mut payload = payload;
    for _ in 0..4 {
        match catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            Ok(()) => return,
            Err(again) => payload = again,
        }
    }
    core::mem::forget(payload);
}

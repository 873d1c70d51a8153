//! TODO(lifecycle): stands in for `mapisync::lifecycle` (helper D's
//! branch) with the names and signatures fixed in the contract, until it
//! is merged; then this file goes and the callers name mapisync's module.

use std::time::Duration;

use mapisync::IMAPISync;

/// Cancels the running sync of `sync`, if any. (Stand-in: cancels nothing.)
pub fn cancel(_sync: &IMAPISync) -> bool {
    false
}

/// Refuses new syncs, cancels all and waits for every worker. (Stand-in: waits for nothing.)
pub fn shutdown(_timeout: Duration) -> Result<(), usize> {
    Ok(())
}

/// Accepts syncs again after `shutdown`. (Stand-in: nothing to do.)
pub fn reopen() {}

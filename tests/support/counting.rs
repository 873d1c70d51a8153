//! An allocator that counts allocations while armed, for tests that check
//! a path allocates nothing. A test binary installs it:
//! `#[global_allocator] static GLOBAL: Counting = Counting;`

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// [`System`], counting the allocations of a thread inside [`allocations_of`].
pub struct Counting;

std::thread_local! {
    /// Whether this thread is inside [`allocations_of`] (no destructor, no
    /// allocation to reach it: the allocator itself reads it).
    static ARMED: Cell<bool> = const { Cell::new(false) };
}
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: GlobalAlloc: forwards to System; the counter has no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: a thread's allocations after its thread-locals are
        // gone are not counted (and do not panic).
        if ARMED.try_with(Cell::get).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: GlobalAlloc: the caller's layout, as System requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: GlobalAlloc: allocated by System with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Runs `f` and counts the allocations this thread makes meanwhile (one
/// such count at a time in a process); its result and the count. Counts
/// only where the binary installed [`Counting`].
pub fn allocations_of<R>(f: impl FnOnce() -> R) -> (R, usize) {
    ALLOCATIONS.store(0, Ordering::SeqCst);
    ARMED.with(|armed| armed.set(true));
    let result = f();
    ARMED.with(|armed| armed.set(false));
    (result, ALLOCATIONS.load(Ordering::SeqCst))
}

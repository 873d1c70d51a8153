//! What a mapisync object costs in memory over the provider's own value: a
//! vtable pointer, the reference count and one state word (the sync's busy
//! flag), 16 bytes on 64-bit targets and 12 on 32-bit ones, and nothing else.
//!
//! Observed through the public API only: the allocation `.into()` makes (seen
//! by a counting global allocator) and the value's address inside the object
//! (the provider's `&self` during a sync, against the interface pointer).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use mapisync::host::Host;
use mapisync::{IMAPISync, Interface, MapiSync, SyncJob};

/// The header: `&'static Vtable` + `AtomicU32` refs + `AtomicU32` state.
const HEADER: usize = size_of::<usize>() + 4 + 4;

/// Forwards to the system allocator and, on a thread that asked for it,
/// remembers the sizes of the allocations it makes.
struct Recording;

thread_local! {
    static RECORDING: Cell<bool> = const { Cell::new(false) };
    static SIZES: Cell<[usize; 4]> = const { Cell::new([0; 4]) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: GlobalAlloc: every call forwards unchanged to `System`; the
// bookkeeping only touches const-initialised thread-locals without destructors,
// which never allocate.
unsafe impl GlobalAlloc for Recording {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if RECORDING.with(Cell::get) {
            let n = COUNT.with(Cell::get);
            if n < 4 {
                SIZES.with(|sizes| {
                    let mut all = sizes.get();
                    all[n] = layout.size();
                    sizes.set(all);
                });
            }
            COUNT.with(|count| count.set(n + 1));
        }
        // SAFETY: GlobalAlloc: the caller's layout contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: GlobalAlloc: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Recording = Recording;

/// The sizes of every allocation `make` performs on this thread.
fn allocations<T>(make: impl FnOnce() -> T) -> (T, Vec<usize>) {
    COUNT.with(|count| count.set(0));
    RECORDING.with(|on| on.set(true));
    let made = make();
    RECORDING.with(|on| on.set(false));
    let count = COUNT.with(Cell::get);
    assert!(count <= 4, "{count} allocations");
    let sizes = SIZES.with(Cell::get)[..count].to_vec();
    (made, sizes)
}

/// Where each provider found itself (`&self`) when the host ran its sync.
static EMPTY_AT: AtomicUsize = AtomicUsize::new(0);
static BYTES_AT: AtomicUsize = AtomicUsize::new(0);
static WORDS_AT: AtomicUsize = AtomicUsize::new(0);

struct Empty;
#[mapisync::provider]
impl MapiSync for Empty {
    fn synchronize_in_background(&self, _: &mut SyncJob) -> mapisync::Result<()> {
        EMPTY_AT.store(self as *const Self as usize, Ordering::SeqCst);
        Ok(())
    }
}

struct Bytes([u8; 100]);
#[mapisync::provider]
impl MapiSync for Bytes {
    fn synchronize_in_background(&self, _: &mut SyncJob) -> mapisync::Result<()> {
        assert_eq!(self.0[99], 7);
        BYTES_AT.store(self as *const Self as usize, Ordering::SeqCst);
        Ok(())
    }
}

struct Words(u64, u64, u64);
#[mapisync::provider]
impl MapiSync for Words {
    fn synchronize_in_background(&self, _: &mut SyncJob) -> mapisync::Result<()> {
        assert_eq!((self.0, self.1, self.2), (1, 2, 3));
        WORDS_AT.store(self as *const Self as usize, Ordering::SeqCst);
        Ok(())
    }
}

/// One allocation, exactly the header plus the value (the whole rounded up
/// to the alignment, as any struct is).
fn assert_one_allocation_of_header_plus<T>(make: impl FnOnce() -> IMAPISync) -> IMAPISync {
    let (sync, sizes) = allocations(make);
    let align = align_of::<T>().max(align_of::<usize>());
    let expected = (HEADER + size_of::<T>()).next_multiple_of(align);
    assert_eq!(sizes, [expected], "allocations made by .into() for {}", std::any::type_name::<T>());
    sync
}

/// The value sits right after the header: the provider's `&self`, recorded
/// in `at` during a sync, is the interface pointer plus HEADER.
fn assert_value_offset<T>(sync: &IMAPISync, at: &AtomicUsize) {
    let report = Host::new().run(sync).expect("the sync runs");
    assert_eq!(report.done, Some(mapisync::S_OK));
    let offset = at.load(Ordering::SeqCst) - sync.as_raw() as usize;
    assert_eq!(offset, HEADER.next_multiple_of(align_of::<T>()));
}

#[test]
fn header_is_sixteen_bytes_on_64_bit() {
    if cfg!(target_pointer_width = "64") {
        assert_eq!(HEADER, 16);
    } else {
        assert_eq!(HEADER, 12);
    }
}

#[test]
fn zero_sized_provider_costs_only_the_header() {
    let sync = assert_one_allocation_of_header_plus::<Empty>(|| Empty.into());
    assert_value_offset::<Empty>(&sync, &EMPTY_AT);
}

#[test]
fn byte_array_provider_costs_header_plus_value() {
    let sync = assert_one_allocation_of_header_plus::<Bytes>(|| Bytes([7; 100]).into());
    assert_value_offset::<Bytes>(&sync, &BYTES_AT);
}

#[test]
fn word_aligned_provider_costs_header_plus_value() {
    let sync = assert_one_allocation_of_header_plus::<Words>(|| Words(1, 2, 3).into());
    assert_value_offset::<Words>(&sync, &WORDS_AT);
}

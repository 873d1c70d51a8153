//! Hardening, through raw vtable pointers as a C host would call: the
//! reference count cannot wrap to zero, a Release that finds the count at
//! zero does not free a second time, and every failing call leaves its
//! out-parameter NULL (or, where the contract forbids touching it, untouched)
//! and takes no reference.
//!
//! The count tests reach the count word directly: the object's header is
//! `#[repr(C)] { vtable pointer, count: u32, state: u32, value }` (README,
//! "Reliability"), and setting the word stands in for two thousand million
//! AddRef calls.

use std::ffi::c_void;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use mapisync::{IMAPISync, MapiSync, SyncJob};
use mapisync_tests::*;

/// The count an object is pinned at once it passes the cap (README, "Reliability").
const PINNED: u32 = 0xC000_0000;
/// AddRef beyond this count pins the object.
const REF_CAP: u32 = 0x8000_0000;

/// Counts its syncs and drops; a sync can be held at `hold`.
#[derive(Default)]
struct Probe {
    entered: AtomicUsize,
    drops: AtomicUsize,
    hold: HoldPoint,
}

struct Hardened(Arc<Probe>);

#[mapisync::provider]
impl MapiSync for Hardened {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        self.0.entered.fetch_add(1, Ordering::SeqCst);
        self.0.hold.pass();
        Ok(())
    }
}

impl Drop for Hardened {
    fn drop(&mut self) {
        self.0.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn object() -> (Arc<Probe>, Raw) {
    let probe = Arc::new(Probe::default());
    let sync: IMAPISync = Hardened(probe.clone()).into();
    (probe, Raw(mapisync::Interface::into_raw(sync)))
}

/// The object's count word, right after its vtable pointer.
fn count_word<'a>(object: Raw) -> &'a AtomicU32 {
    // SAFETY: test: the header layout is documented (repr(C): a pointer, then
    // the u32 count); `object` holds a reference for as long as the test uses it.
    unsafe { &*(object.0 as *const u8).add(size_of::<*const c_void>()).cast::<AtomicU32>() }
}

/// Sets the count back to one and releases it: the object must be intact
/// and freed exactly once.
fn unpin_and_free(probe: &Probe, object: Raw) {
    count_word(object).store(1, Ordering::SeqCst);
    assert_eq!(object.release(), 0);
    assert_eq!(probe.drops.load(Ordering::SeqCst), 1);
}

#[test]
fn add_ref_at_the_cap_pins_the_count_and_never_wraps_or_frees() {
    let (probe, object) = object();
    count_word(object).store(REF_CAP - 1, Ordering::SeqCst);
    assert_eq!(object.add_ref(), REF_CAP, "below the cap AddRef counts normally");
    assert_eq!(object.add_ref(), PINNED, "past the cap the object is pinned");

    // The worst case: the count at its maximum, so the increment wraps to zero.
    count_word(object).store(u32::MAX, Ordering::SeqCst);
    assert_eq!(object.add_ref(), PINNED, "a wrap to zero is caught and pinned");
    assert_eq!(count_word(object).load(Ordering::SeqCst), PINNED);

    // A pinned object is immortal: no number of Releases frees it.
    for _ in 0..10_000 {
        assert_eq!(object.release(), PINNED);
    }
    assert_eq!(probe.drops.load(Ordering::SeqCst), 0);
    let (hr, same) = object.query(&IID_IMAPISYNC);
    assert_eq!((hr, same), (S_OK, object.0), "the pinned object still answers");
    assert_eq!(Raw(same).release(), PINNED);

    // (Pinned objects leak by design; the test frees this one so the leak
    // checkers of Miri and LeakSanitizer see a clean run.)
    unpin_and_free(&probe, object);
}

#[test]
fn release_that_finds_the_count_at_zero_pins_instead_of_freeing_twice() {
    let (probe, object) = object();
    // The state one Release too many would leave if the count were one short.
    count_word(object).store(0, Ordering::SeqCst);
    assert_eq!(object.release(), PINNED);
    assert_eq!(object.release(), PINNED);
    assert_eq!(probe.drops.load(Ordering::SeqCst), 0, "never freed from a zero count");
    unpin_and_free(&probe, object);
}

/// IIDs the object must refuse: every single-bit flip of the two it answers,
/// IID_NULL, all ones, and real interfaces it does not implement.
fn refused_iids() -> Vec<Guid> {
    let mut iids = Vec::new();
    for answered in [0x00000000_0000_0000_c000_000000000046_u128, 0x5024a385_2d44_486a_81a8_8f0ecb6071dd] {
        iids.extend((0..128).map(|bit| Guid::from_u128(answered ^ (1 << bit))));
    }
    iids.extend([
        Guid::from_u128(0),
        Guid::from_u128(u128::MAX),
        IID_ICLASSFACTORY,
        IID_IMAPISYNC_PROGRESS_CALLBACK,
        IID_UNRELATED,
    ]);
    iids
}

#[test]
fn every_failed_query_interface_leaves_a_null_out_parameter_and_no_reference() {
    let (probe, object) = object();
    let mut bad_inputs = 0;
    for iid in refused_iids() {
        let (hr, out) = object.query(&iid);
        assert_eq!((hr, out), (E_NOINTERFACE, std::ptr::null_mut()), "{iid:?}");
        bad_inputs += 1;
    }
    let mut out = SENTINEL;
    // SAFETY: test: NULL riid and a valid out-pointer.
    assert_eq!(unsafe { object.query_raw(std::ptr::null(), &mut out) }, E_POINTER);
    assert!(out.is_null(), "a NULL riid still clears *ppv");
    for iid in [IID_IUNKNOWN, IID_IMAPISYNC, IID_UNRELATED] {
        // SAFETY: test: a NULL out-pointer is the input under test.
        assert_eq!(unsafe { object.query_raw(&iid, std::ptr::null_mut()) }, E_POINTER);
    }
    // SAFETY: test: both NULL.
    assert_eq!(unsafe { object.query_raw(std::ptr::null(), std::ptr::null_mut()) }, E_POINTER);
    bad_inputs += 5;
    assert_eq!(object.count(), 1, "a failed QueryInterface took a reference");
    eprintln!("hardening: {bad_inputs} bad QueryInterface calls");
    assert_eq!(object.release(), 0);
    assert_eq!(probe.drops.load(Ordering::SeqCst), 1);
}

/// A MAPISIB of any size: the structure followed by spare bytes, all writable.
#[repr(C)]
struct Oversized {
    sib: Mapisib,
    spare: [u8; 64],
}

#[test]
fn every_failed_synchronize_sets_no_event_starts_nothing_and_keeps_no_reference() {
    let (probe, object) = object();
    let session = HostRef::session();
    let callback = HostRef::callback(Script::default());
    let refusing = HostRef::callback(Script { refuse_query: true, ..Script::default() });
    let mut bad_inputs = 0;

    // NULL MAPISIB.
    // SAFETY: test: NULL is the input under test.
    assert_eq!(unsafe { object.synchronize(std::ptr::null()) }, E_INVALIDARG);
    bad_inputs += 1;

    let hosts: [(Option<&HostRef>, Option<&HostRef>); 4] =
        [(None, None), (Some(&session), None), (Some(&session), Some(&callback)), (None, Some(&refusing))];
    let full = size_of::<Mapisib>() as u32;
    for (session, callback) in hosts {
        for flags in [0, 0x2200_02C3, u32::MAX] {
            // Every size too small for the structure: E_INVALIDARG, and the
            // out-pointer (past ulSize, so not readable) is left alone.
            for size in 0..full {
                let mut sib = Sib::new(flags, session, callback);
                sib.sib.ulSize = size;
                // SAFETY: test: a complete MAPISIB that claims to be shorter.
                assert_eq!(unsafe { object.synchronize(&*sib.sib) }, E_INVALIDARG, "ulSize {size}");
                assert_eq!(sib.handle(), SENTINEL, "ulSize {size}: a field past ulSize was written");
                bad_inputs += 1;
            }
            // A NULL out-pointer, at the exact size and at a larger one.
            for size in [full, full + 64] {
                let sib = Sib::new(flags, session, callback);
                let mut big = Oversized { sib: Mapisib { ulSize: size, ..*sib.sib }, spare: [0xA5; 64] };
                big.sib.phSyncDoneEvent = std::ptr::null_mut();
                // SAFETY: test: `big` is readable for `size` bytes.
                assert_eq!(unsafe { object.synchronize(&big.sib) }, E_INVALIDARG);
                bad_inputs += 1;
            }
        }
    }
    assert_eq!(probe.entered.load(Ordering::SeqCst), 0, "a refused call started a sync");

    // MAPI_E_BUSY while a sync runs, for every host shape.
    probe.hold.hold();
    let running = Sib::new(0, Some(&session), Some(&callback));
    // SAFETY: test: a complete MAPISIB.
    assert_eq!(unsafe { object.synchronize(&*running.sib) }, S_OK);
    assert!(probe.hold.wait_held());
    let (session_count, callback_count, refusing_count) = (session.count(), callback.count(), refusing.count());
    let object_count = object.count();
    for (session_arg, callback_arg) in hosts {
        for flags in [0, 0x2200_02C3, u32::MAX] {
            for size in [full, full + 64] {
                let sib = Sib::new(flags, session_arg, callback_arg);
                let mut big = Oversized { sib: Mapisib { ulSize: size, ..*sib.sib }, spare: [0xA5; 64] };
                let mut handle = SENTINEL;
                big.sib.phSyncDoneEvent = &mut handle;
                // SAFETY: test: `big` is readable for `size` bytes; `handle` is writable.
                assert_eq!(unsafe { object.synchronize(&big.sib) }, MAPI_E_BUSY);
                assert!(handle.is_null(), "*phSyncDoneEvent must be NULL on MAPI_E_BUSY");
                bad_inputs += 1;
            }
        }
    }
    assert_eq!(
        (session.count(), callback.count(), refusing.count(), object.count()),
        (session_count, callback_count, refusing_count, object_count),
        "a refused call kept a reference"
    );
    probe.hold.release();
    assert!(wait_event(running.handle(), PATIENCE));
    close_event(running.handle());
    assert_eq!(probe.entered.load(Ordering::SeqCst), 1, "only the one accepted sync ran");
    assert_eq!(callback.wait_count(1, PATIENCE), 1);
    assert_eq!(session.wait_count(1, PATIENCE), 1);
    let done = callback.calls().iter().filter(|call| matches!(call, Call::Done { .. })).count();
    assert_eq!(done, 1, "Done only for the accepted sync");
    assert!(refusing.calls().is_empty());

    eprintln!("hardening: {bad_inputs} bad SynchronizeInBackground calls");
    let deadline = std::time::Instant::now() + PATIENCE;
    while object.count() != 1 && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert_eq!(object.release(), 0);
    assert_eq!(probe.drops.load(Ordering::SeqCst), 1);
}

/// A panicking `Host::on_event` listener (a test's `assert!`) runs inside the
/// host's `extern "system"` callback methods; it must reach the thread that
/// called `run` as that thread's panic, not abort the process.
#[test]
fn a_panicking_listener_is_re_raised_on_the_thread_that_called_run() {
    let probe = Arc::new(Probe::default());
    let sync: IMAPISync = Hardened(probe.clone()).into();
    let host = mapisync::host::Host::new().on_event(|_| panic!("the listener's assertion failed"));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| host.run(&sync)));
    let payload = outcome.expect_err("run re-raises the listener's panic");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"the listener's assertion failed"));
    assert_eq!(probe.entered.load(Ordering::SeqCst), 1);
    // The sync ended normally around the panic: the object takes the next one.
    let report = mapisync::host::Host::new().run(&sync).unwrap();
    assert_eq!(report.done, Some(mapisync::S_OK));
    assert!(report.balanced());
}

/// A panic payload whose own `Drop` panics: dropping it after a
/// `catch_unwind` starts a second unwind.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("the payload's Drop panics too");
    }
}

/// A provider whose `Drop` panics with a [`Bomb`] as its payload.
struct DropsABomb(Arc<AtomicUsize>);

#[mapisync::provider]
impl MapiSync for DropsABomb {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

impl Drop for DropsABomb {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        std::panic::panic_any(Bomb);
    }
}

#[test]
fn a_drop_panicking_with_a_panicking_payload_stays_inside_release() {
    let drops = Arc::new(AtomicUsize::new(0));
    let sync: IMAPISync = DropsABomb(drops.clone()).into();
    let object = Raw(mapisync::Interface::into_raw(sync));
    assert_eq!(object.add_ref(), 2);
    assert_eq!(object.release(), 1);
    assert_eq!(object.release(), 0, "the last Release frees the object and returns 0");
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the provider was dropped once");
}

//! IMAPISync on a store object: a mapisync object aggregated into a
//! hand-written outer object (and made by a class factory with an outer),
//! and a tear-off handed out by a store's own QueryInterface.
//!
//! The outer objects here are written as a C host would write them, and
//! every identity and count is read through raw vtable pointers. The one
//! test with a windows-core `#[implement]` store is ignored under Miri
//! (windows-core's own objects do not pass it); everything else runs there.

#![allow(non_snake_case)]

use std::ffi::c_void;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mapisync::aggregate::new_aggregatable;
use mapisync::host::{Conformance, Host, Rule};
use mapisync::server::{ServerClass, clsid, get_class_object, new_provider};
use mapisync::{IMAPISync, IUnknown, Interface, MapiSync, SyncJob};
use mapisync_tests::*;
use windows_core::GUID;

// ---- providers ----

/// Blocks in its sync until the test opens `release`; counts its drops.
struct Gate {
    entered: Arc<Latch>,
    release: Arc<Latch>,
    _drops: DropCount,
}

#[mapisync::provider]
impl MapiSync for Gate {
    fn synchronize_in_background(&self, job: &mut SyncJob) -> mapisync::Result<()> {
        self.entered.open();
        assert!(self.release.wait(PATIENCE), "the test never opened the gate");
        job.progress("through the gate", 1, 1)
    }
}

fn steps() -> (Steps, DropCount) {
    let drops = DropCount::new();
    let watch = drops.watch();
    (Steps { drops }, watch)
}

/// A closed gate, its two latches and the watcher of its drops.
fn gate() -> (Gate, Arc<Latch>, Arc<Latch>, DropCount) {
    let (entered, release, drops) = (Arc::new(Latch::default()), Arc::new(Latch::default()), DropCount::new());
    let watch = drops.watch();
    (Gate { entered: entered.clone(), release: release.clone(), _drops: drops }, entered, release, watch)
}

fn aggregated_steps() -> Made {
    let (provider, drops) = steps();
    aggregated(provider, drops)
}

fn guid(iid: &Guid) -> GUID {
    GUID::from_values(iid.data1, iid.data2, iid.data3, iid.data4)
}

/// Waits (bounded) until `read()` gives `expected`; returns the last value.
fn settle<T: PartialEq + Copy>(expected: T, read: impl Fn() -> T) -> T {
    settle_within(expected, PATIENCE, read)
}

/// A complete MAPISIB whose done-event slot is the caller's local `handle`.
/// (The slot must not move while the runtime may write it, so it is a
/// local that stays put rather than a field of a value that is moved.)
fn mapisib(handle: &mut *mut c_void, session: Option<&HostRef>, callback: Option<&HostRef>) -> Mapisib {
    *handle = SENTINEL;
    Mapisib {
        ulSize: size_of::<Mapisib>() as u32,
        ulFlags: 0,
        psesSync: session.map_or(std::ptr::null_mut(), HostRef::as_raw),
        punkCallBack: callback.map_or(std::ptr::null_mut(), HostRef::as_raw),
        phSyncDoneEvent: handle,
    }
}

// ---- aggregation: identity ----

#[test]
fn imapisync_from_the_outer_leads_back_to_the_outer() {
    let made = aggregated_steps();
    let (hr, sync) = made.outer.query(&IID_IMAPISYNC);
    assert_eq!(hr, S_OK);
    assert!(sync != made.outer.0 && sync != made.inner.0, "the IMAPISync is the inner object's own pointer");
    let sync = Raw(sync);

    // From the IMAPISync: IUnknown and the store interface are the outer's.
    assert_eq!(sync.query(&IID_IUNKNOWN), (S_OK, made.outer.0), "QI(IUnknown) through IMAPISync is the outer");
    assert_eq!(sync.query(&IID_ISTORE), (S_OK, made.outer.0), "the outer's other interfaces answer through IMAPISync");
    // From the outer's other interface and from the IMAPISync: the same IMAPISync.
    assert_eq!(Raw(made.outer.0).query(&IID_IMAPISYNC), (S_OK, sync.0), "one IMAPISync pointer, every time");
    assert_eq!(sync.query(&IID_IMAPISYNC), (S_OK, sync.0), "reflexive through the outer");
    // SAFETY: test: the IStore vtable is the outer's.
    let number = unsafe { ((*(made.outer.0 as *const &IStoreVtbl)).StoreNumber)(made.outer.0) };
    assert_eq!(number, STORE_NUMBER);
    // Unknown IIDs: refused through the outer, with *ppv NULL.
    assert_eq!(sync.query(&IID_UNRELATED), (E_NOINTERFACE, std::ptr::null_mut()));

    // Each successful query above took one reference on the outer: give them back.
    for _ in 0..4 {
        made.outer.release();
    }
    assert_eq!(made.outer_count(), 2, "the test's reference and `sync`'s");
    assert_eq!(sync.release(), 1, "Release through IMAPISync is the outer's");
    made.release_and_check_freed();
}

#[test]
fn the_non_delegating_unknown_is_the_inner_objects_own() {
    let made = aggregated_steps();
    let inner = made.inner;
    assert_eq!(inner.count(), 1, "the store's reference");

    // IUnknown: itself, counted on the inner object, not on the outer.
    assert_eq!(inner.query(&IID_IUNKNOWN), (S_OK, inner.0));
    assert_eq!((inner.count(), made.outer_count()), (2, 1));
    assert_eq!(inner.release(), 1);

    // IMAPISync: the delegating pointer, counted on the outer.
    let (hr, sync) = inner.query(&IID_IMAPISYNC);
    assert_eq!(hr, S_OK);
    assert_eq!((inner.count(), made.outer_count()), (1, 2));
    assert_eq!(Raw(sync).query(&IID_IUNKNOWN), (S_OK, made.outer.0));
    made.outer.release();
    assert_eq!(Raw(sync).release(), 1);

    // The outer's interfaces are not the inner object's; failures leave *ppv NULL.
    for iid in [IID_ISTORE, IID_UNRELATED, IID_IMAPISYNC_PROGRESS_CALLBACK] {
        assert_eq!(inner.query(&iid), (E_NOINTERFACE, std::ptr::null_mut()));
    }
    // SAFETY: test: NULL out-pointer and NULL IID are the inputs under test.
    assert_eq!(unsafe { inner.query_raw(&IID_IUNKNOWN, std::ptr::null_mut()) }, E_POINTER);
    let mut out = SENTINEL;
    // SAFETY: test: the NULL IID is the input under test; `out` is writable.
    assert_eq!(unsafe { inner.query_raw(std::ptr::null(), &mut out) }, E_POINTER);
    assert!(out.is_null());
    assert_eq!((inner.count(), made.outer_count()), (1, 1), "no failure took a reference");
    made.release_and_check_freed();
}

// ---- aggregation: reference counts ----

#[test]
fn counts_of_outer_and_inner_balance_and_everything_is_freed_once() {
    let made = aggregated_steps();
    let (_, sync) = made.outer.query(&IID_IMAPISYNC);
    let sync = Raw(sync);
    assert_eq!(made.outer_count(), 2);
    assert_eq!(sync.add_ref(), 3, "AddRef through IMAPISync returns the outer's count");
    assert_eq!(made.outer_count(), 3);
    assert_eq!(sync.release(), 2);
    assert_eq!(made.inner.count(), 1, "references through IMAPISync never touch the inner count");

    // The host lets go of the store first and keeps only the IMAPISync; its
    // last Release frees the store, which releases the inner object.
    made.release_outer_keeping(sync);
}

// ---- aggregation: a sync in flight ----

#[test]
fn the_outer_released_while_a_sync_runs_lives_until_done_then_is_freed_once() {
    let (gate, entered, release, drops) = gate();
    let made = aggregated(gate, drops);
    let callback = HostRef::callback(Script::default());
    let session = HostRef::session();

    let (_, sync) = made.outer.query(&IID_IMAPISYNC);
    let sync = Raw(sync);
    let mut handle = SENTINEL;
    let sib = mapisib(&mut handle, Some(&session), Some(&callback));
    // SAFETY: test: `sync` is a live IMAPISync; `sib` is complete.
    assert_eq!(unsafe { sync.synchronize(&sib) }, S_OK);
    assert!(!handle.is_null() && handle != SENTINEL);
    assert!(entered.wait(PATIENCE), "the sync never started");
    assert_eq!(made.outer_count(), 3, "the worker's reference is on the outer");

    // The host lets go of everything while the provider is still working.
    let (outer, store_freed, provider_drops) = (made.outer, made.store_freed.clone(), made.provider_drops.watch());
    assert_eq!(sync.release(), 2);
    assert_eq!(outer.release(), 1);
    assert_eq!(store_freed.load(Ordering::SeqCst), 0, "the running sync keeps the store alive");
    assert_eq!(provider_drops.get(), 0);

    release.open();
    let calls = callback.wait_done(PATIENCE);
    assert!(calls.contains(&Call::Done { event: handle as usize, hr: S_OK, event_was_signalled: true }), "{calls:?}");
    assert!(wait_event(handle, PATIENCE));
    close_event(handle);
    // The worker's Release after Done is the last: the store, then the inner object, go once.
    assert_eq!(settle(1, || store_freed.load(Ordering::SeqCst)), 1);
    assert_eq!(provider_drops.get(), 1);
    assert_eq!(callback.wait_count(1, PATIENCE), 1, "the worker gave back the callback");
    assert_eq!(session.wait_count(1, PATIENCE), 1, "the worker gave back the session");
}

#[test]
fn a_second_sync_through_the_outer_is_busy() {
    let (gate, entered, release, drops) = gate();
    let made = aggregated(gate, drops);
    let (_, sync) = made.outer.query(&IID_IMAPISYNC);
    let sync = Raw(sync);
    let (mut first, mut second) = (SENTINEL, SENTINEL);
    let first_sib = mapisib(&mut first, None, None);
    // SAFETY: test: `sync` is a live IMAPISync; the MAPISIBs are complete.
    assert_eq!(unsafe { sync.synchronize(&first_sib) }, S_OK);
    assert!(entered.wait(PATIENCE));
    let second_sib = mapisib(&mut second, None, None);
    // SAFETY: test: `sync` is a live IMAPISync; the second MAPISIB is complete.
    assert_eq!(unsafe { sync.synchronize(&second_sib) }, MAPI_E_BUSY);
    assert!(second.is_null());
    release.open();
    assert!(wait_event(first, PATIENCE));
    close_event(first);
    assert_eq!(settle(2, || made.outer_count()), 2, "the worker let go of the outer");
    sync.release();
    made.release_and_check_freed();
}

// ---- aggregation: the class factory ----

/// How many `Steps` the factory's constructor built.
static BUILT: AtomicUsize = AtomicUsize::new(0);
static FACTORY_DROPS: AtomicUsize = AtomicUsize::new(0);

fn built_steps() -> Steps {
    BUILT.fetch_add(1, Ordering::SeqCst);
    // The drops of factory-made objects are counted in one static.
    Steps::default()
}

struct Counted;

impl Drop for Counted {
    fn drop(&mut self) {
        FACTORY_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

#[mapisync::provider]
impl MapiSync for Counted {
    fn synchronize_in_background(&self, _job: &mut SyncJob) -> mapisync::Result<()> {
        Ok(())
    }
}

const AGGREGATABLE: GUID = clsid("{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}");
const PLAIN: GUID = clsid("{39A7C4C6-53CE-4119-89CB-BD5C40BD5C7C}");
const COUNTED: GUID = clsid("{39A7C4C7-53CE-4119-89CB-BD5C40BD5C7C}");

static CLASSES: &[ServerClass] = &[
    ServerClass::new(AGGREGATABLE, "Steps", |outer| new_aggregatable(outer, built_steps)),
    ServerClass::new(PLAIN, "Plain", |outer| new_provider(outer, built_steps)),
    ServerClass::new(COUNTED, "Counted", |outer| new_aggregatable(outer, || Counted)),
];

/// A class factory for `class`, as a raw pointer owning one reference.
fn factory(class: &GUID) -> Raw {
    let mut out = SENTINEL;
    // SAFETY: test: every pointer is valid for the call.
    let hr = unsafe { get_class_object(CLASSES, class, &IID_ICLASSFACTORY as *const Guid as *const GUID, &mut out) };
    assert_eq!(hr.0, S_OK);
    Raw(out)
}

#[repr(C)]
struct IClassFactoryVtbl {
    base: IUnknownVtbl,
    CreateInstance: unsafe extern "system" fn(*mut c_void, *mut c_void, *const Guid, *mut *mut c_void) -> i32,
    LockServer: unsafe extern "system" fn(*mut c_void, i32) -> i32,
}

fn create_instance(factory: Raw, outer: *mut c_void, iid: &Guid) -> (i32, *mut c_void) {
    let mut out = SENTINEL;
    // SAFETY: test: `factory` is a live class factory; the other pointers are valid.
    let hr = unsafe {
        let vtbl = &**(factory.0 as *const *const IClassFactoryVtbl);
        (vtbl.CreateInstance)(factory.0, outer, iid, &mut out)
    };
    (hr, out)
}

#[test]
fn the_factory_aggregates_only_when_the_outer_asks_for_iunknown() {
    let (outer, store_freed) = new_store(SyncSide::Aggregated);
    let factory = factory(&AGGREGATABLE);
    let before = BUILT.load(Ordering::SeqCst);

    // Any IID but IUnknown with an outer: refused before anything is built.
    for iid in [IID_IMAPISYNC, IID_ISTORE, IID_UNRELATED] {
        assert_eq!(create_instance(factory, outer, &iid), (CLASS_E_NOAGGREGATION, std::ptr::null_mut()));
    }
    assert_eq!(BUILT.load(Ordering::SeqCst), before, "nothing built for a refused aggregation");
    assert_eq!(Raw(outer).count(), 1, "the outer was not kept");

    // IUnknown with an outer: the inner object's non-delegating IUnknown, count one.
    let (hr, inner) = create_instance(factory, outer, &IID_IUNKNOWN);
    assert_eq!(hr, S_OK);
    assert!(!inner.is_null() && inner != outer);
    assert_eq!(Raw(inner).count(), 1);
    assert_eq!(Raw(outer).count(), 1, "the inner object does not count its outer");
    // SAFETY: test: the store is alive; it now owns the inner object's reference.
    unsafe { store(outer) }.held.store(inner, Ordering::Release);

    // The IMAPISync the outer hands out delegates QueryInterface, AddRef and Release to it.
    let (hr, sync) = Raw(outer).query(&IID_IMAPISYNC);
    assert_eq!(hr, S_OK);
    assert_eq!(Raw(sync).query(&IID_IUNKNOWN), (S_OK, outer));
    assert_eq!(Raw(sync).add_ref(), 4);
    assert_eq!(Raw(sync).release(), 3);
    Raw(outer).release();
    Raw(sync).release();
    assert_eq!(Raw(outer).release(), 0);
    assert_eq!(store_freed.load(Ordering::SeqCst), 1);
    assert_eq!(factory.release(), 0);
}

#[test]
fn without_an_outer_the_factory_makes_a_plain_object() {
    let factory = factory(&AGGREGATABLE);
    let (hr, sync) = create_instance(factory, std::ptr::null_mut(), &IID_IMAPISYNC);
    assert_eq!(hr, S_OK);
    assert_eq!(Raw(sync).query(&IID_IUNKNOWN), (S_OK, sync), "a plain object is its own identity");
    assert_eq!(Raw(sync).release(), 1);
    assert_eq!(Raw(sync).release(), 0);
    assert_eq!(factory.release(), 0);
}

#[test]
fn a_class_that_is_not_aggregatable_refuses_an_outer_even_for_iunknown() {
    let (outer, store_freed) = new_store(SyncSide::Aggregated);
    let factory = factory(&PLAIN);
    let before = BUILT.load(Ordering::SeqCst);
    assert_eq!(create_instance(factory, outer, &IID_IUNKNOWN), (CLASS_E_NOAGGREGATION, std::ptr::null_mut()));
    assert_eq!(BUILT.load(Ordering::SeqCst), before);
    assert_eq!(Raw(outer).release(), 0);
    assert_eq!(store_freed.load(Ordering::SeqCst), 1);
    assert_eq!(factory.release(), 0);
}

#[test]
fn the_factory_made_inner_object_is_freed_with_its_outer() {
    let (outer, store_freed) = new_store(SyncSide::Aggregated);
    let factory = factory(&COUNTED);
    let (hr, inner) = create_instance(factory, outer, &IID_IUNKNOWN);
    assert_eq!(hr, S_OK);
    // SAFETY: test: the store is alive; it now owns the inner object's reference.
    unsafe { store(outer) }.held.store(inner, Ordering::Release);
    let drops = FACTORY_DROPS.load(Ordering::SeqCst);
    let report = Host::new().run(
        // SAFETY: test: `outer` is a live IUnknown we hold.
        unsafe { IUnknown::from_raw_borrowed(&outer) }.expect("a live store"),
    );
    assert_eq!(report.expect("the store answers IMAPISync").done, Some(mapisync::S_OK));
    assert_eq!(settle(1, || Raw(outer).count()), 1);
    assert_eq!(Raw(outer).release(), 0);
    assert_eq!(store_freed.load(Ordering::SeqCst), 1);
    assert_eq!(FACTORY_DROPS.load(Ordering::SeqCst), drops + 1, "the provider is dropped with the store");
    assert_eq!(factory.release(), 0);
}

// ---- aggregation: the conformance checker and the host simulator ----

#[test]
fn the_outer_object_passes_the_conformance_checker() {
    let made = aggregated_steps();
    let report = Conformance::new()
        .answers(guid(&IID_ISTORE))
        .check(made.outer_unknown())
        .unwrap_or_else(|violations| panic!("{violations:#?}"));
    assert!(report.interfaces.contains(&mapisync::abi::IID_IMAPISync));
    assert!(report.interfaces.contains(&guid(&IID_ISTORE)));
    // From the IMAPISync pointer too.
    let sync: IMAPISync = made.outer_unknown().cast().expect("the store answers IMAPISync");
    Conformance::new().answers(guid(&IID_ISTORE)).check(&sync).unwrap_or_else(|violations| panic!("{violations:#?}"));
    drop(sync);
    assert_eq!(made.outer_count(), 1);
    made.release_and_check_freed();
}

#[test]
fn the_host_simulator_drives_the_sync_from_the_store() {
    let made = aggregated_steps();
    let report = Host::new().run(made.outer_unknown()).expect("the store answers IMAPISync");
    assert_eq!(report.started, mapisync::S_OK);
    assert_eq!(report.done, Some(mapisync::S_OK));
    assert_eq!(report.done_calls, 1);
    let steps: Vec<_> = report.progress().map(|(text, index, max)| (text.map(str::to_owned), index, max)).collect();
    assert_eq!(steps, (1..=3).map(|step| (Some(format!("Step {step}")), step, 3)).collect::<Vec<_>>());
    assert!(report.balanced(), "{report:?}");
    assert_eq!(settle(1, || made.outer_count()), 1, "the worker gave back its reference to the store");
    made.release_and_check_freed();
}

// ---- tear-off ----

#[test]
fn a_tear_off_answers_for_the_store_and_keeps_it_alive() {
    let (provider, drops) = steps();
    let made = tear_off_store(provider, drops);
    let (hr, first) = made.outer.query(&IID_IMAPISYNC);
    assert_eq!(hr, S_OK);
    let first = Raw(first);
    assert!(first.0 != made.outer.0 && first.0 != made.inner.0, "a tear-off is an object of its own");
    assert_eq!(made.outer_count(), 2, "the tear-off holds the store");
    assert_eq!(first.count(), 1, "the tear-off counts itself");

    assert_eq!(first.query(&IID_IMAPISYNC), (S_OK, first.0), "IMAPISync is the tear-off itself");
    assert_eq!(first.release(), 1);
    assert_eq!(first.query(&IID_IUNKNOWN), (S_OK, made.outer.0), "IUnknown is the store's");
    assert_eq!(first.query(&IID_ISTORE), (S_OK, made.outer.0), "the store's interfaces answer through it");
    assert_eq!(first.query(&IID_UNRELATED), (E_NOINTERFACE, std::ptr::null_mut()));
    // SAFETY: test: a NULL out-pointer is the input under test.
    assert_eq!(unsafe { first.query_raw(&IID_IMAPISYNC, std::ptr::null_mut()) }, E_POINTER);
    made.outer.release();
    made.outer.release();

    // The host lets go of the store and keeps the tear-off.
    made.release_outer_keeping(first);
}

#[test]
fn every_tear_off_shares_the_stores_one_sync_object_and_its_busy_flag() {
    let (gate, entered, release, drops) = gate();
    let made = tear_off_store(gate, drops);
    let (_, first) = made.outer.query(&IID_IMAPISYNC);
    let (_, second) = made.outer.query(&IID_IMAPISYNC);
    assert_ne!(first, second, "one tear-off per query");
    let (mut handle, mut busy) = (SENTINEL, SENTINEL);
    let sib = mapisib(&mut handle, None, None);
    // SAFETY: test: both are live IMAPISync pointers; the MAPISIBs are complete.
    assert_eq!(unsafe { Raw(first).synchronize(&sib) }, S_OK);
    assert!(entered.wait(PATIENCE));
    let busy_sib = mapisib(&mut busy, None, None);
    // SAFETY: test: `second` is a live IMAPISync; the MAPISIB is complete.
    assert_eq!(unsafe { Raw(second).synchronize(&busy_sib) }, MAPI_E_BUSY);
    assert!(busy.is_null());
    // The host lets go of everything while the sync runs: the sync object lives on.
    assert_eq!(Raw(first).release(), 0);
    assert_eq!(Raw(second).release(), 0);
    let (store_freed, provider_drops) = (made.store_freed.clone(), made.provider_drops.watch());
    assert_eq!(made.outer.release(), 0);
    assert_eq!(store_freed.load(Ordering::SeqCst), 1);
    assert_eq!(provider_drops.get(), 0, "the worker keeps the sync object");
    release.open();
    assert!(wait_event(handle, PATIENCE));
    close_event(handle);
    assert_eq!(settle(1, || provider_drops.get()), 1);
}

#[test]
fn the_host_simulator_drives_the_sync_through_a_tear_off() {
    let (provider, drops) = steps();
    let made = tear_off_store(provider, drops);
    let report = Host::new().run(made.outer_unknown()).expect("the store answers IMAPISync");
    assert_eq!(report.done, Some(mapisync::S_OK));
    assert_eq!(report.progress().count(), 3);
    assert!(report.balanced(), "{report:?}");
    assert_eq!(settle(1, || made.outer_count()), 1, "the host's tear-off is gone");
    made.release_and_check_freed();
}

#[test]
fn the_conformance_checker_sees_a_tear_off_count_of_its_own_and_nothing_else() {
    let (provider, drops) = steps();
    let made = tear_off_store(provider, drops);
    let violations = Conformance::new()
        .answers(guid(&IID_ISTORE))
        .check(made.outer_unknown())
        .expect_err("a tear-off has its own count");
    // Identity, symmetry, transitivity and balance hold; only the count a
    // tear-off's Release returns is its own rather than the store's.
    assert!(!violations.is_empty());
    assert!(violations.iter().all(|violation| violation.rule == Rule::RefCountReturns), "{violations:#?}");
    assert_eq!(made.outer_count(), 1);
    made.release_and_check_freed();
}

#[test]
fn a_plain_object_still_passes_the_checker_beside_the_aggregate() {
    // The runtime's own objects are unchanged by aggregation support.
    let (provider, _drops) = steps();
    let sync: IMAPISync = provider.into();
    Conformance::new().promises_e_pointer().check(&sync).unwrap_or_else(|violations| panic!("{violations:#?}"));
}

// ---- windows-rs interop: the `store_object` example's #[implement] store ----

#[test]
#[cfg_attr(miri, ignore = "windows-core's #[implement] objects do not pass Miri")]
fn a_windows_rs_store_keeps_its_identity_through_the_aggregated_sync() {
    use mapisync_examples::store_object::{IMsgStoreLike, MsgStore};

    let store = MsgStore::create(3);
    let outer = Raw(store.as_raw());
    let (hr, sync) = outer.query(&IID_IMAPISYNC);
    assert_eq!(hr, S_OK);
    let sync = Raw(sync);
    assert_eq!(sync.query(&IID_IUNKNOWN), (S_OK, outer.0), "IUnknown through IMAPISync is the store's");
    assert_eq!(outer.query(&IID_IMAPISYNC), (S_OK, sync.0), "one IMAPISync pointer, every time");
    assert_eq!(outer.count(), 4, "every reference above is counted on the store");
    for _ in 0..2 {
        outer.release();
    }
    assert_eq!(sync.release(), 1);

    Conformance::new().answers(IMsgStoreLike::IID).check(&store).unwrap_or_else(|v| panic!("{v:#?}"));
    let report = Host::new().run(&store).expect("the store answers IMAPISync");
    assert_eq!(report.done, Some(mapisync::S_OK));
    assert_eq!(report.progress().count(), 3);
    assert!(report.balanced(), "{report:?}");
    assert_eq!(settle(1, || outer.count()), 1, "the worker gave back its reference to the store");
}

//! loom models of the object's reference count and of a sync's
//! busy/running/done protocol. Built only with `--cfg loom`; run them with
//! `RUSTFLAGS="--cfg loom" cargo test -p mapisync --release loom_models`
//! (`scripts/suites/loom.sh`). loom runs each model under every
//! interleaving and every memory-ordering outcome the C++11 model allows.
//! (Checked to fail when Release's decrement is made Relaxed without its
//! fence, and when the busy flag's compare-exchange is made Relaxed.)
//!
//! What is real and what is modelled:
//! - The reference count is the real code: [`ObjectRef`], `ComObject`'s
//!   AddRef and Release with their orderings and fence; `crate::atomic`
//!   swaps in loom's atomics under `--cfg loom`.
//! - The sync protocol's busy flag is the real `state` word of the real
//!   object, and the worker's reference is a real [`ObjectRef`]. The steps of
//!   `protocol::start` and `protocol::run` around them are restated here in
//!   the same order with the same orderings, because the real functions
//!   start a `std::thread` and use a `std` Mutex/Condvar event, which loom
//!   cannot schedule: compare-exchange IDLE→RUNNING (Acquire) or
//!   MAPI_E_BUSY; take the worker's reference; start the worker; the worker
//!   runs the provider, stores IDLE (Release), signals the event, calls
//!   `Done`, then releases its references. The event is a loom `AtomicBool`
//!   here. If `protocol.rs` changes that order or those orderings, this
//!   model must follow.
//! - The provider's data is a loom `UnsafeCell`: loom reports any two
//!   accesses not ordered by happens-before (two syncs at once, or the
//!   value's drop racing a use) as a failure.

use core::ffi::c_void;
use std::sync::atomic::AtomicUsize as StdAtomicUsize;

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::thread;
use windows_core::{GUID, IUnknown_Vtbl};

use crate::abi::IID_IUnknown;
use crate::atomic::Ordering;
use crate::object::{Class, ComObject, ObjectRef, iunknown_vtbl};

/// Executions explored, over every model in this process (printed by each test).
static EXECUTIONS: StdAtomicUsize = StdAtomicUsize::new(0);

/// The provider value: data every user touches, and a drop log.
struct Tracked {
    data: UnsafeCell<u32>,
    drops: Arc<AtomicUsize>,
}

// SAFETY: Sync: `data` is only accessed under the protocol being checked;
// loom itself reports any access not ordered by happens-before.
unsafe impl Sync for Tracked {}

impl Tracked {
    fn new(drops: &Arc<AtomicUsize>) -> Self {
        Self { data: UnsafeCell::new(0), drops: drops.clone() }
    }

    /// A use of the object through a reference: a read of its data.
    fn read(&self) -> u32 {
        // SAFETY: loom checks that no write races this read.
        self.data.with(|data| unsafe { *data })
    }

    /// What a sync does with the provider's data: a write.
    fn write(&self) {
        // SAFETY: loom checks that no other access races this write.
        self.data.with_mut(|data| unsafe { *data += 1 });
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        // The free is a write: loom fails the model unless it happens after
        // every other thread's last use.
        self.write();
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

struct Model;
static MODEL_VTBL: IUnknown_Vtbl = iunknown_vtbl::<Model>();
impl Class for Model {
    type Value = Tracked;
    type Vtable = IUnknown_Vtbl;
    const VTABLE: &'static IUnknown_Vtbl = &MODEL_VTBL;
    const IID: GUID = IID_IUnknown;
}

/// A raw interface pointer handed to another loom thread.
struct Raw(*mut c_void);
// SAFETY: Send: the object is free-threaded (atomics and a Sync value).
unsafe impl Send for Raw {}

/// Runs `model` under every interleaving (no preemption bound unless
/// `LOOM_MAX_PREEMPTIONS` sets one: the models are small enough to explore
/// exhaustively in seconds) and prints how many executions that took.
fn explore(name: &str, model: impl Fn() + Sync + Send + 'static) {
    let before = EXECUTIONS.load(std::sync::atomic::Ordering::Relaxed);
    loom::model::Builder::new().check(move || {
        EXECUTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        model();
    });
    let explored = EXECUTIONS.load(std::sync::atomic::Ordering::Relaxed) - before;
    println!("loom: {name}: {explored} executions explored");
}

#[test]
fn last_release_drops_once_after_every_other_use() {
    explore("reference count, three owners releasing at once", || {
        let drops = Arc::new(AtomicUsize::new(0));
        let first = ObjectRef::<Model>::new(Tracked::new(&drops));
        // SAFETY: loom model: `first` holds a reference.
        let second = unsafe { ObjectRef::<Model>::add_ref_from(first.as_raw()) };
        // SAFETY: as above.
        let third = unsafe { ObjectRef::<Model>::add_ref_from(first.as_raw()) };
        let a = thread::spawn(move || {
            second.object().value.read();
            drop(second);
        });
        let b = thread::spawn(move || {
            third.object().value.read();
            drop(third);
        });
        first.object().value.read();
        drop(first);
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(drops.load(Ordering::Relaxed), 1, "dropped exactly once");
    });
}

#[test]
fn add_ref_racing_the_last_release_never_frees_early() {
    explore("reference count, AddRef from a live reference racing a Release", || {
        let drops = Arc::new(AtomicUsize::new(0));
        let first = ObjectRef::<Model>::new(Tracked::new(&drops));
        // SAFETY: loom model: `first` holds a reference.
        let second = unsafe { ObjectRef::<Model>::add_ref_from(first.as_raw()) };
        let a = thread::spawn(move || {
            // A new reference made from one this thread holds (COM's rule).
            // SAFETY: loom model: `second` holds a reference.
            let third = unsafe { ObjectRef::<Model>::add_ref_from(second.as_raw()) };
            drop(second);
            third.object().value.read();
            assert_eq!(third.object().value.drops.load(Ordering::Relaxed), 0);
            drop(third);
        });
        first.object().value.read();
        drop(first);
        a.join().unwrap();
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    });
}

const IDLE: u32 = 0;
const RUNNING: u32 = 1;

/// `protocol::start`, restated: returns the worker thread, or `None` for MAPI_E_BUSY.
///
/// # Safety
/// `this` is a live object and the caller holds a reference for the call.
unsafe fn start(this: *mut c_void, done: &Arc<AtomicUsize>) -> Option<thread::JoinHandle<()>> {
    // SAFETY: the caller holds a reference for the whole call.
    let object = unsafe { ComObject::<Model>::from_this(this) };
    if object.state.compare_exchange(IDLE, RUNNING, Ordering::Acquire, Ordering::Relaxed).is_err() {
        return None;
    }
    // SAFETY: the caller holds a reference for the whole call.
    let worker = unsafe { ObjectRef::<Model>::add_ref_from(this) };
    let event = Arc::new(AtomicBool::new(false));
    let done = done.clone();
    Some(thread::spawn(move || {
        // `protocol::run`: the provider's method, then the busy flag, the event, Done, releases.
        let object = worker.object();
        object.value.write();
        object.state.store(IDLE, Ordering::Release);
        event.store(true, Ordering::Release);
        done.fetch_add(1, Ordering::Relaxed);
        drop(worker);
    }))
}

#[test]
fn one_sync_at_a_time_done_once_each_and_the_object_outlives_its_worker() {
    explore("sync protocol, two hosts starting syncs and releasing at once", || {
        let drops = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let object = ObjectRef::<Model>::new(Tracked::new(&drops));
        // SAFETY: loom model: `object` holds a reference.
        let host = unsafe { ObjectRef::<Model>::add_ref_from(object.as_raw()) };
        let raw = Raw(host.as_raw());
        let host_done = done.clone();
        let other = thread::spawn(move || {
            let raw = raw;
            // SAFETY: loom model: `host` (moved here) holds a reference.
            let worker = unsafe { start(raw.0, &host_done) };
            let started = worker.is_some() as usize;
            drop(host); // the host lets go, maybe while its worker runs
            if let Some(worker) = worker {
                worker.join().unwrap();
            }
            started
        });
        // SAFETY: loom model: `object` holds a reference.
        let worker = unsafe { start(object.as_raw(), &done) };
        let mut started = worker.is_some() as usize;
        drop(object); // the last outside reference may go while a worker runs
        if let Some(worker) = worker {
            worker.join().unwrap();
        }
        started += other.join().unwrap();
        assert!(started >= 1, "with no sync running, a start cannot be refused by both");
        assert_eq!(done.load(Ordering::Relaxed), started, "Done exactly once per S_OK");
        assert_eq!(drops.load(Ordering::Relaxed), 1, "freed exactly once, after its workers");
    });
}

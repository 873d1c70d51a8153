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
//!   swaps in loom's atomics (and Mutex and Condvar) under `--cfg loom`.
//! - The sync states are the shipping types of `state.rs`: the object's
//!   [`Busy`](crate::state::Busy) flag (in the real object header) and the job's [`JobState`]
//!   cancel/end word; the module's registry is the shipping
//!   [`Registry`] (admission, cancel, close, reaping and drain, with its
//!   lock and condition variable), run here with loom threads behind its
//!   [`Exit`] trait. What `protocol::start`/`run` add around them is thread
//!   creation and the done event (a `std` thread and a `std` Mutex/Condvar
//!   or Win32 event, which loom cannot schedule): the models spawn a loom
//!   thread in `admit` and keep the order of `run`: the provider's work,
//!   `JobState::end`, `Busy::finish`, `Done`, the releases, then the thread's exit.
//! - The provider's data is a loom `UnsafeCell`: loom reports any two
//!   accesses not ordered by happens-before (two syncs at once, the value's
//!   drop racing a use, a drain returning before a worker's last write) as a failure.

use core::ffi::c_void;
use std::sync::atomic::AtomicUsize as StdAtomicUsize;

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::thread;
use windows_core::{GUID, IUnknown_Vtbl};

use crate::abi::IID_IUnknown;
use crate::atomic::Ordering;
use crate::hresult::{MAPI_E_END_OF_SESSION, MAPI_E_USER_CANCEL, S_OK};
use crate::object::{Class, ComObject, ObjectRef, iunknown_vtbl};
use crate::state::JobState;
use crate::workers::registry::{Exit, Registry, Which};

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
    explore_with(name, loom::model::Builder::new(), model);
}

/// As [`explore`], with at most `bound` preemptions per execution: the
/// model of two hosts, two possible workers and the registry's lock did not
/// finish unbounded in 6 minutes (the two lifecycle models do, in under a
/// second). loom's authors find most bugs within a bound of 2 or 3.
fn explore_bounded(name: &str, bound: usize, model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(builder.preemption_bound.map_or(bound, |set| set.min(bound)));
    explore_with(&format!("{name} (preemption bound {bound})"), builder, model);
}

fn explore_with(name: &str, builder: loom::model::Builder, model: impl Fn() + Sync + Send + 'static) {
    let before = EXECUTIONS.load(std::sync::atomic::Ordering::Relaxed);
    builder.check(move || {
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
        // SAFETY: loom model: `first` still holds a reference.
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

/// A loom worker thread behind the registry's [`Exit`]: "exited" is a flag
/// the thread sets as its very last step; reaping joins it (once: a second
/// join would panic on the taken handle).
struct LoomThread {
    handle: Option<thread::JoinHandle<()>>,
    id: thread::ThreadId,
    exited: Arc<AtomicBool>,
}

impl LoomThread {
    fn spawn(body: impl FnOnce() + Send + 'static) -> Self {
        let exited = Arc::new(AtomicBool::new(false));
        let flag = exited.clone();
        let handle = thread::spawn(move || {
            body();
            flag.store(true, Ordering::Release);
        });
        let id = handle.thread().id();
        Self { handle: Some(handle), id, exited }
    }

    fn join(&mut self) {
        self.handle.take().expect("a thread is reaped once").join().unwrap();
    }
}

impl Exit for LoomThread {
    type Id = thread::ThreadId;

    fn id(&self) -> thread::ThreadId {
        self.id
    }

    fn current() -> thread::ThreadId {
        thread::current().id()
    }

    fn has_exited(&mut self) -> bool {
        if !self.exited.load(Ordering::Acquire) {
            return false;
        }
        self.join();
        true
    }

    fn wait_exit(&mut self, _deadline: Option<std::time::Instant>) -> bool {
        // loom has no time: a wait always waits for the end.
        self.join();
        true
    }
}

/// What the host's callback saw: how many `Done` calls, and the last HRESULT.
#[derive(Default)]
struct Dones {
    count: AtomicUsize,
    hr: AtomicUsize,
}

/// `protocol::start` and `run` around the shipping states: the busy flag,
/// the job's word and the registry's admission; `None` for a refused start
/// (MAPI_E_BUSY or MAPI_E_END_OF_SESSION). The worker records its Done in `done`.
///
/// # Safety
/// `this` is a live object and the caller holds a reference for the call.
unsafe fn start(this: *mut c_void, registry: &Arc<Registry<LoomThread>>, done: &Arc<Dones>) -> Option<()> {
    // SAFETY: loom model: this function's Safety.
    unsafe { start_running(this, registry, done, || {}) }
}

/// As [`start`], with `provider` run as the provider's code on the worker
/// (after its write to the provider's data).
///
/// # Safety
/// As [`start`].
unsafe fn start_running(
    this: *mut c_void,
    registry: &Arc<Registry<LoomThread>>,
    done: &Arc<Dones>,
    provider: impl FnOnce() + Send + 'static,
) -> Option<()> {
    // SAFETY: loom model: the caller holds a reference for the whole call.
    let object = unsafe { ComObject::<Model>::from_this(this) };
    if !object.state.try_start() {
        return None;
    }
    let job = std::sync::Arc::new(JobState::new());
    // SAFETY: loom model: the caller holds a reference for the whole call.
    let worker = unsafe { ObjectRef::<Model>::add_ref_from(this) };
    let (done, worker_job) = (done.clone(), job.clone());
    let admitted = registry.admit(this as usize, None, &job, move || {
        Ok(LoomThread::spawn(move || {
            // `protocol::run`: the provider's method, the end of the job, the
            // busy flag, Done, then the worker's references.
            let object = worker.object();
            object.value.write();
            provider();
            let hr = if worker_job.end() { MAPI_E_USER_CANCEL } else { S_OK };
            object.state.finish();
            done.hr.store(hr.0 as u32 as usize, Ordering::Relaxed);
            done.count.fetch_add(1, Ordering::Release);
            drop(worker);
        }))
    });
    match admitted {
        Ok(()) => Some(()),
        Err(hr) => {
            assert_eq!(hr, MAPI_E_END_OF_SESSION);
            object.state.finish(); // BusyGuard's drop
            None
        }
    }
}

#[test]
fn one_sync_at_a_time_done_once_each_and_the_object_outlives_its_worker() {
    explore_bounded("sync protocol, two hosts starting syncs and releasing at once", 3, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(Dones::default());
        let registry = Arc::new(Registry::<LoomThread>::new());
        let object = ObjectRef::<Model>::new(Tracked::new(&drops));
        // SAFETY: loom model: `object` holds a reference.
        let host = unsafe { ObjectRef::<Model>::add_ref_from(object.as_raw()) };
        let raw = Raw(host.as_raw());
        let (other_done, other_registry) = (done.clone(), registry.clone());
        let other = thread::spawn(move || {
            let raw = raw;
            // SAFETY: loom model: `host` (moved here) holds a reference.
            let started = unsafe { start(raw.0, &other_registry, &other_done) }.is_some() as usize;
            drop(host); // the host lets go, maybe while its worker runs
            started
        });
        // SAFETY: loom model: `object` holds a reference.
        let mut started = unsafe { start(object.as_raw(), &registry, &done) }.is_some() as usize;
        drop(object); // the last outside reference may go while a worker runs
        started += other.join().unwrap();
        assert_eq!(registry.drain(std::time::Duration::MAX, Which::All), Ok(()));
        assert!(started >= 1, "with no sync running, a start cannot be refused by both");
        assert_eq!(done.count.load(Ordering::Acquire), started, "Done exactly once per S_OK");
        assert_eq!(drops.load(Ordering::Relaxed), 1, "freed exactly once, after its workers");
    });
}

#[test]
fn a_shutdown_racing_a_start_refuses_it_or_cancels_it_and_drains_its_thread() {
    explore("lifecycle, shutdown (close, cancel, drain) racing a start", || {
        let drops = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(Dones::default());
        let registry = Arc::new(Registry::<LoomThread>::new());
        let object = ObjectRef::<Model>::new(Tracked::new(&drops));
        // SAFETY: loom model: `object` holds a reference.
        let host = unsafe { ObjectRef::<Model>::add_ref_from(object.as_raw()) };
        let (raw, host_registry, host_done) = (Raw(host.as_raw()), registry.clone(), done.clone());
        let starter = thread::spawn(move || {
            let raw = raw;
            // SAFETY: loom model: `host` (moved here) holds a reference.
            let started = unsafe { start(raw.0, &host_registry, &host_done) }.is_some();
            drop(host);
            started
        });
        // IMSProvider::Shutdown: `lifecycle::shutdown`'s two steps.
        let cancelled = registry.close_and_cancel(Which::All);
        assert_eq!(registry.drain(std::time::Duration::MAX, Which::All), Ok(()));
        // A worker admitted before the close has exited by now, so its
        // write is ordered before this read (loom fails the model otherwise);
        // a start after the close was refused and wrote nothing.
        object.object().value.read();
        let started = starter.join().unwrap();
        assert_eq!(registry.running(Which::All), 0);
        let dones = done.count.load(Ordering::Acquire);
        assert_eq!(dones, started as usize, "Done exactly once per started sync, none for a refused one");
        if started {
            let hr = done.hr.load(Ordering::Relaxed);
            let user_cancel = MAPI_E_USER_CANCEL.0 as u32 as usize;
            // close_and_cancel counted the sync exactly when its Done says so.
            assert_eq!(cancelled == 1, hr == user_cancel, "cancelled {cancelled}, Done {hr:#x}");
        } else {
            assert_eq!(cancelled, 0);
        }
        drop(object);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    });
}

#[test]
fn a_drain_racing_the_last_worker_and_dll_can_unload_now_reaps_it_once() {
    explore("lifecycle, drain and running_workers racing the last worker's exit", || {
        let drops = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(Dones::default());
        let registry = Arc::new(Registry::<LoomThread>::new());
        let object = ObjectRef::<Model>::new(Tracked::new(&drops));
        // SAFETY: loom model: `object` holds a reference.
        assert!(unsafe { start(object.as_raw(), &registry, &done) }.is_some());
        drop(object); // the worker holds the last reference
        // DllCanUnloadNow on another thread: `running_workers` reaps what has exited.
        let polling = registry.clone();
        let poller = thread::spawn(move || polling.running(Which::All));
        assert_eq!(registry.drain(std::time::Duration::MAX, Which::All), Ok(()));
        // The drain returned after the worker's last step: the object is
        // freed and Done was called, both visible here.
        assert_eq!(drops.load(Ordering::Relaxed), 1, "the worker's release happened before the drain returned");
        assert_eq!(done.count.load(Ordering::Acquire), 1);
        assert!(poller.join().unwrap() <= 1);
        assert_eq!(registry.running(Which::All), 0);
    });
}

/// A new object of the model with one reference, its raw pointer, and a
/// second reference for a host thread.
fn object_and_host(drops: &Arc<AtomicUsize>) -> (ObjectRef<Model>, ObjectRef<Model>) {
    let object = ObjectRef::<Model>::new(Tracked::new(drops));
    // SAFETY: loom model: `object` holds a reference.
    let host = unsafe { ObjectRef::<Model>::add_ref_from(object.as_raw()) };
    (object, host)
}

#[test]
fn a_scopes_shutdown_racing_a_start_of_its_object_refuses_it_or_cancels_it_and_drains_its_thread() {
    explore("scopes, a scope's shutdown (close, cancel, drain) racing a start of its object", || {
        let drops = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(Dones::default());
        let registry = Arc::new(Registry::<LoomThread>::new());
        // MSProviderInit and Logon: the scope, and its store's sync object.
        let scope = registry.open_scope();
        let (object, host) = object_and_host(&drops);
        let _handle = registry.handle(object.as_raw() as usize, Some(scope));
        let (raw, host_registry, host_done) = (Raw(host.as_raw()), registry.clone(), done.clone());
        let starter = thread::spawn(move || {
            let raw = raw;
            // SAFETY: loom model: `host` (moved here) holds a reference.
            let started = unsafe { start(raw.0, &host_registry, &host_done) }.is_some();
            drop(host);
            started
        });
        // IMSProvider::Shutdown: `Scope::shutdown`'s two steps.
        let cancelled = registry.close_and_cancel(Which::Scope(scope));
        assert_eq!(registry.drain(std::time::Duration::MAX, Which::Scope(scope)), Ok(()));
        object.object().value.read(); // the scope's worker, if any, has exited
        let started = starter.join().unwrap();
        assert!(!registry.is_closed(Which::All), "the module stays open");
        assert_eq!(registry.running(Which::All), 0);
        assert_eq!(done.count.load(Ordering::Acquire), started as usize);
        if started {
            let user_cancel = MAPI_E_USER_CANCEL.0 as u32 as usize;
            assert_eq!(cancelled == 1, done.hr.load(Ordering::Relaxed) == user_cancel);
        } else {
            assert_eq!(cancelled, 0);
        }
        drop(object);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    });
}

#[test]
fn instance_as_shutdown_racing_instance_bs_open_and_start_leaves_b_untouched() {
    explore_bounded("scopes, A's shutdown racing B's open and B's first start", 2, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let (done_a, done_b) = (Arc::new(Dones::default()), Arc::new(Dones::default()));
        let registry = Arc::new(Registry::<LoomThread>::new());
        let a = registry.open_scope();
        let object_a = ObjectRef::<Model>::new(Tracked::new(&drops));
        let _handle_a = registry.handle(object_a.as_raw() as usize, Some(a));
        // SAFETY: loom model: `object_a` holds a reference.
        assert!(unsafe { start(object_a.as_raw(), &registry, &done_a) }.is_some(), "A syncs");
        // B's MSProviderInit, Logon and first sync, on MAPI's other thread.
        let (b_registry, b_done, b_drops) = (registry.clone(), done_b.clone(), drops.clone());
        let instance_b = thread::spawn(move || {
            let b = b_registry.open_scope();
            let object_b = ObjectRef::<Model>::new(Tracked::new(&b_drops));
            let _handle_b = b_registry.handle(object_b.as_raw() as usize, Some(b));
            // SAFETY: loom model: `object_b` holds a reference.
            unsafe { start(object_b.as_raw(), &b_registry, &b_done) }.is_some()
        });
        registry.close_and_cancel(Which::Scope(a));
        assert_eq!(registry.drain(std::time::Duration::MAX, Which::Scope(a)), Ok(()));
        assert_eq!(done_a.count.load(Ordering::Acquire), 1, "A's sync ended before A's drain returned");
        assert!(instance_b.join().unwrap(), "A's shutdown never refuses B");
        assert_eq!(registry.drain(std::time::Duration::MAX, Which::All), Ok(()));
        assert_eq!(done_b.count.load(Ordering::Acquire), 1);
        assert_eq!(done_b.hr.load(Ordering::Relaxed), S_OK.0 as u32 as usize, "B's sync is never cancelled by A");
        drop(object_a);
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    });
}

/// Issue 19's second review (D1): B adopts A's object and a clone of A's
/// now stale handle is made and dropped, racing A's shutdown, then B
/// starts a sync: the object stays B's throughout, so A's shutdown neither
/// refuses nor cancels B's sync, and B's shutdown does refuse the object.
#[test]
fn a_stale_handles_clone_racing_a_shutdown_never_moves_the_object_between_scopes() {
    explore_bounded("scopes, B's adoption and a stale handle's clone racing A's shutdown and B's start", 2, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(Dones::default());
        let registry = Arc::new(Registry::<LoomThread>::new());
        let (a, b) = (registry.open_scope(), registry.open_scope());
        let (object, host) = object_and_host(&drops);
        let key = object.as_raw() as usize;
        let handle_a = registry.handle(key, Some(a)); // A's Logon
        let (raw, b_registry, b_done) = (Raw(host.as_raw()), registry.clone(), done.clone());
        let instance_b = thread::spawn(move || {
            let raw = raw;
            let handle_b = b_registry.handle(key, Some(b)); // B adopts it: it is B's now
            b_registry.clone_handle(&handle_a); // a clone of A's stale handle ...
            // SAFETY: loom model: `host` (moved here) holds a reference.
            let started = unsafe { start(raw.0, &b_registry, &b_done) }.is_some();
            b_registry.drop_handle(&handle_a); // ... dropped again
            drop(host);
            (handle_b, started)
        });
        registry.close_and_cancel(Which::Scope(a)); // A's Shutdown
        assert_eq!(registry.drain(std::time::Duration::MAX, Which::Scope(a)), Ok(()));
        let (handle_b, started) = instance_b.join().unwrap();
        assert!(started, "A's shutdown never refuses B's object");
        assert_eq!(registry.drain(std::time::Duration::MAX, Which::All), Ok(()));
        assert_eq!(done.hr.load(Ordering::Relaxed), S_OK.0 as u32 as usize, "nor cancels its sync");
        registry.close_and_cancel(Which::Scope(b)); // B's Shutdown
        // SAFETY: loom model: `object` holds a reference.
        assert!(unsafe { start(object.as_raw(), &registry, &done) }.is_none(), "the object is still B's");
        registry.drop_handle(&handle_b);
        registry.drop_handle(&handle_a);
        drop(object);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    });
}

#[test]
fn a_drain_on_a_worker_racing_a_drain_from_outside_never_waits_for_itself() {
    explore("lifecycle, a worker's own drain (issue 17 item 1) racing a drain from outside", || {
        let drops = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(Dones::default());
        let registry = Arc::new(Registry::<LoomThread>::new());
        let object = ObjectRef::<Model>::new(Tracked::new(&drops));
        let (inside, said) = (registry.clone(), Arc::new(AtomicUsize::new(0)));
        let record = said.clone();
        let provider = move || {
            // Duration::MAX: a drain that waited for its own thread would never return.
            let drained = inside.drain(std::time::Duration::MAX, Which::All);
            record.store(if drained == Ok(()) { 1 } else { 2 }, Ordering::Release);
        };
        // SAFETY: loom model: `object` holds a reference.
        assert!(unsafe { start_running(object.as_raw(), &registry, &done, provider) }.is_some());
        drop(object);
        assert_eq!(registry.drain(std::time::Duration::MAX, Which::All), Ok(()));
        assert_eq!(said.load(Ordering::Acquire), 1, "the worker's drain returned Ok, skipping itself");
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    });
}

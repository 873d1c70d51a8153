//! loom models of the object's reference count and of a sync's
//! busy/running/done protocol. Built only with `--cfg loom`; run them with
//! `RUSTFLAGS="--cfg loom" cargo test -p mapisync-runtime --release loom_models`, with the
//! engine's source compiled in (lib.rs)
//! (`scripts/suites/loom.sh`). loom runs each model under every
//! interleaving and every memory-ordering outcome the C++11 model allows.
//! (Checked to fail when Release's decrement is made Relaxed without its
//! fence, and when the busy flag's compare-exchange is made Relaxed.)
//!
//! What is real and what is modelled:
//! - The reference count is the real code: [`ObjectRef`], `ComObject`'s
//!   AddRef and Release with their orderings and fence; `crate::atomic`
//!   swaps in loom's atomics (and Mutex and Condvar) under `--cfg loom`.
//! - The sync states are the shipping types of the engine's `state.rs`: the object's
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

use crate::atomic::Ordering;
use crate::hresult::{MAPI_E_END_OF_SESSION, MAPI_E_USER_CANCEL, S_OK};
use crate::object::{ComObject, ObjectRef, UnknownOnly};
use crate::state::JobState;
use crate::workers::host_calls;
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

type Model = UnknownOnly<Tracked>;

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

    fn wait_exit(&mut self, deadline: Option<std::time::Instant>) -> bool {
        // loom has no time: a wait without a deadline waits for the end; one
        // with a deadline (a drain's slice) looks once and lets others run.
        if self.has_exited() {
            return true;
        }
        if deadline.is_none() {
            self.join();
            return true;
        }
        thread::yield_now();
        false
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
    // SAFETY: loom model: this function's Safety.
    unsafe { start_job(this, registry, done, std::sync::Arc::new(JobState::new()), provider, || {}) }
}

/// As [`start_running`], for the sync `job` (which the caller keeps, as a
/// provider keeps its `SyncJob`); after the provider and the end of the
/// job, the worker runs `close` (`engine/src/gate.rs`'s close, which waits for the
/// host calls in flight through kept jobs).
///
/// # Safety
/// As [`start`].
unsafe fn start_job(
    this: *mut c_void,
    registry: &Arc<Registry<LoomThread>>,
    done: &Arc<Dones>,
    job: std::sync::Arc<JobState>,
    provider: impl FnOnce() + Send + 'static,
    close: impl FnOnce() + Send + 'static,
) -> Option<()> {
    // SAFETY: loom model: the caller holds a reference for the whole call.
    let object = unsafe { ComObject::<Model>::from_this(this) };
    if !object.state.try_start() {
        return None;
    }
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
            close();
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

/// What every sync model starts from: the provider's drop log, the host's
/// record of its `Done` calls and the module's registry.
struct World {
    drops: Arc<AtomicUsize>,
    done: Arc<Dones>,
    registry: Arc<Registry<LoomThread>>,
}

impl World {
    /// A sync started and its object released, whose provider returned at
    /// once and whose worker waits in its close until the returned
    /// `CallEnd` is set (a host call through the kept `JobState` ended).
    fn kept_sync(&self) -> (std::sync::Arc<JobState>, Arc<CallEnd>) {
        let object = self.object();
        let job = std::sync::Arc::new(JobState::new());
        let call_ended = Arc::new(CallEnd::default());
        let close = waits_for(&call_ended);
        // SAFETY: loom model: `object` holds a reference.
        assert!(unsafe { start_job(object.as_raw(), &self.registry, &self.done, job.clone(), || {}, close) }.is_some());
        (job, call_ended)
    }

    fn new() -> Self {
        Self {
            drops: Arc::new(AtomicUsize::new(0)),
            done: Arc::new(Dones::default()),
            registry: Arc::new(Registry::new()),
        }
    }

    /// A new object of the model with one reference.
    fn object(&self) -> ObjectRef<Model> {
        ObjectRef::<Model>::new(Tracked::new(&self.drops))
    }

    /// A new object with one reference, and a second reference for a host thread.
    fn object_and_host(&self) -> (ObjectRef<Model>, ObjectRef<Model>) {
        let object = self.object();
        // SAFETY: loom model: `object` holds a reference.
        let host = unsafe { ObjectRef::<Model>::add_ref_from(object.as_raw()) };
        (object, host)
    }

    /// A host on its own thread: starts a sync through `host`'s reference,
    /// then lets go of it (maybe while its worker runs). The thread returns
    /// whether the start was admitted.
    fn start_on_host_thread(&self, host: ObjectRef<Model>) -> thread::JoinHandle<bool> {
        let (registry, done) = (self.registry.clone(), self.done.clone());
        thread::spawn(move || {
            // SAFETY: loom model: `host` (moved here) holds a reference.
            let started = unsafe { start(host.as_raw(), &registry, &done) }.is_some();
            drop(host);
            started
        })
    }

    /// Waits, without a time limit, for the workers `which` names; they must all end.
    fn drain(&self, which: Which) {
        assert_eq!(self.registry.drain(std::time::Duration::MAX, which), Ok(()));
    }

    /// After a shutdown's close and cancel (which counted `cancelled` syncs)
    /// raced one host's start: Done came exactly once if the start was
    /// admitted, none for a refused one, and the shutdown counted the sync
    /// as cancelled exactly when its Done says so.
    fn assert_done_tells_the_cancel(&self, started: bool, cancelled: usize) {
        let dones = self.done.count.load(Ordering::Acquire);
        assert_eq!(dones, started as usize, "Done exactly once per started sync, none for a refused one");
        if started {
            let hr = self.done.hr.load(Ordering::Relaxed);
            assert_eq!(cancelled == 1, hr == hr_word(MAPI_E_USER_CANCEL), "cancelled {cancelled}, Done {hr:#x}");
        } else {
            assert_eq!(cancelled, 0);
        }
    }

    /// [`start`] through `object`'s reference, on this thread.
    fn start(&self, object: &ObjectRef<Model>) -> Option<()> {
        // SAFETY: loom model: `object` holds a reference for the call.
        unsafe { start(object.as_raw(), &self.registry, &self.done) }
    }

    /// Releases `object`, the last reference outside any worker: the
    /// provider's value is dropped exactly once, by the time it returns.
    fn release_last(&self, object: ObjectRef<Model>) {
        drop(object);
        assert_eq!(self.drops(), 1, "freed exactly once");
    }

    fn drops(&self) -> usize {
        self.drops.load(Ordering::Relaxed)
    }
}

/// An HRESULT as [`Dones::hr`] holds it.
fn hr_word(hr: windows_core::HRESULT) -> usize {
    hr.0 as u32 as usize
}

#[test]
fn one_sync_at_a_time_done_once_each_and_the_object_outlives_its_worker() {
    explore_bounded("sync protocol, two hosts starting syncs and releasing at once", 3, || {
        let world = World::new();
        let (object, host) = world.object_and_host();
        let other = world.start_on_host_thread(host);
        let mut started = world.start(&object).is_some() as usize;
        drop(object); // the last outside reference may go while a worker runs
        started += other.join().unwrap() as usize;
        world.drain(Which::All);
        assert!(started >= 1, "with no sync running, a start cannot be refused by both");
        assert_eq!(world.done.count.load(Ordering::Acquire), started, "Done exactly once per S_OK");
        assert_eq!(world.drops(), 1, "freed exactly once, after its workers");
    });
}

#[test]
fn a_shutdown_racing_a_start_refuses_it_or_cancels_it_and_drains_its_thread() {
    explore("lifecycle, shutdown (close, cancel, drain) racing a start", || {
        let world = World::new();
        let (object, host) = world.object_and_host();
        let starter = world.start_on_host_thread(host);
        // IMSProvider::Shutdown: `lifecycle::shutdown`'s two steps.
        let cancelled = world.registry.close_and_cancel(Which::All);
        world.drain(Which::All);
        // A worker admitted before the close has exited by now, so its
        // write is ordered before this read (loom fails the model otherwise);
        // a start after the close was refused and wrote nothing.
        object.object().value.read();
        let started = starter.join().unwrap();
        assert_eq!(world.registry.running(Which::All), 0);
        world.assert_done_tells_the_cancel(started, cancelled);
        world.release_last(object);
    });
}

#[test]
fn a_drain_racing_the_last_worker_and_dll_can_unload_now_reaps_it_once() {
    explore("lifecycle, drain and running_workers racing the last worker's exit", || {
        let world = World::new();
        let object = world.object();
        assert!(world.start(&object).is_some());
        drop(object); // the worker holds the last reference
        // DllCanUnloadNow on another thread: `running_workers` reaps what has exited.
        let polling = world.registry.clone();
        let poller = thread::spawn(move || polling.running(Which::All));
        world.drain(Which::All);
        // The drain returned after the worker's last step: the object is
        // freed and Done was called, both visible here.
        assert_eq!(world.drops(), 1, "the worker's release happened before the drain returned");
        assert_eq!(world.done.count.load(Ordering::Acquire), 1);
        assert!(poller.join().unwrap() <= 1);
        assert_eq!(world.registry.running(Which::All), 0);
    });
}

#[test]
fn a_scopes_shutdown_racing_a_start_of_its_object_refuses_it_or_cancels_it_and_drains_its_thread() {
    explore("scopes, a scope's shutdown (close, cancel, drain) racing a start of its object", || {
        let world = World::new();
        // MSProviderInit and Logon: the scope, and its store's sync object.
        let scope = world.registry.open_scope();
        let (object, host) = world.object_and_host();
        let _handle = world.registry.handle(object.as_raw() as usize, Some(scope));
        let starter = world.start_on_host_thread(host);
        // IMSProvider::Shutdown: `Scope::shutdown`'s two steps.
        let cancelled = world.registry.close_and_cancel(Which::Scope(scope));
        world.drain(Which::Scope(scope));
        object.object().value.read(); // the scope's worker, if any, has exited
        let started = starter.join().unwrap();
        assert!(!world.registry.is_closed(Which::All), "the module stays open");
        assert_eq!(world.registry.running(Which::All), 0);
        world.assert_done_tells_the_cancel(started, cancelled);
        world.release_last(object);
    });
}

#[test]
fn instance_as_shutdown_racing_instance_bs_open_and_start_leaves_b_untouched() {
    explore_bounded("scopes, A's shutdown racing B's open and B's first start", 2, || {
        // A's world; B shares its registry (the module's) and its drop log.
        let world = World::new();
        let done_b = Arc::new(Dones::default());
        let registry = &world.registry;
        let a = registry.open_scope();
        let object_a = world.object();
        let _handle_a = registry.handle(object_a.as_raw() as usize, Some(a));
        assert!(world.start(&object_a).is_some(), "A syncs");
        // B's MSProviderInit, Logon and first sync, on MAPI's other thread.
        let (b_registry, b_done, b_drops) = (registry.clone(), done_b.clone(), world.drops.clone());
        let instance_b = thread::spawn(move || {
            let b = b_registry.open_scope();
            let object_b = ObjectRef::<Model>::new(Tracked::new(&b_drops));
            let _handle_b = b_registry.handle(object_b.as_raw() as usize, Some(b));
            // SAFETY: loom model: `object_b` holds a reference.
            unsafe { start(object_b.as_raw(), &b_registry, &b_done) }.is_some()
        });
        registry.close_and_cancel(Which::Scope(a));
        world.drain(Which::Scope(a));
        assert_eq!(world.done.count.load(Ordering::Acquire), 1, "A's sync ended before A's drain returned");
        assert!(instance_b.join().unwrap(), "A's shutdown never refuses B");
        world.drain(Which::All);
        assert_eq!(done_b.count.load(Ordering::Acquire), 1);
        assert_eq!(done_b.hr.load(Ordering::Relaxed), hr_word(S_OK), "B's sync is never cancelled by A");
        drop(object_a);
        assert_eq!(world.drops(), 2);
    });
}

/// Issue 19's second review (D1): B adopts A's object and a clone of A's
/// now stale handle is made and dropped, racing A's shutdown, then B
/// starts a sync: the object stays B's throughout, so A's shutdown neither
/// refuses nor cancels B's sync, and B's shutdown does refuse the object.
#[test]
fn a_stale_handles_clone_racing_a_shutdown_never_moves_the_object_between_scopes() {
    explore_bounded("scopes, B's adoption and a stale handle's clone racing A's shutdown and B's start", 2, || {
        let world = World::new();
        let registry = &world.registry;
        let (a, b) = (registry.open_scope(), registry.open_scope());
        let (object, host) = world.object_and_host();
        let key = object.as_raw() as usize;
        let handle_a = registry.handle(key, Some(a)); // A's Logon
        let (b_registry, b_done) = (registry.clone(), world.done.clone());
        let instance_b = thread::spawn(move || {
            let handle_b = b_registry.handle(key, Some(b)); // B adopts it: it is B's now
            b_registry.clone_handle(&handle_a); // a clone of A's stale handle ...
            // SAFETY: loom model: `host` (moved here) holds a reference.
            let started = unsafe { start(host.as_raw(), &b_registry, &b_done) }.is_some();
            b_registry.drop_handle(&handle_a); // ... dropped again
            drop(host);
            (handle_b, started)
        });
        registry.close_and_cancel(Which::Scope(a)); // A's Shutdown
        world.drain(Which::Scope(a));
        let (handle_b, started) = instance_b.join().unwrap();
        assert!(started, "A's shutdown never refuses B's object");
        world.drain(Which::All);
        assert_eq!(world.done.hr.load(Ordering::Relaxed), hr_word(S_OK), "nor cancels its sync");
        registry.close_and_cancel(Which::Scope(b)); // B's Shutdown
        assert!(world.start(&object).is_none(), "the object is still B's");
        registry.drop_handle(&handle_b);
        registry.drop_handle(&handle_a);
        world.release_last(object);
    });
}

#[test]
fn a_drain_on_a_worker_racing_a_drain_from_outside_never_waits_for_itself() {
    explore("lifecycle, a worker's own drain (issue 17 item 1) racing a drain from outside", || {
        let world = World::new();
        let object = world.object();
        let (inside, said) = (world.registry.clone(), Arc::new(AtomicUsize::new(0)));
        let record = said.clone();
        let provider = move || {
            // Duration::MAX: a drain that waited for its own thread would never return.
            let drained = inside.drain(std::time::Duration::MAX, Which::All);
            record.store(if drained == Ok(()) { 1 } else { 2 }, Ordering::Release);
        };
        // SAFETY: loom model: `object` holds a reference.
        assert!(unsafe { start_running(object.as_raw(), &world.registry, &world.done, provider) }.is_some());
        drop(object);
        world.drain(Which::All);
        assert_eq!(said.load(Ordering::Acquire), 1, "the worker's drain returned Ok, skipping itself");
        assert_eq!(world.drops(), 1);
    });
}

/// Issue 17, item 3: the host's `Progress`, reached through a job the
/// provider kept, drains (`Duration::MAX`) on the provider's thread while
/// the sync's worker, its provider returned, waits for that call to end
/// (`engine/src/gate.rs`'s close). The drain skips that worker and returns `Ok`; a
/// drain from outside the call waits for it, and Done comes once.
#[test]
fn a_drain_inside_a_host_call_through_a_kept_job_never_waits_for_that_syncs_worker() {
    explore("lifecycle, a drain inside a host call in flight through a kept job (issue 17 item 3)", || {
        let world = World::new();
        let (job, call_ended) = world.kept_sync();
        let drained = host_calls::in_flight(&job, || world.registry.drain(std::time::Duration::MAX, Which::All));
        call_ended.set();
        assert_eq!(drained, Ok(()), "the worker that waits for this call is not waited for");
        world.drain(Which::All);
        assert_eq!(world.done.count.load(Ordering::Acquire), 1);
        assert_eq!(world.drops(), 1);
    });
}

/// Issue 17, items 1 and 3 (found by a review): the model above with a
/// second sync C whose worker drains on itself while this thread (T) drains
/// inside a host call through A's kept job. A's worker waits for T's call,
/// and C's worker must not wait for A's (it waits only for a draining
/// thread), nor T for C's in a cycle: both drains return `Ok` and every
/// worker says Done.
#[test]
fn drains_inside_a_kept_jobs_call_and_on_a_worker_never_wait_in_a_cycle() {
    explore_bounded("lifecycle, a drain in a kept job's call and a worker's drain (no cycle)", 2, || {
        let world = World::new();
        let (object_a, object_c) = (world.object(), world.object());
        let job_a = std::sync::Arc::new(JobState::new());
        let (call_ended, closing) = (Arc::new(CallEnd::default()), Arc::new(AtomicBool::new(false)));
        let close = closes_after(&call_ended, &closing);
        // SAFETY: loom model: `object_a` holds a reference.
        let started =
            unsafe { start_job(object_a.as_raw(), &world.registry, &world.done, job_a.clone(), || {}, close) };
        assert!(started.is_some());
        // A's worker is in its close before the drains start: two drains that
        // look again and again would otherwise starve it in loom's schedules
        // (which have no time), where real threads all run.
        while !closing.load(Ordering::Acquire) {
            thread::yield_now();
        }
        let (inside, c_said) = (world.registry.clone(), Arc::new(AtomicBool::new(false)));
        let c_drained = c_said.clone();
        let provider_c = move || {
            let drained = inside.drain(std::time::Duration::MAX, Which::All);
            c_drained.store(drained == Ok(()), Ordering::Release);
        };
        // SAFETY: loom model: `object_c` holds a reference.
        assert!(unsafe { start_running(object_c.as_raw(), &world.registry, &world.done, provider_c) }.is_some());
        drop((object_a, object_c));
        let drained = host_calls::in_flight(&job_a, || world.registry.drain(std::time::Duration::MAX, Which::All));
        call_ended.set();
        assert_eq!(drained, Ok(()));
        world.drain(Which::All);
        assert!(c_said.load(Ordering::Acquire), "C's worker's drain returned Ok");
        assert_eq!(world.done.count.load(Ordering::Acquire), 2);
    });
}

/// The end of a host call in flight through a kept job, which a worker's
/// close waits for (`engine/src/gate.rs`: a lock and a condition variable).
#[derive(Default)]
struct CallEnd(loom::sync::Mutex<bool>, loom::sync::Condvar);

impl CallEnd {
    fn set(&self) {
        *self.0.lock().unwrap() = true;
        self.1.notify_all();
    }
}

/// A worker's close that waits until the call `ended`.
fn waits_for(ended: &Arc<CallEnd>) -> impl FnOnce() + Send + use<> {
    let closing = Arc::new(AtomicBool::new(false));
    closes_after(ended, &closing)
}

/// As [`waits_for`]; sets `closing` first.
fn closes_after(ended: &Arc<CallEnd>, closing: &Arc<AtomicBool>) -> impl FnOnce() + Send + use<> {
    let (ended, closing) = (ended.clone(), closing.clone());
    move || {
        closing.store(true, Ordering::Release);
        let mut set = ended.0.lock().unwrap();
        while !*set {
            set = ended.1.wait(set).unwrap();
        }
    }
}

/// No cycle (found by a review of the skip above): T drains inside a host
/// call through A's kept job (A's worker waits for that call in its close);
/// Y, this thread, a host's own that nothing waits for, drains too. Y's
/// drain waits for A (T's drain waits for nothing of Y's): it returns only
/// once A's worker has said Done.
#[test]
fn a_drain_nothing_waits_for_waits_for_a_sync_another_thread_drains_inside() {
    explore_bounded("lifecycle, a host thread's drain while T drains inside A's kept call", 2, || {
        let world = World::new();
        let (job, call_ended) = world.kept_sync();
        let (registry, t_job, ended) = (world.registry.clone(), job.clone(), call_ended.clone());
        let t = thread::spawn(move || {
            let drained = host_calls::in_flight(&t_job, || registry.drain(std::time::Duration::MAX, Which::All));
            ended.set();
            drained
        });
        let drained = world.registry.drain(std::time::Duration::MAX, Which::All);
        let done_then = world.done.count.load(Ordering::Acquire);
        assert_eq!(t.join().unwrap(), Ok(()));
        assert_eq!(drained, Ok(()));
        assert_eq!(done_then, 1, "Y's drain waited for A's Done (Y is in no cycle)");
    });
}

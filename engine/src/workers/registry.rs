//! The module's registry of syncs: whether new syncs are admitted (for the
//! whole module and for each [scope](https://docs.rs/mapisync/latest/mapisync/lifecycle/struct.Scope.html)), the objects
//! each scope owns, each running sync's cancel word and worker thread, and
//! the module's pin on itself. One lock guards it all, so "refuse new syncs
//! and cancel the running ones" is one step that no start can slip through,
//! for the module as for one scope.
//!
//! An entry lives from the start of a sync until its thread has *exited*
//! and been reaped (joined, or its handle closed) by a later call:
//! [`admit`](Registry::admit) (the next start), [`running`](Registry::running)
//! (`DllCanUnloadNow`, `running_workers`) or [`drain`](Registry::drain).
//! A worker thread touches the registry only when the provider's or the
//! host's code calls into `lifecycle` on it; a drain there never waits for
//! its own thread (nor for a worker that is itself draining), so it cannot
//! wait for itself, directly or in a cycle. Nor does a drain wait, on any
//! thread, for a sync with a host call in flight on that thread through one
//! of its jobs (`host_calls.rs`): that worker may wait for the call; and a
//! drain that may itself be waited for (on a worker, or inside such a
//! call) skips a sync with a call in flight on any draining thread.
//!
//! The registry is generic over the thread ([`Exit`]) so that the loom
//! models run this very code with loom threads.

use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use windows_result::HRESULT;

use crate::atomic::{Condvar, Mutex, MutexGuard};
use crate::hresult::{E_OUTOFMEMORY, MAPI_E_END_OF_SESSION};
use crate::state::JobState;
use crate::workers::host_calls;
use crate::workers::pin::{ModulePin, RawThread};

mod handles;

use handles::Record;
pub use handles::Ticket;

/// A worker thread whose exit can be observed.
pub trait Exit: Send {
    /// A thread's identity, to tell the calling thread's own entry apart.
    type Id: PartialEq + Send;

    /// The identity of the thread this value stands for.
    fn id(&self) -> Self::Id;

    /// The identity of the calling thread.
    fn current() -> Self::Id;

    /// Whether the thread has exited, without blocking. Once `true`, the
    /// thread is reaped and every later call says `true`.
    fn has_exited(&mut self) -> bool;

    /// Waits until the thread exited (`true`) or `deadline` passed (`false`);
    /// `None` waits without a limit.
    fn wait_exit(&mut self, deadline: Option<Instant>) -> bool;

    /// The thread's own handle, open while this value lives, for a pin's
    /// hand-off that waits for the thread's end (`pin.rs`); `None` where
    /// there is none to wait on (the hand-off is then not made).
    fn raw(&self) -> Option<RawThread> {
        None
    }
}

/// A scope's number, unique for the life of the module.
pub type ScopeId = u64;

/// Which entries a call is about: every one, or one scope's.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Which {
    /// Every sync of the module.
    All,
    /// The syncs of the objects one scope owns.
    Scope(ScopeId),
}

/// One sync, from its start until its thread is reaped.
struct Entry<W: Exit> {
    /// The address of the object whose slot 3 started the sync: compared by
    /// `cancel`, never dereferenced. The object outlives the sync's end
    /// (the worker holds a reference until after `JobState::end`), and an
    /// ended entry is never matched, so a reused address cannot be confused.
    key: usize,
    /// The address of the `ForwardSync` store whose slot 3 forwarded to
    /// `key`, if any: `cancel` of the store's IMAPISync matches it too. The
    /// worker holds the store until after `JobState::end` (see
    /// `workers::start_worker`), so while the entry's sync runs no other
    /// store can be at this address; an ended entry is never matched.
    alias: Option<usize>,
    /// The scope that owned the object when the sync started.
    scope: Option<ScopeId>,
    job: Arc<JobState>,
    /// The worker thread's identity: a drain on this thread skips the entry.
    owner: W::Id,
    /// Whether the worker is inside a drain now: drains on other workers
    /// skip it, so two workers draining each other cannot wait in a cycle.
    draining: bool,
    /// A drain or a scope's end on this worker asked for the module's pin to
    /// go with the thread's exit ([`Registry::worker_ending`]).
    hand_off: bool,
    /// The worker's body has ended ([`Registry::worker_ending`] ran on it):
    /// only its thread's teardown is left.
    ended: bool,
    /// `None` while a `drain` waits for this thread outside the lock.
    thread: Option<W>,
}

impl<W: Exit> Entry<W> {
    fn is_in(&self, which: Which) -> bool {
        match which {
            Which::All => true,
            Which::Scope(id) => self.scope == Some(id),
        }
    }

    fn matches(&self, key: usize) -> bool {
        self.key == key || self.alias == Some(key)
    }
}

struct Inner<W: Exit> {
    closed: bool,
    entries: Vec<Entry<W>>,
    /// Scopes opened and not yet closed.
    open_scopes: Vec<ScopeId>,
    next_scope: ScopeId,
    records: Vec<Record>,
    /// The next `life` or `generation` number (one sequence, never reused).
    next_number: u64,
    /// Held while `entries` is not empty (see `pin.rs`), unless the last
    /// worker handed it to its own exit.
    pin: Option<ModulePin>,
    /// The threads in a drain now, once per drain (workers among them).
    draining: Vec<host_calls::ThreadId>,
}

/// The registry (one per module, in `workers.rs`; one per model in loom).
pub struct Registry<W: Exit> {
    inner: Mutex<Inner<W>>,
    /// Notified when a `drain` finishes waiting for a thread.
    reaped: Condvar,
    /// `records.len()`, stored under the lock after each change, so that
    /// [`forget`](Self::forget) (every object's destruction) takes no lock
    /// while no handle exists.
    recorded: core::sync::atomic::AtomicUsize,
}

// Made with `new` only, by mapisync's crates: a `Default` would be one
// more public item of a hidden type.
#[allow(clippy::new_without_default)]
impl<W: Exit> Registry<W> {
    /// An open registry with no sync and no scope.
    pub fn new() -> Self {
        let inner = Inner {
            closed: false,
            entries: Vec::new(),
            open_scopes: Vec::new(),
            next_scope: 1,
            records: Vec::new(),
            next_number: 1,
            pin: None,
            draining: Vec::new(),
        };
        Self { inner: Mutex::new(inner), reaped: Condvar::new(), recorded: core::sync::atomic::AtomicUsize::new(0) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<W>> {
        // Nothing panics while the lock is held; if something did, the
        // entries are still consistent (each change is one Vec operation).
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits the sync `job` of the object at `key` (forwarded to by the
    /// store at `alias`, if any) and starts its thread with `spawn`, under
    /// the lock, so a concurrent shutdown either refuses it or cancels it.
    /// MAPI_E_END_OF_SESSION after [`close_and_cancel`](Self::close_and_cancel)
    /// of the module or of the scope that owns the object; E_OUTOFMEMORY
    /// when no thread could be started (nothing is kept).
    pub fn admit(
        &self,
        key: usize,
        alias: Option<usize>,
        job: &Arc<JobState>,
        spawn: impl FnOnce() -> std::io::Result<W>,
    ) -> Result<(), HRESULT> {
        // A pin is taken only when the registry holds none (after a reap
        // gave it back, or a hand-off took it), and then outside the lock,
        // never under it: the loader's lock, which taking a module
        // reference may need, is held by a worker's thread-local
        // destructors, which may call into `lifecycle` and so wait for this
        // lock. `spare` is declared first, so one not needed (another start
        // installed a pin meanwhile, or this start is refused) is given
        // back after the lock is released.
        let mut spare = None;
        let mut taken = false;
        let mut inner = loop {
            let inner = self.lock();
            if inner.pin.is_some() || taken {
                break inner;
            }
            drop(inner);
            spare = ModulePin::take();
            taken = true;
        };
        let scope = inner.owner_of(key, alias);
        if inner.closed || scope.is_some_and(|id| !inner.open_scopes.contains(&id)) {
            return Err(MAPI_E_END_OF_SESSION);
        }
        // Reap, but keep the pin: the new entry is about to need it.
        inner.reap_exited();
        let thread = spawn().map_err(|_| E_OUTOFMEMORY)?;
        let owner = thread.id();
        inner.entries.push(Entry {
            key,
            alias,
            scope,
            job: job.clone(),
            owner,
            draining: false,
            hand_off: false,
            ended: false,
            thread: Some(thread),
        });
        if inner.pin.is_none() {
            inner.pin = spare.take();
        }
        Ok(())
    }

    /// Cancels the running sync of the object (or forwarding store) at
    /// `key`; whether there was one.
    pub fn cancel(&self, key: usize) -> bool {
        let inner = self.lock();
        // Every match is cancelled (`|`, not `||`); there is at most one
        // running sync per object, the busy flag sees to that.
        inner.entries.iter().filter(|entry| entry.matches(key)).fold(false, |any, entry| entry.job.cancel() | any)
    }

    /// Cancels every running sync of `which`; how many were running.
    pub fn cancel_all(&self, which: Which) -> usize {
        Self::cancel_entries(&self.lock(), which)
    }

    fn cancel_entries(inner: &Inner<W>, which: Which) -> usize {
        inner.entries.iter().filter(|entry| entry.is_in(which) && entry.job.cancel()).count()
    }

    /// Refuses every later [`admit`](Self::admit) of `which` (the module,
    /// or the objects of one scope) and cancels its running syncs, in one
    /// step; how many were cancelled. A closed scope stays closed.
    pub fn close_and_cancel(&self, which: Which) -> usize {
        let mut inner = self.lock();
        match which {
            Which::All => inner.closed = true,
            Which::Scope(id) => inner.open_scopes.retain(|open| *open != id),
        }
        Self::cancel_entries(&inner, which)
    }

    /// Admits the module's syncs again (not those of a closed scope).
    pub fn reopen(&self) {
        self.lock().closed = false;
    }

    /// Whether `which` refuses syncs now.
    pub fn is_closed(&self, which: Which) -> bool {
        let inner = self.lock();
        match which {
            Which::All => inner.closed,
            Which::Scope(id) => inner.closed || !inner.open_scopes.contains(&id),
        }
    }

    /// A new scope, open, in one step.
    pub fn open_scope(&self) -> ScopeId {
        let mut inner = self.lock();
        let id = inner.next_scope;
        inner.next_scope += 1;
        inner.open_scopes.push(id);
        id
    }

    /// Worker threads of `which` that have not exited, after reaping those that have.
    pub fn running(&self, which: Which) -> usize {
        let mut inner = self.lock();
        inner.reap_exited();
        inner.release_pin_if_idle();
        inner.entries.iter().filter(|entry| entry.is_in(which)).count()
    }

    /// Waits until every worker thread of `which` has exited, at most
    /// `timeout`: `Err(n)` with the `n` threads still there when the time
    /// ran out. On a worker thread, its own entry (and those of other
    /// workers draining now) is skipped: counted as exiting, never waited for.
    /// A drain that something may wait for (on a worker, or inside a host
    /// call through a job of a sync that is still running) also skips every
    /// sync with a host call in flight, through one of its jobs, on a thread
    /// that is draining now (this one among them): that sync's worker may
    /// wait for the call, which returns only after its drain, so waiting for
    /// it could close a cycle back to this drain (`host_calls.rs`). Such a
    /// sync stays in the registry until it exits. A drain that nothing waits
    /// for (a host's own thread) can close no cycle and skips none of them.
    pub fn drain(&self, timeout: Duration, which: Which) -> Result<(), usize> {
        let deadline = Instant::now().checked_add(timeout);
        let me = W::current();
        let (on_worker, waited_for) = self.begin_drain(&me);
        let awaited = |entry: &Entry<W>, draining: &[host_calls::ThreadId]| {
            entry.is_in(which)
                && entry.owner != me
                && !(on_worker && entry.draining)
                && !(waited_for && host_calls::has_call_from(&entry.job, draining))
        };
        // Only a drain that skips calls from draining threads needs to look
        // again while it waits (a thread that starts draining changes what
        // it waits for); any other waits for each thread's exit at once.
        let drained = self.drain_awaited(&awaited, deadline, waited_for);
        self.end_drain(&me);
        drained
    }

    /// On a worker thread (a drain or a scope's end ran on it): asks that
    /// the module's pin be handed to the thread's exit when the worker's
    /// body ends ([`worker_ending`](Self::worker_ending)), so a host that
    /// unloads the DLL right after a Shutdown that ran on this worker
    /// (MAPI's `FreeLibrary`, with no other call into the DLL) does unload
    /// it once the thread has terminated, instead of never. Elsewhere, nothing.
    pub fn ask_for_hand_off(&self) {
        let me = W::current();
        if let Some(entry) = self.lock().entries.iter_mut().find(|entry| entry.owner == me) {
            entry.hand_off = true;
        }
    }

    /// At the end of a worker's body (its sync's `Done` said, its objects
    /// released): if [`ask_for_hand_off`](Self::ask_for_hand_off) asked it
    /// of this worker, and every other worker the registry lists has ended
    /// its body, hands the module's pin to the exit of this thread and of
    /// those (see `pin.rs`): after `Done` and the workers' releases, not in
    /// the middle of them. Two stores' Shutdowns, each on its own worker,
    /// so unload the DLL once both threads are gone, whichever ends last.
    /// The pool callback reaps the ended entries (`reap`, the module's
    /// [`reap`](Self::reap)) before it gives the reference back, so their
    /// thread handles are closed then, not left for a call that may never
    /// come; a later sync takes a pin of its own. Not made when a worker
    /// the registry lists still runs its body, or a drain holds its thread
    /// (the DLL then stays loaded until a later call reaps them: known,
    /// `unload_orders.cpp` modes 1, 2, 10 and 11). The pin is for the
    /// module's workers only: a thread of the provider's own (one that
    /// holds a kept job or token, say) is the provider's to end in its
    /// Shutdown.
    pub fn worker_ending(&self, reap: fn()) {
        let me = W::current();
        let mut inner = self.lock();
        inner.reap_exited();
        // Only this worker's own request: a worker that did not ask may be
        // waited for by a drain on a host thread, which gives the pin back
        // itself (at once, so an unload right after it is at once).
        let asked = inner.entries.iter().any(|entry| entry.owner == me && entry.hand_off);
        let (mut others, mut all_ended) = (Vec::new(), true);
        for entry in &mut inner.entries {
            if entry.owner == me {
                entry.ended = true;
            } else if let Some(raw) = entry.thread.as_ref().filter(|_| entry.ended).and_then(Exit::raw) {
                others.push(raw);
            } else {
                // Still running, or a drain waits for it outside the lock.
                all_ended = false;
            }
        }
        if let Some(pin) = inner.pin.take_if(|_| asked && all_ended) {
            inner.pin = pin.release_after_threads(others, reap).err();
        }
    }

    /// Drops the entries whose thread has exited: the pool callback of a
    /// worker's hand-off, once that worker and the others it waited for
    /// have terminated. The module's pin is not touched (the hand-off took
    /// it; a later sync's is given back by a later call into the DLL).
    pub fn reap(&self) {
        self.lock().reap_exited();
    }

    /// Marks the calling thread as draining, and its entry too if it is a
    /// worker: whether it is one, and whether something may wait for this
    /// drain (it is a worker, or it has a host call in flight through a job
    /// of a sync in the registry), one look under the lock.
    fn begin_drain(&self, me: &W::Id) -> (bool, bool) {
        let here = host_calls::this_thread();
        let mut inner = self.lock();
        inner.draining.push(here);
        let in_a_call = inner.entries.iter().any(|entry| host_calls::has_call_from(&entry.job, &[here]));
        let on_worker =
            inner.entries.iter_mut().find(|entry| entry.owner == *me).map(|entry| entry.draining = true).is_some();
        (on_worker, on_worker || in_a_call)
    }

    /// Ends a drain: takes the calling thread's mark off, and on a worker
    /// clears its entry's and asks for the pin's hand-off ([`ask_for_hand_off`](Self::ask_for_hand_off)).
    fn end_drain(&self, me: &W::Id) {
        let mut inner = self.lock();
        inner.unmark_draining();
        if let Some(entry) = inner.entries.iter_mut().find(|entry| entry.owner == *me) {
            entry.draining = false;
            entry.hand_off = true;
        }
    }

    fn drain_awaited(
        &self,
        awaited: &Awaited<'_, W>,
        deadline: Option<Instant>,
        look_again: bool,
    ) -> Result<(), usize> {
        let slice = |deadline| if look_again { Some(slice_end(deadline)) } else { deadline };
        let mut inner = self.lock();
        loop {
            inner.reap_exited();
            inner.release_pin_if_idle();
            // One look at each entry: what it waits for may change meanwhile
            // (another thread starts draining), and the count and the pick must agree.
            let Inner { entries, draining, .. } = &mut *inner;
            let (mut left, mut next) = (0, None);
            for entry in entries.iter_mut().filter(|entry| awaited(entry, draining)) {
                left += 1;
                if next.is_none() {
                    next = entry.thread.take().map(|thread| (entry.job.clone(), thread));
                }
            }
            if left == 0 {
                return Ok(());
            }
            match next {
                Some((job, thread)) => {
                    inner = self.wait_for(inner, job, thread, (deadline, slice(deadline)), awaited)?
                }
                None if deadline.is_some_and(|deadline| Instant::now() >= deadline) => return Err(left),
                // Every thread left is being waited for by another drain.
                None => inner = self.wait_for_other_drain(inner, slice(deadline)),
            }
        }
    }

    /// Waits for one thread outside the lock until `until` (the deadline,
    /// or the end of a [`LOOK_AGAIN`] slice before it), then removes its
    /// entry (it exited) or puts it back: and gives up if the deadline has
    /// passed, or goes on (the caller looks again at what it waits for,
    /// which another drain may have changed).
    fn wait_for<'a>(
        &'a self,
        inner: MutexGuard<'a, Inner<W>>,
        job: Arc<JobState>,
        mut thread: W,
        (deadline, until): (Option<Instant>, Option<Instant>),
        awaited: &Awaited<'_, W>,
    ) -> Result<MutexGuard<'a, Inner<W>>, usize> {
        drop(inner);
        let exited = thread.wait_exit(until);
        let mut inner = self.lock();
        // Only the holder of the thread removes an entry whose thread is taken.
        let index = inner.entries.iter().position(|entry| Arc::ptr_eq(&entry.job, &job));
        let index = index.expect("an entry whose thread is taken stays in the registry");
        if exited {
            inner.entries.swap_remove(index);
        } else {
            inner.entries[index].thread = Some(thread);
        }
        self.reaped.notify_all();
        if exited || deadline.is_none_or(|deadline| Instant::now() < deadline) {
            return Ok(inner);
        }
        // Count only what still runs: threads that exited while this one was
        // waited for are reaped first.
        inner.reap_exited();
        Err(inner.awaited_count(awaited))
    }

    /// Waits until another drain reaps or puts back a thread, or until `until`.
    fn wait_for_other_drain<'a>(
        &'a self,
        inner: MutexGuard<'a, Inner<W>>,
        until: Option<Instant>,
    ) -> MutexGuard<'a, Inner<W>> {
        match until {
            None => self.reaped.wait(inner).unwrap_or_else(PoisonError::into_inner),
            Some(until) => {
                let left = until.saturating_duration_since(Instant::now());
                self.reaped.wait_timeout(inner, left).unwrap_or_else(PoisonError::into_inner).0
            }
        }
    }
}

/// Whether a drain waits for an entry, given the threads draining now.
type Awaited<'a, W> = dyn Fn(&Entry<W>, &[host_calls::ThreadId]) -> bool + 'a;

/// How long a drain that skips calls from draining threads waits for a
/// thread before it looks again at what it waits for: a thread that starts
/// draining inside a host call through a job of the awaited sync makes that
/// sync no longer awaited. Short against
/// a shutdown's timeout (seconds), long against the cost of a look (a lock).
const LOOK_AGAIN: Duration = Duration::from_millis(10);

/// The end of the next slice of a wait that ends at `deadline` (never, if `None`).
fn slice_end(deadline: Option<Instant>) -> Instant {
    let slice = Instant::now() + LOOK_AGAIN;
    deadline.map_or(slice, |deadline| deadline.min(slice))
}

impl<W: Exit> Inner<W> {
    /// How many entries a drain waits for.
    fn awaited_count(&self, awaited: &Awaited<'_, W>) -> usize {
        self.entries.iter().filter(|entry| awaited(entry, &self.draining)).count()
    }

    /// Takes one mark of the calling thread off the draining threads.
    fn unmark_draining(&mut self) {
        let me = host_calls::this_thread();
        if let Some(at) = self.draining.iter().rposition(|thread| *thread == me) {
            self.draining.swap_remove(at);
        }
    }

    /// Drops the entries whose thread has exited (a taken thread is a
    /// drain's to reap).
    fn reap_exited(&mut self) {
        self.entries.retain_mut(|entry| entry.thread.as_mut().is_none_or(|thread| !thread.has_exited()));
    }

    /// Gives up the module's pin once no worker thread is left. Called only
    /// from calls the host makes into the DLL (see `pin.rs`), never from a
    /// worker: a worker's own entry keeps `entries` non-empty (a worker
    /// hands the pin to its own exit instead, `worker_ending`).
    fn release_pin_if_idle(&mut self) {
        if self.entries.is_empty() {
            self.pin = None;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A thread that has already exited.
    struct Exited;

    impl Exit for Exited {
        type Id = u8;

        fn id(&self) -> u8 {
            1
        }

        fn current() -> u8 {
            0
        }

        fn has_exited(&mut self) -> bool {
            true
        }

        fn wait_exit(&mut self, _deadline: Option<Instant>) -> bool {
            true
        }
    }

    /// Decision 5's "the worker thread cannot be started": slot 3 answers
    /// what `admit` does (protocol.rs then clears `*phSyncDoneEvent`, the
    /// branch the refused-after-shutdown tests drive), and nothing is kept.
    #[test]
    fn a_thread_that_cannot_start_is_e_outofmemory_and_leaves_nothing_behind() {
        let registry = Registry::<Exited>::new();
        let job = Arc::new(JobState::new());
        let refused = registry.admit(1, None, &job, || Err(std::io::Error::other("no thread for you")));
        assert_eq!(refused, Err(E_OUTOFMEMORY));
        assert_eq!(registry.running(Which::All), 0);
        assert!(!registry.cancel(1), "no entry was kept for the sync that never started");
        assert_eq!(registry.admit(1, None, &job, || Ok(Exited)), Ok(()), "the next start is admitted");
        assert_eq!(registry.running(Which::All), 0, "its exited thread is reaped");
    }

    /// Adopting moves an object; a stale handle's clone and drop change
    /// nothing; a destroyed object's handles do nothing; the record goes
    /// with the last handle.
    #[test]
    fn adopting_moves_the_object_and_stale_handles_change_nothing() {
        let registry = Registry::<Exited>::new();
        let (a, b) = (registry.open_scope(), registry.open_scope());
        let handle_a = registry.handle(7, Some(a));
        let handle_b = registry.handle(7, Some(b));
        registry.clone_handle(&handle_a);
        registry.drop_handle(&handle_a);
        assert_eq!(registry.lock().owner_of(7, None), Some(b), "A's stale clone moved nothing");
        registry.drop_handle(&handle_a);
        assert_eq!(registry.lock().owner_of(7, None), Some(b));
        registry.drop_handle(&handle_b);
        assert_eq!(registry.lock().owner_of(7, None), None, "B's last handle is gone");
        assert_eq!(registry.recorded.load(core::sync::atomic::Ordering::Relaxed), 0, "forgotten");
        let old = registry.handle(7, None);
        registry.forget(7);
        let new = registry.handle(7, Some(a));
        registry.drop_handle(&old);
        assert_eq!(registry.lock().owner_of(7, None), Some(a), "the old life's drop left the new one alone");
        assert!(!registry.cancel_handle(&old));
        registry.drop_handle(&new);
        assert_eq!(registry.recorded.load(core::sync::atomic::Ordering::Relaxed), 0);
    }
}

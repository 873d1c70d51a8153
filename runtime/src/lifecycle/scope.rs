//! One provider instance's syncs: [`Scope`], and the [`SyncHandle`] that
//! cancels one object's sync from any thread.

use std::time::Duration;

use windows_core::{HRESULT, Interface};

use crate::abi::IMAPISync;
use crate::hresult::S_OK;
use crate::workers::REGISTRY;
use crate::workers::registry::{ScopeId, Ticket, Which};

/// The syncs of one provider instance (one `IMSProvider`), from
/// `MSProviderInit` to `IMSProvider::Shutdown` or fast shutdown.
///
/// A process can hold several provider instances of one DLL (two profiles,
/// an add-in's own `MAPILogonEx`, the spooler). Each keeps a `Scope`, made
/// in one step by [`Scope::open`], and [adopts](Scope::adopt) the sync
/// object of every store it logs on. Its [`shutdown`](Scope::shutdown)
/// refuses new syncs of *those* objects (`MAPI_E_END_OF_SESSION`), cancels
/// and drains *their* running ones, and leaves every other scope alone;
/// it is one step too, so no start can slip between the refusal and the
/// cancel. Dropping the scope ends it the same way, without waiting. An
/// ended scope stays ended: `MSProviderInit` again opens a new one.
///
/// The DLL-wide guarantees hold across scopes: the DLL stays loaded while a
/// worker of any scope has not exited, and `DllCanUnloadNow` counts them
/// all. The module-wide functions ([`shutdown`](super::shutdown),
/// [`cancel_all`](super::cancel_all), ...) reach every scope: they are for
/// DLLs that create one provider instance at a time.
///
/// ```
/// # struct Inbox;
/// # #[mapisync::provider]
/// # impl mapisync::MapiSync for Inbox {
/// #     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
/// # }
/// use mapisync::lifecycle::Scope;
/// use std::time::Duration;
///
/// let a = Scope::open(); // MSProviderInit of instance A
/// let b = Scope::open(); // ... and of instance B
/// let (sync_a, sync_b): (mapisync::IMAPISync, mapisync::IMAPISync) = (Inbox.into(), Inbox.into());
/// let _store_a = a.adopt(&sync_a); // IMSProvider::Logon: kept by A's store
/// let _store_b = b.adopt(&sync_b);
/// assert_eq!(a.shutdown(Duration::from_secs(5)), Ok(())); // A's IMSProvider::Shutdown
/// assert!(a.is_shut_down() && !b.is_shut_down()); // A's syncs are refused now
/// let host = mapisync::host::Host::new();
/// assert_eq!(host.run(&sync_b).unwrap().done, Some(mapisync::S_OK)); // B is untouched
/// ```
#[derive(Debug)]
pub struct Scope {
    id: ScopeId,
}

impl Scope {
    /// A new scope that admits syncs (for `MSProviderInit`).
    pub fn open() -> Self {
        Self { id: REGISTRY.open_scope() }
    }

    fn which(&self) -> Which {
        Which::Scope(self.id)
    }

    /// Makes the object `sync` belongs to this scope's, and returns a
    /// handle that cancels the object's sync from any thread (`StoreLogoff`).
    /// Pass the IMAPISync the host will call: a plain or aggregated
    /// mapisync object, a [tear-off](crate::aggregate::tear_off), or a
    /// [`ForwardSync`](crate::ForwardSync) store.
    ///
    /// Adopting moves the object: it is this scope's from now on, until the
    /// last clone of the returned handle is dropped, another scope adopts it
    /// (then this adoption's handles are stale: their clones and drops
    /// change no membership, though they still cancel), or the object is
    /// destroyed. A sync already running when the object is adopted stays
    /// outside the scope; adopt the object when it is made, before the
    /// host sees it.
    pub fn adopt(&self, sync: &IMAPISync) -> SyncHandle {
        SyncHandle { ticket: REGISTRY.handle(key_of(sync), Some(self.id)) }
    }

    /// Refuses new syncs of this scope's objects, cancels their running
    /// ones, and waits at most `timeout` for their worker threads to exit
    /// (for `IMSProvider::Shutdown`). `Err(n)`: `n` threads of this scope
    /// still run. Other scopes are untouched.
    ///
    /// On a worker thread of this module (in the provider's code, or in the
    /// host's `Done`, `Progress` or `Error`, which run there), the calling
    /// thread is never waited for: it counts as exiting; nor is a sync with
    /// a host call in flight on the calling thread, nor, from a worker or
    /// inside such a call, one with a call in flight on another draining
    /// thread (see [`drain`](super::drain)).
    pub fn shutdown(&self, timeout: Duration) -> Result<(), usize> {
        REGISTRY.close_and_cancel(self.which());
        self.drain(timeout)
    }

    /// Cancels the running syncs of this scope's objects; how many ran.
    pub fn cancel_all(&self) -> usize {
        REGISTRY.cancel_all(self.which())
    }

    /// Waits at most `timeout` for the worker threads of this scope's syncs
    /// to exit, as [`drain`](super::drain) does for the module.
    pub fn drain(&self, timeout: Duration) -> Result<(), usize> {
        REGISTRY.drain(timeout, self.which())
    }

    /// Whether this scope refuses syncs now (after its shutdown, or after
    /// the module's).
    pub fn is_shut_down(&self) -> bool {
        REGISTRY.is_closed(self.which())
    }

    /// Worker threads of this scope's syncs that have not exited yet.
    pub fn running_workers(&self) -> usize {
        REGISTRY.running(self.which())
    }

    /// `IMAPIProviderShutdown::QueryFastShutdown`: S_OK, the provider
    /// supports fast shutdown (its background work stops on request).
    pub fn query_fast_shutdown(&self) -> HRESULT {
        S_OK
    }

    /// `IMAPIProviderShutdown::NotifyProcessShutdown`: refuses new syncs of
    /// this scope and cancels the running ones, without waiting; S_OK.
    pub fn notify_process_shutdown(&self) -> HRESULT {
        REGISTRY.close_and_cancel(self.which());
        S_OK
    }

    /// `IMAPIProviderShutdown::DoFastShutdown`: refuses and cancels as
    /// [`notify_process_shutdown`](Self::notify_process_shutdown) (should
    /// MAPI not have called it), then gives the running syncs at most
    /// `grace` to finish their cleanup; S_OK. The process exits right after.
    pub fn do_fast_shutdown(&self, grace: Duration) -> HRESULT {
        let _ = self.shutdown(grace);
        S_OK
    }
}

impl Drop for Scope {
    /// Ends the scope as [`shutdown`](Scope::shutdown) does, without
    /// waiting. On a worker thread, once every other worker of the module
    /// has ended its body, the module's load reference is then given back
    /// when all of them have terminated (Windows).
    fn drop(&mut self) {
        REGISTRY.close_and_cancel(self.which());
        REGISTRY.ask_for_hand_off();
    }
}

/// Cancels one object's sync from any thread: `Send + Sync`, cheap to
/// clone, made from the object's IMAPISync with [`SyncHandle::new`] or by
/// [`Scope::adopt`] (which also makes the object the scope's). For
/// `IMsgStore::StoreLogoff` and `IMSLogon::Logoff`, which MAPI may call on
/// any thread.
///
/// The handle holds no reference to the object, only numbers the module's
/// registry compares: keeping it in the store makes no reference cycle, and
/// it never touches the object itself from another thread. A handle outlived
/// by its object does nothing: a mapisync object tells the registry when it
/// is destroyed, so a new object at the same address is never cancelled
/// through an old handle. A [`ForwardSync`](crate::ForwardSync) store is not
/// a mapisync object and cannot tell: keep a handle made from a store's own
/// IMAPISync in that store (it then dies with it), or make it from the
/// mapisync object the store forwards to (`&self.sync`).
///
/// ```
/// # struct Inbox;
/// # #[mapisync::provider]
/// # impl mapisync::MapiSync for Inbox {
/// #     fn synchronize_in_background(&self, _: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
/// # }
/// let sync: mapisync::IMAPISync = Inbox.into();
/// let handle = mapisync::lifecycle::SyncHandle::new(&sync);
/// let logoff = std::thread::spawn(move || handle.cancel()); // StoreLogoff on MAPI's thread
/// assert!(!logoff.join().unwrap(), "no sync was running");
/// ```
#[derive(Debug)]
pub struct SyncHandle {
    ticket: Ticket,
}

/// The address that identifies the syncs of the object `sync` belongs to
/// (a tear-off stands for its sync object).
fn key_of(sync: &IMAPISync) -> usize {
    crate::aggregate::sync_target(sync).as_raw() as usize
}

impl SyncHandle {
    /// A handle that cancels the syncs of the object `sync` belongs to (a
    /// tear-off stands for its sync object, a `ForwardSync` store for the
    /// object it forwards to), in no scope.
    pub fn new(sync: &IMAPISync) -> Self {
        Self { ticket: REGISTRY.handle(key_of(sync), None) }
    }

    /// Cancels the object's running sync, if any; whether one was running
    /// (and is now cancelled), as [`lifecycle::cancel`](super::cancel).
    /// `false` once the object was destroyed, whatever runs at its address.
    pub fn cancel(&self) -> bool {
        REGISTRY.cancel_handle(&self.ticket)
    }

    /// Whether the scope this handle was adopted into (if any) or the
    /// module refuses syncs now.
    pub fn is_shut_down(&self) -> bool {
        REGISTRY.is_closed(self.ticket.scope().map_or(Which::All, Which::Scope))
    }
}

impl Clone for SyncHandle {
    fn clone(&self) -> Self {
        REGISTRY.clone_handle(&self.ticket);
        Self { ticket: self.ticket }
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        REGISTRY.drop_handle(&self.ticket);
    }
}

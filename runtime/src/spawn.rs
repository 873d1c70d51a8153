//! Starting a sync's worker thread: the engine's registry admits it
//! (`mapisync_engine::workers`); this side holds the `ForwardSync` store
//! that forwarded the call, a COM reference, for as long as the sync runs.

use core::ffi::c_void;

use windows_core::{HRESULT, Interface};

use crate::abi::IMAPISync;
use crate::workers::{self, CancelToken};

/// Admits a sync of the object at `key` and starts `body` on its worker
/// thread; MAPI_E_END_OF_SESSION after [`lifecycle::shutdown`](crate::lifecycle::shutdown), E_OUTOFMEMORY when no
/// thread could start (then `body` has been dropped).
///
/// Not generic: `body` comes boxed, so std's thread spawning is compiled
/// once, here, instead of in every provider crate (the provider's own build
/// stays as small as a windows-rs one; BENCHMARKS.md, build time).
pub(crate) fn start_worker(
    key: *mut c_void,
    token: &CancelToken,
    body: Box<dyn FnOnce() + Send>,
) -> Result<(), HRESULT> {
    let alias = workers::forwarder();
    // The worker holds the forwarding store until after `Done` (with its
    // other references), so the store's address, recorded as the entry's
    // alias, names that store for as long as the entry's sync runs.
    // SAFETY: COM: a recorded forwarder is the IMAPISync of a store whose
    // slot 3 is running on this thread now, so the host holds it for the call.
    let store = alias.and_then(|store| unsafe { Forwarder::add_ref(store as *mut c_void) });
    let body = Box::new(move || {
        body();
        drop(store);
    });
    workers::start_worker(key as usize, alias, token, body)
}

/// A counted reference to a `ForwardSync` store, held by its sync's worker.
struct Forwarder {
    _store: IMAPISync,
}

// SAFETY: Send: a `ForwardSync` store is a windows-core `#[implement]`
// object (forward.rs is its only forwarder), whose AddRef and Release are
// atomic; the worker only releases it. MAPI calls a store from any thread
// (ThreadingModel "Both"), so its last Release may run on any thread too.
unsafe impl Send for Forwarder {}

impl Forwarder {
    /// # Safety
    /// COM: `store` is a live IMAPISync the caller holds for this call.
    unsafe fn add_ref(store: *mut c_void) -> Option<Self> {
        // SAFETY: COM: this function's Safety; `cloned` takes a reference of its own.
        unsafe { IMAPISync::from_raw_borrowed(&store) }.cloned().map(|store| Self { _store: store })
    }
}

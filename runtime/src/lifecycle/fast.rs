//! MAPI's fast shutdown (`IMAPIProviderShutdown`) for a windows-rs
//! provider object: list the interface in `#[implement]`, implement
//! [`FastShutdown`], and the three slots are answered from the provider's
//! [`Scope`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use windows_core::{HRESULT, IUnknownImpl};

use super::Scope;
use crate::abi::IMAPIProviderShutdown_Impl;
use crate::hresult::E_UNEXPECTED;
use crate::unwind::forget_payload;

/// A windows-core `#[implement]` provider object (the store provider's
/// IMSProvider) that lists [`IMAPIProviderShutdown`](crate::abi::IMAPIProviderShutdown)
/// and answers it from its [`Scope`]:
///
/// - `QueryFastShutdown`: [`Scope::query_fast_shutdown`], S_OK (override
///   [`query_fast_shutdown`](Self::query_fast_shutdown) to refuse);
/// - `NotifyProcessShutdown`: refuses new syncs of the scope and cancels
///   the running ones (the provider's code sees the cancel: its `progress`
///   fails with `MAPI_E_USER_CANCEL`, its [`CancelToken`](super::CancelToken)
///   turns, a [`wait_cancelled`](super::CancelToken::wait_cancelled) wakes);
/// - `DoFastShutdown`: gives those syncs at most [`grace`](Self::grace)
///   (2 s unless overridden) to return, then returns; the process exits
///   right after, without `IMSProvider::Shutdown`.
///
/// What the provider's sync does when it sees the cancel: write what must
/// not be lost (a sync state, a half-downloaded item's marker) and return
/// at once; anything it has not finished within the grace is lost with the
/// process. A panic in the provider's `scope` (or `grace`) is caught: the
/// slot answers E_UNEXPECTED.
///
/// ```
/// # // windows-core's #[implement] objects do not pass Miri (see `mapisync::forward`).
/// # #[cfg(not(miri))]
/// # fn main() {
/// use mapisync::abi::IMAPIProviderShutdown;
/// use mapisync::lifecycle::{FastShutdown, Scope};
/// use windows_core::{ComObject, implement};
///
/// #[implement(mapisync::abi::IMAPIProviderShutdown)] // beside IMSProvider
/// struct Provider {
///     scope: Scope,
/// }
///
/// impl FastShutdown for Provider {
///     fn scope(&self) -> &Scope {
///         &self.scope
///     }
/// }
///
/// let provider: IMAPIProviderShutdown = ComObject::new(Provider { scope: Scope::open() }).into_interface();
/// // SAFETY: COM: `provider` is a live IMAPIProviderShutdown.
/// unsafe {
///     assert_eq!(provider.QueryFastShutdown(), mapisync::S_OK);
///     assert_eq!(provider.NotifyProcessShutdown(), mapisync::S_OK);
///     assert_eq!(provider.DoFastShutdown(), mapisync::S_OK);
/// }
/// # }
/// # #[cfg(miri)]
/// # fn main() {}
/// ```
pub trait FastShutdown {
    /// The scope of this provider instance.
    fn scope(&self) -> &Scope;

    /// The answer to `QueryFastShutdown`; S_OK (fast shutdown supported).
    fn query_fast_shutdown(&self) -> HRESULT {
        self.scope().query_fast_shutdown()
    }

    /// How long `DoFastShutdown` waits for cancelled syncs to return.
    fn grace(&self) -> Duration {
        Duration::from_secs(2)
    }
}

/// `#[implement(mapisync::abi::IMAPIProviderShutdown)]` on a [`FastShutdown`]
/// type: the three slots answer from its scope.
impl<Identity> IMAPIProviderShutdown_Impl for Identity
where
    Identity: IUnknownImpl,
    Identity::Impl: FastShutdown,
{
    /// Slot 3.
    ///
    /// # Safety
    /// COM: the caller holds a reference to the object for the call.
    unsafe fn QueryFastShutdown(&self) -> HRESULT {
        contain(|| self.get_impl().query_fast_shutdown())
    }

    /// Slot 4.
    ///
    /// # Safety
    /// COM: the caller holds a reference to the object for the call.
    unsafe fn NotifyProcessShutdown(&self) -> HRESULT {
        contain(|| self.get_impl().scope().notify_process_shutdown())
    }

    /// Slot 5.
    ///
    /// # Safety
    /// COM: the caller holds a reference to the object for the call.
    unsafe fn DoFastShutdown(&self) -> HRESULT {
        let provider = self.get_impl();
        contain(|| provider.scope().do_fast_shutdown(provider.grace()))
    }
}

/// Runs the provider's part of a slot; a panic there answers E_UNEXPECTED
/// instead of unwinding into MAPI.
fn contain(slot: impl FnOnce() -> HRESULT) -> HRESULT {
    catch_unwind(AssertUnwindSafe(slot)).unwrap_or_else(|payload| {
        forget_payload(payload);
        E_UNEXPECTED
    })
}

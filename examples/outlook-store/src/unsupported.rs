//! How the logon and the store answer the MAPI methods the example does
//! not support: MAPI_E_NO_SUPPORT, with the method's out-parameters
//! cleared first (NULL or 0; see `spi` for the two it cannot clear), all
//! inside the method's panic guard.
//!
//! IMSLogon's OpenEntry, CompareEntryIDs, Advise and Unadvise are MAPI's
//! copies of the store's own (the same parameters, the same job), so
//! [`store_entry_methods`] writes them once for both objects.

use mapisync::MAPI_E_NO_SUPPORT;
use windows_core::Result;

use crate::diagnostics::guarded;
use crate::spi::put;

/// Microsoft's MAPI types, named by [`store_entry_methods`] through `$crate`.
pub(crate) use outlook_mapi_sys::Microsoft::Office::Outlook::MAPI::Win32 as mapi;

/// An unsupported method's body: runs `clear` (which clears the method's
/// out-parameters) inside the guard named `what`, then answers
/// MAPI_E_NO_SUPPORT.
pub(crate) fn unsupported<T>(what: &str, clear: impl FnOnce()) -> Result<T> {
    guarded(what, || {
        clear();
        Err(MAPI_E_NO_SUPPORT.into())
    })
}

/// [`unsupported`] for a method with one out-parameter: `*out` is set to
/// `cleared` (unless `out` is NULL) inside the guard.
///
/// # Safety
/// `out` is null or valid for a write of a `V` (MAPI's rule for an out-parameter).
pub(crate) unsafe fn unsupported_clearing<T, V>(what: &str, out: *mut V, cleared: V) -> Result<T> {
    // SAFETY: MAPI: `out` is null or writable (this function's Safety).
    unsupported(what, || unsafe { put(out, cleared) })
}

/// The unsupported methods IMSLogon and IMsgStore share (OpenEntry,
/// CompareEntryIDs, Advise, Unadvise), as items of the `_Impl` trait impl
/// it stands in; `$interface` names the guards (`"IMSLogon"` gives
/// `"IMSLogon::OpenEntry"`).
macro_rules! store_entry_methods {
    ($interface:literal) => {
        fn OpenEntry(
            &self,
            _: u32,
            _: *mut $crate::unsupported::mapi::ENTRYID,
            _: *mut ::windows_core::GUID,
            _: u32,
            kind: *mut u32,
            unk: ::windows_core::OutRef<::windows_core::IUnknown>,
        ) -> ::windows_core::Result<()> {
            $crate::unsupported::unsupported(concat!($interface, "::OpenEntry"), || {
                let _ = unk.write(None);
                // SAFETY: MAPI: an out-parameter is null or writable.
                unsafe { $crate::spi::put(kind, 0) };
            })
        }
        fn CompareEntryIDs(
            &self,
            _: u32,
            _: *mut $crate::unsupported::mapi::ENTRYID,
            _: u32,
            _: *mut $crate::unsupported::mapi::ENTRYID,
            _: u32,
            result: *mut u32,
        ) -> ::windows_core::Result<()> {
            // SAFETY: MAPI: an out-parameter is null or writable.
            unsafe { $crate::unsupported::unsupported_clearing(concat!($interface, "::CompareEntryIDs"), result, 0) }
        }
        fn Advise(
            &self,
            _: u32,
            _: *mut $crate::unsupported::mapi::ENTRYID,
            _: u32,
            _: ::windows_core::Ref<$crate::unsupported::mapi::IMAPIAdviseSink>,
            connection: *mut usize,
        ) -> ::windows_core::Result<()> {
            // SAFETY: MAPI: an out-parameter is null or writable.
            unsafe { $crate::unsupported::unsupported_clearing(concat!($interface, "::Advise"), connection, 0) }
        }
        fn Unadvise(&self, _: usize) -> ::windows_core::Result<()> {
            $crate::unsupported::unsupported(concat!($interface, "::Unadvise"), || {})
        }
    };
}
pub(crate) use store_entry_methods;

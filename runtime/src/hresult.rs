//! The HRESULTs the contract names, as `windows_core::HRESULT` constants.

use windows_core::HRESULT;

/// Success.
pub const S_OK: HRESULT = HRESULT(0);
/// Success, with a "no" or "not yet" meaning (`DllCanUnloadNow` while objects live).
pub const S_FALSE: HRESULT = HRESULT(1);
/// The object does not answer the requested interface (`MAPI_E_INTERFACE_NOT_SUPPORTED`).
pub const E_NOINTERFACE: HRESULT = HRESULT(0x8000_4002_u32 as i32);
/// A required out-pointer was NULL.
pub const E_POINTER: HRESULT = HRESULT(0x8000_4003_u32 as i32);
/// Unspecified failure (`MAPI_E_CALL_FAILED`).
pub const E_FAIL: HRESULT = HRESULT(0x8000_4005_u32 as i32);
/// Provider code panicked; the panic was caught at the COM boundary.
pub const E_UNEXPECTED: HRESULT = HRESULT(0x8000_FFFF_u32 as i32);
/// An argument was invalid (`MAPI_E_INVALID_PARAMETER`).
pub const E_INVALIDARG: HRESULT = HRESULT(0x8007_0057_u32 as i32);
/// Out of memory or of threads (`MAPI_E_NOT_ENOUGH_MEMORY`).
pub const E_OUTOFMEMORY: HRESULT = HRESULT(0x8007_000E_u32 as i32);
/// An outer unknown was passed to a class that cannot be aggregated.
pub const CLASS_E_NOAGGREGATION: HRESULT = HRESULT(0x8004_0110_u32 as i32);
/// The class factory does not serve the requested CLSID.
pub const CLASS_E_CLASSNOTAVAILABLE: HRESULT = HRESULT(0x8004_0111_u32 as i32);
/// The requested operation is not supported.
pub const MAPI_E_NO_SUPPORT: HRESULT = HRESULT(0x8004_0102_u32 as i32);
/// A sync of this object is already running.
pub const MAPI_E_BUSY: HRESULT = HRESULT(0x8004_010B_u32 as i32);
/// The user cancelled (typically returned by the host's callback).
pub const MAPI_E_USER_CANCEL: HRESULT = HRESULT(0x8004_0113_u32 as i32);
/// The network failed.
pub const MAPI_E_NETWORK_ERROR: HRESULT = HRESULT(0x8004_0115_u32 as i32);
/// The provider is shutting down: `SynchronizeInBackground` after
/// [`lifecycle::shutdown`](crate::lifecycle::shutdown) (mapicode.h:
/// `MAKE_MAPI_E(0x200)`, "the session is ending").
pub const MAPI_E_END_OF_SESSION: HRESULT = HRESULT(0x8004_0200_u32 as i32);

/// The name of an HRESULT this crate defines, for messages and logs.
///
/// ```
/// assert_eq!(mapisync::hresult_name(mapisync::MAPI_E_BUSY), Some("MAPI_E_BUSY"));
/// assert_eq!(mapisync::hresult_name(mapisync::HRESULT(0x1234)), None);
/// ```
pub fn hresult_name(hr: HRESULT) -> Option<&'static str> {
    const NAMES: [(HRESULT, &str); 15] = [
        (S_OK, "S_OK"),
        (S_FALSE, "S_FALSE"),
        (E_NOINTERFACE, "E_NOINTERFACE"),
        (E_POINTER, "E_POINTER"),
        (E_FAIL, "E_FAIL"),
        (E_UNEXPECTED, "E_UNEXPECTED"),
        (E_INVALIDARG, "E_INVALIDARG"),
        (E_OUTOFMEMORY, "E_OUTOFMEMORY"),
        (CLASS_E_NOAGGREGATION, "CLASS_E_NOAGGREGATION"),
        (CLASS_E_CLASSNOTAVAILABLE, "CLASS_E_CLASSNOTAVAILABLE"),
        (MAPI_E_NO_SUPPORT, "MAPI_E_NO_SUPPORT"),
        (MAPI_E_BUSY, "MAPI_E_BUSY"),
        (MAPI_E_USER_CANCEL, "MAPI_E_USER_CANCEL"),
        (MAPI_E_NETWORK_ERROR, "MAPI_E_NETWORK_ERROR"),
        (MAPI_E_END_OF_SESSION, "MAPI_E_END_OF_SESSION"),
    ];
    NAMES.iter().find(|(code, _)| *code == hr).map(|(_, name)| *name)
}

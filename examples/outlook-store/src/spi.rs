//! What Microsoft's bindings (outlook-mapi-sys 0.7.5) declare differently
//! from what MAPI does, and the example's answer to each. Read this before
//! writing a provider on those bindings.
//!
//! - **`CURRENT_SPI_VERSION` is an `i32`** there; `MSProviderInit`'s
//!   `ulMAPIVer` and `*lpulProviderVer` are `ULONG`s. [`SPI_VERSION`] is
//!   the same value as a `u32`.
//! - **`MSPROVIDERINIT` is declared `extern "system"`**, but MAPI calls
//!   `MSProviderInit` with the C calling convention (`__cdecl` in
//!   Microsoft's mapispi.h). On x64 the two are one convention; on x86
//!   `extern "system"` is stdcall, whose callee pops its 36 bytes of
//!   arguments that the cdecl caller pops again: the stack is off by 36
//!   bytes after the first call. The export is `extern "C"`, checked
//!   against [`MsProviderInit`] (the bindings' parameter types with the C
//!   convention); never cast it to the bindings' `MSPROVIDERINIT`. The
//!   x86 build's `ret` (not `ret 0x24`) is checked by
//!   `scripts/suites/targets.sh`, and the 32-bit MAPI host calls it
//!   50 times through mingw-w64's own `__cdecl` declaration.
//! - **`IMAPISupport`'s IID is all zeros** there (`IMAPISupport::IID`):
//!   `cast::<IMAPISupport>()` asks for `{00000000-...}` and fails, and a
//!   windows-rs `#[implement(IMAPISupport)]` object answers that zero IID,
//!   not MAPI's. MAPI hands the support object to `Logon` already typed,
//!   so the example never casts to it; code that must ask for it by IID
//!   uses [`IID_IMAPISUP`] (`{0002030F-0000-0000-C000-000000000046}`,
//!   mapiguid.h) with a raw `QueryInterface`.
//! - **`MAPIUID` parameters are `*mut`** (`SetProviderUID(*mut MAPIUID,
//!   ...)`), where MAPI's are `LPMAPIUID` that it only reads. The example
//!   passes a pointer to a local copy ([`store_uid`]), never a pointer cast
//!   from a shared `static` (writing through that would be undefined
//!   behaviour).
//! - **Methods with a last `[out]` object** (`GetReceiveFolderTable`,
//!   `GetOutgoingQueue`: `Result<IMAPITable>` in the `_Impl` traits) leave
//!   the caller's out-parameter as it was on a failure: windows-rs writes
//!   it only on success, and the method cannot reach it. COM's callers do
//!   not read an out-parameter after a failure; the MAPI host checks these
//!   two methods' HRESULTs only.
//! - **Panics**: windows-rs does not catch a panic in an `_Impl` method;
//!   it unwinds into an `extern "system"` trampoline, where Rust aborts the
//!   process (OUTLOOK.EXE). Every method of the example runs its body in
//!   [`crate::diagnostics::guarded`].

use outlook_mapi_sys::Microsoft::Office::Outlook::MAPI::Win32::{
    CURRENT_SPI_VERSION, IMSProvider, LPALLOCATEBUFFER, LPALLOCATEMORE, LPFREEBUFFER, MAPIUID,
};
use windows::Win32::Foundation::HINSTANCE;
use windows::Win32::System::Com::IMalloc;
use windows_core::{GUID, HRESULT, OutRef, Ref};

/// `CURRENT_SPI_VERSION` (0x00010010) as the `ULONG` MAPI passes and expects.
pub const SPI_VERSION: u32 = CURRENT_SPI_VERSION as u32;

/// `MSPROVIDERINIT` as MAPI calls it: the bindings' parameters, the C
/// calling convention.
pub type MsProviderInit = unsafe extern "C" fn(
    hInstance: HINSTANCE,
    lpMalloc: Ref<IMalloc>,
    lpAllocateBuffer: LPALLOCATEBUFFER,
    lpAllocateMore: LPALLOCATEMORE,
    lpFreeBuffer: LPFREEBUFFER,
    ulFlags: u32,
    ulMAPIVer: u32,
    lpulProviderVer: *mut u32,
    lppMSProvider: OutRef<IMSProvider>,
) -> HRESULT;

/// `IID_IMAPISup` from mapiguid.h, which the bindings' `IMAPISupport::IID` lacks.
pub const IID_IMAPISUP: GUID = GUID::from_u128(0x0002030f_0000_0000_c000_000000000046);

/// The UID this provider registers with `IMAPISupport::SetProviderUID`:
/// MAPI routes entry IDs that carry it to this provider. A fresh copy
/// each call, since the bindings take a `*mut MAPIUID`.
pub fn store_uid() -> MAPIUID {
    MAPIUID { ab: crate::mapisvc::STORE_UID_BYTES }
}

/// Writes `value` to a MAPI out-parameter unless it is NULL.
///
/// # Safety
/// `out` is null or valid for a write of a `T`.
pub(crate) unsafe fn put<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-null, so valid for a write (this function's Safety).
        unsafe { out.write(value) };
    }
}

//! The Win32 functions, types and constants the engine and the runtime
//! call, declared here from their documented C prototypes (kernel32.dll:
//! handleapi.h, synchapi.h, processthreadsapi.h, threadpoolapiset.h,
//! libloaderapi.h, errhandlingapi.h, winerror.h); not a public API.
//!
//! Not windows-sys: a provider's build compiles this crate and the runtime
//! anyway, but windows-sys only for them, and it costs about 0.7 s of CPU
//! and starts on the core syn's dependencies need (BENCHMARKS.md, "No
//! windows-sys"). The imports go through windows-link's `link!`, which
//! windows-core builds anyway. The types are windows-sys's (handles
//! `*mut c_void`, thread-pool objects `isize`, `BOOL` an `i32`, statuses
//! `u32`), so values pass between the two unchanged, and the tests check
//! each declaration against windows-sys's (`tests`). The registry
//! functions registration calls are the runtime's own
//! (`server/registry_api.rs`).
#![allow(non_camel_case_types, clippy::upper_case_acronyms)]

use core::ffi::c_void;

pub use crate::HANDLE;

/// A loaded module (minwindef.h `HMODULE`).
pub type HMODULE = *mut c_void;
/// A Win32 `BOOL`: 0 is false.
pub type BOOL = i32;
/// A Win32 error code (winerror.h `ERROR_*`), what `GetLastError` returns.
pub type WIN32_ERROR = u32;
/// A thread-pool wait object (threadpoolapiset.h `PTP_WAIT`).
pub type PTP_WAIT = isize;
/// The running callback's instance (`PTP_CALLBACK_INSTANCE`).
pub type PTP_CALLBACK_INSTANCE = isize;
/// A wait's callback (`PTP_WAIT_CALLBACK`).
pub type PTP_WAIT_CALLBACK = Option<
    unsafe extern "system" fn(instance: PTP_CALLBACK_INSTANCE, context: *mut c_void, wait: PTP_WAIT, result: u32),
>;

/// `ERROR_SUCCESS`.
pub const ERROR_SUCCESS: WIN32_ERROR = 0;
/// `ERROR_FILE_NOT_FOUND`.
pub const ERROR_FILE_NOT_FOUND: WIN32_ERROR = 2;
/// `ERROR_INSUFFICIENT_BUFFER`.
pub const ERROR_INSUFFICIENT_BUFFER: WIN32_ERROR = 122;
/// `ERROR_MORE_DATA`.
pub const ERROR_MORE_DATA: WIN32_ERROR = 234;
/// `DUPLICATE_SAME_ACCESS`: the duplicate has the source's access rights.
pub const DUPLICATE_SAME_ACCESS: u32 = 2;
/// `GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT`: no load reference counted.
pub const GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT: u32 = 2;
/// `GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS`: the name is an address inside the module.
pub const GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS: u32 = 4;
// WAIT_OBJECT_0 and INFINITE are the done event's (crate::event), public.

windows_link::link!("kernel32.dll" "system" fn CloseHandle(object: HANDLE) -> BOOL);
windows_link::link!("kernel32.dll" "system" fn DuplicateHandle(
    source_process: HANDLE,
    source: HANDLE,
    target_process: HANDLE,
    target: *mut HANDLE,
    desired_access: u32,
    inherit: BOOL,
    options: u32
) -> BOOL);
windows_link::link!("kernel32.dll" "system" fn GetCurrentProcess() -> HANDLE);
windows_link::link!("kernel32.dll" "system" fn GetCurrentThread() -> HANDLE);
windows_link::link!("kernel32.dll" "system" fn GetLastError() -> WIN32_ERROR);
// `attributes` is a `const SECURITY_ATTRIBUTES*`; the done event passes NULL.
windows_link::link!("kernel32.dll" "system" fn CreateEventW(
    attributes: *const c_void,
    manual_reset: BOOL,
    initial_state: BOOL,
    name: *const u16
) -> HANDLE);
windows_link::link!("kernel32.dll" "system" fn SetEvent(event: HANDLE) -> BOOL);
windows_link::link!("kernel32.dll" "system" fn WaitForSingleObject(handle: HANDLE, milliseconds: u32) -> u32);
windows_link::link!("kernel32.dll" "system" fn FreeLibrary(module: HMODULE) -> BOOL);
windows_link::link!("kernel32.dll" "system" fn GetModuleHandleExW(
    flags: u32,
    module_name: *const u16,
    module: *mut HMODULE
) -> BOOL);
windows_link::link!("kernel32.dll" "system" fn GetModuleFileNameW(module: HMODULE, file_name: *mut u16, size: u32) -> u32);
// `environment` is a `const TP_CALLBACK_ENVIRON*`; the pin passes NULL, the
// process's default pool.
windows_link::link!("kernel32.dll" "system" fn CreateThreadpoolWait(
    callback: PTP_WAIT_CALLBACK,
    context: *mut c_void,
    environment: *const c_void
) -> PTP_WAIT);
// `timeout` is a `const FILETIME*`; the pin passes NULL, no timeout.
windows_link::link!("kernel32.dll" "system" fn SetThreadpoolWait(wait: PTP_WAIT, handle: HANDLE, timeout: *const c_void));
windows_link::link!("kernel32.dll" "system" fn CloseThreadpoolWait(wait: PTP_WAIT));
windows_link::link!("kernel32.dll" "system" fn FreeLibraryWhenCallbackReturns(
    instance: PTP_CALLBACK_INSTANCE,
    module: HMODULE
));
windows_link::link!("kernel32.dll" "system" fn CallbackMayRunLong(instance: PTP_CALLBACK_INSTANCE) -> BOOL);

#[cfg(test)]
mod tests {
    use super::*;
    use windows_sys::Win32::Foundation as foundation;
    use windows_sys::Win32::System::LibraryLoader as loader;
    use windows_sys::Win32::System::Threading as threading;

    /// Each function has windows-sys's exact type, but for the pointee of
    /// a pointer always passed NULL (`CreateEventW`'s attributes, the
    /// thread-pool environment and timeout): `*const c_void` here, the
    /// struct there.
    #[test]
    fn functions_match_windows_sys() {
        type Handle = unsafe extern "system" fn(HANDLE) -> BOOL;
        type Current = unsafe extern "system" fn() -> HANDLE;
        type Duplicate = unsafe extern "system" fn(HANDLE, HANDLE, HANDLE, *mut HANDLE, u32, BOOL, u32) -> BOOL;
        let _: [Handle; 4] = [CloseHandle, foundation::CloseHandle, SetEvent, threading::SetEvent];
        let _: [Current; 4] =
            [GetCurrentProcess, threading::GetCurrentProcess, GetCurrentThread, threading::GetCurrentThread];
        let _: [Duplicate; 2] = [DuplicateHandle, foundation::DuplicateHandle];
        let _: [unsafe extern "system" fn() -> WIN32_ERROR; 2] = [GetLastError, foundation::GetLastError];
        let _: [unsafe extern "system" fn(HANDLE, u32) -> u32; 2] =
            [WaitForSingleObject, threading::WaitForSingleObject];
        type Event<S> = unsafe extern "system" fn(*const S, BOOL, BOOL, *const u16) -> HANDLE;
        let _: Event<c_void> = CreateEventW;
        let _: Event<windows_sys::Win32::Security::SECURITY_ATTRIBUTES> = threading::CreateEventW;

        let _: [unsafe extern "system" fn(HMODULE) -> BOOL; 2] = [FreeLibrary, foundation::FreeLibrary];
        let _: [unsafe extern "system" fn(u32, *const u16, *mut HMODULE) -> BOOL; 2] =
            [GetModuleHandleExW, loader::GetModuleHandleExW];
        let _: [unsafe extern "system" fn(HMODULE, *mut u16, u32) -> u32; 2] =
            [GetModuleFileNameW, loader::GetModuleFileNameW];

        type Create<E> = unsafe extern "system" fn(PTP_WAIT_CALLBACK, *mut c_void, *const E) -> PTP_WAIT;
        let _: Create<c_void> = CreateThreadpoolWait;
        let _: Create<threading::TP_CALLBACK_ENVIRON_V3> = threading::CreateThreadpoolWait;
        type Set<T> = unsafe extern "system" fn(PTP_WAIT, HANDLE, *const T);
        let _: Set<c_void> = SetThreadpoolWait;
        let _: Set<foundation::FILETIME> = threading::SetThreadpoolWait;
        let _: [unsafe extern "system" fn(PTP_WAIT); 2] = [CloseThreadpoolWait, threading::CloseThreadpoolWait];
        let _: [unsafe extern "system" fn(PTP_CALLBACK_INSTANCE, HMODULE); 2] =
            [FreeLibraryWhenCallbackReturns, threading::FreeLibraryWhenCallbackReturns];
        let _: [unsafe extern "system" fn(PTP_CALLBACK_INSTANCE) -> BOOL; 2] =
            [CallbackMayRunLong, threading::CallbackMayRunLong];
    }

    /// Each type is windows-sys's, each constant has its value (the done
    /// event's public ones included).
    #[test]
    fn types_and_constants_match_windows_sys() {
        // An identity function coerces to `fn(A) -> B` only if A is B.
        fn same<T>(value: T) -> T {
            value
        }
        let _: fn(HANDLE) -> foundation::HANDLE = same;
        let _: fn(HMODULE) -> foundation::HMODULE = same;
        let _: fn(BOOL) -> windows_sys::core::BOOL = same;
        let _: fn(WIN32_ERROR) -> foundation::WIN32_ERROR = same;
        let _: fn(PTP_WAIT) -> threading::PTP_WAIT = same;
        let _: fn(PTP_CALLBACK_INSTANCE) -> threading::PTP_CALLBACK_INSTANCE = same;
        let _: fn(PTP_WAIT_CALLBACK) -> threading::PTP_WAIT_CALLBACK = same;

        // Ours, windows-sys's: every one a u32 on both sides.
        let constants = [
            ("ERROR_SUCCESS", ERROR_SUCCESS, foundation::ERROR_SUCCESS),
            ("ERROR_FILE_NOT_FOUND", ERROR_FILE_NOT_FOUND, foundation::ERROR_FILE_NOT_FOUND),
            ("ERROR_INSUFFICIENT_BUFFER", ERROR_INSUFFICIENT_BUFFER, foundation::ERROR_INSUFFICIENT_BUFFER),
            ("ERROR_MORE_DATA", ERROR_MORE_DATA, foundation::ERROR_MORE_DATA),
            ("DUPLICATE_SAME_ACCESS", DUPLICATE_SAME_ACCESS, foundation::DUPLICATE_SAME_ACCESS),
            (
                "GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT",
                GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                loader::GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
            ),
            (
                "GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS",
                GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                loader::GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
            ),
            ("WAIT_OBJECT_0", crate::event::WAIT_OBJECT_0, foundation::WAIT_OBJECT_0),
            ("WAIT_TIMEOUT", crate::event::WAIT_TIMEOUT, foundation::WAIT_TIMEOUT),
            ("WAIT_FAILED", crate::event::WAIT_FAILED, foundation::WAIT_FAILED),
            ("INFINITE", crate::event::INFINITE, threading::INFINITE),
        ];
        for (name, ours, theirs) in constants {
            assert_eq!(ours, theirs, "{name}");
        }
    }
}

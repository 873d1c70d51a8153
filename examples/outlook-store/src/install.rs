//! `MergeWithMAPISVC` and `RemoveFromMAPISVC`: the exports an installer
//! runs (through rundll32, the shape `void CALLBACK f(HWND, HINSTANCE,
//! LPSTR lpszCmdLine, int)`) to add this provider to a MAPISVC.INF or take
//! it out. The command line is the MAPISVC.INF path (quotes allowed):
//!
//! ```text
//! rundll32 C:\Providers\mapisync_outlook_store32.dll,MergeWithMAPISVC C:\...\MAPISVC.INF
//! ```
//!
//! Merge writes this DLL's own path, minus MAPI's "32", as the service and
//! provider DLL names (see [`crate::mapisvc::mapi_base_name`]); it refuses,
//! leaving the file alone, when no value would make MAPI load this DLL (a
//! period elsewhere in the path, such as `C:\My.App\`, or a file name
//! without the "32"; or a path that is not ASCII, as MAPISVC.INF is ANSI).
//! The file is
//! rewritten only when its text changes, through a temporary file renamed
//! over it. Failures go to [`crate::diagnostics::log`] and standard error:
//! rundll32 has no way to return them.

use core::ffi::{CStr, c_char, c_void};
use std::path::Path;

use crate::diagnostics::{install_panic_hook, log};
use crate::mapi_abi::Rundll32Fn;
use crate::mapisvc;

/// The DLL base name written when the DLL cannot name its own file.
pub const DEFAULT_DLL_NAME: &str = "mapisync_outlook_store.dll";

/// Adds (or refreshes) this provider's service in the MAPISVC.INF named by `cmdline`.
///
/// # Safety
/// rundll32: `cmdline` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn MergeWithMAPISVC(
    _hwnd: *mut c_void,
    _hinst: *mut c_void,
    cmdline: *const c_char,
    _show: i32,
) {
    // SAFETY: rundll32: this function's Safety: `cmdline` is null or a NUL-terminated string.
    unsafe { edit("MergeWithMAPISVC", cmdline, |inf| Ok(mapisvc::merge(inf, &own_base_name()?))) };
}

/// Removes this provider's service from the MAPISVC.INF named by `cmdline`.
///
/// # Safety
/// rundll32: `cmdline` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn RemoveFromMAPISVC(
    _hwnd: *mut c_void,
    _hinst: *mut c_void,
    cmdline: *const c_char,
    _show: i32,
) {
    // SAFETY: rundll32: this function's Safety: `cmdline` is null or a NUL-terminated string.
    unsafe { edit("RemoveFromMAPISVC", cmdline, |inf| Ok(mapisvc::remove(inf))) };
}

/// Both exports have exactly the rundll32 entry type.
const _: [Rundll32Fn; 2] = [MergeWithMAPISVC, RemoveFromMAPISVC];

/// Applies `transform` to the file named by `cmdline`, logging any failure.
///
/// # Safety
/// `cmdline` is null or a NUL-terminated string.
unsafe fn edit(what: &str, cmdline: *const c_char, transform: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>) {
    install_panic_hook();
    // SAFETY: rundll32: this function's Safety: `cmdline` is null or a NUL-terminated string.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { edit_file(cmdline, transform) }));
    let failure = match result {
        Ok(Ok(())) => return,
        Ok(Err(message)) => message,
        Err(payload) => {
            // Leaked, not dropped: its Drop may panic again inside this `extern` function.
            std::mem::forget(payload);
            "panicked".to_owned()
        }
    };
    log(&format!("{what}: {failure}"));
    eprintln!("{what}: {failure}");
}

/// # Safety
/// `cmdline` is null or a NUL-terminated string.
unsafe fn edit_file(
    cmdline: *const c_char,
    transform: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>,
) -> Result<(), String> {
    if cmdline.is_null() {
        return Err("no MAPISVC.INF path on the command line".to_owned());
    }
    // SAFETY: rundll32: a non-null command line is NUL-terminated.
    let raw = unsafe { CStr::from_ptr(cmdline) }.to_str().map_err(|_| "the path is not valid UTF-8".to_owned())?;
    let path = raw.trim().trim_matches('"');
    if path.is_empty() {
        return Err("no MAPISVC.INF path on the command line".to_owned());
    }
    rewrite(Path::new(path), transform)
}

/// Rewrites `path` with `transform` applied, if that changes it.
pub fn rewrite(path: &Path, transform: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>) -> Result<(), String> {
    let old = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let new = transform(&old)?;
    if new == old {
        return Ok(());
    }
    let temporary = path.with_extension("inf.mapisync-tmp");
    std::fs::write(&temporary, &new).map_err(|e| format!("writing {}: {e}", temporary.display()))?;
    std::fs::rename(&temporary, path).map_err(|e| format!("replacing {}: {e}", path.display()))
}

/// This DLL's path as MAPISVC.INF must name it (its "32" taken out);
/// [`DEFAULT_DLL_NAME`] when the DLL cannot name its own file; an error
/// when no value would make MAPI load it.
fn own_base_name() -> Result<String, String> {
    let Some(path) = own_path() else { return Ok(DEFAULT_DLL_NAME.to_owned()) };
    match mapisvc::mapi_base_name(&path) {
        Some(base) if path.is_ascii() => Ok(base),
        _ => Err(format!(
            "MAPI cannot load {path} from MAPISVC.INF: it inserts \"32\" before the first period of the path, so the \
             path needs exactly one period, after a file name ending in \"32\", and ASCII characters only"
        )),
    }
}

/// The full path of this DLL.
#[cfg(windows)]
fn own_path() -> Option<String> {
    use windows_sys::Win32::System::LibraryLoader::{
        GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT, GetModuleFileNameW,
        GetModuleHandleExW,
    };
    let mut module = core::ptr::null_mut();
    let flags = GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT;
    // SAFETY: Win32: any address inside this module names it; `module` is writable.
    if unsafe { GetModuleHandleExW(flags, own_path as *const u16, &mut module) } == 0 {
        return None;
    }
    let mut buffer = [0u16; 1024];
    // SAFETY: Win32: the buffer and its length in characters match.
    let len = unsafe { GetModuleFileNameW(module, buffer.as_mut_ptr(), buffer.len() as u32) } as usize;
    (len > 0 && len < buffer.len()).then(|| String::from_utf16_lossy(&buffer[..len]))
}

/// Elsewhere the DLL does not name itself.
#[cfg(not(windows))]
fn own_path() -> Option<String> {
    None
}

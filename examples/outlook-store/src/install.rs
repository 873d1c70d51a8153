//! `MergeWithMAPISVC` and `RemoveFromMAPISVC`: the exports an installer
//! runs through rundll32 to add this provider to a MAPISVC.INF or take it
//! out. The command line is the MAPISVC.INF path (quotes allowed):
//!
//! ```text
//! rundll32 C:\Providers\mapisync_outlook_store32.dll,MergeWithMAPISVC C:\...\MAPISVC.INF
//! ```
//!
//! Each comes twice, in rundll32's two shapes: `MergeWithMAPISVCW(HWND,
//! HINSTANCE, LPWSTR, int)`, which rundll32 prefers, so a path with any
//! character (`C:\Users\José\...`) arrives intact, and the ANSI
//! `MergeWithMAPISVC(HWND, HINSTANCE, LPSTR, int)`, whose path is read in
//! the ANSI code page (`MultiByteToWideChar(CP_ACP)`), never as UTF-8.
//!
//! Merge writes this DLL's own path, minus MAPI's "32", as the service and
//! provider DLL names (see [`crate::mapisvc::mapi_base_name`]); it refuses,
//! leaving the file alone, when no value would make MAPI load this DLL (a
//! period elsewhere in the path, such as `C:\My.App\`, or a file name
//! without the "32"; or a DLL path that is not ASCII, in a file of any
//! encoding: the ANSI file could not hold it, and the check is the same
//! for all three). It refuses too, leaving the file alone, a MAPISVC.INF
//! that [`crate::mapisvc`] cannot read losslessly.
//!
//! rundll32 exits 0 whatever Merge or Remove did: the logged messages are
//! the only signal, so an installer checks the file afterwards.
//!
//! [`rewrite`] does the file's part, on every platform: the file is
//! rewritten only when its text changes, through a temporary file beside it
//! renamed over it (removed again if anything fails), with the file's own
//! permissions; a read-only file is refused, not replaced. Failures go to
//! [`crate::diagnostics::log`] and standard error: rundll32 has no way to
//! return them.

use std::path::{Path, PathBuf};

/// The DLL base name written when the DLL cannot name its own file.
pub const DEFAULT_DLL_NAME: &str = "mapisync_outlook_store.dll";

/// The temporary file [`rewrite`] writes beside `path` before renaming it over `path`.
pub fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".mapisync-tmp");
    path.with_file_name(name)
}

/// Rewrites `path` with `transform` applied, if that changes it. The file
/// is untouched on any error: a read-only file, a transform that refuses
/// the text, a failed write or rename (the temporary file is removed).
pub fn rewrite(path: &Path, transform: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>) -> Result<(), String> {
    rewrite_with(path, transform, |from, to| std::fs::rename(from, to))
}

/// [`rewrite`] with the final step, `replace(temporary, path)`, given.
fn rewrite_with(
    path: &Path,
    transform: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>,
    replace: impl FnOnce(&Path, &Path) -> std::io::Result<()>,
) -> Result<(), String> {
    let old = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let permissions = std::fs::metadata(path).map_err(|e| format!("reading {}: {e}", path.display()))?.permissions();
    let new = transform(&old)?;
    if new == old {
        return Ok(());
    }
    if permissions.readonly() {
        return Err(format!("{} is read-only: clear its read-only attribute and run this again", path.display()));
    }
    let temporary = temporary_path(path);
    let result = std::fs::write(&temporary, &new)
        .and_then(|()| std::fs::set_permissions(&temporary, permissions))
        .map_err(|e| format!("writing {}: {e}", temporary.display()))
        .and_then(|()| replace(&temporary, path).map_err(|e| format!("replacing {}: {e}", path.display())));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

#[cfg(windows)]
pub use exports::{MergeWithMAPISVC, MergeWithMAPISVCW, RemoveFromMAPISVC, RemoveFromMAPISVCW};

/// The rundll32 exports (Windows only).
#[cfg(windows)]
mod exports {
    use core::ffi::{c_char, c_void};
    use std::ffi::OsString;
    use std::os::windows::ffi::OsStringExt;
    use std::path::PathBuf;

    use crate::diagnostics::{install_panic_hook, log};
    use crate::mapisvc;

    /// rundll32's entry shapes: `void CALLBACK f(HWND, HINSTANCE, LPSTR or LPWSTR, int)`.
    type Rundll32A = unsafe extern "system" fn(*mut c_void, *mut c_void, *const c_char, i32);
    type Rundll32W = unsafe extern "system" fn(*mut c_void, *mut c_void, *const u16, i32);

    /// Adds (or refreshes) this provider's service in the MAPISVC.INF named by `cmdline` (ANSI).
    ///
    /// # Safety
    /// rundll32: `cmdline` is null or a NUL-terminated string.
    #[unsafe(no_mangle)]
    pub unsafe extern "system" fn MergeWithMAPISVC(_: *mut c_void, _: *mut c_void, cmdline: *const c_char, _: i32) {
        // SAFETY: rundll32: this function's Safety.
        edit("MergeWithMAPISVC", unsafe { ansi_path(cmdline) }, merge);
    }

    /// [`MergeWithMAPISVC`] with a UTF-16 command line (rundll32's first choice).
    ///
    /// # Safety
    /// rundll32: `cmdline` is null or a NUL-terminated UTF-16 string.
    #[unsafe(no_mangle)]
    pub unsafe extern "system" fn MergeWithMAPISVCW(_: *mut c_void, _: *mut c_void, cmdline: *const u16, _: i32) {
        // SAFETY: rundll32: this function's Safety.
        edit("MergeWithMAPISVC", unsafe { wide_path(cmdline) }, merge);
    }

    /// Removes this provider's service from the MAPISVC.INF named by `cmdline` (ANSI).
    ///
    /// # Safety
    /// rundll32: `cmdline` is null or a NUL-terminated string.
    #[unsafe(no_mangle)]
    pub unsafe extern "system" fn RemoveFromMAPISVC(_: *mut c_void, _: *mut c_void, cmdline: *const c_char, _: i32) {
        // SAFETY: rundll32: this function's Safety.
        edit("RemoveFromMAPISVC", unsafe { ansi_path(cmdline) }, mapisvc::remove);
    }

    /// [`RemoveFromMAPISVC`] with a UTF-16 command line (rundll32's first choice).
    ///
    /// # Safety
    /// rundll32: `cmdline` is null or a NUL-terminated UTF-16 string.
    #[unsafe(no_mangle)]
    pub unsafe extern "system" fn RemoveFromMAPISVCW(_: *mut c_void, _: *mut c_void, cmdline: *const u16, _: i32) {
        // SAFETY: rundll32: this function's Safety.
        edit("RemoveFromMAPISVC", unsafe { wide_path(cmdline) }, mapisvc::remove);
    }

    /// The exports have exactly rundll32's entry types.
    const _: [Rundll32A; 2] = [MergeWithMAPISVC, RemoveFromMAPISVC];
    const _: [Rundll32W; 2] = [MergeWithMAPISVCW, RemoveFromMAPISVCW];

    fn merge(inf: &[u8]) -> Result<Vec<u8>, String> {
        mapisvc::merge(inf, &own_base_name()?)
    }

    /// Applies `transform` to the file at `path`, logging any failure; a
    /// panic is caught here, never unwinding into rundll32.
    fn edit(what: &str, path: Option<PathBuf>, transform: fn(&[u8]) -> Result<Vec<u8>, String>) {
        install_panic_hook();
        let result = std::panic::catch_unwind(|| match path {
            Some(path) => super::rewrite(&path, transform),
            None => Err("no MAPISVC.INF path on the command line".to_owned()),
        });
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

    /// The path on an ANSI command line, read in the ANSI code page.
    ///
    /// # Safety
    /// `cmdline` is null or a NUL-terminated string.
    unsafe fn ansi_path(cmdline: *const c_char) -> Option<PathBuf> {
        use windows_sys::Win32::Globalization::{CP_ACP, MultiByteToWideChar};
        if cmdline.is_null() {
            return None;
        }
        // SAFETY: rundll32: a non-null command line is NUL-terminated (this function's Safety).
        let bytes = unsafe { core::ffi::CStr::from_ptr(cmdline) }.to_bytes();
        let len = i32::try_from(bytes.len()).ok()?;
        if len == 0 {
            return None;
        }
        let mut wide = vec![0u16; bytes.len()];
        // SAFETY: Win32: `bytes` is readable for `len` bytes, `wide` writable for `len` units
        // (one ANSI byte gives at most one UTF-16 unit).
        let written = unsafe { MultiByteToWideChar(CP_ACP, 0, bytes.as_ptr(), len, wide.as_mut_ptr(), len) };
        wide.truncate(usize::try_from(written).ok()?);
        trimmed(OsString::from_wide(&wide))
    }

    /// The path on a UTF-16 command line.
    ///
    /// # Safety
    /// `cmdline` is null or a NUL-terminated UTF-16 string.
    unsafe fn wide_path(cmdline: *const u16) -> Option<PathBuf> {
        if cmdline.is_null() {
            return None;
        }
        let mut len = 0;
        // SAFETY: rundll32: the string is NUL-terminated, so every unit up to the NUL is readable.
        while unsafe { *cmdline.add(len) } != 0 {
            len += 1;
        }
        // SAFETY: the `len` units before the NUL were just read.
        trimmed(OsString::from_wide(unsafe { core::slice::from_raw_parts(cmdline, len) }))
    }

    /// The command line without surrounding blanks and quotes; None when empty.
    fn trimmed(line: OsString) -> Option<PathBuf> {
        let wide: Vec<u16> = std::os::windows::ffi::OsStrExt::encode_wide(line.as_os_str()).collect();
        let blank_or_quote = |unit: &u16| matches!(*unit, 0x20 | 0x09 | 0x22);
        let start = wide.iter().position(|u| !blank_or_quote(u))?;
        let end = wide.iter().rposition(|u| !blank_or_quote(u))?;
        Some(PathBuf::from(OsString::from_wide(&wide[start..=end])))
    }

    /// This DLL's path as MAPISVC.INF must name it (its "32" taken out);
    /// [`super::DEFAULT_DLL_NAME`] when the DLL cannot name its own file;
    /// an error when no value would make MAPI load it.
    fn own_base_name() -> Result<String, String> {
        let Some(path) = own_path() else { return Ok(super::DEFAULT_DLL_NAME.to_owned()) };
        match mapisvc::mapi_base_name(&path) {
            Some(base) if path.is_ascii() => Ok(base),
            _ => Err(format!(
                "MAPI cannot load {path} from MAPISVC.INF: it inserts \"32\" before the first period of the path, so \
                 the path needs exactly one period, after a file name ending in \"32\", and ASCII characters only"
            )),
        }
    }

    /// The full path of this DLL.
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

    #[cfg(test)]
    mod tests {
        use super::*;

        /// A MAPISVC.INF in a folder whose name is not ASCII ("é" is 0xE9
        /// in Windows-1252, two bytes in UTF-8): the UTF-16 export finds it,
        /// removes nothing from a file without the service, and the ANSI
        /// path conversion gives the same path as the wide one.
        #[test]
        fn a_path_with_a_non_ascii_character_reaches_the_file() {
            let dir = std::env::temp_dir().join(format!("mapisync-caf\u{e9}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let inf = dir.join("MAPISVC.INF");
            let original = b"[Services]\r\nMSPST MS=Personal Folders\r\n\r\n[MAPISYNC_EXAMPLE]\r\nA=1\r\n";
            std::fs::write(&inf, original).unwrap();
            let wide: Vec<u16> = std::os::windows::ffi::OsStrExt::encode_wide(inf.as_os_str()).chain(Some(0)).collect();
            // SAFETY: rundll32's contract: a NUL-terminated UTF-16 string.
            unsafe { RemoveFromMAPISVCW(core::ptr::null_mut(), core::ptr::null_mut(), wide.as_ptr(), 0) };
            assert_eq!(std::fs::read(&inf).unwrap(), b"[Services]\r\nMSPST MS=Personal Folders\r\n\r\n");
            // SAFETY: as above.
            assert_eq!(unsafe { wide_path(wide.as_ptr()) }, Some(inf.clone()));
            std::fs::remove_dir_all(&dir).unwrap();
        }

        #[test]
        fn quotes_and_blanks_around_the_path_are_dropped() {
            let line: Vec<u16> = " \"C:\\x\\MAPISVC.INF\" ".encode_utf16().chain(Some(0)).collect();
            // SAFETY: a NUL-terminated UTF-16 string.
            assert_eq!(unsafe { wide_path(line.as_ptr()) }, Some(PathBuf::from(r"C:\x\MAPISVC.INF")));
            // SAFETY: null and empty command lines.
            assert_eq!(unsafe { ansi_path(c"  ".as_ptr()) }, None);
            // SAFETY: null is allowed.
            assert_eq!(unsafe { ansi_path(core::ptr::null()) }, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory of this test's own, holding a MAPISVC.INF with
    /// `contents`: (the directory, the file).
    fn scratch_inf(name: &str, contents: &[u8]) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("mapisync-install-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let inf = dir.join("MAPISVC.INF");
        std::fs::write(&inf, contents).unwrap();
        (dir, inf)
    }

    /// Asserts that `inf` holds `contents` and is the only file in `dir`
    /// (no temporary file left beside it), then removes `dir`.
    fn assert_sole_file_and_clean_up(dir: &Path, inf: &Path, contents: &[u8]) {
        assert_eq!(std::fs::read(inf).unwrap(), contents);
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 1, "only the MAPISVC.INF is left");
        std::fs::remove_dir_all(dir).unwrap();
    }

    const ORIGINAL: &[u8] = b"[Services]\r\nA=B\r\n";

    fn merge(inf: &[u8]) -> Result<Vec<u8>, String> {
        crate::mapisvc::merge(inf, r"C:\p\mapisync_outlook_store.dll")
    }

    /// A read-only MAPISVC.INF is refused with a message and left as it
    /// was: not replaced by a writable copy (as a rename over it does on
    /// Linux), nor a refused rename leaving a temporary file (Windows).
    #[test]
    fn a_read_only_file_is_refused_and_left_untouched() {
        let (dir, inf) = scratch_inf("read-only", ORIGINAL);
        let mut permissions = std::fs::metadata(&inf).unwrap().permissions();
        permissions.set_readonly(true);
        std::fs::set_permissions(&inf, permissions.clone()).unwrap();
        let error = rewrite(&inf, merge).unwrap_err();
        assert!(error.contains("read-only"), "{error}");
        assert!(std::fs::metadata(&inf).unwrap().permissions().readonly(), "still read-only");
        #[allow(clippy::permissions_set_readonly_false)] // the test's own file, to delete it
        permissions.set_readonly(false);
        std::fs::set_permissions(&inf, permissions).unwrap();
        assert_sole_file_and_clean_up(&dir, &inf, ORIGINAL);
    }

    /// A replace that fails leaves the file as it was and no
    /// `MAPISVC.INF.mapisync-tmp` beside it.
    #[test]
    fn a_failed_replace_leaves_no_temporary_file() {
        let (dir, inf) = scratch_inf("failed-replace", ORIGINAL);
        let refuse = |_: &Path, _: &Path| Err(std::io::Error::other("the disk is full"));
        let error = rewrite_with(&inf, merge, refuse).unwrap_err();
        assert!(error.contains("replacing") && error.contains("the disk is full"), "{error}");
        assert!(!temporary_path(&inf).exists(), "the temporary file was removed");
        assert_sole_file_and_clean_up(&dir, &inf, ORIGINAL);
    }

    /// A transform's refusal (here an unreadable encoding) leaves the file alone.
    #[test]
    fn a_refused_text_leaves_the_file_untouched() {
        let (dir, inf) = scratch_inf("refused", b"\xFE\xFF\0[");
        assert!(rewrite(&inf, merge).unwrap_err().contains("big-endian"));
        assert_sole_file_and_clean_up(&dir, &inf, b"\xFE\xFF\0[");
    }

    #[test]
    fn a_merge_round_trip_keeps_the_bytes_and_the_permissions() {
        let (dir, inf) = scratch_inf("round-trip", ORIGINAL);
        rewrite(&inf, merge).unwrap();
        assert_ne!(std::fs::read(&inf).unwrap(), ORIGINAL);
        rewrite(&inf, crate::mapisvc::remove).unwrap();
        assert_sole_file_and_clean_up(&dir, &inf, ORIGINAL);
    }
}

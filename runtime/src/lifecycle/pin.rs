//! The module's load reference on itself, held while any of its worker
//! threads has not been reaped, so a host that unloads the DLL without asking
//! (`FreeLibrary` after MAPI's last `MAPIUninitialize`, which never consults
//! `DllCanUnloadNow`) cannot unmap code a worker still runs.
//!
//! The registry takes the pin when its first worker starts and drops it when
//! it has reaped the last one. Reaping happens only inside calls the host
//! makes into the DLL (`SynchronizeInBackground`, `DllCanUnloadNow`, the
//! provider's Shutdown or Logoff calling [`drain`](crate::lifecycle::drain)),
//! and a caller of the DLL's code holds the DLL loaded, so dropping the pin
//! never unloads the DLL under running code. A host that unloads while
//! workers run leaves the DLL loaded (until the next load reaps them), which
//! is the safe way to fail.
//!
//! - Windows: `GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS)`
//!   and `FreeLibrary`.
//! - Linux: `dladdr` names the object that holds this code and
//!   `dlopen(RTLD_NOLOAD)` counts one more reference to it, `dlclose` drops
//!   it. (Linked into an executable, there is nothing to pin.)
//! - Elsewhere, and under Miri: no pin.

/// One load reference on the module that holds this code; released on drop.
pub(crate) struct ModulePin(#[allow(dead_code)] platform::Handle);

impl ModulePin {
    /// Takes a load reference on this module; `None` when there is none to
    /// take (an executable, an unsupported platform) or the loader refused.
    pub(crate) fn take() -> Option<Self> {
        platform::take().map(Self)
    }
}

#[cfg(windows)]
mod platform {
    use windows_sys::Win32::Foundation::{FreeLibrary, HMODULE};
    use windows_sys::Win32::System::LibraryLoader::{GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, GetModuleHandleExW};

    pub(super) struct Handle(HMODULE);

    // SAFETY: Send: a module handle is a process-wide value; FreeLibrary may
    // be called from any thread.
    unsafe impl Send for Handle {}

    pub(super) fn take() -> Option<Handle> {
        let mut module: HMODULE = core::ptr::null_mut();
        let here = take as *const () as *const u16;
        // SAFETY: Win32: FROM_ADDRESS reads `here` as an address inside a
        // loaded module (this function's own code), not as a string;
        // `module` is writable. Without UNCHANGED_REFCOUNT the call counts a reference.
        let ok = unsafe { GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, here, &mut module) };
        (ok != 0 && !module.is_null()).then(|| Handle(module))
    }

    impl Drop for Handle {
        fn drop(&mut self) {
            // SAFETY: Win32: gives back the one reference `take` counted; the
            // caller is inside a call into this DLL, whose caller holds its
            // own reference, so this never unloads the code running now.
            unsafe { FreeLibrary(self.0) };
        }
    }
}

#[cfg(all(target_os = "linux", not(miri)))]
mod platform {
    use core::ffi::{c_char, c_int, c_void};

    /// `Dl_info` (glibc and musl).
    #[repr(C)]
    struct DlInfo {
        dli_fname: *const c_char,
        dli_fbase: *mut c_void,
        dli_sname: *const c_char,
        dli_saddr: *mut c_void,
    }

    const RTLD_LAZY: c_int = 1;
    const RTLD_NOLOAD: c_int = 4;

    unsafe extern "C" {
        fn dladdr(address: *const c_void, info: *mut DlInfo) -> c_int;
        fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
        fn dlclose(handle: *mut c_void) -> c_int;
    }

    pub(super) struct Handle(*mut c_void);

    // SAFETY: Send: a dlopen handle is process-wide; dlclose is thread-safe.
    unsafe impl Send for Handle {}

    pub(super) fn take() -> Option<Handle> {
        let mut info = DlInfo {
            dli_fname: core::ptr::null(),
            dli_fbase: core::ptr::null_mut(),
            dli_sname: core::ptr::null(),
            dli_saddr: core::ptr::null_mut(),
        };
        // SAFETY: dladdr: any address may be asked about; `info` is writable.
        if unsafe { dladdr(take as *const () as *const c_void, &mut info) } == 0 || info.dli_fname.is_null() {
            return None;
        }
        // SAFETY: dlopen: `dli_fname` is the loader's NUL-terminated name of
        // a loaded object; RTLD_NOLOAD never loads anything new, it only
        // counts a reference to an object already loaded.
        let handle = unsafe { dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD) };
        (!handle.is_null()).then(|| Handle(handle))
    }

    impl Drop for Handle {
        fn drop(&mut self) {
            // SAFETY: dlclose: gives back the one reference `take` counted;
            // the caller is inside a call into this object, whose caller
            // holds its own reference.
            unsafe { dlclose(self.0) };
        }
    }
}

#[cfg(any(miri, not(any(windows, target_os = "linux"))))]
mod platform {
    pub(super) struct Handle;

    pub(super) fn take() -> Option<Handle> {
        None
    }
}

//! The module's load reference on itself, held while any of its worker
//! threads has not been reaped, so a host that unloads the DLL without asking
//! (`FreeLibrary` after MAPI's last `MAPIUninitialize`, which never consults
//! `DllCanUnloadNow`) cannot unmap code a worker still runs.
//!
//! The registry takes the pin when its first worker starts and drops it when
//! it has reaped the last one. Reaping happens only inside calls the host
//! makes into the DLL (`SynchronizeInBackground`, `DllCanUnloadNow`, the
//! provider's Shutdown or Logoff calling [`drain`](https://docs.rs/mapisync/latest/mapisync/lifecycle/fn.drain.html)),
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
//! - Elsewhere, and under Miri and loom: no pin.

/// One load reference on the module that holds this code; released on drop.
pub struct ModulePin(#[allow(dead_code)] platform::Handle);

impl ModulePin {
    /// Takes a load reference on this module; `None` when there is none to
    /// take (an executable, an unsupported platform) or the loader refused.
    pub fn take() -> Option<Self> {
        platform::take().map(Self)
    }

    /// Gives the reference back once the calling thread and every thread
    /// of `others` have terminated, from code outside this module: for the
    /// last of the workers that may be the only thing keeping the DLL (a
    /// provider's Shutdown ran on one of them, and the host's `FreeLibrary`
    /// may come before any other call into the DLL), while the others are
    /// still in their teardown. `others` are handles the caller keeps open
    /// for this call (the registry's, under its lock).
    /// `Err(self)` where that cannot be done: only Windows can, with a
    /// thread-pool wait on the calling thread's handle whose callback waits
    /// for the others, runs `after` (with the reference still held) and
    /// ends in `FreeLibraryWhenCallbackReturns` (the pool unloads after the
    /// callback's code has returned); elsewhere the pin stays with the
    /// registry, given back by the next call into the DLL.
    pub fn release_after_threads(self, others: Vec<RawThread>, after: fn()) -> Result<(), Self> {
        platform::release_after_threads(self.0, others, after).map_err(Self)
    }
}

/// A worker thread's own handle, as [`ModulePin::release_after_threads`]
/// waits for it: the Win32 thread handle; nothing elsewhere.
#[cfg(windows)]
pub type RawThread = crate::HANDLE;
/// A worker thread's own handle, as [`ModulePin::release_after_threads`]
/// waits for it: the Win32 thread handle; nothing elsewhere.
#[cfg(not(windows))]
pub type RawThread = ();

#[cfg(all(windows, not(all(loom, test))))]
mod platform {
    use core::ffi::c_void;

    use crate::event::INFINITE;
    use crate::win32::{
        CallbackMayRunLong, CloseHandle, CloseThreadpoolWait, CreateThreadpoolWait, DUPLICATE_SAME_ACCESS,
        DuplicateHandle, FreeLibrary, FreeLibraryWhenCallbackReturns, GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
        GetCurrentProcess, GetCurrentThread, GetModuleHandleExW, HANDLE, HMODULE, PTP_CALLBACK_INSTANCE, PTP_WAIT,
        SetThreadpoolWait, WaitForSingleObject,
    };

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

    /// Thread handles this code opened (`DuplicateHandle`), closed on drop.
    struct Threads(Vec<HANDLE>);

    impl Drop for Threads {
        fn drop(&mut self) {
            for &thread in &self.0 {
                // SAFETY: Win32: each is a handle `duplicate` opened, closed once.
                unsafe { CloseHandle(thread) };
            }
        }
    }

    /// A handle of this process's own, to `thread` (a pseudo-handle or a
    /// handle the caller keeps open for the call); `None` if refused.
    fn duplicate(thread: HANDLE) -> Option<HANDLE> {
        let mut copy: HANDLE = core::ptr::null_mut();
        // SAFETY: Win32: the process pseudo-handle is always valid, `thread`
        // is open for this call (see `release_after_threads`), and `copy`
        // is writable and receives a real handle.
        let duplicated = unsafe {
            let process = GetCurrentProcess();
            DuplicateHandle(process, thread, process, &mut copy, 0, 0, DUPLICATE_SAME_ACCESS)
        };
        (duplicated != 0).then_some(copy)
    }

    /// What the thread-pool callback gives back: the module reference, and
    /// the threads whose end it waits for (the calling thread's first, the
    /// one the pool waits on).
    struct Parting {
        module: HMODULE,
        threads: Threads,
        after: fn(),
    }

    pub(super) fn release_after_threads(handle: Handle, others: Vec<HANDLE>, after: fn()) -> Result<(), Handle> {
        // SAFETY: Win32: the calling thread's pseudo-handle is always valid.
        let Some(me) = duplicate(unsafe { GetCurrentThread() }) else {
            return Err(handle);
        };
        let mut threads = Threads(Vec::with_capacity(1 + others.len()));
        threads.0.push(me);
        for other in others {
            let Some(copy) = duplicate(other) else {
                return Err(handle);
            };
            threads.0.push(copy);
        }
        let parting = Box::into_raw(Box::new(Parting { module: handle.0, threads, after }));
        // SAFETY: Win32: `parting` stays valid until the one callback frees
        // it; NULL is the process's default callback environment.
        let wait = unsafe { CreateThreadpoolWait(Some(after_exit), parting.cast(), core::ptr::null()) };
        if wait == 0 {
            // SAFETY: Box: nothing else saw `parting`; its drop closes the handles.
            drop(unsafe { Box::from_raw(parting) });
            return Err(handle);
        }
        // The callback gives the reference back now.
        core::mem::forget(handle);
        // SAFETY: Win32: `wait` is ours and `me` stays open until the
        // callback closes it; NULL: no timeout.
        unsafe { SetThreadpoolWait(wait, me, core::ptr::null()) };
        Ok(())
    }

    /// Runs on a pool thread once the calling worker has terminated: waits
    /// for the other workers' ends (their bodies have ended, only their
    /// teardown is left), runs `after` (the registry's reap), closes the
    /// thread handles and the wait, and has the pool give the module
    /// reference back after this function has returned. One callback does it all, so no other code of the module
    /// runs on a pool thread when it unloads.
    ///
    /// # Safety
    /// Win32: called by the thread pool for the wait made in
    /// `release_after_threads`, with its `Parting` as `context`, once.
    unsafe extern "system" fn after_exit(
        instance: PTP_CALLBACK_INSTANCE,
        context: *mut c_void,
        wait: PTP_WAIT,
        _: u32,
    ) {
        // SAFETY: Box: the `Parting` leaked for this one callback.
        let parting = unsafe { Box::from_raw(context.cast::<Parting>()) };
        if parting.threads.0.len() > 1 {
            // SAFETY: Win32: `instance` is this callback's; a hint that it
            // blocks, so the pool does not count on this thread meanwhile.
            unsafe { CallbackMayRunLong(instance) };
        }
        for &other in &parting.threads.0[1..] {
            // SAFETY: Win32: an open handle of ours (closed below, once).
            unsafe { WaitForSingleObject(other, INFINITE) };
        }
        // No unwind may leave an `extern "system"` function (it would abort
        // the host's process); the reap does not panic, and if it did, the
        // entries would only wait for the next call into the DLL.
        let _ = std::panic::catch_unwind(parting.after);
        let module = parting.module;
        drop(parting);
        // SAFETY: Win32: the wait is ours, closed once; a wait may be closed
        // from its own callback; the module is unloaded (if this was its
        // last reference) only after the callback returns.
        unsafe {
            CloseThreadpoolWait(wait);
            FreeLibraryWhenCallbackReturns(instance, module);
        }
    }
}

#[cfg(all(target_os = "linux", not(miri), not(all(loom, test))))]
mod platform {
    use core::ffi::{c_char, c_int, c_void};
    use std::sync::atomic::{AtomicBool, Ordering};

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

    /// Set once the loader said this code has no object to pin (it is
    /// linked into the executable): the answer never changes, and asking
    /// again would cost a `dladdr` and a `dlopen` on every sync.
    static UNPINNABLE: AtomicBool = AtomicBool::new(false);

    pub(super) fn take() -> Option<Handle> {
        // Relaxed: a hint that only saves work; a stale `false` asks the loader again.
        if UNPINNABLE.load(Ordering::Relaxed) {
            return None;
        }
        let pinned = ask_the_loader();
        if pinned.is_none() {
            UNPINNABLE.store(true, Ordering::Relaxed);
        }
        pinned
    }

    fn ask_the_loader() -> Option<Handle> {
        let mut info = DlInfo {
            dli_fname: core::ptr::null(),
            dli_fbase: core::ptr::null_mut(),
            dli_sname: core::ptr::null(),
            dli_saddr: core::ptr::null_mut(),
        };
        // SAFETY: dladdr: any address may be asked about; `info` is writable.
        if unsafe { dladdr(ask_the_loader as *const () as *const c_void, &mut info) } == 0 || info.dli_fname.is_null() {
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

    /// Linux has no way to drop a reference after this thread's exit from
    /// outside the object's code: the pin stays with the registry.
    pub(super) fn release_after_threads(handle: Handle, _: Vec<super::RawThread>, _: fn()) -> Result<(), Handle> {
        Err(handle)
    }
}

#[cfg(any(miri, all(loom, test), not(any(windows, target_os = "linux"))))]
mod platform {
    pub(super) struct Handle;

    pub(super) fn take() -> Option<Handle> {
        None
    }

    pub(super) fn release_after_threads(handle: Handle, _: Vec<super::RawThread>, _: fn()) -> Result<(), Handle> {
        Err(handle)
    }
}

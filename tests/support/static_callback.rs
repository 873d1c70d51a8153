//! A host callback that is a static: it allocates nothing, touches no
//! thread-local and counts nothing but its `Progress` calls, for tests that
//! check what a host call itself costs.

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};

use mapisync::{IMAPISyncProgressCallback, Interface};

use crate::{Guid, ICallbackVtbl, IUnknownVtbl};

static PROGRESS_CALLS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "system" fn query(_: *mut c_void, _: *const Guid, out: *mut *mut c_void) -> i32 {
    // SAFETY: COM: `out` is writable.
    unsafe { *out = core::ptr::null_mut() };
    0x8000_4002_u32 as i32
}
unsafe extern "system" fn one(_: *mut c_void) -> u32 {
    1
}
unsafe extern "system" fn progress(_: *mut c_void, _: *const u16, _: u32, _: u32) -> i32 {
    PROGRESS_CALLS.fetch_add(1, Ordering::SeqCst);
    0
}
unsafe extern "system" fn error(_: *mut c_void, _: i32, _: *const u16) -> i32 {
    0
}
unsafe extern "system" fn done(_: *mut c_void, _: *mut c_void, _: i32) -> i32 {
    0
}

static VTBL: ICallbackVtbl = ICallbackVtbl {
    base: IUnknownVtbl { QueryInterface: query, AddRef: one, Release: one },
    Progress: progress,
    Error: error,
    Done: done,
};

#[repr(C)]
struct StaticCallback(&'static ICallbackVtbl);
static CALLBACK: StaticCallback = StaticCallback(&VTBL);

/// The static callback (AddRef and Release count nothing; QueryInterface
/// answers E_NOINTERFACE).
pub fn static_callback() -> IMAPISyncProgressCallback {
    let raw = &CALLBACK as *const StaticCallback as *mut c_void;
    // SAFETY: COM: a static object with a callback vtable; AddRef/Release do nothing.
    unsafe { IMAPISyncProgressCallback::from_raw_borrowed(&raw) }.cloned().expect("a static object")
}

/// `Progress` calls the static callback has had, in this process.
pub fn static_progress_calls() -> usize {
    PROGRESS_CALLS.load(Ordering::SeqCst)
}

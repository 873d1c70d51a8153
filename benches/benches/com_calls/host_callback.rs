//! The host's side of a sync: one static `IMAPISyncProgressCallback` object
//! whose `Done` bumps a counter the benchmark waits on. Every competitor's
//! sync reports to this same object, through its vtable.

use core::ffi::c_void;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

use mapisync::abi::{HANDLE, IID_IMAPISyncProgressCallback, IID_IUnknown, IMAPISyncProgressCallback_Vtbl};
use mapisync::{E_NOINTERFACE, E_POINTER, HRESULT, S_OK};
use windows_core::{GUID, IUnknown_Vtbl};

/// A COM object without a heap: a vtable pointer and a count that never
/// reaches zero (the object is static, so Release never frees).
#[repr(C)]
struct Callback {
    vtable: &'static IMAPISyncProgressCallback_Vtbl,
    refs: AtomicU32,
}

static VTABLE: IMAPISyncProgressCallback_Vtbl = IMAPISyncProgressCallback_Vtbl {
    base__: IUnknown_Vtbl { QueryInterface: query_interface, AddRef: add_ref, Release: release },
    Progress: progress,
    Error: error,
    Done: done,
};

static CALLBACK: Callback = Callback { vtable: &VTABLE, refs: AtomicU32::new(1) };
/// How many `Done` calls arrived, and the event of the last one.
static DONE_CALLS: AtomicU32 = AtomicU32::new(0);
static LAST_EVENT: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());
static LAST_RESULT: AtomicU32 = AtomicU32::new(0);

/// The callback's IUnknown pointer, for `MAPISIB::punkCallBack`.
pub fn pointer() -> *mut c_void {
    &CALLBACK as *const Callback as *mut c_void
}

/// The number of `Done` calls so far.
pub fn done_calls() -> u32 {
    DONE_CALLS.load(Ordering::Acquire)
}

/// Waits until more than `seen` `Done` calls have arrived; returns the event
/// and HRESULT of the last one.
pub fn wait_done(seen: u32) -> (HANDLE, HRESULT) {
    while DONE_CALLS.load(Ordering::Acquire) == seen {
        std::thread::yield_now();
    }
    (LAST_EVENT.load(Ordering::Relaxed), HRESULT(LAST_RESULT.load(Ordering::Relaxed) as i32))
}

/// Calls `Done(NULL, S_OK)` through the callback's vtable, as a provider does.
pub fn call_done() {
    // SAFETY: COM: the callback is static, so alive; a NULL event is allowed.
    let _ = unsafe { (CALLBACK.vtable.Done)(pointer(), core::ptr::null_mut(), S_OK) };
}

unsafe extern "system" fn query_interface(this: *mut c_void, riid: *const GUID, ppv: *mut *mut c_void) -> HRESULT {
    if ppv.is_null() || riid.is_null() {
        return E_POINTER;
    }
    // SAFETY: COM: a non-null `riid` points to a GUID for the whole call.
    let iid = unsafe { *riid };
    let found = iid == IID_IUnknown || iid == IID_IMAPISyncProgressCallback;
    if found {
        // SAFETY: COM: `this` is the static callback, alive forever.
        unsafe { add_ref(this) };
    }
    // SAFETY: COM: a non-null `ppv` is writable for one pointer.
    unsafe { *ppv = if found { this } else { core::ptr::null_mut() } };
    if found { S_OK } else { E_NOINTERFACE }
}

unsafe extern "system" fn add_ref(_this: *mut c_void) -> u32 {
    CALLBACK.refs.fetch_add(1, Ordering::Relaxed) + 1
}

unsafe extern "system" fn release(_this: *mut c_void) -> u32 {
    // Static: never freed, so no Acquire fence is needed before a free.
    CALLBACK.refs.fetch_sub(1, Ordering::Release) - 1
}

unsafe extern "system" fn progress(_this: *mut c_void, _text: *const u16, _index: u32, _max: u32) -> HRESULT {
    S_OK
}

unsafe extern "system" fn error(_this: *mut c_void, _hr: HRESULT, _text: *const u16) -> HRESULT {
    S_OK
}

unsafe extern "system" fn done(_this: *mut c_void, event: HANDLE, hr: HRESULT) -> HRESULT {
    LAST_EVENT.store(event, Ordering::Relaxed);
    LAST_RESULT.store(hr.0 as u32, Ordering::Relaxed);
    // Release: the two stores above are visible to whoever sees the new count.
    DONE_CALLS.fetch_add(1, Ordering::Release);
    S_OK
}

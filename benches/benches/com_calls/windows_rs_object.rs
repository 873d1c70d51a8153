//! The same object written with windows-core's `#[implement]`: an
//! `#[interface]` trait for IMAPISync, and SynchronizeInBackground written by
//! hand on top of it (validate MAPISIB, busy flag, worker thread, `Done`),
//! as a windows-rs author would have to.

#![allow(non_snake_case)]

use core::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use mapisync::abi::{HANDLE, MAPISIB};
use mapisync::{E_INVALIDARG, E_OUTOFMEMORY, IMAPISyncProgressCallback, MAPI_E_BUSY, S_OK};
use windows_core::{ComObject, HRESULT, IUnknown, IUnknown_Vtbl, IUnknownImpl, Interface, implement, interface};

/// IMAPISync declared the windows-rs way.
#[interface("5024A385-2D44-486A-81A8-8F0ECB6071DD")]
unsafe trait IMAPISyncW: IUnknown {
    unsafe fn SynchronizeInBackground(&self, psibpb: *const MAPISIB) -> HRESULT;
}

#[implement(IMAPISyncW)]
struct Store {
    busy: AtomicBool,
}

/// The done event: a manual-reset event with two owners, host and worker.
#[derive(Default)]
struct DoneEvent {
    signalled: Mutex<bool>,
    woken: Condvar,
}

/// What the worker thread carries.
struct Worker {
    object: ComObject<Store>,
    callback: Option<IMAPISyncProgressCallback>,
    event: Arc<DoneEvent>,
    host_event: HANDLE,
}

// SAFETY: Send: the host's callback is free-threaded (the contract's
// "InBackground"), and the handle is only passed back by value.
unsafe impl Send for Worker {}

impl IMAPISyncW_Impl for Store_Impl {
    unsafe fn SynchronizeInBackground(&self, psibpb: *const MAPISIB) -> HRESULT {
        if psibpb.is_null() {
            return E_INVALIDARG;
        }
        // SAFETY: MAPISIB: a non-null argument is readable for its first field.
        if unsafe { (*psibpb).ulSize } < MAPISIB::SIZE {
            return E_INVALIDARG;
        }
        // SAFETY: MAPISIB: ulSize covers the whole structure.
        let sib = unsafe { *psibpb };
        if sib.phSyncDoneEvent.is_null() {
            return E_INVALIDARG;
        }
        // SAFETY: MAPISIB: a non-null phSyncDoneEvent is writable.
        unsafe { *sib.phSyncDoneEvent = core::ptr::null_mut() };
        if self.busy.swap(true, Ordering::Acquire) {
            return MAPI_E_BUSY;
        }
        // SAFETY: COM: the callback is borrowed for the call; cast takes a reference.
        let callback = unsafe { IUnknown::from_raw_borrowed(&sib.punkCallBack) }
            .and_then(|unknown| unknown.cast::<IMAPISyncProgressCallback>().ok());
        let event = Arc::new(DoneEvent::default());
        let host_event = Arc::into_raw(event.clone()) as HANDLE;
        let worker = Worker { object: self.to_object(), callback, event, host_event };
        if std::thread::Builder::new().spawn(move || run(worker)).is_err() {
            // SAFETY: Arc: the handle was never handed over.
            drop(unsafe { Arc::from_raw(host_event as *const DoneEvent) });
            self.busy.store(false, Ordering::Release);
            return E_OUTOFMEMORY;
        }
        // SAFETY: MAPISIB: checked non-null and writable above.
        unsafe { *sib.phSyncDoneEvent = host_event };
        S_OK
    }
}

/// The provider's work is empty: the sync ends at once.
fn run(worker: Worker) {
    worker.object.busy.store(false, Ordering::Release);
    *worker.event.signalled.lock().unwrap() = true;
    worker.event.woken.notify_all();
    if let Some(callback) = &worker.callback {
        // SAFETY: COM: `callback` is a counted reference.
        let _ = unsafe { callback.Done(worker.host_event, S_OK) };
    }
}

/// A new object's IMAPISync pointer; the caller owns its one reference.
pub fn create() -> *mut c_void {
    let sync: IMAPISyncW = Store { busy: AtomicBool::new(false) }.into();
    sync.into_raw()
}

/// Closes a done event from this object.
///
/// # Safety
/// `event` is a done event this object handed over, not yet closed.
pub unsafe fn close_event(event: HANDLE) {
    // SAFETY: Arc: the host's handle owns one strong count.
    drop(unsafe { Arc::from_raw(event as *const DoneEvent) });
}

//! The host's own COM objects: the session stand-in, a callback that
//! refuses IMAPISyncProgressCallback, and the recording callback, whose
//! [`Recorder`] keeps every call, answers as scripted and shows each call
//! to the listener.

use core::ffi::c_void;
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use windows_core::HRESULT;

use super::{Event, Listener, Method, RefCounts, left};
use crate::abi::{HANDLE, IMAPISyncProgressCallback_Vtbl};
use crate::hresult::S_OK;
use crate::object::{Class, ComObject, ObjectRef, UnknownOnly, iunknown_vtbl};
use crate::unwind::forget_payload;

/// One of the host's objects with its reference count before the call.
pub(super) struct Counted {
    object: HostObject,
    before: u32,
}

impl Counted {
    pub(super) fn new(object: HostObject) -> Self {
        let before = object.ref_count();
        Self { object, before }
    }

    pub(super) fn as_raw(&self) -> *mut c_void {
        self.object.as_raw()
    }

    pub(super) fn recorder(&self) -> Option<&Recorder> {
        match &self.object {
            HostObject::Recording(recorder) => Some(&recorder.object().value),
            HostObject::Plain(_) => None,
        }
    }

    /// Waits (until `deadline`) for the count to return to where it started.
    pub(super) fn settle(&self, deadline: Instant) -> RefCounts {
        while self.object.ref_count() != self.before && !left(deadline).is_zero() {
            std::thread::sleep(Duration::from_millis(1));
        }
        RefCounts { before: self.before, after: self.object.ref_count() }
    }
}

/// One of the host's own COM objects.
pub(super) enum HostObject {
    Recording(ObjectRef<RecordingCallback>),
    Plain(ObjectRef<PlainUnknown>),
}

impl HostObject {
    /// A COM object that answers only IUnknown.
    pub(super) fn plain() -> Self {
        Self::Plain(ObjectRef::new(()))
    }

    /// A recording callback that fails as `failures` say and shows every call to `listener`.
    pub(super) fn recording(failures: Vec<(Method, usize, HRESULT)>, listener: Option<Listener>) -> Self {
        Self::Recording(ObjectRef::new(Recorder {
            failures,
            listener,
            state: Mutex::default(),
            changed: Condvar::new(),
            listener_panic: Mutex::default(),
        }))
    }

    pub(super) fn as_raw(&self) -> *mut c_void {
        match self {
            Self::Recording(object) => object.as_raw(),
            Self::Plain(object) => object.as_raw(),
        }
    }

    fn ref_count(&self) -> u32 {
        match self {
            Self::Recording(object) => object.object().ref_count(),
            Self::Plain(object) => object.object().ref_count(),
        }
    }
}

/// A COM object that answers only IUnknown: the session, or a refusing callback.
pub(super) type PlainUnknown = UnknownOnly<()>;

/// The recording IMAPISyncProgressCallback.
pub(super) struct RecordingCallback;
static RECORDING_VTBL: IMAPISyncProgressCallback_Vtbl = IMAPISyncProgressCallback_Vtbl {
    base__: iunknown_vtbl::<RecordingCallback>(),
    Progress: on_progress,
    Error: on_error,
    Done: on_done,
};
impl Class for RecordingCallback {
    type Value = Recorder;
    type Vtable = IMAPISyncProgressCallback_Vtbl;
    const VTABLE: &'static IMAPISyncProgressCallback_Vtbl = &RECORDING_VTBL;
}

pub(super) struct Recorder {
    failures: Vec<(Method, usize, HRESULT)>,
    listener: Option<Listener>,
    state: Mutex<Recorded>,
    changed: Condvar,
    /// The listener's first panic, caught in the callback method (it must
    /// not unwind into the provider) and re-raised by `run` on its own thread.
    listener_panic: Mutex<Option<Box<dyn Any + Send>>>,
}

#[derive(Clone, Default)]
pub(super) struct Recorded {
    pub(super) events: Vec<Event>,
    calls: [usize; 3],
    pub(super) done_calls: usize,
    pub(super) done_at: Option<Instant>,
    /// The handle `Done` should pass back; 0 until the host knows it.
    done_handles: Vec<usize>,
}

impl Recorded {
    /// The HRESULT of the first `Done`.
    pub(super) fn first_done(&self) -> Option<HRESULT> {
        self.events.iter().find_map(|event| match event {
            Event::Done { hr, .. } => Some(*hr),
            _ => None,
        })
    }
}

impl Recorder {
    fn state(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait(&self, timeout: Duration, until: impl Fn(&Recorded) -> bool) {
        let guard = self.state();
        let _ = self.changed.wait_timeout_while(guard, timeout, |state| !until(state));
    }

    /// Waits (until `deadline`) for `Done` after a started sync, then returns
    /// what was recorded, `same_event` filled in from the host's `handle`.
    pub(super) fn finish(&self, started: HRESULT, handle: HANDLE, deadline: Instant) -> Recorded {
        if started == S_OK {
            self.wait(left(deadline), |state| state.done_calls > 0);
        }
        self.set_expected_event(handle as usize);
        self.state().clone()
    }

    /// Fills in `same_event` for `Done` calls now that the handle is known.
    fn set_expected_event(&self, handle: usize) {
        let mut state = self.state();
        let handles = std::mem::take(&mut state.done_handles);
        let mut handles = handles.into_iter();
        for event in &mut state.events {
            if let Event::Done { same_event, .. } = event {
                *same_event = handles.next() == Some(handle);
            }
        }
    }

    /// Shows `event` to the listener, catching its panic for `run`.
    fn notify(&self, event: &Event) {
        let Some(listener) = &self.listener else { return };
        let Err(payload) = catch_unwind(AssertUnwindSafe(|| listener(event))) else { return };
        let mut first = self.listener_panic.lock().unwrap_or_else(PoisonError::into_inner);
        if first.is_none() {
            *first = Some(payload);
        } else {
            drop(first);
            forget_payload(payload);
        }
    }

    /// The listener's first panic, if it panicked.
    pub(super) fn take_panic(&self) -> Option<Box<dyn Any + Send>> {
        self.listener_panic.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn record(&self, method: Method, event: Event, handle: Option<usize>) -> HRESULT {
        self.notify(&event);
        let mut state = self.state();
        let slot = method as usize;
        state.calls[slot] += 1;
        let call = state.calls[slot];
        if method == Method::Done {
            state.done_calls += 1;
            state.done_at.get_or_insert_with(Instant::now);
            state.done_handles.extend(handle);
        }
        state.events.push(event);
        drop(state);
        self.changed.notify_all();
        self.failures
            .iter()
            .find(|(failing, from, _)| *failing == method && call >= *from)
            .map_or(S_OK, |(_, _, hr)| *hr)
    }
}

/// Reads a NUL-terminated UTF-16 string (at most 64 Ki units); NULL gives `None`.
///
/// # Safety
/// `text` is NULL or NUL-terminated within its allocation.
unsafe fn read_text(text: *const u16) -> Option<String> {
    if text.is_null() {
        return None;
    }
    let mut len = 0;
    // SAFETY: UTF-16 text: the caller vouches for a terminating NUL; the cap bounds a bad provider's string.
    while len < 65_536 && unsafe { *text.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: UTF-16 text: the `len` units before the NUL were just read.
    Some(String::from_utf16_lossy(unsafe { core::slice::from_raw_parts(text, len) }))
}

/// # Safety
/// COM: `this` is a live `RecordingCallback`.
unsafe fn recorder<'a>(this: *mut c_void) -> &'a Recorder {
    // SAFETY: COM: the caller (the provider) holds a reference for the whole call.
    &unsafe { ComObject::<RecordingCallback>::from_this(this) }.value
}

/// `Progress`: records the call and answers as scripted.
///
/// # Safety
/// COM: the provider calls through the recording callback's vtable: `this` is a
/// live `RecordingCallback` it holds a reference to; `text` is NULL or NUL-terminated.
unsafe extern "system" fn on_progress(this: *mut c_void, text: *const u16, index: u32, max: u32) -> HRESULT {
    // SAFETY: COM: as the vtable's contract; `text` is NULL or NUL-terminated.
    let (recorder, text) = unsafe { (recorder(this), read_text(text)) };
    recorder.record(Method::Progress, Event::Progress { text, index, max }, None)
}

/// `Error`: records the call and answers as scripted.
///
/// # Safety
/// COM: the provider calls through the recording callback's vtable: `this` is a
/// live `RecordingCallback` it holds a reference to; `text` is NULL or NUL-terminated.
unsafe extern "system" fn on_error(this: *mut c_void, hr: HRESULT, text: *const u16) -> HRESULT {
    // SAFETY: COM: as the vtable's contract; `text` is NULL or NUL-terminated.
    let (recorder, text) = unsafe { (recorder(this), read_text(text)) };
    recorder.record(Method::Error, Event::Error { hr, text }, None)
}

/// `Done`: records the call and the handle it passes back.
///
/// # Safety
/// COM: `this` is a live `RecordingCallback` the caller holds a reference to.
unsafe extern "system" fn on_done(this: *mut c_void, event: HANDLE, hr: HRESULT) -> HRESULT {
    // SAFETY: COM: as the vtable's contract.
    let recorder = unsafe { recorder(this) };
    recorder.record(Method::Done, Event::Done { hr, same_event: false }, Some(event as usize))
}

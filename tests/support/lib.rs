//! A C host's view of COM, for the integration tests and the fuzz target.
//!
//! Everything here is declared from the contract (`docs/contract.md`), not taken
//! from the runtime's types: the `MAPISIB` layout, the vtables, a counting
//! session object and a scriptable progress callback, written as a C host
//! would write them. Objects under test are reached only through raw vtable
//! pointers, so the tests check the runtime's ABI against an independent
//! declaration. Beside them, the fixtures several test files share: the
//! `Steps` provider and a hand-written store (`outer_store`).

#![allow(non_snake_case)]
// The helpers take done-event handles as the C API does, by value; every
// handle they see comes from the runtime under test.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

mod counting;
#[cfg(unix)]
pub mod cpp_host;
mod outer_store;
mod providers;
mod static_callback;

pub use counting::{Counting, allocations_of};
pub use outer_store::*;
pub use providers::{Gated, Steps, gated};
pub use static_callback::{static_callback, static_progress_calls};

/// A GUID as C lays it out.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Guid {
    pub data1: u32,
    pub data2: u16,
    pub data3: u16,
    pub data4: [u8; 8],
}

impl Guid {
    pub const fn from_u128(v: u128) -> Self {
        Self {
            data1: (v >> 96) as u32,
            data2: (v >> 80) as u16,
            data3: (v >> 64) as u16,
            data4: ((v as u64).to_be_bytes()),
        }
    }
}

pub const IID_IUNKNOWN: Guid = Guid::from_u128(0x00000000_0000_0000_c000_000000000046);
pub const IID_IMAPISYNC: Guid = Guid::from_u128(0x5024a385_2d44_486a_81a8_8f0ecb6071dd);
pub const IID_IMAPISYNC_PROGRESS_CALLBACK: Guid = Guid::from_u128(0x5024a386_2d44_486a_81a8_8f0ecb6071dd);
pub const IID_ICLASSFACTORY: Guid = Guid::from_u128(0x00000001_0000_0000_c000_000000000046);
/// An interface nobody implements.
pub const IID_UNRELATED: Guid = Guid::from_u128(0x12345678_9abc_def0_1234_56789abcdef0);

pub const S_OK: i32 = 0;
pub const E_NOINTERFACE: i32 = 0x8000_4002_u32 as i32;
pub const E_POINTER: i32 = 0x8000_4003_u32 as i32;
pub const E_FAIL: i32 = 0x8000_4005_u32 as i32;
pub const E_UNEXPECTED: i32 = 0x8000_FFFF_u32 as i32;
pub const E_INVALIDARG: i32 = 0x8007_0057_u32 as i32;
pub const MAPI_E_BUSY: i32 = 0x8004_010B_u32 as i32;
pub const MAPI_E_USER_CANCEL: i32 = 0x8004_0113_u32 as i32;
pub const MAPI_E_NETWORK_ERROR: i32 = 0x8004_0115_u32 as i32;
pub const CLASS_E_NOAGGREGATION: i32 = 0x8004_0110_u32 as i32;

/// `MAPISIB` as the contract declares it.
#[repr(C)]
pub struct Mapisib {
    pub ulSize: u32,
    pub ulFlags: u32,
    pub psesSync: *mut c_void,
    pub punkCallBack: *mut c_void,
    pub phSyncDoneEvent: *mut *mut c_void,
}

#[repr(C)]
pub struct IUnknownVtbl {
    pub QueryInterface: unsafe extern "system" fn(*mut c_void, *const Guid, *mut *mut c_void) -> i32,
    pub AddRef: unsafe extern "system" fn(*mut c_void) -> u32,
    pub Release: unsafe extern "system" fn(*mut c_void) -> u32,
}

#[repr(C)]
pub struct IMapiSyncVtbl {
    pub base: IUnknownVtbl,
    pub SynchronizeInBackground: unsafe extern "system" fn(*mut c_void, *const Mapisib) -> i32,
}

#[repr(C)]
pub struct ICallbackVtbl {
    pub base: IUnknownVtbl,
    pub Progress: unsafe extern "system" fn(*mut c_void, *const u16, u32, u32) -> i32,
    pub Error: unsafe extern "system" fn(*mut c_void, i32, *const u16) -> i32,
    pub Done: unsafe extern "system" fn(*mut c_void, *mut c_void, i32) -> i32,
}

/// A raw interface pointer to an object under test. Calls go through its vtable.
#[derive(Clone, Copy, Debug)]
pub struct Raw(pub *mut c_void);

impl Raw {
    fn unknown(&self) -> &IUnknownVtbl {
        // SAFETY: COM: a live interface pointer points to its vtable pointer.
        unsafe { &**(self.0 as *const *const IUnknownVtbl) }
    }

    /// QueryInterface; returns the HRESULT and what was written to the out-pointer.
    pub fn query(&self, iid: &Guid) -> (i32, *mut c_void) {
        let mut out = 0xDEAD_BEEF_usize as *mut c_void; // garbage the callee must overwrite
        // SAFETY: COM: `self` is live; `iid` and `out` are valid.
        let hr = unsafe { (self.unknown().QueryInterface)(self.0, iid, &mut out) };
        (hr, out)
    }

    /// QueryInterface with raw (possibly NULL) arguments.
    ///
    /// # Safety
    /// `iid` and `out` are NULL or valid.
    pub unsafe fn query_raw(&self, iid: *const Guid, out: *mut *mut c_void) -> i32 {
        // SAFETY: COM: `self` is live; the caller vouches for the arguments.
        unsafe { (self.unknown().QueryInterface)(self.0, iid, out) }
    }

    pub fn add_ref(&self) -> u32 {
        // SAFETY: COM: `self` is live.
        unsafe { (self.unknown().AddRef)(self.0) }
    }

    pub fn release(&self) -> u32 {
        // SAFETY: COM: `self` is live and the caller gives up a reference.
        unsafe { (self.unknown().Release)(self.0) }
    }

    /// The current count, read as AddRef's result minus one (then balanced).
    pub fn count(&self) -> u32 {
        let n = self.add_ref();
        self.release();
        n - 1
    }

    /// Waits (bounded) until the count is `count`; returns the count then.
    pub fn wait_count(&self, count: u32, timeout: Duration) -> u32 {
        settle_within(count, timeout, || self.count())
    }

    /// IMAPISync slot 3.
    ///
    /// # Safety
    /// `self` is an IMAPISync pointer; `sib` is NULL or valid for its `ulSize` bytes.
    pub unsafe fn synchronize(&self, sib: *const Mapisib) -> i32 {
        // SAFETY: COM: `self` is a live IMAPISync, whose vtable has slot 3.
        let vtbl = unsafe { &**(self.0 as *const *const IMapiSyncVtbl) };
        // SAFETY: COM: slot 3 of a live IMAPISync; the caller vouches for `sib`.
        unsafe { (vtbl.SynchronizeInBackground)(self.0, sib) }
    }
}

/// Waits on a done event with the runtime's exported C function (as a C host on Linux does).
pub fn wait_event(handle: *mut c_void, timeout: Duration) -> bool {
    // SAFETY: the handle is an open done event owned by the test.
    unsafe { mapisync::event::mapisync_wait_event(handle, timeout.as_millis() as u32) == 0 }
}

/// Closes a done event with the runtime's exported C function.
pub fn close_event(handle: *mut c_void) {
    // SAFETY: the handle is an open done event owned by the test, closed once.
    assert_eq!(unsafe { mapisync::event::mapisync_close_event(handle) }, 1);
}

/// One call on the test host's callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    Progress { text: Option<String>, index: u32, max: u32 },
    Error { hr: i32, text: Option<String> },
    Done { event: usize, hr: i32, event_was_signalled: bool },
}

/// What a scripted callback does.
#[derive(Clone, Debug, Default)]
pub struct Script {
    /// Answer QueryInterface for IMAPISyncProgressCallback (false: refuse it).
    pub refuse_query: bool,
    /// From this Progress call on (1-based), return the HRESULT.
    pub fail_progress_from: Option<(usize, i32)>,
    /// Every Error call returns this.
    pub error_returns: Option<i32>,
    /// Otherwise Progress call `n` (1-based) returns `progress_answers[n - 1]`, S_OK past the end.
    pub progress_answers: Vec<i32>,
    /// Otherwise Error call `n` (1-based) returns `error_answers[n - 1]`, S_OK past the end.
    pub error_answers: Vec<i32>,
    /// What Done returns (which the runtime ignores).
    pub done_returns: i32,
}

/// A host's IMAPISyncProgressCallback written as a C host writes one: a
/// `#[repr(C)]` struct whose first field is the vtable pointer
/// ([`callback_vtbl`]'s) and which counts its references in an AtomicU32.
/// The IUnknown half is shared; each host says what its methods do.
///
/// # Safety
/// The type is `#[repr(C)]` with a `&'static ICallbackVtbl` first, and every
/// object of it comes from `Box::into_raw` (its last Release frees it).
pub unsafe trait CallbackObject: Sized + 'static {
    /// The object's reference count.
    fn refs(&self) -> &AtomicU32;
    /// Whether QueryInterface answers the callback's IID (IUnknown it always answers).
    fn answers_callback(&self) -> bool {
        true
    }
    /// `Progress(text, index, max)`.
    fn progress(&self, _text: *const u16, _index: u32, _max: u32) -> i32 {
        S_OK
    }
    /// `Error(hr, text)`.
    fn error(&self, _hr: i32, _text: *const u16) -> i32 {
        S_OK
    }
    /// `Done(event, hr)`.
    fn done(&self, event: *mut c_void, hr: i32) -> i32;
}

/// The vtable of callback objects of type `T`.
pub const fn callback_vtbl<T: CallbackObject>() -> ICallbackVtbl {
    ICallbackVtbl {
        base: IUnknownVtbl {
            QueryInterface: callback_query::<T>,
            AddRef: callback_add_ref::<T>,
            Release: callback_release::<T>,
        },
        Progress: callback_progress::<T>,
        Error: callback_error::<T>,
        Done: callback_done::<T>,
    }
}

/// # Safety
/// COM: `this` is a live `T` the caller holds a reference to.
unsafe fn callback_object<'a, T: CallbackObject>(this: *mut c_void) -> &'a T {
    // SAFETY: COM: the caller holds a reference; CallbackObject: the vtable pointer is at offset 0.
    unsafe { &*(this as *const T) }
}

/// # Safety
/// COM: `this` is a live `T` the caller holds a reference to; `iid` and `out` are valid.
unsafe extern "system" fn callback_query<T: CallbackObject>(
    this: *mut c_void,
    iid: *const Guid,
    out: *mut *mut c_void,
) -> i32 {
    // SAFETY: COM: the caller passes valid pointers (the runtime under test is the caller).
    unsafe {
        let object = callback_object::<T>(this);
        let iid = &*iid;
        if *iid == IID_IUNKNOWN || (*iid == IID_IMAPISYNC_PROGRESS_CALLBACK && object.answers_callback()) {
            object.refs().fetch_add(1, Ordering::Relaxed);
            *out = this;
            S_OK
        } else {
            *out = std::ptr::null_mut();
            E_NOINTERFACE
        }
    }
}

/// AddRef on a host object's count: returns the new count.
fn count_add_ref(refs: &AtomicU32) -> u32 {
    refs.fetch_add(1, Ordering::Relaxed) + 1
}

/// Release on a host object's count: returns the count left. AcqRel, so the
/// thread that sees 0 sees every other thread's use of the object; nothing
/// else of the object may be touched after a non-zero result, as another
/// thread may free it then.
fn count_release(refs: &AtomicU32) -> u32 {
    refs.fetch_sub(1, Ordering::AcqRel) - 1
}

/// # Safety
/// COM: `this` is a live `T` the caller holds a reference to.
unsafe extern "system" fn callback_add_ref<T: CallbackObject>(this: *mut c_void) -> u32 {
    // SAFETY: COM: the caller holds a reference.
    count_add_ref(unsafe { callback_object::<T>(this) }.refs())
}

/// # Safety
/// COM: `this` is a live `T`; the caller gives up a reference it holds.
unsafe extern "system" fn callback_release<T: CallbackObject>(this: *mut c_void) -> u32 {
    // SAFETY: COM: the caller gives up a reference it holds.
    let left = count_release(unsafe { callback_object::<T>(this) }.refs());
    if left == 0 {
        // SAFETY: Box: the last reference; CallbackObject: the object came from Box::into_raw.
        drop(unsafe { Box::from_raw(this as *mut T) });
    }
    left
}

/// # Safety
/// COM: `this` is a live `T` the caller holds a reference to; `text` is NULL or NUL-terminated.
unsafe extern "system" fn callback_progress<T: CallbackObject>(
    this: *mut c_void,
    text: *const u16,
    index: u32,
    max: u32,
) -> i32 {
    // SAFETY: COM: the caller holds a reference.
    unsafe { callback_object::<T>(this) }.progress(text, index, max)
}

/// # Safety
/// COM: `this` is a live `T` the caller holds a reference to; `text` is NULL or NUL-terminated.
unsafe extern "system" fn callback_error<T: CallbackObject>(this: *mut c_void, hr: i32, text: *const u16) -> i32 {
    // SAFETY: COM: the caller holds a reference.
    unsafe { callback_object::<T>(this) }.error(hr, text)
}

/// # Safety
/// COM: `this` is a live `T` the caller holds a reference to.
unsafe extern "system" fn callback_done<T: CallbackObject>(this: *mut c_void, event: *mut c_void, hr: i32) -> i32 {
    // SAFETY: COM: the caller holds a reference.
    unsafe { callback_object::<T>(this) }.done(event, hr)
}

/// A host object: a C-style COM object with a vtable pointer and a count,
/// answering IUnknown and (unless scripted otherwise) the callback interface.
#[repr(C)]
struct HostObject {
    vtbl: &'static ICallbackVtbl,
    refs: AtomicU32,
    script: Script,
    calls: Mutex<Vec<Call>>,
    changed: Condvar,
}

static CALLBACK_VTBL: ICallbackVtbl = callback_vtbl::<HostObject>();

// SAFETY: CallbackObject: `#[repr(C)]` with the vtable first; `HostRef::new` makes every one with Box::into_raw.
unsafe impl CallbackObject for HostObject {
    fn refs(&self) -> &AtomicU32 {
        &self.refs
    }

    fn answers_callback(&self) -> bool {
        !self.script.refuse_query
    }

    fn progress(&self, text: *const u16, index: u32, max: u32) -> i32 {
        self.record(Call::Progress { text: read_text(text), index, max });
        let progress_calls = self.count_calls(|call| matches!(call, Call::Progress { .. }));
        match self.script.fail_progress_from {
            Some((from, hr)) if progress_calls >= from => hr,
            _ => answer(&self.script.progress_answers, progress_calls),
        }
    }

    fn error(&self, hr: i32, text: *const u16) -> i32 {
        self.record(Call::Error { hr, text: read_text(text) });
        let error_calls = self.count_calls(|call| matches!(call, Call::Error { .. }));
        self.script.error_returns.unwrap_or_else(|| answer(&self.script.error_answers, error_calls))
    }

    fn done(&self, event: *mut c_void, hr: i32) -> i32 {
        // The contract: the event is signalled before Done is called. (Meaningful
        // only while the test still holds the event open: a closed Win32 handle
        // reads as not signalled.)
        let event_was_signalled = !event.is_null() && wait_event(event, Duration::ZERO);
        self.record(Call::Done { event: event as usize, hr, event_was_signalled });
        self.script.done_returns
    }
}

fn read_text(text: *const u16) -> Option<String> {
    if text.is_null() {
        return None;
    }
    let mut len = 0;
    // SAFETY: the provider passes NUL-terminated UTF-16.
    while unsafe { *text.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: `len` units were just read.
    Some(String::from_utf16(unsafe { std::slice::from_raw_parts(text, len) }).expect("UTF-16 text"))
}

impl HostObject {
    fn record(&self, call: Call) -> usize {
        let mut calls = self.lock();
        calls.push(call);
        let n = calls.len();
        drop(calls);
        self.changed.notify_all();
        n
    }

    fn count_calls(&self, which: impl Fn(&Call) -> bool) -> usize {
        self.lock().iter().filter(|call| which(call)).count()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Call>> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Answer `n` (1-based) of a scripted list; S_OK past its end.
fn answer(answers: &[i32], n: usize) -> i32 {
    answers.get(n - 1).copied().unwrap_or(S_OK)
}

/// The test's own reference to a host object (callback or session).
pub struct HostRef(*mut HostObject);

// SAFETY: Send/Sync: the object is reached only through atomics and a Mutex.
unsafe impl Send for HostRef {}
// SAFETY: Send/Sync: shared use only touches atomics and a Mutex.
unsafe impl Sync for HostRef {}

impl HostRef {
    /// A callback following `script`.
    pub fn callback(script: Script) -> Self {
        Self(Box::into_raw(Box::new(HostObject {
            vtbl: &CALLBACK_VTBL,
            refs: AtomicU32::new(1),
            script,
            calls: Mutex::new(Vec::new()),
            changed: Condvar::new(),
        })))
    }

    /// A session stand-in: answers only IUnknown.
    pub fn session() -> Self {
        Self::callback(Script { refuse_query: true, ..Script::default() })
    }

    pub fn as_raw(&self) -> *mut c_void {
        self.0 as *mut c_void
    }

    fn object(&self) -> &HostObject {
        // SAFETY: COM: `self` holds a reference.
        unsafe { &*self.0 }
    }

    /// The current reference count.
    pub fn count(&self) -> u32 {
        self.object().refs.load(Ordering::Acquire)
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.object().lock().clone()
    }

    /// Waits (bounded) until `Done` was called; returns the calls.
    pub fn wait_done(&self, timeout: Duration) -> Vec<Call> {
        let object = self.object();
        let guard = object.lock();
        let (guard, _) = object
            .changed
            .wait_timeout_while(guard, timeout, |calls| !calls.iter().any(|c| matches!(c, Call::Done { .. })))
            .unwrap_or_else(PoisonError::into_inner);
        guard.clone()
    }

    /// Waits (bounded) until the count is back to `count`; returns the count then.
    pub fn wait_count(&self, count: u32, timeout: Duration) -> u32 {
        settle_within(count, timeout, || self.count())
    }
}

impl Drop for HostRef {
    fn drop(&mut self) {
        // SAFETY: COM: `self` owns one reference and gives it up once.
        unsafe { callback_release::<HostObject>(self.0 as *mut c_void) };
    }
}

/// A fully filled MAPISIB on the heap, with its out-handle slot beside it.
pub struct Sib {
    pub sib: Box<Mapisib>,
    /// Owned through a raw pointer, not a `Box`: moving a `Box` asserts
    /// unique access and would invalidate the pointer MAPISIB keeps to the
    /// slot (Miri, Stacked Borrows). Freed in `Drop`.
    handle: *mut *mut c_void,
}

/// A handle value no runtime would write, to see whether the slot was touched.
pub const SENTINEL: *mut c_void = 0x5EAF_00D5_usize as *mut c_void;

impl Sib {
    pub fn new(flags: u32, session: Option<&HostRef>, callback: Option<&HostRef>) -> Self {
        let handle = Box::into_raw(Box::new(SENTINEL));
        let sib = Box::new(Mapisib {
            ulSize: size_of::<Mapisib>() as u32,
            ulFlags: flags,
            psesSync: session.map_or(std::ptr::null_mut(), HostRef::as_raw),
            punkCallBack: callback.map_or(std::ptr::null_mut(), HostRef::as_raw),
            phSyncDoneEvent: handle,
        });
        Self { sib, handle }
    }

    pub fn handle(&self) -> *mut c_void {
        // SAFETY: the slot is owned by `self` and freed only in `Drop`.
        unsafe { *self.handle }
    }
}

impl Drop for Sib {
    fn drop(&mut self) {
        // SAFETY: Box: `handle` came from Box::into_raw in `new` and is freed once.
        drop(unsafe { Box::from_raw(self.handle) });
    }
}

/// How long any test waits for a sync before failing.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Polls `read` (every millisecond, for at most `timeout`) until it gives
/// `expected`; returns the last value read.
pub fn settle_within<T: PartialEq>(expected: T, timeout: Duration, read: impl Fn() -> T) -> T {
    let deadline = Instant::now() + timeout;
    while read() != expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    read()
}

/// The host simulator, running `f` inside each `Progress` it receives (on
/// the thread that reported).
pub fn on_progress(f: impl Fn() + Send + Sync + 'static) -> mapisync::host::Host {
    mapisync::host::Host::new().on_event(move |event| {
        if matches!(event, mapisync::host::Event::Progress { .. }) {
            f();
        }
    })
}

/// One lifecycle test at a time (they share the module's registry): the
/// module reopened and drained, else an earlier test left a worker running.
pub fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    let guard = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    mapisync::lifecycle::reopen();
    assert_eq!(mapisync::lifecycle::drain(PATIENCE), Ok(()), "an earlier test left a worker running");
    guard
}

/// A one-way latch: closed until `open`, then open for good.
#[derive(Default)]
pub struct Latch {
    open: Mutex<bool>,
    changed: Condvar,
}

impl Latch {
    pub fn open(&self) {
        *self.open.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.changed.notify_all();
    }

    /// Waits (bounded) until open; returns whether it opened.
    pub fn wait(&self, timeout: Duration) -> bool {
        let guard = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) =
            self.changed.wait_timeout_while(guard, timeout, |open| !*open).unwrap_or_else(PoisonError::into_inner);
        *guard
    }

    pub fn is_open(&self) -> bool {
        *self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where a test holds a provider's sync at will: once `hold` is called, the
/// sync that `pass`es says so and waits until `release`.
#[derive(Default)]
pub struct HoldPoint {
    holding: AtomicBool,
    reached: Latch,
    released: Latch,
}

impl HoldPoint {
    /// From now on, a sync that passes here waits until `release`.
    pub fn hold(&self) {
        self.holding.store(true, Ordering::SeqCst);
    }

    /// In the provider's sync: while holding, reports the sync here and
    /// waits (bounded by `PATIENCE`) until the test releases it.
    pub fn pass(&self) {
        if self.holding.load(Ordering::SeqCst) {
            self.reached.open();
            assert!(self.released.wait(PATIENCE), "the test never released the held sync");
        }
    }

    /// Waits (bounded by `PATIENCE`) until a sync is held here.
    pub fn wait_held(&self) -> bool {
        self.reached.wait(PATIENCE)
    }

    /// Lets the held sync (and any later one) go on.
    pub fn release(&self) {
        self.released.open();
    }
}

/// Counts the drops of the provider that owns it: give a provider a
/// `DropCount` field and keep a clone to watch. Only the provider's copy
/// counts (the watcher's copies never do).
pub struct DropCount {
    drops: Arc<AtomicUsize>,
    counts: bool,
}

impl Default for DropCount {
    fn default() -> Self {
        Self::new()
    }
}

impl DropCount {
    /// The field for a provider.
    pub fn new() -> Self {
        Self { drops: Arc::default(), counts: true }
    }

    /// A watcher of the same count.
    pub fn watch(&self) -> Self {
        Self { drops: self.drops.clone(), counts: false }
    }

    /// How often the owner was dropped.
    pub fn get(&self) -> usize {
        self.drops.load(Ordering::SeqCst)
    }

    /// Waits (bounded) until the owner was dropped `n` times; returns the count then.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> usize {
        settle_within(n, timeout, || self.get())
    }
}

impl Drop for DropCount {
    fn drop(&mut self) {
        if self.counts {
            self.drops.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Compiles the Rust examples of `docs/store-objects.md` as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/store-objects.md")]
pub struct StoreObjectsDoctests;

//! The hand-written C++ object (`cpp/com_object.cpp`, built by build.rs).

use core::ffi::c_void;

use mapisync::abi::HANDLE;

unsafe extern "C" {
    /// A new C++ IMAPISync object with a count of one.
    fn cpp_sync_create() -> *mut c_void;
    /// Closes a done event the C++ object wrote to `*phSyncDoneEvent`.
    fn cpp_close_event(event: HANDLE);
}

/// A new C++ object's IMAPISync pointer; the caller owns its one reference.
pub fn create() -> *mut c_void {
    // SAFETY: FFI: the function takes nothing and returns a new object.
    unsafe { cpp_sync_create() }
}

/// Closes a done event from the C++ object.
///
/// # Safety
/// `event` is a done event the C++ object handed over, not yet closed.
pub unsafe fn close_event(event: HANDLE) {
    // SAFETY: FFI: the caller vouches for the handle.
    unsafe { cpp_close_event(event) }
}

//! The provider whose build time scripts/compile-time.sh measures, written
//! with windows-core's `#[interface]` and `#[implement]`.

#![allow(non_snake_case)]

use core::ffi::c_void;
use windows_core::{HRESULT, IUnknown, IUnknown_Vtbl, implement, interface};

/// IMAPISync declared the windows-rs way.
#[interface("5024A385-2D44-486A-81A8-8F0ECB6071DD")]
pub unsafe trait IMAPISync: IUnknown {
    unsafe fn SynchronizeInBackground(&self, psibpb: *const c_void) -> HRESULT;
}

/// A store that reports one step and is done.
#[implement(IMAPISync)]
pub struct Store;

impl IMAPISync_Impl for Store_Impl {
    unsafe fn SynchronizeInBackground(&self, psibpb: *const c_void) -> HRESULT {
        let steps = 1; // compile-time.sh edits this line
        if psibpb.is_null() { HRESULT(steps) } else { HRESULT(0) }
    }
}

/// A new object (non-generic, so the glue is compiled here, not at a caller).
pub fn create() -> IMAPISync {
    Store.into()
}

//! The raw ABI: interface identifiers, `MAPISIB`, the vtables and the
//! interface types, exactly as the contract in `docs/contract.md` declares them.
//!
//! Nothing here has behaviour; every other layer builds on these types.

#![allow(non_snake_case, non_camel_case_types, non_upper_case_globals)]

use core::ffi::c_void;

use windows_core::{GUID, HRESULT, IUnknown_Vtbl, Interface};

pub use crate::engine::HANDLE;

/// `IID_IUnknown`, `{00000000-0000-0000-C000-000000000046}`.
pub const IID_IUnknown: GUID = GUID::from_u128(0x00000000_0000_0000_c000_000000000046);
/// `IID_IMAPISync`, `{5024A385-2D44-486A-81A8-8F0ECB6071DD}`.
pub const IID_IMAPISync: GUID = GUID::from_u128(0x5024a385_2d44_486a_81a8_8f0ecb6071dd);
/// `IID_IMAPISyncProgressCallback`, `{5024A386-2D44-486A-81A8-8F0ECB6071DD}`.
pub const IID_IMAPISyncProgressCallback: GUID = GUID::from_u128(0x5024a386_2d44_486a_81a8_8f0ecb6071dd);
/// `IID_IMAPIProviderShutdown`, `{00020398-0000-0000-C000-000000000046}`.
pub const IID_IMAPIProviderShutdown: GUID = GUID::from_u128(0x00020398_0000_0000_c000_000000000046);
/// `IID_IClassFactory`, `{00000001-0000-0000-C000-000000000046}`.
pub const IID_IClassFactory: GUID = GUID::from_u128(0x00000001_0000_0000_c000_000000000046);

/// The argument of `IMAPISync::SynchronizeInBackground`.
///
/// ```c
/// typedef struct _MAPISIB {
///     ULONG          ulSize;
///     ULONG          ulFlags;
///     IMAPISession  *psesSync;
///     IUnknown      *punkCallBack;
///     HANDLE        *phSyncDoneEvent;
/// } MAPISIB;
/// ```
/// 32 bytes on 64-bit targets, 20 bytes on 32-bit targets.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MAPISIB {
    /// Size of the structure in bytes, as the host filled it.
    pub ulSize: u32,
    /// `SYNC_*` bits; see [`crate::SyncFlags`].
    pub ulFlags: u32,
    /// `[in]` The host's `IMAPISession` (borrowed for the call).
    pub psesSync: *mut c_void,
    /// `[in]` An object to query for `IMAPISyncProgressCallback` (borrowed for the call).
    pub punkCallBack: *mut c_void,
    /// `[out]` Receives the event signalled when the sync ends.
    pub phSyncDoneEvent: *mut HANDLE,
}

impl MAPISIB {
    /// `size_of::<MAPISIB>()` as the `ulSize` a host of this platform writes.
    pub const SIZE: u32 = core::mem::size_of::<MAPISIB>() as u32;
}

// The layout the contract fixes, checked at compile time for both pointer widths.
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(core::mem::size_of::<MAPISIB>() == 32);
    assert!(core::mem::align_of::<MAPISIB>() == 8);
    assert!(core::mem::offset_of!(MAPISIB, ulSize) == 0);
    assert!(core::mem::offset_of!(MAPISIB, ulFlags) == 4);
    assert!(core::mem::offset_of!(MAPISIB, psesSync) == 8);
    assert!(core::mem::offset_of!(MAPISIB, punkCallBack) == 16);
    assert!(core::mem::offset_of!(MAPISIB, phSyncDoneEvent) == 24);
};
#[cfg(target_pointer_width = "32")]
const _: () = {
    assert!(core::mem::size_of::<MAPISIB>() == 20);
    assert!(core::mem::align_of::<MAPISIB>() == 4);
    assert!(core::mem::offset_of!(MAPISIB, ulSize) == 0);
    assert!(core::mem::offset_of!(MAPISIB, ulFlags) == 4);
    assert!(core::mem::offset_of!(MAPISIB, psesSync) == 8);
    assert!(core::mem::offset_of!(MAPISIB, punkCallBack) == 12);
    assert!(core::mem::offset_of!(MAPISIB, phSyncDoneEvent) == 16);
};

pub use interfaces::*;

/// The interfaces, declared with windows-core's public `#[interface]`
/// macro: each gives the interface type (`IMAPISync`), its vtable
/// (`IMAPISync_Vtbl`, whose fields this crate fills for its own objects) and
/// the `_Impl` trait windows-core's `#[implement]` needs, so a windows-rs
/// object can list `mapisync::IMAPISync` directly (see [`crate::forward`]).
/// The generated inner methods carry no docs of their own: each is
/// described on its interface type.
#[allow(missing_docs)]
mod interfaces {
    use super::{HANDLE, MAPISIB};
    // `#[interface]` names the parent's vtable unqualified.
    use windows_core::{HRESULT, IUnknown, IUnknown_Vtbl, interface};

    /// A counted `IMAPISync` interface pointer.
    ///
    /// Made from a provider with `.into()`, or from any COM object with
    /// `cast`. The host side calls slot 3,
    /// `unsafe fn SynchronizeInBackground(&self, psibpb: *const MAPISIB) -> HRESULT`:
    /// its caller vouches that `psibpb` is null or points to a `MAPISIB` valid
    /// for reads of its `ulSize` bytes, whose pointers are null or valid as
    /// the contract says.
    #[interface("5024A385-2D44-486A-81A8-8F0ECB6071DD")]
    pub unsafe trait IMAPISync: IUnknown {
        /// Slot 3: `HRESULT SynchronizeInBackground(MAPISIB *psibpb)`.
        pub fn SynchronizeInBackground(&self, psibpb: *const MAPISIB) -> HRESULT;
    }

    /// A counted `IMAPISyncProgressCallback` interface pointer: the host's
    /// progress, error and completion sink.
    ///
    /// Its methods are `unsafe`: `Progress(text, index, max)` and
    /// `Error(hr, text)` take a null or NUL-terminated UTF-16 `text`;
    /// `Done(event, hr)` takes the handle the sync wrote to
    /// `*phSyncDoneEvent`, or null.
    #[interface("5024A386-2D44-486A-81A8-8F0ECB6071DD")]
    pub unsafe trait IMAPISyncProgressCallback: IUnknown {
        /// Slot 3: `HRESULT Progress(const WCHAR *pwcszProgress, ULONG ulIndex, ULONG ulIndexMax)`.
        pub fn Progress(&self, pwcszProgress: *const u16, ulIndex: u32, ulIndexMax: u32) -> HRESULT;
        /// Slot 4: `HRESULT Error(HRESULT hResult, const WCHAR *pwcszErrorStr)`.
        pub fn Error(&self, hResult: HRESULT, pwcszErrorStr: *const u16) -> HRESULT;
        /// Slot 5: `HRESULT Done(HANDLE hThreadDoneEvent, HRESULT hResult)`.
        pub fn Done(&self, hThreadDoneEvent: HANDLE, hResult: HRESULT) -> HRESULT;
    }

    /// A counted `IMAPIProviderShutdown` interface pointer: MAPI's fast
    /// shutdown, which it asks a provider object for (a store provider's
    /// IMSProvider) before the process exits without `IMSProvider::Shutdown`.
    /// A windows-rs provider lists it in `#[implement]` and implements
    /// [`lifecycle::FastShutdown`](crate::lifecycle::FastShutdown).
    #[interface("00020398-0000-0000-C000-000000000046")]
    pub unsafe trait IMAPIProviderShutdown: IUnknown {
        /// Slot 3: `HRESULT QueryFastShutdown()`: S_OK if the provider supports fast shutdown.
        pub fn QueryFastShutdown(&self) -> HRESULT;
        /// Slot 4: `HRESULT NotifyProcessShutdown()`: the process is about to shut down.
        pub fn NotifyProcessShutdown(&self) -> HRESULT;
        /// Slot 5: `HRESULT DoFastShutdown()`: stop now; the process exits after the call.
        pub fn DoFastShutdown(&self) -> HRESULT;
    }
}

// PTR lives inside each assertion block: Rust 1.85 reports a module-level
// constant used only by `const _` blocks as dead code.
const _: () = {
    const PTR: usize = core::mem::size_of::<*const c_void>();
    assert!(core::mem::size_of::<IMAPISync_Vtbl>() == 4 * PTR);
    assert!(core::mem::offset_of!(IMAPISync_Vtbl, SynchronizeInBackground) == 3 * PTR);
    assert!(core::mem::size_of::<IMAPISyncProgressCallback_Vtbl>() == 6 * PTR);
    assert!(core::mem::offset_of!(IMAPISyncProgressCallback_Vtbl, Progress) == 3 * PTR);
    assert!(core::mem::offset_of!(IMAPISyncProgressCallback_Vtbl, Error) == 4 * PTR);
    assert!(core::mem::offset_of!(IMAPISyncProgressCallback_Vtbl, Done) == 5 * PTR);
    assert!(core::mem::size_of::<IMAPIProviderShutdown_Vtbl>() == 6 * PTR);
    assert!(core::mem::offset_of!(IMAPIProviderShutdown_Vtbl, QueryFastShutdown) == 3 * PTR);
    assert!(core::mem::offset_of!(IMAPIProviderShutdown_Vtbl, NotifyProcessShutdown) == 4 * PTR);
    assert!(core::mem::offset_of!(IMAPIProviderShutdown_Vtbl, DoFastShutdown) == 5 * PTR);
};

// The IIDs above and the ones `#[interface]` was given are the same.
const _: () = {
    assert!(<IMAPISync as Interface>::IID.to_u128() == IID_IMAPISync.to_u128());
    assert!(<IMAPISyncProgressCallback as Interface>::IID.to_u128() == IID_IMAPISyncProgressCallback.to_u128());
    assert!(<IMAPIProviderShutdown as Interface>::IID.to_u128() == IID_IMAPIProviderShutdown.to_u128());
};

/// The vtable of `IClassFactory`: IUnknown's three slots, then
/// `CreateInstance` and `LockServer`. The in-proc server's class factory
/// ([`crate::server`]) implements it.
#[repr(C)]
pub struct IClassFactory_Vtbl {
    /// Slots 0 to 2.
    pub base__: IUnknown_Vtbl,
    /// Slot 3: `HRESULT CreateInstance(IUnknown *pUnkOuter, REFIID riid, void **ppvObject)`.
    pub CreateInstance: unsafe extern "system" fn(
        this: *mut c_void,
        outer: *mut c_void,
        riid: *const GUID,
        ppv: *mut *mut c_void,
    ) -> HRESULT,
    /// Slot 4: `HRESULT LockServer(BOOL fLock)`.
    pub LockServer: unsafe extern "system" fn(this: *mut c_void, lock: i32) -> HRESULT,
}

const _: () = {
    const PTR: usize = core::mem::size_of::<*const c_void>();
    assert!(core::mem::size_of::<IClassFactory_Vtbl>() == 5 * PTR);
    assert!(core::mem::offset_of!(IClassFactory_Vtbl, CreateInstance) == 3 * PTR);
    assert!(core::mem::offset_of!(IClassFactory_Vtbl, LockServer) == 4 * PTR);
};

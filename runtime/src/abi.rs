//! The raw ABI: interface identifiers, `MAPISIB`, the vtables and the
//! interface types, exactly as the contract in `imapisync.md` declares them.
//!
//! Nothing here has behaviour; every other layer builds on these types.

#![allow(non_snake_case, non_camel_case_types, non_upper_case_globals)]

use core::ffi::c_void;
use core::fmt;
use core::ops::Deref;

use windows_core::{GUID, HRESULT, IUnknown, IUnknown_Vtbl, Interface};

/// A Win32 `HANDLE`: an opaque pointer-sized value.
///
/// On Windows the done event is a real Win32 event; elsewhere it is a
/// portable event that [`crate::event`] waits on and closes.
pub type HANDLE = *mut c_void;

/// `IID_IUnknown`, `{00000000-0000-0000-C000-000000000046}`.
pub const IID_IUnknown: GUID = GUID::from_u128(0x00000000_0000_0000_c000_000000000046);
/// `IID_IMAPISync`, `{5024A385-2D44-486A-81A8-8F0ECB6071DD}`.
pub const IID_IMAPISync: GUID = GUID::from_u128(0x5024a385_2d44_486a_81a8_8f0ecb6071dd);
/// `IID_IMAPISyncProgressCallback`, `{5024A386-2D44-486A-81A8-8F0ECB6071DD}`.
pub const IID_IMAPISyncProgressCallback: GUID = GUID::from_u128(0x5024a386_2d44_486a_81a8_8f0ecb6071dd);
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

/// The vtable of `IMAPISync`: IUnknown's three slots, then `SynchronizeInBackground`.
#[repr(C)]
pub struct IMAPISync_Vtbl {
    /// Slots 0 to 2.
    pub base__: IUnknown_Vtbl,
    /// Slot 3: `HRESULT SynchronizeInBackground(MAPISIB *psibpb)`.
    pub SynchronizeInBackground: unsafe extern "system" fn(this: *mut c_void, psibpb: *const MAPISIB) -> HRESULT,
}

/// The vtable of `IMAPISyncProgressCallback`, implemented by the host.
#[repr(C)]
pub struct IMAPISyncProgressCallback_Vtbl {
    /// Slots 0 to 2.
    pub base__: IUnknown_Vtbl,
    /// Slot 3: `HRESULT Progress(const WCHAR *pwcszProgress, ULONG ulIndex, ULONG ulIndexMax)`.
    pub Progress: unsafe extern "system" fn(
        this: *mut c_void,
        pwcszProgress: *const u16,
        ulIndex: u32,
        ulIndexMax: u32,
    ) -> HRESULT,
    /// Slot 4: `HRESULT Error(HRESULT hResult, const WCHAR *pwcszErrorStr)`.
    pub Error: unsafe extern "system" fn(this: *mut c_void, hResult: HRESULT, pwcszErrorStr: *const u16) -> HRESULT,
    /// Slot 5: `HRESULT Done(HANDLE hThreadDoneEvent, HRESULT hResult)`.
    pub Done: unsafe extern "system" fn(this: *mut c_void, hThreadDoneEvent: HANDLE, hResult: HRESULT) -> HRESULT,
}

const PTR: usize = core::mem::size_of::<*const c_void>();
const _: () = {
    assert!(core::mem::size_of::<IMAPISync_Vtbl>() == 4 * PTR);
    assert!(core::mem::offset_of!(IMAPISync_Vtbl, SynchronizeInBackground) == 3 * PTR);
    assert!(core::mem::size_of::<IMAPISyncProgressCallback_Vtbl>() == 6 * PTR);
    assert!(core::mem::offset_of!(IMAPISyncProgressCallback_Vtbl, Progress) == 3 * PTR);
    assert!(core::mem::offset_of!(IMAPISyncProgressCallback_Vtbl, Error) == 4 * PTR);
    assert!(core::mem::offset_of!(IMAPISyncProgressCallback_Vtbl, Done) == 5 * PTR);
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
    assert!(core::mem::size_of::<IClassFactory_Vtbl>() == 5 * PTR);
    assert!(core::mem::offset_of!(IClassFactory_Vtbl, CreateInstance) == 3 * PTR);
    assert!(core::mem::offset_of!(IClassFactory_Vtbl, LockServer) == 4 * PTR);
};

/// Declares a COM interface type the way the `windows` crate does, so values
/// pass between this crate and `windows`/`windows-core` without conversion.
macro_rules! com_interface {
    ($(#[$doc:meta])* $name:ident, $vtbl:ident, $iid:expr) => {
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(IUnknown);

        // SAFETY: `Interface`'s contract: the type is a single non-null COM
        // pointer (repr(transparent) over IUnknown) whose vtable is `$vtbl`,
        // which starts with IUnknown_Vtbl and matches the interface `$iid`.
        unsafe impl Interface for $name {
            type Vtable = $vtbl;
            const IID: GUID = $iid;
        }

        impl Deref for $name {
            type Target = IUnknown;
            fn deref(&self) -> &IUnknown {
                &self.0
            }
        }

        impl From<$name> for IUnknown {
            fn from(value: $name) -> IUnknown {
                value.0
            }
        }

        impl<'a> From<&'a $name> for &'a IUnknown {
            fn from(value: &'a $name) -> &'a IUnknown {
                &value.0
            }
        }

        // Lets a value be passed where windows-core expects `impl Param<IUnknown>`.
        impl windows_core::imp::CanInto<IUnknown> for $name {}

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.as_raw()).finish()
            }
        }
    };
}

com_interface!(
    /// A counted `IMAPISync` interface pointer.
    ///
    /// Made from a provider with `.into()`, or from any COM object with
    /// `cast`; the host side calls [`IMAPISync::SynchronizeInBackground`].
    IMAPISync,
    IMAPISync_Vtbl,
    IID_IMAPISync
);

com_interface!(
    /// A counted `IMAPISyncProgressCallback` interface pointer: the host's
    /// progress, error and completion sink.
    IMAPISyncProgressCallback,
    IMAPISyncProgressCallback_Vtbl,
    IID_IMAPISyncProgressCallback
);

impl IMAPISync {
    /// Calls slot 3, `SynchronizeInBackground`.
    ///
    /// # Safety
    /// `psibpb` is null or points to a `MAPISIB` valid for reads of its
    /// `ulSize` bytes, whose pointers are null or valid as the contract says.
    pub unsafe fn SynchronizeInBackground(&self, psibpb: *const MAPISIB) -> HRESULT {
        // SAFETY: COM: `self` holds a reference, so the object and its vtable
        // are alive; the caller vouches for `psibpb`.
        unsafe { (self.vtable().SynchronizeInBackground)(self.as_raw(), psibpb) }
    }
}

impl IMAPISyncProgressCallback {
    /// Calls slot 3, `Progress`.
    ///
    /// # Safety
    /// `text` is null or a NUL-terminated UTF-16 string.
    pub unsafe fn Progress(&self, text: *const u16, index: u32, max: u32) -> HRESULT {
        // SAFETY: COM: `self` holds a reference for the whole call; the caller vouches for `text`.
        unsafe { (self.vtable().Progress)(self.as_raw(), text, index, max) }
    }

    /// Calls slot 4, `Error`.
    ///
    /// # Safety
    /// `text` is null or a NUL-terminated UTF-16 string.
    pub unsafe fn Error(&self, hr: HRESULT, text: *const u16) -> HRESULT {
        // SAFETY: COM: `self` holds a reference for the whole call; the caller vouches for `text`.
        unsafe { (self.vtable().Error)(self.as_raw(), hr, text) }
    }

    /// Calls slot 5, `Done`.
    ///
    /// # Safety
    /// `event` is the handle this sync wrote to `*phSyncDoneEvent`, or null.
    pub unsafe fn Done(&self, event: HANDLE, hr: HRESULT) -> HRESULT {
        // SAFETY: COM: `self` holds a reference for the whole call; a HANDLE is passed by value.
        unsafe { (self.vtable().Done)(self.as_raw(), event, hr) }
    }
}

//! The MAPI service-provider interface this example needs, declared from
//! Microsoft's MAPI reference (the pages of IMSProvider, IMSLogon,
//! IMsgStore, IMAPIProp, IMAPISupport and MSProviderInit): interface
//! identifiers, vtables in documented slot order, the entry point's type
//! and the few constants the flow uses. Nothing here has behaviour.
//!
//! The C++ host in `tests/cpp/mapi_host/mapi_host.cpp` is compiled against
//! mingw-w64's `mapispi.h` / `mapidefs.h` and calls these vtables through
//! Microsoft's declarations: a slot out of place fails it.

#![allow(non_snake_case, non_camel_case_types, non_upper_case_globals)]

use core::ffi::{c_char, c_void};
use core::mem::{offset_of, size_of};

use windows_core::{GUID, HRESULT, IUnknown_Vtbl};

/// An OLE GUID `{XXXXXXXX-0000-0000-C000-000000000046}`, the shape of every MAPI IID.
const fn ole_guid(data1: u32) -> GUID {
    GUID::from_values(data1, 0, 0, [0xC0, 0, 0, 0, 0, 0, 0, 0x46])
}

/// `IID_IMAPISession`, `{00020300-0000-0000-C000-000000000046}`.
pub const IID_IMAPISession: GUID = ole_guid(0x0002_0300);
/// `IID_IMAPIProp`, `{00020303-0000-0000-C000-000000000046}`.
pub const IID_IMAPIProp: GUID = ole_guid(0x0002_0303);
/// `IID_IMsgStore`, `{00020306-0000-0000-C000-000000000046}`.
pub const IID_IMsgStore: GUID = ole_guid(0x0002_0306);
/// `IID_IMAPISup` (IMAPISupport), `{0002030F-0000-0000-C000-000000000046}`.
pub const IID_IMAPISup: GUID = ole_guid(0x0002_030F);
/// `IID_IMSProvider`, `{00020310-0000-0000-C000-000000000046}`.
pub const IID_IMSProvider: GUID = ole_guid(0x0002_0310);
/// `IID_IMSLogon`, `{00020313-0000-0000-C000-000000000046}`.
pub const IID_IMSLogon: GUID = ole_guid(0x0002_0313);

/// The SPI version this provider is built for, answered in `*lpulProviderVer`.
pub const CURRENT_SPI_VERSION: u32 = 0x0001_0010;
/// `MAPI_E_VERSION`: MAPI's SPI version is older than the provider's.
pub const MAPI_E_VERSION: HRESULT = HRESULT(0x8004_0110_u32 as i32);
/// `MAPI_UNICODE`: string parameters are UTF-16 rather than ANSI.
pub const MAPI_UNICODE: u32 = 0x8000_0000;

/// `MAPIUID`: 16 bytes that identify a provider's objects (entry IDs).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MAPIUID {
    /// The bytes.
    pub ab: [u8; 16],
}

/// `ENTRYID`: four flag bytes followed by the provider's own bytes
/// (`ab[1]` in C: a variable-length tail).
#[repr(C)]
pub struct ENTRYID {
    /// Flags (`MAPI_SHORTTERM`, ...).
    pub abFlags: [u8; 4],
    /// The first byte of the provider-defined part.
    pub ab: [u8; 1],
}

/// A pointer parameter this example never reads (a MAPI type it has no
/// use for: tables, notifications, property arrays, errors...).
pub type Opaque = *mut c_void;
/// A vtable slot of an interface the provider calls but whose method it
/// never uses: present so the slots after it are at the right offsets
/// (a function pointer, or NULL in a test's vtable).
pub type Unused = Option<unsafe extern "system" fn()>;
/// `LPCIID`: a pointer to an interface identifier, may be NULL.
pub type LPCIID = *const GUID;

/// `LPALLOCATEBUFFER`: MAPIAllocateBuffer as MAPI hands it to the provider.
pub type AllocateBuffer = unsafe extern "system" fn(cbSize: u32, lppBuffer: *mut *mut c_void) -> HRESULT;
/// `LPALLOCATEMORE`: MAPIAllocateMore.
pub type AllocateMore =
    unsafe extern "system" fn(cbSize: u32, lpObject: *mut c_void, lppBuffer: *mut *mut c_void) -> HRESULT;
/// `LPFREEBUFFER`: MAPIFreeBuffer.
pub type FreeBuffer = unsafe extern "system" fn(lpBuffer: *mut c_void) -> u32;

/// `MSPROVIDERINIT`: the store provider's entry point. Its calling
/// convention is the C one (`STDMAPIINITCALLTYPE` is `__cdecl`), not
/// COM's: on x86 the two differ (the caller pops the arguments).
pub type MSProviderInitFn = unsafe extern "C" fn(
    hInstance: *mut c_void,
    lpMalloc: *mut c_void,
    lpAllocateBuffer: Option<AllocateBuffer>,
    lpAllocateMore: Option<AllocateMore>,
    lpFreeBuffer: Option<FreeBuffer>,
    ulFlags: u32,
    ulMAPIVer: u32,
    lpulProviderVer: *mut u32,
    lppMSProvider: *mut *mut c_void,
) -> HRESULT;

/// The rundll32 entry shape (`void CALLBACK f(HWND, HINSTANCE, LPSTR, int)`)
/// of `MergeWithMAPISVC` and `RemoveFromMAPISVC`.
pub type Rundll32Fn =
    unsafe extern "system" fn(hwnd: *mut c_void, hinst: *mut c_void, cmdline: *const c_char, show: i32);

/// The logon parameters `IMSProvider::Logon` and `SpoolerLogon` share, in order.
/// (`ulUIParam` is a `ULONG_PTR` in the reference.)
pub type LogonFn = unsafe extern "system" fn(
    this: *mut c_void,
    lpMAPISup: *mut c_void,
    ulUIParam: usize,
    lpszProfileName: *const c_char,
    cbEntryID: u32,
    lpEntryID: *const ENTRYID,
    ulFlags: u32,
    lpInterface: LPCIID,
    lpcbSpoolSecurity: *mut u32,
    lppbSpoolSecurity: *mut *mut u8,
    lppMAPIError: *mut Opaque,
    lppMSLogon: *mut *mut c_void,
    lppMDB: *mut *mut c_void,
) -> HRESULT;

/// `SpoolerLogon`: as Logon, but the spool security is an input.
pub type SpoolerLogonFn = unsafe extern "system" fn(
    this: *mut c_void,
    lpMAPISup: *mut c_void,
    ulUIParam: usize,
    lpszProfileName: *const c_char,
    cbEntryID: u32,
    lpEntryID: *const ENTRYID,
    ulFlags: u32,
    lpInterface: LPCIID,
    cbSpoolSecurity: u32,
    lpbSpoolSecurity: *const u8,
    lppMAPIError: *mut Opaque,
    lppMSLogon: *mut *mut c_void,
    lppMDB: *mut *mut c_void,
) -> HRESULT;

/// `CompareStoreIDs` / `CompareEntryIDs`: two entry IDs, flags, a BOOL result.
pub type CompareFn = unsafe extern "system" fn(
    this: *mut c_void,
    cbEntryID1: u32,
    lpEntryID1: *const ENTRYID,
    cbEntryID2: u32,
    lpEntryID2: *const ENTRYID,
    ulFlags: u32,
    lpulResult: *mut u32,
) -> HRESULT;

/// `GetLastError(HRESULT, ULONG, LPMAPIERROR*)`, shared by IMAPIProp and IMSLogon.
pub type GetLastErrorFn =
    unsafe extern "system" fn(this: *mut c_void, hResult: HRESULT, ulFlags: u32, lppMAPIError: *mut Opaque) -> HRESULT;
/// `OpenEntry(cbEntryID, lpEntryID, lpInterface, ulFlags, lpulObjType, lppUnk)`.
pub type OpenEntryFn = unsafe extern "system" fn(
    this: *mut c_void,
    cbEntryID: u32,
    lpEntryID: *const ENTRYID,
    lpInterface: LPCIID,
    ulFlags: u32,
    lpulObjType: *mut u32,
    lppUnk: *mut *mut c_void,
) -> HRESULT;
/// `Advise(cbEntryID, lpEntryID, ulEventMask, lpAdviseSink, lpulConnection)`.
/// The connection is a `ULONG_PTR` in the Outlook 2010 and later reference
/// (older headers, mingw-w64's among them, still say `ULONG`).
pub type AdviseFn = unsafe extern "system" fn(
    this: *mut c_void,
    cbEntryID: u32,
    lpEntryID: *const ENTRYID,
    ulEventMask: u32,
    lpAdviseSink: Opaque,
    lpulConnection: *mut usize,
) -> HRESULT;
/// `Unadvise(ULONG_PTR ulConnection)`.
pub type UnadviseFn = unsafe extern "system" fn(this: *mut c_void, ulConnection: usize) -> HRESULT;
/// A method whose one parameter is `ULONG *lpulFlags` (Shutdown, Logoff, StoreLogoff).
pub type FlagsFn = unsafe extern "system" fn(this: *mut c_void, lpulFlags: *mut u32) -> HRESULT;

/// `IMSProvider : IUnknown`.
#[repr(C)]
pub struct IMSProvider_Vtbl {
    /// QueryInterface, AddRef, Release.
    pub base__: IUnknown_Vtbl,
    /// `Shutdown(ULONG *lpulFlags)`.
    pub Shutdown: FlagsFn,
    /// `Logon(...)`, see [`LogonFn`].
    pub Logon: LogonFn,
    /// `SpoolerLogon(...)`, see [`SpoolerLogonFn`].
    pub SpoolerLogon: SpoolerLogonFn,
    /// `CompareStoreIDs(...)`, see [`CompareFn`].
    pub CompareStoreIDs: CompareFn,
}

/// `IMSLogon : IUnknown`.
#[repr(C)]
pub struct IMSLogon_Vtbl {
    /// QueryInterface, AddRef, Release.
    pub base__: IUnknown_Vtbl,
    /// `GetLastError(hResult, ulFlags, lppMAPIError)`.
    pub GetLastError: GetLastErrorFn,
    /// `Logoff(ULONG *lpulFlags)`.
    pub Logoff: FlagsFn,
    /// `OpenEntry(...)`.
    pub OpenEntry: OpenEntryFn,
    /// `CompareEntryIDs(...)`.
    pub CompareEntryIDs: CompareFn,
    /// `Advise(...)`.
    pub Advise: AdviseFn,
    /// `Unadvise(ulConnection)`.
    pub Unadvise: UnadviseFn,
    /// `OpenStatusEntry(lpInterface, ulFlags, lpulObjType, lppEntry)`.
    pub OpenStatusEntry: unsafe extern "system" fn(
        this: *mut c_void,
        LPCIID,
        u32,
        lpulObjType: *mut u32,
        lppEntry: *mut Opaque,
    ) -> HRESULT,
}

/// `IMAPIProp : IUnknown`: the property interface every MAPI object has.
#[repr(C)]
pub struct IMAPIProp_Vtbl {
    /// QueryInterface, AddRef, Release.
    pub base__: IUnknown_Vtbl,
    /// `GetLastError(hResult, ulFlags, lppMAPIError)`.
    pub GetLastError: GetLastErrorFn,
    /// `SaveChanges(ulFlags)`.
    pub SaveChanges: unsafe extern "system" fn(this: *mut c_void, u32) -> HRESULT,
    /// `GetProps(lpPropTagArray, ulFlags, lpcValues, lppPropArray)`.
    pub GetProps: unsafe extern "system" fn(this: *mut c_void, Opaque, u32, *mut u32, *mut Opaque) -> HRESULT,
    /// `GetPropList(ulFlags, lppPropTagArray)`.
    pub GetPropList: unsafe extern "system" fn(this: *mut c_void, u32, *mut Opaque) -> HRESULT,
    /// `OpenProperty(ulPropTag, lpiid, ulInterfaceOptions, ulFlags, lppUnk)`.
    pub OpenProperty: unsafe extern "system" fn(this: *mut c_void, u32, LPCIID, u32, u32, *mut *mut c_void) -> HRESULT,
    /// `SetProps(cValues, lpPropArray, lppProblems)`.
    pub SetProps: unsafe extern "system" fn(this: *mut c_void, u32, Opaque, *mut Opaque) -> HRESULT,
    /// `DeleteProps(lpPropTagArray, lppProblems)`.
    pub DeleteProps: unsafe extern "system" fn(this: *mut c_void, Opaque, *mut Opaque) -> HRESULT,
    /// `CopyTo(ciidExclude, rgiidExclude, lpExcludeProps, ulUIParam, lpProgress, lpInterface, lpDestObj, ulFlags, lppProblems)`.
    pub CopyTo: unsafe extern "system" fn(
        this: *mut c_void,
        u32,
        LPCIID,
        Opaque,
        usize,
        Opaque,
        LPCIID,
        Opaque,
        u32,
        *mut Opaque,
    ) -> HRESULT,
    /// `CopyProps(lpIncludeProps, ulUIParam, lpProgress, lpInterface, lpDestObj, ulFlags, lppProblems)`.
    pub CopyProps: unsafe extern "system" fn(
        this: *mut c_void,
        Opaque,
        usize,
        Opaque,
        LPCIID,
        Opaque,
        u32,
        *mut Opaque,
    ) -> HRESULT,
    /// `GetNamesFromIDs(lppPropTags, lpPropSetGuid, ulFlags, lpcPropNames, lpppPropNames)`.
    pub GetNamesFromIDs:
        unsafe extern "system" fn(this: *mut c_void, *mut Opaque, *mut GUID, u32, *mut u32, *mut Opaque) -> HRESULT,
    /// `GetIDsFromNames(cPropNames, lppPropNames, ulFlags, lppPropTags)`.
    pub GetIDsFromNames: unsafe extern "system" fn(this: *mut c_void, u32, Opaque, u32, *mut Opaque) -> HRESULT,
}

/// `IMsgStore : IMAPIProp`.
#[repr(C)]
pub struct IMsgStore_Vtbl {
    /// IUnknown and IMAPIProp.
    pub base__: IMAPIProp_Vtbl,
    /// `Advise(...)`.
    pub Advise: AdviseFn,
    /// `Unadvise(ulConnection)`.
    pub Unadvise: UnadviseFn,
    /// `CompareEntryIDs(...)`.
    pub CompareEntryIDs: CompareFn,
    /// `OpenEntry(...)`.
    pub OpenEntry: OpenEntryFn,
    /// `SetReceiveFolder(lpszMessageClass, ulFlags, cbEntryID, lpEntryID)`.
    pub SetReceiveFolder:
        unsafe extern "system" fn(this: *mut c_void, *const c_char, u32, u32, *const ENTRYID) -> HRESULT,
    /// `GetReceiveFolder(lpszMessageClass, ulFlags, lpcbEntryID, lppEntryID, lppszExplicitClass)`.
    pub GetReceiveFolder: unsafe extern "system" fn(
        this: *mut c_void,
        *const c_char,
        u32,
        *mut u32,
        *mut *mut ENTRYID,
        *mut *mut c_char,
    ) -> HRESULT,
    /// `GetReceiveFolderTable(ulFlags, lppTable)`.
    pub GetReceiveFolderTable: unsafe extern "system" fn(this: *mut c_void, u32, *mut Opaque) -> HRESULT,
    /// `StoreLogoff(ULONG *lpulFlags)`.
    pub StoreLogoff: FlagsFn,
    /// `AbortSubmit(cbEntryID, lpEntryID, ulFlags)`.
    pub AbortSubmit: unsafe extern "system" fn(this: *mut c_void, u32, *const ENTRYID, u32) -> HRESULT,
    /// `GetOutgoingQueue(ulFlags, lppTable)`.
    pub GetOutgoingQueue: unsafe extern "system" fn(this: *mut c_void, u32, *mut Opaque) -> HRESULT,
    /// `SetLockState(lpMessage, ulLockState)`.
    pub SetLockState: unsafe extern "system" fn(this: *mut c_void, Opaque, u32) -> HRESULT,
    /// `FinishedMsg(ulFlags, cbEntryID, lpEntryID)`.
    pub FinishedMsg: unsafe extern "system" fn(this: *mut c_void, u32, u32, *const ENTRYID) -> HRESULT,
    /// `NotifyNewMail(lpNotification)`.
    pub NotifyNewMail: unsafe extern "system" fn(this: *mut c_void, Opaque) -> HRESULT,
}

/// `IMAPISupport : IUnknown`, implemented by MAPI (or a host) and handed to
/// `Logon`. The seven methods a provider may rely on have their
/// signatures; the provider never calls the others ([`Unused`]).
#[repr(C)]
pub struct IMAPISupport_Vtbl {
    /// QueryInterface, AddRef, Release.
    pub base__: IUnknown_Vtbl,
    /// GetLastError.
    pub GetLastError: Unused,
    /// `GetMemAllocRoutines(lppAllocateBuffer, lppAllocateMore, lppFreeBuffer)`.
    pub GetMemAllocRoutines: unsafe extern "system" fn(
        this: *mut c_void,
        *mut Option<AllocateBuffer>,
        *mut Option<AllocateMore>,
        *mut Option<FreeBuffer>,
    ) -> HRESULT,
    /// Subscribe.
    pub Subscribe: Unused,
    /// Unsubscribe.
    pub Unsubscribe: Unused,
    /// Notify.
    pub Notify: Unused,
    /// `ModifyStatusRow(cValues, lpColumnVals, ulFlags)`.
    pub ModifyStatusRow: unsafe extern "system" fn(this: *mut c_void, u32, Opaque, u32) -> HRESULT,
    /// OpenProfileSection.
    pub OpenProfileSection: Unused,
    /// RegisterPreprocessor.
    pub RegisterPreprocessor: Unused,
    /// `NewUID(lpMuid)`.
    pub NewUID: unsafe extern "system" fn(this: *mut c_void, *mut MAPIUID) -> HRESULT,
    /// `MakeInvalid(ulFlags, lpObject, ulRefCount, cMethods)`.
    pub MakeInvalid: unsafe extern "system" fn(this: *mut c_void, u32, *mut c_void, u32, u32) -> HRESULT,
    /// SpoolerYield.
    pub SpoolerYield: Unused,
    /// `SpoolerNotify(ulFlags, lpvData)`.
    pub SpoolerNotify: unsafe extern "system" fn(this: *mut c_void, u32, *mut c_void) -> HRESULT,
    /// CreateOneOff.
    pub CreateOneOff: Unused,
    /// `SetProviderUID(lpProviderID, ulFlags)`.
    pub SetProviderUID: unsafe extern "system" fn(this: *mut c_void, *const MAPIUID, u32) -> HRESULT,
    /// CompareEntryIDs, OpenTemplateID, OpenEntry, GetOneOffTable, Address,
    /// Details, NewEntry, DoConfigPropsheet, CopyMessages, CopyFolder,
    /// DoCopyTo, DoCopyProps, DoProgressDialog, ReadReceipt, PrepareSubmit,
    /// ExpandRecips, UpdatePAB, DoSentMail, OpenAddressBook, Preprocess,
    /// CompleteMsg, StoreLogoffTransports, StatusRecips, in that order.
    pub unused_14_to_36: [Unused; 23],
    /// `WrapStoreEntryID(cbOrigEntry, lpOrigEntry, lpcbWrappedEntry, lppWrappedEntry)`.
    pub WrapStoreEntryID:
        unsafe extern "system" fn(this: *mut c_void, u32, *const ENTRYID, *mut u32, *mut *mut ENTRYID) -> HRESULT,
    /// ModifyProfile.
    pub ModifyProfile: Unused,
    /// IStorageFromStream.
    pub IStorageFromStream: Unused,
    /// GetSvcConfigSupportObj.
    pub GetSvcConfigSupportObj: Unused,
}

const PTR: usize = size_of::<*const c_void>();
/// Slot positions, counted from the vtable's start (IUnknown is slots 0-2),
/// on 32- and 64-bit targets alike.
const _: () = {
    assert!(size_of::<MAPIUID>() == 16);
    assert!(size_of::<ENTRYID>() == 5);
    assert!(size_of::<IMSProvider_Vtbl>() == 7 * PTR);
    assert!(offset_of!(IMSProvider_Vtbl, Shutdown) == 3 * PTR);
    assert!(offset_of!(IMSProvider_Vtbl, CompareStoreIDs) == 6 * PTR);
    assert!(size_of::<IMSLogon_Vtbl>() == 10 * PTR);
    assert!(offset_of!(IMSLogon_Vtbl, Logoff) == 4 * PTR);
    assert!(offset_of!(IMSLogon_Vtbl, OpenStatusEntry) == 9 * PTR);
    assert!(size_of::<IMAPIProp_Vtbl>() == 14 * PTR);
    assert!(offset_of!(IMAPIProp_Vtbl, GetIDsFromNames) == 13 * PTR);
    assert!(size_of::<IMsgStore_Vtbl>() == 27 * PTR);
    assert!(offset_of!(IMsgStore_Vtbl, Advise) == 14 * PTR);
    assert!(offset_of!(IMsgStore_Vtbl, StoreLogoff) == 21 * PTR);
    assert!(offset_of!(IMsgStore_Vtbl, NotifyNewMail) == 26 * PTR);
    assert!(size_of::<IMAPISupport_Vtbl>() == 44 * PTR);
    assert!(offset_of!(IMAPISupport_Vtbl, GetMemAllocRoutines) == 4 * PTR);
    assert!(offset_of!(IMAPISupport_Vtbl, ModifyStatusRow) == 8 * PTR);
    assert!(offset_of!(IMAPISupport_Vtbl, NewUID) == 11 * PTR);
    assert!(offset_of!(IMAPISupport_Vtbl, MakeInvalid) == 12 * PTR);
    assert!(offset_of!(IMAPISupport_Vtbl, SpoolerNotify) == 14 * PTR);
    assert!(offset_of!(IMAPISupport_Vtbl, SetProviderUID) == 16 * PTR);
    assert!(offset_of!(IMAPISupport_Vtbl, WrapStoreEntryID) == 40 * PTR);
};

//! The IMAPISupport object of the MAPI-flow tests: a windows-rs object on
//! Microsoft's bindings. Only SetProviderUID works; every other method
//! records its name and answers MAPI_E_NO_SUPPORT, so a test can check
//! that the provider called nothing else.
//!
//! `#[implement(IMAPISupport)]` answers QueryInterface for the bindings'
//! IID of IMAPISupport, which is all zeros (see the example's `spi`), not
//! MAPI's IID_IMAPISup; the provider never asks.

use core::ffi::c_void;
use std::sync::Mutex;

use outlook_mapi_sys::Microsoft::Office::Outlook::MAPI::Win32::*;
use windows::Win32::System::AddressBook::LPFNBUTTON;
use windows::Win32::System::Com::StructuredStorage::IStorage;
use windows_core::{GUID, HRESULT, IUnknown, OutRef, PCSTR, Ref, implement};

/// This test's IMAPISupport: it records SetProviderUID's UIDs, and the name
/// of every other method the provider calls (each MAPI_E_NO_SUPPORT).
#[implement(IMAPISupport)]
#[derive(Default)]
pub struct Support {
    pub provider_uids: Mutex<Vec<[u8; 16]>>,
    pub unexpected: Mutex<Vec<&'static str>>,
}

impl Support_Impl {
    fn no<T>(&self, name: &'static str) -> windows_core::Result<T> {
        self.unexpected.lock().unwrap().push(name);
        Err(MAPI_E_NO_SUPPORT.into())
    }
}

/// The methods the provider must not call, one a row: `Name(its parameter
/// types) -> its Ok type` (none for `()`). Each records its name and
/// answers MAPI_E_NO_SUPPORT through [`Support_Impl::no`].
macro_rules! unexpected {
    (@ok) => { () };
    (@ok $ok:ty) => { $ok };
    ($($name:ident($($param:ty),* $(,)?) $(-> $ok:ty)?;)*) => {
        $(fn $name(&self, $(_: $param),*) -> windows_core::Result<unexpected!(@ok $($ok)?)> {
            self.no(stringify!($name))
        })*
    };
}

impl IMAPISupport_Impl for Support_Impl {
    fn SetProviderUID(&self, lpproviderid: *mut MAPIUID, _ulflags: u32) -> windows_core::Result<()> {
        // SAFETY: MAPI: the provider passes a readable MAPIUID for the call.
        self.provider_uids.lock().unwrap().push(unsafe { (*lpproviderid).ab });
        Ok(())
    }

    unexpected! {
        GetLastError(HRESULT, u32, *mut *mut MAPIERROR);
        GetMemAllocRoutines(*mut LPALLOCATEBUFFER, *mut LPALLOCATEMORE, *mut LPFREEBUFFER);
        Subscribe(*mut NOTIFKEY, u32, u32, Ref<IMAPIAdviseSink>, *mut usize);
        Unsubscribe(usize);
        Notify(*mut NOTIFKEY, u32, *mut NOTIFICATION, *mut u32);
        ModifyStatusRow(u32, *mut SPropValue, u32);
        OpenProfileSection(*mut MAPIUID, u32, OutRef<IProfSect>);
        RegisterPreprocessor(*mut MAPIUID, *mut i8, *mut i8, &PCSTR, &PCSTR, u32);
        NewUID(*mut MAPIUID);
        MakeInvalid(u32, *mut c_void, u32, u32);
        SpoolerYield(u32);
        SpoolerNotify(u32, *mut c_void);
        CreateOneOff(*mut i8, *mut i8, *mut i8, u32, *mut u32, *mut *mut ENTRYID);
        CompareEntryIDs(u32, *mut ENTRYID, u32, *mut ENTRYID, u32, *mut u32);
        OpenTemplateID(u32, *mut ENTRYID, u32, Ref<IMAPIProp>, *mut GUID, OutRef<IMAPIProp>, Ref<IMAPIProp>);
        OpenEntry(u32, *mut ENTRYID, *mut GUID, u32, *mut u32, OutRef<IUnknown>);
        GetOneOffTable(u32) -> IMAPITable;
        Address(*mut usize, *mut ADRPARM, *mut *mut ADRLIST);
        Details(*mut usize, LPFNDISMISS, *mut c_void, u32, *mut ENTRYID, LPFNBUTTON, *mut c_void, *mut i8, u32);
        NewEntry(usize, u32, u32, *mut ENTRYID, u32, *mut ENTRYID, *mut u32, *mut *mut ENTRYID);
        DoConfigPropsheet(usize, u32, *mut i8, Ref<IMAPITable>, Ref<IMAPIProp>, u32);
        CopyMessages(*mut GUID, *mut c_void, *mut SBinaryArray, *mut GUID, *mut c_void, usize, Ref<IMAPIProgress>, u32);
        CopyFolder(
            *mut GUID, *mut c_void, u32, *mut ENTRYID, *mut GUID, *mut c_void, *mut i8, usize, Ref<IMAPIProgress>, u32,
        );
        DoCopyTo(
            *mut GUID, *mut c_void, u32, *mut GUID, *mut SPropTagArray, usize, Ref<IMAPIProgress>, *mut GUID,
            *mut c_void, u32, *mut *mut SPropProblemArray,
        );
        DoCopyProps(
            *mut GUID, *mut c_void, *mut SPropTagArray, usize, Ref<IMAPIProgress>, *mut GUID, *mut c_void, u32,
            *mut *mut SPropProblemArray,
        );
        DoProgressDialog(usize, u32) -> IMAPIProgress;
        ReadReceipt(u32, Ref<IMessage>) -> IMessage;
        PrepareSubmit(Ref<IMessage>, *mut u32);
        ExpandRecips(Ref<IMessage>, *mut u32);
        UpdatePAB(u32, Ref<IMessage>);
        DoSentMail(u32, Ref<IMessage>);
        OpenAddressBook(*mut GUID, u32, OutRef<IAddrBook>);
        Preprocess(u32, u32, *mut ENTRYID);
        CompleteMsg(u32, u32, *mut ENTRYID);
        StoreLogoffTransports(*mut u32);
        StatusRecips(Ref<IMessage>, *mut ADRLIST);
        WrapStoreEntryID(u32, *mut ENTRYID, *mut u32, *mut *mut ENTRYID);
        ModifyProfile(u32);
        IStorageFromStream(Ref<IUnknown>, *mut GUID, u32, OutRef<IStorage>);
        GetSvcConfigSupportObj(u32) -> IMAPISupport;
    }
}

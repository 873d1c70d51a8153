//! The IMAPISupport object of the MAPI-flow tests: a windows-rs object on
//! Microsoft's bindings. Only SetProviderUID works; every other method
//! records its name and answers MAPI_E_NO_SUPPORT, so a test can check
//! that the provider called nothing else.
//!
//! `#[implement(IMAPISupport)]` answers QueryInterface for the bindings'
//! IID of IMAPISupport, which is all zeros (see the example's `spi`), not
//! MAPI's IID_IMAPISup; the provider never asks.

use std::sync::Mutex;

use outlook_mapi_sys::Microsoft::Office::Outlook::MAPI::Win32::*;
use windows_core::implement;

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

#[allow(unused_variables, clippy::too_many_arguments)]
impl IMAPISupport_Impl for Support_Impl {
    fn GetLastError(
        &self,
        hresult: windows_core::HRESULT,
        ulflags: u32,
        lppmapierror: *mut *mut MAPIERROR,
    ) -> windows_core::Result<()> {
        self.no("GetLastError")
    }
    fn GetMemAllocRoutines(
        &self,
        lpallocatebuffer: *mut LPALLOCATEBUFFER,
        lpallocatemore: *mut LPALLOCATEMORE,
        lpfreebuffer: *mut LPFREEBUFFER,
    ) -> windows_core::Result<()> {
        self.no("GetMemAllocRoutines")
    }
    fn Subscribe(
        &self,
        lpkey: *mut NOTIFKEY,
        uleventmask: u32,
        ulflags: u32,
        lpadvisesink: windows_core::Ref<IMAPIAdviseSink>,
        lpulconnection: *mut usize,
    ) -> windows_core::Result<()> {
        self.no("Subscribe")
    }
    fn Unsubscribe(&self, ulconnection: usize) -> windows_core::Result<()> {
        self.no("Unsubscribe")
    }
    fn Notify(
        &self,
        lpkey: *mut NOTIFKEY,
        cnotification: u32,
        lpnotifications: *mut NOTIFICATION,
        lpulflags: *mut u32,
    ) -> windows_core::Result<()> {
        self.no("Notify")
    }
    fn ModifyStatusRow(&self, cvalues: u32, lpcolumnvals: *mut SPropValue, ulflags: u32) -> windows_core::Result<()> {
        self.no("ModifyStatusRow")
    }
    fn OpenProfileSection(
        &self,
        lpuid: *mut MAPIUID,
        ulflags: u32,
        lppprofileobj: windows_core::OutRef<IProfSect>,
    ) -> windows_core::Result<()> {
        self.no("OpenProfileSection")
    }
    fn RegisterPreprocessor(
        &self,
        lpmuid: *mut MAPIUID,
        lpszadrtype: *mut i8,
        lpszdllname: *mut i8,
        lpszpreprocess: &windows_core::PCSTR,
        lpszremovepreprocessinfo: &windows_core::PCSTR,
        ulflags: u32,
    ) -> windows_core::Result<()> {
        self.no("RegisterPreprocessor")
    }
    fn NewUID(&self, lpmuid: *mut MAPIUID) -> windows_core::Result<()> {
        self.no("NewUID")
    }
    fn MakeInvalid(
        &self,
        ulflags: u32,
        lpobject: *mut core::ffi::c_void,
        ulrefcount: u32,
        cmethods: u32,
    ) -> windows_core::Result<()> {
        self.no("MakeInvalid")
    }
    fn SpoolerYield(&self, ulflags: u32) -> windows_core::Result<()> {
        self.no("SpoolerYield")
    }
    fn SpoolerNotify(&self, ulflags: u32, lpvdata: *mut core::ffi::c_void) -> windows_core::Result<()> {
        self.no("SpoolerNotify")
    }
    fn CreateOneOff(
        &self,
        lpszname: *mut i8,
        lpszadrtype: *mut i8,
        lpszaddress: *mut i8,
        ulflags: u32,
        lpcbentryid: *mut u32,
        lppentryid: *mut *mut ENTRYID,
    ) -> windows_core::Result<()> {
        self.no("CreateOneOff")
    }
    fn SetProviderUID(&self, lpproviderid: *mut MAPIUID, _ulflags: u32) -> windows_core::Result<()> {
        // SAFETY: MAPI: the provider passes a readable MAPIUID for the call.
        self.provider_uids.lock().unwrap().push(unsafe { (*lpproviderid).ab });
        Ok(())
    }
    fn CompareEntryIDs(
        &self,
        cbentry1: u32,
        lpentry1: *mut ENTRYID,
        cbentry2: u32,
        lpentry2: *mut ENTRYID,
        ulcompareflags: u32,
        lpulresult: *mut u32,
    ) -> windows_core::Result<()> {
        self.no("CompareEntryIDs")
    }
    fn OpenTemplateID(
        &self,
        cbtemplateid: u32,
        lptemplateid: *mut ENTRYID,
        ultemplateflags: u32,
        lpmapipropdata: windows_core::Ref<IMAPIProp>,
        lpinterface: *mut windows_core::GUID,
        lppmapipropnew: windows_core::OutRef<IMAPIProp>,
        lpmapipropsibling: windows_core::Ref<IMAPIProp>,
    ) -> windows_core::Result<()> {
        self.no("OpenTemplateID")
    }
    fn OpenEntry(
        &self,
        cbentryid: u32,
        lpentryid: *mut ENTRYID,
        lpinterface: *mut windows_core::GUID,
        ulopenflags: u32,
        lpulobjtype: *mut u32,
        lppunk: windows_core::OutRef<windows_core::IUnknown>,
    ) -> windows_core::Result<()> {
        self.no("OpenEntry")
    }
    fn GetOneOffTable(&self, ulflags: u32) -> windows_core::Result<IMAPITable> {
        self.no("GetOneOffTable")
    }
    fn Address(
        &self,
        lpuluiparam: *mut usize,
        lpadrparms: *mut ADRPARM,
        lppadrlist: *mut *mut ADRLIST,
    ) -> windows_core::Result<()> {
        self.no("Address")
    }
    fn Details(
        &self,
        lpuluiparam: *mut usize,
        lpfndismiss: LPFNDISMISS,
        lpvdismisscontext: *mut core::ffi::c_void,
        cbentryid: u32,
        lpentryid: *mut ENTRYID,
        lpfbuttoncallback: windows::Win32::System::AddressBook::LPFNBUTTON,
        lpvbuttoncontext: *mut core::ffi::c_void,
        lpszbuttontext: *mut i8,
        ulflags: u32,
    ) -> windows_core::Result<()> {
        self.no("Details")
    }
    fn NewEntry(
        &self,
        uluiparam: usize,
        ulflags: u32,
        cbeidcontainer: u32,
        lpeidcontainer: *mut ENTRYID,
        cbeidnewentrytpl: u32,
        lpeidnewentrytpl: *mut ENTRYID,
        lpcbeidnewentry: *mut u32,
        lppeidnewentry: *mut *mut ENTRYID,
    ) -> windows_core::Result<()> {
        self.no("NewEntry")
    }
    fn DoConfigPropsheet(
        &self,
        uluiparam: usize,
        ulflags: u32,
        lpsztitle: *mut i8,
        lpdisplaytable: windows_core::Ref<IMAPITable>,
        lpconfigdata: windows_core::Ref<IMAPIProp>,
        ultoppage: u32,
    ) -> windows_core::Result<()> {
        self.no("DoConfigPropsheet")
    }
    fn CopyMessages(
        &self,
        lpsrcinterface: *mut windows_core::GUID,
        lpsrcfolder: *mut core::ffi::c_void,
        lpmsglist: *mut SBinaryArray,
        lpdestinterface: *mut windows_core::GUID,
        lpdestfolder: *mut core::ffi::c_void,
        uluiparam: usize,
        lpprogress: windows_core::Ref<IMAPIProgress>,
        ulflags: u32,
    ) -> windows_core::Result<()> {
        self.no("CopyMessages")
    }
    fn CopyFolder(
        &self,
        lpsrcinterface: *mut windows_core::GUID,
        lpsrcfolder: *mut core::ffi::c_void,
        cbentryid: u32,
        lpentryid: *mut ENTRYID,
        lpdestinterface: *mut windows_core::GUID,
        lpdestfolder: *mut core::ffi::c_void,
        lsznewfoldername: *mut i8,
        uluiparam: usize,
        lpprogress: windows_core::Ref<IMAPIProgress>,
        ulflags: u32,
    ) -> windows_core::Result<()> {
        self.no("CopyFolder")
    }
    fn DoCopyTo(
        &self,
        lpsrcinterface: *mut windows_core::GUID,
        lpsrcobj: *mut core::ffi::c_void,
        ciidexclude: u32,
        rgiidexclude: *mut windows_core::GUID,
        lpexcludeprops: *mut SPropTagArray,
        uluiparam: usize,
        lpprogress: windows_core::Ref<IMAPIProgress>,
        lpdestinterface: *mut windows_core::GUID,
        lpdestobj: *mut core::ffi::c_void,
        ulflags: u32,
        lppproblems: *mut *mut SPropProblemArray,
    ) -> windows_core::Result<()> {
        self.no("DoCopyTo")
    }
    fn DoCopyProps(
        &self,
        lpsrcinterface: *mut windows_core::GUID,
        lpsrcobj: *mut core::ffi::c_void,
        lpincludeprops: *mut SPropTagArray,
        uluiparam: usize,
        lpprogress: windows_core::Ref<IMAPIProgress>,
        lpdestinterface: *mut windows_core::GUID,
        lpdestobj: *mut core::ffi::c_void,
        ulflags: u32,
        lppproblems: *mut *mut SPropProblemArray,
    ) -> windows_core::Result<()> {
        self.no("DoCopyProps")
    }
    fn DoProgressDialog(&self, uluiparam: usize, ulflags: u32) -> windows_core::Result<IMAPIProgress> {
        self.no("DoProgressDialog")
    }
    fn ReadReceipt(&self, ulflags: u32, lpreadmessage: windows_core::Ref<IMessage>) -> windows_core::Result<IMessage> {
        self.no("ReadReceipt")
    }
    fn PrepareSubmit(&self, lpmessage: windows_core::Ref<IMessage>, lpulflags: *mut u32) -> windows_core::Result<()> {
        self.no("PrepareSubmit")
    }
    fn ExpandRecips(&self, lpmessage: windows_core::Ref<IMessage>, lpulflags: *mut u32) -> windows_core::Result<()> {
        self.no("ExpandRecips")
    }
    fn UpdatePAB(&self, ulflags: u32, lpmessage: windows_core::Ref<IMessage>) -> windows_core::Result<()> {
        self.no("UpdatePAB")
    }
    fn DoSentMail(&self, ulflags: u32, lpmessage: windows_core::Ref<IMessage>) -> windows_core::Result<()> {
        self.no("DoSentMail")
    }
    fn OpenAddressBook(
        &self,
        lpinterface: *mut windows_core::GUID,
        ulflags: u32,
        lppadrbook: windows_core::OutRef<IAddrBook>,
    ) -> windows_core::Result<()> {
        self.no("OpenAddressBook")
    }
    fn Preprocess(&self, ulflags: u32, cbentryid: u32, lpentryid: *mut ENTRYID) -> windows_core::Result<()> {
        self.no("Preprocess")
    }
    fn CompleteMsg(&self, ulflags: u32, cbentryid: u32, lpentryid: *mut ENTRYID) -> windows_core::Result<()> {
        self.no("CompleteMsg")
    }
    fn StoreLogoffTransports(&self, lpulflags: *mut u32) -> windows_core::Result<()> {
        self.no("StoreLogoffTransports")
    }
    fn StatusRecips(
        &self,
        lpmessage: windows_core::Ref<IMessage>,
        lpreciplist: *mut ADRLIST,
    ) -> windows_core::Result<()> {
        self.no("StatusRecips")
    }
    fn WrapStoreEntryID(
        &self,
        cborigentry: u32,
        lporigentry: *mut ENTRYID,
        lpcbwrappedentry: *mut u32,
        lppwrappedentry: *mut *mut ENTRYID,
    ) -> windows_core::Result<()> {
        self.no("WrapStoreEntryID")
    }
    fn ModifyProfile(&self, ulflags: u32) -> windows_core::Result<()> {
        self.no("ModifyProfile")
    }
    fn IStorageFromStream(
        &self,
        lpunkin: windows_core::Ref<windows_core::IUnknown>,
        lpinterface: *mut windows_core::GUID,
        ulflags: u32,
        lppstorageout: windows_core::OutRef<windows::Win32::System::Com::StructuredStorage::IStorage>,
    ) -> windows_core::Result<()> {
        self.no("IStorageFromStream")
    }
    fn GetSvcConfigSupportObj(&self, ulflags: u32) -> windows_core::Result<IMAPISupport> {
        self.no("GetSvcConfigSupportObj")
    }
}

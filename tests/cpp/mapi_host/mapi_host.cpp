// A C++17 host that plays MAPI for the outlook-store example under Windows
// (or Wine): it reads the provider's DLL name from a MAPISVC.INF, loads the
// DLL by the name MAPI would ("32" inserted before the first period of the
// file name), calls MSProviderInit, IMSProvider::Logon with a minimal
// IMAPISupport of its own, asks the store for IMAPISync, runs a sync to
// Done, runs a second one and calls StoreLogoff while it runs (that sync
// must end with one Done carrying MAPI_E_USER_CANCEL), then Logoff,
// Shutdown and FreeLibrary. The whole round is repeated (50 times by
// default) in one process. Then, in one more load of the DLL, provider
// instances as a process can hold several: two instances, A's Shutdown
// while B's sync runs (B's sync ends S_OK, its next one runs, A's are
// refused); the old instance's Shutdown on another thread racing the next
// MSProviderInit (2 x ROUNDS times; each new instance must sync); two
// stores of one instance, store 1's StoreLogoff on another thread
// cancelling store 1's sync only.
//
// `mapi_host.exe MAPISVC.INF fast-shutdown` plays Outlook's fast shutdown
// instead: QI the IMSProvider for IMAPIProviderShutdown, QueryFastShutdown,
// NotifyProcessShutdown while a sync runs, DoFastShutdown, then the process
// exits without Shutdown or FreeLibrary. The provider's cancelled sync
// writes its state to mapisync-sync.state beside MAPISVC.INF (the host
// names it in MAPISYNC_OUTLOOK_STATE); the host checks it, and so does
// scripts/suites/outlook-wine.sh after the process exited (status 0).
//
// The MAPI interfaces come from mingw-w64's own mapispi.h / mapidefs.h /
// mapiguid.h / mapicode.h: compiling and running against them checks the
// provider built on outlook-mapi-sys (vtable slots, calling conventions) against
// Microsoft's. IMAPISync, which those headers lack, comes from imapisync.h.
//
// Build and run:
//   x86_64-w64-mingw32-g++ -std=c++17 -Wall -Wextra -Werror -O1 -static -o mapi_host.exe
//     tests/cpp/mapi_host/mapi_host.cpp -lole32 -luuid          (i686-w64-mingw32-g++ for x86)
//   mapi_host.exe C:\path\MAPISVC.INF [ROUNDS | fast-shutdown]
//
// Every check of the first round prints one line; later rounds print only
// failed checks. The last line is "N passed, M failed"; the exit status is
// non-zero when any check failed.

// imapisync.h first: it declares MAPI_E_* as constants, which mapicode.h
// would otherwise have turned into macros.
#include "../../../include/imapisync.h"

#define INITGUID
#define USES_IID_IMAPIProp
#define USES_IID_IMsgStore
#define USES_IID_IMAPISup
#define USES_IID_IMSProvider
#define USES_IID_IMSLogon
#define USES_IID_IMAPISession
#include <initguid.h>
#include <mapispi.h>
#include <mapidefs.h>
#include <mapiguid.h>
#include <mapicode.h>

#include "../com_host.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using com_host::check;
using com_host::g_round;
using com_host::kTimeoutMs;
const char kProviderSection[] = "MAPISYNC_EXAMPLE_STORE";
const unsigned char kStoreUid[16] = {'m', 'a', 'p', 'i', 's', 'y', 'n', 'c', '-', 'e', 'x', 'a', 'm', 'p', 'l', 'e'};

// ---------------------------------------------------------------- reporting

// com_host's check; the first round prints every check, later ones only failures.

bool check_hr(HRESULT got, HRESULT want, const char *what) {
    return check(got == want, "%s: 0x%08lX (want 0x%08lX)", what, static_cast<unsigned long>(got),
                 static_cast<unsigned long>(want));
}

// Waits until `value` equals `want` (a worker thread finishing its releases).
bool wait_for(const std::atomic<ULONG> &value, ULONG want) {
    return com_host::eventually([&] { return value.load() == want; });
}

// ---------------------------------------------------------------- MAPI memory

SCODE WINAPI allocate_buffer(ULONG size, LPVOID *out) {
    *out = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, size ? size : 1);
    return *out ? S_OK : E_OUTOFMEMORY;
}
SCODE WINAPI allocate_more(ULONG size, LPVOID, LPVOID *out) { return allocate_buffer(size, out); }
ULONG WINAPI free_buffer(LPVOID buffer) {
    if (buffer) HeapFree(GetProcessHeap(), 0, buffer);
    return 0;
}

// ---------------------------------------------------------------- IMAPISupport

// The support object MAPI hands to Logon. Only the methods a provider may
// rely on work; every other one records its name and answers
// MAPI_E_NO_SUPPORT, and the host checks that none was called.
class Support final : public com_host::HostObject<IMAPISupport> {
public:
    Support() : HostObject(com_host::Lifetime::Host) {}

    std::atomic<int> provider_uid_calls{0};
    MAPIUID provider_uid{};
    SRWLOCK lock = SRWLOCK_INIT;  // mingw's win32-thread libstdc++ has no std::mutex
    std::vector<std::string> unexpected;

    bool serves(REFIID riid) const override { return riid == IID_IMAPISup; }

    // The methods a provider may rely on.
    STDMETHODIMP GetMemAllocRoutines(LPALLOCATEBUFFER *a, LPALLOCATEMORE *m, LPFREEBUFFER *f) override {
        *a = allocate_buffer;
        *m = allocate_more;
        *f = free_buffer;
        return S_OK;
    }
    STDMETHODIMP SetProviderUID(LPMAPIUID uid, ULONG) override {
        provider_uid = *uid;
        provider_uid_calls += 1;
        return S_OK;
    }
    STDMETHODIMP NewUID(LPMAPIUID uid) override { return CoCreateGuid(reinterpret_cast<GUID *>(uid)); }
    STDMETHODIMP ModifyStatusRow(ULONG, LPSPropValue, ULONG) override { return S_OK; }
    STDMETHODIMP MakeInvalid(ULONG, LPVOID, ULONG, ULONG) override { return S_OK; }
    STDMETHODIMP SpoolerNotify(ULONG, LPVOID) override { return S_OK; }
    STDMETHODIMP WrapStoreEntryID(ULONG cb, LPENTRYID id, ULONG *out_cb, LPENTRYID *out_id) override {
        LPVOID copy = nullptr;
        if (allocate_buffer(cb, &copy) != S_OK) return E_OUTOFMEMORY;
        std::memcpy(copy, id, cb);
        *out_cb = cb;
        *out_id = static_cast<LPENTRYID>(copy);
        return S_OK;
    }

    // Everything else: not available to a provider.
    HRESULT no(const char *name) {
        AcquireSRWLockExclusive(&lock);
        unexpected.push_back(name);
        ReleaseSRWLockExclusive(&lock);
        return MAPI_E_NO_SUPPORT;
    }
    STDMETHODIMP GetLastError(HRESULT, ULONG, LPMAPIERROR *) override { return no("GetLastError"); }
    STDMETHODIMP Subscribe(LPNOTIFKEY, ULONG, ULONG, LPMAPIADVISESINK, ULONG *) override { return no("Subscribe"); }
    STDMETHODIMP Unsubscribe(ULONG) override { return no("Unsubscribe"); }
    STDMETHODIMP Notify(LPNOTIFKEY, ULONG, LPNOTIFICATION, ULONG *) override { return no("Notify"); }
    STDMETHODIMP OpenProfileSection(LPMAPIUID, ULONG, LPPROFSECT *) override { return no("OpenProfileSection"); }
    STDMETHODIMP RegisterPreprocessor(LPMAPIUID, LPTSTR, LPTSTR, LPSTR, LPSTR, ULONG) override {
        return no("RegisterPreprocessor");
    }
    STDMETHODIMP SpoolerYield(ULONG) override { return no("SpoolerYield"); }
    STDMETHODIMP CreateOneOff(LPTSTR, LPTSTR, LPTSTR, ULONG, ULONG *, LPENTRYID *) override { return no("CreateOneOff"); }
    STDMETHODIMP CompareEntryIDs(ULONG, LPENTRYID, ULONG, LPENTRYID, ULONG, ULONG *) override {
        return no("CompareEntryIDs");
    }
    STDMETHODIMP OpenTemplateID(ULONG, LPENTRYID, ULONG, LPMAPIPROP, LPCIID, LPMAPIPROP *, LPMAPIPROP) override {
        return no("OpenTemplateID");
    }
    STDMETHODIMP OpenEntry(ULONG, LPENTRYID, LPCIID, ULONG, ULONG *, LPUNKNOWN *) override { return no("OpenEntry"); }
    STDMETHODIMP GetOneOffTable(ULONG, LPMAPITABLE *) override { return no("GetOneOffTable"); }
    STDMETHODIMP Address(ULONG *, LPADRPARM, LPADRLIST *) override { return no("Address"); }
    STDMETHODIMP Details(ULONG *, LPFNDISMISS, LPVOID, ULONG, LPENTRYID, LPFNBUTTON, LPVOID, LPTSTR, ULONG) override {
        return no("Details");
    }
    STDMETHODIMP NewEntry(ULONG, ULONG, ULONG, LPENTRYID, ULONG, LPENTRYID, ULONG *, LPENTRYID *) override {
        return no("NewEntry");
    }
    STDMETHODIMP DoConfigPropsheet(ULONG, ULONG, LPTSTR, LPMAPITABLE, LPMAPIPROP, ULONG) override {
        return no("DoConfigPropsheet");
    }
    STDMETHODIMP CopyMessages(LPCIID, LPVOID, LPENTRYLIST, LPCIID, LPVOID, ULONG, LPMAPIPROGRESS, ULONG) override {
        return no("CopyMessages");
    }
    STDMETHODIMP CopyFolder(LPCIID, LPVOID, ULONG, LPENTRYID, LPCIID, LPVOID, LPTSTR, ULONG, LPMAPIPROGRESS,
                            ULONG) override {
        return no("CopyFolder");
    }
    STDMETHODIMP DoCopyTo(LPCIID, LPVOID, ULONG, LPCIID, LPSPropTagArray, ULONG, LPMAPIPROGRESS, LPCIID, LPVOID, ULONG,
                          LPSPropProblemArray *) override {
        return no("DoCopyTo");
    }
    STDMETHODIMP DoCopyProps(LPCIID, LPVOID, LPSPropTagArray, ULONG, LPMAPIPROGRESS, LPCIID, LPVOID, ULONG,
                             LPSPropProblemArray *) override {
        return no("DoCopyProps");
    }
    STDMETHODIMP DoProgressDialog(ULONG, ULONG, LPMAPIPROGRESS *) override { return no("DoProgressDialog"); }
    STDMETHODIMP ReadReceipt(ULONG, LPMESSAGE, LPMESSAGE *) override { return no("ReadReceipt"); }
    STDMETHODIMP PrepareSubmit(LPMESSAGE, ULONG *) override { return no("PrepareSubmit"); }
    STDMETHODIMP ExpandRecips(LPMESSAGE, ULONG *) override { return no("ExpandRecips"); }
    STDMETHODIMP UpdatePAB(ULONG, LPMESSAGE) override { return no("UpdatePAB"); }
    STDMETHODIMP DoSentMail(ULONG, LPMESSAGE) override { return no("DoSentMail"); }
    STDMETHODIMP OpenAddressBook(LPCIID, ULONG, LPADRBOOK *) override { return no("OpenAddressBook"); }
    STDMETHODIMP Preprocess(ULONG, ULONG, LPENTRYID) override { return no("Preprocess"); }
    STDMETHODIMP CompleteMsg(ULONG, ULONG, LPENTRYID) override { return no("CompleteMsg"); }
    STDMETHODIMP StoreLogoffTransports(ULONG *) override { return no("StoreLogoffTransports"); }
    STDMETHODIMP StatusRecips(LPMESSAGE, LPADRLIST) override { return no("StatusRecips"); }
    STDMETHODIMP ModifyProfile(ULONG) override { return no("ModifyProfile"); }
    STDMETHODIMP IStorageFromStream(LPUNKNOWN, LPCIID, ULONG, LPSTORAGE *) override { return no("IStorageFromStream"); }
    STDMETHODIMP GetSvcConfigSupportObj(ULONG, LPMAPISUP *) override { return no("GetSvcConfigSupportObj"); }
};

// ---------------------------------------------------------------- the session

// The session MAPI passes in MAPISIB. It answers IUnknown and
// IID_IMAPISession (the provider reaches Microsoft's IMAPISession type from
// `job.session()` with a cast, then only releases it) and counts both the
// queries for IMAPISession and its references.
class Session final : public com_host::HostObject<IUnknown> {
public:
    Session() : HostObject(com_host::Lifetime::Host) {}

    // Counted by the (const) question whether a query is served: mutable.
    mutable std::atomic<int> session_queries{0};

    bool serves(REFIID riid) const override {
        if (riid != IID_IMAPISession) return false;
        session_queries += 1;
        return true;
    }
};

// ---------------------------------------------------------------- progress callback

// Outlook's side of a sync. With `gated`, the first Progress call signals
// `started` and waits for `gate` before returning: the host acts (logs the
// store off) while the sync is known to be running.
class Callback final : public com_host::HostObject<IMAPISyncProgressCallback> {
public:
    std::atomic<int> progress{0};
    std::atomic<int> errors{0};
    std::atomic<int> dones{0};
    std::atomic<HRESULT> done_hr{S_OK};
    std::atomic<HANDLE> done_handle{nullptr};
    HANDLE done = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    HANDLE started = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    HANDLE gate = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    bool gated;

    explicit Callback(bool gated_) : HostObject(com_host::Lifetime::Host), gated(gated_) {}
    ~Callback() {
        CloseHandle(done);
        CloseHandle(started);
        CloseHandle(gate);
    }

    bool serves(REFIID riid) const override { return riid == IID_IMAPISyncProgressCallback; }
    STDMETHODIMP Progress(const WCHAR *, ULONG, ULONG) override {
        if (++progress == 1 && gated) {
            SetEvent(started);
            WaitForSingleObject(gate, kTimeoutMs);
        }
        return S_OK;
    }
    STDMETHODIMP Error(HRESULT, const WCHAR *) override {
        errors += 1;
        return S_OK;
    }
    STDMETHODIMP Done(HANDLE event, HRESULT hr) override {
        done_handle = event;
        done_hr = hr;
        dones += 1;
        SetEvent(done);
        return S_OK;
    }
};

// Starts a sync (with `session` in MAPISIB, or none); returns the done event (NULL on failure).
HANDLE start_sync(IMAPISync *sync, Callback &callback, const char *what, Session *session = nullptr) {
    HANDLE event = nullptr;
    MAPISIB sib{sizeof(MAPISIB), SYNC_DOWNLOAD_CONTENTS, reinterpret_cast<IMAPISession *>(session), &callback, &event};
    check_hr(sync->SynchronizeInBackground(&sib), S_OK, what);
    check(event != nullptr, "%s: the done event was handed over", what);
    return event;
}

// Waits for the end of a sync and checks how it ended.
void finish_sync(HANDLE event, Callback &callback, HRESULT want, int want_progress, const char *what) {
    check(event && WaitForSingleObject(event, kTimeoutMs) == WAIT_OBJECT_0, "%s: the done event is signalled", what);
    check(WaitForSingleObject(callback.done, kTimeoutMs) == WAIT_OBJECT_0, "%s: Done was called", what);
    bool released = wait_for(callback.refs, 1);  // before the refs argument below is read
    check(released, "%s: the worker released the callback (refs %lu)", what,
          static_cast<unsigned long>(callback.refs.load()));
    check(callback.dones == 1, "%s: exactly one Done (%d)", what, callback.dones.load());
    check_hr(callback.done_hr, want, what);
    check(callback.done_handle == event, "%s: Done hands back the done event", what);
    check(callback.progress == want_progress, "%s: %d Progress calls (want %d)", what, callback.progress.load(),
          want_progress);
    if (event) CloseHandle(event);
}

// ---------------------------------------------------------------- the rounds

// COM identity both ways between the store and its IMAPISync.
void check_identity(IMsgStore *store, IMAPISync *sync) {
    IUnknown *from_store = nullptr, *from_sync = nullptr;
    IMsgStore *back = nullptr;
    void *logon = reinterpret_cast<void *>(1);
    check_hr(store->QueryInterface(IID_IUnknown, reinterpret_cast<void **>(&from_store)), S_OK, "store QI(IUnknown)");
    check_hr(sync->QueryInterface(IID_IUnknown, reinterpret_cast<void **>(&from_sync)), S_OK, "IMAPISync QI(IUnknown)");
    check(from_store && from_store == from_sync, "IUnknown of the IMAPISync is the store's IUnknown");
    check_hr(sync->QueryInterface(IID_IMsgStore, reinterpret_cast<void **>(&back)), S_OK, "IMAPISync QI(IMsgStore)");
    check(back == store, "IMsgStore asked of the IMAPISync is the store");
    check_hr(store->QueryInterface(IID_IMSLogon, &logon), E_NOINTERFACE, "store QI(IMSLogon)");
    check(logon == nullptr, "an unknown IID leaves *ppv NULL");
    if (from_store) from_store->Release();
    if (from_sync) from_sync->Release();
    if (back) back->Release();
}

// Every method the example does not support, called through Microsoft's
// vtables: MAPI_E_NO_SUPPORT, and each out-parameter left NULL (or 0). A slot
// out of place in the Rust declarations answers otherwise or crashes.
template <typename T>
T *poisoned() {
    return reinterpret_cast<T *>(static_cast<uintptr_t>(0x10));
}

void check_unsupported_store(IMsgStore *store) {
    const HRESULT no = MAPI_E_NO_SUPPORT;
    LPMAPIERROR error = poisoned<MAPIERROR>();
    ULONG count = 5;
    LPSPropValue props = poisoned<SPropValue>();
    LPSPropTagArray tags = poisoned<SPropTagArray>();
    LPUNKNOWN unknown = poisoned<IUnknown>();
    LPSPropProblemArray problems = poisoned<SPropProblemArray>();
    LPMAPINAMEID *names = poisoned<LPMAPINAMEID>();
    LPMAPITABLE table = poisoned<IMAPITable>();
    LPENTRYID entry = poisoned<ENTRYID>();
    LPSTR explicit_class = poisoned<char>();
    ULONG kind = 5, cb = 5, connection = 0, result = 5;
    bool ok = store->GetLastError(E_FAIL, 0, &error) == no && error == nullptr;
    ok &= store->SaveChanges(0) == no;
    ok &= store->GetProps(nullptr, 0, &count, &props) == no && count == 0 && props == nullptr;
    ok &= store->GetPropList(0, &tags) == no && tags == nullptr;
    ok &= store->OpenProperty(0, &IID_IUnknown, 0, 0, &unknown) == no && unknown == nullptr;
    ok &= store->SetProps(0, nullptr, &problems) == no && problems == nullptr;
    problems = poisoned<SPropProblemArray>();
    ok &= store->DeleteProps(nullptr, &problems) == no && problems == nullptr;
    problems = poisoned<SPropProblemArray>();
    ok &= store->CopyTo(0, nullptr, nullptr, 0, nullptr, &IID_IMsgStore, nullptr, 0, &problems) == no && !problems;
    problems = poisoned<SPropProblemArray>();
    ok &= store->CopyProps(nullptr, 0, nullptr, &IID_IMsgStore, nullptr, 0, &problems) == no && !problems;
    tags = nullptr;
    count = 5;
    ok &= store->GetNamesFromIDs(&tags, nullptr, 0, &count, &names) == no && count == 0 && names == nullptr;
    tags = poisoned<SPropTagArray>();
    ok &= store->GetIDsFromNames(0, nullptr, 0, &tags) == no && tags == nullptr;
    ok &= store->Advise(0, nullptr, 0, nullptr, &connection) == no && store->Unadvise(connection) == no;
    ok &= store->CompareEntryIDs(0, nullptr, 0, nullptr, 0, &result) == no && result == 0;
    unknown = poisoned<IUnknown>();
    ok &= store->OpenEntry(0, nullptr, nullptr, 0, &kind, &unknown) == no && kind == 0 && unknown == nullptr;
    ok &= store->SetReceiveFolder(nullptr, 0, 0, nullptr) == no;
    ok &= store->GetReceiveFolder(nullptr, 0, &cb, &entry, &explicit_class) == no && cb == 0 && !entry && !explicit_class;
    // GetReceiveFolderTable and GetOutgoingQueue: the HRESULT only. windows-rs
    // writes a method's last [out] object only on success (the Rust method
    // cannot reach it), and COM's callers do not read it after a failure.
    ok &= store->GetReceiveFolderTable(0, &table) == no;
    ok &= store->AbortSubmit(0, nullptr, 0) == no;
    ok &= store->GetOutgoingQueue(0, &table) == no;
    ok &= store->SetLockState(nullptr, 0) == no && store->FinishedMsg(0, 0, nullptr) == no;
    ok &= store->NotifyNewMail(nullptr) == no;
    check(ok, "IMsgStore: every other method answers MAPI_E_NO_SUPPORT with its out-parameters NULL");
}

void check_unsupported_logon(IMSLogon *logon) {
    const HRESULT no = MAPI_E_NO_SUPPORT;
    LPMAPIERROR error = poisoned<MAPIERROR>();
    LPUNKNOWN unknown = poisoned<IUnknown>();
    LPVOID status = poisoned<void>();
    ULONG kind = 5, result = 5, connection = 0;
    bool ok = logon->GetLastError(E_FAIL, 0, &error) == no && error == nullptr;
    ok &= logon->OpenEntry(0, nullptr, nullptr, 0, &kind, &unknown) == no && kind == 0 && unknown == nullptr;
    ok &= logon->CompareEntryIDs(0, nullptr, 0, nullptr, 0, &result) == no && result == 0;
    ok &= logon->Advise(0, nullptr, 0, nullptr, &connection) == no && logon->Unadvise(connection) == no;
    kind = 5;
    ok &= logon->OpenStatusEntry(nullptr, 0, &kind, &status) == no && kind == 0 && status == nullptr;
    check(ok, "IMSLogon: every other method answers MAPI_E_NO_SUPPORT with its out-parameters NULL");
}

void check_provider_extras(IMSProvider *provider, Support &support) {
    LPMSLOGON logon = poisoned<IMSLogon>();
    LPMDB store = poisoned<IMsgStore>();
    LPMAPIERROR error = poisoned<MAPIERROR>();
    char profile[] = "p";
    HRESULT hr = provider->SpoolerLogon(&support, 0, profile, 0, nullptr, 0, nullptr, 0, nullptr, &error, &logon, &store);
    check(hr == MAPI_E_NO_SUPPORT && !logon && !store && !error, "SpoolerLogon: MAPI_E_NO_SUPPORT, outputs NULL");
    BYTE a[8] = {0, 0, 0, 0, 1, 2, 3, 4}, b[8] = {0, 0, 0, 0, 1, 2, 3, 5};
    ULONG same = 7, different = 7;
    check(provider->CompareStoreIDs(8, reinterpret_cast<LPENTRYID>(a), 8, reinterpret_cast<LPENTRYID>(a), 0, &same) == S_OK &&
              provider->CompareStoreIDs(8, reinterpret_cast<LPENTRYID>(a), 8, reinterpret_cast<LPENTRYID>(b), 0,
                                        &different) == S_OK &&
              same == TRUE && different == FALSE,
          "CompareStoreIDs: TRUE for the same bytes, FALSE otherwise");
}

// Logon through to Logoff, with the two syncs in between.
void run_logon(IMSProvider *provider, Support &support) {
    LPMSLOGON logon = nullptr;
    LPMDB store = nullptr;
    LPMAPIERROR error = nullptr;
    ULONG cb_security = 7;
    LPBYTE security = reinterpret_cast<LPBYTE>(1);
    char profile[] = "mapisync test profile";
    HRESULT hr = provider->Logon(&support, 0, profile, 0, nullptr, 0, nullptr, &cb_security, &security, &error, &logon,
                                 &store);
    if (!check_hr(hr, S_OK, "IMSProvider::Logon (default store, ANSI profile name)") || !logon || !store) return;
    check(cb_security == 0 && security == nullptr && error == nullptr, "Logon clears the spool security and error");
    check(support.provider_uid_calls == 1 && std::memcmp(&support.provider_uid, kStoreUid, 16) == 0,
          "Logon called SetProviderUID once with the store's UID");
    check(support.refs > 1, "the logon holds the support object");

    if (g_round == 1) {
        check_unsupported_store(store);
        check_unsupported_logon(logon);
    }
    IMAPISync *sync = nullptr;
    check_hr(store->QueryInterface(IID_IMAPISync, reinterpret_cast<void **>(&sync)), S_OK, "store QI(IMAPISync)");
    if (sync) {
        check_identity(store, sync);
        Callback first(false);
        Session session;
        finish_sync(start_sync(sync, first, "sync 1 (with a session)", &session), first, S_OK, 3,
                    "sync 1 runs to Done(S_OK)");
        check(session.session_queries == 1, "sync 1 asked the session for IID_IMAPISession (%d queries)",
              session.session_queries.load());
        check(wait_for(session.refs, 1), "sync 1 released the session (refs %lu)",
              static_cast<unsigned long>(session.refs.load()));

        Callback second(true);
        HANDLE event = start_sync(sync, second, "sync 2");
        check(WaitForSingleObject(second.started, kTimeoutMs) == WAIT_OBJECT_0, "sync 2 is running");
        ULONG flags = LOGOFF_ORDERLY;
        check_hr(store->StoreLogoff(&flags), S_OK, "IMsgStore::StoreLogoff while sync 2 runs");
        SetEvent(second.gate);
        finish_sync(event, second, MAPI_E_USER_CANCEL, 1, "sync 2 ends with Done(MAPI_E_USER_CANCEL)");
        sync->Release();
    }
    check(store->Release() > 0, "the logon still holds the store after the host's Release");
    ULONG flags = 0;
    check_hr(logon->Logoff(&flags), S_OK, "IMSLogon::Logoff");
    check(logon->Release() == 0, "the logon is freed by its last Release");
    check(support.refs == 1, "Logoff released the support object (refs %lu)", static_cast<unsigned long>(support.refs.load()));
}

// One round: load, MSProviderInit, the logon, Shutdown, FreeLibrary.
void run_round(const std::string &dll) {
    HMODULE module = LoadLibraryA(dll.c_str());
    if (!check(module != nullptr, "LoadLibrary(%s)", dll.c_str())) return;
    auto init = reinterpret_cast<MSPROVIDERINIT *>(reinterpret_cast<void (*)()>(GetProcAddress(module, "MSProviderInit")));
    if (check(init != nullptr, "GetProcAddress(MSProviderInit)")) {
        ULONG version = 0;
        LPMSPROVIDER provider = reinterpret_cast<LPMSPROVIDER>(1);
        HRESULT hr = init(module, nullptr, allocate_buffer, allocate_more, free_buffer, 0, CURRENT_SPI_VERSION - 1,
                          &version, &provider);
        check_hr(hr, MAPI_E_VERSION, "MSProviderInit with an older SPI version");
        check(provider == nullptr && version == CURRENT_SPI_VERSION, "... no provider, *lpulProviderVer answered");
        hr = init(module, nullptr, allocate_buffer, allocate_more, free_buffer, 0, CURRENT_SPI_VERSION, &version,
                  &provider);
        check_hr(hr, S_OK, "MSProviderInit(CURRENT_SPI_VERSION)");
        check(version == CURRENT_SPI_VERSION, "*lpulProviderVer is CURRENT_SPI_VERSION (0x%08lX)",
              static_cast<unsigned long>(version));
        if (hr == S_OK && provider) {
            Support support;
            if (g_round == 1) check_provider_extras(provider, support);
            run_logon(provider, support);
            AcquireSRWLockExclusive(&support.lock);
            std::vector<std::string> unexpected = support.unexpected;
            ReleaseSRWLockExclusive(&support.lock);
            for (const auto &name : unexpected) check(false, "the provider called IMAPISupport::%s", name.c_str());
            ULONG flags = 0;
            check_hr(provider->Shutdown(&flags), S_OK, "IMSProvider::Shutdown");
            check(provider->Release() == 0, "the provider is freed by its last Release");
        }
    }
    check(FreeLibrary(module) != 0, "FreeLibrary");
    // Shutdown drained every worker, so nothing pinned the DLL: it is gone.
    check(GetModuleHandleA(dll.c_str()) == nullptr, "the DLL is unloaded after FreeLibrary");
}

// ---------------------------------------------------------------- provider instances

// IMAPIProviderShutdown (MAPI's fast shutdown), which mingw-w64's mapispi.h lacks.
const IID kIID_IMAPIProviderShutdown = {0x00020398, 0x0000, 0x0000, {0xC0, 0, 0, 0, 0, 0, 0, 0x46}};
struct IMAPIProviderShutdown : public IUnknown {
    virtual HRESULT STDMETHODCALLTYPE QueryFastShutdown() = 0;
    virtual HRESULT STDMETHODCALLTYPE NotifyProcessShutdown() = 0;
    virtual HRESULT STDMETHODCALLTYPE DoFastShutdown() = 0;
};

// A new provider instance (MSProviderInit), or NULL.
LPMSPROVIDER new_provider(MSPROVIDERINIT *init, HMODULE module) {
    ULONG version = 0;
    LPMSPROVIDER provider = nullptr;
    HRESULT hr = init(module, nullptr, allocate_buffer, allocate_more, free_buffer, 0, CURRENT_SPI_VERSION, &version,
                      &provider);
    return hr == S_OK ? provider : nullptr;
}

// Shutdown, then the last Release, of a provider instance.
void end_provider(LPMSPROVIDER provider, const char *what) {
    if (!provider) return;
    ULONG flags = 0;
    check_hr(provider->Shutdown(&flags), S_OK, what);
    provider->Release();
}

// One logged-on store of a provider instance: its logon, store and IMAPISync.
struct Opened {
    Support support;
    LPMSLOGON logon = nullptr;
    LPMDB store = nullptr;
    IMAPISync *sync = nullptr;

    // IMSProvider::Logon and QI(IMAPISync); prints nothing (the caller checks).
    bool open(IMSProvider *provider) {
        LPMAPIERROR error = nullptr;
        ULONG cb_security = 0;
        LPBYTE security = nullptr;
        char profile[] = "mapisync test profile";
        HRESULT hr = provider->Logon(&support, 0, profile, 0, nullptr, 0, nullptr, &cb_security, &security, &error,
                                     &logon, &store);
        if (hr != S_OK || !logon || !store) return false;
        return store->QueryInterface(IID_IMAPISync, reinterpret_cast<void **>(&sync)) == S_OK && sync;
    }
    // StoreLogoff and Logoff, then the host's references go.
    void close() {
        ULONG flags = LOGOFF_ORDERLY;
        if (store) store->StoreLogoff(&flags), store->Release();
        if (logon) logon->Logoff(&flags), logon->Release();
        if (sync) sync->Release();
        store = nullptr, logon = nullptr, sync = nullptr;
    }
};

// A sync of `sync` that is refused: `want`, no done event, no Done.
void check_refused(IMAPISync *sync, HRESULT want, const char *what) {
    Callback callback(false);
    HANDLE event = reinterpret_cast<HANDLE>(1);
    MAPISIB sib{sizeof(MAPISIB), SYNC_DOWNLOAD_CONTENTS, nullptr, &callback, &event};
    check_hr(sync->SynchronizeInBackground(&sib), want, what);
    check(event == nullptr && callback.dones == 0 && wait_for(callback.refs, 1),
          "%s: no done event, no Done, the callback released", what);
    if (event && event != reinterpret_cast<HANDLE>(1)) WaitForSingleObject(event, kTimeoutMs), CloseHandle(event);
}

// Two instances: A's Shutdown while B's sync runs leaves B alone, and refuses A's syncs.
void two_instances(MSPROVIDERINIT *init, HMODULE module) {
    LPMSPROVIDER a = new_provider(init, module), b = new_provider(init, module);
    Opened on_a, on_b;
    if (check(a && b && a != b, "two MSProviderInit calls: two provider instances") && on_a.open(a) && on_b.open(b)) {
        Callback a_sync(false);
        finish_sync(start_sync(on_a.sync, a_sync, "A: sync"), a_sync, S_OK, 3, "A: a sync runs to Done(S_OK)");
        Callback b_sync(true);
        HANDLE event = start_sync(on_b.sync, b_sync, "B: sync");
        check(WaitForSingleObject(b_sync.started, kTimeoutMs) == WAIT_OBJECT_0, "B: its sync is running");
        ULONG flags = LOGOFF_ORDERLY;
        check_hr(on_a.store->StoreLogoff(&flags), S_OK, "A: StoreLogoff");
        check_hr(on_a.logon->Logoff(&flags), S_OK, "A: IMSLogon::Logoff");
        DWORD before = GetTickCount();
        check_hr(a->Shutdown(&flags), S_OK, "A: IMSProvider::Shutdown while B's sync runs");
        check(GetTickCount() - before < 5000, "A's Shutdown did not wait for B's sync");
        check_refused(on_a.sync, MAPI_E_END_OF_SESSION, "A: a sync after A's Shutdown is MAPI_E_END_OF_SESSION");
        SetEvent(b_sync.gate);
        finish_sync(event, b_sync, S_OK, 3, "B: the sync that ran through A's Shutdown ends with Done(S_OK)");
        Callback b_next(false);
        finish_sync(start_sync(on_b.sync, b_next, "B: next sync"), b_next, S_OK, 3, "B: its next sync runs to Done(S_OK)");
    } else {
        check(false, "both instances logged on");
    }
    on_a.close(), on_b.close();
    if (a) a->Release();  // A was shut down above (or never logged on)
    end_provider(b, "B: IMSProvider::Shutdown");
}

// A sync of a new logon on `provider` runs to Done(S_OK); prints nothing.
bool syncs(IMSProvider *provider) {
    Opened opened;
    bool ok = opened.open(provider);
    if (ok) {
        Callback callback(false);
        HANDLE event = nullptr;
        MAPISIB sib{sizeof(MAPISIB), SYNC_DOWNLOAD_CONTENTS, nullptr, &callback, &event};
        ok = opened.sync->SynchronizeInBackground(&sib) == S_OK && event &&
             WaitForSingleObject(event, kTimeoutMs) == WAIT_OBJECT_0 && callback.done_hr == S_OK;
        ok &= wait_for(callback.refs, 1);
        if (event) CloseHandle(event);
    }
    opened.close();
    return ok;
}

struct ShutdownCall {
    IMSProvider *provider;
    HANDLE go;
    HRESULT hr;
};

DWORD WINAPI shutdown_thread(LPVOID argument) {
    auto *call = static_cast<ShutdownCall *>(argument);
    WaitForSingleObject(call->go, kTimeoutMs);
    ULONG flags = 0;
    call->hr = call->provider->Shutdown(&flags);
    return 0;
}

// The old instance's Shutdown on another thread races the next MSProviderInit;
// the new instance must sync every time.
void shutdown_racing_init(MSPROVIDERINIT *init, HMODULE module, int times) {
    LPMSPROVIDER old = new_provider(init, module);
    int unable = 0, failed_shutdowns = 0, done = 0;
    for (; done < times && old; done += 1) {
        ShutdownCall call{old, CreateEventW(nullptr, TRUE, FALSE, nullptr), E_FAIL};
        HANDLE thread = CreateThread(nullptr, 0, shutdown_thread, &call, 0, nullptr);
        SetEvent(call.go);
        LPMSPROVIDER fresh = new_provider(init, module);
        bool joined = thread && WaitForSingleObject(thread, kTimeoutMs) == WAIT_OBJECT_0;
        if (thread) CloseHandle(thread);
        CloseHandle(call.go);
        failed_shutdowns += !joined || call.hr != S_OK;
        old->Release();
        old = fresh;
        unable += !fresh || !syncs(fresh);
    }
    check(done == times && unable == 0, "Shutdown racing MSProviderInit %d times: every new instance synced (%d did not)",
          done, unable);
    check(failed_shutdowns == 0, "... and each racing Shutdown returned S_OK (%d did not)", failed_shutdowns);
    end_provider(old, "the last racing instance: IMSProvider::Shutdown");
}

DWORD WINAPI logoff_thread(LPVOID store) {
    ULONG flags = LOGOFF_ORDERLY;
    return static_cast<IMsgStore *>(store)->StoreLogoff(&flags) == S_OK ? 0 : 1;
}

// Two stores of one instance syncing; store 1's StoreLogoff on another thread
// cancels store 1's sync only.
void logoff_from_another_thread(MSPROVIDERINIT *init, HMODULE module) {
    LPMSPROVIDER provider = new_provider(init, module);
    Opened one, two;
    if (check(provider && one.open(provider) && two.open(provider), "one instance, two logons")) {
        Callback first(true), second(true);
        HANDLE e1 = start_sync(one.sync, first, "store 1: sync"), e2 = start_sync(two.sync, second, "store 2: sync");
        check(WaitForSingleObject(first.started, kTimeoutMs) == WAIT_OBJECT_0 &&
                  WaitForSingleObject(second.started, kTimeoutMs) == WAIT_OBJECT_0,
              "both stores' syncs are running");
        HANDLE thread = CreateThread(nullptr, 0, logoff_thread, one.store, 0, nullptr);
        DWORD code = 1;
        check(thread && WaitForSingleObject(thread, kTimeoutMs) == WAIT_OBJECT_0 && GetExitCodeThread(thread, &code) &&
                  code == 0,
              "store 1: IMsgStore::StoreLogoff on another thread: S_OK");
        if (thread) CloseHandle(thread);
        SetEvent(first.gate), SetEvent(second.gate);
        finish_sync(e1, first, MAPI_E_USER_CANCEL, 1, "store 1: its sync ends with Done(MAPI_E_USER_CANCEL)");
        finish_sync(e2, second, S_OK, 3, "store 2: its sync, same instance, ends with Done(S_OK)");
    }
    one.close(), two.close();
    end_provider(provider, "IMSProvider::Shutdown after the two logons");
}

// The instance scenarios, in one load of the DLL.
void run_instances(const std::string &dll, int race_times) {
    HMODULE module = LoadLibraryA(dll.c_str());
    auto init = module ? reinterpret_cast<MSPROVIDERINIT *>(
                             reinterpret_cast<void (*)()>(GetProcAddress(module, "MSProviderInit")))
                       : nullptr;
    if (!check(init != nullptr, "instances: LoadLibrary and MSProviderInit")) return;
    two_instances(init, module);
    shutdown_racing_init(init, module, race_times);
    logoff_from_another_thread(init, module);
    check(FreeLibrary(module) != 0, "instances: FreeLibrary");
    check(GetModuleHandleA(dll.c_str()) == nullptr, "instances: the DLL is unloaded after FreeLibrary");
}

// The contents of a small file ("" when it cannot be read).
std::string read_file(const std::string &path) {
    std::string text;
    if (FILE *file = std::fopen(path.c_str(), "rb")) {
        char buffer[256];
        size_t got = std::fread(buffer, 1, sizeof buffer, file);
        text.assign(buffer, got);
        std::fclose(file);
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

// Outlook's fast shutdown while a sync runs: QI the IMSProvider for
// IMAPIProviderShutdown, the three calls; the caller then exits the process
// without Shutdown, Release or FreeLibrary.
void fast_shutdown(const std::string &dll, const std::string &state) {
    DeleteFileA(state.c_str());
    HMODULE module = LoadLibraryA(dll.c_str());
    auto init = module ? reinterpret_cast<MSPROVIDERINIT *>(
                             reinterpret_cast<void (*)()>(GetProcAddress(module, "MSProviderInit")))
                       : nullptr;
    LPMSPROVIDER provider = init ? new_provider(init, module) : nullptr;
    if (!check(provider != nullptr, "fast shutdown: LoadLibrary, MSProviderInit")) return;
    IMAPIProviderShutdown *fast = nullptr;
    check_hr(provider->QueryInterface(kIID_IMAPIProviderShutdown, reinterpret_cast<void **>(&fast)), S_OK,
             "IMSProvider QI(IMAPIProviderShutdown)");
    static Opened opened;  // never closed: the process exits as after Outlook's DoFastShutdown
    if (!fast || !check(opened.open(provider), "fast shutdown: Logon")) return;
    static Callback running(true);
    HANDLE event = start_sync(opened.sync, running, "fast shutdown: sync");
    check(WaitForSingleObject(running.started, kTimeoutMs) == WAIT_OBJECT_0, "fast shutdown: the sync is running");
    check_hr(fast->QueryFastShutdown(), S_OK, "IMAPIProviderShutdown::QueryFastShutdown");
    check_hr(fast->NotifyProcessShutdown(), S_OK, "IMAPIProviderShutdown::NotifyProcessShutdown while the sync runs");
    SetEvent(running.gate);
    check_hr(fast->DoFastShutdown(), S_OK, "IMAPIProviderShutdown::DoFastShutdown");
    check(event && WaitForSingleObject(event, 0) == WAIT_OBJECT_0 && running.dones == 1 &&
              running.done_hr == MAPI_E_USER_CANCEL,
          "by DoFastShutdown's return the sync saw the cancel and ended: Done(MAPI_E_USER_CANCEL)");
    std::string saved = read_file(state);
    check(saved.rfind("cancelled after ", 0) == 0, "the sync persisted its state on the cancel: '%s'", saved.c_str());
    check_refused(opened.sync, MAPI_E_END_OF_SESSION, "a sync after NotifyProcessShutdown is MAPI_E_END_OF_SESSION");
}

// The DLL MAPI would load for the provider section of `inf`: "32" inserted
// before the first period of the whole value (a full path included).
std::string provider_dll(const char *inf) {
    char base[MAX_PATH] = {};
    GetPrivateProfileStringA(kProviderSection, "PR_PROVIDER_DLL_NAME", "", base, sizeof base, inf);
    std::string name = base;
    size_t dot = name.find('.');
    return name.empty() ? name : name.insert(dot == std::string::npos ? name.size() : dot, "32");
}

// The file the provider's sync writes its state to when cancelled
// (MAPISYNC_OUTLOOK_STATE): mapisync-sync.state beside `inf`.
std::string state_file(const std::string &inf) {
    size_t slash = inf.find_last_of("\\/");
    return (slash == std::string::npos ? std::string() : inf.substr(0, slash + 1)) + "mapisync-sync.state";
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s MAPISVC.INF [ROUNDS | fast-shutdown]\n", argv[0]);
        return 2;
    }
    bool fast = argc > 2 && std::strcmp(argv[2], "fast-shutdown") == 0;
    int rounds = argc > 2 && !fast ? std::atoi(argv[2]) : 50;
    std::string dll = provider_dll(argv[1]);
    std::string state = state_file(argv[1]);
    SetEnvironmentVariableA("MAPISYNC_OUTLOOK_STATE", state.c_str());
    check(!dll.empty(), "MAPISVC.INF names the provider DLL; MAPI loads %s", dll.c_str());
    if (fast) {
        if (!dll.empty()) fast_shutdown(dll, state);
        std::printf("fast shutdown while a sync runs; the process exits without Shutdown or FreeLibrary\n");
        std::printf("%d passed, %d failed\n", com_host::g_passed, com_host::g_failed);
        std::fflush(stdout);
        return com_host::g_failed == 0 ? 0 : 1;
    }
    if (!dll.empty()) {
        for (g_round = 1; g_round <= rounds; g_round += 1) {
            run_round(dll);
            com_host::g_quiet_passes = true;
        }
        g_round = 0;
        com_host::g_quiet_passes = false;
        run_instances(dll, 2 * rounds);
    }
    std::printf("%d rounds of load, logon, two syncs, logoff, shutdown, unload\n", rounds);
    std::printf("then two instances, Shutdown racing MSProviderInit %d times, StoreLogoff on another thread\n",
                2 * rounds);
    std::printf("%d passed, %d failed\n", com_host::g_passed, com_host::g_failed);
    return com_host::g_failed == 0 ? 0 : 1;
}

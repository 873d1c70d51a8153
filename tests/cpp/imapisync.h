// IMAPISync, MAPISIB and IMAPISyncProgressCallback, declared by this C++
// host from the contract in the project's reference (imapisync.md): no
// public C or C++ header declares them, and this host must not borrow the
// Rust crate's types. Fixed-width types; single-inheritance pure-virtual
// interfaces without virtual destructors, so each object is one vtable
// pointer in COM's layout.
//
// On Windows the SDK's own IUnknown, IClassFactory, GUID, HRESULT and HANDLE
// are used; elsewhere this header declares them with the same layout.
#ifndef MAPISYNC_TESTS_IMAPISYNC_H
#define MAPISYNC_TESTS_IMAPISYNC_H

#include <cstddef>
#include <cstdint>
#include <cstring>

#ifdef _WIN32
#include <windows.h>
#include <objbase.h>
#include <unknwn.h>
#else
typedef int32_t HRESULT;
typedef uint32_t ULONG;
typedef int32_t BOOL;
typedef char16_t WCHAR;
typedef void *HANDLE;
constexpr BOOL TRUE = 1;
constexpr BOOL FALSE = 0;

struct GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
};
typedef GUID IID;
typedef GUID CLSID;
typedef const IID &REFIID;
typedef const CLSID &REFCLSID;

inline bool operator==(const GUID &a, const GUID &b) { return std::memcmp(&a, &b, sizeof(GUID)) == 0; }
inline bool operator!=(const GUID &a, const GUID &b) { return !(a == b); }

// COM's calling convention is the C one on x86-64 Linux.
#define STDMETHODCALLTYPE

constexpr HRESULT S_OK = 0;
constexpr HRESULT S_FALSE = 1;
constexpr HRESULT E_NOINTERFACE = static_cast<HRESULT>(0x80004002u);
constexpr HRESULT E_POINTER = static_cast<HRESULT>(0x80004003u);
constexpr HRESULT E_FAIL = static_cast<HRESULT>(0x80004005u);
constexpr HRESULT E_UNEXPECTED = static_cast<HRESULT>(0x8000FFFFu);
constexpr HRESULT E_INVALIDARG = static_cast<HRESULT>(0x80070057u);
constexpr HRESULT CLASS_E_NOAGGREGATION = static_cast<HRESULT>(0x80040110u);
constexpr HRESULT CLASS_E_CLASSNOTAVAILABLE = static_cast<HRESULT>(0x80040111u);

// {00000000-0000-0000-C000-000000000046}
constexpr IID IID_IUnknown = {0x00000000, 0x0000, 0x0000, {0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}};
// {00000001-0000-0000-C000-000000000046}
constexpr IID IID_IClassFactory = {0x00000001, 0x0000, 0x0000, {0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}};

struct IUnknown {
    virtual HRESULT STDMETHODCALLTYPE QueryInterface(REFIID riid, void **ppvObject) = 0;
    virtual ULONG STDMETHODCALLTYPE AddRef() = 0;
    virtual ULONG STDMETHODCALLTYPE Release() = 0;
};

struct IClassFactory : IUnknown {
    virtual HRESULT STDMETHODCALLTYPE CreateInstance(IUnknown *pUnkOuter, REFIID riid, void **ppvObject) = 0;
    virtual HRESULT STDMETHODCALLTYPE LockServer(BOOL fLock) = 0;
};
#endif

static_assert(sizeof(HRESULT) == 4, "HRESULT is 32 bits");
static_assert(sizeof(ULONG) == 4, "ULONG is 32 bits");
static_assert(sizeof(WCHAR) == 2, "WCHAR is UTF-16");

// The MAPI error codes the contract names.
constexpr HRESULT MAPI_E_NO_SUPPORT = static_cast<HRESULT>(0x80040102u);
constexpr HRESULT MAPI_E_BUSY = static_cast<HRESULT>(0x8004010Bu);
constexpr HRESULT MAPI_E_USER_CANCEL = static_cast<HRESULT>(0x80040113u);
constexpr HRESULT MAPI_E_NETWORK_ERROR = static_cast<HRESULT>(0x80040115u);

// {5024A385-2D44-486A-81A8-8F0ECB6071DD}
constexpr IID IID_IMAPISync = {0x5024A385, 0x2D44, 0x486A, {0x81, 0xA8, 0x8F, 0x0E, 0xCB, 0x60, 0x71, 0xDD}};
// {5024A386-2D44-486A-81A8-8F0ECB6071DD}
constexpr IID IID_IMAPISyncProgressCallback = {0x5024A386, 0x2D44, 0x486A, {0x81, 0xA8, 0x8F, 0x0E, 0xCB, 0x60, 0x71, 0xDD}};

// The SYNC_* bits of MAPISIB::ulFlags.
constexpr ULONG SYNC_UPLOAD_HIERARCHY = 0x00000001;
constexpr ULONG SYNC_DOWNLOAD_HIERARCHY = 0x00000002;
constexpr ULONG SYNC_UPLOAD_CONTENTS = 0x00000040;
constexpr ULONG SYNC_DOWNLOAD_CONTENTS = 0x00000080;
constexpr ULONG SYNC_OUTGOING_MAIL = 0x00000200;
constexpr ULONG SYNC_GLOBAL_HEADERS = 0x02000000;
constexpr ULONG SYNC_ON_DEMAND = 0x20000000;

// The host's MAPI session; only its IUnknown part matters here.
struct IMAPISession : IUnknown {};

struct MAPISIB {
    ULONG ulSize;             // size of the structure in bytes
    ULONG ulFlags;            // SYNC_* bits
    IMAPISession *psesSync;   // [in] the MAPI session
    IUnknown *punkCallBack;   // [in] queried for IMAPISyncProgressCallback
    HANDLE *phSyncDoneEvent;  // [out] the event signalled when the sync ends
};

static_assert(sizeof(void *) != 8 || sizeof(MAPISIB) == 32, "MAPISIB is 32 bytes on 64-bit targets");
static_assert(sizeof(void *) != 4 || sizeof(MAPISIB) == 20, "MAPISIB is 20 bytes on 32-bit targets");
static_assert(offsetof(MAPISIB, ulFlags) == 4, "MAPISIB layout");
static_assert(offsetof(MAPISIB, psesSync) == 8, "MAPISIB layout");
static_assert(offsetof(MAPISIB, punkCallBack) == 8 + sizeof(void *), "MAPISIB layout");
static_assert(offsetof(MAPISIB, phSyncDoneEvent) == 8 + 2 * sizeof(void *), "MAPISIB layout");

struct IMAPISync : IUnknown {
    virtual HRESULT STDMETHODCALLTYPE SynchronizeInBackground(MAPISIB *psibpb) = 0;
};

struct IMAPISyncProgressCallback : IUnknown {
    virtual HRESULT STDMETHODCALLTYPE Progress(const WCHAR *pwcszProgress, ULONG ulIndex, ULONG ulIndexMax) = 0;
    virtual HRESULT STDMETHODCALLTYPE Error(HRESULT hResult, const WCHAR *pwcszErrorStr) = 0;
    virtual HRESULT STDMETHODCALLTYPE Done(HANDLE hThreadDoneEvent, HRESULT hResult) = 0;
};

// The in-proc server's exports.
typedef HRESULT(STDMETHODCALLTYPE *DllGetClassObjectFn)(REFCLSID rclsid, REFIID riid, void **ppv);
typedef HRESULT(STDMETHODCALLTYPE *DllCanUnloadNowFn)();
#ifdef _WIN32
typedef HRESULT(STDMETHODCALLTYPE *DllRegisterServerFn)();
typedef HRESULT(STDMETHODCALLTYPE *DllInstallFn)(BOOL bInstall, const WCHAR *pszCmdLine);
#else
// Without Win32 events the provider exports its own wait and close for the
// done event, with WaitForSingleObject's and CloseHandle's meaning.
extern "C" {
typedef uint32_t (*mapisync_wait_event_fn)(HANDLE handle, uint32_t timeout_ms);
typedef int32_t (*mapisync_close_event_fn)(HANDLE handle);
}
constexpr uint32_t WAIT_OBJECT_0 = 0;
constexpr uint32_t WAIT_TIMEOUT = 0x102;
#endif

#endif  // MAPISYNC_TESTS_IMAPISYNC_H

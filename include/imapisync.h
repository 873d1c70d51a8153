/*
 * imapisync.h: IMAPISync, MAPISIB and IMAPISyncProgressCallback for C and
 * C++, x86 and x64, as the mapisync crate implements them
 * (https://github.com/mapisync/mapisync, docs/contract.md).
 *
 * Microsoft documents these types in the Outlook MAPI reference, but no
 * public C or C++ header declares them: a store that aggregates a mapisync
 * object, or a host that drives one, includes this header. It declares the
 * IIDs, MAPISIB (with size and offset checks for 32- and 64-bit targets),
 * both interfaces (C++ classes and C vtables), the SYNC_* flags and the
 * HRESULTs the crate returns. Include it before or after the MAPI headers
 * (mapidefs.h, mapicode.h, mapix.h): where they declare the same name, theirs
 * wins and the values are equal.
 *
 * What a host sees, in this order, once SynchronizeInBackground returned
 * S_OK (the event is already in *phSyncDoneEvent when it returns):
 *   1. Progress and Error calls, from the sync's worker thread;
 *   2. the done event is signalled;
 *   3. Done(event, hr) with the sync's final HRESULT;
 *   4. the worker releases its references to the callback, the session and
 *      the sync object, each exactly once, after Done has returned.
 * The host owns the event and closes it (CloseHandle on Windows;
 * mapisync_close_event elsewhere); it may close it inside Done.
 *
 * On Windows the SDK's IUnknown, IClassFactory, GUID, HRESULT and HANDLE are
 * used; elsewhere this header declares them with the same layout.
 *
 * Licensed under MIT OR Apache-2.0, as the mapisync crate.
 */
#ifndef MAPISYNC_IMAPISYNC_H
#define MAPISYNC_IMAPISYNC_H

#ifdef __cplusplus
#include <cstddef>
#include <cstdint>
#include <cstring>
#else
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#endif

#ifdef __cplusplus
#define MAPISYNC_STATIC_ASSERT(condition, message) static_assert(condition, message)
#else
#define MAPISYNC_STATIC_ASSERT(condition, message) _Static_assert(condition, message)
#endif

/* A constant of the given type: an enumerator in C (a constant expression
 * there), a static const in C++. Each is declared only where no header
 * before this one has defined the name (as a macro). */
#ifdef __cplusplus
#define MAPISYNC_CONSTANT(type, name, value) static const type name = (type)(value);
#else
#define MAPISYNC_CONSTANT(type, name, value) enum { name = (int)(value) };
#endif

#ifdef _WIN32
#include <windows.h>
#include <objbase.h>
#include <unknwn.h>
#else
typedef int32_t HRESULT;
typedef uint32_t ULONG;
typedef int32_t BOOL;
#ifdef __cplusplus
typedef char16_t WCHAR;
#else
typedef uint16_t WCHAR;
#endif
typedef void *HANDLE;
#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;
typedef GUID IID;
typedef GUID CLSID;
#ifdef __cplusplus
typedef const IID &REFIID;
typedef const CLSID &REFCLSID;
inline bool operator==(const GUID &a, const GUID &b) { return memcmp(&a, &b, sizeof(GUID)) == 0; }
inline bool operator!=(const GUID &a, const GUID &b) { return !(a == b); }
#else
typedef const IID *REFIID;
typedef const CLSID *REFCLSID;
#endif

/* COM's calling convention is the C one outside Windows. */
#define STDMETHODCALLTYPE
#ifndef CONST_VTBL
#define CONST_VTBL
#endif

/* {00000000-0000-0000-C000-000000000046} */
static const IID IID_IUnknown = {0x00000000, 0x0000, 0x0000, {0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}};
/* {00000001-0000-0000-C000-000000000046} */
static const IID IID_IClassFactory = {0x00000001, 0x0000, 0x0000, {0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}};

#ifdef __cplusplus
struct IUnknown {
    virtual HRESULT STDMETHODCALLTYPE QueryInterface(REFIID riid, void **ppvObject) = 0;
    virtual ULONG STDMETHODCALLTYPE AddRef() = 0;
    virtual ULONG STDMETHODCALLTYPE Release() = 0;
};

struct IClassFactory : public IUnknown {
    virtual HRESULT STDMETHODCALLTYPE CreateInstance(IUnknown *pUnkOuter, REFIID riid, void **ppvObject) = 0;
    virtual HRESULT STDMETHODCALLTYPE LockServer(BOOL fLock) = 0;
};
#else
typedef struct IUnknown IUnknown;
typedef struct IUnknownVtbl {
    HRESULT(STDMETHODCALLTYPE *QueryInterface)(IUnknown *This, REFIID riid, void **ppvObject);
    ULONG(STDMETHODCALLTYPE *AddRef)(IUnknown *This);
    ULONG(STDMETHODCALLTYPE *Release)(IUnknown *This);
} IUnknownVtbl;
struct IUnknown {
    CONST_VTBL IUnknownVtbl *lpVtbl;
};

typedef struct IClassFactory IClassFactory;
typedef struct IClassFactoryVtbl {
    HRESULT(STDMETHODCALLTYPE *QueryInterface)(IClassFactory *This, REFIID riid, void **ppvObject);
    ULONG(STDMETHODCALLTYPE *AddRef)(IClassFactory *This);
    ULONG(STDMETHODCALLTYPE *Release)(IClassFactory *This);
    HRESULT(STDMETHODCALLTYPE *CreateInstance)(IClassFactory *This, IUnknown *pUnkOuter, REFIID riid, void **ppvObject);
    HRESULT(STDMETHODCALLTYPE *LockServer)(IClassFactory *This, BOOL fLock);
} IClassFactoryVtbl;
struct IClassFactory {
    CONST_VTBL IClassFactoryVtbl *lpVtbl;
};
#endif
#endif /* _WIN32 */

MAPISYNC_STATIC_ASSERT(sizeof(HRESULT) == 4, "HRESULT is 32 bits");
MAPISYNC_STATIC_ASSERT(sizeof(ULONG) == 4, "ULONG is 32 bits");
MAPISYNC_STATIC_ASSERT(sizeof(WCHAR) == 2, "WCHAR is a UTF-16 code unit");
MAPISYNC_STATIC_ASSERT(sizeof(GUID) == 16, "GUID is 16 bytes");

/* ---- HRESULTs the crate returns or hosts send ----------------------------
 * COM's (winerror.h declares them on Windows) and MAPI's (mapicode.h). */
#ifndef S_OK
MAPISYNC_CONSTANT(HRESULT, S_OK, 0x00000000u)
#endif
#ifndef S_FALSE
MAPISYNC_CONSTANT(HRESULT, S_FALSE, 0x00000001u)
#endif
#ifndef E_NOINTERFACE
MAPISYNC_CONSTANT(HRESULT, E_NOINTERFACE, 0x80004002u) /* MAPI_E_INTERFACE_NOT_SUPPORTED */
#endif
#ifndef E_POINTER
MAPISYNC_CONSTANT(HRESULT, E_POINTER, 0x80004003u)
#endif
#ifndef E_FAIL
MAPISYNC_CONSTANT(HRESULT, E_FAIL, 0x80004005u) /* MAPI_E_CALL_FAILED */
#endif
#ifndef E_UNEXPECTED
MAPISYNC_CONSTANT(HRESULT, E_UNEXPECTED, 0x8000FFFFu) /* a provider panicked */
#endif
#ifndef E_INVALIDARG
MAPISYNC_CONSTANT(HRESULT, E_INVALIDARG, 0x80070057u) /* MAPI_E_INVALID_PARAMETER */
#endif
#ifndef E_OUTOFMEMORY
MAPISYNC_CONSTANT(HRESULT, E_OUTOFMEMORY, 0x8007000Eu) /* MAPI_E_NOT_ENOUGH_MEMORY */
#endif
#ifndef CLASS_E_NOAGGREGATION
MAPISYNC_CONSTANT(HRESULT, CLASS_E_NOAGGREGATION, 0x80040110u)
#endif
#ifndef CLASS_E_CLASSNOTAVAILABLE
MAPISYNC_CONSTANT(HRESULT, CLASS_E_CLASSNOTAVAILABLE, 0x80040111u)
#endif
#ifndef MAPI_E_NO_SUPPORT
MAPISYNC_CONSTANT(HRESULT, MAPI_E_NO_SUPPORT, 0x80040102u)
#endif
#ifndef MAPI_E_BUSY
MAPISYNC_CONSTANT(HRESULT, MAPI_E_BUSY, 0x8004010Bu) /* a sync of this object is running */
#endif
#ifndef MAPI_E_USER_CANCEL
MAPISYNC_CONSTANT(HRESULT, MAPI_E_USER_CANCEL, 0x80040113u)
#endif
#ifndef MAPI_E_NETWORK_ERROR
MAPISYNC_CONSTANT(HRESULT, MAPI_E_NETWORK_ERROR, 0x80040115u)
#endif
#ifndef MAPI_E_END_OF_SESSION
MAPISYNC_CONSTANT(HRESULT, MAPI_E_END_OF_SESSION, 0x80040200u) /* the provider is shutting down */
#endif

/* ---- Interface identifiers ----------------------------------------------- */
/* {5024A385-2D44-486A-81A8-8F0ECB6071DD} */
static const IID IID_IMAPISync = {0x5024A385, 0x2D44, 0x486A, {0x81, 0xA8, 0x8F, 0x0E, 0xCB, 0x60, 0x71, 0xDD}};
/* {5024A386-2D44-486A-81A8-8F0ECB6071DD} */
static const IID IID_IMAPISyncProgressCallback = {
    0x5024A386, 0x2D44, 0x486A, {0x81, 0xA8, 0x8F, 0x0E, 0xCB, 0x60, 0x71, 0xDD}};

/* ---- MAPISIB -------------------------------------------------------------- */
/* The SYNC_* bits of MAPISIB.ulFlags; they combine, and a newer host may
 * send others, which the crate keeps and shows to the provider. */
#ifndef SYNC_UPLOAD_HIERARCHY
MAPISYNC_CONSTANT(ULONG, SYNC_UPLOAD_HIERARCHY, 0x00000001u) /* send folder-hierarchy changes */
#endif
#ifndef SYNC_DOWNLOAD_HIERARCHY
MAPISYNC_CONSTANT(ULONG, SYNC_DOWNLOAD_HIERARCHY, 0x00000002u) /* fetch folder-hierarchy changes */
#endif
#ifndef SYNC_UPLOAD_CONTENTS
MAPISYNC_CONSTANT(ULONG, SYNC_UPLOAD_CONTENTS, 0x00000040u) /* send message changes */
#endif
#ifndef SYNC_DOWNLOAD_CONTENTS
MAPISYNC_CONSTANT(ULONG, SYNC_DOWNLOAD_CONTENTS, 0x00000080u) /* fetch message changes */
#endif
#ifndef SYNC_OUTGOING_MAIL
MAPISYNC_CONSTANT(ULONG, SYNC_OUTGOING_MAIL, 0x00000200u) /* send outgoing mail (documented as not in use) */
#endif
#ifndef SYNC_GLOBAL_HEADERS
MAPISYNC_CONSTANT(ULONG, SYNC_GLOBAL_HEADERS, 0x02000000u) /* headers only (also named SYNC_HEADERS) */
#endif
#ifndef SYNC_ON_DEMAND
MAPISYNC_CONSTANT(ULONG, SYNC_ON_DEMAND, 0x20000000u) /* the user asked for this sync */
#endif

/* The host's MAPI session: declared in full by MAPI's mapix.h. */
#ifdef __cplusplus
struct IMAPISession;
#else
typedef struct IMAPISession IMAPISession;
#endif

/* The argument of IMAPISync::SynchronizeInBackground. ulSize is what the
 * host filled (at least sizeof(MAPISIB) of its platform; a larger size is
 * accepted and the rest ignored). */
typedef struct _MAPISIB {
    ULONG ulSize;                   /* size of the structure in bytes */
    ULONG ulFlags;                  /* SYNC_* bits */
    struct IMAPISession *psesSync;  /* [in] the MAPI session, or NULL */
    IUnknown *punkCallBack;         /* [in] queried for IMAPISyncProgressCallback, or NULL */
    HANDLE *phSyncDoneEvent;        /* [out] the event signalled when the sync ends */
} MAPISIB, *PMAPISIB;

#if UINTPTR_MAX > 0xFFFFFFFFu
MAPISYNC_STATIC_ASSERT(sizeof(MAPISIB) == 32, "MAPISIB is 32 bytes on 64-bit targets");
MAPISYNC_STATIC_ASSERT(offsetof(MAPISIB, psesSync) == 8, "MAPISIB.psesSync at 8 on 64-bit targets");
MAPISYNC_STATIC_ASSERT(offsetof(MAPISIB, punkCallBack) == 16, "MAPISIB.punkCallBack at 16 on 64-bit targets");
MAPISYNC_STATIC_ASSERT(offsetof(MAPISIB, phSyncDoneEvent) == 24, "MAPISIB.phSyncDoneEvent at 24 on 64-bit targets");
#else
MAPISYNC_STATIC_ASSERT(sizeof(MAPISIB) == 20, "MAPISIB is 20 bytes on 32-bit targets");
MAPISYNC_STATIC_ASSERT(offsetof(MAPISIB, psesSync) == 8, "MAPISIB.psesSync at 8 on 32-bit targets");
MAPISYNC_STATIC_ASSERT(offsetof(MAPISIB, punkCallBack) == 12, "MAPISIB.punkCallBack at 12 on 32-bit targets");
MAPISYNC_STATIC_ASSERT(offsetof(MAPISIB, phSyncDoneEvent) == 16, "MAPISIB.phSyncDoneEvent at 16 on 32-bit targets");
#endif
MAPISYNC_STATIC_ASSERT(offsetof(MAPISIB, ulSize) == 0, "MAPISIB.ulSize at 0");
MAPISYNC_STATIC_ASSERT(offsetof(MAPISIB, ulFlags) == 4, "MAPISIB.ulFlags at 4");

/* ---- The interfaces --------------------------------------------------------
 * IMAPISync: implemented by the store provider (slot 3 after IUnknown).
 * SynchronizeInBackground validates MAPISIB, writes the done event to
 * *phSyncDoneEvent and returns S_OK at once; the sync runs on a worker
 * thread. It returns E_INVALIDARG for a NULL psibpb, a short ulSize or a
 * NULL phSyncDoneEvent, MAPI_E_BUSY while this object's sync runs,
 * MAPI_E_END_OF_SESSION after the provider shut down; on every failure
 * *phSyncDoneEvent (when writable) is NULL and nothing runs.
 *
 * IMAPISyncProgressCallback: implemented by the host (slots 3 to 5). A
 * failed Progress or Error (MAPI_E_USER_CANCEL, say) stops the sync. Done
 * hands back the event written to *phSyncDoneEvent. Strings are
 * NUL-terminated UTF-16; Progress's text may be NULL. */
#ifdef __cplusplus
struct IMAPISync : public IUnknown {
    virtual HRESULT STDMETHODCALLTYPE SynchronizeInBackground(MAPISIB *psibpb) = 0;
};

struct IMAPISyncProgressCallback : public IUnknown {
    virtual HRESULT STDMETHODCALLTYPE Progress(const WCHAR *pwcszProgress, ULONG ulIndex, ULONG ulIndexMax) = 0;
    virtual HRESULT STDMETHODCALLTYPE Error(HRESULT hResult, const WCHAR *pwcszErrorStr) = 0;
    virtual HRESULT STDMETHODCALLTYPE Done(HANDLE hThreadDoneEvent, HRESULT hResult) = 0;
};

MAPISYNC_STATIC_ASSERT(sizeof(IMAPISync) == sizeof(void *), "an IMAPISync is one vtable pointer");
MAPISYNC_STATIC_ASSERT(sizeof(IMAPISyncProgressCallback) == sizeof(void *), "a callback is one vtable pointer");
#else
typedef struct IMAPISync IMAPISync;
typedef struct IMAPISyncVtbl {
    HRESULT(STDMETHODCALLTYPE *QueryInterface)(IMAPISync *This, REFIID riid, void **ppvObject);
    ULONG(STDMETHODCALLTYPE *AddRef)(IMAPISync *This);
    ULONG(STDMETHODCALLTYPE *Release)(IMAPISync *This);
    HRESULT(STDMETHODCALLTYPE *SynchronizeInBackground)(IMAPISync *This, MAPISIB *psibpb);
} IMAPISyncVtbl;
struct IMAPISync {
    CONST_VTBL IMAPISyncVtbl *lpVtbl;
};

typedef struct IMAPISyncProgressCallback IMAPISyncProgressCallback;
typedef struct IMAPISyncProgressCallbackVtbl {
    HRESULT(STDMETHODCALLTYPE *QueryInterface)(IMAPISyncProgressCallback *This, REFIID riid, void **ppvObject);
    ULONG(STDMETHODCALLTYPE *AddRef)(IMAPISyncProgressCallback *This);
    ULONG(STDMETHODCALLTYPE *Release)(IMAPISyncProgressCallback *This);
    HRESULT(STDMETHODCALLTYPE *Progress)(IMAPISyncProgressCallback *This, const WCHAR *pwcszProgress, ULONG ulIndex,
                                         ULONG ulIndexMax);
    HRESULT(STDMETHODCALLTYPE *Error)(IMAPISyncProgressCallback *This, HRESULT hResult, const WCHAR *pwcszErrorStr);
    HRESULT(STDMETHODCALLTYPE *Done)(IMAPISyncProgressCallback *This, HANDLE hThreadDoneEvent, HRESULT hResult);
} IMAPISyncProgressCallbackVtbl;
struct IMAPISyncProgressCallback {
    CONST_VTBL IMAPISyncProgressCallbackVtbl *lpVtbl;
};

MAPISYNC_STATIC_ASSERT(sizeof(IMAPISyncVtbl) == 4 * sizeof(void *), "IMAPISync has 4 slots");
MAPISYNC_STATIC_ASSERT(offsetof(IMAPISyncVtbl, SynchronizeInBackground) == 3 * sizeof(void *), "slot 3");
MAPISYNC_STATIC_ASSERT(sizeof(IMAPISyncProgressCallbackVtbl) == 6 * sizeof(void *), "the callback has 6 slots");
MAPISYNC_STATIC_ASSERT(offsetof(IMAPISyncProgressCallbackVtbl, Progress) == 3 * sizeof(void *), "slot 3");
MAPISYNC_STATIC_ASSERT(offsetof(IMAPISyncProgressCallbackVtbl, Error) == 4 * sizeof(void *), "slot 4");
MAPISYNC_STATIC_ASSERT(offsetof(IMAPISyncProgressCallbackVtbl, Done) == 5 * sizeof(void *), "slot 5");

#ifdef COBJMACROS
#define IMAPISync_QueryInterface(This, riid, ppv) ((This)->lpVtbl->QueryInterface(This, riid, ppv))
#define IMAPISync_AddRef(This) ((This)->lpVtbl->AddRef(This))
#define IMAPISync_Release(This) ((This)->lpVtbl->Release(This))
#define IMAPISync_SynchronizeInBackground(This, psibpb) ((This)->lpVtbl->SynchronizeInBackground(This, psibpb))
#define IMAPISyncProgressCallback_Progress(This, text, index, max) ((This)->lpVtbl->Progress(This, text, index, max))
#define IMAPISyncProgressCallback_Error(This, hr, text) ((This)->lpVtbl->Error(This, hr, text))
#define IMAPISyncProgressCallback_Done(This, event, hr) ((This)->lpVtbl->Done(This, event, hr))
#endif
#endif /* __cplusplus */

/* ---- The in-proc server's exports (mapisync::export_server!) --------------
 * DllGetClassObject and DllCanUnloadNow everywhere; DllRegisterServer,
 * DllUnregisterServer and DllInstall on Windows. */
typedef HRESULT(STDMETHODCALLTYPE *DllGetClassObjectFn)(REFCLSID rclsid, REFIID riid, void **ppv);
typedef HRESULT(STDMETHODCALLTYPE *DllCanUnloadNowFn)(void);
#ifdef _WIN32
typedef HRESULT(STDMETHODCALLTYPE *DllRegisterServerFn)(void);
typedef HRESULT(STDMETHODCALLTYPE *DllInstallFn)(BOOL bInstall, const WCHAR *pszCmdLine);
#else
/* Without Win32 events a provider built with mapisync exports its own wait
 * and close for the done event, with WaitForSingleObject's and
 * CloseHandle's meaning (find them with dlsym). */
#ifdef __cplusplus
extern "C" {
#endif
typedef uint32_t (*mapisync_wait_event_fn)(HANDLE handle, uint32_t timeout_ms);
typedef int32_t (*mapisync_close_event_fn)(HANDLE handle);
#ifdef __cplusplus
}
#endif
#ifndef WAIT_OBJECT_0
#define WAIT_OBJECT_0 0x00000000u
#endif
#ifndef WAIT_TIMEOUT
#define WAIT_TIMEOUT 0x00000102u
#endif
#ifndef WAIT_FAILED
#define WAIT_FAILED 0xFFFFFFFFu
#endif
#ifndef INFINITE
#define INFINITE 0xFFFFFFFFu
#endif
#endif /* _WIN32 */

#endif /* MAPISYNC_IMAPISYNC_H */

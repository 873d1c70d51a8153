// A hand-written IMAPISync COM object, the way a C++ provider author writes
// one without a framework: a vtable from pure virtual methods, an
// InterlockedIncrement-style count (one locked add, as ATL's
// CComMultiThreadModel does), QueryInterface comparing IIDs with memcmp (as
// the Windows SDK's IsEqualGUID does), and SynchronizeInBackground starting
// a std::thread that calls Done.
//
// The benchmark calls it only through its vtable, exactly as it calls the
// mapisync and windows-rs objects. On x86-64 Linux the member functions use
// the C calling convention with `this` first, which is what Rust's
// `extern "system"` is there; the Itanium ABI puts the vtable pointer at
// offset 0 and the virtual functions in declaration order, as COM needs.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>

// The interface declarations have external linkage, as a COM header's do:
// in an anonymous namespace GCC would know every class deriving from them in
// this file and devirtualize calls on the host's callback into calls on Sync.
typedef int32_t HRESULT;
typedef uint32_t ULONG;
typedef void *HANDLE;

struct GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
};

inline bool operator==(const GUID &a, const GUID &b) { return std::memcmp(&a, &b, sizeof(GUID)) == 0; }

const HRESULT S_OK = 0;
const HRESULT E_NOINTERFACE = static_cast<HRESULT>(0x80004002u);
const HRESULT E_POINTER = static_cast<HRESULT>(0x80004003u);
const HRESULT E_INVALIDARG = static_cast<HRESULT>(0x80070057u);
const HRESULT E_OUTOFMEMORY = static_cast<HRESULT>(0x8007000Eu);
const HRESULT MAPI_E_BUSY = static_cast<HRESULT>(0x8004010Bu);

const GUID IID_IUnknown = {0x00000000, 0x0000, 0x0000, {0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}};
const GUID IID_IMAPISync = {0x5024A385, 0x2D44, 0x486A, {0x81, 0xA8, 0x8F, 0x0E, 0xCB, 0x60, 0x71, 0xDD}};
const GUID IID_IMAPISyncProgressCallback = {
    0x5024A386, 0x2D44, 0x486A, {0x81, 0xA8, 0x8F, 0x0E, 0xCB, 0x60, 0x71, 0xDD}};

struct IUnknown {
    virtual HRESULT QueryInterface(const GUID &riid, void **ppv) = 0;
    virtual ULONG AddRef() = 0;
    virtual ULONG Release() = 0;
};

struct IMAPISyncProgressCallback : IUnknown {
    virtual HRESULT Progress(const uint16_t *text, ULONG index, ULONG max) = 0;
    virtual HRESULT Error(HRESULT hr, const uint16_t *text) = 0;
    virtual HRESULT Done(HANDLE event, HRESULT hr) = 0;
};

struct MAPISIB {
    ULONG ulSize;
    ULONG ulFlags;
    IUnknown *psesSync;
    IUnknown *punkCallBack;
    HANDLE *phSyncDoneEvent;
};

struct IMAPISync : IUnknown {
    virtual HRESULT SynchronizeInBackground(MAPISIB *psibpb) = 0;
};

namespace {

// The done event on a platform without Win32 events: a manual-reset event
// with two owners (the host's handle and the worker's), as the Windows
// provider would have with DuplicateHandle.
struct DoneEvent {
    std::atomic<ULONG> owners{2};
    std::mutex lock;
    std::condition_variable woken;
    bool signalled = false;

    void signal() {
        {
            std::lock_guard<std::mutex> guard(lock);
            signalled = true;
        }
        woken.notify_all();
    }
    void close() {
        if (owners.fetch_sub(1) == 1) delete this;
    }
};

class Sync final : public IMAPISync {
  public:
    HRESULT QueryInterface(const GUID &riid, void **ppv) override {
        if (ppv == nullptr) return E_POINTER;
        if (riid == IID_IUnknown || riid == IID_IMAPISync) {
            AddRef();
            *ppv = static_cast<IMAPISync *>(this);
            return S_OK;
        }
        *ppv = nullptr;
        return E_NOINTERFACE;
    }

    ULONG AddRef() override { return ++refs_; }

    ULONG Release() override {
        ULONG left = --refs_;
        if (left == 0) delete this;
        return left;
    }

    HRESULT SynchronizeInBackground(MAPISIB *sib) override {
        if (sib == nullptr || sib->ulSize < sizeof(MAPISIB) || sib->phSyncDoneEvent == nullptr) return E_INVALIDARG;
        *sib->phSyncDoneEvent = nullptr;
        ULONG idle = 0;
        if (!busy_.compare_exchange_strong(idle, 1)) return MAPI_E_BUSY;

        IMAPISyncProgressCallback *callback = nullptr;
        if (sib->punkCallBack != nullptr)
            sib->punkCallBack->QueryInterface(IID_IMAPISyncProgressCallback, reinterpret_cast<void **>(&callback));
        IUnknown *session = sib->psesSync;
        if (session != nullptr) session->AddRef();

        DoneEvent *event = new (std::nothrow) DoneEvent;
        if (event == nullptr) {
            if (callback != nullptr) callback->Release();
            if (session != nullptr) session->Release();
            busy_ = 0;
            return E_OUTOFMEMORY;
        }
        AddRef();
        try {
            std::thread([this, callback, session, event] { Run(callback, session, event); }).detach();
        } catch (...) {
            Release();
            delete event;
            if (callback != nullptr) callback->Release();
            if (session != nullptr) session->Release();
            busy_ = 0;
            return E_OUTOFMEMORY;
        }
        *sib->phSyncDoneEvent = event;
        return S_OK;
    }

  private:
    // The provider's work is empty: the sync ends at once.
    void Run(IMAPISyncProgressCallback *callback, IUnknown *session, DoneEvent *event) {
        busy_.store(0);
        event->signal();
        if (callback != nullptr) {
            callback->Done(event, S_OK);
            callback->Release();
        }
        if (session != nullptr) session->Release();
        event->close();
        Release();
    }

    std::atomic<ULONG> refs_{1};
    std::atomic<ULONG> busy_{0};
};

}  // namespace

// A new object with a count of one, as its IMAPISync (= IUnknown) pointer.
extern "C" void *cpp_sync_create() { return static_cast<IMAPISync *>(new Sync); }

// The host's side of the done event: close the handle the sync wrote.
extern "C" void cpp_close_event(void *event) {
    if (event != nullptr) static_cast<DoneEvent *>(event)->close();
}

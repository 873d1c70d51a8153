// A C++17 host for the example provider DLL, written only from the
// declarations in imapisync.h (from the project's reference, not from the
// Rust types). It drives the provider as Outlook would and checks every
// documented behaviour; any change in that behaviour fails a check. It
// also aggregates the provider into a C++ store object of its own
// (CreateInstance, and on Windows CoCreateInstance, with an outer unknown)
// and checks COM identity and reference counts across outer and inner.
//
// Build and run (one translation unit):
//   Linux:   g++ -std=c++17 -Wall -Wextra -Werror -O1 -o host tests/cpp/host.cpp -ldl -pthread
//            ./host target/debug/libmapisync_example_provider.so
//   Windows: x86_64-w64-mingw32-g++ -std=c++17 -Wall -Wextra -Werror -O1 -static -o host.exe
//              tests/cpp/host.cpp -lole32 -luuid -ladvapi32   (one command)
//            host.exe path\to\mapisync_example_provider.dll
//
// Linux: the object comes from dlopen + DllGetClassObject; the done event is
// waited on and closed with the DLL's mapisync_wait_event and
// mapisync_close_event. Windows: the host registers the DLL itself
// (DllInstall "user", then DllRegisterServer), gets the object with
// CoCreateInstance in the multithreaded apartment, waits with
// WaitForSingleObject and closes with CloseHandle, and unregisters at the end.
//
// Every check prints one line; the last line is "N passed, M failed" and
// the exit status is non-zero when any check failed.

#include "com_host.h"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>

#ifdef _WIN32
#include <windows.h>
#else
#include <dlfcn.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace {

using namespace com_host;

// {39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}: the example provider's class.
constexpr CLSID CLSID_ExampleProvider = {0x39A7C4C5, 0x53CE, 0x4119, {0x89, 0xCB, 0xBD, 0x5C, 0x40, 0xBD, 0x5C, 0x7C}};

// ---------------------------------------------------------------- reporting

bool check_hr(HRESULT got, HRESULT want, const char *what) {
    return check(got == want, "%s: 0x%08X (want 0x%08X)", what, hex(got), hex(want));
}

// ---------------------------------------------------------------- platform

uint64_t thread_id() {
#ifdef _WIN32
    return GetCurrentThreadId();
#else
    return static_cast<uint64_t>(pthread_self());
#endif
}

#ifndef _WIN32
mapisync_wait_event_fn g_wait_event = nullptr;
mapisync_close_event_fn g_close_event = nullptr;
#endif

// WaitForSingleObject's meaning: true when signalled within `ms`.
bool event_signalled(HANDLE event, uint32_t ms) {
#ifdef _WIN32
    return WaitForSingleObject(event, ms) == WAIT_OBJECT_0;
#else
    return g_wait_event(event, ms) == WAIT_OBJECT_0;
#endif
}

// CloseHandle's meaning: true when closed.
bool close_event(HANDLE event) {
#ifdef _WIN32
    return CloseHandle(event) != 0;
#else
    return g_close_event(event) != 0;
#endif
}

const HANDLE kSentinel = reinterpret_cast<HANDLE>(static_cast<uintptr_t>(0x5EE0));

// ---------------------------------------------------------------- host objects

enum class Mode {
    Record,          // answers every call with S_OK
    CancelAtStep2,   // Progress for step 2 returns MAPI_E_USER_CANCEL
    Refuse,          // QueryInterface refuses IMAPISyncProgressCallback
    Gate,            // the first Progress waits until the gate opens
};

// One call the provider made on the callback.
struct Call {
    enum Kind { Progress, Error, Done } kind;
    ULONG index, max;          // Progress
    bool has_text;             // Progress, Error
    char text[128];            // ASCII rendering of the text
    HRESULT hr;                // Error, Done
    HANDLE event;              // Done
    bool event_already_signalled;  // Done: was the event signalled when Done came?
    uint64_t thread;
};

// The host's IMAPISyncProgressCallback: records each call. Calls come from
// the provider's worker thread one at a time; each record is published by
// the release store of `count`.
class Callback final : public HostObject<IMAPISyncProgressCallback> {
public:
    explicit Callback(Mode mode) : HostObject(Lifetime::LastRelease), mode_(mode) {}

    std::atomic<int> count{0};
    std::atomic<int> done_calls{0};
    Gate gate;
    Call calls[16] = {};

    HRESULT STDMETHODCALLTYPE Progress(const WCHAR *text, ULONG index, ULONG max) override {
        Call call = {};
        call.kind = Call::Progress;
        call.index = index;
        call.max = max;
        set_text(call, text);
        record(call);
        if (mode_ == Mode::Gate) gate.pass();
        if (mode_ == Mode::CancelAtStep2 && index == 2) return MAPI_E_USER_CANCEL;
        return S_OK;
    }

    HRESULT STDMETHODCALLTYPE Error(HRESULT hr, const WCHAR *text) override {
        Call call = {};
        call.kind = Call::Error;
        call.hr = hr;
        set_text(call, text);
        record(call);
        return S_OK;
    }

    HRESULT STDMETHODCALLTYPE Done(HANDLE event, HRESULT hr) override {
        Call call = {};
        call.kind = Call::Done;
        call.event = event;
        call.hr = hr;
        call.event_already_signalled = event != nullptr && event_signalled(event, 0);
        record(call);
        done_calls.fetch_add(1, std::memory_order_release);
        return S_OK;
    }

private:
    Mode mode_;

    bool serves(REFIID riid) const override {
        return riid == IID_IMAPISyncProgressCallback && mode_ != Mode::Refuse;
    }

    static void set_text(Call &call, const WCHAR *text) {
        call.has_text = text != nullptr;
        size_t i = 0;
        for (; text != nullptr && text[i] != 0 && i + 1 < sizeof call.text; ++i) {
            call.text[i] = text[i] < 0x80 ? static_cast<char>(text[i]) : '?';
        }
        call.text[i] = 0;
    }

    void record(Call call) {
        call.thread = thread_id();
        int at = count.load(std::memory_order_relaxed);
        if (at < 16) {
            calls[at] = call;
            count.store(at + 1, std::memory_order_release);
        }
    }
};

// ---------------------------------------------------------------- COM helpers

ULONG ref_count(IUnknown *object) {
    object->AddRef();
    return object->Release();
}

template <typename T>
bool back_to(T *object, ULONG count) {
    return eventually([&] { return object->refs.load() == count; });
}

bool provider_back_to(IUnknown *object, ULONG count) {
    return eventually([&] { return ref_count(object) == count; });
}

// One sync from the host's side.
struct Run {
    HRESULT started;
    HANDLE event;
};

Run start(IMAPISync *sync, Session *session, IUnknown *callback, ULONG flags = SYNC_DOWNLOAD_CONTENTS | SYNC_ON_DEMAND) {
    HANDLE event = kSentinel;
    MAPISIB sib = {sizeof(MAPISIB), flags, session, callback, &event};
    HRESULT hr = sync->SynchronizeInBackground(&sib);
    // The caller's MAPISIB is never read after the call returns: spoil it.
    std::memset(&sib, 0xA5, sizeof sib);
    return {hr, event};
}

bool wait_done(Callback *callback, int calls = 1) {
    return eventually([&] { return callback->done_calls.load(std::memory_order_acquire) >= calls; });
}

// Checks the documented sequence: Progress 1, 2, 3 of 3 with text (or up to
// `last_step` when the callback cancels there), then one Done(event, hr),
// all on a thread other than the caller's, the event already signalled.
void check_sequence(const char *name, Callback *callback, HANDLE event, ULONG last_step, HRESULT want) {
    int want_calls = static_cast<int>(last_step) + 1;
    // Any stray call after Done would show up in this short grace period.
    sleep_ms(50);
    int count = callback->count.load(std::memory_order_acquire);
    check(count == want_calls, "%s: %d callback calls (want %d)", name, count, want_calls);
    uint64_t caller = thread_id();
    for (int i = 0; i < count && i < want_calls; ++i) {
        const Call &call = callback->calls[i];
        if (i + 1 < want_calls) {
            ULONG step = static_cast<ULONG>(i + 1);
            check(call.kind == Call::Progress && call.index == step && call.max == 3,
                  "%s: call %d is Progress(%lu of 3)", name, i + 1, static_cast<unsigned long>(step));
            check(call.has_text && call.text[0] != 0, "%s: step %lu has text \"%s\"", name,
                  static_cast<unsigned long>(step), call.text);
        } else {
            check(call.kind == Call::Done, "%s: call %d is Done", name, i + 1);
            check_hr(call.hr, want, (std::string(name) + ": Done's HRESULT").c_str());
            check(call.event == event, "%s: Done hands back the event written to *phSyncDoneEvent", name);
            check(call.event_already_signalled, "%s: the event is signalled before Done is called", name);
        }
        check(call.thread != caller, "%s: call %d comes from a worker thread", name, i + 1);
    }
    check(callback->done_calls.load() == 1, "%s: Done is called exactly once", name);
}

// Runs one sync with fresh host objects and checks everything about it.
void full_sync(IMAPISync *sync, const char *name, Mode mode, ULONG last_step, HRESULT want,
               ULONG flags = SYNC_DOWNLOAD_CONTENTS | SYNC_ON_DEMAND, bool with_session = true) {
    Session *session = with_session ? new Session : nullptr;
    Callback *callback = new Callback(mode);
    Run run = start(sync, session, callback, flags);
    check_hr(run.started, S_OK, (std::string(name) + ": SynchronizeInBackground").c_str());
    check(run.event != nullptr && run.event != kSentinel, "%s: *phSyncDoneEvent is a new handle", name);
    if (run.started == S_OK && run.event != nullptr && run.event != kSentinel) {
        check(wait_done(callback), "%s: Done arrives", name);
        check(event_signalled(run.event, kTimeoutMs), "%s: the done event is signalled", name);
        check_sequence(name, callback, run.event, last_step, want);
        check(close_event(run.event), "%s: the host closes the done event", name);
    }
    check(back_to(callback, 1), "%s: the callback is back to its starting count (1), now %lu", name,
          static_cast<unsigned long>(callback->refs.load()));
    if (session != nullptr) {
        check(back_to(session, 1), "%s: the session is back to its starting count (1), now %lu", name,
              static_cast<unsigned long>(session->refs.load()));
        session->Release();
    }
    callback->Release();
    check(provider_back_to(sync, 1), "%s: the provider is back to the host's one reference", name);
}

// ---------------------------------------------------------------- the checks

void class_factory_checks(DllGetClassObjectFn get_class_object, DllCanUnloadNowFn can_unload_now) {
    std::printf("# class factory\n");
    check_hr(can_unload_now(), S_OK, "DllCanUnloadNow before any object");

    void *out = kSentinel;
    check_hr(get_class_object(IID_IMAPISync, IID_IClassFactory, &out), CLASS_E_CLASSNOTAVAILABLE,
             "DllGetClassObject with a CLSID the DLL does not serve");
    check(out == nullptr, "  ... and *ppv is NULL");
    check_hr(get_class_object(CLSID_ExampleProvider, IID_IClassFactory, nullptr), E_POINTER,
             "DllGetClassObject with a NULL ppv");
    out = kSentinel;
    check_hr(get_class_object(CLSID_ExampleProvider, IID_IMAPISync, &out), E_NOINTERFACE,
             "DllGetClassObject for an interface a class factory does not have");
    check(out == nullptr, "  ... and *ppv is NULL");

    IClassFactory *factory = nullptr;
    HRESULT hr = get_class_object(CLSID_ExampleProvider, IID_IClassFactory, reinterpret_cast<void **>(&factory));
    if (!check_hr(hr, S_OK, "DllGetClassObject for IClassFactory") || factory == nullptr) return;
    check(ref_count(factory) == 1, "the class factory starts with one reference");
    IUnknown *unknown = nullptr;
    check_hr(factory->QueryInterface(IID_IUnknown, reinterpret_cast<void **>(&unknown)), S_OK,
             "class factory QueryInterface(IUnknown)");
    check(unknown == factory, "  ... gives the same pointer");
    if (unknown != nullptr) unknown->Release();
    check_hr(can_unload_now(), S_FALSE, "DllCanUnloadNow while a class factory lives");

    Session *outer = new Session;
    out = kSentinel;
    check_hr(factory->CreateInstance(outer, IID_IMAPISync, &out), CLASS_E_NOAGGREGATION,
             "CreateInstance with an outer unknown asking for IMAPISync (aggregation needs IID_IUnknown)");
    check(out == nullptr, "  ... and *ppv is NULL");
    check(outer->refs.load() == 1, "  ... and the outer unknown is not kept");
    outer->Release();
    check_hr(factory->CreateInstance(nullptr, IID_IMAPISync, nullptr), E_POINTER, "CreateInstance with a NULL ppv");
    out = kSentinel;
    check_hr(factory->CreateInstance(nullptr, IID_IMAPISyncProgressCallback, &out), E_NOINTERFACE,
             "CreateInstance for an interface the object does not have");
    check(out == nullptr, "  ... and *ppv is NULL");

    IUnknown *object = nullptr;
    check_hr(factory->CreateInstance(nullptr, IID_IUnknown, reinterpret_cast<void **>(&object)), S_OK,
             "CreateInstance(IUnknown)");
    if (object != nullptr) {
        check(ref_count(object) == 1, "  ... the new object has one reference");
        IMAPISync *sync = nullptr;
        check_hr(object->QueryInterface(IID_IMAPISync, reinterpret_cast<void **>(&sync)), S_OK,
                 "  ... and answers IMAPISync");
        check(static_cast<IUnknown *>(sync) == object, "  ... with the same pointer");
        if (sync != nullptr) sync->Release();
        check(object->Release() == 0, "  ... and its last Release returns 0");
    }

    check_hr(factory->LockServer(TRUE), S_OK, "LockServer(TRUE)");
    check(factory->Release() == 0, "the class factory's last Release returns 0");
    check_hr(can_unload_now(), S_FALSE, "DllCanUnloadNow while the server is locked");
    factory = nullptr;
    hr = get_class_object(CLSID_ExampleProvider, IID_IClassFactory, reinterpret_cast<void **>(&factory));
    if (check_hr(hr, S_OK, "DllGetClassObject again") && factory != nullptr) {
        check_hr(factory->LockServer(FALSE), S_OK, "LockServer(FALSE)");
        factory->Release();
    }
    check_hr(can_unload_now(), S_OK, "DllCanUnloadNow once the lock and every object are gone");
}

void identity_checks(IMAPISync *sync) {
    std::printf("# identity and reference counts\n");
    check(ref_count(sync) == 1, "the new IMAPISync has one reference");
    check(sync->AddRef() == 2, "AddRef returns 2");
    check(sync->Release() == 1, "Release returns 1");
    IUnknown *unknown = nullptr;
    check_hr(sync->QueryInterface(IID_IUnknown, reinterpret_cast<void **>(&unknown)), S_OK, "QueryInterface(IUnknown)");
    check(unknown == static_cast<IUnknown *>(sync), "  ... is the same pointer as IMAPISync (one identity)");
    IMAPISync *again = nullptr;
    check_hr(sync->QueryInterface(IID_IMAPISync, reinterpret_cast<void **>(&again)), S_OK, "QueryInterface(IMAPISync)");
    check(again == sync, "  ... is the same pointer");
    check(ref_count(sync) == 3, "each successful QueryInterface added one reference");
    if (unknown != nullptr) unknown->Release();
    if (again != nullptr) again->Release();
    void *out = kSentinel;
    check_hr(sync->QueryInterface(IID_IMAPISyncProgressCallback, &out), E_NOINTERFACE,
             "QueryInterface for an interface it does not have");
    check(out == nullptr, "  ... and *ppv is NULL");
    out = kSentinel;
    check_hr(sync->QueryInterface(IID_IClassFactory, &out), E_NOINTERFACE, "QueryInterface(IClassFactory)");
    check(out == nullptr, "  ... and *ppv is NULL");
    check_hr(sync->QueryInterface(IID_IUnknown, nullptr), E_POINTER, "QueryInterface with a NULL ppv");
    check(ref_count(sync) == 1, "the failed calls took no reference");
}

// A MAPISIB whose first `size` bytes end at an inaccessible page: reading
// any field past `ulSize` would crash the host.
class GuardedMapisib {
public:
    explicit GuardedMapisib(size_t size) {
#ifdef _WIN32
        SYSTEM_INFO info;
        GetSystemInfo(&info);
        page_ = info.dwPageSize;
        base_ = static_cast<char *>(VirtualAlloc(nullptr, 2 * page_, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE));
        DWORD old = 0;
        if (base_ != nullptr && !VirtualProtect(base_ + page_, page_, PAGE_NOACCESS, &old)) base_ = nullptr;
#else
        page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
        void *map = mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        base_ = map == MAP_FAILED ? nullptr : static_cast<char *>(map);
        if (base_ != nullptr && mprotect(base_ + page_, page_, PROT_NONE) != 0) base_ = nullptr;
#endif
        if (base_ != nullptr) at_ = base_ + page_ - size;
    }
    ~GuardedMapisib() {
#ifdef _WIN32
        if (base_ != nullptr) VirtualFree(base_, 0, MEM_RELEASE);
#else
        if (base_ != nullptr) munmap(base_, 2 * page_);
#endif
    }
    GuardedMapisib(const GuardedMapisib &) = delete;
    GuardedMapisib &operator=(const GuardedMapisib &) = delete;
    char *bytes() const { return at_; }

private:
    size_t page_ = 0;
    char *base_ = nullptr;
    char *at_ = nullptr;
};

void bad_input_checks(IMAPISync *sync) {
    std::printf("# bad input\n");
    check_hr(sync->SynchronizeInBackground(nullptr), E_INVALIDARG, "NULL psibpb");

    {
        // Only ulSize and ulFlags exist; the next byte is an inaccessible page.
        const ULONG size = offsetof(MAPISIB, psesSync);
        GuardedMapisib guarded(size);
        if (check(guarded.bytes() != nullptr, "a guarded page for a short MAPISIB")) {
            ULONG head[2] = {size, SYNC_DOWNLOAD_CONTENTS};
            std::memcpy(guarded.bytes(), head, sizeof head);
            check_hr(sync->SynchronizeInBackground(reinterpret_cast<MAPISIB *>(guarded.bytes())), E_INVALIDARG,
                     "ulSize 8, nothing readable past it");
        }
    }
    {
        Session *session = new Session;
        Callback *callback = new Callback(Mode::Record);
        HANDLE event = kSentinel;
        MAPISIB sib = {static_cast<ULONG>(sizeof(MAPISIB) - 1), 0, session, callback, &event};
        check_hr(sync->SynchronizeInBackground(&sib), E_INVALIDARG, "ulSize one byte short of the structure");
        check(event == kSentinel, "  ... and phSyncDoneEvent, past ulSize, is not used");
        check(session->refs.load() == 1 && callback->refs.load() == 1, "  ... and no host object was kept");
        check(callback->count.load() == 0, "  ... and no callback was called");
        session->Release();
        callback->Release();
    }
    {
        Session *session = new Session;
        Callback *callback = new Callback(Mode::Record);
        MAPISIB sib = {sizeof(MAPISIB), 0, session, callback, nullptr};
        check_hr(sync->SynchronizeInBackground(&sib), E_INVALIDARG, "NULL phSyncDoneEvent");
        check(session->refs.load() == 1 && callback->refs.load() == 1, "  ... and no host object was kept");
        sleep_ms(50);
        check(callback->count.load() == 0, "  ... and no sync ran");
        session->Release();
        callback->Release();
    }
    {
        // A newer host's larger MAPISIB: the extra bytes are ignored.
        struct Larger {
            MAPISIB sib;
            unsigned char extra[32];
        } larger;
        std::memset(&larger, 0xEE, sizeof larger);
        Session *session = new Session;
        Callback *callback = new Callback(Mode::Record);
        HANDLE event = kSentinel;
        larger.sib = {static_cast<ULONG>(sizeof larger), SYNC_DOWNLOAD_CONTENTS, session, callback, &event};
        check_hr(sync->SynchronizeInBackground(&larger.sib), S_OK, "a larger ulSize (a newer host)");
        if (event != kSentinel && event != nullptr) {
            check(wait_done(callback), "  ... and the sync runs to Done");
            check_sequence("larger ulSize", callback, event, 3, S_OK);
            check(close_event(event), "  ... and the host closes the event");
        }
        check(back_to(session, 1) && back_to(callback, 1), "  ... and the host objects are back to 1");
        session->Release();
        callback->Release();
    }
    {
        Session *session = new Session;
        Run run = start(sync, session, nullptr);
        check_hr(run.started, S_OK, "NULL punkCallBack: the sync runs");
        if (run.event != kSentinel && run.event != nullptr) {
            check(event_signalled(run.event, kTimeoutMs), "  ... and its event is signalled");
            check(close_event(run.event), "  ... and the host closes it");
        }
        check(back_to(session, 1), "  ... and the session is back to 1");
        session->Release();
    }
    {
        Session *session = new Session;
        Callback *refusing = new Callback(Mode::Refuse);
        Run run = start(sync, session, refusing);
        check_hr(run.started, S_OK, "a punkCallBack that refuses IMAPISyncProgressCallback: the sync runs");
        if (run.event != kSentinel && run.event != nullptr) {
            check(event_signalled(run.event, kTimeoutMs), "  ... and its event is signalled");
            check(close_event(run.event), "  ... and the host closes it");
        }
        check(back_to(session, 1) && back_to(refusing, 1), "  ... and the host objects are back to 1");
        sleep_ms(50);
        check(refusing->count.load() == 0, "  ... and progress went nowhere");
        session->Release();
        refusing->Release();
    }
    provider_back_to(sync, 1);
    full_sync(sync, "NULL psesSync", Mode::Record, 3, S_OK, SYNC_DOWNLOAD_CONTENTS, false);
    full_sync(sync, "unknown flag bits", Mode::Record, 3, S_OK,
              SYNC_UPLOAD_HIERARCHY | SYNC_DOWNLOAD_HIERARCHY | SYNC_UPLOAD_CONTENTS | SYNC_DOWNLOAD_CONTENTS |
                  SYNC_OUTGOING_MAIL | SYNC_GLOBAL_HEADERS | SYNC_ON_DEMAND | 0x04000000u | 0x80000000u);

    // A second call while the first sync still runs.
    Session *session = new Session;
    Callback *gated = new Callback(Mode::Gate);
    Run first = start(sync, session, gated);
    check_hr(first.started, S_OK, "busy: the first sync starts");
    bool running = first.started == S_OK && eventually([&] { return gated->gate.reached.load(); });
    if (check(running, "busy: the first sync is inside its first Progress call")) {
        Callback *second = new Callback(Mode::Record);
        Run busy = start(sync, session, second);
        check_hr(busy.started, MAPI_E_BUSY, "busy: a second call while the first runs");
        check(busy.event == nullptr, "  ... and *phSyncDoneEvent is set to NULL");
        check(second->refs.load() == 1, "  ... and the second callback was not kept");
        sleep_ms(50);
        check(second->count.load() == 0, "  ... and no second sync ran");
        second->Release();
    }
    gated->gate.open.store(true);
    if (first.started == S_OK && first.event != nullptr && first.event != kSentinel) {
        check(wait_done(gated), "busy: the first sync still ends");
        check_sequence("busy: the first sync", gated, first.event, 3, S_OK);
        check(close_event(first.event), "busy: the host closes the first event");
    }
    check(back_to(session, 1) && back_to(gated, 1), "busy: the host objects are back to 1");
    session->Release();
    gated->Release();
    check(provider_back_to(sync, 1), "busy: the provider is back to one reference");
    full_sync(sync, "after busy, a new sync", Mode::Record, 3, S_OK);
}

void sync_checks(IMAPISync *sync) {
    std::printf("# sync\n");
    full_sync(sync, "sync", Mode::Record, 3, S_OK);
    std::printf("# user cancel\n");
    full_sync(sync, "cancel at step 2", Mode::CancelAtStep2, 2, MAPI_E_USER_CANCEL);
}

// A host in the common C++ shape: it keeps the done event in a member,
// passes that member's address as phSyncDoneEvent, and in Done compares the
// handle it receives with it (`if (h == m_hSync) { CloseHandle(h); ... }`).
// The contract's decision 1: the handle is in that variable before the
// worker can call anything.
class SlotCallback final : public IMAPISyncProgressCallback {
public:
    std::atomic<ULONG> refs{1};
    std::atomic<int> done_calls{0};
    std::atomic<int> mismatches{0};
    HANDLE m_hSync = nullptr;

    HRESULT STDMETHODCALLTYPE QueryInterface(REFIID riid, void **ppv) override {
        if (ppv == nullptr) return E_POINTER;
        *ppv = nullptr;
        if (riid != IID_IUnknown && riid != IID_IMAPISyncProgressCallback) return E_NOINTERFACE;
        AddRef();
        *ppv = static_cast<IMAPISyncProgressCallback *>(this);
        return S_OK;
    }
    ULONG STDMETHODCALLTYPE AddRef() override { return ++refs; }
    ULONG STDMETHODCALLTYPE Release() override {
        ULONG left = --refs;
        if (left == 0) delete this;
        return left;
    }
    HRESULT STDMETHODCALLTYPE Progress(const WCHAR *, ULONG, ULONG) override { return S_OK; }
    HRESULT STDMETHODCALLTYPE Error(HRESULT, const WCHAR *) override { return S_OK; }
    HRESULT STDMETHODCALLTYPE Done(HANDLE event, HRESULT) override {
        if (event != m_hSync) mismatches.fetch_add(1);
        done_calls.fetch_add(1, std::memory_order_release);
        return S_OK;
    }
};

void done_handle_checks(IMAPISync *sync) {
    std::printf("# Done finds its handle in the host's variable\n");
    const int syncs = 3000;
    SlotCallback *callback = new SlotCallback;
    int started = 0;
    for (int i = 1; i <= syncs; ++i) {
        callback->m_hSync = kSentinel;
        MAPISIB sib = {sizeof(MAPISIB), SYNC_ON_DEMAND, nullptr, callback, &callback->m_hSync};
        if (sync->SynchronizeInBackground(&sib) != S_OK) break;
        ++started;
        if (!eventually([&] { return callback->done_calls.load(std::memory_order_acquire) == i; })) break;
        close_event(callback->m_hSync);
    }
    int mismatches = callback->mismatches.load();
    std::printf("  %d syncs, %d Done calls, %d mismatches\n", started, callback->done_calls.load(), mismatches);
    check(started == syncs, "%d of %d syncs started and reached Done", started, syncs);
    check(mismatches == 0, "inside Done, *phSyncDoneEvent already holds Done's handle (%d mismatches in %d syncs)",
          mismatches, started);
    check(back_to(callback, 1), "the callback is back to its starting count (1)");
    callback->Release();
    check(provider_back_to(sync, 1), "the provider is back to the host's one reference");
}

void all_object_checks(IMAPISync *sync, DllCanUnloadNowFn can_unload_now) {
    check_hr(can_unload_now(), S_FALSE, "DllCanUnloadNow while an IMAPISync lives");
    identity_checks(sync);
    sync_checks(sync);
    done_handle_checks(sync);
    bad_input_checks(sync);
    std::printf("# the end\n");
    check(sync->Release() == 0, "the host's last Release returns 0");
    check(eventually([&] { return can_unload_now() == S_OK; }), "DllCanUnloadNow is S_OK once every object is gone");
}

// ---------------------------------------------------------------- aggregation

// {6F3E2A10-5B7C-4D21-9A0E-52C4D1E8F301}: a made-up store interface the outer object implements.
constexpr IID IID_IStoreLike = {0x6F3E2A10, 0x5B7C, 0x4D21, {0x9A, 0x0E, 0x52, 0xC4, 0xD1, 0xE8, 0xF3, 0x01}};
constexpr ULONG kStoreNumber = 42;

struct IStoreLike : IUnknown {
    virtual ULONG STDMETHODCALLTYPE StoreNumber() = 0;
};

// How many Store objects were destroyed (each must be, exactly once).
std::atomic<int> g_stores_destroyed{0};

// A message store that aggregates the provider, as COM's rules for an outer
// object say: it passes its own IUnknown to CreateInstance with
// IID_IUnknown, keeps the inner object's non-delegating IUnknown, answers
// IID_IMAPISync by forwarding to it, and releases it in its destructor.
// Free-threaded: the provider's worker AddRefs and Releases it.
class Store final : public IStoreLike {
public:
    std::atomic<ULONG> refs{1};
    IUnknown *inner = nullptr;  // the inner object's non-delegating IUnknown

    IUnknown *unknown() { return static_cast<IStoreLike *>(this); }

    HRESULT STDMETHODCALLTYPE QueryInterface(REFIID riid, void **ppv) override {
        if (ppv == nullptr) return E_POINTER;
        *ppv = nullptr;
        if (riid == IID_IUnknown || riid == IID_IStoreLike) {
            AddRef();
            *ppv = static_cast<IStoreLike *>(this);
            return S_OK;
        }
        if (riid == IID_IMAPISync && inner != nullptr) return inner->QueryInterface(riid, ppv);
        return E_NOINTERFACE;
    }
    ULONG STDMETHODCALLTYPE AddRef() override { return ++refs; }
    ULONG STDMETHODCALLTYPE Release() override {
        ULONG left = --refs;
        if (left == 0) {
            refs = 1;  // a guard count while the inner object goes, as COM's rules advise
            if (inner != nullptr) inner->Release();
            g_stores_destroyed.fetch_add(1);
            delete this;
        }
        return left;
    }
    ULONG STDMETHODCALLTYPE StoreNumber() override { return kStoreNumber; }
};

// Identity and counts of an aggregate whose inner object is already set.
void aggregate_identity_checks(Store *store, const char *name) {
    IUnknown *inner = store->inner;
    check(inner != store->unknown(), "%s: the inner IUnknown is not the outer", name);
    check(ref_count(inner) == 1, "%s: the inner object has one reference (the outer's)", name);
    check(store->refs.load() == 1, "%s: the inner object does not count the outer", name);
    IUnknown *self = nullptr;
    check_hr(inner->QueryInterface(IID_IUnknown, reinterpret_cast<void **>(&self)), S_OK,
             (std::string(name) + ": the inner IUnknown's QueryInterface(IUnknown)").c_str());
    check(self == inner && ref_count(inner) == 2, "%s:   ... is itself, counted on the inner object", name);
    if (self != nullptr) self->Release();
    void *out = kSentinel;
    check_hr(inner->QueryInterface(IID_IStoreLike, &out), E_NOINTERFACE,
             (std::string(name) + ": the inner IUnknown does not answer the outer's interface").c_str());
    check(out == nullptr, "%s:   ... and *ppv is NULL", name);

    IMAPISync *sync = nullptr;
    check_hr(store->QueryInterface(IID_IMAPISync, reinterpret_cast<void **>(&sync)), S_OK,
             (std::string(name) + ": the store's QueryInterface(IMAPISync)").c_str());
    if (sync == nullptr) return;
    check(store->refs.load() == 2 && ref_count(inner) == 1, "%s:   ... is counted on the store, not the inner object",
          name);
    IUnknown *identity = nullptr;
    check_hr(sync->QueryInterface(IID_IUnknown, reinterpret_cast<void **>(&identity)), S_OK,
             (std::string(name) + ": IMAPISync's QueryInterface(IUnknown)").c_str());
    check(identity == store->unknown(), "%s:   ... is the store (one identity)", name);
    if (identity != nullptr) identity->Release();
    IStoreLike *like = nullptr;
    check_hr(sync->QueryInterface(IID_IStoreLike, reinterpret_cast<void **>(&like)), S_OK,
             (std::string(name) + ": IMAPISync answers the store's own interface").c_str());
    check(like != nullptr && like->StoreNumber() == kStoreNumber, "%s:   ... which is the store's", name);
    if (like != nullptr) like->Release();
    IMAPISync *again = nullptr;
    check_hr(store->QueryInterface(IID_IMAPISync, reinterpret_cast<void **>(&again)), S_OK,
             (std::string(name) + ": the store's QueryInterface(IMAPISync) again").c_str());
    check(again == sync, "%s:   ... is the same pointer", name);
    if (again != nullptr) again->Release();
    check(sync->AddRef() == 3, "%s: AddRef through IMAPISync returns the store's count (3)", name);
    check(sync->Release() == 2, "%s: Release through IMAPISync returns the store's count (2)", name);
    check(sync->Release() == 1, "%s: the host gives back its IMAPISync (the store is back to 1)", name);
}

void aggregation_checks(DllGetClassObjectFn get_class_object, DllCanUnloadNowFn can_unload_now) {
    std::printf("# aggregation\n");
    IClassFactory *factory = nullptr;
    HRESULT hr = get_class_object(CLSID_ExampleProvider, IID_IClassFactory, reinterpret_cast<void **>(&factory));
    if (!check_hr(hr, S_OK, "aggregation: DllGetClassObject") || factory == nullptr) return;
    const int destroyed = g_stores_destroyed.load();

    Store *store = new Store;
    void *out = kSentinel;
    check_hr(factory->CreateInstance(store, IID_IMAPISync, &out), CLASS_E_NOAGGREGATION,
             "aggregation: CreateInstance(outer, IID_IMAPISync)");
    check(out == nullptr, "  ... and *ppv is NULL");
    check(store->refs.load() == 1, "  ... and the outer is not kept");
    hr = factory->CreateInstance(store, IID_IUnknown, reinterpret_cast<void **>(&store->inner));
    factory->Release();
    if (!check_hr(hr, S_OK, "aggregation: CreateInstance(outer, IID_IUnknown)") || store->inner == nullptr) {
        store->Release();
        return;
    }
    aggregate_identity_checks(store, "aggregation");

    IMAPISync *sync = nullptr;
    store->QueryInterface(IID_IMAPISync, reinterpret_cast<void **>(&sync));
    if (!check(sync != nullptr, "aggregation: the host gets IMAPISync from the store")) {
        store->Release();
        return;
    }
    // The host keeps only the IMAPISync: it keeps the store alive.
    check(store->Release() == 1, "aggregation: the host releases the store and keeps IMAPISync");
    check(g_stores_destroyed.load() == destroyed, "  ... and IMAPISync keeps the store alive");
    check_hr(can_unload_now(), S_FALSE, "DllCanUnloadNow while the aggregate lives");
    full_sync(sync, "aggregated sync", Mode::Record, 3, S_OK);
    full_sync(sync, "aggregated cancel at step 2", Mode::CancelAtStep2, 2, MAPI_E_USER_CANCEL);

    // The host lets go of everything while a sync runs: the worker's
    // reference is on the store, which lives until Done.
    Session *session = new Session;
    Callback *gated = new Callback(Mode::Gate);
    Run run = start(sync, session, gated);
    check_hr(run.started, S_OK, "aggregation, released mid-sync: the sync starts");
    bool running = run.started == S_OK && eventually([&] { return gated->gate.reached.load(); });
    check(running, "aggregation, released mid-sync: the sync is inside its first Progress call");
    check(sync->Release() == 1, "aggregation, released mid-sync: the host's last Release leaves the worker's");
    check(g_stores_destroyed.load() == destroyed, "  ... and the running sync keeps the store alive");
    gated->gate.open.store(true);
    if (run.started == S_OK && run.event != nullptr && run.event != kSentinel) {
        check(wait_done(gated), "aggregation, released mid-sync: Done still arrives");
        check_sequence("aggregation, released mid-sync", gated, run.event, 3, S_OK);
        check(close_event(run.event), "aggregation, released mid-sync: the host closes the event");
    }
    check(eventually([&] { return g_stores_destroyed.load() != destroyed; }),
          "aggregation, released mid-sync: the store is destroyed once the worker lets go");
    sleep_ms(50);
    check(g_stores_destroyed.load() == destroyed + 1, "  ... exactly once");
    check(back_to(session, 1) && back_to(gated, 1), "aggregation, released mid-sync: the host objects are back to 1");
    session->Release();
    gated->Release();
    check(eventually([&] { return can_unload_now() == S_OK; }), "DllCanUnloadNow is S_OK once the aggregate is gone");
}

#ifdef _WIN32
std::wstring registry_text(HKEY root, const std::wstring &path, const wchar_t *name) {
    wchar_t buffer[1024];
    DWORD bytes = sizeof buffer;
    LSTATUS status = RegGetValueW(root, path.c_str(), name, RRF_RT_REG_SZ, nullptr, buffer, &bytes);
    return status == ERROR_SUCCESS ? std::wstring(buffer) : std::wstring();
}

bool registry_key_exists(HKEY root, const std::wstring &path) {
    HKEY key = nullptr;
    if (RegOpenKeyExW(root, path.c_str(), 0, KEY_READ, &key) != ERROR_SUCCESS) return false;
    RegCloseKey(key);
    return true;
}

void check_registration(HKEY root, const char *where, const std::wstring &module) {
    const std::wstring key = L"Software\\Classes\\CLSID\\{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}";
    std::wstring server = registry_text(root, key + L"\\InprocServer32", nullptr);
    check(!server.empty() && _wcsicmp(server.c_str(), module.c_str()) == 0,
          "%s: InprocServer32 names the DLL's own path", where);
    check(registry_text(root, key + L"\\InprocServer32", L"ThreadingModel") == L"Both",
          "%s: ThreadingModel is Both", where);
}

bool registered(HKEY root) {
    return registry_key_exists(root, L"Software\\Classes\\CLSID\\{39A7C4C5-53CE-4119-89CB-BD5C40BD5C7C}");
}

int run(const char *path) {
    Module module = load_library(path);
    if (module == nullptr) return 1;
    auto get_class_object = export_of<DllGetClassObjectFn>(module, "DllGetClassObject");
    auto can_unload_now = export_of<DllCanUnloadNowFn>(module, "DllCanUnloadNow");
    auto register_server = export_of<DllRegisterServerFn>(module, "DllRegisterServer");
    auto unregister_server = export_of<DllRegisterServerFn>(module, "DllUnregisterServer");
    auto install = export_of<DllInstallFn>(module, "DllInstall");
    if (!get_class_object || !can_unload_now || !register_server || !unregister_server || !install) return 1;
    wchar_t module_path[MAX_PATH * 4];
    DWORD length = GetModuleFileNameW(module, module_path, MAX_PATH * 4);
    check(length > 0 && length < MAX_PATH * 4, "GetModuleFileName of the DLL");

    HRESULT hr = CoInitializeEx(nullptr, COINIT_MULTITHREADED);
    check(SUCCEEDED(hr), "CoInitializeEx(COINIT_MULTITHREADED)");

    std::printf("# registration\n");
    check_hr(install(TRUE, L"user"), S_OK, "DllInstall(TRUE, \"user\") (regsvr32 /n /i:user)");
    check_registration(HKEY_CURRENT_USER, "HKCU", module_path);
    check_hr(install(FALSE, L"user"), S_OK, "DllInstall(FALSE, \"user\")");
    check(!registered(HKEY_CURRENT_USER), "  ... removes the HKCU key");
    check_hr(install(TRUE, L"nonsense"), E_INVALIDARG, "DllInstall with an unknown command line");
    check_hr(register_server(), S_OK, "DllRegisterServer (regsvr32)");
    check_registration(HKEY_LOCAL_MACHINE, "HKLM", module_path);

    class_factory_checks(get_class_object, can_unload_now);
    aggregation_checks(get_class_object, can_unload_now);

    std::printf("# CoCreateInstance with an outer unknown\n");
    {
        const int destroyed = g_stores_destroyed.load();
        Store *store = new Store;
        void *out = kSentinel;
        hr = CoCreateInstance(CLSID_ExampleProvider, store, CLSCTX_INPROC_SERVER, IID_IMAPISync, &out);
        check_hr(hr, CLASS_E_NOAGGREGATION, "CoCreateInstance(outer, IID_IMAPISync)");
        check(out == nullptr, "  ... and *ppv is NULL");
        hr = CoCreateInstance(CLSID_ExampleProvider, store, CLSCTX_INPROC_SERVER, IID_IUnknown,
                              reinterpret_cast<void **>(&store->inner));
        if (check_hr(hr, S_OK, "CoCreateInstance(outer, IID_IUnknown)") && store->inner != nullptr) {
            aggregate_identity_checks(store, "CoCreateInstance aggregate");
        }
        check(store->Release() == 0, "the store's last Release returns 0");
        check(g_stores_destroyed.load() == destroyed + 1, "  ... and destroys it, with its inner object");
    }

    std::printf("# CoCreateInstance\n");
    IMAPISync *sync = nullptr;
    hr = CoCreateInstance(CLSID_ExampleProvider, nullptr, CLSCTX_INPROC_SERVER, IID_IMAPISync,
                          reinterpret_cast<void **>(&sync));
    if (check_hr(hr, S_OK, "CoCreateInstance(CLSID_ExampleProvider, IID_IMAPISync)") && sync != nullptr) {
        all_object_checks(sync, can_unload_now);
    }

    std::printf("# unregistration\n");
    check_hr(unregister_server(), S_OK, "DllUnregisterServer");
    check(!registered(HKEY_LOCAL_MACHINE), "  ... removes the HKLM key");
    IUnknown *none = nullptr;
    hr = CoCreateInstance(CLSID_ExampleProvider, nullptr, CLSCTX_INPROC_SERVER, IID_IUnknown,
                          reinterpret_cast<void **>(&none));
    check_hr(hr, REGDB_E_CLASSNOTREG, "CoCreateInstance after unregistration");
    if (none != nullptr) none->Release();
    CoUninitialize();
    return 0;
}
#else
int run(const char *path) {
    Module library = load_library(path);
    if (library == nullptr) return 1;
    auto get_class_object = export_of<DllGetClassObjectFn>(library, "DllGetClassObject");
    auto can_unload_now = export_of<DllCanUnloadNowFn>(library, "DllCanUnloadNow");
    g_wait_event = export_of<mapisync_wait_event_fn>(library, "mapisync_wait_event");
    g_close_event = export_of<mapisync_close_event_fn>(library, "mapisync_close_event");
    if (!get_class_object || !can_unload_now || !g_wait_event || !g_close_event) return 1;

    class_factory_checks(get_class_object, can_unload_now);
    aggregation_checks(get_class_object, can_unload_now);

    std::printf("# DllGetClassObject + CreateInstance(IID_IMAPISync)\n");
    IClassFactory *factory = nullptr;
    HRESULT hr = get_class_object(CLSID_ExampleProvider, IID_IClassFactory, reinterpret_cast<void **>(&factory));
    if (!check_hr(hr, S_OK, "DllGetClassObject") || factory == nullptr) return 1;
    IMAPISync *sync = nullptr;
    hr = factory->CreateInstance(nullptr, IID_IMAPISync, reinterpret_cast<void **>(&sync));
    factory->Release();
    if (check_hr(hr, S_OK, "CreateInstance(IID_IMAPISync)") && sync != nullptr) {
        all_object_checks(sync, can_unload_now);
    }
    // The library stays loaded: the provider's worker threads may still be
    // returning through its code, as a COM host's delayed unload allows for.
    return 0;
}
#endif

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s PATH-TO-PROVIDER-LIBRARY\n", argv[0]);
        return 2;
    }
    run(argv[1]);
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 && g_passed > 0 ? 0 : 1;
}

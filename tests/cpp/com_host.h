// What every C++ test host of a provider DLL needs, whatever it checks:
// counted checks with one line per failure (and per pass unless quiet),
// waiting with a timeout, the IUnknown half of a host object, and a DLL's
// exports. Included by tests/cpp/host.cpp, tests/cpp/lifecycle/lifecycle.cpp and
// tests/cpp/mapi_host/mapi_host.cpp (one translation unit each); builds with g++
// on Linux and mingw-w64 on Windows.
#pragma once

#include "../../include/imapisync.h"
#include "imapisession.h"

#include <atomic>
#include <functional>
#include <cstdarg>
#include <cstdio>

#ifdef _WIN32
#include <windows.h>
#else
#include <dlfcn.h>
#include <time.h>
#endif

namespace com_host {

// How long any wait may take before the check fails.
constexpr uint32_t kTimeoutMs = 10000;

// ---------------------------------------------------------------- reporting

inline int g_passed = 0;
inline int g_failed = 0;
// With quiet_passes, only failures print (for hosts that run thousands of checks).
inline bool g_quiet_passes = false;
// For hosts that repeat their checks: above 0, each line names the round.
inline int g_round = 0;

// Counts a check and prints "ok   - ..." or "FAIL - ..."; returns `ok`.
inline bool check(bool ok, const char *format, ...) {
    (ok ? g_passed : g_failed) += 1;
    if (ok && g_quiet_passes) return ok;
    va_list args;
    va_start(args, format);
    if (g_round > 0) {
        std::printf("%s - round %d: ", ok ? "ok  " : "FAIL", g_round);
    } else {
        std::printf("%s - ", ok ? "ok  " : "FAIL");
    }
    std::vprintf(format, args);
    std::printf("\n");
    std::fflush(stdout);
    va_end(args);
    return ok;
}

inline unsigned hex(HRESULT hr) { return static_cast<unsigned>(hr); }

// ---------------------------------------------------------------- waiting

inline void sleep_ms(unsigned ms) {
#ifdef _WIN32
    Sleep(ms);
#else
    timespec t = {static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1000000L};
    nanosleep(&t, nullptr);
#endif
}

// Polls `done` every millisecond until it holds or `ms` pass.
template <typename F>
bool eventually(F done, uint32_t ms = kTimeoutMs) {
    for (uint32_t waited = 0; !done(); ++waited) {
        if (waited >= ms) return false;
        sleep_ms(1);
    }
    return true;
}

// ---------------------------------------------------------------- host objects

// Who ends a host object: its last Release, or the host (an object on the
// stack, whose count the host checks after the DLL has let go).
enum class Lifetime { LastRelease, Host };

// The IUnknown half of a host object implementing `Interface`: a count that
// starts at 1, and QueryInterface's contract for the interfaces `serves` accepts.
template <typename Interface>
class HostObject : public Interface {
public:
    explicit HostObject(Lifetime lifetime) : lifetime_(lifetime) {}
    virtual ~HostObject() = default;

    std::atomic<ULONG> refs{1};

    HRESULT STDMETHODCALLTYPE QueryInterface(REFIID riid, void **ppv) override {
        if (ppv == nullptr) return E_POINTER;
        *ppv = nullptr;
        if (riid != IID_IUnknown && !serves(riid)) return E_NOINTERFACE;
        AddRef();
        *ppv = static_cast<Interface *>(this);
        return S_OK;
    }
    ULONG STDMETHODCALLTYPE AddRef() override { return ++refs; }
    ULONG STDMETHODCALLTYPE Release() override {
        ULONG left = --refs;
        if (left == 0 && lifetime_ == Lifetime::LastRelease) delete this;
        return left;
    }

protected:
    // The interfaces other than IUnknown that QueryInterface hands out.
    virtual bool serves(REFIID) const { return false; }

private:
    Lifetime lifetime_;
};

// The host's session: answers IUnknown only.
class Session final : public HostObject<IMAPISession> {
public:
    explicit Session(Lifetime lifetime = Lifetime::LastRelease) : HostObject(lifetime) {}
};

// A host callback's gate: the first Progress that passes it waits until the
// host opens it (or the timeout passes), so a sync can be held mid-run.
struct Gate {
    std::atomic<bool> reached{false};
    std::atomic<bool> open{false};

    void pass() {
        if (!reached.exchange(true)) eventually([&] { return open.load(); });
    }
};

// ---------------------------------------------------------------- the DLL

#ifdef _WIN32
typedef HMODULE Module;
#else
typedef void *Module;
#endif

// The export `name` of `module`, or NULL.
inline void *export_address(Module module, const char *name) {
#ifdef _WIN32
    return reinterpret_cast<void *>(GetProcAddress(module, name));
#else
    return dlsym(module, name);
#endif
}

// The export `name` of `module` as an `F`, checked ("the DLL exports NAME").
template <typename F>
F export_of(Module module, const char *name) {
    void *address = export_address(module, name);
    check(address != nullptr, "the DLL exports %s", name);
    return reinterpret_cast<F>(address);
}

// Loads the DLL at `path` (LoadLibrary, or dlopen with RTLD_NOW), checked.
inline Module load_library(const char *path) {
#ifdef _WIN32
    Module module = LoadLibraryA(path);
    check(module != nullptr, "load %s", path);
#else
    Module module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    check(module != nullptr, "load %s: %s", path, module != nullptr ? "loaded" : dlerror());
#endif
    return module;
}

// A host callback that counts its Progress and Done calls and keeps Done's
// result; `on_progress`, if set, runs inside each Progress (on the
// provider's thread).
class CountingCallback final : public HostObject<IMAPISyncProgressCallback> {
public:
    CountingCallback() : HostObject(Lifetime::Host) {}
    std::atomic<int> progress_calls{0};
    std::atomic<int> done_calls{0};
    std::atomic<HRESULT> done_hr{S_OK};
    std::function<void(int call)> on_progress;
    HRESULT STDMETHODCALLTYPE Progress(const WCHAR *, ULONG, ULONG) override {
        int call = progress_calls.fetch_add(1);
        if (on_progress != nullptr) on_progress(call);
        return S_OK;
    }
    HRESULT STDMETHODCALLTYPE Error(HRESULT, const WCHAR *) override { return S_OK; }
    HRESULT STDMETHODCALLTYPE Done(HANDLE, HRESULT hr) override {
        done_hr.store(hr);
        done_calls.fetch_add(1);
        return S_OK;
    }

private:
    bool serves(REFIID riid) const override { return riid == IID_IMAPISyncProgressCallback; }
};

// A new object of `clsid` as IMAPISync, through the DLL's class factory
// (`get_class_object`), checked; NULL if either refused.
inline IMAPISync *create_sync(DllGetClassObjectFn get_class_object, const CLSID &clsid) {
    IClassFactory *factory = nullptr;
    HRESULT hr = get_class_object(clsid, IID_IClassFactory, reinterpret_cast<void **>(&factory));
    if (!check(hr == S_OK && factory != nullptr, "DllGetClassObject: 0x%08X", hex(hr))) return nullptr;
    IMAPISync *sync = nullptr;
    hr = factory->CreateInstance(nullptr, IID_IMAPISync, reinterpret_cast<void **>(&sync));
    factory->Release();
    check(hr == S_OK && sync != nullptr, "CreateInstance: 0x%08X", hex(hr));
    return sync;
}

}  // namespace com_host

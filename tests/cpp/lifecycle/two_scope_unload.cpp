// The module pin's hand-off when the worker that asked for it is not the
// only one left at its end (a finding of the review of issue 17).
// Two stores of one DLL, each in a Scope of its own (one per logon), each
// syncing. Each store's Shutdown runs inside its own sync's Progress, on its
// worker (as scenario 4 of lifecycle.cpp, the one-worker case): the store's
// scope is dropped there, which asks for the hand-off. Store A's worker
// (SlowReporter: its thread-local destructor takes 20 ms, as in scenario 2)
// ends while B's sync still runs; B's Shutdown comes once A's Done has come,
// and B's worker ends while A's thread may still be in its teardown. Then
// the host lets go of everything, waits until every thread is long gone,
// and FreeLibrary's the DLL, as MAPI does after the Shutdowns.
// Expected: the DLL is unloaded (a worker asked for the hand-off, every
// worker has exited, nothing else lives). Before the hand-off waited for
// every ended worker (pin.rs), modes 1 and 6 left the DLL loaded every run
// and mode 5 about one run in three.
//
// usage: two_scope_unload DLL [mode]
//   1 two stores (default); 2 one store (control); 3 two stores, A without
//   the slow thread-local; 4 the module's shutdown on A's worker while B
//   runs; 5 as 1, but B's scope shut down on a host thread; 6 as 1, with
//   Scope::shutdown(2 s) as examples/outlook-store's IMSProvider::Shutdown.
// Last line: `N passed, 0 failed`.
#include "../com_host.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <windows.h>

using namespace com_host;

constexpr CLSID CLSID_Reporter = {0x6C1F0A01, 0x7B1E, 0x4C2D, {0x9E, 0x55, 0x0A, 0x2B, 0x3C, 0x4D, 0x5E, 0x01}};
constexpr CLSID CLSID_ShutsDownOnWorker = {0x6C1F0A04, 0x7B1E, 0x4C2D, {0x9E, 0x55, 0x0A, 0x2B, 0x3C, 0x4D, 0x5E, 0x01}};
constexpr CLSID CLSID_SlowReporter = {0x6C1F0A06, 0x7B1E, 0x4C2D, {0x9E, 0x55, 0x0A, 0x2B, 0x3C, 0x4D, 0x5E, 0x01}};
typedef void (*VoidFromU32Fn)(uint32_t);
typedef void (*AdoptFn)(uint32_t, void *);
typedef uint32_t (*U32Fn)();
typedef HRESULT(STDAPICALLTYPE *CanUnloadFn)();
typedef uint32_t (*ScopeShutdownFn)(uint32_t, uint32_t);

static VoidFromU32Fn g_scope_drop = nullptr;
static int g_mode = 1;
static uint32_t (*g_scope_shutdown)(uint32_t, uint32_t) = nullptr;
// A store's Shutdown: the scope dropped, or (mode 6, as examples/outlook-store's
// IMSProvider::Shutdown) Scope::shutdown with a time limit, then dropped.
static void store_shutdown(uint32_t slot) {
    if (g_mode == 6) g_scope_shutdown(slot, 2000); else g_scope_drop(slot);
}

class Callback final : public HostObject<IMAPISyncProgressCallback> {
public:
    Callback() : HostObject(Lifetime::Host) {}
    std::atomic<int> progress_calls{0};
    std::atomic<int> done_calls{0};
    std::atomic<HRESULT> done_hr{S_OK};
    std::function<void(int)> on_progress;
    HRESULT STDMETHODCALLTYPE Progress(const WCHAR *, ULONG, ULONG) override {
        int call = progress_calls.fetch_add(1);
        if (on_progress) on_progress(call);
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

struct Store {
    IMAPISync *sync = nullptr;
    Session session{Lifetime::Host};
    Callback callback;
    HANDLE event = nullptr;
    HRESULT start() {
        MAPISIB sib = {sizeof(MAPISIB), SYNC_ON_DEMAND, &session, &callback, &event};
        return sync->SynchronizeInBackground(&sib);
    }
};

static bool is_loaded(const char *path) {
    HMODULE again = nullptr;
    return GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT, path, &again) != 0;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    int mode = argc > 2 ? std::atoi(argv[2]) : 1;
    Module module = load_library(argv[1]);
    if (module == nullptr) { std::printf("cannot load %s\n", argv[1]); return 2; }
    auto get_class_object = export_of<DllGetClassObjectFn>(module, "DllGetClassObject");
    auto scope_open = export_of<VoidFromU32Fn>(module, "mapisync_test_scope_open");
    auto scope_adopt = export_of<AdoptFn>(module, "mapisync_test_scope_adopt");
    g_scope_drop = export_of<VoidFromU32Fn>(module, "mapisync_test_scope_drop");
    auto tls_drops = export_of<U32Fn>(module, "mapisync_test_tls_drops");
    if (get_class_object == nullptr || scope_open == nullptr || scope_adopt == nullptr || g_scope_drop == nullptr ||
        tls_drops == nullptr) {
        std::printf("missing exports\n");
        return 2;
    }
    auto scope_shutdown = export_of<ScopeShutdownFn>(module, "mapisync_test_scope_shutdown");
    g_scope_shutdown = scope_shutdown;
    g_mode = mode;
    Store a, b;
    if (mode == 4) {
        // The module's shutdown on A's worker while B's sync runs (no scopes).
        b.sync = create_sync(get_class_object, CLSID_Reporter);
        a.sync = create_sync(get_class_object, CLSID_ShutsDownOnWorker);
        check(b.start() == S_OK, "B started");
        check(eventually([&] { return b.callback.progress_calls.load() > 0; }), "B reports");
        check(a.start() == S_OK, "A started");
        check(eventually([&] { return b.callback.done_calls.load() == 1; }), "B's Done came");
        goto ended;
    }
    a.sync = create_sync(get_class_object, mode == 3 ? CLSID_Reporter : CLSID_SlowReporter);
    if (a.sync == nullptr) return 2;
    scope_open(0);
    scope_adopt(0, a.sync);
    // A's Shutdown: inside its first Progress, on A's worker.
    a.callback.on_progress = [](int call) { if (call == 0) store_shutdown(0); };
    if (mode == 1 || mode == 3 || mode == 5 || mode == 6) {
        b.sync = create_sync(get_class_object, CLSID_Reporter);
        if (b.sync == nullptr) return 2;
        scope_open(1);
        scope_adopt(1, b.sync);
        // B's Shutdown: inside the first Progress after A's Done, on B's worker.
        std::atomic<bool> dropped{false};
        if (mode != 5)
            b.callback.on_progress = [&a, &dropped](int) {
                if (a.callback.done_calls.load() == 1 && !dropped.exchange(true)) store_shutdown(1);
            };
        check(b.start() == S_OK, "B started");
        check(eventually([&] { return b.callback.progress_calls.load() > 0; }), "B reports");
        check(a.start() == S_OK, "A started");
        if (mode == 5) {
            // B's Shutdown on a host thread (this one), once A's Done came.
            check(eventually([&] { return a.callback.done_calls.load() == 1; }), "A's Done came first");
            uint32_t left = scope_shutdown ? scope_shutdown(1, 2000) : 99;
            check(left == 0, "B's scope shutdown on the host thread drained (%u)", left);
        }
        check(eventually([&] { return b.callback.done_calls.load() == 1; }), "B's Done came");
        check(b.callback.done_hr.load() == MAPI_E_USER_CANCEL, "B's Done: MAPI_E_USER_CANCEL (0x%08X)",
              hex(b.callback.done_hr.load()));
    } else {
        check(a.start() == S_OK, "A started");
    }
ended:
    check(eventually([&] { return a.callback.done_calls.load() == 1; }), "A's Done came");
    check(a.callback.done_hr.load() == MAPI_E_USER_CANCEL, "A's Done: MAPI_E_USER_CANCEL (0x%08X)",
          hex(a.callback.done_hr.load()));
    for (Store *store : {&a, &b}) {
        if (store->sync == nullptr) continue;
        check(WaitForSingleObject(store->event, 5000) == WAIT_OBJECT_0, "event signalled");
        CloseHandle(store->event);
        store->sync->Release();
    }
    if (mode != 3 && mode != 4) check(eventually([&] { return tls_drops() == 1; }), "A's slow thread-local destructor ran");
    sleep_ms(500);  // every worker thread has long terminated
    std::printf("mode %d: everything ended; FreeLibrary\n", mode);
    FreeLibrary(module);
    bool gone = eventually([&] { return !is_loaded(argv[1]); }, 2000);
    std::printf("after FreeLibrary (+2 s) the DLL is %s\n", gone ? "unloaded" : "STILL LOADED");
    check(gone, "mode %d: the DLL unloads after both stores' Shutdowns (each on its worker) and FreeLibrary", mode);
    if (!gone) {
        // What a host that asks first would see: load again (the old
        // instance), DllCanUnloadNow, FreeLibrary.
        Module again = load_library(argv[1]);
        auto can_unload = export_of<CanUnloadFn>(again, "DllCanUnloadNow");
        HRESULT said = can_unload ? can_unload() : E_FAIL;
        std::printf("reloaded (old instance); DllCanUnloadNow: 0x%08X\n", hex(said));
        FreeLibrary(again);
        bool gone_now = eventually([&] { return !is_loaded(argv[1]); }, 2000);
        std::printf("after DllCanUnloadNow and FreeLibrary the DLL is %s\n", gone_now ? "unloaded" : "STILL LOADED");
    }
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}

// A host whose Progress, reached through a job the provider kept (on the
// provider's own thread), calls the DLL's shutdown, then, once Done has
// come, lets go of the object and FreeLibrary's the DLL, as MAPI does after
// a Shutdown that returned. The provider's thread is still in the DLL's code
// (its next step) after Progress returned, so the DLL must stay mapped: the
// shutdown returns at once (the worker waits for that very Progress), and
// the DLL keeps its pin on itself until a later call into it. (A first fix
// of issue 17 item 3 handed the pin to the worker's exit, and the DLL was
// unmapped under the provider's thread: a page fault.) One cycle: a DLL
// that stays loaded is shut down for the next load of this host, which
// never opens it again. Last line: `N passed, 0 failed`.
#include "../com_host.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <windows.h>

using namespace com_host;

constexpr CLSID CLSID_KeptReporter = {0x6C1F0A05, 0x7B1E, 0x4C2D, {0x9E, 0x55, 0x0A, 0x2B, 0x3C, 0x4D, 0x5E, 0x01}};
typedef uint32_t (*U32FromU32Fn)(uint32_t);

static U32FromU32Fn g_shutdown = nullptr;
static std::atomic<uint32_t> g_shutdown_result{0xFFFFFFFFu};
static std::atomic<DWORD> g_shutdown_ms{0};

// The host's Progress: the first one calls the DLL's shutdown (as a host
// whose Progress ends in the provider's Shutdown).
static void shut_down_in_first_progress(int call) {
    if (call != 0) return;
    DWORD started = GetTickCount();
    g_shutdown_result.store(g_shutdown(2000));
    g_shutdown_ms.store(GetTickCount() - started);
}

typedef void (*VoidFromU32Fn)(uint32_t);

// One load, sync, shutdown in the kept job's Progress, FreeLibrary.
static void one_cycle(const char *path, uint32_t step_ms, int cycle);

// usage: kept_unload DLL [step_ms (200)] [cycles (1)]
int main(int argc, char **argv) {
    if (argc < 2) return 2;
    uint32_t step_ms = argc > 2 ? static_cast<uint32_t>(std::atoi(argv[2])) : 200;
    int cycles = argc > 3 ? std::atoi(argv[3]) : 1;
    for (int cycle = 1; cycle <= cycles; ++cycle) one_cycle(argv[1], step_ms, cycle);
    std::printf("%d cycles survived (step %u ms)\n", cycles, step_ms);
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}

static void one_cycle(const char *path, uint32_t step_ms, int cycle) {
    bool verbose = cycle == 1;
    g_shutdown_result.store(0xFFFFFFFFu);
    Module module = load_library(path);
    if (module == nullptr) { std::printf("cannot load %s\n", path); std::exit(2); }
    auto set_step = export_of<VoidFromU32Fn>(module, "mapisync_test_kept_step");
    if (set_step != nullptr) set_step(step_ms);
    auto get_class_object = export_of<DllGetClassObjectFn>(module, "DllGetClassObject");
    g_shutdown = export_of<U32FromU32Fn>(module, "mapisync_test_shutdown");
    if (get_class_object == nullptr || g_shutdown == nullptr) { std::printf("missing exports\n"); std::exit(2); }
    IMAPISync *sync = create_sync(get_class_object, CLSID_KeptReporter);
    if (sync == nullptr) std::exit(2);
    Session session{Lifetime::Host};
    CountingCallback callback;
    callback.on_progress = shut_down_in_first_progress;
    HANDLE event = nullptr;
    MAPISIB sib = {sizeof(MAPISIB), SYNC_ON_DEMAND, &session, &callback, &event};
    HRESULT hr = sync->SynchronizeInBackground(&sib);
    if (verbose) std::printf("SynchronizeInBackground: 0x%08X\n", hex(hr));
    check(eventually([&] { return callback.done_calls.load() == 1; }), "Done came");
    if (verbose)
        std::printf("shutdown inside the kept job's Progress said %u after %lu ms\n", g_shutdown_result.load(),
                    static_cast<unsigned long>(g_shutdown_ms.load()));
    check(g_shutdown_result.load() == 0 && g_shutdown_ms.load() < 1000,
          "cycle %d: the shutdown inside the kept job's Progress returned 0 at once", cycle);
    WaitForSingleObject(event, 5000);
    CloseHandle(event);
    sync->Release();
    // The host's Shutdown returned (drained, it said): MAPI unloads the DLL.
    FreeLibrary(module);
    if (verbose) std::printf("FreeLibrary done; waiting (the provider's thread is still in the DLL for %u ms)\n", step_ms);
    std::fflush(stdout);
    sleep_ms(step_ms + 300);
    HMODULE again = nullptr;
    bool loaded = GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT, path, &again) != 0;
    if (verbose) std::printf("cycle 1 survived; the DLL is %s\n", loaded ? "still loaded" : "unloaded");
    check(loaded, "cycle %d: the DLL stays mapped after FreeLibrary (the provider's thread was still in it)", cycle);
}

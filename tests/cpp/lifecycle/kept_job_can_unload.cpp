// A job kept past its sync counts as alive for DllCanUnloadNow (issue 17,
// found by a review of 41d17e6). The provider (KeptReporter) hands its job
// to a thread of its own, which after the host's Progress returned is still
// in the DLL's code for step_ms, then reports again through the kept job
// and drops it. The host's Progress calls the DLL's shutdown (as
// kept_unload), then the host polls DllCanUnloadNow, as COM's
// CoFreeUnusedLibraries does, and frees the DLL at its first S_OK. Before,
// that S_OK came once the worker had exited, with the kept job alive on the
// provider's thread in the DLL: FreeLibrary unmapped it under the thread (a
// page fault). Now it says S_FALSE until the job is dropped.
//
// usage: kept_job_can_unload DLL [step_ms (200)]
// Last line: `N passed, 0 failed`.
#include "../com_host.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <windows.h>

using namespace com_host;

constexpr CLSID CLSID_KeptReporter = {0x6C1F0A05, 0x7B1E, 0x4C2D, {0x9E, 0x55, 0x0A, 0x2B, 0x3C, 0x4D, 0x5E, 0x01}};
typedef uint32_t (*U32FromU32Fn)(uint32_t);
typedef uint32_t (*U32Fn)();
typedef void (*VoidFromU32Fn)(uint32_t);

static U32FromU32Fn g_shutdown = nullptr;
static std::atomic<uint32_t> g_shutdown_result{0xFFFFFFFFu};
typedef HRESULT(STDAPICALLTYPE *CanUnloadFn)();

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    uint32_t step_ms = argc > 2 ? static_cast<uint32_t>(std::atoi(argv[2])) : 200;
    Module module = load_library(argv[1]);
    if (module == nullptr) { std::printf("cannot load %s\n", argv[1]); return 2; }
    auto set_step = export_of<VoidFromU32Fn>(module, "mapisync_test_kept_step");
    auto finished = export_of<U32Fn>(module, "mapisync_test_kept_finished");
    if (set_step != nullptr) set_step(step_ms);
    auto get_class_object = export_of<DllGetClassObjectFn>(module, "DllGetClassObject");
    g_shutdown = export_of<U32FromU32Fn>(module, "mapisync_test_shutdown");
    if (get_class_object == nullptr || g_shutdown == nullptr || finished == nullptr) { std::printf("missing exports\n"); return 2; }
    IMAPISync *sync = create_sync(get_class_object, CLSID_KeptReporter);
    if (sync == nullptr) return 2;
    Session session{Lifetime::Host};
    CountingCallback callback; // its first Progress (on the provider's thread, through the kept job) shuts down
    callback.on_progress = [](int call) {
        if (call == 0) g_shutdown_result.store(g_shutdown(2000));
    };
    HANDLE event = nullptr;
    MAPISIB sib = {sizeof(MAPISIB), SYNC_ON_DEMAND, &session, &callback, &event};
    HRESULT hr = sync->SynchronizeInBackground(&sib);
    std::printf("SynchronizeInBackground: 0x%08X\n", hex(hr));
    check(eventually([&] { return callback.done_calls.load() == 1; }), "Done came");
    std::printf("shutdown inside the kept Progress said %u; the provider's thread finished: %u\n", g_shutdown_result.load(),
                finished());
    check(g_shutdown_result.load() == 0, "the shutdown returned 0");
    WaitForSingleObject(event, 5000);
    CloseHandle(event);
    sync->Release();
    auto can_unload = export_of<CanUnloadFn>(module, "DllCanUnloadNow");
    if (can_unload == nullptr) return 2;
    {
        uint32_t before = finished();
        HRESULT while_kept = can_unload();
        std::printf("DllCanUnloadNow with the kept job alive (the provider's thread finished: %u): 0x%08X\n", before,
                    hex(while_kept));
        check(before != 0 || while_kept == S_FALSE, "DllCanUnloadNow says S_FALSE while a kept job lives");
        check(eventually([&] { return finished() == 1; }, 2000), "the provider's thread finished");
        sleep_ms(100); // its last instructions after the job's drop, and its exit
        HRESULT said = S_FALSE;
        check(eventually([&] { return (said = can_unload()) == S_OK; }, 2000), "DllCanUnloadNow said S_OK once the job was dropped");
        std::printf("DllCanUnloadNow: 0x%08X\n", hex(said));
    }
    // DllCanUnloadNow said S_OK: the host frees the DLL.
    FreeLibrary(module);
    std::printf("FreeLibrary done\n");
    std::fflush(stdout);
    sleep_ms(300);
    HMODULE again = nullptr;
    bool loaded = GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT, argv[1], &again) != 0;
    std::printf("survived; the DLL is %s\n", loaded ? "still loaded" : "unloaded");
    check(!loaded, "the DLL unloads after DllCanUnloadNow's S_OK and FreeLibrary");
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}

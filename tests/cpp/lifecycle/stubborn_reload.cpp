// After a shutdown that timed out (a provider ignoring the cancel), a later
// drain that succeeds, DllCanUnloadNow S_OK and FreeLibrary, the host loads
// the DLL again at once: it must be a fresh instance (the old one unmapped),
// not the old, shut-down one. (A first fix of issue 17 item 3 handed the pin
// of a worker a drain had left behind to a thread-pool callback, which gave
// it back some time after the thread's exit: right after FreeLibrary the DLL
// was often still mapped.) Last line: `N passed, 0 failed`.
#include "../com_host.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <windows.h>

using namespace com_host;

constexpr CLSID CLSID_Stubborn = {0x6C1F0A03, 0x7B1E, 0x4C2D, {0x9E, 0x55, 0x0A, 0x2B, 0x3C, 0x4D, 0x5E, 0x01}};
typedef uint32_t (*U32FromU32Fn)(uint32_t);
typedef uint32_t (*U32Fn)();
typedef void (*VoidFn)();

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    int cycles = argc > 2 ? std::atoi(argv[2]) : 10;
    g_quiet_passes = true;
    int still_mapped = 0, stale = 0;
    for (int cycle = 1; cycle <= cycles; ++cycle) {
        Module module = load_library(argv[1]);
        if (module == nullptr) return 2;
        auto get_class_object = export_of<DllGetClassObjectFn>(module, "DllGetClassObject");
        auto can_unload_now = export_of<DllCanUnloadNowFn>(module, "DllCanUnloadNow");
        auto shutdown = export_of<U32FromU32Fn>(module, "mapisync_test_shutdown");
        auto drain = export_of<U32FromU32Fn>(module, "mapisync_test_drain");
        auto is_shut_down = export_of<U32Fn>(module, "mapisync_test_is_shut_down");
        auto release_stubborn = export_of<VoidFn>(module, "mapisync_test_release_stubborn");
        check(is_shut_down() == 0, "cycle %d: a fresh load is not shut down (an old instance was still mapped)", cycle);
        if (is_shut_down() != 0) ++stale;
        IMAPISync *sync = create_sync(get_class_object, CLSID_Stubborn);
        if (sync == nullptr) std::exit(2);
        Session session{Lifetime::Host};
        CountingCallback callback;
        HANDLE event = nullptr;
        MAPISIB sib = {sizeof(MAPISIB), SYNC_ON_DEMAND, &session, &callback, &event};
        HRESULT hr = sync->SynchronizeInBackground(&sib);
        sync->Release();
        if (hr != S_OK) {
            check(false, "cycle %d: SynchronizeInBackground 0x%08X", cycle, hex(hr));
            FreeLibrary(module);
            sleep_ms(200);
            continue;
        }
        check(shutdown(100) == 1, "cycle %d: shutdown timed out", cycle);
        release_stubborn();
        check(drain(5000) == 0, "cycle %d: drained", cycle);
        check(can_unload_now() == S_OK, "cycle %d: DllCanUnloadNow S_OK", cycle);
        WaitForSingleObject(event, 5000);
        CloseHandle(event);
        FreeLibrary(module);
        HMODULE again = nullptr;
        bool loaded = GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT, argv[1], &again) != 0;
        check(!loaded, "cycle %d: the DLL is unloaded at once after DllCanUnloadNow S_OK and FreeLibrary", cycle);
        if (loaded) ++still_mapped;
    }
    std::printf("%d cycles: still mapped right after FreeLibrary %d times, the next load was the old shut-down instance %d times\n",
                cycles, still_mapped, stale);
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return 0;
}

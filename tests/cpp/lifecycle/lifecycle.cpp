// The lifecycle host: loads the lifecycle test DLL (tests/lifecycle-dll),
// drives its providers the way MAPI and COM hosts end a provider's life, and
// unloads the DLL at once, cycle after cycle. It must live on to print its
// last line, `N passed, M failed`.
//
// 1. cancel: a sync blocked inside the host's Progress; the host releases the
//    object, calls the DLL's shutdown entry (what IMSProvider::Shutdown does:
//    refuse, cancel, drain) on another thread, sees a new sync refused with
//    MAPI_E_END_OF_SESSION, unblocks Progress, sees exactly one
//    Done(MAPI_E_USER_CANCEL) and no further Progress, and unloads the DLL as
//    soon as the shutdown returns: 100 cycles.
// 2. slow thread-local: a provider whose thread-local destructor sleeps 20 ms
//    and then writes the DLL's memory; the host unloads at the first S_OK of
//    DllCanUnloadNow: 100 cycles, and the destructor has always finished by then.
// 3. stubborn: a provider that ignores cancellation; the shutdown times out
//    and says one worker still runs, DllCanUnloadNow stays S_FALSE; once the
//    provider returns, one Done(MAPI_E_USER_CANCEL), every reference given
//    back once, S_OK: 10 cycles.
//
// Usage: lifecycle <path of the DLL> [cycles]. Windows: LoadLibrary and
// FreeLibrary, Win32 events. Linux: dlopen and dlclose, the DLL's own event
// functions.
#include "../com_host.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

#ifdef _WIN32
#include <windows.h>
#else
#include <dlfcn.h>
#include <pthread.h>
#endif

namespace {

using namespace com_host;

constexpr HRESULT MAPI_E_END_OF_SESSION = static_cast<HRESULT>(0x80040200u);

// The test DLL's classes.
constexpr CLSID CLSID_Reporter = {0x6C1F0A01, 0x7B1E, 0x4C2D, {0x9E, 0x55, 0x0A, 0x2B, 0x3C, 0x4D, 0x5E, 0x01}};
constexpr CLSID CLSID_SlowTls = {0x6C1F0A02, 0x7B1E, 0x4C2D, {0x9E, 0x55, 0x0A, 0x2B, 0x3C, 0x4D, 0x5E, 0x01}};
constexpr CLSID CLSID_Stubborn = {0x6C1F0A03, 0x7B1E, 0x4C2D, {0x9E, 0x55, 0x0A, 0x2B, 0x3C, 0x4D, 0x5E, 0x01}};
constexpr CLSID CLSID_ShutsDownOnWorker = {0x6C1F0A04, 0x7B1E, 0x4C2D, {0x9E, 0x55, 0x0A, 0x2B, 0x3C, 0x4D, 0x5E, 0x01}};

// ---------------------------------------------------------------- reporting

bool check_hr(HRESULT got, HRESULT want, const char *what, int cycle) {
    return check(got == want, "cycle %d: %s: 0x%08X (want 0x%08X)", cycle, what, hex(got), hex(want));
}

// ---------------------------------------------------------------- platform

// A host thread running `body(arg)` (mingw's win32 thread model has no std::thread).
class HostThread {
public:
    typedef void (*Body)(void *);
    HostThread(Body body, void *arg) : body_(body), arg_(arg) {
#ifdef _WIN32
        handle_ = CreateThread(nullptr, 0, &HostThread::entry, this, 0, nullptr);
        started_ = handle_ != nullptr;
#else
        started_ = pthread_create(&thread_, nullptr, &HostThread::entry, this) == 0;
#endif
    }
    bool started() const { return started_; }
    void join() {
        if (!started_) return;
#ifdef _WIN32
        WaitForSingleObject(handle_, INFINITE);
        CloseHandle(handle_);
#else
        pthread_join(thread_, nullptr);
#endif
        started_ = false;
    }

private:
#ifdef _WIN32
    static DWORD WINAPI entry(void *self) {
        static_cast<HostThread *>(self)->body_(static_cast<HostThread *>(self)->arg_);
        return 0;
    }
    HANDLE handle_ = nullptr;
#else
    static void *entry(void *self) {
        static_cast<HostThread *>(self)->body_(static_cast<HostThread *>(self)->arg_);
        return nullptr;
    }
    pthread_t thread_{};
#endif
    Body body_;
    void *arg_;
    bool started_ = false;
};

// ---------------------------------------------------------------- the DLL

extern "C" {
typedef uint32_t (*U32FromU32Fn)(uint32_t);
typedef uint32_t (*U32Fn)();
typedef void (*VoidFn)();
}

struct Library {
    const char *path = nullptr;
    Module module = nullptr;
#ifndef _WIN32
    mapisync_wait_event_fn wait_event = nullptr;
    mapisync_close_event_fn close_event = nullptr;
#endif
    DllGetClassObjectFn get_class_object = nullptr;
    DllCanUnloadNowFn can_unload_now = nullptr;
    U32FromU32Fn shutdown = nullptr;
    U32FromU32Fn drain = nullptr;
    U32Fn is_shut_down = nullptr;
    VoidFn reopen = nullptr;
    U32Fn running_workers = nullptr;
    VoidFn release_stubborn = nullptr;
    U32Fn provider_drops = nullptr;
    U32Fn tls_drops = nullptr;

    template <typename F>
    bool bind(F &slot, const char *name) {
        slot = export_of<F>(module, name);
        return slot != nullptr;
    }

    bool load(const char *library_path) {
        path = library_path;
        module = load_library(path);
        if (module == nullptr) return false;
        bool ok = bind(get_class_object, "DllGetClassObject") && bind(can_unload_now, "DllCanUnloadNow") &&
                  bind(shutdown, "mapisync_test_shutdown") && bind(drain, "mapisync_test_drain") &&
                  bind(is_shut_down, "mapisync_test_is_shut_down") && bind(reopen, "mapisync_test_reopen") &&
                  bind(running_workers, "mapisync_test_running_workers") &&
                  bind(release_stubborn, "mapisync_test_release_stubborn") &&
                  bind(provider_drops, "mapisync_test_provider_drops") && bind(tls_drops, "mapisync_test_tls_drops");
#ifndef _WIN32
        ok = ok && bind(wait_event, "mapisync_wait_event") && bind(close_event, "mapisync_close_event");
#endif
        return ok;
    }

    // Whether the loader still has the DLL (without counting a reference).
    bool still_loaded() {
#ifdef _WIN32
        HMODULE again = nullptr;
        return GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT, path, &again) != 0;
#else
        void *again = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
        if (again != nullptr) dlclose(again);
        return again != nullptr;
#endif
    }

    // Unloads the DLL; true when the loader no longer has it (nothing kept it loaded).
    bool unload() {
#ifdef _WIN32
        FreeLibrary(module);
#else
        dlclose(module);
#endif
        module = nullptr;
        return !still_loaded();
    }

    bool signalled(HANDLE event, uint32_t ms) {
#ifdef _WIN32
        return WaitForSingleObject(event, ms) == WAIT_OBJECT_0;
#else
        return wait_event(event, ms) == WAIT_OBJECT_0;
#endif
    }

    void close(HANDLE event) {
#ifdef _WIN32
        CloseHandle(event);
#else
        close_event(event);
#endif
    }

    IMAPISync *create(const CLSID &clsid) { return create_sync(get_class_object, clsid); }
};

// ---------------------------------------------------------------- host objects

// Records Progress and Done; with `gate`, the first Progress blocks until opened.
class Callback final : public HostObject<IMAPISyncProgressCallback> {
public:
    explicit Callback(bool gate) : HostObject(Lifetime::Host), gate_(gate) {}
    std::atomic<int> progress_calls{0};
    std::atomic<int> done_calls{0};
    std::atomic<HRESULT> done_hr{S_OK};
    Gate gate;

    HRESULT STDMETHODCALLTYPE Progress(const WCHAR *, ULONG, ULONG) override {
        progress_calls.fetch_add(1);
        if (gate_) gate.pass();
        return S_OK;
    }
    HRESULT STDMETHODCALLTYPE Error(HRESULT, const WCHAR *) override { return S_OK; }
    HRESULT STDMETHODCALLTYPE Done(HANDLE, HRESULT hr) override {
        done_hr.store(hr);
        done_calls.fetch_add(1, std::memory_order_release);
        return S_OK;
    }

private:
    bool gate_;

    bool serves(REFIID riid) const override { return riid == IID_IMAPISyncProgressCallback; }
};

HRESULT start(IMAPISync *sync, Session *session, Callback *callback, HANDLE *event) {
    *event = reinterpret_cast<HANDLE>(static_cast<uintptr_t>(0x5EE0));
    MAPISIB sib = {sizeof(MAPISIB), SYNC_ON_DEMAND, session, callback, event};
    return sync->SynchronizeInBackground(&sib);
}

// Every reference the DLL took on the host's objects is given back.
void check_released(Session &session, Callback &callback, int cycle) {
    check(eventually([&] { return callback.refs.load() == 1 && session.refs.load() == 1; }),
          "cycle %d: the DLL gave back its references (callback %u, session %u)", cycle,
          static_cast<unsigned>(callback.refs.load()), static_cast<unsigned>(session.refs.load()));
}

// The host's side of one sync in a cycle: its session and callback on the
// stack, and the done event the provider wrote.
struct HostSync {
    Session session{Lifetime::Host};
    Callback callback;
    HANDLE event = nullptr;

    explicit HostSync(bool gate) : callback(gate) {}

    // A new provider of `clsid` starts the sync (checked); NULL when none was made.
    IMAPISync *start_on(Library &library, const CLSID &clsid, int cycle) {
        IMAPISync *sync = library.create(clsid);
        if (sync != nullptr) {
            check_hr(start(sync, &session, &callback, &event), S_OK, "SynchronizeInBackground", cycle);
        }
        return sync;
    }

    // As start_on, and the host lets go of the provider at once (as MAPI
    // does once a sync runs); false when no provider was made.
    bool start_and_let_go(Library &library, const CLSID &clsid, int cycle) {
        IMAPISync *sync = start_on(library, clsid, cycle);
        if (sync != nullptr) sync->Release();
        return sync != nullptr;
    }

    // The sync has ended: its event is signalled, the host closes it, and
    // the DLL gave back every reference it took.
    void check_ended(Library &library, int cycle) {
        check(library.signalled(event, 0), "cycle %d: the done event is signalled", cycle);
        library.close(event);
        check_released(session, callback, cycle);
    }
};

// ---------------------------------------------------------------- scenarios

struct ShutdownCall {
    Library *library;
    uint32_t timeout_ms;
    std::atomic<uint32_t> result{0xFFFFFFFFu};
};

void call_shutdown(void *arg) {
    ShutdownCall *call = static_cast<ShutdownCall *>(arg);
    call->result.store(call->library->shutdown(call->timeout_ms));
}

// A new sync after the shutdown is refused, starting nothing.
void check_refused(Library &library, Session &session, int cycle) {
    IMAPISync *late = library.create(CLSID_Reporter);
    if (late == nullptr) return;
    Callback callback(false);
    HANDLE event = nullptr;
    check_hr(start(late, &session, &callback, &event), MAPI_E_END_OF_SESSION, "a sync after shutdown", cycle);
    check(event == nullptr, "cycle %d: a refused sync leaves *phSyncDoneEvent NULL", cycle);
    late->Release();
    sleep_ms(1);
    check(callback.done_calls.load() == 0 && callback.progress_calls.load() == 0,
          "cycle %d: a refused sync calls nothing", cycle);
    check(callback.refs.load() == 1, "cycle %d: a refused sync keeps no reference", cycle);
}

void cancel_cycle(Library &library, int cycle) {
    uint32_t drops = library.provider_drops();
    HostSync host(true);
    IMAPISync *sync = host.start_on(library, CLSID_Reporter, cycle);
    if (sync == nullptr) return;
    check(eventually([&] { return host.callback.gate.reached.load(); }), "cycle %d: the sync reached Progress", cycle);
    sync->Release();  // the host lets go while the sync runs

    ShutdownCall call{&library, kTimeoutMs};
    HostThread shutdown(call_shutdown, &call);
    check(shutdown.started(), "cycle %d: host thread", cycle);
    check(eventually([&] { return library.is_shut_down() == 1; }), "cycle %d: the shutdown refuses syncs", cycle);
    check_refused(library, host.session, cycle);
    host.callback.gate.open.store(true);  // unblock Progress: the provider's next report sees the cancel
    shutdown.join();
    check(call.result.load() == 0, "cycle %d: shutdown drained (%u still running)", cycle, call.result.load());

    check(host.callback.done_calls.load(std::memory_order_acquire) == 1, "cycle %d: exactly one Done (%d)", cycle,
          host.callback.done_calls.load());
    check_hr(host.callback.done_hr.load(), MAPI_E_USER_CANCEL, "Done's HRESULT", cycle);
    check(host.callback.progress_calls.load() == 1, "cycle %d: no Progress after the cancel (%d calls)", cycle,
          host.callback.progress_calls.load());
    host.check_ended(library, cycle);
    check(library.running_workers() == 0, "cycle %d: no worker thread left", cycle);
    check(library.provider_drops() - drops == 2, "cycle %d: both providers dropped once (%u)", cycle,
          library.provider_drops() - drops);
    check_hr(library.can_unload_now(), S_OK, "DllCanUnloadNow after the shutdown", cycle);
}

void slow_tls_cycle(Library &library, int cycle) {
    uint32_t tls_drops = library.tls_drops();
    HostSync host(false);
    if (!host.start_and_let_go(library, CLSID_SlowTls, cycle)) return;
    // Unload at the first S_OK: the thread-local destructor (20 ms, in the
    // DLL's code) must have finished by then.
    check(eventually([&] { return library.can_unload_now() == S_OK; }), "cycle %d: DllCanUnloadNow says S_OK", cycle);
    check(library.tls_drops() - tls_drops == 1,
          "cycle %d: the slow thread-local destructor finished before S_OK (%u)", cycle, library.tls_drops() - tls_drops);
    check(host.callback.done_calls.load(std::memory_order_acquire) == 1, "cycle %d: exactly one Done", cycle);
    check_hr(host.callback.done_hr.load(), S_OK, "Done's HRESULT", cycle);
    host.check_ended(library, cycle);
}

void stubborn_cycle(Library &library, int cycle) {
    uint32_t drops = library.provider_drops();
    HostSync host(false);
    if (!host.start_and_let_go(library, CLSID_Stubborn, cycle)) return;
    uint32_t left = library.shutdown(100);
    check(left == 1, "cycle %d: shutdown timed out with one worker running (%u)", cycle, left);
    check_hr(library.can_unload_now(), S_FALSE, "DllCanUnloadNow while the provider ignores the cancel", cycle);
    check(library.running_workers() == 1, "cycle %d: running_workers says 1", cycle);
    check(library.drain(20) == 1, "cycle %d: a second drain times out too", cycle);
    check(host.callback.done_calls.load() == 0, "cycle %d: no Done while the provider runs", cycle);

    library.release_stubborn();
    check(library.drain(kTimeoutMs) == 0, "cycle %d: drained once the provider returned", cycle);
    check(host.callback.done_calls.load(std::memory_order_acquire) == 1, "cycle %d: exactly one Done (%d)", cycle,
          host.callback.done_calls.load());
    check_hr(host.callback.done_hr.load(), MAPI_E_USER_CANCEL, "Done's HRESULT (cancelled, then Ok)", cycle);
    host.check_ended(library, cycle);
    check(library.provider_drops() - drops == 1, "cycle %d: the provider dropped once (%u)", cycle,
          library.provider_drops() - drops);
    check_hr(library.can_unload_now(), S_OK, "DllCanUnloadNow after the drain", cycle);
}

#ifdef _WIN32
// MAPI may run IMSProvider::Shutdown on a sync's worker thread (its last
// Release comes there). The shutdown must neither wait for that thread nor
// keep the DLL loaded for ever: no other call into the DLL follows here, only
// the FreeLibrary (in `one_cycle_then_unload_eventually`).
void worker_shutdown_cycle(Library &library, int cycle) {
    HostSync host(false);
    if (!host.start_and_let_go(library, CLSID_ShutsDownOnWorker, cycle)) return;
    check(library.signalled(host.event, kTimeoutMs), "cycle %d: the sync that shut down on its worker ended", cycle);
    check(eventually([&] { return host.callback.done_calls.load(std::memory_order_acquire) == 1; }),
          "cycle %d: exactly one Done", cycle);
    check_hr(host.callback.done_hr.load(), MAPI_E_USER_CANCEL, "Done's HRESULT (the shutdown cancelled it)", cycle);
    library.close(host.event);
    check_released(host.session, host.callback, cycle);
}
#endif

typedef void (*Scenario)(Library &, int);

struct CycleCall {
    Scenario scenario;
    Library *library;
    int cycle;
};

void call_cycle(void *arg) {
    CycleCall *call = static_cast<CycleCall *>(arg);
    call->scenario(*call->library, call->cycle);
}

// Loads the DLL and runs `scenario` on a host thread of its own, which has
// ended when this returns; false when the DLL did not load.
bool load_and_run(Library &library, Scenario scenario, const char *path, int cycle) {
    if (!library.load(path)) return false;
    library.reopen();  // in case an earlier cycle could not unload it
    CycleCall call{scenario, &library, cycle};
    HostThread thread(call_cycle, &call);
    check(thread.started(), "cycle %d: host thread", cycle);
    thread.join();
    return true;
}

// One cycle: load, the scenario on a host thread of its own, unload at once.
// Every call into the DLL is made on that thread (or threads it starts),
// which has ended before the unload: glibc keeps a shared object loaded
// while any live thread still has thread-local destructors registered from
// it, and std registers some on a thread that spawns. So the unload is real
// on Linux too, and the check that the loader has let go of the DLL holds
// the module's own pin to account.
void one_cycle(Scenario scenario, const char *path, int cycle) {
    Library library;
    if (!load_and_run(library, scenario, path, cycle)) return;
    check(library.unload(), "cycle %d: the DLL is unloaded at once (nothing keeps it loaded)", cycle);
}

#ifdef _WIN32
// As one_cycle, but the unload is MAPI's FreeLibrary after a Shutdown on a
// worker thread: the DLL must be gone once that thread has terminated.
void one_cycle_then_unload_eventually(Scenario scenario, const char *path, int cycle) {
    Library library;
    if (!load_and_run(library, scenario, path, cycle)) return;
    bool gone = library.unload();
    check(gone || eventually([&] { return !library.still_loaded(); }),
          "cycle %d: the DLL is unloaded once the worker that ran the shutdown has exited", cycle);
}
#endif

void run_cycles(const char *name, Scenario scenario, const char *path, int cycles,
                void (*cycle_fn)(Scenario, const char *, int) = one_cycle) {
    int failed_before = g_failed;
    int passed_before = g_passed;
    for (int i = 1; i <= cycles; ++i) cycle_fn(scenario, path, i);
    std::printf("%s: %d cycles, %d checks passed, %d failed\n", name, cycles, g_passed - passed_before,
                g_failed - failed_before);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s <lifecycle test DLL> [cycles] [scenario number]\n", argv[0]);
        return 2;
    }
    g_quiet_passes = true;  // the cycles run thousands of checks: print only failures
    int cycles = argc > 2 ? std::atoi(argv[2]) : 100;
    // One scenario per process where the runner asks for it (Wine): every
    // load of a Rust DLL takes TLS indexes that its unload does not give back
    // (std's thread-local keys), and a process has about a thousand.
    int only = argc > 3 ? std::atoi(argv[3]) : 0;
    auto wanted = [only](int number) { return only == 0 || only == number; };
    if (wanted(1)) run_cycles("cancel in Progress, shutdown, unload", cancel_cycle, argv[1], cycles);
    if (wanted(2))
        run_cycles("slow thread-local destructor, unload at DllCanUnloadNow's S_OK", slow_tls_cycle, argv[1], cycles);
    if (wanted(3)) run_cycles("provider ignoring the cancel", stubborn_cycle, argv[1], cycles < 10 ? cycles : 10);
#ifdef _WIN32
    // Windows only: there the module's pin is handed to the worker's exit (a
    // thread-pool wait); on Linux it stays until the next call into the DLL.
    if (wanted(4))
        run_cycles("shutdown on the sync's own worker, then FreeLibrary", worker_shutdown_cycle, argv[1], cycles,
                   one_cycle_then_unload_eventually);
#endif
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}

// The module's pins on itself (runtime/src/workers/pin.rs) in MAPI-like
// orders: stores are shut down (on their workers, on host threads, waiting
// or not), then the host lets go of everything, waits until every thread is
// long gone, and FreeLibrary's the DLL, expecting it to unload (the next
// load is a fresh instance) and no thread handle of the unloaded instance
// left open. Before the last worker's hand-off waited for every ended
// worker (pin.rs), modes 1 to 5 and 11 left the DLL loaded, and 6 and 12
// leaked thread handles.
//
// usage: unload_orders DLL [mode] [cycles]
//   1 store A's Shutdown (Scope::shutdown, 5 s) on a host thread waits for
//     A's worker; meanwhile store B's Shutdown (its scope dropped) runs on
//     B's worker, after A's Done. Both workers' thread-local destructors
//     take 500 ms.
//   2 one store, two syncs (two IMAPISync objects in one scope): the
//     store's Shutdown (scope dropped) on the first sync's worker; the other
//     sync (LateReporter) takes 300 ms to end after its cancellation.
//   3 three stores, each shut down on its own worker, one after another.
//   4 two stores: A's scope dropped in A's first Progress, B's once A's
//     Done came, each on its own worker; `cycles` times in one process
//     (load, both Shutdowns, FreeLibrary, unloaded?).
//   5 store A's scope dropped on a host thread (no wait), store B's on its
//     worker after A's Done.
//   6 as 4, `cycles` times, and the process's handle count must not grow
//     from cycle to cycle (after the first): the entries the unloaded
//     instance never reaped keep their worker threads' handles open.
//   8 as 4, but both workers' thread-local destructors call back into the
//     runtime after 200 ms (CallsBackReporter), A's and B's, `cycles` times.
//   9 two stores, each shut down on its own worker (A first, B once A's
//     Done came), both SlowReporter (500 ms thread-local destructors); the
//     host releases its objects and FreeLibrary's as soon as B's Shutdown
//     returned, while both workers are still in the DLL: no crash, and
//     the DLL unloads once they have exited.
//   10 a new sync started between the two workers' ends: A's store shut
//     down on A's worker; once A's Done came, the host starts C (B's store,
//     scope 1, a Reporter); B's Progress then drops scope 1 (cancels B and C).
//   11 two stores: C's (a LateReporter, 300 ms to stop once cancelled) scope
//     dropped on a host thread (a Logoff/Shutdown that does not wait), then
//     B's scope dropped on B's worker; B's thread exits before C ends.
//   12 as 6 with one store (lifecycle.cpp scenario 4's case): `cycles`
//     unloads, handle count checked as in 6.
//   13 as 2, but the store's Shutdown on the worker is Scope::shutdown(2 s)
//     (examples/outlook-store's), which waits for the late sync.
//   14 store A's scope dropped on A's worker (asks for the hand-off) while
//     store B still runs; long after A has gone, B's store's Shutdown
//     (Scope::shutdown, 5 s) on the host thread, the host releases
//     everything and FreeLibrary's: the DLL must be unmapped AT ONCE and
//     the next LoadLibrary a fresh instance (as lifecycle.cpp scenario 1,
//     stubborn_reload.cpp), `cycles` times.
//   18 as 14, but B's end is the module's Shutdown on the host thread
//     (lifecycle::shutdown(5 s)).
//   15 the loader lock against the registry lock: A's scope dropped on the
//     host thread (A's thread exits, unreaped), then B's (a
//     CallsBackReporter); while B's thread-local destructor (run under the
//     loader lock) waits its 200 ms, the host calls DllCanUnloadNow (which
//     reaps A). A watchdog ends a deadlocked process after 15 s.
//   16 as 15, but the host's call is the next sync's start (store C's
//     SynchronizeInBackground).
//   17 as 15, but the host's call is a third store's Shutdown on the host
//     thread (Scope::shutdown(1 s), whose drain reaps A).
//   Modes 14 to 18 came from the review of a design with a pin per worker
//   (deadlocked in 15 and 17, not at once in 14 and 18).
// Modes 1, 2, 10 and 11 still leave the DLL loaded: known, open. The
// hand-off is made only by a worker that ran its own store's Shutdown, once
// every other listed worker has ended its body, and it cannot wait for a
// thread a drain holds (mode 1) or for a worker that is still running when
// the asking one ends (2, 10 and 11); a hand-off by a worker that did not
// ask could race a host thread's drain, which gives the pin back itself
// (modes 19 and 20 show that race for an earlier design).
//   19 A's scope dropped on A's worker (asks), A exits and
//     nothing reaps it; B (SlowTls, 300 ms thread-local destructor) then
//     ENDS ON ITS OWN (not cancelled): its worker_ending sees A's request,
//     hands the pin to B's exit. Right after B's Done the host runs B's
//     store's Shutdown (Scope::shutdown, 5 s) on its thread, releases
//     everything and FreeLibrary's: must unmap at once, next load fresh.
//   20 as 19, the module's Shutdown (lifecycle::shutdown(5 s)).
//   21 the loader lock against the registry lock after a
//     hand-off: B's (a CallsBackReporter) scope dropped on B's worker, the
//     only worker: it hands the pin off (the registry has none now). While
//     B's thread-local destructor (loader lock held) waits its 200 ms, the
//     host starts store C's sync: admit takes a new pin under the registry
//     lock. Watchdog as in 15.
//   7 control for 6: both stores' Shutdowns (Scope::shutdown, 5 s) on the
//     host thread, which reap the workers, then FreeLibrary, `cycles` times.
// Last line: `N passed, 0 failed`.
#include "../com_host.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <memory>
#include <thread>
#include <windows.h>

using namespace com_host;

constexpr CLSID CLSID_Reporter = {0x6C1F0A01, 0x7B1E, 0x4C2D, {0x9E, 0x55, 0x0A, 0x2B, 0x3C, 0x4D, 0x5E, 0x01}};
constexpr CLSID CLSID_SlowReporter = {0x6C1F0A06, 0x7B1E, 0x4C2D, {0x9E, 0x55, 0x0A, 0x2B, 0x3C, 0x4D, 0x5E, 0x01}};
constexpr CLSID CLSID_CallsBackReporter = {0x6C1F0A08, 0x7B1E, 0x4C2D, {0x9E, 0x55, 0x0A, 0x2B, 0x3C, 0x4D, 0x5E, 0x01}};
constexpr CLSID CLSID_LateReporter = {0x6C1F0A07, 0x7B1E, 0x4C2D, {0x9E, 0x55, 0x0A, 0x2B, 0x3C, 0x4D, 0x5E, 0x01}};
typedef void (*VoidFromU32Fn)(uint32_t);
typedef void (*AdoptFn)(uint32_t, void *);
typedef uint32_t (*U32Fn)();
typedef uint32_t (*U32FromU32Fn)(uint32_t);
typedef uint32_t (*ScopeShutdownFn)(uint32_t, uint32_t);

struct Store {
    IMAPISync *sync = nullptr;
    Session session{Lifetime::Host};
    CountingCallback callback;
    HANDLE event = nullptr;
    HRESULT start() {
        MAPISIB sib = {sizeof(MAPISIB), SYNC_ON_DEMAND, &session, &callback, &event};
        return sync->SynchronizeInBackground(&sib);
    }
    bool reports() const { return callback.progress_calls.load() > 0; }
    bool done() const { return callback.done_calls.load() == 1; }
    bool cancelled() const { return callback.done_hr.load() == MAPI_E_USER_CANCEL; }
    // The first Progress in which `when` holds runs `act` (on the worker).
    void once_when(std::function<bool()> when, std::function<void()> act) {
        auto ran = std::make_shared<std::atomic<bool>>(false);
        callback.on_progress = [ran, when, act](int) {
            if (when() && !ran->exchange(true)) act();
        };
    }
};

// Starts each store in turn, checked; with `wait_for_each`, each reports
// before the next starts.
static void start_all(std::initializer_list<Store *> stores, bool wait_for_each = false) {
    int i = 0;
    for (Store *store : stores) {
        check(store->start() == S_OK, "store %d started", i);
        if (wait_for_each) check(eventually([&] { return store->reports(); }), "store %d reports", i);
        i++;
    }
}

static bool all_of(std::initializer_list<Store *> stores, bool (Store::*what)() const) {
    for (Store *store : stores)
        if (!(store->*what)()) return false;
    return true;
}

// Handles of this process that are thread handles (GetProcessHandleCount
// says 0 under Wine): each open handle value probed.
static unsigned thread_handles() {
    unsigned n = 0;
    for (uintptr_t value = 4; value < 0x10000; value += 4) {
        DWORD flags = 0;
        HANDLE h = reinterpret_cast<HANDLE>(value);
        if (GetHandleInformation(h, &flags) && GetThreadId(h) != 0) n++;
    }
    return n;
}

static bool is_loaded(const char *path) {
    HMODULE again = nullptr;
    return GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT, path, &again) != 0;
}

struct Dll {
    Module module = nullptr;
    DllGetClassObjectFn get_class_object = nullptr;
    VoidFromU32Fn scope_open = nullptr, scope_drop = nullptr, slow_tls_ms = nullptr;
    AdoptFn scope_adopt = nullptr;
    ScopeShutdownFn scope_shutdown = nullptr;
    U32Fn tls_drops = nullptr;
    bool load(const char *path) {
        module = load_library(path);
        if (module == nullptr) return false;
        get_class_object = export_of<DllGetClassObjectFn>(module, "DllGetClassObject");
        scope_open = export_of<VoidFromU32Fn>(module, "mapisync_test_scope_open");
        scope_drop = export_of<VoidFromU32Fn>(module, "mapisync_test_scope_drop");
        slow_tls_ms = export_of<VoidFromU32Fn>(module, "mapisync_test_slow_tls_ms");
        scope_adopt = export_of<AdoptFn>(module, "mapisync_test_scope_adopt");
        scope_shutdown = export_of<ScopeShutdownFn>(module, "mapisync_test_scope_shutdown");
        tls_drops = export_of<U32Fn>(module, "mapisync_test_tls_drops");
        return get_class_object && scope_open && scope_drop && slow_tls_ms && scope_adopt && scope_shutdown &&
               tls_drops;
    }
    // A new sync of `clsid` for `store`, adopted by scope `slot` (opened
    // first, unless another store of the slot opened it).
    void adopt_new(Store &store, const CLSID &clsid, uint32_t slot, bool open = true) {
        store.sync = create_sync(get_class_object, clsid);
        if (open) scope_open(slot);
        scope_adopt(slot, store.sync);
    }
};

static void finish(std::initializer_list<Store *> stores) {
    int i = 0;
    for (Store *store : stores) {
        if (store->sync != nullptr) {
            check(WaitForSingleObject(store->event, 5000) == WAIT_OBJECT_0, "store %d: event signalled", i);
            CloseHandle(store->event);
            store->sync->Release();
            store->sync = nullptr;
        }
        i++;
    }
}

static bool free_and_check(Dll &dll, const char *path, const char *what) {
    sleep_ms(1000);  // every worker thread has long terminated
    std::printf("%s: everything ended; FreeLibrary\n", what);
    FreeLibrary(dll.module);
    bool gone = eventually([&] { return !is_loaded(path); }, 2000);
    std::printf("after FreeLibrary (+2 s) the DLL is %s\n", gone ? "unloaded" : "STILL LOADED");
    bool ok = check(gone, "%s: the DLL unloads after every store's Shutdown and FreeLibrary", what);
    if (!gone) {
        // What the next logon would get: the old instance (its scopes shut down).
        Module again = load_library(path);
        auto can_unload = export_of<HRESULT(STDAPICALLTYPE *)()>(again, "DllCanUnloadNow");
        std::printf("reloaded: the old instance (its slow thread-local count %u); DllCanUnloadNow: 0x%08X\n",
                    export_of<U32Fn>(again, "mapisync_test_tls_drops")(), hex(can_unload ? can_unload() : E_FAIL));
        FreeLibrary(again);
        bool gone_now = eventually([&] { return !is_loaded(path); }, 2000);
        std::printf("after DllCanUnloadNow and FreeLibrary the DLL is %s\n", gone_now ? "unloaded" : "STILL LOADED");
    }
    return ok;
}

// Mode 1.
static void host_thread_drain_while_worker_ends(Dll &dll) {
    dll.slow_tls_ms(500);
    Store a, b;
    dll.adopt_new(a, CLSID_SlowReporter, 0);
    dll.adopt_new(b, CLSID_SlowReporter, 1);
    VoidFromU32Fn drop = dll.scope_drop;
    b.once_when([&a] { return a.done(); }, [drop] {
        sleep_ms(100);  // A's body has ended; the host thread waits for its exit
        drop(1);        // B's store's Shutdown, on B's worker
    });
    start_all({&a, &b});
    check(eventually([&] { return all_of({&a, &b}, &Store::reports); }), "both report");
    // A's store's Shutdown on this (host) thread: waits for A's worker.
    uint32_t left = dll.scope_shutdown(0, 5000);
    check(left == 0, "A's scope shutdown on the host thread drained (%u)", left);
    check(eventually([&] { return b.done(); }), "B's Done came");
    check(all_of({&a, &b}, &Store::cancelled), "both cancelled");
    finish({&a, &b});
    check(eventually([&] { return dll.tls_drops() == 2; }), "both slow thread-local destructors ran");
}

// Mode 2 (mode 13: the Shutdown waits, Scope::shutdown(2 s)).
static void one_store_two_syncs(Dll &dll, bool waits = false) {
    Store b, c;
    dll.adopt_new(b, CLSID_Reporter, 0);
    dll.adopt_new(c, CLSID_LateReporter, 0, false);
    VoidFromU32Fn drop = dll.scope_drop;
    ScopeShutdownFn shutdown = dll.scope_shutdown;
    b.once_when([&c] { return c.reports(); }, [drop, shutdown, waits] {
        if (waits) check(shutdown(0, 2000) == 0, "the store's Shutdown on B's worker drained C");
        else drop(0);
    });
    start_all({&c, &b}, true);
    check(eventually([&] { return all_of({&b, &c}, &Store::done); }), "both Done came");
    check(all_of({&b, &c}, &Store::cancelled), "both cancelled");
    finish({&b, &c});
}

// Mode 3.
static void three_stores_on_workers(Dll &dll) {
    Store s[3];
    VoidFromU32Fn drop = dll.scope_drop;
    for (uint32_t i = 0; i < 3; i++) {
        dll.adopt_new(s[i], CLSID_SlowReporter, i);
        Store *prev = i == 0 ? nullptr : &s[i - 1];
        s[i].once_when([prev] { return prev == nullptr || prev->done(); }, [drop, i] { drop(i); });
    }
    // C, B first, A last: A shuts down at once, then B, then C.
    start_all({&s[2], &s[1], &s[0]}, true);
    check(eventually([&] { return s[2].done(); }), "the last Done came");
    finish({&s[0], &s[1], &s[2]});
    check(eventually([&] { return dll.tls_drops() == 3; }), "three slow thread-local destructors ran");
}

// Mode 4's one cycle: A's store shut down in A's first Progress, B's once
// A's Done came, each on its worker (mode 8: both call back from their TLS).
static void two_stores_on_workers(Dll &dll, bool calls_back = false) {
    Store a, b;
    dll.adopt_new(a, calls_back ? CLSID_CallsBackReporter : CLSID_SlowReporter, 0);
    dll.adopt_new(b, calls_back ? CLSID_CallsBackReporter : CLSID_Reporter, 1);
    VoidFromU32Fn drop = dll.scope_drop;
    a.once_when([] { return true; }, [drop] { drop(0); });
    b.once_when([&a] { return a.done(); }, [drop] { drop(1); });
    start_all({&b, &a}, true);
    check(eventually([&] { return all_of({&a, &b}, &Store::done); }), "both Done came");
    finish({&a, &b});
    if (calls_back) {
        auto drops = export_of<U32Fn>(dll.module, "mapisync_test_calls_back_drops");
        check(drops && eventually([&] { return drops() == 2; }), "both calling-back destructors ran");
    } else {
        check(eventually([&] { return dll.tls_drops() == 1; }), "A's slow thread-local destructor ran");
    }
}

// Mode 7's one cycle.
static void both_on_host_thread(Dll &dll) {
    Store a, b;
    dll.adopt_new(a, CLSID_Reporter, 0);
    dll.adopt_new(b, CLSID_Reporter, 1);
    start_all({&a, &b});
    check(eventually([&] { return all_of({&a, &b}, &Store::reports); }), "both report");
    check(dll.scope_shutdown(0, 5000) == 0, "A's scope drained on the host thread");
    check(dll.scope_shutdown(1, 5000) == 0, "B's scope drained on the host thread");
    finish({&a, &b});
}

// Mode 9 (the FreeLibrary is the caller's, at once).
static bool immediate_free(Dll &dll, const char *path) {
    dll.slow_tls_ms(500);
    Store a, b;
    dll.adopt_new(a, CLSID_SlowReporter, 0);
    dll.adopt_new(b, CLSID_SlowReporter, 1);
    VoidFromU32Fn drop = dll.scope_drop;
    a.once_when([] { return true; }, [drop] { drop(0); });
    std::atomic<bool> b_shut{false};
    b.once_when([&a] { return a.done(); }, [&b_shut, drop] {
        drop(1);
        b_shut.store(true);
        sleep_ms(50);  // the host's thread lets go meanwhile
    });
    start_all({&b, &a}, true);
    check(eventually([&] { return b_shut.load(); }), "B's Shutdown ran on its worker");
    a.sync->Release();
    b.sync->Release();
    std::printf("mode 9: both Shutdowns ran, workers still in the DLL; FreeLibrary now\n");
    FreeLibrary(dll.module);
    check(eventually([&] { return all_of({&a, &b}, &Store::done); }), "both Done came");
    for (Store *store : {&a, &b}) {
        check(WaitForSingleObject(store->event, 5000) == WAIT_OBJECT_0, "event signalled");
        CloseHandle(store->event);
    }
    bool gone = eventually([&] { return !is_loaded(path); }, 5000);
    std::printf("after FreeLibrary (+5 s) the DLL is %s\n", gone ? "unloaded" : "STILL LOADED");
    sleep_ms(500);
    return check(gone, "mode 9: the DLL unloads once both workers exited, no crash");
}

// Mode 10.
static void new_sync_between(Dll &dll) {
    Store a, b, c;
    dll.adopt_new(a, CLSID_SlowReporter, 0);
    dll.adopt_new(b, CLSID_Reporter, 1);
    dll.adopt_new(c, CLSID_Reporter, 1, false);
    VoidFromU32Fn drop = dll.scope_drop;
    a.once_when([] { return true; }, [drop] { drop(0); });
    b.once_when([&c] { return c.reports(); }, [drop] { drop(1); });
    start_all({&b, &a}, true);
    check(eventually([&] { return a.done(); }), "A's Done came");
    check(c.start() == S_OK, "C started after A's end");
    check(eventually([&] { return all_of({&b, &c}, &Store::done); }), "B's and C's Done came");
    finish({&a, &b, &c});
}

// Mode 11.
static void host_drop_late_then_worker(Dll &dll) {
    Store b, c;
    dll.adopt_new(b, CLSID_Reporter, 0);
    dll.adopt_new(c, CLSID_LateReporter, 1);
    std::atomic<bool> host_dropped{false};
    VoidFromU32Fn drop = dll.scope_drop;
    b.once_when([&host_dropped] { return host_dropped.load(); }, [drop] { drop(0); });
    start_all({&c, &b});
    check(eventually([&] { return all_of({&b, &c}, &Store::reports); }), "both report");
    dll.scope_drop(1);  // C's store's Shutdown on this thread, without waiting
    host_dropped.store(true);
    check(eventually([&] { return all_of({&b, &c}, &Store::done); }), "both Done came");
    check(c.cancelled(), "C cancelled");
    finish({&b, &c});
}

// Mode 12's one cycle.
static void one_store_on_worker(Dll &dll) {
    Store a;
    dll.adopt_new(a, CLSID_Reporter, 0);
    VoidFromU32Fn drop = dll.scope_drop;
    a.once_when([] { return true; }, [drop] { drop(0); });
    start_all({&a});
    check(eventually([&] { return a.done(); }), "A's Done came");
    finish({&a});
}

// Mode 5.
static void host_drop_then_worker(Dll &dll) {
    Store a, b;
    dll.adopt_new(a, CLSID_SlowReporter, 0);
    dll.adopt_new(b, CLSID_SlowReporter, 1);
    VoidFromU32Fn drop = dll.scope_drop;
    b.once_when([&a] { return a.done(); }, [drop] { drop(1); });
    start_all({&a, &b});
    check(eventually([&] { return all_of({&a, &b}, &Store::reports); }), "both report");
    dll.scope_drop(0);  // A's store's Shutdown on this thread, without waiting
    check(eventually([&] { return all_of({&a, &b}, &Store::done); }), "both Done came");
    finish({&a, &b});
    check(eventually([&] { return dll.tls_drops() == 2; }), "both slow thread-local destructors ran");
}

// B's store's Shutdown on this (host) thread, waiting (modes 14 and 19; the
// module's Shutdown in 18 and 20), which reaps B's worker; then the host
// lets go of both stores and FreeLibrary's: true if the DLL was unmapped at
// once, and the next logon's LoadLibrary, at once, must be a fresh instance.
static bool shut_down_on_host_then_reload(Dll &dll, const char *path, Store &a, Store &b, int mode) {
    if (mode == 18 || mode == 20) {
        auto shutdown = export_of<U32FromU32Fn>(dll.module, "mapisync_test_shutdown");
        check(shutdown(5000) == 0, "the module's Shutdown drained on the host thread");
    } else {
        check(dll.scope_shutdown(1, 5000) == 0, "B's scope drained on the host thread");
    }
    finish({&a, &b});
    FreeLibrary(dll.module);
    bool gone = !is_loaded(path);
    check(gone, "mode %d: after the host-thread Shutdown, FreeLibrary unmaps the DLL at once", mode);
    Module again = load_library(path);
    uint32_t old_tls = export_of<U32Fn>(again, "mapisync_test_tls_drops")();
    uint32_t shut = export_of<U32Fn>(again, "mapisync_test_is_shut_down")();
    check(old_tls == 0 && shut == 0, "the LoadLibrary right after is a fresh instance (thread-local count %u, shut down %u)",
          old_tls, shut);
    FreeLibrary(again);
    if (!gone) eventually([&] { return !is_loaded(path); }, 2000);  // let the old one go before the next cycle
    return gone;
}

// Mode 14's and 18's one cycle: true if the DLL was unmapped at once.
static bool host_shutdown_after_a_worker_shutdown(Dll &dll, const char *path, bool module_shutdown) {
    Store a, b;
    dll.adopt_new(a, CLSID_SlowReporter, 0);
    dll.adopt_new(b, CLSID_Reporter, 1);
    VoidFromU32Fn drop = dll.scope_drop;
    a.once_when([] { return true; }, [drop] { drop(0); });
    start_all({&b, &a}, true);
    check(eventually([&] { return a.done(); }), "A's Done came (its Shutdown on its worker)");
    check(eventually([&] { return dll.tls_drops() == 1; }), "A's thread-local destructor ran");
    sleep_ms(500);  // A's thread has long terminated
    return shut_down_on_host_then_reload(dll, path, a, b, module_shutdown ? 18 : 14);
}

constexpr CLSID CLSID_SlowTls = {0x6C1F0A02, 0x7B1E, 0x4C2D, {0x9E, 0x55, 0x0A, 0x2B, 0x3C, 0x4D, 0x5E, 0x01}};

// Modes 19 and 20: true if the DLL was unmapped at once.
static bool host_shutdown_while_self_ended_worker_hands_off(Dll &dll, const char *path, bool module_shutdown) {
    dll.slow_tls_ms(300);
    Store a, b;
    dll.adopt_new(a, CLSID_Reporter, 0);
    dll.adopt_new(b, CLSID_SlowTls, 1);
    VoidFromU32Fn drop = dll.scope_drop;
    a.once_when([] { return true; }, [drop] { drop(0); });  // A asks, on its worker
    // B's one Progress holds B's body until A has long exited (unreaped).
    b.once_when([] { return true; }, [&a] {
        eventually([&a] { return a.done(); });
        sleep_ms(300);
    });
    start_all({&a, &b});
    check(eventually([&] { return a.done(); }), "A's Done came (its Shutdown on its worker)");
    check(eventually([&] { return b.done(); }), "B's Done came (ended on its own)");
    check(b.callback.done_hr.load() == S_OK, "B not cancelled (0x%08X)", hex(b.callback.done_hr.load()));
    return shut_down_on_host_then_reload(dll, path, a, b, module_shutdown ? 20 : 19);
}

static std::atomic<bool> g_call_returned{false};

// Modes 15 to 17's watchdog: a deadlocked process is ended (TerminateProcess,
// which takes no loader lock), with its verdict printed.
static DWORD WINAPI deadlock_watchdog(LPVOID) {
    for (int i = 0; i < 1500 && !g_call_returned.load(); i++) Sleep(10);
    if (!g_call_returned.load()) {
        std::printf("mode 15-17, 21: DEADLOCK: the host's call has not returned after 15 s\n");
        std::printf("%d passed, %d failed\n", g_passed, g_failed + 1);
        std::fflush(stdout);
        TerminateProcess(GetCurrentProcess(), 3);
    }
    return 0;
}

// Modes 15 to 17.
static void loader_lock_against_registry_lock(Dll &dll, int mode) {
    g_call_returned.store(false);
    HANDLE watchdog = CreateThread(nullptr, 0, deadlock_watchdog, nullptr, 0, nullptr);
    auto can_unload = export_of<HRESULT(STDAPICALLTYPE *)()>(dll.module, "DllCanUnloadNow");
    Store a, b, c;
    dll.adopt_new(a, CLSID_Reporter, 0);
    dll.adopt_new(b, CLSID_CallsBackReporter, 1);
    dll.adopt_new(c, CLSID_Reporter, 2);
    start_all({&a, &b});
    check(eventually([&] { return all_of({&a, &b}, &Store::reports); }), "both report");
    dll.scope_drop(0);  // A's store's Shutdown here, no wait: A's entry stays
    check(eventually([&] { return a.done(); }), "A's Done came");
    sleep_ms(300);  // A's thread has terminated; nothing reaped it
    dll.scope_drop(1);
    check(eventually([&] { return b.done(); }), "B's Done came");
    sleep_ms(80);  // B's thread-local destructor runs (loader lock held) and waits 200 ms
    const char *call = mode == 15 ? "DllCanUnloadNow" : mode == 16 ? "C's SynchronizeInBackground" : "C's store's Shutdown";
    std::printf("mode %d: %s while B's thread-local destructor runs\n", mode, call);
    std::fflush(stdout);
    HRESULT hr = mode == 15 ? can_unload() : mode == 16 ? c.start() : HRESULT(dll.scope_shutdown(2, 1000));
    std::printf("mode %d: %s returned 0x%08X\n", mode, call, hex(hr));
    g_call_returned.store(true);
    WaitForSingleObject(watchdog, INFINITE);
    CloseHandle(watchdog);
    auto drops = export_of<U32Fn>(dll.module, "mapisync_test_calls_back_drops");
    check(eventually([&] { return drops() == 1; }), "B's calling-back destructor ran");
    if (mode == 16) {
        dll.scope_drop(2);
        check(eventually([&] { return c.done(); }), "C's Done came");
    } else {
        c.sync->Release();
        c.sync = nullptr;
    }
    finish({&a, &b, &c});
}

// Mode 21.
static void admit_after_hand_off_during_tls(Dll &dll) {
    g_call_returned.store(false);
    HANDLE watchdog = CreateThread(nullptr, 0, deadlock_watchdog, nullptr, 0, nullptr);
    Store b, c;
    dll.adopt_new(b, CLSID_CallsBackReporter, 1);
    dll.adopt_new(c, CLSID_Reporter, 2);
    VoidFromU32Fn drop = dll.scope_drop;
    b.once_when([] { return true; }, [drop] { drop(1); });  // B's store's Shutdown on B's worker
    start_all({&b});
    check(eventually([&] { return b.done(); }), "B's Done came");
    sleep_ms(80);  // B's thread-local destructor runs (loader lock held) and waits 200 ms
    std::printf("mode 21: C's SynchronizeInBackground while B's thread-local destructor runs\n");
    std::fflush(stdout);
    HRESULT hr = c.start();
    std::printf("mode 21: C's SynchronizeInBackground returned 0x%08X\n", hex(hr));
    g_call_returned.store(true);
    WaitForSingleObject(watchdog, INFINITE);
    CloseHandle(watchdog);
    auto drops = export_of<U32Fn>(dll.module, "mapisync_test_calls_back_drops");
    check(eventually([&] { return drops() == 1; }), "B's calling-back destructor ran");
    dll.scope_drop(2);
    check(eventually([&] { return c.done(); }), "C's Done came");
    finish({&b, &c});
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *path = argv[1];
    int mode = argc > 2 ? std::atoi(argv[2]) : 1;
    int cycles = argc > 3 ? std::atoi(argv[3]) : 10;
    int runs = mode == 4 || (mode >= 6 && mode <= 9) || mode == 12 || mode >= 14 ? cycles : 1;
    DWORD first = 0;
    for (int run = 0; run < runs; run++) {
        Dll dll;
        if (!dll.load(path)) {
            std::printf("cannot load %s or its exports\n", path);
            return 2;
        }
        check(dll.tls_drops() == 0, "cycle %d: a fresh instance", run);
        if (mode == 19 || mode == 20) {
            if (!host_shutdown_while_self_ended_worker_hands_off(dll, path, mode == 20))
                std::printf("mode %d cycle %d: STILL MAPPED right after FreeLibrary\n", mode, run);
            continue;
        }
        if (mode == 14 || mode == 18) {
            if (!host_shutdown_after_a_worker_shutdown(dll, path, mode == 18))
                std::printf("mode %d cycle %d: STILL MAPPED right after FreeLibrary\n", mode, run);
            continue;
        }
        if (mode == 9) {
            if (!immediate_free(dll, path)) break;
            continue;
        }
        switch (mode) {
            case 1: host_thread_drain_while_worker_ends(dll); break;
            case 2: one_store_two_syncs(dll); break;
            case 3: three_stores_on_workers(dll); break;
            case 4: case 6: two_stores_on_workers(dll); break;
            case 7: both_on_host_thread(dll); break;
            case 8: two_stores_on_workers(dll, true); break;
            case 10: new_sync_between(dll); break;
            case 11: host_drop_late_then_worker(dll); break;
            case 12: one_store_on_worker(dll); break;
            case 13: one_store_two_syncs(dll, true); break;
            case 5: host_drop_then_worker(dll); break;
            case 15: case 16: case 17: loader_lock_against_registry_lock(dll, mode); break;
            case 21: admit_after_hand_off_during_tls(dll); break;
            default: return 2;
        }
        if ((mode >= 15 && mode <= 17) || mode == 21) {
            // A Shutdown ran on the host thread without waiting, and no call
            // reaps the workers: the DLL may stay loaded (pin.rs), so these
            // modes run one cycle each; what they check is that every call
            // returned.
            FreeLibrary(dll.module);
            continue;
        }
        char what[64];
        std::snprintf(what, sizeof what, "mode %d cycle %d", mode, run);
        if (!free_and_check(dll, path, what)) break;
        DWORD handles = thread_handles();
        std::printf("%s: the process has %lu thread handles open after the unload\n", what, (unsigned long)handles);
        if (run == 0) first = handles;
    }
    if (mode == 6 || mode == 7 || mode == 12) {
        DWORD last = thread_handles();
        check(last <= first, "mode %d: no thread handle left behind by %d unloads (%lu after the first, %lu after the last)",
              mode, runs - 1, (unsigned long)first, (unsigned long)last);
    }
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}

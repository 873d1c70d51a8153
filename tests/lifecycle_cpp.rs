//! The lifecycle host in `tests/cpp/lifecycle` against the lifecycle test DLL
//! on Linux (`libmapisync_lifecycle_dll.so`), through `support::cpp_host`:
//! 100 cycles of load, sync, shutdown and unload per scenario, every check
//! passing and the host alive at the end to print its count. (The Windows
//! build runs under Wine in `scripts/suites/lifecycle-wine.sh`.)

#![cfg(all(unix, target_pointer_width = "64", not(miri)))]

use std::path::Path;

use mapisync_tests::cpp_host::CppHost;

#[test]
fn lifecycle_host_cancels_drains_and_unloads_100_times_per_scenario() {
    CppHost {
        package: "mapisync-lifecycle-dll",
        library: "libmapisync_lifecycle_dll.so",
        source: "tests/cpp/lifecycle/lifecycle.cpp",
        min_checks: 6000,
    }
    .run(Path::new(env!("CARGO_TARGET_TMPDIR")));
}

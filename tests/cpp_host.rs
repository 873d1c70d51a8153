//! The C++ host in `tests/cpp` against the example provider DLL on Linux
//! (`libmapisync_example_provider.so`), through `support::cpp_host`: every
//! check must pass. (The Windows build of the same host runs under Wine in
//! `scripts/suites/windows-wine.sh`.)

#![cfg(all(unix, target_pointer_width = "64", not(miri)))]

use std::path::Path;

use mapisync_tests::cpp_host::CppHost;

#[test]
fn cpp_host_passes_every_check_against_the_provider_so() {
    CppHost {
        package: "mapisync-example-provider",
        library: "libmapisync_example_provider.so",
        source: "tests/cpp/host.cpp",
        min_checks: 200,
    }
    .run(Path::new(env!("CARGO_TARGET_TMPDIR")));
}

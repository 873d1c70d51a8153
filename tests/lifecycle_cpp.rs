//! The lifecycle host in `tests/cpp/lifecycle` against the lifecycle test DLL
//! on Linux: builds `libmapisync_lifecycle_dll.so` with cargo, compiles the
//! host with g++ (`-std=c++17 -Wall -Wextra -Werror`), runs its 100 cycles
//! of load, sync, shutdown and unload per scenario, and requires its last
//! line to be `N passed, 0 failed` (and the host alive to print it).
//!
//! Without g++ the test prints why and passes locally; under `CI=true` it
//! fails instead. (The Windows build runs under Wine in
//! `scripts/suites/lifecycle-wine.sh`.)

#![cfg(all(unix, target_pointer_width = "64", not(miri)))]

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace").to_path_buf()
}

/// Builds the test DLL as a shared library and returns its path, as cargo reports it.
fn build_library() -> PathBuf {
    let output = Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args(["build", "--quiet", "-p", "mapisync-lifecycle-dll", "--message-format=json"])
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo build -p mapisync-lifecycle-dll failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let messages = String::from_utf8_lossy(&output.stdout);
    messages
        .lines()
        .filter(|line| line.contains("\"reason\":\"compiler-artifact\""))
        .flat_map(|line| line.split('"'))
        .find(|piece| piece.ends_with("/libmapisync_lifecycle_dll.so"))
        .map(PathBuf::from)
        .expect("cargo reported libmapisync_lifecycle_dll.so")
}

fn have_gxx() -> bool {
    Command::new("g++").arg("--version").output().is_ok_and(|output| output.status.success())
}

#[test]
fn lifecycle_host_cancels_drains_and_unloads_100_times_per_scenario() {
    if !have_gxx() {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "g++ is required under CI=true");
        println!("SKIP: g++ is not installed (install it, e.g. apt-get install g++, to run the C++ host)");
        return;
    }
    let library = build_library();
    let source = workspace_root().join("tests/cpp/lifecycle/lifecycle.cpp");
    let host = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mapisync-lifecycle-host");
    let compiled = Command::new("g++")
        .args(["-std=c++17", "-Wall", "-Wextra", "-Werror", "-O1", "-o"])
        .arg(&host)
        .arg(&source)
        .args(["-ldl", "-pthread"])
        .output()
        .expect("g++ runs");
    assert!(compiled.status.success(), "g++ failed:\n{}", String::from_utf8_lossy(&compiled.stderr));

    let run = Command::new(&host).arg(&library).output().expect("the host runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&run.stderr));
    let last = stdout.lines().last().unwrap_or_default();
    let (passed, failed) = last
        .strip_suffix(" failed")
        .and_then(|rest| rest.split_once(" passed, "))
        .and_then(|(passed, failed)| Some((passed.parse::<u32>().ok()?, failed.parse::<u32>().ok()?)))
        .unwrap_or_else(|| panic!("the host's last line is not `N passed, M failed` (did it crash?): {last:?}"));
    assert_eq!(failed, 0, "the lifecycle host saw failures (see above)");
    assert!(passed >= 6000, "the host ran only {passed} checks");
    assert!(run.status.success(), "the host exited with {}", run.status);
}

//! Running a C++ host of `tests/cpp` on Linux: cargo builds the DLL under
//! test as a shared library, g++ compiles the host (`-std=c++17 -Wall
//! -Wextra -Werror`), the host runs against the library, and its last line
//! must be `N passed, 0 failed` (a host that crashed prints no such line).
//!
//! Without g++ the run prints why and passes locally; under `CI=true` it
//! fails instead.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One C++ host and the library it drives.
pub struct CppHost<'a> {
    /// The cargo package that builds the library (a cdylib).
    pub package: &'a str,
    /// The library's file name, as cargo writes it (`libX.so`).
    pub library: &'a str,
    /// The host's source, relative to the workspace root.
    pub source: &'a str,
    /// The fewest checks a complete run prints (a run that stops early fails).
    pub min_checks: u32,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace").to_path_buf()
}

fn have_gxx() -> bool {
    Command::new("g++").arg("--version").output().is_ok_and(|output| output.status.success())
}

impl CppHost<'_> {
    /// Builds, compiles and runs the host; panics on any failure.
    /// `scratch` is where the host's executable goes (`CARGO_TARGET_TMPDIR`).
    pub fn run(&self, scratch: &Path) {
        if !have_gxx() {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "g++ is required under CI=true");
            println!("SKIP: g++ is not installed (install it, e.g. apt-get install g++, to run the C++ host)");
            return;
        }
        let library = self.build_library();
        let host = scratch.join(Path::new(self.source).file_stem().expect("a source file"));
        let compiled = Command::new("g++")
            .args(["-std=c++17", "-Wall", "-Wextra", "-Werror", "-O1", "-o"])
            .arg(&host)
            .arg(workspace_root().join(self.source))
            .args(["-ldl", "-pthread"])
            .output()
            .expect("g++ runs");
        assert!(compiled.status.success(), "g++ failed:\n{}", String::from_utf8_lossy(&compiled.stderr));

        let run = Command::new(&host).arg(&library).output().expect("the host runs");
        let stdout = String::from_utf8_lossy(&run.stdout);
        println!("{stdout}");
        eprintln!("{}", String::from_utf8_lossy(&run.stderr));
        let (passed, failed) = last_line_counts(&stdout);
        assert_eq!(failed, 0, "the C++ host {} saw failures (see above)", self.source);
        assert!(passed >= self.min_checks, "the host ran only {passed} checks");
        assert!(run.status.success(), "the host exited with {}", run.status);
    }

    /// Builds the library and returns its path, as cargo reports it (so any
    /// target directory works).
    fn build_library(&self) -> PathBuf {
        let output = Command::new(env!("CARGO"))
            .current_dir(workspace_root())
            .args(["build", "--quiet", "-p", self.package, "--message-format=json"])
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "cargo build -p {} failed:\n{}",
            self.package,
            String::from_utf8_lossy(&output.stderr)
        );
        let messages = String::from_utf8_lossy(&output.stdout);
        let suffix = format!("/{}", self.library);
        // Each artifact is one JSON line; the library is a quoted path in its "filenames".
        messages
            .lines()
            .filter(|line| line.contains("\"reason\":\"compiler-artifact\""))
            .flat_map(|line| line.split('"'))
            .find(|piece| piece.ends_with(&suffix))
            .map(PathBuf::from)
            .unwrap_or_else(|| panic!("cargo reported no {}", self.library))
    }
}

/// The host's `N passed, M failed` closing line.
fn last_line_counts(stdout: &str) -> (u32, u32) {
    let last = stdout.lines().last().unwrap_or_default();
    last.strip_suffix(" failed")
        .and_then(|rest| rest.split_once(" passed, "))
        .and_then(|(passed, failed)| Some((passed.parse().ok()?, failed.parse().ok()?)))
        .unwrap_or_else(|| panic!("the host's last line is not `N passed, M failed` (did it crash?): {last:?}"))
}

//! Does nothing: it exists for its build-dependency on quote (Cargo.toml),
//! so that cargo schedules this crate after syn has started.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
}

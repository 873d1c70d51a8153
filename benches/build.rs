//! Compiles the hand-written C++ COM object the benchmark compares against,
//! at -O2 as a release build of a C++ provider would be.

fn main() {
    println!("cargo::rerun-if-changed=cpp/com_object.cpp");
    cc::Build::new()
        .cpp(true)
        .file("cpp/com_object.cpp")
        .std("c++17")
        .opt_level(2)
        .debug(false)
        .warnings(true)
        .extra_warnings(true)
        .compile("mapisync_bench_cpp");
}

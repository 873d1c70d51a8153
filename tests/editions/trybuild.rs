//! `#[mapisync::provider]` in each edition: every crate under
//! tests/editions (one per edition: 2015, 2018, 2021, 2024) compiles the
//! same cases in `ui/` as its own edition, against the same `.stderr`
//! files, so an error reads the same in every edition, and a provider
//! compiles and runs in each. (tests/trybuild.rs has every case, in 2024.)
//! The 2015 crate also compiles `ui-2015/`: names later editions reserve.
//!
//! Run one edition with `cargo test -p mapisync-edition-2015`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("../ui/*.rs");
    cases.pass("../ui/pass/*.rs");
    if env!("CARGO_PKG_NAME").ends_with("2015") {
        // Names that later editions reserve: Rust 2015 code only.
        cases.compile_fail("../ui-2015/*.rs");
        cases.pass("../ui-2015/pass/*.rs");
    }
}

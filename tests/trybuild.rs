//! Compile-time behaviour of `#[mapisync::provider]`: every misuse is an
//! error at the user's offending tokens (`ui/*.rs`, one misuse per file,
//! with the expected `.stderr` beside it), and the accepted forms compile
//! and run (`ui/pass/*.rs`).
//!
//! After an intended change to a message, regenerate the `.stderr` files
//! with `TRYBUILD=overwrite cargo test -p mapisync-tests --test trybuild`
//! and read every diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
    cases.pass("ui/pass/*.rs");
}

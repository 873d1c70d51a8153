//! Compile-time guardrails of `mapisync::export_server!` (`ui_server/*.rs`,
//! one misuse per file with its `.stderr`; `ui_server/pass/*.rs` compile
//! and run). Kept apart from `trybuild.rs`, which covers the attribute.
//!
//! Regenerate the `.stderr` files after an intended change with
//! `TRYBUILD=overwrite cargo test -p mapisync-tests --test server_ui`.

#[test]
fn export_server() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui_server/*.rs");
    cases.pass("ui_server/pass/*.rs");
}

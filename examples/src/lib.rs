//! Example providers built with mapisync.
//!
//! - [`mailbox`]: a realistic provider that synchronizes a directory of
//!   `.eml` messages into an in-memory store (run it with
//!   `cargo run --example mailbox_sync`).
//! - [`quick_start`]: the smallest useful provider, as in the README.
//! - [`store_object`]: a windows-rs store object that lists IMAPISync and
//!   forwards it to a mapisync object (`cargo run --example store_object`).
//!
//! They live in a library so the test suite can check them too.

pub mod eml;
pub mod mailbox;
pub mod quick_start;
pub mod store_object;

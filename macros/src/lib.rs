//! `#[mapisync::provider]`: use it through the `mapisync` crate.
//!
//! The macro is one pipeline, one file per step: `parse` the attribute
//! arguments and the item, `validate` the impl into a `model::Provider`,
//! `generate` the COM glue. `expand` runs the steps over
//! `proc_macro2::TokenStream`s, so the whole macro is unit-tested without a
//! compiler; when the input is invalid it emits the errors beside the user's
//! items (`fallback`).

use proc_macro::TokenStream;

mod errors;
mod expand;
mod fallback;
mod generate;
mod model;
mod parse;
mod validate;

/// Turns `impl mapisync::MapiSync for T { ... }` into a complete IMAPISync COM object.
///
/// The one argument, `crate = path`, names the `mapisync` crate when it is
/// re-exported elsewhere (default `::mapisync`).
#[proc_macro_attribute]
pub fn provider(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::provider(args.into(), input.into()).into()
}

//! `#[mapisync::provider]`: use it through the `mapisync` crate.
//!
//! The macro is one pipeline, one file per step: `parse` the attribute
//! arguments and the item with syn (method bodies stay unparsed tokens),
//! `validate` the impl once into a typed view
//! (`model::Checked`: which trait, where each item goes, the
//! `model::Provider` the glue reads), `generate` the COM glue. `expand` runs
//! the steps over `proc_macro2::TokenStream`s, so the whole macro is
//! unit-tested without a compiler; when the input is invalid it emits the
//! errors beside the user's items, arranged as the view says (`fallback`).
//! This file holds only the attribute's entry point.

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
/// The impl holds exactly one method, with this signature:
///
/// ```text
/// fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()>
/// ```
///
/// and `T` is a concrete `Send + Sync + 'static` type. The attribute emits
/// the impl unchanged plus the static IMAPISync vtable for `T` (the
/// runtime's generic QueryInterface, AddRef, Release and
/// SynchronizeInBackground) and the hidden `Provider` impl, through which
/// the runtime's `impl From<T> for mapisync::IMAPISync` applies, so
/// `let sync: mapisync::IMAPISync = value.into();` is a live COM object with
/// one reference. The `mapisync` crate documentation has a complete example.
///
/// Where the macro cannot know, it leaves the check to rustc: renamed
/// imports (`use mapisync::MapiSync as Sync2`, `use mapisync::SyncJob as
/// Job`), type aliases, `Result<(), mapisync::Error>` and other spellings
/// of the types, alternative definitions chosen by `#[cfg]`, and `where`
/// clauses (on a concrete type their bounds hold, or rustc says which not).
///
/// Anything else is a compile error at the offending tokens, all reported
/// in one build: a missing, misspelled or duplicate method, other items in
/// the impl, another receiver than `&self`, other parameters or return
/// type, generics or lifetimes, `async`, `unsafe`, `const`
/// or `extern` methods, `unsafe`/`default`/negative impls, impls of other
/// traits, and use on anything but an impl. An item nested deeper than 64
/// levels outside its body (`Option<Option<...>>`, `&&...`, tuples) is an
/// error too, before syn would overflow rustc's stack reading it; method
/// bodies are never read, whatever their depth.
///
/// The one argument, `crate = path`, names the `mapisync` crate when it is
/// reached through a re-export, as in
/// `#[mapisync::provider(crate = ::my_reexport::mapisync)]` (default `::mapisync`).
#[proc_macro_attribute]
pub fn provider(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::provider(args.into(), input.into()).into()
}

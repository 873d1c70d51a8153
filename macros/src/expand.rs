//! The pipeline: parse, validate, generate, over `proc_macro2` tokens.

use proc_macro2::TokenStream;
use quote::quote;

use crate::errors::Errors;
use crate::{fallback, generate, parse, validate};

/// `#[mapisync::provider(args)] input`, expanded.
///
/// Valid input gives the user's impl unchanged plus the glue. Invalid input
/// gives every error as a `compile_error!`, the user's items (see
/// `fallback`), and the glue whenever the impl header the glue reads is
/// valid, so code that converts the type to `IMAPISync` raises no
/// follow-on errors.
pub fn provider(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = errors.check(parse::args(args)).unwrap_or_default();
    let item = match parse::item(input.clone()) {
        Ok(item) => item,
        Err(error) => {
            errors.push(error);
            let compile_errors = errors.finish().err().map(|error| error.to_compile_error());
            return quote!(#compile_errors #input);
        }
    };
    let provider = errors.check(validate::header(&args, &item));
    if validate::implements_mapisync(&item) {
        errors.check(validate::members(&item));
    }
    let glue = provider.as_ref().map(generate::provider);
    match errors.finish() {
        Ok(()) => quote!(#item #glue),
        Err(error) => {
            let compile_errors = error.to_compile_error();
            let items = fallback::items(&item, &args.krate);
            quote!(#compile_errors #items #glue)
        }
    }
}

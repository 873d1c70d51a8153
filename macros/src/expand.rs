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
    let mut errors = Errors::new();
    let args = errors.check(parse::args(args)).unwrap_or_default();
    let Some(item) = errors.check(parse::item(input.clone())) else {
        let compile_errors = errors.finish().err().map(|error| error.to_compile_error());
        return quote!(#compile_errors #input);
    };
    let checked = validate::provider(&args, &item, &mut errors);
    let glue = checked.provider.as_ref().map(generate::provider);
    match errors.finish() {
        Ok(()) => quote!(#item #glue),
        Err(error) => {
            let compile_errors = error.to_compile_error();
            let items = fallback::items(&item, &checked, &args.krate);
            quote!(#compile_errors #items #glue)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The expansion of `#[mapisync::provider(args)] input`, formatted.
    fn expand_formatted(args: TokenStream, input: TokenStream) -> String {
        let expanded = provider(args, input);
        let file = syn::parse2::<syn::File>(expanded).expect("the expansion is valid Rust");
        prettyplease::unparse(&file)
    }

    fn minimal_provider() -> TokenStream {
        quote! {
            impl mapisync::MapiSync for MyStore {
                fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
                    job.progress("Downloading headers", 1, 1)
                }
            }
        }
    }

    #[test]
    fn valid_input_is_the_impl_unchanged_then_the_glue() {
        let input = minimal_provider();
        let expanded = provider(TokenStream::new(), input.clone()).to_string();
        assert!(expanded.starts_with(&input.to_string()), "{expanded}");
        assert!(!expanded.contains("compile_error"), "{expanded}");
        assert!(expanded.contains("unsafe impl :: mapisync :: __private :: Provider for MyStore"), "{expanded}");
    }

    #[test]
    fn invalid_input_gives_errors_the_user_items_and_the_glue() {
        let input = quote! {
            impl mapisync::MapiSync for MyStore {
                async fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
            }
        };
        let expanded = provider(TokenStream::new(), input).to_string();
        assert_eq!(expanded.matches("compile_error").count(), 1, "{expanded}");
        assert!(expanded.contains("async fn synchronize_in_background"), "{expanded}");
        assert!(expanded.contains("impl MyStore"), "{expanded}");
        assert!(expanded.contains("Provider for MyStore"), "{expanded}");
    }

    #[test]
    fn an_invalid_header_gives_no_glue() {
        let input = quote!(
            impl<T> mapisync::MapiSync for MyStore<T> {}
        );
        let expanded = provider(TokenStream::new(), input).to_string();
        assert_eq!(expanded.matches("compile_error").count(), 2, "{expanded}");
        assert!(!expanded.contains("Provider for"), "{expanded}");
    }

    #[test]
    fn argument_errors_do_not_stop_the_glue() {
        let expanded = provider(quote!(threads = 4), minimal_provider()).to_string();
        assert_eq!(expanded.matches("compile_error").count(), 1, "{expanded}");
        assert!(expanded.contains("Provider for MyStore"), "{expanded}");
    }

    #[test]
    fn a_non_impl_item_is_emitted_beside_the_error() {
        let input = quote!(
            struct MyStore;
        );
        let expanded = provider(TokenStream::new(), input.clone()).to_string();
        assert!(expanded.starts_with(":: core :: compile_error !"), "{expanded}");
        assert!(expanded.ends_with(&input.to_string()), "{expanded}");
    }

    #[test]
    fn the_crate_argument_reaches_the_output() {
        let expanded = expand_formatted(quote!(crate = ::my_reexport::mapisync), minimal_provider());
        assert!(expanded.contains("impl ::my_reexport::mapisync::__private::Provider for MyStore"), "{expanded}");
        assert!(!expanded.contains(" ::mapisync::"), "{expanded}");
    }

    /// The expansion reviewers read: `tests/snapshots/minimal_provider.expanded.rs`.
    /// After an intended change, re-bless it with
    /// `MAPISYNC_BLESS=1 cargo test -p mapisync-macros` and read the diff.
    #[test]
    fn minimal_provider_expansion_matches_the_snapshot() {
        let expanded = expand_formatted(TokenStream::new(), minimal_provider());
        let lines = expanded.lines().count();
        println!("expansion of a minimal provider: {lines} lines (formatted)");
        assert!(lines <= 80, "the expansion of a minimal provider is {lines} lines, over the budget of 80");

        let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/minimal_provider.expanded.rs");
        if std::env::var_os("MAPISYNC_BLESS").is_some_and(|value| value == "1") {
            std::fs::write(&snapshot, &expanded).expect("write the snapshot");
            return;
        }
        let expected = std::fs::read_to_string(&snapshot).unwrap_or_default();
        assert!(
            expected == expanded,
            "the expansion differs from {}; if the change is intended, re-bless with MAPISYNC_BLESS=1\n--- snapshot\n{expected}\n--- expansion\n{expanded}",
            snapshot.display()
        );
    }
}

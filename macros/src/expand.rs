//! The pipeline: parse, validate, generate, over `proc_macro2` tokens.

use proc_macro2::TokenStream;
use quote::quote;

use crate::errors::{Errors, to_compile_error};
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
        let mut compile_errors = TokenStream::new();
        if let Err(error) = errors.finish() {
            compile_errors = to_compile_error(&error);
        }
        let mut glue = TokenStream::new();
        if let Some(self_ty) = fallback::unread_self_type(&input) {
            glue = generate::provider(&crate::model::Provider { krate: args.krate, self_ty });
        }
        return quote!(#compile_errors #input #glue);
    };
    let checked = validate::provider(&args, &item, &mut errors);
    let mut glue = TokenStream::new();
    if let Some(provider) = &checked.provider {
        glue = generate::provider(provider);
    }
    match errors.finish() {
        Ok(()) => quote!(#input #glue),
        Err(error) => {
            let compile_errors = to_compile_error(&error);
            let items = fallback::items(&input, &item, &checked, &args.krate);
            quote!(#compile_errors #items #glue)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use quote::ToTokens;

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

    /// A member syn cannot read is one error; the rest of the impl is read,
    /// so the glue is emitted (no "lacks `#[mapisync::provider]`" at
    /// `.into()`) and the member moves to the inherent impl (no "not a
    /// member of trait"); the method itself unreadable is not "missing".
    #[test]
    fn an_unreadable_member_is_one_error_and_the_glue_stays() {
        let helper = quote!(fn helper(&self, first: u8 second: u8) {});
        let method = quote!(
            fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
                Ok(())
            }
        );
        let unreadable_method = quote!(fn synchronize_in_background(&self) -> mapisync::Result<()> Ok(()) {});
        for (members, moved) in [(quote!(#method #helper), "fn helper"), (unreadable_method, "Ok (())")] {
            let input = quote!(impl mapisync::MapiSync for MyStore { #members });
            let expanded = provider(TokenStream::new(), input).to_string();
            assert_eq!(expanded.matches("compile_error").count(), 1, "{expanded}");
            assert!(expanded.contains("cannot read this item: expected"), "{expanded}");
            assert!(!expanded.contains("missing"), "{expanded}");
            assert!(expanded.contains("Provider for MyStore"), "{expanded}");
            let inherent = expanded.find("impl MyStore").expect("an inherent impl");
            assert!(expanded[inherent..].contains(moved), "{expanded}");
        }
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
        assert!(expanded.starts_with(":: std :: compile_error !"), "{expanded}");
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

    /// Every item of this repository's Rust sources (a few thousand items
    /// of every shape), through the macro: it never panics, its output is
    /// valid Rust, and its outline of each impl agrees with syn's.
    #[test]
    fn every_item_of_the_repository_expands_to_valid_rust() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
        if !root.join("runtime/src").is_dir() && std::env::var_os("CI").is_none_or(|ci| ci != "true") {
            // The published crate, unpacked outside the repository.
            println!("skipped: {} holds no mapisync checkout to read", root.display());
            return;
        }
        let mut files = Vec::new();
        for dir in ["runtime/src", "macros/src", "mapisync/src", "tests", "examples", "benches", "fuzz/fuzz_targets"] {
            collect_rust_files(&root.join(dir), &mut files);
        }
        let mut impls = 0;
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            // Nested too deeply for syn (tests/ui/too_deep_*.rs): it would overflow this thread's stack.
            if text.parse().map_or(true, |tokens| crate::parse::depth::check(&tokens).is_err()) {
                continue;
            }
            let Ok(parsed) = syn::parse_file(&text) else { continue };
            let mut items = parsed.items;
            while let Some(item) = items.pop() {
                if let syn::Item::Mod(syn::ItemMod { content: Some((_, inner)), .. }) = &item {
                    items.extend(inner.iter().cloned());
                }
                let tokens = item.to_token_stream();
                let expanded = provider(TokenStream::new(), tokens.clone());
                if let Err(error) = syn::parse2::<syn::File>(expanded.clone()) {
                    panic!("{}: invalid expansion ({error}) of\n{tokens}\n---\n{expanded}", file.display());
                }
                if let syn::Item::Impl(syn_impl) = &item {
                    impls += 1;
                    agrees_with_syn(syn_impl, &crate::parse::item(tokens).expect("an impl"));
                }
            }
        }
        assert!(impls > 100, "only {impls} impls found in {} files", files.len());
    }

    fn collect_rust_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && !path.ends_with("target") {
                collect_rust_files(&path, files);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }

    /// What `parse` reads of an impl is what syn's own `ItemImpl` parser
    /// reads (syn parses the bodies too; ours keeps them as tokens).
    fn agrees_with_syn(syn_impl: &syn::ItemImpl, ours: &crate::parse::Impl) {
        let text = |tokens: &dyn ToTokens| tokens.to_token_stream().to_string();
        let context = text(syn_impl);
        assert_eq!(text(&ours.self_ty), text(&syn_impl.self_ty), "{context}");
        assert_eq!(ours.items.len(), syn_impl.items.len(), "{context}");
        assert_eq!(ours.unsafety.is_some(), syn_impl.unsafety.is_some(), "{context}");
        assert_eq!(text(&ours.generics), text(&syn_impl.generics), "{context}");
        assert_eq!(text(&ours.generics.where_clause), text(&syn_impl.generics.where_clause), "{context}");
        let syn_trait = syn_impl.trait_.as_ref().map(|(bang, path, _)| (bang.is_some(), text(path)));
        let our_trait = ours.trait_.as_ref().map(|(bang, path, _)| (bang.is_some(), text(path)));
        assert_eq!(our_trait, syn_trait, "{context}");
        for (member, syn_member) in ours.items.iter().zip(&syn_impl.items) {
            // Spacing aside: syn keeps a method without a body verbatim.
            let unspaced = |text: String| text.replace(' ', "");
            assert_eq!(unspaced(member.tokens.to_string()), unspaced(text(syn_member)), "{context}");
            let is_fn = matches!(member.kind, crate::parse::MemberKind::Fn(_));
            let syn_fn = match syn_member {
                syn::ImplItem::Fn(_) => true,
                syn::ImplItem::Verbatim(tokens) => tokens.to_string().starts_with("fn "),
                _ => false,
            };
            assert_eq!(is_fn, syn_fn, "{context}");
        }
    }

    /// Token soup: random streams built from the pieces of impls (keywords,
    /// `<`, `>`, `->`, `::`, `&`, `'a`, groups). rustc never passes such
    /// input to an attribute, but the parser must not panic on it either.
    #[test]
    fn random_token_streams_never_panic() {
        use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenTree};
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        const WORDS: [&str; 16] = [
            "impl",
            "for",
            "fn",
            "self",
            "mut",
            "where",
            "const",
            "type",
            "unsafe",
            "default",
            "pub",
            "extern",
            "as",
            "MapiSync",
            "synchronize_in_background",
            "_",
        ];
        fn soup(next: &mut impl FnMut(usize) -> usize, depth: usize) -> TokenStream {
            let mut tokens = TokenStream::new();
            for _ in 0..next(12) {
                let token = match next(10) {
                    0..=3 => TokenTree::Ident(Ident::new(WORDS[next(WORDS.len())], Span::call_site())),
                    4..=6 => {
                        let ch = ['<', '>', '-', ':', '&', '!', '#', ',', ';', '\'', '.', '+', '='][next(13)];
                        let spacing = if next(2) == 0 { Spacing::Alone } else { Spacing::Joint };
                        TokenTree::Punct(Punct::new(ch, spacing))
                    }
                    7 => TokenTree::Literal(Literal::string("C")),
                    _ if depth < 3 => {
                        let delimiter =
                            [Delimiter::Parenthesis, Delimiter::Bracket, Delimiter::Brace, Delimiter::None][next(4)];
                        TokenTree::Group(Group::new(delimiter, soup(next, depth + 1)))
                    }
                    _ => TokenTree::Ident(Ident::new("x", Span::call_site())),
                };
                tokens.extend([token]);
            }
            tokens
        }
        for _ in 0..20_000 {
            let args = soup(&mut next, 2);
            let mut input = quote!(impl);
            input.extend(soup(&mut next, 0));
            let _ = provider(args.clone(), input);
            let _ = provider(args, soup(&mut next, 0));
        }
    }
}

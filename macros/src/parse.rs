//! Step 1: the attribute's arguments and the item it is on, from tokens.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprPath, Item, ItemImpl, Meta, Path, Token};

use crate::errors::Errors;
use crate::model::Args;

/// Parses `crate = path` (the one argument); every other argument is an error.
pub fn args(tokens: TokenStream) -> syn::Result<Args> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens)?;
    let mut errors = Errors::new();
    let mut krate: Option<Path> = None;
    for meta in metas {
        if !meta.path().is_ident("crate") {
            errors.spanned(
                meta.path(),
                format_args!("unknown argument `{}`: the only argument is `crate = path`", path_text(meta.path())),
            );
            continue;
        }
        let Meta::NameValue(name_value) = meta else {
            errors.spanned(meta, "expected `crate = path`, e.g. `crate = ::my_reexport::mapisync`");
            continue;
        };
        match name_value.value {
            Expr::Path(ExprPath { attrs, qself: None, path }) if attrs.is_empty() => {
                if krate.is_some() {
                    errors.spanned(&name_value.path, "duplicate argument `crate`");
                } else {
                    krate = Some(path);
                }
            }
            value => {
                errors.spanned(value, "expected a path to the mapisync crate, e.g. `crate = ::my_reexport::mapisync`")
            }
        }
    }
    errors.finish()?;
    Ok(krate.map_or_else(Args::default, |krate| Args { krate }))
}

/// Parses the item; anything but an impl block is an error at its first tokens.
pub fn item(tokens: TokenStream) -> syn::Result<ItemImpl> {
    match syn::parse2::<Item>(tokens)? {
        Item::Impl(item) => Ok(item),
        other => Err(syn::Error::new_spanned(
            head(&other),
            "`#[mapisync::provider]` goes on an `impl mapisync::MapiSync for YourType` block",
        )),
    }
}

/// The keyword and name of an item: enough to point at it without
/// underlining its whole body.
fn head(item: &Item) -> TokenStream {
    let (keyword, ident): (&dyn ToTokens, _) = match item {
        Item::Fn(f) => (&f.sig.fn_token, &f.sig.ident),
        Item::Struct(s) => (&s.struct_token, &s.ident),
        Item::Enum(e) => (&e.enum_token, &e.ident),
        Item::Union(u) => (&u.union_token, &u.ident),
        Item::Trait(t) => (&t.trait_token, &t.ident),
        Item::Mod(m) => (&m.mod_token, &m.ident),
        Item::Const(c) => (&c.const_token, &c.ident),
        Item::Static(s) => (&s.static_token, &s.ident),
        Item::Type(t) => (&t.type_token, &t.ident),
        other => return quote!(#other),
    };
    quote!(#keyword #ident)
}

/// `a::b::c`, as the user wrote it.
pub fn path_text(path: &Path) -> String {
    let segments = path.segments.iter().map(|segment| segment.ident.to_string());
    let joined = segments.collect::<Vec<_>>().join("::");
    if path.leading_colon.is_some() { format!("::{joined}") } else { joined }
}

#[cfg(test)]
mod tests {
    use quote::{ToTokens, quote};

    use super::*;

    fn messages(error: syn::Error) -> Vec<String> {
        error.into_iter().map(|error| error.to_string()).collect()
    }

    #[test]
    fn no_arguments_mean_the_mapisync_crate() {
        let args = args(TokenStream::new()).unwrap();
        assert_eq!(path_text(&args.krate), "::mapisync");
    }

    #[test]
    fn crate_argument_names_the_runtime() {
        let args = args(quote!(crate = ::my_reexport::mapisync)).unwrap();
        assert_eq!(path_text(&args.krate), "::my_reexport::mapisync");
        let args = super::args(quote!(crate = crate::reexport::mapisync,)).unwrap();
        assert_eq!(path_text(&args.krate), "crate::reexport::mapisync");
    }

    #[test]
    fn every_bad_argument_is_reported() {
        let error = args(quote!(threads = 4, crate = "mapisync", crate, debug)).err().unwrap();
        assert_eq!(
            messages(error),
            [
                "unknown argument `threads`: the only argument is `crate = path`",
                "expected a path to the mapisync crate, e.g. `crate = ::my_reexport::mapisync`",
                "expected `crate = path`, e.g. `crate = ::my_reexport::mapisync`",
                "unknown argument `debug`: the only argument is `crate = path`",
            ]
        );
    }

    #[test]
    fn a_second_crate_argument_is_an_error() {
        let error = args(quote!(crate = ::a, crate = ::b)).err().unwrap();
        assert_eq!(messages(error), ["duplicate argument `crate`"]);
    }

    #[test]
    fn arguments_that_do_not_parse_are_an_error() {
        assert!(args(quote!(= 4)).is_err());
    }

    #[test]
    fn an_impl_parses() {
        let item = item(quote!(impl mapisync::MapiSync for Store {})).unwrap();
        assert_eq!(item.self_ty.to_token_stream().to_string(), "Store");
    }

    #[test]
    fn anything_but_an_impl_is_an_error_at_its_head() {
        let expected = "`#[mapisync::provider]` goes on an `impl mapisync::MapiSync for YourType` block";
        for input in [
            quote!(
                fn run() {}
            ),
            quote!(
                struct Store;
            ),
            quote!(
                enum Store {}
            ),
            quote!(
                trait MapiSync {}
            ),
            quote!(
                mod store {}
            ),
            quote!(
                const STORE: u8 = 0;
            ),
            quote!(
                static STORE: u8 = 0;
            ),
            quote!(
                type Store = u8;
            ),
            quote!(
                use std::fmt;
            ),
        ] {
            assert_eq!(messages(item(input).err().unwrap()), [expected]);
        }
    }

    #[test]
    fn head_is_the_keyword_and_name() {
        let parsed: Item = syn::parse_quote!(
            fn run(job: u8) -> u8 {
                job
            }
        );
        assert_eq!(head(&parsed).to_string(), "fn run");
    }
}

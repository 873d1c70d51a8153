//! Step 1: the attribute's arguments and the item it is on, from tokens.

use proc_macro2::{TokenStream, TokenTree};

use crate::errors::{Error, Errors, Result};
use crate::model::Args;
use crate::syntax::{self, Impl, Path};

/// The example every argument error gives.
const EXAMPLE: &str = "e.g. `crate = ::my_reexport::mapisync`";

/// Parses `crate = path` (the one argument); every other argument is an error.
pub fn args(tokens: TokenStream) -> Result<Args> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut errors = Errors::new();
    let mut krate: Option<TokenStream> = None;
    for meta in syntax::split_commas(&tokens) {
        let name_len = meta.iter().take_while(|token| is_path_token(token)).count();
        let (name, rest) = meta.split_at(name_len);
        if name.is_empty() {
            errors.spanned(meta.iter().cloned(), format_args!("expected `crate = path`, {EXAMPLE}"));
            continue;
        }
        let name = syntax::path(name);
        if path_text(&name) != "crate" {
            let message = format!("unknown argument `{}`: the only argument is `crate = path`", path_text(&name));
            errors.spanned(name.tokens, message);
            continue;
        }
        let Some((_, value)) = rest.split_first().filter(|(first, _)| is_equals(first)) else {
            errors.spanned(meta.iter().cloned(), format_args!("expected `crate = path`, {EXAMPLE}"));
            continue;
        };
        if !is_plain_path(value) {
            errors.spanned(value.iter().cloned(), format_args!("expected a path to the mapisync crate, {EXAMPLE}"));
        } else if krate.is_some() {
            errors.spanned(name.tokens, "duplicate argument `crate`");
        } else {
            krate = Some(value.iter().cloned().collect());
        }
    }
    errors.finish()?;
    Ok(krate.map_or_else(Args::default, |krate| Args { krate }))
}

/// A token of a path without generic arguments: a name or a `:` of `::`.
fn is_path_token(token: &TokenTree) -> bool {
    match token {
        TokenTree::Ident(_) => true,
        TokenTree::Punct(punct) => punct.as_char() == ':',
        _ => false,
    }
}

fn is_equals(token: &TokenTree) -> bool {
    matches!(token, TokenTree::Punct(punct) if punct.as_char() == '=')
}

/// `a::b::c` or `::a::b`: names joined by `::`, nothing else.
fn is_plain_path(tokens: &[TokenTree]) -> bool {
    let body = match tokens {
        [TokenTree::Punct(a), TokenTree::Punct(b), rest @ ..] if a.as_char() == ':' && b.as_char() == ':' => rest,
        _ => tokens,
    };
    let mut expect_name = true;
    let mut i = 0;
    while i < body.len() {
        match (&body[i], body.get(i + 1)) {
            (TokenTree::Ident(_), _) if expect_name => i += 1,
            (TokenTree::Punct(a), Some(TokenTree::Punct(b)))
                if !expect_name && a.as_char() == ':' && b.as_char() == ':' =>
            {
                i += 2
            }
            _ => return false,
        }
        expect_name = !expect_name;
    }
    !body.is_empty() && !expect_name
}

/// Parses the item; anything but an impl block is an error at its first tokens.
pub fn item(tokens: TokenStream) -> Result<Impl> {
    syntax::item(tokens).map_err(|head| {
        Error::spanned(head, "`#[mapisync::provider]` goes on an `impl mapisync::MapiSync for YourType` block")
    })
}

/// `a::b::c`, as the user wrote it.
pub fn path_text(path: &Path) -> String {
    let segments = path.segments.iter().map(|segment| segment.ident.to_string());
    let joined = segments.collect::<Vec<_>>().join("::");
    if path.leading_colon { format!("::{joined}") } else { joined }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn messages(error: Error) -> Vec<String> {
        error.messages()
    }

    #[test]
    fn no_arguments_mean_the_mapisync_crate() {
        let args = args(TokenStream::new()).unwrap();
        assert_eq!(args.krate.to_string(), ":: mapisync");
    }

    #[test]
    fn crate_argument_names_the_runtime() {
        let args = args(quote!(crate = ::my_reexport::mapisync)).unwrap();
        assert_eq!(path_text(&syntax::path(&args.krate.into_iter().collect::<Vec<_>>())), "::my_reexport::mapisync");
        let args = super::args(quote!(crate = crate::reexport::mapisync,)).unwrap();
        assert_eq!(args.krate.to_string(), "crate :: reexport :: mapisync");
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
        assert_eq!(item.self_ty.tokens.to_string(), "Store");
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
    fn the_error_points_at_the_keyword_and_name() {
        let head = |tokens: TokenStream| syntax::item(tokens).err().unwrap().to_string();
        assert_eq!(
            head(quote!(
                fn run(job: u8) -> u8 {
                    job
                }
            )),
            "fn run"
        );
        assert_eq!(
            head(quote!(
                #[derive(Debug)]
                pub(crate) struct Store;
            )),
            "struct Store"
        );
        assert_eq!(
            head(quote!(
                pub static mut STORE: u8 = 0;
            )),
            "static STORE"
        );
        assert_eq!(
            head(quote!(
                const unsafe fn run() {}
            )),
            "fn run"
        );
        assert_eq!(
            head(quote!(
                use std::fmt;
            )),
            "use std :: fmt ;"
        );
    }
}

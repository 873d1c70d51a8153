//! Rust 2015 code with a later keyword as a name, made readable for syn.

use proc_macro2::{Delimiter, Ident, Spacing, TokenStream, TokenTree};

use super::{Parsed, is_one_of};

/// Words that are names in Rust 2015 and keywords from 2018.
const LATER_KEYWORDS: [&str; 3] = ["async", "await", "try"];

/// `tokens` with each of `async`, `await` and `try`, and each `dyn`
/// that Rust 2015 reads as a name, turned into a raw identifier: the
/// same name (`r#async` is `async`), the same span. `dyn (` is the
/// keyword in a type and a name elsewhere (`is_name`), which only syn's
/// reading tells apart: `paren_is_name` says which to take (the caller
/// reads both).
pub fn raw_names(tokens: TokenStream, paren_is_name: bool) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut output = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        output.push(match token {
            TokenTree::Ident(ident) if is_name(ident, tokens.get(i + 1), paren_is_name) => {
                TokenTree::Ident(Ident::new_raw(&ident.to_string(), ident.span()))
            }
            TokenTree::Group(group) => {
                let mut inner = proc_macro2::Group::new(group.delimiter(), raw_names(group.stream(), paren_is_name));
                inner.set_span(group.span());
                TokenTree::Group(inner)
            }
            other => other.clone(),
        });
    }
    output.into_iter().collect()
}

/// `parsed` with each item's tokens spelled as the user wrote them (the
/// raw names `raw_names` made, plain again: in Rust 2015 both are the
/// same name).
pub fn spelled_as_written(mut parsed: Parsed) -> Parsed {
    if let Parsed::Impl(item) = &mut parsed {
        for member in &mut item.items {
            member.tokens = unraw(std::mem::take(&mut member.tokens));
        }
    }
    parsed
}

fn unraw(tokens: TokenStream) -> TokenStream {
    let mut trees = Vec::new();
    for tree in tokens {
        trees.push(match tree {
            TokenTree::Ident(ident) => match ident.to_string().strip_prefix("r#") {
                Some(name) if name == "dyn" || LATER_KEYWORDS.contains(&name) => {
                    TokenTree::Ident(Ident::new(name, ident.span()))
                }
                _ => TokenTree::Ident(ident),
            },
            TokenTree::Group(group) => {
                let mut plain = proc_macro2::Group::new(group.delimiter(), unraw(group.stream()));
                plain.set_span(group.span());
                TokenTree::Group(plain)
            }
            other => other,
        });
    }
    trees.into_iter().collect()
}

/// Whether `ident` is a later keyword used as a name. Rust 2015 reads
/// `dyn` as a keyword only before what can begin a bound of a trait
/// object, as rustc decides it: a path segment (a name that is no
/// keyword of Rust 2015, or `self`, `Self`, `super`, `crate`), a
/// lifetime, `?` or `for`. Before `::`, `<` or `<<` (a path or
/// generic arguments: `dyn::Store`, `dyn<u8>`), before a keyword (`dyn
/// where`, `dyn as u8`) and anything else, `dyn` is a name. rustc leaves
/// out `!`, `~` and `const` too, so that `dyn!(...)` stays a macro call.
/// Before `(`, rustc reads the keyword only in a type (`dyn (Send)`); in
/// an expression or a pattern `dyn(1)` is a call: a name when
/// `paren_is_name` (and the macro emits the user's own `dyn` either way).
fn is_name(ident: &Ident, next: Option<&TokenTree>, paren_is_name: bool) -> bool {
    if ident == "dyn" {
        return !match next {
            Some(TokenTree::Ident(next)) => next == "for" || begins_path(next),
            Some(TokenTree::Punct(punct)) => {
                punct.as_char() == '?' || (punct.as_char() == '\'' && punct.spacing() == Spacing::Joint)
            }
            // `(` in a type, or a `$path` a `macro_rules!` macro passed on.
            Some(TokenTree::Group(group)) => match group.delimiter() {
                Delimiter::Parenthesis => !paren_is_name,
                delimiter => delimiter == Delimiter::None,
            },
            _ => false,
        };
    }
    is_one_of(ident, &LATER_KEYWORDS)
}

/// The keywords of Rust 2015 (strict and reserved, and `_`) that no
/// path starts with: all but `self`, `Self`, `super` and `crate`.
const KEYWORDS_2015: [&str; 44] = [
    "_", "abstract", "as", "become", "box", "break", "const", "continue", "do", "else", "enum", "extern", "false",
    "final", "fn", "for", "if", "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override",
    "priv", "pub", "ref", "return", "static", "struct", "trait", "true", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// Whether a path can start with `ident` in Rust 2015: a name (raw or
/// not, later keywords included) or a path keyword.
fn begins_path(ident: &Ident) -> bool {
    !is_one_of(ident, &KEYWORDS_2015)
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::{ToTokens, quote};

    use crate::parse::{MemberKind, item};

    /// The signature of the impl's one method, as syn read it.
    fn signature(method: TokenStream) -> String {
        let parsed =
            item(quote!(impl MapiSync for Store { #method })).unwrap_or_else(|error| panic!("{error}: {method}"));
        match &parsed.items[0].kind {
            MemberKind::Fn(f) => f.sig.to_token_stream().to_string(),
            _ => panic!("not read as a method: {method}"),
        }
    }

    /// Before a keyword, `::`, `<` or `as`, `dyn` is a name in Rust 2015.
    #[test]
    fn dyn_before_what_begins_no_bound_is_a_name() {
        let cases = [
            (quote!(fn f(&self) -> aliases::dyn where Store: Sync {}), "-> aliases :: r#dyn where Store : Sync"),
            (quote!(fn f(&self) -> <units::dyn as Same>::Out {}), "-> < units :: r#dyn as Same > :: Out"),
            (quote!(fn f(&self) -> generic::dyn<()> {}), "-> generic :: r#dyn < () >"),
            (quote!(fn f(&self) -> dyn<<u8 as Tr>::X> {}), "-> r#dyn < < u8 as Tr > :: X >"),
            (quote!(fn f(&self, _: [u8; dyn as usize]) {}), "[u8 ; r#dyn as usize]"),
            (quote!(fn f(&self, dyn: u8) {}), "r#dyn : u8"),
        ];
        for (method, expected) in cases {
            let read = signature(method.clone());
            assert!(read.contains(expected), "{method}: read as {read}");
        }
    }

    /// `dyn::SyncJob` is a path in Rust 2015 and the trait object
    /// `dyn ::SyncJob` later, the same tokens: syn reads the trait object,
    /// and validation leaves that to rustc instead of rejecting it.
    #[test]
    fn dyn_before_a_path_separator_is_left_to_rustc() {
        let input = quote! {
            impl mapisync::MapiSync for Store {
                fn synchronize_in_background(&self, job: &mut dyn::SyncJob) -> dyn::Result<()> { Ok(()) }
            }
        };
        let expanded = crate::expand::provider(TokenStream::new(), input).to_string();
        assert!(!expanded.contains("compile_error"), "{expanded}");
    }

    /// Before a name, a path keyword, a lifetime, `?`, `for` or `(`, `dyn`
    /// begins a trait object, as in every edition.
    #[test]
    fn dyn_before_a_bound_is_the_keyword() {
        let cases = [
            (quote!(fn async(&self) -> Box<dyn Error> {}), "Box < dyn Error >"),
            (quote!(fn async(&self) -> Box<dyn ::std::error::Error> {}), "Box < r#dyn :: std"),
            (quote!(fn async(&self) -> &dyn self::Tr {}), "& dyn self :: Tr"),
            (quote!(fn async(&self) -> &dyn crate::Tr {}), "& dyn crate :: Tr"),
            (quote!(fn async(&self) -> Box<dyn 'static + Send> {}), "Box < dyn 'static + Send >"),
            (quote!(fn async(&self) -> Box<dyn ?Sized> {}), "Box < dyn ? Sized >"),
            (quote!(fn async(&self) -> Box<dyn for<'a> Fn(&'a u8)> {}), "Box < dyn for < 'a > Fn (& 'a u8) >"),
            (quote!(fn async(&self) -> Box<dyn (Send)> {}), "Box < dyn (Send) >"),
            (quote!(fn async(&self) -> Box<dyn async> {}), "Box < dyn r#async >"),
        ];
        for (method, expected) in cases {
            let read = signature(method.clone());
            assert!(read.contains(expected), "{method}: read as {read}");
        }
    }

    /// Rust 2015 reads `dyn (` as the keyword only in a type: in an
    /// expression or a pattern `dyn(1)` is a call and `dyn(x)` a
    /// tuple-struct pattern, read as such, and emitted as written.
    #[test]
    fn dyn_before_a_parenthesis_outside_a_type_is_a_name() {
        for member in [
            quote!(const N: u8 = dyn(1);),
            quote!(fn helper(&self, dyn(x): dyn) -> u8 { x }),
            quote!(fn helper(&self, _: [u8; dyn(1) as usize]) {}),
        ] {
            let input = quote!(impl MapiSync for Store { #member });
            let parsed = item(input).unwrap_or_else(|error| panic!("{error}: {member}"));
            let read = &parsed.items[0];
            assert!(!matches!(read.kind, MemberKind::Unreadable(_)), "{member}");
            assert_eq!(read.tokens.to_string(), member.to_string(), "as written");
        }
    }
}

//! Rust 2015 code with a later keyword as a name, made readable for syn.

use proc_macro2::{Delimiter, Ident, Spacing, TokenStream, TokenTree};
use quote::TokenStreamExt;

use super::Parsed;

/// Words that are names in Rust 2015 and keywords from 2018.
const LATER_KEYWORDS: [&str; 3] = ["async", "await", "try"];

/// `tokens` with each of `async`, `await` and `try`, and each `dyn`
/// that Rust 2015 reads as a name, turned into a raw identifier: the
/// same name (`r#async` is `async`), the same span.
pub fn raw_names(tokens: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut output = TokenStream::new();
    for (i, token) in tokens.iter().enumerate() {
        output.append(match token {
            TokenTree::Ident(ident) if is_name(ident, tokens.get(i + 1)) => {
                TokenTree::Ident(Ident::new_raw(&ident.to_string(), ident.span()))
            }
            TokenTree::Group(group) => {
                let mut inner = proc_macro2::Group::new(group.delimiter(), raw_names(group.stream()));
                inner.set_span(group.span());
                TokenTree::Group(inner)
            }
            other => other.clone(),
        });
    }
    output
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
    let unraw = |tree| match tree {
        TokenTree::Ident(ident) if ident.to_string().strip_prefix("r#").is_some_and(is_later_keyword) => {
            let name = ident.to_string();
            TokenTree::Ident(Ident::new(&name[2..], ident.span()))
        }
        TokenTree::Group(group) => {
            let mut plain = proc_macro2::Group::new(group.delimiter(), unraw(group.stream()));
            plain.set_span(group.span());
            TokenTree::Group(plain)
        }
        other => other,
    };
    tokens.into_iter().map(unraw).collect()
}

fn is_later_keyword(name: &str) -> bool {
    name == "dyn" || LATER_KEYWORDS.contains(&name)
}

/// Whether `ident` is a later keyword used as a name. Rust 2015 reads
/// `dyn` as a keyword only before what can start a bound (a name, a
/// lifetime, `?`, `(`), as rustc does.
fn is_name(ident: &Ident, next: Option<&TokenTree>) -> bool {
    if ident == "dyn" {
        return !match next {
            Some(TokenTree::Ident(_)) => true,
            Some(TokenTree::Punct(punct)) => {
                punct.as_char() == '?' || (punct.as_char() == '\'' && punct.spacing() == Spacing::Joint)
            }
            Some(TokenTree::Group(group)) => group.delimiter() == Delimiter::Parenthesis,
            _ => false,
        };
    }
    LATER_KEYWORDS.iter().any(|keyword| ident == keyword)
}

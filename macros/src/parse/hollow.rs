//! The braces at the top of an impl body, emptied for syn and filled again.

use std::slice;

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};

/// `tokens` with each brace group at the top of its last group (the
/// impl body, when the item is an impl) emptied, keeping its span
/// (`{}` parses wherever braces do), and what those groups were, in order.
/// Braces in an invisible group of their own (a body a `macro_rules!`
/// macro passed on as `$body:block`) are braces too: the invisible group
/// goes, and the braces come back alone (the same tokens to rustc).
pub fn impl_body(tokens: &TokenStream) -> (TokenStream, Vec<Group>) {
    let mut trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let mut contents = Vec::new();
    if let Some(TokenTree::Group(body)) = trees.last_mut() {
        if body.delimiter() != Delimiter::Brace {
            return (tokens.clone(), contents);
        }
        let mut items = Vec::new();
        for tree in body.stream() {
            items.push(match visible(tree) {
                TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                    let mut empty = Group::new(Delimiter::Brace, TokenStream::new());
                    empty.set_span(group.span());
                    contents.push(group);
                    TokenTree::Group(empty)
                }
                other => other,
            });
        }
        let mut emptied = Group::new(Delimiter::Brace, items.into_iter().collect());
        emptied.set_span(body.span());
        *body = emptied;
    }
    (trees.into_iter().collect(), contents)
}

/// `tokens` without its last group when that is braces: the header of an
/// impl, without its body.
pub fn header(tokens: &TokenStream) -> TokenStream {
    let mut trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    if matches!(trees.last(), Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace) {
        trees.pop();
    }
    trees.into_iter().collect()
}

/// `tokens` (an item of the emptied body, as syn prints it) with each
/// brace group at its top replaced by the next of `contents`: the item
/// as the user wrote it.
pub fn refill(tokens: TokenStream, contents: &mut slice::Iter<Group>) -> TokenStream {
    let mut trees = Vec::new();
    for tree in tokens {
        trees.push(match tree {
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => match contents.next() {
                Some(contents) => TokenTree::Group(contents.clone()),
                None => TokenTree::Group(group),
            },
            other => other,
        });
    }
    trees.into_iter().collect()
}

/// The braces inside an invisible group of nothing else, or `tree`.
fn visible(tree: TokenTree) -> TokenTree {
    match tree {
        TokenTree::Group(group) if group.delimiter() == Delimiter::None => {
            let mut trees = group.stream().into_iter();
            match (trees.next(), trees.next()) {
                (Some(TokenTree::Group(only)), None)
                    if matches!(only.delimiter(), Delimiter::Brace | Delimiter::None) =>
                {
                    match visible(TokenTree::Group(only)) {
                        TokenTree::Group(braces) if braces.delimiter() == Delimiter::Brace => TokenTree::Group(braces),
                        _ => TokenTree::Group(group),
                    }
                }
                _ => TokenTree::Group(group),
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
    use quote::quote;

    use crate::parse::{MemberKind, item};

    /// A body a `macro_rules!` macro passed on as `$body:block` (braces in
    /// an invisible group) is a body: emptied, so not measured, and the end
    /// of its method; the next item is read on its own.
    #[test]
    fn a_body_in_an_invisible_group_is_a_body() {
        let deep: TokenStream = format!("{}1{}", "(".repeat(80), ")".repeat(80)).parse().unwrap();
        let body = TokenTree::Group(Group::new(Delimiter::None, quote!({ let _x = #deep; Ok(()) })));
        let input = quote! {
            impl mapisync::MapiSync for Store {
                fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> #body
                fn helper(&self) {}
            }
        };
        let parsed = item(input).unwrap();
        assert!(parsed.items.iter().all(|member| matches!(member.kind, MemberKind::Fn(_))), "both read");
        assert_eq!(parsed.items.len(), 2);
        let tokens = parsed.items[0].tokens.to_string();
        assert!(tokens.ends_with(&format!("{{ let _x = {deep} ; Ok (()) }}")), "the user's body: {tokens}");
    }
}

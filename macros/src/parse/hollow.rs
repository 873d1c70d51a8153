//! The braces at the top of an impl body, emptied for syn and filled again.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};

/// `tokens` with each brace group at the top of its last group (the
/// impl body, when the item is an impl) emptied, keeping its span
/// (`{}` parses wherever braces do), and what those groups were, in order.
pub fn impl_body(tokens: &TokenStream) -> (TokenStream, Vec<Group>) {
    let mut trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let mut contents = Vec::new();
    if let Some(TokenTree::Group(body)) = trees.last_mut().filter(is_braces) {
        let items = body.stream().into_iter().map(|tree| match tree {
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                let mut empty = Group::new(Delimiter::Brace, TokenStream::new());
                empty.set_span(group.span());
                contents.push(group);
                TokenTree::Group(empty)
            }
            other => other,
        });
        let mut emptied = Group::new(Delimiter::Brace, items.collect());
        emptied.set_span(body.span());
        *body = emptied;
    }
    (trees.into_iter().collect(), contents)
}

/// `tokens` (an item of the emptied body, as syn prints it) with each
/// brace group at its top replaced by the next of `contents`: the item
/// as the user wrote it.
pub fn refill(tokens: TokenStream, contents: &mut dyn Iterator<Item = Group>) -> TokenStream {
    let refill = |tree| match tree {
        TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
            TokenTree::Group(contents.next().unwrap_or(group))
        }
        other => other,
    };
    tokens.into_iter().map(refill).collect()
}

fn is_braces(tree: &&mut TokenTree) -> bool {
    matches!(tree, TokenTree::Group(group) if group.delimiter() == Delimiter::Brace)
}

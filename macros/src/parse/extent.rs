//! Where the parts of an impl body syn reads end, found token by token
//! (the tokens are not measured by `depth` yet, so syn must not read
//! them): the inner attributes, and each item, read or not.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::TokenStreamExt;
use syn::parse::ParseStream;

use super::is_one_of;

/// The tokens of the inner attributes (`#![...]`) at `input`, unread.
pub fn inner_attributes(input: ParseStream) -> syn::Result<TokenStream> {
    input.step(|cursor| {
        let mut tokens = TokenStream::new();
        let mut rest = *cursor;
        while let Some((hash, after_hash)) = rest.punct() {
            let Some((bang, after_bang)) = after_hash.punct() else { break };
            if hash.as_char() != '#' || bang.as_char() != '!' {
                break;
            }
            let Some((group, after)) = after_bang.token_tree() else { break };
            tokens.append(hash);
            tokens.append(bang);
            tokens.append(group);
            rest = after;
        }
        Ok((tokens, rest))
    })
}

/// The tokens of one item, read or not, ended as its kind ends: a method
/// at its first `;` or braces outside `<...>` (a const generic argument
/// `Wrap<{ 1 }>` is no body), a `const`, `static` or `type` at its `;`, a
/// macro after its group, anything else at its first `;` or braces; and
/// a `;` right after those braces.
pub fn member(input: ParseStream) -> syn::Result<TokenStream> {
    let end = item_end(input);
    input.step(|cursor| {
        let mut tokens = TokenStream::new();
        let mut rest = *cursor;
        let mut angles = 0usize;
        let mut previous: Option<TokenTree> = None;
        while let Some((tree, next)) = rest.token_tree() {
            rest = next;
            let braces = matches!(&tree, TokenTree::Group(group) if group.delimiter() == Delimiter::Brace);
            let semi = matches!(&tree, TokenTree::Punct(punct) if punct.as_char() == ';');
            let done = match end {
                ItemEnd::Fn => {
                    if let TokenTree::Punct(punct) = &tree {
                        let arrow = matches!(&previous, Some(TokenTree::Punct(p))
                            if p.spacing() == Spacing::Joint && matches!(p.as_char(), '-' | '='));
                        match punct.as_char() {
                            '<' => angles += 1,
                            '>' if !arrow => angles = angles.saturating_sub(1),
                            _ => {}
                        }
                    }
                    semi || (braces && angles == 0)
                }
                ItemEnd::Semi => semi,
                ItemEnd::Macro => semi || matches!(&tree, TokenTree::Group(_)),
                ItemEnd::First => semi || braces,
            };
            let group = matches!(&tree, TokenTree::Group(_));
            tokens.append(tree.clone());
            previous = Some(tree);
            if done {
                if let Some((semi, after)) = rest.punct() {
                    if group && semi.as_char() == ';' {
                        tokens.append(semi);
                        rest = after;
                    }
                }
                break;
            }
        }
        Ok((tokens, rest))
    })
}

/// How an item of an impl body ends (`member`).
#[derive(Clone, Copy)]
enum ItemEnd {
    Fn,
    Semi,
    Macro,
    First,
}

/// The kind of the item at `input`, by its first words after its
/// attributes and visibility. Read token by token, not with syn: the
/// tokens are not measured yet (`depth`).
fn item_end(input: ParseStream) -> ItemEnd {
    /// Words before `fn` or `const` that say nothing of the kind.
    const QUALIFIERS: [&str; 6] = ["pub", "crate", "default", "async", "unsafe", "extern"];
    let mut cursor = input.cursor();
    let mut constant = false;
    while let Some((tree, next)) = cursor.token_tree() {
        cursor = next;
        let ahead = next.punct();
        let ahead_is = |ch: char| matches!(&ahead, Some((punct, _)) if punct.as_char() == ch);
        match &tree {
            // An attribute's `#` and `[...]`, `pub`'s `(crate)`, an
            // invisible `$vis`, a path's `::`, `extern "C"`.
            TokenTree::Punct(punct) if punct.as_char() == '#' || punct.as_char() == ':' => {}
            TokenTree::Group(group) if group.delimiter() != Delimiter::Brace => {}
            TokenTree::Literal(_) => {}
            TokenTree::Ident(_) if ahead_is('!') => return ItemEnd::Macro,
            TokenTree::Ident(ident) if ident == "fn" => return ItemEnd::Fn,
            TokenTree::Ident(ident) if ident == "static" || ident == "type" => return ItemEnd::Semi,
            TokenTree::Ident(ident) if ident == "const" => constant = true,
            TokenTree::Ident(ident) if is_one_of(ident, &QUALIFIERS) => {}
            // A path segment (`a::b!`).
            TokenTree::Ident(_) if matches!(&ahead, Some((p, _)) if p.as_char() == ':' && p.spacing() == Spacing::Joint) =>
                {}
            _ => break,
        }
    }
    if constant { ItemEnd::Semi } else { ItemEnd::First }
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    use crate::parse::{MemberKind, item};

    fn provider_with(member: TokenStream) -> TokenStream {
        quote! {
            impl mapisync::MapiSync for Store {
                fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
                #member
            }
        }
    }

    fn kinds(input: TokenStream) -> Vec<String> {
        let parsed = item(input).unwrap();
        let kind = |kind: &MemberKind| match kind {
            MemberKind::Fn(_) => "fn".to_string(),
            MemberKind::Other(_) => "other".to_string(),
            MemberKind::Unreadable(error) => format!("unreadable: {error}"),
        };
        parsed.items.iter().map(|member| kind(&member.kind)).collect()
    }

    /// Braces inside `<...>` (a const generic argument) do not end a
    /// method, nor braces anywhere a const, static or type: what follows
    /// them is measured too (unmeasured, 400 levels there overflowed
    /// rustc's stack). Run on rustc's 8 MiB stack.
    #[test]
    fn a_deep_type_after_a_const_generic_argument_is_measured() {
        let read = || {
            let deep: TokenStream = format!("{}u8{}", "Option<".repeat(70), ">".repeat(70)).parse().unwrap();
            for member in [
                quote!(fn helper(&self) -> Wrap<{ 1 }, #deep> {}),
                quote!(fn helper(&self) -> Wrap<{ 1 }> where #deep: Sized {}),
                quote!(const C: Wrap<{ 1 }, #deep> = X;),
                quote!(type T = Wrap<{ 1 }, #deep>;),
            ] {
                let read = kinds(provider_with(member.clone()));
                assert_eq!(read.len(), 2, "{member}: {read:#?}");
                assert!(read[1].starts_with("unreadable: nested deeper"), "{member}\n  was read as: {}", read[1]);
            }
        };
        std::thread::Builder::new().stack_size(8 << 20).spawn(read).unwrap().join().unwrap();
    }

    /// An unreadable method with a const generic argument is one item,
    /// one error, and the item after it is read.
    #[test]
    fn an_unreadable_item_with_a_const_generic_argument_is_one_error() {
        let input = provider_with(quote! {
            fn helper(&self) -> Wrap<{ 1 }, u8> where u8: Copy Send {}
            fn other(&self) {}
        });
        let read = kinds(input);
        assert_eq!(read.len(), 3, "{read:#?}");
        assert!(read[1].starts_with("unreadable: expected"), "{}", read[1]);
        assert_eq!(read[2], "fn");
    }

    /// Each kind ends as it does: a method at its body or `;`, a const or
    /// a static (no item of an impl, unreadable) at its `;` (its braces
    /// are no end), a macro after its group.
    #[test]
    fn each_kind_of_item_ends_where_it_ends() {
        let input = provider_with(quote! {
            fn declared(&self) -> Vec<u8>;
            const C: Wrap<{ 1 }> = { 2 };
            pub(crate) const fn f<T: Tr<A = u8>>() -> impl Fn() -> u8 { g }
            m!(a; b);
            path::m! { x }
            static S: Wrap<{ 1 }> = 1;
            fn last(&self) {}
        });
        let read = kinds(input);
        assert_eq!(read[..6], ["fn", "fn", "other", "fn", "other", "other"], "{read:#?}");
        assert!(read[6].starts_with("unreadable"), "{}", read[6]);
        assert_eq!(read[7..], ["fn"], "{read:#?}");
    }

    /// Inner attributes are measured: too deep, they are one unreadable
    /// item with the error at them, and the rest of the impl is read.
    #[test]
    fn too_deep_inner_attributes_are_one_error() {
        let minus: TokenStream = format!("{}1", "-".repeat(3000)).parse().unwrap();
        let input = quote! {
            impl mapisync::MapiSync for Store {
                #![doc = #minus]
                fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> { Ok(()) }
            }
        };
        let read = kinds(input.clone());
        assert_eq!(read.len(), 2, "{read:#?}");
        assert!(read[0].starts_with("unreadable: nested deeper"), "{}", read[0]);
        assert_eq!(read[1], "fn");
        let expanded = crate::expand::provider(TokenStream::new(), input).to_string();
        assert_eq!(expanded.matches("compile_error").count(), 1, "{expanded}");
        assert!(expanded.contains("Provider for Store"), "the glue is emitted: {expanded}");
    }
}

//! What the macro emits beside its errors when the impl is invalid.
//!
//! The user's items are all emitted, so their own code keeps compiling and the rest of the crate does not drown in
//! follow-on errors. For an impl of `MapiSync` they are arranged as validation decided (`model::Place`), so the
//! compiler does not repeat the macro's errors in its own words: the header loses any `unsafe`, `default` or `!`
//! (each already reported); the trait impl keeps the valid method and otherwise gets a stub with the right signature
//! (never run: the build fails on the errors); every other item (a misspelled or malformed method, a helper fn, a
//! const, a macro) moves to an inherent impl of the same type.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::quote;
use syn::Path;

use crate::model::{Checked, Place, Trait};
use crate::parse::Impl;

/// The user's items, arranged as `checked` says; `input` is the item as
/// the user wrote it, for an impl that is not the macro's to rearrange.
pub fn items(input: &TokenStream, item: &Impl, checked: &Checked, krate: &Path) -> TokenStream {
    let Some((_, path, for_token)) = &item.trait_ else {
        return input.clone();
    };
    if matches!(checked.trait_, Trait::Other) {
        return input.clone();
    }
    let (mut trait_items, mut inherent_items) = (TokenStream::new(), TokenStream::new());
    // One place per item (none for a negative impl: all go).
    let mut places = checked.members.iter();
    for member in &item.items {
        match places.next() {
            Some(Place::Trait) => trait_items.extend(member.tokens.clone()),
            Some(Place::Inherent) => inherent_items.extend(member.tokens.clone()),
            Some(Place::Dropped) | None => {}
        }
    }
    if trait_items.is_empty() {
        trait_items = quote! {
            fn synchronize_in_background(&self, _: &mut #krate::SyncJob) -> #krate::Result<()> {
                ::core::result::Result::Ok(())
            }
        };
    }
    let trait_impl = item.rebuild(quote!(#path #for_token), trait_items);
    if inherent_items.is_empty() {
        return trait_impl;
    }
    let inherent = item.rebuild(TokenStream::new(), inherent_items);
    quote!(#trait_impl #inherent)
}

/// The self type of an impl the macro could not read (its header nested
/// too deep for syn, `parse::depth`), where it can still be read without
/// the rest: `impl` with no generics, a plain trait path, `for`, then the
/// type up to a top-level `where` or the body. Then the glue is emitted
/// for it, so a `.into()` of that type adds no "lacks
/// `#[mapisync::provider]`" to the one error; `None` for anything else
/// (the error stands alone).
pub fn unread_self_type(input: &TokenStream) -> Option<syn::Type> {
    // Only for that cause: an impl syn read and refused keeps its errors
    // alone, as before (its glue is `validate`'s to allow).
    if crate::parse::depth::check(input).is_ok() {
        return None;
    }
    let mut trees =
        input.clone().into_iter().skip_while(|tree| !matches!(tree, TokenTree::Ident(ident) if ident == "impl"));
    trees.next()?;
    let mut self_ty = Vec::new();
    let mut after_for = false;
    for tree in trees {
        match &tree {
            TokenTree::Ident(ident) if !after_for && ident == "for" => after_for = true,
            // Before `for`, a plain trait path only: generics (`impl<T>`,
            // whose `T` the glue would name unbound), `!` (a negative impl),
            // arguments (`Fn()`, `Trait<u8>`) are refused by syn's reading
            // with one error of their own, which glue would only add to.
            TokenTree::Ident(_) if !after_for => {}
            TokenTree::Punct(punct) if !after_for && punct.as_char() == ':' => {}
            _ if !after_for => return None,
            TokenTree::Ident(ident) if ident == "where" => break,
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => break,
            _ => self_ty.push(tree),
        }
    }
    let self_ty: TokenStream = self_ty.into_iter().collect();
    if !after_for || crate::parse::depth::check(&self_ty).is_err() {
        return None;
    }
    syn::parse2(self_ty).ok()
}

#[cfg(test)]
mod tests {
    use quote::{ToTokens, quote};
    use syn::{ImplItem, ItemImpl};

    use super::*;
    use crate::errors::Errors;
    use crate::model::Args;
    use crate::validate;

    /// The fallback for `item`, as validation arranges it.
    fn fallback(item: TokenStream) -> TokenStream {
        let parsed = crate::parse::item(item.clone()).unwrap();
        let mut errors = Errors::new();
        let checked = validate::provider(&Args::default(), &parsed, &mut errors);
        let _ = errors.finish();
        items(&item, &parsed, &checked, &syn::parse_quote!(::mapisync))
    }

    fn arrange(item: TokenStream) -> Vec<ItemImpl> {
        let file: syn::File = syn::parse2(fallback(item)).unwrap();
        file.items
            .into_iter()
            .map(|item| match item {
                syn::Item::Impl(item) => item,
                other => panic!("not an impl: {}", other.to_token_stream()),
            })
            .collect()
    }

    fn names(item: &ItemImpl) -> Vec<String> {
        item.items
            .iter()
            .map(|member| match member {
                ImplItem::Fn(method) => method.sig.ident.to_string(),
                ImplItem::Const(constant) => constant.ident.to_string(),
                other => other.to_token_stream().to_string(),
            })
            .collect()
    }

    #[test]
    fn a_valid_method_stays_in_the_trait_impl() {
        let impls = arrange(quote! {
            impl MapiSync for Store {
                fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()> { job.progress_count(1, 1) }
                fn helper(&self) {}
            }
        });
        assert_eq!(impls.len(), 2);
        assert!(impls[0].trait_.is_some());
        assert_eq!(names(&impls[0]), ["synchronize_in_background"]);
        assert!(impls[0].items[0].to_token_stream().to_string().contains("progress_count"));
        assert!(impls[1].trait_.is_none());
        assert_eq!(names(&impls[1]), ["helper"]);
    }

    #[test]
    fn a_missing_or_malformed_method_is_stubbed_and_the_user_code_moves() {
        let impls = arrange(quote! {
            unsafe impl MapiSync for Store {
                async fn synchronize_in_background(&mut self) {}
                fn synchronize_in_background(&self) {}
                const LIMIT: u32 = 3;
                type Alias = u32;
            }
        });
        assert_eq!(impls.len(), 2);
        assert!(impls[0].unsafety.is_none());
        assert_eq!(names(&impls[0]), ["synchronize_in_background"]);
        assert!(impls[0].items[0].to_token_stream().to_string().contains("Ok (())"));
        // The first malformed method and the const move; the second method
        // would clash, the alias cannot live in an inherent impl.
        assert_eq!(names(&impls[1]), ["synchronize_in_background", "LIMIT"]);
        assert!(impls[1].items[0].to_token_stream().to_string().starts_with("async fn"));
    }

    #[test]
    fn cfg_alternatives_stay_in_the_trait_impl() {
        let impls = arrange(quote! {
            impl MapiSync for Store {
                #[cfg(debug_assertions)]
                fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()> { Ok(()) }
                #[cfg(not(debug_assertions))]
                fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()> { Ok(()) }
                const LIMIT: u32 = 3;
            }
        });
        assert_eq!(names(&impls[0]), ["synchronize_in_background", "synchronize_in_background"]);
        assert_eq!(names(&impls[1]), ["LIMIT"]);
    }

    #[test]
    fn a_negative_impl_becomes_positive() {
        let impls = arrange(quote!(impl !MapiSync for Store {}));
        assert_eq!(impls.len(), 1);
        assert!(matches!(impls[0].trait_, Some((None, _, _))));
        assert_eq!(names(&impls[0]), ["synchronize_in_background"]);
    }

    #[test]
    fn an_impl_of_another_trait_is_left_alone() {
        let input = quote!(impl Default for Store { fn default() -> Self { Store } });
        assert_eq!(fallback(input.clone()).to_string(), input.to_string());
    }

    /// `impl MapiSync for Store where` and 70 levels of `Option<...>`.
    fn too_deep(head: TokenStream) -> TokenStream {
        let deep: TokenStream = format!("{}u8{}: Sized", "Option<".repeat(70), ">".repeat(70)).parse().unwrap();
        quote! { #head where #deep { fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()> { Ok(()) } } }
    }

    #[test]
    fn an_unread_impls_shallow_self_type_is_still_read() {
        let self_ty = unread_self_type(&too_deep(quote!(impl mapisync::MapiSync for Store)));
        assert_eq!(self_ty.map(|ty| ty.to_token_stream().to_string()), Some("Store".to_string()));
    }

    #[test]
    fn no_self_type_for_a_generic_impl_a_readable_impl_or_no_for() {
        assert!(unread_self_type(&too_deep(quote!(impl<T> MapiSync for Store<T>))).is_none());
        assert!(unread_self_type(&too_deep(quote!(impl Store))).is_none());
        let readable = quote! { impl MapiSync for Store { } };
        assert!(unread_self_type(&readable).is_none(), "syn reads it: validate decides");
    }

    /// A negative impl, or a trait path with arguments, is refused with one
    /// error when syn reads it; too deep, glue would add `Store: MapiSync`
    /// is not satisfied (found by the review of 6edd72d).
    #[test]
    fn no_self_type_after_anything_but_a_plain_trait_path() {
        for head in [
            quote!(impl !MapiSync for Store),
            quote!(impl std::ops::Fn() for Store),
            quote!(impl MapiSync<u8> for Store),
        ] {
            assert!(unread_self_type(&too_deep(head.clone())).is_none(), "{head}");
        }
        let plain = unread_self_type(&too_deep(quote!(impl ::mapisync::MapiSync for Store)));
        assert!(plain.is_some(), "a plain path, `::` and all");
    }
}

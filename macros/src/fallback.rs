//! What the macro emits beside its errors when the impl is invalid.
//!
//! The user's items are all emitted unchanged, so their own code keeps
//! compiling and the rest of the crate does not drown in follow-on errors.
//! For an impl of `MapiSync` they are arranged so the compiler does not
//! repeat the macro's errors in its own words: the header loses any
//! `unsafe`, `default` or `!` (each already reported), the trait impl keeps the
//! method if it is valid and otherwise gets a stub with the right
//! signature, and every other item (a misspelled or malformed method, a
//! helper fn, a const, a macro) moves to an inherent impl of the same type.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{ImplItem, ItemImpl, Path, parse_quote};

use crate::model::METHOD;
use crate::validate;

/// The user's items, arranged as the module doc says.
pub fn items(item: &ItemImpl, krate: &Path) -> TokenStream {
    if !validate::implements_mapisync(item) {
        return item.to_token_stream();
    }
    let trait_ = item
        .trait_
        .clone()
        .map(|(_, path, for_token)| (None, path, for_token));
    let mut trait_impl = ItemImpl {
        defaultness: None,
        unsafety: None,
        trait_,
        items: Vec::new(),
        ..item.clone()
    };
    let mut inherent = ItemImpl {
        trait_: None,
        items: Vec::new(),
        ..trait_impl.clone()
    };
    let mut method_kept = false;
    let mut method_moved = false;
    for member in &item.items {
        match member {
            ImplItem::Fn(method) if method.sig.ident == METHOD => {
                if !method_kept && validate::method(method).is_ok() {
                    method_kept = true;
                    trait_impl.items.push(member.clone());
                } else if !method_moved {
                    // A second one would clash with the first in the inherent impl.
                    method_moved = true;
                    inherent.items.push(member.clone());
                }
            }
            // Inherent associated types are unstable: an alias is dropped.
            ImplItem::Type(_) => {}
            other => inherent.items.push(other.clone()),
        }
    }
    if !method_kept {
        trait_impl.items.push(parse_quote! {
            fn synchronize_in_background(&self, _: &mut #krate::SyncJob) -> #krate::Result<()> {
                ::core::unreachable!()
            }
        });
    }
    if inherent.items.is_empty() {
        trait_impl.into_token_stream()
    } else {
        quote!(#trait_impl #inherent)
    }
}

//! Step 3: the COM glue for a validated provider.
//!
//! Only what needs the user's type is generated; QueryInterface, AddRef,
//! Release and the SynchronizeInBackground entry are generic code in the
//! runtime (`__private::vtable::<T>()`), which this instantiates once.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::Provider;

/// The glue for `provider`, wrapped in `const _: () = { ... };` so its
/// helper items never reach the user's namespace.
///
/// - The vtable is a `static`, so it has one address: `provider_of` tells
///   this provider's objects by it.
/// - `unsafe impl Provider` keeps that trait's one promise, `VTABLE` is
///   `vtable::<Self>()`. It is also the `Send + Sync + 'static` assertion:
///   those are `Provider`'s supertraits, and the compiler checks them at
///   this impl's self type, which carries the user's spans, so the error
///   lands on the user's type (tests/ui/not_send.rs). A separate assertion
///   item would only repeat each error.
/// - `impl From<T> for IMAPISync` is not generated: the runtime's blanket
///   impl serves every provider through `ProviderOf<T>`, implemented here
///   on `ProviderProbe<T>`, so a type without the attribute gets that
///   trait's "add `#[mapisync::provider]`" message from `.into()` as from
///   `IMAPISync::from`.
pub fn provider(provider: &Provider) -> TokenStream {
    let Provider { krate, self_ty } = provider;
    quote! {
        const _: () = {
            static VTABLE: #krate::__private::IMAPISync_Vtbl = #krate::__private::vtable::<#self_ty>();
            #[automatically_derived]
            #[doc(hidden)]
            unsafe impl #krate::__private::Provider for #self_ty {
                const VTABLE: &'static #krate::__private::IMAPISync_Vtbl = &VTABLE;
            }
            #[automatically_derived]
            impl #krate::__private::ProviderOf<#self_ty> for #krate::__private::ProviderProbe<#self_ty> {
                #[inline]
                fn into_sync(provider: #self_ty) -> #krate::IMAPISync {
                    #krate::__private::into_interface(provider)
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glue(krate: TokenStream) -> String {
        let tokens = provider(&Provider { krate: syn::parse2(krate).unwrap(), self_ty: syn::parse_quote!(Store) });
        syn::parse2::<syn::File>(tokens.clone()).expect("the glue is valid Rust");
        tokens.to_string()
    }

    #[test]
    fn instantiates_the_runtime_for_the_type() {
        let glue = glue(quote!(::mapisync));
        assert!(glue.starts_with("const _ : () = {"), "{glue}");
        assert!(
            glue.contains(
                "static VTABLE : :: mapisync :: __private :: IMAPISync_Vtbl = :: mapisync :: __private :: vtable :: < Store > ()"
            ),
            "{glue}"
        );
        assert!(glue.contains("unsafe impl :: mapisync :: __private :: Provider for Store"), "{glue}");
        assert!(glue.contains("= & VTABLE ;"), "{glue}");
        assert!(
            glue.contains("impl :: mapisync :: __private :: ProviderOf < Store > for :: mapisync :: __private :: ProviderProbe < Store >"),
            "{glue}"
        );
        assert!(!glue.contains("From"), "the runtime's blanket impl serves every provider: {glue}");
    }

    #[test]
    fn every_runtime_path_goes_through_the_crate_argument() {
        let glue = glue(quote!(::my_reexport::mapisync));
        assert_eq!(glue.matches(":: my_reexport :: mapisync :: ").count(), 8, "{glue}");
        let elsewhere = glue.replace(":: my_reexport :: mapisync :: ", "");
        assert!(!elsewhere.contains("mapisync"), "{glue}");
    }
}

//! `#[mapisync::provider]`: use it through the `mapisync` crate.

use proc_macro::TokenStream;

/// Turns `impl mapisync::MapiSync for T { ... }` into a complete IMAPISync COM object.
#[proc_macro_attribute]
pub fn provider(args: TokenStream, input: TokenStream) -> TokenStream {
    let _ = args;
    let item: syn::ItemImpl = match syn::parse(input) {
        Ok(item) => item,
        Err(e) => return e.to_compile_error().into(),
    };
    let ty = &item.self_ty;
    quote::quote! {
        #item
        const _: () = {
            unsafe impl ::mapisync::__private::Provider for #ty {
                const VTABLE: &'static ::mapisync::__private::IMAPISync_Vtbl = &::mapisync::__private::vtable::<#ty>();
            }
            impl ::core::convert::From<#ty> for ::mapisync::IMAPISync {
                #[inline]
                fn from(value: #ty) -> Self { ::mapisync::__private::into_interface(value) }
            }
        };
    }
    .into()
}

//! Step 2: checks the user's impl and decides, once, what the other steps do
//! with it (`model::Checked`), so generation never sees invalid input.
//!
//! The rules are small named checks, each documented with the rule it
//! enforces: the header's here, the items' in `members`, the method's in
//! `method`, the judgments of types in `types`. Every problem is a
//! `syn::Error` on the user's offending tokens, and all of them are reported
//! together. Where the macro cannot know (renamed imports, aliases, `#[cfg]`,
//! whether a `where` clause holds) it accepts and leaves the check to rustc:
//! it rejects only what is surely wrong.

use syn::{Type, TypePath};

use crate::errors::{Errors, both};
use crate::model::{Args, Checked, Provider, TRAIT, Trait};
use crate::parse::{Impl, MemberKind, path_text};

mod members;
mod method;
mod types;

/// Checks the whole impl into `errors` and returns what the other steps do with it.
pub fn provider(args: &Args, item: &Impl, errors: &mut Errors) -> Checked {
    let before = errors.count();
    not_default(item, errors);
    not_unsafe(item, errors);
    let trait_ = trait_of(item, errors);
    not_generic(item, errors);
    types::no_borrowed_lifetimes(item, errors);
    let header_valid = errors.count() == before;
    let provider = header_valid.then(|| Provider { krate: args.krate.clone(), self_ty: item.self_ty.clone() });
    let members = match trait_ {
        Trait::MapiSync => members::check(item, errors),
        // A negative impl's error says it all; an inherent impl's or another
        // trait's items are not ours to judge, but what syn cannot read is said.
        Trait::Negative | Trait::Other => {
            for member in &item.items {
                if let MemberKind::Unreadable(error) = &member.kind {
                    errors.push(members::unreadable(error));
                }
            }
            Vec::new()
        }
    };
    Checked { trait_, provider, members }
}

/// A provider impl is not a `default impl`.
fn not_default(item: &Impl, errors: &mut Errors) {
    if let Some(default) = &item.defaultness {
        errors.spanned(default, "a provider impl cannot be a `default impl`");
    }
}

/// `MapiSync` is a safe trait: its impl is not `unsafe`.
fn not_unsafe(item: &Impl, errors: &mut Errors) {
    if let Some(unsafety) = &item.unsafety {
        errors.spanned(unsafety, "`MapiSync` is a safe trait: remove `unsafe` (the macro writes the unsafe COM glue)");
    }
}

/// The impl is a positive impl of `MapiSync`, without generic arguments; a
/// trait of another name is a renamed import of it when the impl defines
/// the method (rustc checks that), and another trait otherwise.
fn trait_of(item: &Impl, errors: &mut Errors) -> Trait {
    let Some((bang, path, _)) = &item.trait_ else {
        errors.spanned(
            &both(&item.impl_token, &item.self_ty),
            &format!(
                "`#[mapisync::provider]` goes on an impl of `mapisync::MapiSync`, not on an inherent impl: write `impl mapisync::MapiSync for {}`",
                type_text(&item.self_ty)
            ),
        );
        return Trait::Other;
    };
    let named = matches!(path.segments.last(), Some(last) if last.ident == TRAIT);
    let renamed = !named && members::defines_method(item);
    if let Some(bang) = bang {
        errors.spanned(&both(bang, path), "a negative impl cannot be a provider: remove `!`");
    } else if !named && !renamed {
        let message = "`#[mapisync::provider]` goes on an impl of `mapisync::MapiSync`, not of";
        errors.spanned(path, &format!("{message} `{}`", path_text(path)));
    } else if let Some(last) = path.segments.last() {
        if named && !last.arguments.is_none() {
            errors.spanned(&last.arguments, "`MapiSync` takes no generic arguments");
        }
    }
    match (named || renamed, bang) {
        (false, _) => Trait::Other,
        (true, None) => Trait::MapiSync,
        // Its error says it all; the fallback makes it positive, without items.
        (true, Some(_)) => Trait::Negative,
    }
}

/// The impl has no generic parameters: each COM class needs one concrete
/// type. (A `where` clause is fine: on a concrete type its bounds either
/// hold, or rustc reports them.)
fn not_generic(item: &Impl, errors: &mut Errors) {
    if !item.generics.params.is_empty() {
        errors.spanned(
            &item.generics,
            "a provider impl cannot be generic: each COM class needs one concrete type; implement `MapiSync` for a concrete type",
        );
    }
}

/// The user's type as text, for messages.
fn type_text(ty: &Type) -> String {
    match ty {
        Type::Path(TypePath { qself: None, path }) => path_text(path),
        Type::Group(group) => type_text(&group.elem),
        _ => String::from("YourType"),
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    use super::*;

    /// Every error `provider` finds in `item`, in order.
    fn errors(item: TokenStream) -> Vec<String> {
        let item = crate::parse::item(item).unwrap_or_else(|error| panic!("not an impl: {error}"));
        let mut errors = Errors::new();
        let _ = provider(&Args::default(), &item, &mut errors);
        match errors.finish() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|error| error.to_string()).collect(),
        }
    }

    /// The errors for an impl holding only `method`.
    fn method_errors(method: TokenStream) -> Vec<String> {
        errors(quote!(impl mapisync::MapiSync for Store { #method }))
    }

    #[test]
    fn the_documented_forms_are_accepted() {
        for method in [
            quote!(
                fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()> {
                    Ok(())
                }
            ),
            quote!(
                fn synchronize_in_background(&self, _: &mut SyncJob) -> Result<()> {
                    Ok(())
                }
            ),
            quote!(
                fn synchronize_in_background(self: &Self, mut job: &mut ::mapisync::SyncJob) -> ::mapisync::Result<()> {
                    Ok(())
                }
            ),
            quote!(
                #[inline]
                fn synchronize_in_background(&self, job: &'_ mut SyncJob) -> windows_core::Result<()> {
                    Ok(())
                }
            ),
        ] {
            assert_eq!(method_errors(method.clone()), Vec::<String>::new(), "{method}");
        }
        for header in [quote!(impl ::mapisync::MapiSync for Store), quote!(impl MapiSync for crate::Store<'static, u8>)]
        {
            let item =
                quote!(#header { fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()> { Ok(()) } });
            assert_eq!(errors(item), Vec::<String>::new(), "{header}");
        }
    }

    /// Asserts that each method signature (given a body) is exactly one error, containing its text.
    fn assert_each_is_one_error<const N: usize>(cases: [(TokenStream, &str); N]) {
        for (signature, expected) in cases {
            let errors = method_errors(quote!(#signature { Ok(()) }));
            assert_eq!(errors.len(), 1, "{signature}: {errors:?}");
            assert!(errors[0].contains(expected), "{signature}: {errors:?}");
        }
    }

    #[test]
    fn each_receiver_or_parameter_misuse_is_one_error() {
        assert_each_is_one_error([
            (
                quote!(fn synchronize_in_background(&mut self, job: &mut SyncJob) -> Result<()>),
                "must take `&self`: the object is shared",
            ),
            (
                quote!(fn synchronize_in_background(self, job: &mut SyncJob) -> Result<()>),
                "must take `&self`: the COM object owns",
            ),
            (
                quote!(fn synchronize_in_background(mut self, job: &mut SyncJob) -> Result<()>),
                "must take `&self`: the COM object owns",
            ),
            (
                quote!(fn synchronize_in_background(self: Box<Self>, job: &mut SyncJob) -> Result<()>),
                "must take `&self`: the COM object owns",
            ),
            (
                quote!(fn synchronize_in_background(self: &mut Self, job: &mut SyncJob) -> Result<()>),
                "must take `&self`",
            ),
            (quote!(fn synchronize_in_background(job: &mut SyncJob) -> Result<()>), "must take `&self` first"),
            (
                quote!(fn synchronize_in_background(&self) -> Result<()>),
                "missing parameter `job: &mut mapisync::SyncJob`",
            ),
            (
                quote!(fn synchronize_in_background(&self, job: &mut SyncJob, n: u32) -> Result<()>),
                "unexpected parameter",
            ),
            (
                quote!(fn synchronize_in_background(&self, job: &SyncJob) -> Result<()>),
                "expected `&mut mapisync::SyncJob`",
            ),
            (
                quote!(fn synchronize_in_background(&self, job: SyncJob) -> Result<()>),
                "expected `&mut mapisync::SyncJob`",
            ),
            (
                quote!(fn synchronize_in_background(&self, job: &mut SyncJob<u8>) -> Result<()>),
                "expected `&mut mapisync::SyncJob`",
            ),
        ]);
    }

    #[test]
    fn each_return_type_misuse_is_one_error() {
        assert_each_is_one_error([
            (quote!(fn synchronize_in_background(&self, job: &mut SyncJob)), "missing return type"),
            (
                quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<(), String>),
                "expected `mapisync::Result<()>`",
            ),
            (
                quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<u32>),
                "expected `mapisync::Result<()>`",
            ),
            (quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> ()), "expected `mapisync::Result<()>`"),
        ]);
    }

    #[test]
    fn each_qualifier_misuse_is_one_error() {
        assert_each_is_one_error([
            (quote!(fn synchronize_in_background<T>(&self, job: &mut SyncJob) -> Result<()>), "cannot be generic"),
            (quote!(fn synchronize_in_background<'a>(&'a self, job: &mut SyncJob) -> Result<()>), "cannot be generic"),
            (quote!(async fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()>), "cannot be `async`"),
            (
                quote!(unsafe fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()>),
                "cannot be an `unsafe fn`",
            ),
            (
                quote!(const fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()>),
                "cannot be a `const fn`",
            ),
            (
                quote!(extern "C" fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()>),
                "cannot be `extern`",
            ),
            (
                quote!(extern "system" fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()>),
                "cannot be `extern`",
            ),
            (quote!(pub fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()>), "remove the visibility"),
            (
                quote!(pub(crate) fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()>),
                "remove the visibility",
            ),
            (
                quote!(default fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()>),
                "cannot be a `default fn`",
            ),
        ]);
    }

    #[test]
    fn what_the_macro_cannot_judge_is_left_to_rustc() {
        for method in [
            // `use mapisync::SyncJob as Job`, or an alias.
            quote!(fn synchronize_in_background(&self, job: &mut Job) -> Result<()>),
            quote!(fn synchronize_in_background(&self, job: JobRef<'_>) -> Result<()>),
            quote!(fn synchronize_in_background(&self, job: &mut <Store as Jobs>::Job) -> Result<()>),
            quote!(fn synchronize_in_background(&self, job: &mut (SyncJob)) -> Result<()>),
            // The type `mapisync::Result<()>` names, and aliases of it.
            quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<(), mapisync::Error>),
            quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> core::result::Result<(), Error>),
            quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<Unit, Failure>),
            quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> Result),
            quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> Outcome<()>),
            quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> (Outcome)),
            quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> outcome!()),
            // Alternatives `#[cfg]` chooses from, and a raw identifier.
            quote! {
                #[cfg(debug_assertions)]
                fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()> { Ok(()) }
                #[cfg(not(debug_assertions))]
                fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()> { Ok(()) }
            },
            quote!(fn r#synchronize_in_background(&self, job: &mut SyncJob) -> Result<()>),
        ] {
            let method = if method.to_string().ends_with('}') { method } else { quote!(#method { Ok(()) }) };
            assert_eq!(method_errors(method.clone()), Vec::<String>::new(), "{method}");
        }
        // `use mapisync::MapiSync as Sync2`: the method says which trait is meant.
        let item = quote!(impl Sync2 for Store { fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()> { Ok(()) } });
        assert_eq!(errors(item), Vec::<String>::new());
    }

    #[test]
    fn what_is_surely_wrong_is_still_rejected() {
        let result = "expected `mapisync::Result<()>`";
        let job = "expected `&mut mapisync::SyncJob`";
        assert_each_is_one_error([
            (quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<(), &'static str>), result),
            (quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<(), Box<dyn Error>>), result),
            (quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<(), Error, u8>), result),
            (quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> Option<()>), result),
            (quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> impl Sized), result),
            (quote!(fn synchronize_in_background(&self, job: &mut String) -> Result<()>), job),
            (quote!(fn synchronize_in_background(&self, job: u32) -> Result<()>), job),
            (quote!(fn synchronize_in_background(&self, job: &mut [SyncJob]) -> Result<()>), job),
        ]);
    }

    #[test]
    fn another_trait_and_unconditional_duplicates_are_still_rejected() {
        // Without the method, a trait of another name is another trait.
        assert_eq!(
            errors(quote!(impl Sync2 for Store {})),
            ["`#[mapisync::provider]` goes on an impl of `mapisync::MapiSync`, not of `Sync2`"]
        );
        assert_eq!(
            errors(quote!(impl Default for Store { fn default() -> Self { Store } })),
            ["`#[mapisync::provider]` goes on an impl of `mapisync::MapiSync`, not of `Default`"]
        );
        // Two definitions no `#[cfg]` tells apart are duplicates, whatever one `#[cfg]` says.
        let method = quote!(
            fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()> {
                Ok(())
            }
        );
        assert_eq!(
            method_errors(quote!(#method #[cfg(test)] #method #method)),
            ["duplicate `fn synchronize_in_background`: a provider implements it once"]
        );
    }

    #[test]
    fn each_header_misuse_is_one_error() {
        let method = quote!(
            fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()> {
                Ok(())
            }
        );
        let cases = [
            (quote!(unsafe impl MapiSync for Store), "`MapiSync` is a safe trait"),
            (quote!(default impl MapiSync for Store), "cannot be a `default impl`"),
            (quote!(impl Store), "not on an inherent impl: write `impl mapisync::MapiSync for Store`"),
            (quote!(impl MapiSync<u8> for Store), "`MapiSync` takes no generic arguments"),
            (quote!(impl<T> MapiSync for Store<T>), "cannot be generic"),
            (quote!(impl<'a> MapiSync for Store<'a>), "cannot be generic"),
            (quote!(impl<const N: usize> MapiSync for Store<N>), "cannot be generic"),
            (quote!(impl MapiSync for Store<'_>), "cannot borrow"),
            (quote!(impl MapiSync for &Store), "cannot borrow"),
            (quote!(impl MapiSync for (Store, &'a u8)), "cannot borrow"),
            (quote!(impl MapiSync for Box<[Store<'_>]>), "cannot borrow"),
        ];
        for (header, expected) in cases {
            let errors = errors(quote!(#header { #method }));
            assert_eq!(errors.len(), 1, "{header}: {errors:?}");
            assert!(errors[0].contains(expected), "{header}: {errors:?}");
        }
    }

    /// Issue 17.5: rustc accepts bounds that hold on a concrete type, and
    /// reports the others itself.
    #[test]
    fn where_clauses_are_left_to_rustc() {
        let method = quote!(
            fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()>
            where
                Self: Sized,
            {
                Ok(())
            }
        );
        for header in [
            quote!(impl MapiSync for Store where Store: Send + Sync),
            quote!(impl MapiSync for Store where for<'a> &'a Store: Send, 'static: 'static,),
        ] {
            assert_eq!(errors(quote!(#header { #method })), Vec::<String>::new(), "{header}");
        }
    }

    /// Rust 2015's trait objects without `dyn` are judged as with it.
    #[test]
    fn bare_trait_objects_are_judged_like_dyn_ones() {
        assert_each_is_one_error([
            (
                quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<(), Box<Error + Send>>),
                "expected `mapisync::Result<()>`",
            ),
            (
                quote!(fn synchronize_in_background(&self, job: &mut (Job + Send)) -> Result<()>),
                "expected `&mut mapisync::SyncJob`",
            ),
        ]);
        assert_eq!(errors(quote!(impl MapiSync for Store + Send {})).len(), 1, "missing method only");
    }

    #[test]
    fn a_negative_impl_is_one_error() {
        assert_eq!(errors(quote!(impl !MapiSync for Store {})), ["a negative impl cannot be a provider: remove `!`"]);
    }

    #[test]
    fn the_members_must_be_exactly_the_method() {
        let method = quote!(
            fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()> {
                Ok(())
            }
        );
        assert_eq!(
            errors(
                quote!(impl MapiSync for Store { #method const N: u8 = 1; type T = u8; m!(); fn helper(&self) {} #method })
            ),
            [
                "unexpected associated const `N`: an impl of `MapiSync` holds only `fn synchronize_in_background`",
                "unexpected associated type `T`: an impl of `MapiSync` holds only `fn synchronize_in_background`",
                "unexpected macro invocation: an impl of `MapiSync` holds only `fn synchronize_in_background`, written out",
                "unexpected method `helper`: an impl of `MapiSync` holds only `fn synchronize_in_background`; move helpers to an inherent `impl Store` block",
                "duplicate `fn synchronize_in_background`: a provider implements it once",
            ]
        );
    }

    #[test]
    fn a_missing_method_is_reported_unless_a_misspelling_explains_it() {
        assert_eq!(
            errors(quote!(impl MapiSync for Store {})),
            ["missing `fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()>`"]
        );
        assert_eq!(
            errors(quote!(impl MapiSync for Store { fn synchronise_in_background(&self) {} })),
            ["`MapiSync` has no method `synchronise_in_background`: did you mean `synchronize_in_background`?"]
        );
    }

    #[test]
    fn all_problems_are_reported_together() {
        let errors = errors(quote! {
            unsafe impl<T> MapiSync for Store<T> {
                async fn synchronize_in_background(&mut self, job: SyncJob) -> Result<u32, ()> { Ok(0) }
                fn helper(&self) {}
            }
        });
        assert_eq!(errors.len(), 7, "{errors:?}");
    }
}

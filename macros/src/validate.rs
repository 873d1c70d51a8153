//! Step 2: checks the user's impl, so generation never sees invalid input.
//!
//! Every problem is a `syn::Error` on the user's offending tokens, and all
//! of them are reported together.

use syn::ext::IdentExt;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, ImplItem, ImplItemFn, ItemImpl, PathArguments, Receiver, ReturnType,
    Signature, Type, TypePath, Visibility,
};

use crate::errors::{Errors, both};
use crate::model::{Args, METHOD, Provider, TRAIT};
use crate::parse::path_text;

/// The signature every error about the method points to.
const SIGNATURE: &str = "fn synchronize_in_background(&self, job: &mut mapisync::SyncJob) -> mapisync::Result<()>";

/// Checks the impl header (the parts generation reads) and builds the model.
pub fn header(args: &Args, item: &ItemImpl) -> syn::Result<Provider> {
    let mut errors = Errors::default();
    if let Some(default) = &item.defaultness {
        errors.spanned(default, "a provider impl cannot be a `default impl`");
    }
    if let Some(unsafety) = &item.unsafety {
        errors.spanned(unsafety, "`MapiSync` is a safe trait: remove `unsafe` (the macro writes the unsafe COM glue)");
    }
    match &item.trait_ {
        None => errors.spanned(
            both(item.impl_token, &item.self_ty),
            format_args!(
                "`#[mapisync::provider]` goes on an impl of `mapisync::MapiSync`, not on an inherent impl: write `impl mapisync::MapiSync for {}`",
                type_text(&item.self_ty)
            ),
        ),
        Some((Some(bang), path, _)) => errors.spanned(
            both(bang, path),
            "a negative impl cannot be a provider: remove `!`",
        ),
        Some((None, path, _)) => match path.segments.last() {
            Some(last) if last.ident == TRAIT => {
                if !last.arguments.is_none() {
                    errors.spanned(&last.arguments, "`MapiSync` takes no generic arguments");
                }
            }
            // A renamed import (`use mapisync::MapiSync as Sync2`): rustc checks it.
            _ if defines_method(item) => {}
            _ => errors.spanned(
                path,
                format_args!(
                    "`#[mapisync::provider]` goes on an impl of `mapisync::MapiSync`, not of `{}`",
                    path_text(path)
                ),
            ),
        },
    }
    if !item.generics.params.is_empty() {
        errors.spanned(
            &item.generics,
            "a provider impl cannot be generic: each COM class needs one concrete type; implement `MapiSync` for a concrete type",
        );
    }
    if let Some(where_clause) = &item.generics.where_clause {
        errors.spanned(where_clause, "a provider impl cannot have a `where` clause");
    }
    if item.generics.params.is_empty() {
        // With generics, their error already covers the type's lifetimes.
        borrowed_lifetimes(&item.self_ty, &mut errors);
    }
    errors.finish()?;
    Ok(Provider { krate: args.krate.clone(), self_ty: (*item.self_ty).clone() })
}

/// Whether the impl is of `MapiSync`, so its members are worth checking
/// (an inherent impl's are not ours to judge). A trait of another name is
/// taken for a renamed import of `MapiSync` when the impl defines its method.
pub fn implements_mapisync(item: &ItemImpl) -> bool {
    matches!(&item.trait_, Some((_, path, _))
        if path.segments.last().is_some_and(|last| last.ident == TRAIT) || defines_method(item))
}

/// Whether the impl holds a `fn synchronize_in_background` (raw or not).
fn defines_method(item: &ItemImpl) -> bool {
    item.items.iter().any(|member| matches!(member, ImplItem::Fn(method) if is_method(method)))
}

/// Whether `method` is named `synchronize_in_background` (`r#` or not).
pub fn is_method(method: &ImplItemFn) -> bool {
    method.sig.ident.unraw() == METHOD
}

/// Whether `#[cfg]` may remove the item (`#[cfg_attr]` may add a `#[cfg]`),
/// so two definitions may be alternatives rather than duplicates.
fn is_conditional(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr"))
}

/// Checks the impl's items: exactly one well-formed `synchronize_in_background`.
pub fn members(item: &ItemImpl) -> syn::Result<()> {
    if matches!(item.trait_, Some((Some(_), ..))) {
        // A negative impl has no items to check: its header error says it all.
        return Ok(());
    }
    let mut errors = Errors::default();
    let mut found = false;
    // Two definitions are duplicates only when no `#[cfg]` can tell them apart.
    let mut found_unconditional = false;
    // A misspelled method or a macro may be meant as the method: then
    // "missing" would only repeat their error.
    let mut maybe_found = false;
    for member in &item.items {
        match member {
            ImplItem::Fn(method) if is_method(method) => {
                let conditional = is_conditional(&method.attrs);
                if found_unconditional && !conditional {
                    errors.spanned(
                        &method.sig.ident,
                        "duplicate `fn synchronize_in_background`: a provider implements it once",
                    );
                } else {
                    found = true;
                    found_unconditional |= !conditional;
                    errors.check(self::method(method));
                }
            }
            ImplItem::Fn(method) => {
                let name = method.sig.ident.to_string();
                if looks_like_method(&name) {
                    maybe_found = true;
                    errors.spanned(
                        &method.sig.ident,
                        format_args!("`MapiSync` has no method `{name}`: did you mean `{METHOD}`?"),
                    );
                } else {
                    errors.spanned(
                        &method.sig.ident,
                        format_args!(
                            "unexpected method `{name}`: an impl of `MapiSync` holds only `fn {METHOD}`; move helpers to an inherent `impl {}` block",
                            type_text(&item.self_ty)
                        ),
                    );
                }
            }
            ImplItem::Const(constant) => errors.spanned(
                both(constant.const_token, &constant.ident),
                format_args!(
                    "unexpected associated const `{}`: an impl of `MapiSync` holds only `fn {METHOD}`",
                    constant.ident
                ),
            ),
            ImplItem::Type(alias) => errors.spanned(
                both(alias.type_token, &alias.ident),
                format_args!(
                    "unexpected associated type `{}`: an impl of `MapiSync` holds only `fn {METHOD}`",
                    alias.ident
                ),
            ),
            ImplItem::Macro(invocation) => {
                maybe_found = true;
                errors.spanned(
                    both(&invocation.mac.path, invocation.mac.bang_token),
                    format_args!(
                        "unexpected macro invocation: an impl of `MapiSync` holds only `fn {METHOD}`, written out"
                    ),
                );
            }
            other => {
                errors.spanned(other, format_args!("unexpected item: an impl of `MapiSync` holds only `fn {METHOD}`"))
            }
        }
    }
    if !found && !maybe_found {
        let trait_path = item.trait_.as_ref().map(|(_, path, _)| path);
        errors.spanned(trait_path, format_args!("missing `{SIGNATURE}`"));
    }
    errors.finish()
}

/// Checks one `fn synchronize_in_background` against [`SIGNATURE`].
pub fn method(method: &ImplItemFn) -> syn::Result<()> {
    let mut errors = Errors::default();
    let sig = &method.sig;
    if !matches!(method.vis, Visibility::Inherited) {
        errors.spanned(&method.vis, "remove the visibility: a trait method is as visible as its trait");
    }
    if let Some(default) = &method.defaultness {
        errors.spanned(default, format_args!("`{METHOD}` cannot be a `default fn`"));
    }
    qualifiers(sig, &mut errors);
    if !sig.generics.params.is_empty() {
        errors.spanned(&sig.generics, format_args!("`{METHOD}` cannot be generic"));
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        errors.spanned(where_clause, format_args!("`{METHOD}` cannot have a `where` clause"));
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(variadic, format_args!("`{METHOD}` cannot be variadic"));
    }
    parameters(sig, &mut errors);
    match &sig.output {
        ReturnType::Default => errors.push(syn::Error::new(
            sig.paren_token.span.close(),
            "missing return type `-> mapisync::Result<()>`: its `Err` is the HRESULT that reaches `Done`",
        )),
        ReturnType::Type(_, ty) if surely_not_unit_result(ty) => {
            errors.spanned(ty, "expected `mapisync::Result<()>`: its `Err` is the HRESULT that reaches `Done`")
        }
        ReturnType::Type(..) => {}
    }
    errors.finish()
}

/// `const`, `async`, `unsafe` and `extern` on the method.
fn qualifiers(sig: &Signature, errors: &mut Errors) {
    if let Some(constness) = &sig.constness {
        errors.spanned(constness, format_args!("`{METHOD}` cannot be a `const fn`"));
    }
    if let Some(asyncness) = &sig.asyncness {
        errors.spanned(
            asyncness,
            format_args!(
                "`{METHOD}` cannot be `async`: it already runs on its own worker thread, so block on any future inside it"
            ),
        );
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.spanned(
            unsafety,
            format_args!(
                "`{METHOD}` cannot be an `unsafe fn`: the runtime calls it from safe code; use `unsafe` blocks inside it"
            ),
        );
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(
            abi,
            format_args!(
                "`{METHOD}` cannot be `extern`: it is a plain Rust method; the macro writes the COM entry point"
            ),
        );
    }
}

/// `(&self, job: &mut SyncJob)`: the receiver, then exactly one parameter.
fn parameters(sig: &Signature, errors: &mut Errors) {
    let mut inputs = sig.inputs.iter().peekable();
    match inputs.peek() {
        Some(FnArg::Receiver(receiver)) => {
            self::receiver(receiver, errors);
            inputs.next();
        }
        _ => errors.push(syn::Error::new(
            sig.paren_token.span.join(),
            format_args!("`{METHOD}` must take `&self` first: `(&self, job: &mut mapisync::SyncJob)`").to_string(),
        )),
    }
    let mut count = 0;
    for input in inputs {
        count += 1;
        match input {
            FnArg::Typed(typed) if count == 1 => {
                if surely_not_sync_job_ref(&typed.ty) {
                    errors.spanned(
                        &typed.ty,
                        "expected `&mut mapisync::SyncJob`: the job the method reports progress through",
                    );
                }
            }
            FnArg::Typed(_) => {
                errors.spanned(input, "unexpected parameter: the method takes only `job: &mut mapisync::SyncJob`")
            }
            FnArg::Receiver(receiver) => errors.spanned(receiver, "`self` can only be the first parameter"),
        }
    }
    if count == 0 {
        errors.push(syn::Error::new(sig.paren_token.span.join(), "missing parameter `job: &mut mapisync::SyncJob`"));
    }
}

/// Accepts `&self` and `self: &Self`.
fn receiver(receiver: &Receiver, errors: &mut Errors) {
    let shared_ref = match (&receiver.colon_token, &receiver.reference) {
        (Some(_), _) => matches!(&*receiver.ty, Type::Reference(reference)
            if reference.mutability.is_none() && is_self(&reference.elem)),
        (None, Some(_)) => receiver.mutability.is_none(),
        (None, None) => false,
    };
    if shared_ref {
        return;
    }
    let why = if receiver.colon_token.is_none() && receiver.reference.is_some() {
        "the object is shared by every COM reference, so keep mutable state behind a `Mutex` or atomics"
    } else {
        "the COM object owns the provider and lends it to each call"
    };
    errors.spanned(receiver, format_args!("`{METHOD}` must take `&self`: {why}"));
}

/// `Self`.
fn is_self(ty: &Type) -> bool {
    matches!(ty, Type::Path(TypePath { qself: None, path }) if path.is_ident("Self"))
}

/// Whether `ty` is surely not `&mut mapisync::SyncJob`. A path the macro
/// cannot judge (`&mut Job` after `use mapisync::SyncJob as Job`, an alias of
/// the whole reference) is left to rustc.
fn surely_not_sync_job_ref(ty: &Type) -> bool {
    match ty {
        Type::Reference(reference) => reference.mutability.is_none() || surely_not_named(&reference.elem, "SyncJob"),
        // By value: `SyncJob` itself, or a type of the prelude.
        Type::Path(TypePath { qself: None, path }) => {
            path.segments.last().is_some_and(|last| last.ident == "SyncJob" || is_prelude_type(&last.ident))
        }
        other => surely_not_a_path(other, surely_not_sync_job_ref),
    }
}

/// Whether `ty` is surely not `mapisync::Result<()>`, i.e.
/// `core::result::Result<(), mapisync::Error>`. A path the macro cannot judge
/// (an alias, `Result` with an `Error` of any name) is left to rustc.
fn surely_not_unit_result(ty: &Type) -> bool {
    let Type::Path(TypePath { qself: None, path }) = ty else {
        return surely_not_a_path(ty, surely_not_unit_result);
    };
    let Some(last) = path.segments.last() else {
        return false;
    };
    if last.ident != "Result" {
        return is_prelude_type(&last.ident);
    }
    let arguments = match &last.arguments {
        PathArguments::None => return false,
        PathArguments::Parenthesized(_) => return true,
        PathArguments::AngleBracketed(arguments) => &arguments.args,
    };
    let mut types = arguments.iter().filter_map(|argument| match argument {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    });
    let (ok, error) = (types.next(), types.next());
    arguments.len() > 2
        || ok.is_some_and(surely_not_unit)
        || error.is_some_and(|error| surely_not_named(error, "Error"))
}

/// Whether `ty` is surely not `()`: another tuple, or a type of the prelude.
fn surely_not_unit(ty: &Type) -> bool {
    match ty {
        Type::Tuple(tuple) => !tuple.elems.is_empty(),
        Type::Path(TypePath { qself: None, path }) => {
            path.segments.last().is_some_and(|last| is_prelude_type(&last.ident))
        }
        other => surely_not_a_path(other, surely_not_unit),
    }
}

/// Whether `ty` is surely not the type `name` (a path, argument-free): a
/// type that is no path, `name` with generic arguments, or a type of the
/// prelude. Any other path may be a renamed import or an alias.
fn surely_not_named(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Path(TypePath { qself: None, path }) => path
            .segments
            .last()
            .is_some_and(|last| (last.ident == name && !last.arguments.is_none()) || is_prelude_type(&last.ident)),
        other => surely_not_a_path(other, |ty| surely_not_named(ty, name)),
    }
}

/// For a type that is not a plain path: whether it is surely not one.
/// Parentheses and groups are looked through with `inner`; a macro, a
/// qualified path (`<T as Trait>::Output`) or unparsed tokens may be anything.
fn surely_not_a_path(ty: &Type, inner: impl Fn(&Type) -> bool) -> bool {
    match ty {
        Type::Paren(paren) => inner(&paren.elem),
        Type::Group(group) => inner(&group.elem),
        Type::Macro(_) | Type::Verbatim(_) | Type::Path(_) => false,
        _ => true,
    }
}

/// The primitive types and the prelude's own types: the macro takes these
/// names at their word (shadowing them is legal but nobody does it).
fn is_prelude_type(ident: &Ident) -> bool {
    const NAMES: [&str; 22] = [
        "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "f32", "f64", "String", "Vec", "Box", "Option", "Result",
    ];
    NAMES.iter().any(|name| ident == name)
}

/// Reports every lifetime in the provider type other than `'static`: a COM
/// object outlives any borrow.
fn borrowed_lifetimes(ty: &Type, errors: &mut Errors) {
    const WHY: &str = "the provider type cannot borrow: a COM object lives as long as its last reference, so the type must be `'static`";
    match ty {
        Type::Reference(reference) => {
            match &reference.lifetime {
                Some(lifetime) if lifetime.ident == "static" => {}
                Some(lifetime) => errors.spanned(lifetime, WHY),
                None => errors.spanned(reference.and_token, WHY),
            }
            borrowed_lifetimes(&reference.elem, errors);
        }
        Type::Path(TypePath { qself, path }) => {
            if let Some(qself) = qself {
                borrowed_lifetimes(&qself.ty, errors);
            }
            for segment in &path.segments {
                let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
                    continue;
                };
                for argument in &arguments.args {
                    match argument {
                        GenericArgument::Lifetime(lifetime) if lifetime.ident != "static" => {
                            errors.spanned(lifetime, WHY)
                        }
                        GenericArgument::Type(inner) => borrowed_lifetimes(inner, errors),
                        _ => {}
                    }
                }
            }
        }
        Type::Array(array) => borrowed_lifetimes(&array.elem, errors),
        Type::Slice(slice) => borrowed_lifetimes(&slice.elem, errors),
        Type::Paren(paren) => borrowed_lifetimes(&paren.elem, errors),
        Type::Group(group) => borrowed_lifetimes(&group.elem, errors),
        Type::Ptr(pointer) => borrowed_lifetimes(&pointer.elem, errors),
        Type::Tuple(tuple) => tuple.elems.iter().for_each(|elem| borrowed_lifetimes(elem, errors)),
        _ => {}
    }
}

/// Whether `name` is probably a misspelling of `synchronize_in_background`:
/// close to it once case and underscores are ignored.
fn looks_like_method(name: &str) -> bool {
    let normalize =
        |text: &str| -> Vec<char> { text.chars().filter(|c| *c != '_').flat_map(char::to_lowercase).collect() };
    edit_distance(&normalize(name), &normalize(METHOD)) <= 8
}

/// Levenshtein distance.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// The user's type as text, for messages.
fn type_text(ty: &Type) -> String {
    match ty {
        Type::Path(TypePath { qself: None, path }) => path_text(path),
        _ => String::from("YourType"),
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    use super::*;

    /// Every error `header` and `members` find in `item`, in order.
    fn errors(item: TokenStream) -> Vec<String> {
        let item: ItemImpl = syn::parse2(item).unwrap();
        let mut errors = Errors::default();
        errors.check(header(&Args::default(), &item));
        if implements_mapisync(&item) {
            errors.check(members(&item));
        }
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

    #[test]
    fn each_method_misuse_is_one_error() {
        let cases = [
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
            (quote!(fn synchronize_in_background<T>(&self, job: &mut SyncJob) -> Result<()>), "cannot be generic"),
            (quote!(fn synchronize_in_background<'a>(&'a self, job: &mut SyncJob) -> Result<()>), "cannot be generic"),
            (
                quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<()> where Self: Sized),
                "cannot have a `where` clause",
            ),
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
        ];
        for (signature, expected) in cases {
            let errors = method_errors(quote!(#signature { Ok(()) }));
            assert_eq!(errors.len(), 1, "{signature}: {errors:?}");
            assert!(errors[0].contains(expected), "{signature}: {errors:?}");
        }
    }

    #[test]
    fn what_the_macro_cannot_judge_is_left_to_rustc() {
        for method in [
            // `use mapisync::SyncJob as Job`, or an alias.
            quote!(fn synchronize_in_background(&self, job: &mut Job) -> Result<()>),
            quote!(fn synchronize_in_background(&self, job: JobRef<'_>) -> Result<()>),
            quote!(fn synchronize_in_background(&self, job: &mut <Store as Jobs>::Job) -> Result<()>),
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
        for (signature, expected) in [
            (
                quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<(), &'static str>),
                "expected `mapisync::Result<()>`",
            ),
            (
                quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<(), Box<dyn std::error::Error>>),
                "expected `mapisync::Result<()>`",
            ),
            (
                quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> Result<(), Error, u8>),
                "expected `mapisync::Result<()>`",
            ),
            (
                quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> Option<()>),
                "expected `mapisync::Result<()>`",
            ),
            (
                quote!(fn synchronize_in_background(&self, job: &mut SyncJob) -> impl Sized),
                "expected `mapisync::Result<()>`",
            ),
            (
                quote!(fn synchronize_in_background(&self, job: &mut String) -> Result<()>),
                "expected `&mut mapisync::SyncJob`",
            ),
            (quote!(fn synchronize_in_background(&self, job: &mut (SyncJob)) -> Result<()>), ""),
            (quote!(fn synchronize_in_background(&self, job: u32) -> Result<()>), "expected `&mut mapisync::SyncJob`"),
            (
                quote!(fn synchronize_in_background(&self, job: &mut [SyncJob]) -> Result<()>),
                "expected `&mut mapisync::SyncJob`",
            ),
        ] {
            let errors = method_errors(quote!(#signature { Ok(()) }));
            if expected.is_empty() {
                assert_eq!(errors, Vec::<String>::new(), "{signature}");
            } else {
                assert_eq!(errors.len(), 1, "{signature}: {errors:?}");
                assert!(errors[0].contains(expected), "{signature}: {errors:?}");
            }
        }
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
            (quote!(impl MapiSync for Store where Store: Send), "cannot have a `where` clause"),
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
    fn misspellings_are_told_from_helpers() {
        for name in [
            "synchronise_in_background",
            "SynchronizeInBackground",
            "synchronizeInBackground",
            "synchronize_background",
            "sync_in_background",
            "synchronize_in_backgroud",
        ] {
            assert!(looks_like_method(name), "{name}");
        }
        for name in ["helper", "new", "run", "download_headers", "synchronize", "upload_changes"] {
            assert!(!looks_like_method(name), "{name}");
        }
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        let chars = |text: &str| text.chars().collect::<Vec<_>>();
        assert_eq!(edit_distance(&chars("kitten"), &chars("sitting")), 3);
        assert_eq!(edit_distance(&chars(""), &chars("abc")), 3);
        assert_eq!(edit_distance(&chars("same"), &chars("same")), 0);
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
